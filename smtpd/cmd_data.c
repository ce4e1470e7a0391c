/* cmd_data.c: DATA and BDAT, from the command to "250 Ok: queued as ID":
 * the envelope and a Received: header go to lib/queue_writer, content is
 * streamed in blocks as it arrives, and 250 is sent only after
 * the commit (commit.c) made it durable (file and folder fsync'd). Any writer
 * error is a 451 4.3.0 and the file is removed; a refused message
 * (lib/smtp_data.h) never reaches commit. */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "msg.h"
#include "qmgr_trigger.h"
#include "smtpd.h"

/* Wakes qmgr (a byte on public/qmgr over the connection the process
 * keeps, lib/qmgr_trigger.h) so that the message is scheduled at once.
 * Never blocks; when qmgr cannot be reached the message waits in
 * incoming/ for qmgr's periodic scan. */
void smtpd_wake_qmgr(const struct smtpd_config *cfg, const char *queue_id)
{
	const char *err;

	if (qmgr_trigger_kept(queue_dir_root(cfg->queue), QMGR_TRIGGER_WAKEUP,
			      &err) < 0)
		msg_debug("%s: wake qmgr: %s", queue_id, err);
}

static const char *data_protocol(const struct session *s)
{
	bool a = s->auth_user != NULL; /* RFC 3848: "A" for AUTH */

	if (s->msg_flags & QUEUE_MSG_SMTPUTF8)
		return s->tls_active ? (a ? "UTF8SMTPSA" : "UTF8SMTPS")
				     : (a ? "UTF8SMTPA" : "UTF8SMTP");
	if (!s->esmtp)
		return "SMTP";
	if (a)
		return s->tls_active ? "ESMTPSA" : "ESMTPA";
	return s->tls_active ? "ESMTPS" : "ESMTP";
}

/* Splits "TLSv1.3 with cipher NAME (256/256 bits)" into its parts. */
static int data_set_tls(struct session *s, const char **error_r)
{
	const char *sum = tls_conn_summary(s->tls);
	const char *with = strstr(sum, " with cipher ");
	const char *paren = with ? strstr(with, " (") : NULL;
	const char *bits = paren ? strstr(paren, " bits)") : NULL;
	char *proto, *cipher, *b;
	int r = 1;

	if (bits == NULL)
		return 1;
	proto = mem_strndup(sum, (size_t)(with - sum));
	cipher = mem_strndup(with + 13, (size_t)(paren - (with + 13)));
	b = mem_strndup(paren + 2, (size_t)(bits - (paren + 2)));
	if (queue_writer_set_field(s->qw, QUEUE_FIELD_TLS_PROTOCOL, proto,
				   error_r) < 0 ||
	    queue_writer_set_field(s->qw, QUEUE_FIELD_TLS_CIPHER, cipher,
				   error_r) < 0 ||
	    queue_writer_set_field(s->qw, QUEUE_FIELD_TLS_BITS, b, error_r) < 0)
		r = -1;
	mem_free(proto);
	mem_free(cipher);
	mem_free(b);
	return r;
}

