/* postdrop.c: the setgid helper behind sendmail. It reads the stream of
 * sendmail_stream.h on standard input, checks every envelope value again
 * (its caller is any local user), converts the content's line ends to
 * CRLF, writes maildrop/ID durably through lib/queue_writer and wakes
 * pickup through its public socket. Installed setgid $setgid_group, which
 * may write maildrop/ (0730) and reach public/ (0710); in instance mode it
 * runs as the instance's user and needs no set-id bit. Exit codes are
 * sysexits(3), passed on by sendmail. See sendmail(1). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "mem.h"
#include "msg.h"
#include "qmgr_trigger.h"
#include "queue_writer.h"
#include "sendmail_stream.h"
#include "sock.h"

/* Sanitizer builds only: LeakSanitizer cannot work in a set-id process
 * (a non-dumpable process may not inspect itself through /proc), and it
 * cannot be told so through the environment, which such a process does
 * not read either. Leaks are checked by the runs that are not set-id. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PD_ASAN 1
#endif
#ifdef PD_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	if (getuid() != geteuid() || getgid() != getegid())
		return "detect_leaks=0";
	return "";
}
#endif

/* Most envelope bytes read before the end record must have come. */
#define PD_ENVELOPE_MAX (8 * 1024 * 1024)

struct pd_in {
	struct str buf;
	size_t pos;
	bool eof;
};

static int fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("postdrop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Reads until at least want unread bytes are buffered or the input ends.
 * Returns 1, or -1 on a read error. */
static int pd_fill(struct pd_in *in, size_t want)
{
	while (!in->eof && in->buf.len - in->pos < want) {
		char tmp[65536];
		ssize_t r = read(0, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			in->eof = true;
		str_append(&in->buf, tmp, (size_t)r);
	}
	return 1;
}

/* The envelope: read until it parses. Returns 0 or an exit code. */
static int pd_read_envelope(struct pd_in *in, struct drop_envelope *env)
{
	const char *err = "input ended inside the envelope";
	size_t used;
	int r = 0;

	while (r == 0) {
		drop_envelope_free(env);
		if (in->eof || in->buf.len > PD_ENVELOPE_MAX)
			break;
		/* Ask for twice as much each round: parsing is linear. */
		if (pd_fill(in, in->buf.len * 2 + 4096) < 0)
			return fail(DROP_EX_IOERR, "read error: %s",
				    strerror(errno));
		r = drop_envelope_parse(in->buf.data, in->buf.len, env, &used,
					&err);
	}
	if (r <= 0)
		return fail(DROP_EX_DATAERR, "malformed input: %s", err);
	in->pos = used;
	return 0;
}

/* Addresses must be canonical and qualified (sendmail made them so). */
static int pd_check_addr(const char *what, const char *s, bool null_ok)
{
	struct addr a;
	enum addr_error err;
	int r;

	if (s[0] == '\0' && null_ok)
		return 0;
	addr_init(&a);
	r = addr_parse(s, strlen(s), ADDR_PARSE_SMTPUTF8, &a, &err);
	addr_deinit(&a);
	if (r < 0)
		return fail(DROP_EX_DATAERR, "bad %s address: %s", what,
			    addr_error_text(err, ADDR_PATH_RCPT));
	return 0;
}

static int pd_check_envelope(const struct drop_envelope *env)
{
	struct str x;
	const char *err;
	int ret = pd_check_addr("sender", env->sender, true);

	for (size_t i = 0; i < env->rcpt_count && ret == 0; i++)
		ret = pd_check_addr("recipient", env->rcpts[i], false);
	if (ret == 0 && env->envid != NULL) {
		str_init(&x, 0);
		if (addr_xtext_decode(env->envid, strlen(env->envid), &x,
				      &err) < 0)
			ret = fail(DROP_EX_DATAERR, "bad ENVID: %s", err);
		str_deinit(&x);
	}
	return ret;
}

/* errno of a failed queue operation to an exit code. */
static int pd_errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return DROP_EX_UNAVAILABLE;
	case EACCES:
	case EPERM:
		return DROP_EX_NOPERM;
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EAGAIN:
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		return DROP_EX_TEMPFAIL;
	default:
		return DROP_EX_CANTCREAT;
	}
}

