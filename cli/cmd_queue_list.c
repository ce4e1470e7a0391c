/* cmd_queue_list.c: the queue listing of `postern queue list`, mailq and
 * sendmail -bp, in Postfix's long-ID mailq layout, which existing scripts
 * parse byte for byte (showq_compat), or as JSON Lines with the members
 * of Postfix's `postqueue -j`:
 *
 *   ----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
 *   1K15B0PBVEN002PV*      412 Thu Nov 26 09:40:01 alice@example.org
 *                                        (connect to mx.example.net: refused)
 *                                                  bob@example.net
 *
 *   -- 0 Kbytes in 1 Request.
 *
 * Queues in showq's order (maildrop, active, incoming, deferred, hold);
 * '*' marks active, '!' hold, '#' (after either) a forced expiry. Only the
 * recipients still pending are shown, each once: first those with a
 * reason in defer/ID (its latest), then the others; a reason line is
 * printed when it differs from the one before, "(reason unavailable)"
 * when a recipient without one follows one with one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd_queue.h"
#include "conf.h"
#include "htable.h"
#include "mem.h"
#include "queue_file.h"

/* Output is written in pieces of about this size. */
#define LIST_FLUSH_AT (32 * 1024)

struct list_ctx {
	struct queue_dir *qd;
	enum qcmd_list_format fmt;
	const char *prog;
	struct str out;
	uint64_t bytes;
	unsigned long count;
	bool reader_gone; /* stdout's reader went away: stop quietly */
};

/* A pending recipient as shown, and its reason ("" for none). */
struct shown {
	const char *address;
	const char *reason;
};

static size_t list_recipients(const struct queue_envelope *env,
			      const struct qcmd_reasons *why, struct shown *v)
{
	struct htable *seen = htable_new(env->rcpt_count);
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < env->rcpt_count; i++) {
			const char *a = env->rcpts[i].address;
			const char *r = qcmd_reasons_get(why, a, NULL);

			if (env->rcpts[i].status != QUEUE_RCPT_PENDING ||
			    (r != NULL) != (pass == 0) ||
			    htable_insert(seen, a, NULL) == 0)
				continue;
			v[n].address = a;
			v[n++].reason = r != NULL ? r : "";
		}
	}
	htable_free(&seen, NULL);
	return n;
}

static void put_mailq_row(struct str *out, const char *id, const char *size,
			  const char *when, const char *who)
{
	str_printf(out, "%-17s %8s %-19s ", id, size, when);
	qcmd_put_printable(out, who);
	str_putc(out, '\n');
}

static void list_mailq(struct list_ctx *lc, const char *id, enum queue_name q,
		       const struct queue_envelope *env, uint64_t size,
		       const struct shown *v, size_t n)
{
	char name[QUEUE_ID_SIZE + 2], when[20], sizebuf[24];
	const char *saved = "";
	struct str why;

	snprintf(name, sizeof(name), "%s%s%s", id,
		 q == QUEUE_ACTIVE ? "*"
		 : q == QUEUE_HOLD ? "!"
				   : "",
		 (env->state & QUEUE_STATE_EXPIRE) != 0 ? "#" : "");
	qcmd_time_str((time_t)(env->arrival_usec / 1000000u), when);
	snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)size);
	if (lc->count == 0)
		put_mailq_row(&lc->out, "----Queue ID-----", "--Size--",
			      "---Arrival Time----",
			      "--Sender/Recipient------");
	else
		str_putc(&lc->out, '\n');
	put_mailq_row(&lc->out, name, sizebuf, when,
		      env->sender[0] != '\0' ? env->sender : "MAILER-DAEMON");
	str_init(&why, 128);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(saved, v[i].reason) != 0) {
			saved = v[i].reason;
			str_clear(&why);
			qcmd_put_printable(&why, *saved != '\0'
						     ? saved
						     : "reason unavailable");
			str_printf(&lc->out, "%*s(%s)\n",
				   why.len < 76 ? (int)(76 - why.len) : 0, "",
				   why.data);
		}
		put_mailq_row(&lc->out, "", "", "", v[i].address);
	}
	str_deinit(&why);
}

static void put_json_member(struct str *out, const char *name,
			    const char *value, bool last)
{
	str_printf(out, "\"%s\": \"", name);
	qcmd_put_json(out, value);
	str_append_cstr(out, last ? "\"" : "\", ");
}

