/* session.c: one SMTP or LMTP session with one mail host: greeting,
 * EHLO (HELO when EHLO is refused; LHLO for LMTP), STARTTLS by the TLS
 * level of the next hop, then one transaction (MAIL FROM with SIZE, BODY,
 * SMTPUTF8, RET and ENVID; RCPT TO with NOTIFY and ORCPT; DATA),
 * pipelined when the server offers PIPELINING, and QUIT. Each reply
 * decides the results of the recipients it concerns (for LMTP, one reply
 * per accepted recipient after the content); failures before any
 * recipient was tried send route.c on to the next address. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "num.h"
#include "queue_file.h"
#include "smtp.h"

struct session {
	const struct smtp_config *cfg;
	struct smtp_conn *c;
	struct smtp_msg *msg;
	enum tls_level level;
	const char *peer_name;
	/* why the session failed before any recipient was tried */
	char *fail_dsn;
	struct str *fail_text;
	bool to_7bit; /* the server lacks 8BITMIME: convert the content */
};

/* The enhanced status code of the last reply, or X.0.0 from its code. */
static void reply_dsn(const struct smtp_conn *c, char dsn[16])
{
	const char *t = c->reply.data + 3;
	size_t n;

	snprintf(dsn, 16, "%c.0.0", '0' + c->code / 100);
	if (*t != ' ' || t[1] != dsn[0] || t[2] != '.')
		return;
	t++;
	n = strspn(t, "0123456789.");
	if (n >= 5 && n < 16 && (t[n] == ' ' || t[n] == '\0'))
		snprintf(dsn, 16, "%.*s", (int)n, t);
}