static int pd_set_envelope(struct queue_writer *qw,
			   const struct drop_envelope *env, const char *login)
{
	const char *err;
	int r = queue_writer_set_sender(qw, env->sender, &err);

	if (r > 0)
		r = queue_writer_set_field(qw, QUEUE_FIELD_LOCAL_USER, login,
					   &err);
	if (r > 0 && env->full_name != NULL)
		r = queue_writer_set_field(qw, QUEUE_FIELD_FULL_NAME,
					   env->full_name, &err);
	if (r > 0 && env->envid != NULL)
		r = queue_writer_set_field(qw, QUEUE_FIELD_ENVID, env->envid,
					   &err);
	if (r > 0 && env->ret != 0)
		r = queue_writer_set_ret(qw, (enum queue_ret)env->ret, &err);
	for (size_t i = 0; r > 0 && i < env->rcpt_count; i++)
		r = queue_writer_add_rcpt(qw, env->rcpts[i], NULL, env->notify,
					  &err);
	return r > 0 ? 0 : fail(DROP_EX_DATAERR, "%s", err);
}

/* Copies the content records through the line-end filter into qw.
 * Returns 0 or an exit code. */
static int pd_copy_content(struct pd_in *in, struct queue_writer *qw)
{
	struct drop_crlf f;
	struct str out;
	const char *err = NULL;
	int ret = 0, r = 1;
	bool end = false;

	drop_crlf_init(&f);
	str_init(&out, 0);
	while (!end && ret == 0) {
		size_t len;
		if (pd_fill(in, DROP_RECORD_HEAD) < 0 ||
		    in->buf.len - in->pos < DROP_RECORD_HEAD) {
			ret = fail(DROP_EX_DATAERR, "input ended early: "
						    "message not queued");
			break;
		}
		if (drop_chunk_head(in->buf.data + in->pos, &len, &end, &err) <
		    0) {
			ret = fail(DROP_EX_DATAERR, "malformed input: %s", err);
			break;
		}
		in->pos += DROP_RECORD_HEAD;
		if (pd_fill(in, len) < 0 || in->buf.len - in->pos < len) {
			ret = fail(DROP_EX_DATAERR, "input ended early: "
						    "message not queued");
			break;
		}
		str_clear(&out);
		if (drop_crlf_feed(&f, in->buf.data + in->pos, len, &out,
				   &err) < 0) {
			ret = fail(DROP_EX_DATAERR, "%s", err);
			break;
		}
		in->pos += len;
		str_consume(&in->buf, in->pos);
		in->pos = 0;
		if (end)
			drop_crlf_finish(&f, &out);
		r = queue_writer_write(qw, out.data, out.len, &err);
		if (r == 0)
			ret = fail(DROP_EX_DATAERR,
				   "message too large (message_size_limit)");
		else if (r < 0)
			ret = fail(pd_errno_code(errno), "%s", err);
	}
	str_deinit(&out);
	return ret;
}

/* Tells pickup there is mail; if it is not reachable now, it finds the
 * file on its next wakeup. */
static void pd_trigger_pickup(struct conf *c)
{
	struct str path;
	const char *err;
	int fd;

	str_init(&path, 0);
	str_printf(&path, "%s/public/pickup", conf_get(c, "queue_directory"));
	fd = sock_unix_connect(path.data, true, &err);
	if (fd >= 0) {
		if (write(fd, "W", 1) != 1)
			msg_warn("trigger pickup: %s", strerror(errno));
		close(fd);
	} else {
		msg_debug("trigger pickup: %s", err);
	}
	str_deinit(&path);
}

/* postdrop -q (sendmail -q): asks qmgr to run the whole queue now,
 * deferred mail included, and pickup to look at maildrop/. */
static int pd_flush(struct conf *c)
{
	const char *err;

	if (qmgr_trigger(conf_get(c, "queue_directory"), QMGR_TRIGGER_FORCE,
			 &err) < 0)
		return fail(DROP_EX_UNAVAILABLE,
			    "cannot flush the queue: mail system is down (%s)",
			    err);
	pd_trigger_pickup(c);
	return 0;
}

