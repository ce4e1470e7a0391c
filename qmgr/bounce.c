/* bounce.c: delivery status notifications (RFC 3464: multipart/report;
 * report-type=delivery-status, from the null sender), built from the
 * per-message status logs (status.c):
 *   - when a message is finished, bounce/ID holds its failed recipients
 *     (action=failed) and those that asked NOTIFY=SUCCESS and were
 *     delivered (action=delivered; "relayed" when the next server does
 *     not speak DSN): a non-delivery report and a success report go to
 *     the sender, each only for recipients whose NOTIFY asks for it;
 *   - after delay_warning_time, once per message (QUEUE_STATE_WARNED), a
 *     delay report (action=delayed) from defer/ID;
 *   - notify_classes: "bounce" and "delay" send the postmaster a copy
 *     with the original headers only, "2bounce" a notice when a
 *     notification itself cannot be delivered.
 * Never a notification to the null sender. Reports are written into
 * incoming/ with queue_writer; a crash between the commit of a report and
 * the removal of the log sends it twice, never zero times. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "mail_date.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "qmgr_trigger.h"
#include "queue_writer.h"

#define BOUNCE_LOG_MAX (4 * 1024 * 1024)

/* The kinds of report. */
enum report {
	REPORT_FAILED,
	REPORT_SUCCESS,
	REPORT_DELAYED,
	REPORT_PM_FAILED, /* postmaster copies */
	REPORT_PM_DELAYED,
	REPORT_2BOUNCE,
};

static const struct report_text {
	const char *subject, *intro, *action, *part;
	bool postmaster;
} reports[] = {
    [REPORT_FAILED] = {"Undelivered Mail Returned to Sender",
		       "Your message could not be delivered to one or more "
		       "recipients.",
		       "failed", "Undelivered Message Headers", false},
    [REPORT_SUCCESS] = {"Successful Mail Delivery Report",
			"Your message was successfully delivered to the "
			"destination(s) listed below.",
			NULL, "Message Headers", false},
    [REPORT_DELAYED] = {"Delayed Mail (still being retried)",
			"Your message could not be delivered for some time. "
			"It will be retried until it is too old; you need "
			"not send it again.",
			"delayed", "Message Headers", false},
    [REPORT_PM_FAILED] = {"Postmaster Copy: Undelivered Mail",
			  "A message could not be delivered to one or more "
			  "recipients.",
			  "failed", "Undelivered Message Headers", true},
    [REPORT_PM_DELAYED] = {"Postmaster Warning: Delayed Mail",
			   "A message could not be delivered for some time.",
			   "delayed", "Message Headers", true},
    [REPORT_2BOUNCE] = {"Postmaster Copy: Undelivered Mail",
			"A delivery status notification could not be "
			"delivered.",
			"failed", "Undelivered Message Headers", true},
};

/* "name=" value of the block starting at block, into out. */
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

/* The NOTIFY bits of rcpt (the first recipient of that address). */
static unsigned rcpt_notify(const struct queue_envelope *env, const char *rcpt)
{
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (strcmp(env->rcpts[i].address, rcpt) == 0)
			return env->rcpts[i].notify;
	return 0;
}

/* Whether a block with action goes into a report of kind k. */
static bool wanted(enum report k, const char *action, unsigned notify)
{
	bool never = (notify & QUEUE_NOTIFY_NEVER) != 0;

	switch (k) {
	case REPORT_FAILED:
		return strcmp(action, "failed") == 0 && !never &&
		       (notify == 0 || (notify & QUEUE_NOTIFY_FAILURE));
	case REPORT_SUCCESS:
		return (strcmp(action, "delivered") == 0 ||
			strcmp(action, "relayed") == 0) &&
		       (notify & QUEUE_NOTIFY_SUCCESS);
	case REPORT_DELAYED:
		return strcmp(action, "delayed") == 0 && !never &&
		       (notify == 0 || (notify & QUEUE_NOTIFY_DELAY));
	default:
		return strcmp(action, reports[k].action) == 0;
	}
}

/* The per-recipient parts of kind k: text lines and DSN fields; returns
 * how many recipients went in. A recipient logged more than once
 * (defer/ID) is reported once. */
