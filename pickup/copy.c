/* copy.c: one maildrop file into incoming/. The file comes from postdrop,
 * i.e. from any local user, so it is checked again: the queue file reader
 * refuses a malformed file; then only the envelope fields postdrop writes
 * are allowed, every address must parse, the content must have CRLF line
 * ends only. A refused file goes to corrupt/ with a log line. The copy
 * gets Received: (with the file owner's uid, which the user cannot fake),
 * and Message-ID:, Date: and From: when missing (RFC 6409 8.2, 8.3).
 *
 * Crash window: the maildrop file is removed after the copy is committed;
 * a crash between the two queues the message twice (once from the copy,
 * once from the file on the next scan). The window is one unlink and one
 * folder fsync; it can only duplicate, never lose. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "addr.h"
#include "content.h"
#include "mem.h"
#include "msg.h"
#include "mail_date.h"
#include "pickup.h"
#include "queue_file.h"
#include "queue_writer.h"

struct pickup_job {
	const struct pickup_config *cfg;
	const char *md_id;
	struct queue_file *qf;
	const struct queue_envelope *env;
	uid_t uid;
	struct str head; /* the start of the content */
	struct pickup_crlf crlf;
	struct pickup_headers hdr;
	const char *reason; /* why the file is refused */
};

static enum pickup_result to_corrupt(struct pickup_job *job)
{
	const char *err;

	msg_warn("maildrop/%s: %s; moved to corrupt/", job->md_id, job->reason);
	if (queue_dir_move(job->cfg->qd, job->md_id, QUEUE_MAILDROP,
			   QUEUE_CORRUPT, QUEUE_MOVE_SYNC, &err) < 0) {
		msg_error("%s", err);
		/* A name clash in corrupt/ must not stop the whole scan. */
		return errno == EEXIST ? PICKUP_CORRUPT : PICKUP_RETRY;
	}
	return PICKUP_CORRUPT;
}

static bool addr_ok(const char *s, bool null_ok)
{
	struct addr a;
	enum addr_error err;
	bool ok;

	if (s[0] == '\0')
		return null_ok;
	addr_init(&a);
	ok = addr_parse(s, strlen(s), ADDR_PARSE_SMTPUTF8, &a, &err) > 0 &&
	     a.domain.len > 0;
	addr_deinit(&a);
	return ok;
}

static bool refuse(struct pickup_job *job, const char *reason)
{
	job->reason = reason;
	return false;
}

/* Only what postdrop writes is allowed: a file with client or TLS facts
 * would forge the Received: header of a network client. */
static bool envelope_ok(struct pickup_job *job)
{
	const struct queue_envelope *env = job->env;
	struct str x;
	const char *err;
	bool ok = true;

	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (env->fields[f] != NULL && f != QUEUE_FIELD_LOCAL_USER &&
		    f != QUEUE_FIELD_FULL_NAME && f != QUEUE_FIELD_ENVID)
			return refuse(job, "unexpected envelope field");
	if (env->msg_flags != 0 || env->state != 0)
		return refuse(job, "unexpected message flags");
	if (!addr_ok(env->sender, true))
		return refuse(job, "bad sender address");
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (!addr_ok(env->rcpts[i].address, false) ||
		    env->rcpts[i].orcpt != NULL ||
		    env->rcpts[i].status != QUEUE_RCPT_PENDING)
			return refuse(job, "bad recipient");
	if (env->fields[QUEUE_FIELD_ENVID] != NULL) {
		const char *v = env->fields[QUEUE_FIELD_ENVID];
		str_init(&x, 0);
		ok = addr_xtext_decode(v, strlen(v), &x, &err) > 0;
		str_deinit(&x);
		if (!ok)
			job->reason = "bad ENVID";
	}
	return ok;
}

/* Reads the start of the content and checks it. 1, 0 (refused: reason
 * set) or -1 (read error). */