static int data_envelope(struct session *s, const char **error_r)
{
	struct queue_writer *qw = s->qw;

	if (queue_writer_set_sender(qw, s->sender, error_r) < 0 ||
	    queue_writer_set_field(qw, QUEUE_FIELD_CLIENT_NAME, s->client_name,
				   error_r) < 0 ||
	    queue_writer_set_field(qw, QUEUE_FIELD_CLIENT_ADDR, s->client_addr,
				   error_r) < 0 ||
	    (s->client_port[0] != '\0' &&
	     queue_writer_set_field(qw, QUEUE_FIELD_CLIENT_PORT, s->client_port,
				    error_r) < 0) ||
	    (s->helo_name != NULL &&
	     queue_writer_set_field(qw, QUEUE_FIELD_HELO, s->helo_name,
				    error_r) < 0) ||
	    queue_writer_set_field(qw, QUEUE_FIELD_PROTOCOL, data_protocol(s),
				   error_r) < 0 ||
	    (s->auth_user != NULL &&
	     (queue_writer_set_field(qw, QUEUE_FIELD_SASL_METHOD,
				     s->auth_method, error_r) < 0 ||
	      queue_writer_set_field(qw, QUEUE_FIELD_SASL_USER, s->auth_user,
				     error_r) < 0)) ||
	    (s->envid != NULL &&
	     queue_writer_set_field(qw, QUEUE_FIELD_ENVID, s->envid, error_r) <
		 0) ||
	    (s->ret != QUEUE_RET_NONE &&
	     queue_writer_set_ret(qw, s->ret, error_r) < 0) ||
	    (s->msg_flags != 0 &&
	     queue_writer_set_msg_flags(qw, s->msg_flags, error_r) < 0) ||
	    (s->tls_active && data_set_tls(s, error_r) < 0))
		return -1;
	for (size_t i = 0; i < s->rcpt_count; i++)
		if (queue_writer_add_rcpt(qw, s->rcpts[i].address,
					  s->rcpts[i].orcpt, s->rcpts[i].notify,
					  error_r) < 0)
			return -1;
	return 1;
}

/* Creates the queue file for the transaction. Returns 1, or -1 (logged;
 * the caller answers 451 4.3.0). */
static int data_begin(struct session *s)
{
	struct queue_writer_settings set = {.pool = s->cfg->queue_pool};
	const char *err;

	if (queue_writer_begin(s->cfg->queue, &set, &s->qw, &err) < 0) {
		msg_warn("queue file create failed: %s", err);
		return -1;
	}
	msg_set_queue_id(queue_writer_id(s->qw));
	if (s->auth_user != NULL)
		msg_info("client=%s[%s], sasl_method=%s, sasl_username=%s",
			 s->client_name, s->client_addr, s->auth_method,
			 s->auth_user);
	else
		msg_info("client=%s[%s]", s->client_name, s->client_addr);
	if (data_envelope(s, &err) < 0) {
		msg_warn("queue file envelope: %s", err);
		queue_writer_abort(&s->qw);
		msg_set_queue_id(NULL);
		return -1;
	}
	smtpd_data_init(&s->data, s->cfg->message_size_limit);
	s->data.bare_lf_ok = s->bare_lf_ok;
	str_clear(&s->content);
	smtpd_received_header(s, queue_writer_id(s->qw), &s->content);
	return 1;
}

/* Hands buffered content to the writer (dropped once the message is
 * refused or the writer failed). */
static void data_flush(struct session *s)
{
	const char *err;
	int r;

	if (s->qw != NULL && s->data.flags == 0 && !s->write_failed &&
	    s->content.len > 0) {
		r = queue_writer_write(s->qw, s->content.data, s->content.len,
				       &err);
		if (r < 0) {
			msg_warn("queue file write: %s", err);
			s->write_failed = true;
		} else if (r == 0) {
			s->data.flags |= DATA_F_TOO_BIG;
		}
	}
	str_clear(&s->content);
}

/* The end of the content: refuse, fail or commit, then reset. */
static void data_finish(struct session *s)
{
	const char *reply;

	data_flush(s);
	reply = smtpd_data_error_reply(s->data.flags);
	if (reply != NULL) {
		msg_info("reject: %s from %s[%s]: %s; from=<%s>",
			 s->state == SMTPD_DATA ? "DATA" : "BDAT",
			 s->client_name, s->client_addr, reply, s->sender);
		smtpd_reply_error(s, "%s", reply);
	} else if (s->write_failed) {
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
	} else {
		smtpd_commit_start(s);
	}
	smtpd_transaction_reset(s);
	smtpd_enter_state(s, SMTPD_IDLE);
}

/* smtpd_data_restrictions are not evaluated yet: a site that sets them
 * gets a temporary refusal, never mail that skipped its checks. */
