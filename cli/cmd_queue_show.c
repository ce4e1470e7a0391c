/* cmd_queue_show.c: `postern queue show [-e] [-h] [-b] ID`, one message as
 * postcat -q shows it: the envelope (with each recipient's status and the
 * latest reason from defer/ID or bounce/ID), then the header and the body
 * with LF line ends. -e, -h, -b pick the envelope, the header, the body
 * (default: all three). On a terminal, control characters in the content
 * are shown as '?', so that a message cannot drive the admin's terminal;
 * into a pipe or file the content goes unchanged. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_queue.h"
#include "conf.h"
#include "queue_file.h"

#define SHOW_ENVELOPE 0x1u
#define SHOW_HEADER 0x2u
#define SHOW_BODY 0x4u

struct show_ctx {
	unsigned what;
	bool tty;
	struct str out;
	/* Content filter state. */
	bool in_header, pending_cr;
	size_t line_len;
};

static const char *rcpt_status_name(enum queue_rcpt_status s)
{
	return s == QUEUE_RCPT_PENDING ? "pending"
	       : s == QUEUE_RCPT_DONE  ? "done"
				       : "failed";
}

static void put_line(struct str *out, const char *name, const char *value)
{
	str_printf(out, "%s: ", name);
	qcmd_put_printable(out, value);
	str_putc(out, '\n');
}

static void put_notify(struct str *out, unsigned notify)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {{QUEUE_NOTIFY_NEVER, "NEVER"},
		    {QUEUE_NOTIFY_SUCCESS, "SUCCESS"},
		    {QUEUE_NOTIFY_FAILURE, "FAILURE"},
		    {QUEUE_NOTIFY_DELAY, "DELAY"}};
	bool first = true;

	str_append_cstr(out, "dsn_notify: ");
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (notify & bits[i].bit) {
			str_printf(out, "%s%s", first ? "" : ",", bits[i].name);
			first = false;
		}
	str_putc(out, '\n');
}

static void put_rcpt(struct str *out, const struct queue_rcpt *r,
		     const struct qcmd_reasons *deferred,
		     const struct qcmd_reasons *bounced)
{
	const char *status = NULL, *why = NULL;
	struct str t;

	put_line(out, "recipient", r->address);
	put_line(out, "recipient_status", rcpt_status_name(r->status));
	if (r->notify != 0)
		put_notify(out, r->notify);
	if (r->orcpt != NULL)
		put_line(out, "dsn_orig_rcpt", r->orcpt);
	if (r->status == QUEUE_RCPT_PENDING)
		why = qcmd_reasons_get(deferred, r->address, &status);
	else if (r->status == QUEUE_RCPT_FAILED)
		why = qcmd_reasons_get(bounced, r->address, &status);
	if (why == NULL)
		return;
	str_init(&t, 128);
	str_printf(&t, "%s%s%s", status, status[0] != '\0' ? " " : "", why);
	put_line(out,
		 r->status == QUEUE_RCPT_PENDING ? "delay_reason"
						 : "bounce_reason",
		 t.data);
	str_deinit(&t);
}

static void show_envelope(struct show_ctx *sc, struct queue_dir *qd,
			  const char *id, enum queue_name q,
			  struct queue_file *qf)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct qcmd_reasons *deferred = NULL, *bounced = NULL;
	struct str *o = &sc->out;
	char when[32];
	const char *err;

	if (qcmd_reasons_load(qd, QUEUE_DEFER, id, &deferred, &err) < 0 ||
	    qcmd_reasons_load(qd, QUEUE_BOUNCE, id, &bounced, &err) < 0)
		fprintf(stderr, "postern queue: warning: %s\n", err);
	qcmd_time_str_year((time_t)(env->arrival_usec / 1000000u), when);
	str_printf(o, "*** ENVELOPE RECORDS %s/%s ***\n", queue_name_str(q),
		   id);
	put_line(o, "queue_id", id);
	put_line(o, "queue_name", queue_name_str(q));
	str_printf(o, "message_size: %llu\n",
		   (unsigned long long)queue_file_content_size(qf));
	put_line(o, "message_arrival_time", when);
	put_line(o, "sender", env->sender);
	if (env->msg_flags != 0)
		str_printf(
		    o, "message_flags:%s%s%s\n",
		    env->msg_flags & QUEUE_MSG_8BITMIME ? " 8BITMIME" : "",
		    env->msg_flags & QUEUE_MSG_BINARYMIME ? " BINARYMIME" : "",
		    env->msg_flags & QUEUE_MSG_SMTPUTF8 ? " SMTPUTF8" : "");
	if (env->ret != QUEUE_RET_NONE)
		put_line(o, "dsn_ret",
			 env->ret == QUEUE_RET_FULL ? "FULL" : "HDRS");
	if (env->state & QUEUE_STATE_EXPIRE)
		put_line(o, "forced_expire", "yes");
	if (env->state & QUEUE_STATE_WARNED)
		put_line(o, "delay_warning_sent", "yes");
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (env->fields[f] != NULL) {
			str_printf(o, "named_attribute: %s=",
				   queue_field_name((enum queue_field)f));
			qcmd_put_printable(o, env->fields[f]);
			str_putc(o, '\n');
		}
	for (size_t i = 0; i < env->rcpt_count; i++)
		put_rcpt(o, &env->rcpts[i], deferred, bounced);
	qcmd_reasons_free(&deferred);
	qcmd_reasons_free(&bounced);
}

static void content_char(struct show_ctx *sc, unsigned char c)
{
	if (!(sc->what & (sc->in_header ? SHOW_HEADER : SHOW_BODY)))
		return;
	if (sc->tty && ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f))
		c = '?';
	str_putc(&sc->out, c);
}