static int read_head(struct pickup_job *job)
{
	uint64_t size = queue_file_content_size(job->qf);
	size_t want = size < PICKUP_HEAD_MAX ? (size_t)size : PICKUP_HEAD_MAX;
	const char *err;

	str_init(&job->head, want + 1);
	while (job->head.len < want) {
		char buf[65536];
		size_t n = want - job->head.len;
		ssize_t r = queue_file_content_read(
		    job->qf, job->head.len, buf,
		    n < sizeof(buf) ? n : sizeof(buf), &err);
		if (r <= 0) {
			job->reason = r < 0 ? err : "content shorter than said";
			return r < 0 && errno != EBADMSG ? -1 : 0;
		}
		str_append(&job->head, buf, (size_t)r);
	}
	pickup_crlf_init(&job->crlf);
	if (pickup_crlf_check(&job->crlf, job->head.data, job->head.len,
			      &job->reason) < 0)
		return 0;
	pickup_headers_scan(job->head.data, job->head.len, &job->hdr);
	return 1;
}

/* "Full Name" <sender>, the display name quoted. */
static void from_header(const char *full_name, const char *sender,
			struct str *out)
{
	str_append_cstr(out, "From: ");
	if (full_name != NULL && full_name[0] != '\0') {
		str_putc(out, '"');
		for (const char *p = full_name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				str_putc(out, '\\');
			str_putc(out, *p);
		}
		str_printf(out, "\" <%s>\r\n", sender);
	} else {
		str_printf(out, "%s\r\n", sender);
	}
}

/* Received:, then the headers a submission lacks. */
static void added_headers(struct pickup_job *job, const char *new_id,
			  struct str *out)
{
	const struct pickup_config *cfg = job->cfg;
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	str_printf(out, "Received: by %s (%s, from userid %lu)\r\n\tid %s; ",
		   cfg->myhostname, cfg->mail_name, (unsigned long)job->uid,
		   new_id);
	mail_date(now, out);
	str_append_cstr(out, "\r\n");
	if (!job->hdr.has_message_id) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		str_printf(out, "Message-ID: <%s.%s@%s>\r\n", stamp, new_id,
			   cfg->myhostname);
	}
	if (!job->hdr.has_date) {
		str_append_cstr(out, "Date: ");
		mail_date(now, out);
		str_append_cstr(out, "\r\n");
	}
	if (!job->hdr.has_from && job->env->sender[0] != '\0')
		from_header(job->env->fields[QUEUE_FIELD_FULL_NAME],
			    job->env->sender, out);
}

static bool non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* An address in UTF-8 can only be relayed with SMTPUTF8 (RFC 6531). */
static bool needs_smtputf8(const struct queue_envelope *env)
{
	if (non_ascii(env->sender))
		return true;
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (non_ascii(env->rcpts[i].address))
			return true;
	return false;
}

static int copy_envelope(struct pickup_job *job, struct queue_writer *qw,
			 const char **error_r)
{
	static const enum queue_field kept[] = {QUEUE_FIELD_ENVID,
						QUEUE_FIELD_FULL_NAME};
	const struct queue_envelope *env = job->env;
	struct passwd *pw = getpwuid(job->uid);
	char uidbuf[32];
	int r = queue_writer_set_sender(qw, env->sender, error_r);

	snprintf(uidbuf, sizeof(uidbuf), "uid%lu", (unsigned long)job->uid);
	/* The owner of the file, not what the file says, is the submitter. */
	if (r > 0)
		r = queue_writer_set_field(qw, QUEUE_FIELD_LOCAL_USER,
					   pw != NULL ? pw->pw_name : uidbuf,
					   error_r);
	if (r > 0)
		r = queue_writer_set_field(qw, QUEUE_FIELD_PROTOCOL, "local",
					   error_r);
	for (size_t i = 0; r > 0 && i < 2; i++)
		if (env->fields[kept[i]] != NULL)
			r = queue_writer_set_field(
			    qw, kept[i], env->fields[kept[i]], error_r);
	if (r > 0 && needs_smtputf8(env))
		r = queue_writer_set_msg_flags(qw, QUEUE_MSG_SMTPUTF8, error_r);
	if (r > 0 && env->ret != QUEUE_RET_NONE)
		r = queue_writer_set_ret(qw, env->ret, error_r);
	for (size_t i = 0; r > 0 && i < env->rcpt_count; i++)
		r = queue_writer_add_rcpt(qw, env->rcpts[i].address, NULL,
					  env->rcpts[i].notify, error_r);
	return r;
}

/* The content: added headers, the header section, an empty line if the
 * body followed the header without one, the rest streamed and checked.
 * Returns 1, 0 (refused: reason set) or -1 (write error). */