static bool data_restrictions_unsupported(struct session *s)
{
	if (conf_get_list(s->cfg->conf, "smtpd_data_restrictions")[0] == NULL)
		return false;
	msg_warn("smtpd_data_restrictions is not supported yet; answering "
		 "451 4.3.5");
	smtpd_reply_error(s, "451 4.3.5 Server configuration error");
	return true;
}

void smtpd_cmd_data(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (len > 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (data_restrictions_unsupported(s))
		return;
	if (data_begin(s) < 0) {
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		return;
	}
	smtpd_enter_state(s, SMTPD_DATA);
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

void smtpd_data_input(struct session *s, const struct iobuf_line *line,
		      bool too_long)
{
	if (too_long)
		smtpd_data_line_dropped(&s->data, line->eol);
	else if (smtpd_data_line(&s->data, line->data, line->len, line->eol,
				 &s->content) == 1) {
		data_finish(s);
		return;
	}
	if (s->data.flags & DATA_F_BARE_LF) {
		smtpd_bare_lf_close(s);
		return;
	}
	if (s->content.len >= SMTPD_WRITE_BLOCK)
		data_flush(s);
}

/* Fails the chunked transaction: this and every later chunk get reply. */
static void bdat_fail(struct session *s, const char *reply)
{
	queue_writer_abort(&s->qw);
	msg_set_queue_id(NULL);
	s->bdat_failed = true;
	if (s->bdat_error == NULL)
		s->bdat_error = mem_strdup(reply);
}

static void bdat_chunk_done(struct session *s)
{
	const char *reply;

	data_flush(s);
	if (!s->bdat_failed && s->bdat_last) {
		smtpd_data_chunk_end(&s->data);
		data_finish(s);
		return;
	}
	reply = smtpd_data_error_reply(s->data.flags);
	if (!s->bdat_failed && reply != NULL)
		bdat_fail(s, reply);
	else if (!s->bdat_failed && s->write_failed)
		bdat_fail(s, "451 4.3.0 Error: queue file write error");
	if (s->bdat_failed) {
		smtpd_reply_error(s, "%s", s->bdat_error);
		if (s->bdat_last) {
			smtpd_transaction_reset(s);
			smtpd_enter_state(s, SMTPD_IDLE);
		} else {
			smtpd_enter_state(s, SMTPD_CHUNKING);
		}
		return;
	}
	smtpd_enter_state(s, SMTPD_CHUNKING);
	smtpd_reply(s, "250 2.0.0 Ok: %llu bytes",
		    (unsigned long long)s->data.size);
}

void smtpd_cmd_bdat(struct session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;

	/* Without a valid count the chunk's bytes cannot be told from the
	 * next command, so the session ends. */
	if (smtpd_parse_bdat(arg, len, &size, &last) <= 0) {
		msg_info("bad BDAT from %s[%s]", s->client_name,
			 s->client_addr);
		smtpd_close_after(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		return;
	}
	s->bdat_last = last;
	s->bdat_left = size;
	if (s->state == SMTPD_RCPT &&
	    conf_get_list(s->cfg->conf, "smtpd_data_restrictions")[0] != NULL)
		bdat_fail(s, "451 4.3.5 Server configuration error");
	else if (s->state == SMTPD_RCPT && data_begin(s) < 0)
		bdat_fail(s, "451 4.3.0 Error: queue file write error");
	if (s->bdat_left == 0) {
		bdat_chunk_done(s);
		return;
	}
	smtpd_enter_state(s, SMTPD_BDAT);
}

void smtpd_bdat_input(struct session *s, const void *data, size_t len)
{
	if (!s->bdat_failed)
		smtpd_data_chunk(&s->data, data, len, &s->content);
	if (s->data.flags & DATA_F_BARE_LF) {
		smtpd_bare_lf_close(s);
		return;
	}
	s->bdat_left -= len;
	if (s->content.len >= SMTPD_WRITE_BLOCK)
		data_flush(s);
	if (s->bdat_left == 0)
		bdat_chunk_done(s);
}
