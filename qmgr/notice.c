/* notice.c: the postmaster's notices for notify_classes resource and
 * software (Postfix's classes of the same names): mail that was not
 * delivered because a delivery agent crashed, broke the protocol or could
 * not be started, or because a queue file could not be read or written, or
 * was malformed. The mail itself stays in the queue (or in corrupt/); the
 * notice says what happened so that someone fixes it. A broken agent fails
 * on every message: notices are limited to one per key (the transport,
 * the kind of queue problem) per transport_retry_time, which is also how
 * long a failed transport is left alone (sched.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mail_date.h"
#include "msg.h"
#include "qmgr.h"

static uint64_t now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* True when a notice for key went out within transport_retry_time;
 * else remembers this one (the oldest of the few remembered goes). */
static bool notice_recent(struct qmgr *q, const char *key)
{
	uint64_t now = now_usec(), window = (uint64_t)q->retry_time * 1000000u;
	size_t n = sizeof(q->notices) / sizeof(q->notices[0]);
	struct qmgr_notice_sent *s;

	for (size_t i = 0; i < n; i++) {
		s = &q->notices[i];
		if (s->usec != 0 && strcmp(s->key, key) == 0 &&
		    now - s->usec < window)
			return true;
	}
	s = &q->notices[q->notice_next++ % n];
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->usec = now;
	return false;
}

static void notice_compose(struct qmgr *q, enum qmgr_problem cls,
			   const char *to, const char *id, const char *sender,
			   const char *problem, struct str *m)
{
	const char *host = conf_get(q->conf, "myhostname");
	const char *what =
	    cls == QMGR_PROBLEM_SOFTWARE ? "software" : "resource";

	str_printf(m,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		   "To: <%s>\r\nSubject: Postmaster Warning: Mail Delivery "
		   "Problem (%s)\r\nDate: ",
		   host, to, what);
	mail_date(time(NULL), m);
	/* ".postmaster@": bounce.c never makes a 2bounce notice of it */
	str_printf(m,
		   "\r\nMessage-ID: <%llu.%s.postmaster@%s>\r\n"
		   "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
		   "This is the mail system at host %s.\r\n\r\n"
		   "Mail could not be delivered because of a %s problem\r\n"
		   "(notify_classes %s). It stays in the queue and is tried "
		   "again;\r\nthe log has the details.\r\n\r\n",
		   (unsigned long long)now_usec(), what, host, host, what,
		   what);
	if (id != NULL)
		str_printf(m, "Queue ID: %s\r\n", id);
	if (sender != NULL)
		str_printf(m, "Sender: <%s>\r\n", sender);
	/* the text may come from an agent: one line, bounded */
	str_append_cstr(m, "Problem: ");
	for (size_t i = 0; problem[i] != '\0' && i < 900; i++)
		str_putc(m, (unsigned char)problem[i] < 0x20 ||
				    (unsigned char)problem[i] > 0x7e
				? '?'
				: problem[i]);
	str_append_cstr(m, "\r\n");
}

void qmgr_notice(struct qmgr *q, enum qmgr_problem cls, const char *key,
		 const char *id, const char *sender, const char *problem)
{
	unsigned bit = cls == QMGR_PROBLEM_SOFTWARE ? QMGR_NOTIFY_SOFTWARE
						    : QMGR_NOTIFY_RESOURCE;
	const char *to = conf_get(q->conf, "error_notice_recipient");
	char nid[QUEUE_ID_SIZE];
	const char *err;
	struct str addr, m, k;

	if (!(q->notify_classes & bit))
		return;
	str_init(&k, 64);
	str_printf(&k, "%d %s", (int)cls, key);
	if (notice_recent(q, k.data)) {
		str_deinit(&k);
		return;
	}
	str_deinit(&k);
	str_init(&addr, 64);
	str_append_cstr(&addr, to);
	if (strchr(to, '@') == NULL)
		str_printf(&addr, "@%s", conf_get(q->conf, "myorigin"));
	str_init(&m, 1024);
	notice_compose(q, cls, addr.data, id, sender, problem, &m);
	if (qmgr_bounce_queue(q, addr.data, m.data, m.len, nid, &err) < 0)
		msg_warn("postmaster %s notification: %s",
			 cls == QMGR_PROBLEM_SOFTWARE ? "software" : "resource",
			 err);
	else
		msg_info("postmaster %s notification: %s",
			 cls == QMGR_PROBLEM_SOFTWARE ? "software" : "resource",
			 nid);
	str_deinit(&m);
	str_deinit(&addr);
}
