/* bounce.c: the non-delivery notification. When a message is finished and
 * bounce/ID holds failed recipients, qmgr writes an RFC 3464 report
 * (multipart/report; report-type=delivery-status, with the original
 * headers) from the null sender to the envelope sender into incoming/,
 * then removes the log. Never for the null sender (no bounce of a
 * bounce). A crash between the commit of the report and the removal of
 * the log sends the report twice, never zero times. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "qmgr_trigger.h"
#include "mail_date.h"
#include "queue_writer.h"

#define BOUNCE_LOG_MAX (4 * 1024 * 1024)

/* "name=" value of the line starting at p, into out. */
static void log_field(const char *block, const char *name, struct str *out)
{
	size_t n = strlen(name);
	const char *p = block;

	str_clear(out);
	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			str_append(out, p + n + 1, strcspn(p + n + 1, "\n"));
			return;
		}
		p = strchr(p, '\n');
		p = p != NULL && p[1] != '\n' ? p + 1 : NULL;
	}
}

/* The per-recipient parts: text lines and DSN fields. */
static void bounce_parts(const char *log, struct str *text, struct str *dsn)
{
	struct str rcpt, status, reason;
	const char *p = log;

	str_init(&rcpt, 64);
	str_init(&status, 16);
	str_init(&reason, 128);
	while ((p = strstr(p, "\nrecipient=")) != NULL) {
		p++;
		log_field(p, "recipient", &rcpt);
		log_field(p, "status", &status);
		log_field(p, "reason", &reason);
		str_printf(text, "<%s>: %s\r\n", rcpt.data, reason.data);
		str_printf(dsn,
			   "\r\nFinal-Recipient: rfc822; %s\r\nAction: "
			   "failed\r\nStatus: %s\r\nDiagnostic-Code: "
			   "X-Postern; %s\r\n",
			   rcpt.data, status.data, reason.data);
	}
	str_deinit(&rcpt);
	str_deinit(&status);
	str_deinit(&reason);
}

static void original_headers(struct queue_file *qf, size_t limit,
			     struct str *out)
{
	char buf[8192];
	uint64_t pos = 0;
	size_t start = out->len;
	const char *err;
	char *end;
	ssize_t n;

	while (out->len - start < limit &&
	       (n = queue_file_content_read(qf, pos, buf, sizeof(buf), &err)) >
		   0) {
		str_append(out, buf, (size_t)n);
		pos += (uint64_t)n;
		end = strstr(out->data + start, "\r\n\r\n");
		if (end != NULL) {
			str_truncate(out, (size_t)(end - out->data) + 2);
			return;
		}
	}
	if (out->len - start > limit)
		str_truncate(out, start + limit);
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		str_append_cstr(out, "\r\n");
}

static void bounce_compose(struct qmgr *q, struct queue_file *qf,
			   const char *log, struct str *m)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *host = conf_get(q->conf, "myhostname");
	struct str text, dsn;

	str_init(&text, 256);
	str_init(&dsn, 256);
	bounce_parts(log, &text, &dsn);
	str_printf(m,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		   "To: <%s>\r\nSubject: Undelivered Mail Returned to "
		   "Sender\r\nDate: ",
		   host, env->sender);
	mail_date(time(NULL), m);
	str_printf(m,
		   "\r\nMessage-ID: <%s.bounce@%s>\r\nAuto-Submitted: "
		   "auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: "
		   "multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s/%s\"\r\n\r\nThis is a MIME-encapsulated "
		   "message.\r\n\r\n--%s/%s\r\nContent-Description: "
		   "Notification\r\nContent-Type: text/plain; "
		   "charset=us-ascii\r\n\r\nThis is the mail system at host "
		   "%s.\r\n\r\nYour message could not be delivered to one "
		   "or more recipients.\r\n\r\n%s\r\n",
		   env->id, host, env->id, host, env->id, host, host,
		   text.data);
	str_printf(m,
		   "--%s/%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/delivery-status\r\n\r\n"
		   "Reporting-MTA: dns; %s\r\nX-Postern-Queue-ID: %s\r\n"
		   "Arrival-Date: ",
		   env->id, host, host, env->id);
	mail_date((time_t)(env->arrival_usec / 1000000u), m);
	str_printf(m,
		   "\r\n%s\r\n--%s/%s\r\nContent-Description: "
		   "Undelivered Message Headers\r\nContent-Type: "
		   "text/rfc822-headers\r\n\r\n",
		   dsn.data, env->id, host);
	original_headers(
	    qf, (size_t)conf_get_size(q->conf, "bounce_size_limit"), m);
	str_printf(m, "\r\n--%s/%s--\r\n", env->id, host);
	str_deinit(&text);
	str_deinit(&dsn);
}

static int bounce_queue(struct qmgr *q, const char *rcpt, const struct str *m,
			char id_r[QUEUE_ID_SIZE], const char **error_r)
{
	struct queue_writer *qw = NULL;

	if (queue_writer_begin(q->qd, NULL, &qw, error_r) < 0)
		return -1;
	if (queue_writer_set_sender(qw, "", error_r) < 0 ||
	    queue_writer_add_rcpt(qw, rcpt, NULL, 0, error_r) < 0 ||
	    queue_writer_write(qw, m->data, m->len, error_r) <= 0) {
		queue_writer_abort(&qw);
		return -1;
	}
	return queue_writer_commit(&qw, id_r, error_r);
}

int qmgr_bounce_flush(struct qmgr *q, struct queue_file *qf,
		      const char **error_r)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	char id[QUEUE_ID_SIZE];
	struct str path, log, m;
	int r = 1;

	str_init(&path, 128);
	str_init(&log, 1024);
	str_printf(&path, "%s/bounce/%s", queue_dir_root(q->qd), env->id);
	if (file_read_all(path.data, &log, BOUNCE_LOG_MAX, error_r) < 0) {
		r = errno == ENOENT ? 0 : -1;
	} else if (env->sender[0] == '\0') {
		msg_info("undeliverable bounce message: no notification");
	} else {
		str_init(&m, 4096);
		bounce_compose(q, qf, log.data, &m);
		r = bounce_queue(q, env->sender, &m, id, error_r);
		if (r > 0) {
			msg_info("sender non-delivery notification: %s", id);
			/* picked up by our own next run */
			(void)qmgr_trigger(queue_dir_root(q->qd),
					   QMGR_TRIGGER_WAKEUP, error_r);
		}
		str_deinit(&m);
	}
	if (r > 0)
		(void)queue_dir_remove(q->qd, QUEUE_BOUNCE, env->id,
				       QUEUE_MOVE_SYNC, error_r);
	str_deinit(&path);
	str_deinit(&log);
	return r < 0 ? -1 : 1;
}