static int copy_content(struct pickup_job *job, struct queue_writer *qw,
			const char **error_r)
{
	uint64_t pos = job->head.len, size = queue_file_content_size(job->qf);
	struct str out;
	char buf[65536];
	int r;

	str_init(&out, 0);
	added_headers(job, queue_writer_id(qw), &out);
	str_append(&out, job->head.data, job->hdr.end);
	if (job->hdr.needs_blank)
		str_append_cstr(&out, "\r\n");
	str_append(&out, job->head.data + job->hdr.end,
		   job->head.len - job->hdr.end);
	r = queue_writer_write(qw, out.data, out.len, error_r);
	str_deinit(&out);
	while (r > 0 && pos < size) {
		ssize_t n = queue_file_content_read(job->qf, pos, buf,
						    sizeof(buf), error_r);
		if (n <= 0) {
			job->reason = n < 0 ? *error_r : "content ends early";
			return 0;
		}
		if (pickup_crlf_check(&job->crlf, buf, (size_t)n,
				      &job->reason) < 0)
			return 0;
		pos += (uint64_t)n;
		r = queue_writer_write(qw, buf, (size_t)n, error_r);
	}
	if (r > 0 && pickup_crlf_finish(&job->crlf, &job->reason) < 0)
		return 0;
	return r > 0 ? 1 : -1;
}

/* Writes incoming/NEW. 1, 0 (refused) or -1 (retry later). */
static int write_incoming(struct pickup_job *job, char new_id[QUEUE_ID_SIZE])
{
	struct queue_writer *qw;
	const char *err;
	int r;

	if (queue_writer_begin(job->cfg->qd, NULL, &qw, &err) < 0) {
		msg_error("%s", err);
		return -1;
	}
	r = copy_envelope(job, qw, &err);
	if (r < 0) {
		job->reason = err; /* refused by the writer's checks */
		queue_writer_abort(&qw);
		return 0;
	}
	r = copy_content(job, qw, &err);
	if (r <= 0) {
		if (r < 0)
			msg_error("%s", err);
		queue_writer_abort(&qw);
		return r;
	}
	if (queue_writer_commit(&qw, new_id, &err) < 0) {
		msg_error("%s", err);
		return -1;
	}
	return 1;
}

static enum pickup_result finish(struct pickup_job *job, int r,
				 const char *new_id)
{
	const char *err;

	if (r == 0)
		return to_corrupt(job);
	if (r < 0)
		return PICKUP_RETRY;
	msg_info("%s: uid=%lu from=<%s> (maildrop %s)", new_id,
		 (unsigned long)job->uid, job->env->sender, job->md_id);
	if (queue_dir_remove(job->cfg->qd, QUEUE_MAILDROP, job->md_id,
			     QUEUE_MOVE_SYNC, &err) < 0)
		msg_error("%s", err);
	pickup_wake_qmgr(job->cfg);
	return PICKUP_DONE;
}

enum pickup_result pickup_file(const struct pickup_config *cfg, const char *id)
{
	struct pickup_job job = {.cfg = cfg, .md_id = id};
	char new_id[QUEUE_ID_SIZE] = "";
	enum pickup_result res;
	struct stat st;
	const char *err;
	int dirfd = queue_dir_fd(cfg->qd, QUEUE_MAILDROP, &err);
	int r;

	if (dirfd < 0) {
		msg_error("%s", err);
		return PICKUP_RETRY;
	}
	r = queue_file_openat(dirfd, id, 0, &job.qf, &err);
	if (r == 0)
		return PICKUP_NOT_READY;
	if (r < 0) {
		if (errno == ENOENT)
			return PICKUP_GONE;
		job.reason = err;
		if (errno == EBADMSG)
			return to_corrupt(&job);
		msg_error("%s", err);
		return PICKUP_RETRY;
	}
	job.env = queue_file_envelope(job.qf);
	if (fstat(queue_file_fd(job.qf), &st) < 0) {
		msg_error("fstat maildrop/%s: %s", id, strerror(errno));
		queue_file_close(&job.qf);
		return PICKUP_RETRY;
	}
	job.uid = st.st_uid;
	r = envelope_ok(&job) ? read_head(&job) : 0;
	if (r > 0)
		r = write_incoming(&job, new_id);
	/* The reason may point into the reader's memory: log before close. */
	res = finish(&job, r, new_id);
	str_deinit(&job.head);
	queue_file_close(&job.qf);
	return res;
}