static size_t report_parts(enum report k, const struct queue_envelope *env,
			   const char *log, struct str *text, struct str *dsn)
{
	struct str rcpt, status, reason, action, seen;
	const char *p = log;
	size_t n = 0;

	str_init(&rcpt, 64);
	str_init(&status, 16);
	str_init(&reason, 128);
	str_init(&action, 16);
	str_init(&seen, 256);
	str_putc(&seen, '\n');
	while ((p = strstr(p, "\nrecipient=")) != NULL) {
		p++;
		log_field(p, "recipient", &rcpt);
		log_field(p, "status", &status);
		log_field(p, "reason", &reason);
		log_field(p, "action", &action);
		if (!wanted(k, action.data, rcpt_notify(env, rcpt.data)))
			continue;
		str_putc(&rcpt, '\n');
		if (strstr(seen.data, rcpt.data) != NULL &&
		    strstr(seen.data, rcpt.data)[-1] == '\n')
			continue;
		str_append(&seen, rcpt.data, rcpt.len);
		str_truncate(&rcpt, rcpt.len - 1);
		n++;
		str_printf(text, "<%s>: %s\r\n", rcpt.data, reason.data);
		str_printf(dsn,
			   "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\n"
			   "Status: %s\r\nDiagnostic-Code: X-Postern; %s\r\n",
			   rcpt.data, action.data, status.data, reason.data);
	}
	str_deinit(&rcpt);
	str_deinit(&status);
	str_deinit(&reason);
	str_deinit(&action);
	str_deinit(&seen);
	return n;
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

static void report_head(struct qmgr *q, const struct queue_envelope *env,
			enum report k, const char *to, struct str *m)
{
	const char *host = conf_get(q->conf, "myhostname");

	str_printf(m,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		   "To: <%s>\r\nSubject: %s\r\nDate: ",
		   host, to, reports[k].subject);
	mail_date(time(NULL), m);
	str_printf(m,
		   "\r\nMessage-ID: <%s.%d.%s@%s>\r\nAuto-Submitted: "
		   "auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: "
		   "multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s/%s\"\r\n\r\nThis is a MIME-encapsulated "
		   "message.\r\n\r\n",
		   env->id, (int)k,
		   reports[k].postmaster ? "postmaster" : "report", host,
		   env->id, host);
}

static void report_compose(struct qmgr *q, struct queue_file *qf, enum report k,
			   const char *to, const char *text, const char *dsn,
			   struct str *m)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *host = conf_get(q->conf, "myhostname");

	report_head(q, env, k, to, m);
	str_printf(m,
		   "--%s/%s\r\nContent-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
		   "This is the mail system at host %s.\r\n\r\n%s\r\n\r\n",
		   env->id, host, host, reports[k].intro);
	if (reports[k].postmaster)
		str_printf(m, "Sender: <%s>\r\n", env->sender);
	str_printf(m,
		   "%s\r\n--%s/%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/delivery-status\r\n\r\n"
		   "Reporting-MTA: dns; %s\r\nX-Postern-Queue-ID: %s\r\n"
		   "Arrival-Date: ",
		   text, env->id, host, host, env->id);
	mail_date((time_t)(env->arrival_usec / 1000000u), m);
	if (k == REPORT_DELAYED || k == REPORT_PM_DELAYED) {
		str_append_cstr(m, "\r\nWill-Retry-Until: ");
		mail_date((time_t)(env->arrival_usec / 1000000u +
				   (uint64_t)q->lifetime),
			  m);
	}
	str_printf(m,
		   "\r\n%s\r\n--%s/%s\r\nContent-Description: %s\r\n"
		   "Content-Type: text/rfc822-headers\r\n\r\n",
		   dsn, env->id, host, reports[k].part);
	original_headers(
	    qf, (size_t)conf_get_size(q->conf, "bounce_size_limit"), m);
	str_printf(m, "\r\n--%s/%s--\r\n", env->id, host);
}

int qmgr_bounce_queue(struct qmgr *q, const char *rcpt, const char *text,
		      size_t len, char id_r[QUEUE_ID_SIZE],
		      const char **error_r)
{
	struct queue_writer *qw = NULL;
	const char *err;

	if (queue_writer_begin(q->qd, NULL, &qw, error_r) < 0)
		return -1;
	if (queue_writer_set_sender(qw, "", error_r) < 0 ||
	    queue_writer_add_rcpt(qw, rcpt, NULL, 0, error_r) < 0 ||
	    queue_writer_write(qw, text, len, error_r) <= 0) {
		queue_writer_abort(&qw);
		return -1;
	}
	if (queue_writer_commit(&qw, id_r, error_r) < 0)
		return -1;
	/* picked up by our own next run */
	(void)qmgr_trigger(queue_dir_root(q->qd), QMGR_TRIGGER_WAKEUP, &err);
	return 1;
}

/* Sends report k about qf to to (a bare name gets @$myorigin), when the
 * log has recipients for it. Returns 1 (sent or nothing to send) or -1. */