static int pd_queue(struct conf *c, struct pd_in *in,
		    const struct drop_envelope *env, const char *login)
{
	struct queue_writer_settings set = {
	    .queue = QUEUE_MAILDROP,
	    .max_content = (uint64_t)conf_get_size(c, "message_size_limit"),
	    /* pickup (mail_owner) reads it; others cannot enter maildrop/ */
	    .mode = 0644,
	};
	const char *root = conf_get(c, "queue_directory");
	char id[QUEUE_ID_SIZE];
	struct queue_writer *qw;
	struct queue_dir *qd;
	const char *err;
	int ret;

	if (queue_dir_open(root, &qd, &err) < 0)
		return fail(pd_errno_code(errno), "%s", err);
	if (queue_writer_begin(qd, &set, &qw, &err) < 0) {
		ret = fail(pd_errno_code(errno), "%s", err);
		queue_dir_close(&qd);
		return ret;
	}
	ret = pd_set_envelope(qw, env, login);
	if (ret == 0)
		ret = pd_copy_content(in, qw);
	if (ret != 0) {
		queue_writer_abort(&qw);
	} else if (queue_writer_commit(&qw, id, &err) < 0) {
		ret = fail(pd_errno_code(errno), "%s", err);
	}
	queue_dir_close(&qd);
	if (ret == 0)
		pd_trigger_pickup(c);
	return ret;
}

/* Set-id, postdrop reads only the default configuration, one listed in
 * its alternate_config_directories, or any for root: another main.cf
 * could lift message_size_limit or aim the setgid rights elsewhere. */
static int pd_config_allowed(const char *dir)
{
	const char *def = conf_dir(NULL);
	const char *alt, *err;
	struct conf *c;
	bool ok = false;

	if (getuid() == 0 || (getuid() == geteuid() && getgid() == getegid()))
		return 1;
	if (dir == NULL || strcmp(dir, def) == 0)
		return 1;
	c = conf_load_dir(def, &err);
	alt = c != NULL ? conf_lookup(c, "alternate_config_directories") : NULL;
	while (alt != NULL && *alt != '\0' && !ok) {
		size_t n = strcspn(alt, ", \t");
		ok = n == strlen(dir) && strncmp(alt, dir, n) == 0;
		alt += n;
		alt += strspn(alt, ", \t");
	}
	conf_free(&c);
	return ok ? 1 : 0;
}

/* set-id: descriptors 0-2 must exist, so that no file we open becomes
 * someone's stdout. */
static void pd_sane_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(DROP_EX_OSERR);
}

int main(int argc, char **argv)
{
	struct drop_envelope env = {0};
	struct pd_in in = {0};
	const char *dir = NULL, *err;
	bool flush_mode = false;
	struct passwd *pw;
	struct conf *c;
	int ret;

	pd_sane_fds();
	umask(077);
	msg_init("postdrop", MSG_DEST_STDERR);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "-q") == 0)
			flush_mode = true;
		else if (strcmp(argv[i], "-r") != 0)
			return fail(DROP_EX_USAGE,
				    "usage: postdrop [-c DIR] [-q] "
				    "(run by sendmail)");
	}
	if (!pd_config_allowed(dir))
		return fail(DROP_EX_NOPERM,
			    "-c %s: not the default configuration nor in its "
			    "alternate_config_directories",
			    dir);
	c = conf_load_dir(conf_dir(dir), &err);
	if (c == NULL)
		return fail(DROP_EX_UNAVAILABLE, "%s", err);
	if (flush_mode) {
		ret = pd_flush(c);
		conf_free(&c);
		return ret;
	}
	pw = getpwuid(getuid());
	if (pw == NULL) {
		conf_free(&c);
		return fail(DROP_EX_NOUSER, "unknown user id %ld",
			    (long)getuid());
	}
	str_init(&in.buf, 65536);
	ret = pd_read_envelope(&in, &env);
	if (ret == 0)
		ret = pd_check_envelope(&env);
	if (ret == 0)
		ret = pd_queue(c, &in, &env, pw->pw_name);
	drop_envelope_free(&env);
	str_deinit(&in.buf);
	conf_free(&c);
	return ret;
}