static enum smtp_session_end fail_next(struct session *s, const char *dsn,
				       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum smtp_session_end fail_next(struct session *s, const char *dsn,
				       const char *fmt, ...)
{
	va_list ap;

	snprintf(s->fail_dsn, 16, "%s", dsn);
	str_clear(s->fail_text);
	va_start(ap, fmt);
	str_vprintf(s->fail_text, fmt, ap);
	va_end(ap);
	return SMTP_SESSION_NEXT;
}

/* A reply that ends the session before any recipient: next address. */
static enum smtp_session_end refused(struct session *s, const char *cmd)
{
	char dsn[16];

	reply_dsn(s->c, dsn);
	if (cmd == NULL)
		return fail_next(s, dsn, "host %s refused to talk to me: %s",
				 s->c->peer, s->c->reply.data);
	return fail_next(s, dsn, "host %s said: %s (in reply to %s command)",
			 s->c->peer, s->c->reply.data, cmd);
}

static void rcpt_said(struct session *s, struct smtp_rcpt *r, const char *cmd)
{
	char dsn[16];

	reply_dsn(s->c, dsn);
	smtp_rcpt_set(r, s->c->code >= 500 ? SMTP_BOUNCED : SMTP_DEFERRED, dsn,
		      s->c->relay, "host %s said: %s (in reply to %s command)",
		      s->c->peer, s->c->reply.data, cmd);
}

/* Sends "cmd arg" (or just cmd when arg is NULL), reads the reply. */
static int command(struct session *s, unsigned timeout, const char *what,
		   const char *cmd, const char *arg)
{
	smtp_conn_put(s->c, "%s%s%s", cmd, arg != NULL ? " " : "",
		      arg != NULL ? arg : "");
	if (smtp_conn_flush(s->c, timeout, what) < 0)
		return -1;
	return smtp_conn_reply(s->c, timeout, what);
}

static void ehlo_features(struct session *s)
{
	const char *p = s->c->reply.data;
	uint64_t v;

	s->c->feat = (struct smtp_features){.esmtp = true};
	/* Keywords follow the first line, each after a blank (conn.c joins
	 * the lines of a reply with one). */
	while ((p = strchr(p, ' ')) != NULL) {
		p++;
		if (strncasecmp(p, "PIPELINING", 10) == 0)
			s->c->feat.pipelining = true;
		else if (strncasecmp(p, "STARTTLS", 8) == 0)
			s->c->feat.starttls = true;
		else if (strncasecmp(p, "8BITMIME", 8) == 0)
			s->c->feat.eightbit = true;
		else if (strncasecmp(p, "SMTPUTF8", 8) == 0)
			s->c->feat.smtputf8 = true;
		else if (strncasecmp(p, "DSN", 3) == 0 &&
			 (p[3] == ' ' || p[3] == '\0'))
			s->c->feat.dsn = true;
		else if (strncasecmp(p, "SIZE", 4) == 0 &&
			 (p[4] == ' ' || p[4] == '\0')) {
			s->c->feat.has_size = true;
			s->c->feat.size_limit = 0;
			if (p[4] == ' ' &&
			    num_parse_u64(p + 5, strcspn(p + 5, " "),
					  UINT64_MAX, &v) > 0)
				s->c->feat.size_limit = v;
		}
	}
}

/* EHLO, or HELO when EHLO is refused; LHLO for LMTP, which has no
 * fallback (RFC 2033 4.1). */
static enum smtp_session_end hello(struct session *s)
{
	const char *what = s->c->lmtp ? "performing the LHLO handshake"
				      : "performing the EHLO handshake";
	const char *cmd = s->c->lmtp ? "LHLO" : "EHLO";
	unsigned t = s->cfg->helo_timeout;

	if (command(s, t, what, cmd, s->cfg->helo_name) < 0)
		return fail_next(s, "4.4.2", "%s", s->c->error);
	if (s->c->code / 100 == 2) {
		ehlo_features(s);
		return SMTP_SESSION_DONE;
	}
	if (s->c->code == 421 || s->c->lmtp)
		return refused(s, cmd);
	what = "performing the HELO handshake";
	if (command(s, t, what, "HELO", s->cfg->helo_name) < 0)
		return fail_next(s, "4.4.2", "%s", s->c->error);
	if (s->c->code / 100 != 2)
		return refused(s, "HELO");
	s->c->feat = (struct smtp_features){.esmtp = false};
	return SMTP_SESSION_DONE;
}

static void tls_log(struct session *s)
{
	const char *detail;
	enum tls_peer peer = tls_conn_peer(s->c->tls, &detail);

	if (s->cfg->tls_loglevel >= 1)
		msg_info("%s TLS connection established to %s: %s",
			 tls_peer_text(peer), s->c->relay,
			 tls_conn_summary(s->c->tls));
}

/* STARTTLS as the level says; then EHLO again (RFC 3207 4.2). */
static enum smtp_session_end starttls(struct session *s)
{
	bool must = s->level >= TLS_LEVEL_ENCRYPT;
	unsigned t = s->cfg->helo_timeout;

	if (s->level == TLS_LEVEL_NONE || s->cfg->tls == NULL)
		return SMTP_SESSION_DONE;
	if (!s->c->feat.starttls)
		return must ? fail_next(s, "4.7.4",
					"TLS is required, but was not offered "
					"by host %s",
					s->c->peer)
			    : SMTP_SESSION_DONE;
	if (command(s, t, "sending STARTTLS", "STARTTLS", NULL) < 0)
		return fail_next(s, "4.4.2", "%s", s->c->error);
	if (s->c->code != 220) {
		if (!must)
			return SMTP_SESSION_DONE;
		return fail_next(s, "4.7.5",
				 "TLS is required, but host %s refused to "
				 "start TLS: %s",
				 s->c->peer, s->c->reply.data);
	}
	if (smtp_conn_starttls(s->c, s->cfg->tls, s->level, s->peer_name, t) <
	    0) {
		fail_next(s, "4.7.5", "Cannot start TLS: %s", s->c->error);
		return must ? SMTP_SESSION_NEXT : SMTP_SESSION_NEXT_TLS;
	}
	tls_log(s);
	return hello(s);
}

static bool ascii(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
	return true;
}

/* A server without 8BITMIME (RFC 6152 3): 8-bit content is converted
 * to 7-bit MIME while it is sent, or bounced here, before MAIL FROM, when
 * that cannot be done (or is disabled). 8-bit header bytes may only go
 * to a server that takes SMTPUTF8. */
static bool eightbit_fits(struct session *s)
{
	struct smtp_msg *m = s->msg;
	const char *why;
	int r;

	if (smtp_data_scan(m, &why) < 0) {
		smtp_rcpts_set(m, SMTP_DEFERRED, "4.3.0", s->c->relay, "%s",
			       why);
		return false;
	}
	r = mime_7bit_verdict(m->mime, s->c->feat.smtputf8, &why);
	if (r > 0 && !s->cfg->mime_conversion) {
		why = "conversion to 7-bit is disabled "
		      "(disable_mime_output_conversion)";
		r = -1;
	}
	if (r < 0) {
		smtp_rcpts_set(m, SMTP_BOUNCED, "5.6.3", s->c->relay,
			       "message has 8-bit content, but host %s does "
			       "not support 8BITMIME, and it cannot be sent as "
			       "7-bit MIME: %s",
			       s->c->peer, why);
		return false;
	}
	s->to_7bit = r > 0;
	return true;
}

/* What the server must offer for this message; false when the message
 * cannot go to it (every recipient bounced). */
static bool message_fits(struct session *s)
{
	struct smtp_msg *m = s->msg;
	bool utf8 = !ascii(m->sender);

	if (s->c->feat.has_size && s->c->feat.size_limit > 0 &&
	    m->size > s->c->feat.size_limit) {
		smtp_rcpts_set(m, SMTP_BOUNCED, "5.3.4", s->c->relay,
			       "message size %llu exceeds size limit %llu of "
			       "server %s",
			       (unsigned long long)m->size,
			       (unsigned long long)s->c->feat.size_limit,
			       s->c->peer);
		return false;
	}
	for (size_t i = 0; i < m->rcpt_count; i++)
		utf8 = utf8 || (m->rcpts[i].status == SMTP_PENDING &&
				!ascii(m->rcpts[i].address));
	if (utf8 && (m->flags & QUEUE_MSG_SMTPUTF8) && !s->c->feat.smtputf8) {
		smtp_rcpts_set(m, SMTP_BOUNCED, "5.6.7", s->c->relay,
			       "SMTPUTF8 is required, but was not offered by "
			       "host %s",
			       s->c->peer);
		return false;
	}
	return s->c->feat.eightbit || eightbit_fits(s);
}

static void put_mail(struct session *s)
{
	const struct smtp_msg *m = s->msg;
	char size[64] = "";

	if (s->c->feat.has_size)
		snprintf(size, sizeof(size), " SIZE=%llu",
			 (unsigned long long)m->size);
	smtp_conn_put(s->c, "MAIL FROM:<%s>%s%s%s%s%s%s", m->sender, size,
		      s->c->feat.eightbit && (m->flags & QUEUE_MSG_8BITMIME)
			  ? " BODY=8BITMIME"
			  : "",
		      s->c->feat.smtputf8 && (m->flags & QUEUE_MSG_SMTPUTF8)
			  ? " SMTPUTF8"
			  : "",
		      !s->c->feat.dsn		 ? ""
		      : m->ret == QUEUE_RET_FULL ? " RET=FULL"
		      : m->ret == QUEUE_RET_HDRS ? " RET=HDRS"
						 : "",
		      s->c->feat.dsn && m->envid[0] != '\0' ? " ENVID=" : "",
		      s->c->feat.dsn ? m->envid : "");
}

static void put_rcpt(struct session *s, const struct smtp_rcpt *r)
{
	char notify[40] = "";

	if (s->c->feat.dsn && r->notify != 0)
		snprintf(notify, sizeof(notify), " NOTIFY=%s%s%s%s",
			 (r->notify & QUEUE_NOTIFY_NEVER) ? "NEVER" : "",
			 (r->notify & QUEUE_NOTIFY_SUCCESS) ? "SUCCESS," : "",
			 (r->notify & QUEUE_NOTIFY_FAILURE) ? "FAILURE," : "",
			 (r->notify & QUEUE_NOTIFY_DELAY) ? "DELAY," : "");
	if (notify[0] != '\0' && notify[strlen(notify) - 1] == ',')
		notify[strlen(notify) - 1] = '\0';
	smtp_conn_put(s->c, "RCPT TO:<%s>%s%s%s", r->address, notify,
		      s->c->feat.dsn && r->orcpt[0] != '\0' ? " ORCPT=" : "",
		      s->c->feat.dsn ? r->orcpt : "");
}

/* An I/O error during the transaction: before any recipient got a reply
 * the next address may do better; after, the recipients still open are
 * deferred with the error. */
static enum smtp_session_end io_fail(struct session *s, bool rcpt_answered,
				     const char *suffix)
{
	struct smtp_msg *m = s->msg;

	if (!rcpt_answered)
		return fail_next(s, "4.4.2", "%s", s->c->error);
	for (size_t i = 0; i < m->rcpt_count; i++)
		if (m->rcpts[i].status == SMTP_PENDING)
			smtp_rcpt_set(&m->rcpts[i], SMTP_DEFERRED, "4.4.2",
				      s->c->relay, "%s%s", s->c->error, suffix);
	return SMTP_SESSION_DONE;
}

/* The reply to MAIL FROM: 1 go on, else the session's end. */
static int mail_reply(struct session *s, enum smtp_session_end *end_r)
{
	char dsn[16];

	if (smtp_conn_reply(s->c, s->cfg->mail_timeout, "sending MAIL FROM") <
	    0) {
		*end_r = io_fail(s, false, "");
		return 0;
	}
	if (s->c->code / 100 == 2)
		return 1;
	if (s->c->code / 100 == 4) {
		*end_r = refused(s, "MAIL FROM");
		return 0;
	}
	reply_dsn(s->c, dsn);
	smtp_rcpts_set(s->msg, SMTP_BOUNCED, dsn, s->c->relay,
		       "host %s said: %s (in reply to MAIL FROM command)",
		       s->c->peer, s->c->reply.data);
	*end_r = SMTP_SESSION_DONE;
	return 0;
}

/* RCPT TO for each pending recipient, in groups when pipelining (the
 * first group carries MAIL FROM, the last one DATA). Returns 1 when the
 * transaction goes on, 0 with *end_r when it ended. *data_sent_r: DATA
 * went out and its reply is still to be read. */
static int rcpts(struct session *s, struct smtp_rcpt **list, size_t n,
		 bool *data_sent_r, enum smtp_session_end *end_r)
{
	size_t group = s->c->feat.pipelining ? SMTP_PIPELINE_GROUP : 1;
	bool mail_read = !s->c->feat.pipelining, answered = false;
	unsigned t = s->cfg->rcpt_timeout;

	for (size_t i = 0; i < n; i += group) {
		size_t k = n - i < group ? n - i : group;

		for (size_t j = 0; j < k; j++)
			put_rcpt(s, list[i + j]);
		if (s->c->feat.pipelining && i + k == n) {
			smtp_conn_put(s->c, "DATA");
			*data_sent_r = true;
		}
		if (smtp_conn_flush(s->c, t, "sending RCPT TO") < 0) {
			*end_r = io_fail(s, answered, "");
			return 0;
		}
		if (!mail_read) {
			mail_read = true;
			if (!mail_reply(s, end_r))
				return 0;
		}
		for (size_t j = 0; j < k; j++) {
			struct smtp_rcpt *r = list[i + j];

			if (smtp_conn_reply(s->c, t, "sending RCPT TO") < 0) {
				*end_r = io_fail(s, answered, "");
				return 0;
			}
			answered = true;
			if (s->c->code / 100 == 2)
				r->accepted = true;
			else
				rcpt_said(s, r, "RCPT TO");
		}
	}
	return 1;
}

/* Sets the result of every accepted recipient from the last reply. */
static void accepted_said(struct session *s, const char *cmd)
{
	struct smtp_msg *m = s->msg;
	char dsn[16];

	reply_dsn(s->c, dsn);
	for (size_t i = 0; i < m->rcpt_count; i++) {
		struct smtp_rcpt *r = &m->rcpts[i];

		if (!r->accepted || r->status != SMTP_PENDING)
			continue;
		if (s->c->code / 100 == 2) {
			smtp_rcpt_set(r, SMTP_SENT, dsn, s->c->relay, "%s",
				      s->c->reply.data);
			r->relayed = !s->c->feat.dsn;
		} else
			rcpt_said(s, r, cmd);
	}
}

/* LMTP after the final dot: one reply per accepted recipient, in the
 * order of the RCPT commands (RFC 2033 4.2); those after a lost
 * connection are deferred. */
static enum smtp_session_end lmtp_replies(struct session *s)
{
	struct smtp_msg *m = s->msg;
	char dsn[16];

	for (size_t i = 0; i < m->rcpt_count; i++) {
		struct smtp_rcpt *r = &m->rcpts[i];

		if (!r->accepted || r->status != SMTP_PENDING)
			continue;
		if (smtp_conn_reply(s->c, s->cfg->data_done_timeout,
				    "sending end of data") < 0)
			return io_fail(s, true,
				       " -- message may be sent more than "
				       "once");
		if (s->c->code / 100 == 2) {
			reply_dsn(s->c, dsn);
			smtp_rcpt_set(r, SMTP_SENT, dsn, s->c->relay, "%s",
				      s->c->reply.data);
			r->relayed = !s->c->feat.dsn;
		} else
			rcpt_said(s, r, "end of DATA");
	}
	return SMTP_SESSION_DONE;
}

/* DATA (unless pipelined already), the content, the final reply. */
static enum smtp_session_end data(struct session *s, bool data_sent, bool any)
{
	struct smtp_conn *c = s->c;

	if (!data_sent && !any)
		return SMTP_SESSION_DONE;
	if (!data_sent) {
		smtp_conn_put(c, "DATA");
		if (smtp_conn_flush(c, s->cfg->data_init_timeout,
				    "sending DATA") < 0)
			return io_fail(s, true, "");
	}
	if (smtp_conn_reply(c, s->cfg->data_init_timeout, "sending DATA") < 0)
		return io_fail(s, true, "");
	if (c->code != 354) {
		accepted_said(s, "DATA");
		return SMTP_SESSION_DONE;
	}
	if (!any) {
		/* A server that said 354 without any recipient: end the
		 * empty message at once; nobody gets it. */
		smtp_conn_put(c, ".");
		if (smtp_conn_flush(c, s->cfg->data_done_timeout,
				    "sending end of data") > 0)
			(void)smtp_conn_reply(c, s->cfg->data_done_timeout,
					      "sending end of data");
		return SMTP_SESSION_DONE;
	}
	if (smtp_data_send(c, s->msg, s->to_7bit, s->cfg->data_xfer_timeout) <
	    0)
		return io_fail(s, true, "");
	if (c->lmtp)
		return lmtp_replies(s);
	if (smtp_conn_reply(c, s->cfg->data_done_timeout,
			    "sending end of data") < 0)
		return io_fail(s, true,
			       " -- message may be sent more than once");
	accepted_said(s, "end of DATA");
	return SMTP_SESSION_DONE;
}

static enum smtp_session_end transaction(struct session *s)
{
	struct smtp_msg *m = s->msg;
	struct smtp_rcpt **list = mem_calloc(m->rcpt_count + 1, sizeof(*list));
	enum smtp_session_end end = SMTP_SESSION_DONE;
	bool data_sent = false, any = false;
	size_t n = 0;

	for (size_t i = 0; i < m->rcpt_count; i++) {
		m->rcpts[i].accepted = false;
		if (m->rcpts[i].status == SMTP_PENDING)
			list[n++] = &m->rcpts[i];
	}
	put_mail(s);
	if (!s->c->feat.pipelining &&
	    smtp_conn_flush(s->c, s->cfg->mail_timeout, "sending MAIL FROM") <
		0)
		end = io_fail(s, false, "");
	else if ((s->c->feat.pipelining || mail_reply(s, &end)) &&
		 rcpts(s, list, n, &data_sent, &end)) {
		for (size_t i = 0; i < n; i++)
			any = any || list[i]->accepted;
		end = data(s, data_sent, any);
	}
	mem_free(list);
	return end;
}

static void quit(struct session *s)
{
	smtp_conn_put(s->c, "QUIT");
	if (smtp_conn_flush(s->c, s->cfg->quit_timeout, "sending QUIT") > 0)
		(void)smtp_conn_reply(s->c, s->cfg->quit_timeout,
				      "sending QUIT");
}

/* After a transaction: RSET to keep the session for the next message
 * (c->kept), else QUIT. A session that ended on an I/O error gets
 * neither: the connection is gone or stuck. */
static void session_end(struct session *s, bool keep)
{
	struct smtp_conn *c = s->c;

	c->kept = false;
	if (c->error[0] != '\0')
		return;
	if (keep && c->code != 421) {
		smtp_conn_put(c, "RSET");
		if (smtp_conn_flush(c, s->cfg->rset_timeout, "sending RSET") >
			0 &&
		    smtp_conn_reply(c, s->cfg->rset_timeout, "sending RSET") >
			0 &&
		    c->code / 100 == 2) {
			c->kept = true;
			return;
		}
		if (c->error[0] != '\0')
			return;
	}
	quit(s);
}

/* The transaction on a session that is ready for MAIL FROM. */
static enum smtp_session_end session_mail(struct session *s, bool keep)
{
	enum smtp_session_end end = SMTP_SESSION_DONE;

	s->c->uses++;
	s->msg->xfer_start_usec = smtp_now_usec();
	if (message_fits(s))
		end = transaction(s);
	session_end(s, keep && end == SMTP_SESSION_DONE);
	return end;
}

enum smtp_session_end smtp_session(const struct smtp_config *cfg,
				   struct smtp_conn *c, struct smtp_msg *msg,
				   enum tls_level tls_level,
				   const char *peer_name, char *fail_dsn,
				   struct str *fail_text, bool keep)
{
	struct session s = {.cfg = cfg,
			    .c = c,
			    .msg = msg,
			    .level = tls_level,
			    .peer_name = peer_name,
			    .fail_dsn = fail_dsn,
			    .fail_text = fail_text};
	enum smtp_session_end end;

	c->kept = false;
	if (smtp_conn_reply(c, cfg->helo_timeout,
			    "receiving the initial server greeting") < 0)
		return fail_next(&s, "4.4.2", "%s", c->error);
	if (c->code != 220)
		return refused(&s, NULL);
	end = hello(&s);
	if (end == SMTP_SESSION_DONE)
		end = starttls(&s);
	if (end == SMTP_SESSION_DONE)
		return session_mail(&s, keep);
	session_end(&s, false);
	return end;
}

enum smtp_session_end smtp_session_again(const struct smtp_config *cfg,
					 struct smtp_conn *c,
					 struct smtp_msg *msg, char *fail_dsn,
					 struct str *fail_text, bool keep)
{
	struct session s = {.cfg = cfg,
			    .c = c,
			    .msg = msg,
			    .level = TLS_LEVEL_NONE,
			    .peer_name = "",
			    .fail_dsn = fail_dsn,
			    .fail_text = fail_text};

	return session_mail(&s, keep);
}