/* CRLF becomes LF; the empty line after the header is shown only with
 * both header and body. */
static void content_filter(struct show_ctx *sc, const unsigned char *p,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (sc->pending_cr && c != '\n')
			content_char(sc, '\r');
		if (c == '\r') {
			sc->pending_cr = true;
			continue;
		}
		sc->pending_cr = false;
		if (c == '\n' && sc->in_header && sc->line_len == 0) {
			sc->in_header = false;
			if ((sc->what & SHOW_HEADER) && (sc->what & SHOW_BODY))
				str_putc(&sc->out, '\n');
			continue;
		}
		content_char(sc, c);
		sc->line_len = c == '\n' ? 0 : sc->line_len + 1;
	}
}

/* Streams the content out. Returns 0 or an exit code. */
static int show_content(struct show_ctx *sc, struct queue_file *qf)
{
	unsigned char buf[65536];
	uint64_t pos = 0;
	const char *err;
	ssize_t n;

	sc->in_header = true;
	while ((n = queue_file_content_read(qf, pos, buf, sizeof(buf), &err)) >
	       0) {
		pos += (uint64_t)n;
		content_filter(sc, buf, (size_t)n);
		if (sc->out.len < sizeof(buf))
			continue;
		if (qcmd_write_stdout(&sc->out) < 0) {
			fprintf(stderr,
				"postern queue: output write error: %s\n",
				strerror(errno));
			return QCMD_EX_IOERR;
		}
		str_clear(&sc->out);
	}
	if (n < 0) {
		fprintf(stderr, "postern queue: %s\n", err);
		return QCMD_EX_SOFTWARE;
	}
	if (sc->pending_cr)
		content_char(sc, '\r');
	if (sc->line_len > 0 &&
	    (sc->what & (sc->in_header ? SHOW_HEADER : SHOW_BODY)))
		str_putc(&sc->out, '\n');
	return 0;
}

/* Finds and opens id (a message may move between the look and the
 * open). Returns 1, 0 when not in any queue, or an exit code < 0. */
static int show_open(struct queue_dir *qd, const char *id, enum queue_name *q_r,
		     struct queue_file **qf_r)
{
	const char *err;

	for (int tries = 0; tries < 5; tries++) {
		int r = queue_dir_find(qd, id, q_r, &err), dfd, e;

		if (r == 0)
			return 0;
		if (r > 0 && (dfd = queue_dir_fd(qd, *q_r, &err)) >= 0)
			r = queue_file_openat(dfd, id, 0, qf_r, &err);
		else
			r = -1;
		if (r > 0)
			return 1;
		e = errno;
		if (r < 0 && e == ENOENT)
			continue;
		fprintf(stderr, "postern queue: %s/%s: %s\n",
			queue_name_str(*q_r), id, err);
		return r == 0	      ? -QCMD_EX_TEMPFAIL
		       : e == EBADMSG ? -QCMD_EX_SOFTWARE
				      : -qcmd_exit_code(e);
	}
	return 0;
}

static int show_parse(int argc, char **argv, unsigned *what_r,
		      const char **id_r)
{
	*what_r = 0;
	*id_r = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-e") == 0)
			*what_r |= SHOW_ENVELOPE;
		else if (strcmp(argv[i], "-h") == 0)
			*what_r |= SHOW_HEADER;
		else if (strcmp(argv[i], "-b") == 0)
			*what_r |= SHOW_BODY;
		else if (*id_r == NULL && argv[i][0] != '-')
			*id_r = argv[i];
		else
			return -1;
	}
	if (*what_r == 0)
		*what_r = SHOW_ENVELOPE | SHOW_HEADER | SHOW_BODY;
	return *id_r != NULL ? 1 : -1;
}

int qcmd_show_main(struct conf *c, int argc, char **argv)
{
	struct show_ctx sc = {.tty = isatty(STDOUT_FILENO) == 1};
	char id[QUEUE_ID_SIZE];
	struct queue_file *qf = NULL;
	struct queue_dir *qd;
	enum queue_name q = QUEUE_INCOMING;
	const char *arg, *err;
	int r, ret = 0;

	if (show_parse(argc, argv, &sc.what, &arg) < 0)
		return qcmd_usage("show [-e] [-h] [-b] ID");
	if (qcmd_parse_id(arg, id) <= 0)
		return qcmd_usage("invalid queue ID");
	if (queue_dir_open(conf_get(c, "queue_directory"), &qd, &err) < 0) {
		fprintf(stderr, "postern queue: %s\n", err);
		return qcmd_exit_code(errno);
	}
	r = show_open(qd, id, &q, &qf);
	if (r == 0)
		fprintf(stderr, "postern queue: %s: not in the queue\n", id);
	if (r <= 0) {
		queue_dir_close(&qd);
		return r == 0 ? QCMD_EX_NOINPUT : -r;
	}
	str_init(&sc.out, 70000);
	if (sc.what & SHOW_ENVELOPE)
		show_envelope(&sc, qd, id, q, qf);
	if (sc.what & (SHOW_HEADER | SHOW_BODY)) {
		str_printf(&sc.out, "*** MESSAGE CONTENTS %s/%s ***\n",
			   queue_name_str(q), id);
		ret = show_content(&sc, qf);
	}
	str_printf(&sc.out, "*** MESSAGE FILE END %s/%s ***\n",
		   queue_name_str(q), id);
	if (ret == 0 && qcmd_write_stdout(&sc.out) < 0) {
		fprintf(stderr, "postern queue: output write error: %s\n",
			strerror(errno));
		ret = QCMD_EX_IOERR;
	}
	str_deinit(&sc.out);
	queue_file_close(&qf);
	queue_dir_close(&qd);
	return ret;
}