static void list_json(struct list_ctx *lc, const char *id, enum queue_name q,
		      const struct queue_envelope *env, uint64_t size,
		      const struct shown *v, size_t n)
{
	struct str *o = &lc->out;

	str_putc(o, '{');
	put_json_member(o, "queue_name", queue_name_str(q), false);
	put_json_member(o, "queue_id", id, false);
	str_printf(o, "\"arrival_time\": %llu, \"message_size\": %llu, ",
		   (unsigned long long)(env->arrival_usec / 1000000u),
		   (unsigned long long)size);
	str_printf(o, "\"forced_expire\": %s, ",
		   (env->state & QUEUE_STATE_EXPIRE) != 0 ? "true" : "false");
	put_json_member(o, "sender",
			env->sender[0] != '\0' ? env->sender : "MAILER-DAEMON",
			false);
	str_append_cstr(o, "\"recipients\": [");
	for (size_t i = 0; i < n; i++) {
		str_append_cstr(o, i > 0 ? ", {" : "{");
		put_json_member(o, "address", v[i].address,
				v[i].reason[0] == 0);
		if (v[i].reason[0] != '\0')
			put_json_member(o, "delay_reason", v[i].reason, true);
		str_putc(o, '}');
	}
	str_append_cstr(o, "]}\n");
}

/* Writes what is buffered. Returns 0 or an exit code. */
static int list_flush(struct list_ctx *lc)
{
	int r = lc->reader_gone ? 0 : qcmd_write_stdout(&lc->out);

	str_clear(&lc->out);
	if (r < 0) {
		fprintf(stderr, "%s: output write error: %s\n", lc->prog,
			strerror(errno));
		return QCMD_EX_IOERR;
	}
	if (r == 0)
		lc->reader_gone = true;
	return 0;
}

/* One message. Returns 0 or an exit code. */
static int list_message(struct list_ctx *lc, enum queue_name q, int dirfd,
			const char *id)
{
	struct qcmd_reasons *why = NULL;
	const struct queue_envelope *env;
	struct queue_file *qf;
	struct shown *v;
	const char *err;
	uint64_t size;
	size_t n;
	int r = queue_file_openat(dirfd, id, 0, &qf, &err);

	/* Not ready, gone, or not a queue file: not part of the listing. */
	if (r == 0 || (r < 0 && (errno == ENOENT || errno == EBADMSG)))
		return 0;
	if (r < 0 ||
	    qcmd_reasons_load(lc->qd, QUEUE_DEFER, id, &why, &err) < 0) {
		int e = errno;

		fprintf(stderr, "%s: %s\n", lc->prog, err);
		if (r > 0)
			queue_file_close(&qf);
		return qcmd_exit_code(e);
	}
	env = queue_file_envelope(qf);
	size = queue_file_content_size(qf);
	v = mem_calloc(env->rcpt_count + 1, sizeof(*v));
	n = list_recipients(env, why, v);
	if (lc->fmt == QCMD_LIST_JSON)
		list_json(lc, id, q, env, size, v, n);
	else
		list_mailq(lc, id, q, env, size, v, n);
	lc->bytes += size;
	lc->count++;
	mem_free(v);
	qcmd_reasons_free(&why);
	queue_file_close(&qf);
	return lc->out.len >= LIST_FLUSH_AT ? list_flush(lc) : 0;
}

/* One queue folder. Returns 0 or an exit code. */
static int list_queue(struct list_ctx *lc, enum queue_name q)
{
	struct queue_id_list list = {0};
	const char *err;
	int dirfd, ret = 0;

	if (queue_dir_list(lc->qd, q, &list, &err) < 0 ||
	    (dirfd = queue_dir_fd(lc->qd, q, &err)) < 0) {
		int e = errno;

		queue_id_list_free(&list);
		fprintf(stderr, "%s: %s\n", lc->prog, err);
		return qcmd_exit_code(e);
	}
	for (size_t i = 0; i < list.count && ret == 0 && !lc->reader_gone; i++)
		ret = list_message(lc, q, dirfd, list.ids[i]);
	queue_id_list_free(&list);
	return ret;
}

int qcmd_list(struct conf *c, enum qcmd_list_format fmt, const char *prog)
{
	static const enum queue_name order[] = {QUEUE_MAILDROP, QUEUE_ACTIVE,
						QUEUE_INCOMING, QUEUE_DEFERRED,
						QUEUE_HOLD};
	struct list_ctx lc = {.fmt = fmt, .prog = prog};
	const char *err;
	int ret = 0;

	if (queue_dir_open(conf_get(c, "queue_directory"), &lc.qd, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return qcmd_exit_code(errno);
	}
	str_init(&lc.out, LIST_FLUSH_AT + 4096);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && ret == 0 &&
			   !lc.reader_gone;
	     i++)
		ret = list_queue(&lc, order[i]);
	queue_dir_close(&lc.qd);
	if (ret == 0 && fmt == QCMD_LIST_MAILQ && lc.count == 0)
		str_append_cstr(&lc.out, "Mail queue is empty\n");
	else if (ret == 0 && fmt == QCMD_LIST_MAILQ)
		str_printf(&lc.out, "\n-- %llu Kbytes in %lu Request%s.\n",
			   (unsigned long long)(lc.bytes / 1024), lc.count,
			   lc.count == 1 ? "" : "s");
	if (ret == 0)
		ret = list_flush(&lc);
	str_deinit(&lc.out);
	return ret;
}