static int report_send(struct qmgr *q, struct queue_file *qf, enum report k,
		       const char *to, const char *log, const char **error_r)
{
	static const char *const what[] = {"sender non-delivery notification",
					   "sender delivery status "
					   "notification",
					   "sender delay notification",
					   "postmaster non-delivery "
					   "notification",
					   "postmaster delay notification",
					   "postmaster non-delivery "
					   "notification"};
	const struct queue_envelope *env = queue_file_envelope(qf);
	char id[QUEUE_ID_SIZE];
	struct str text, dsn, m;
	int r = 1;

	struct str addr;

	str_init(&text, 256);
	str_init(&dsn, 256);
	str_init(&addr, 64);
	str_append_cstr(&addr, to);
	if (strchr(to, '@') == NULL)
		str_printf(&addr, "@%s", conf_get(q->conf, "myorigin"));
	if (report_parts(k, env, log, &text, &dsn) > 0) {
		str_init(&m, 4096);
		report_compose(q, qf, k, addr.data, text.data, dsn.data, &m);
		r = qmgr_bounce_queue(q, addr.data, m.data, m.len, id, error_r);
		if (r > 0)
			msg_info("%s: %s", what[k], id);
		str_deinit(&m);
	}
	str_deinit(&text);
	str_deinit(&dsn);
	str_deinit(&addr);
	return r;
}

/* Is qf one of our postmaster notices (never the subject of another)? */
static bool postmaster_notice(struct queue_file *qf)
{
	struct str h;
	bool yes;

	str_init(&h, 1024);
	original_headers(qf, 8192, &h);
	yes = strstr(h.data, ".postmaster@") != NULL &&
	      strstr(h.data, "\r\nFrom: Mail Delivery System") != NULL;
	str_deinit(&h);
	return yes;
}

static int failed_reports(struct qmgr *q, struct queue_file *qf,
			  const char *log, const char **error_r)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	int r = 1;

	if (env->sender[0] == '\0') {
		msg_info("undeliverable bounce message: no notification");
		if ((q->notify_classes & QMGR_NOTIFY_2BOUNCE) &&
		    !postmaster_notice(qf))
			r = report_send(
			    q, qf, REPORT_2BOUNCE,
			    conf_get(q->conf, "2bounce_notice_recipient"), log,
			    error_r);
		return r;
	}
	r = report_send(q, qf, REPORT_FAILED, env->sender, log, error_r);
	if (r > 0 && (q->notify_classes & QMGR_NOTIFY_BOUNCE))
		r = report_send(q, qf, REPORT_PM_FAILED,
				conf_get(q->conf, "bounce_notice_recipient"),
				log, error_r);
	if (r > 0)
		r = report_send(q, qf, REPORT_SUCCESS, env->sender, log,
				error_r);
	return r;
}

int qmgr_bounce_flush(struct qmgr *q, struct queue_file *qf,
		      const char **error_r)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct str path, log;
	int r;

	str_init(&path, 128);
	str_init(&log, 1024);
	str_printf(&path, "%s/bounce/%s", queue_dir_root(q->qd), env->id);
	if (file_read_all(path.data, &log, BOUNCE_LOG_MAX, error_r) < 0)
		r = errno == ENOENT ? 0 : -1;
	else
		r = failed_reports(q, qf, log.data, error_r);
	if (r > 0)
		(void)queue_dir_remove(q->qd, QUEUE_BOUNCE, env->id,
				       QUEUE_MOVE_SYNC, error_r);
	str_deinit(&path);
	str_deinit(&log);
	return r < 0 ? -1 : 1;
}

int qmgr_bounce_warn(struct qmgr *q, struct queue_file *qf,
		     const char **error_r)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct str path, log;
	int r;

	if (env->sender[0] == '\0')
		return 0;
	str_init(&path, 128);
	str_init(&log, 1024);
	str_printf(&path, "%s/defer/%s", queue_dir_root(q->qd), env->id);
	r = file_read_all(path.data, &log, BOUNCE_LOG_MAX, error_r);
	if (r > 0)
		r = report_send(q, qf, REPORT_DELAYED, env->sender, log.data,
				error_r);
	if (r > 0 && (q->notify_classes & QMGR_NOTIFY_DELAY))
		r = report_send(q, qf, REPORT_PM_DELAYED,
				conf_get(q->conf, "delay_notice_recipient"),
				log.data, error_r);
	/* once per message, even when nobody wanted it */
	if (r > 0 &&
	    (queue_file_set_state(qf, QUEUE_STATE_WARNED, error_r) < 0 ||
	     queue_file_sync(qf, error_r) < 0))
		r = -1;
	str_deinit(&path);
	str_deinit(&log);
	return r;
}
