/* session.c: one SMTP session: its state, its connection and the loop that
 * turns input into commands, DATA lines or BDAT bytes; timeouts, the error
 * counter and the STARTTLS / wrapper-mode handshake. The commands live in
 * commands.c, cmd_mail.c and cmd_data.c. Many sessions share the process
 * (SERVER_MULTI): every wait is a timer or an event, never a sleep or a
 * blocking call, and each callback first makes its session the one the
 * log lines speak for (smtpd_session_enter()). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "sock.h"

/* Grace for the last reply of a closing session. */
#define SMTPD_CLOSE_GRACE_MS 10000
/* Raw bytes taken per BDAT read. */
#define SMTPD_BDAT_READ 65536

static const char *const state_names[SMTPD_STATE_COUNT] = {
    [SMTPD_INIT] = "INIT",
    [SMTPD_IDLE] = "IDLE",
    [SMTPD_MAIL] = "MAIL",
    [SMTPD_RCPT] = "RCPT",
    [SMTPD_DATA] = "DATA",
    [SMTPD_BDAT] = "BDAT",
    [SMTPD_CHUNKING] = "CHUNKING",
    [SMTPD_TLS_REPLY] = "TLS_REPLY",
    [SMTPD_TLS_HANDSHAKE] = "TLS_HANDSHAKE",
    [SMTPD_CLOSING] = "CLOSING",
    [SMTPD_AUTH] = "AUTH",
};

static void session_run(struct session *s);

void smtpd_session_enter(struct session *s)
{
	msg_set_queue_id(s->qw != NULL ? queue_writer_id(s->qw) : NULL);
}

void smtpd_session_resume(struct session *s)
{
	session_run(s);
}

static void session_deferred(void *ctx)
{
	smtpd_session_enter(ctx);
	session_run(ctx);
}

const char *smtpd_state_name(enum smtpd_state st)
{
	return st < SMTPD_STATE_COUNT ? state_names[st] : "?";
}

void smtpd_enter_state(struct session *s, enum smtpd_state st)
{
	/* A closing session only flushes its last reply. */
	if (s->state == SMTPD_CLOSING)
		return;
	if (s->state != st)
		msg_debug("%s[%s]: state %s -> %s", s->client_name,
			  s->client_addr, smtpd_state_name(s->state),
			  smtpd_state_name(st));
	s->state = st;
}

void smtpd_transaction_reset(struct session *s)
{
	queue_writer_abort(&s->qw);
	mem_free(s->sender);
	mem_free(s->envid);
	for (size_t i = 0; i < s->rcpt_count; i++) {
		mem_free(s->rcpts[i].address);
		mem_free(s->rcpts[i].orcpt);
	}
	s->rcpt_count = 0;
	s->msg_flags = 0;
	s->ret = QUEUE_RET_NONE;
	s->declared_size = 0;
	s->bdat_left = 0;
	s->bdat_last = false;
	s->bdat_failed = false;
	mem_free(s->bdat_error);
	s->write_failed = false;
	str_clear(&s->content);
	msg_set_queue_id(NULL);
}

static void session_end(struct session *s)
{
	struct server *srv = s->srv;
	unsigned ev;
	const char *err;

	event_defer_cancel(server_loop(srv), session_deferred, s);
	smtpd_commit_detach(s);
	smtpd_peername_detach(s);
	auth_async_cancel(&s->auth_req);
	mem_free(s->rcpt_retry);
	smtpd_auth_known_clear(s);
	smtpd_transaction_reset(s);
	smtpd_auth_reset(s);
	msg_info("disconnect from %s[%s]", s->client_name, s->client_addr);
	event_io_remove(&s->io);
	event_timer_remove(&s->timer);
	event_timer_remove(&s->pause_timer);
	if (s->tls_active)
		(void)tls_conn_shutdown(s->tls, &ev, &err);
	iobuf_free(&s->buf);
	tls_conn_free(&s->tls);
	close(s->fd);
	conn_limit_release(&s->conn_slot);
	mem_free(s->rcpts);
	mem_free(s->helo_name);
	str_deinit(&s->content);
	mem_free(s);
	server_client_done(srv);
}

void smtpd_close_after(struct session *s, const char *reply)
{
	smtpd_reply(s, "%s", reply);
	smtpd_transaction_reset(s);
	smtpd_enter_state(s, SMTPD_CLOSING);
	event_timer_restart(s->timer, SMTPD_CLOSE_GRACE_MS);
}

void smtpd_bare_lf_close(struct session *s)
{
	struct str r;

	msg_info("bare <LF> received after %s from %s[%s]",
		 smtpd_state_name(s->state), s->client_name, s->client_addr);
	str_init(&r, 128);
	str_printf(&r, "521 5.5.2 %s Error: bare <LF> received",
		   s->cfg->myhostname);
	smtpd_close_after(s, r.data);
	str_deinit(&r);
}

static void session_unpause(struct event_timer *timer, void *ctx)
{
	struct session *s = ctx;

	(void)timer;
	smtpd_session_enter(s);
	s->paused = false;
	session_run(s);
}

bool smtpd_count_error(struct session *s)
{
	struct str r;

	s->errors++;
	if (s->errors >= s->cfg->hard_error_limit) {
		msg_info("too many errors after %s from %s[%s]",
			 smtpd_state_name(s->state), s->client_name,
			 s->client_addr);
		str_init(&r, 128);
		str_printf(&r, "421 4.7.0 %s Error: too many errors",
			   s->cfg->myhostname);
		smtpd_close_after(s, r.data);
		str_deinit(&r);
		return true;
	}
	if (s->errors > s->cfg->soft_error_limit &&
	    s->cfg->error_sleep_ms > 0) {
		s->paused = true;
		if (s->pause_timer == NULL)
			s->pause_timer = event_timer_add(
			    server_loop(s->srv), s->cfg->error_sleep_ms, false,
			    session_unpause, s);
		else
			event_timer_restart(s->pause_timer,
					    s->cfg->error_sleep_ms);
	}
	return false;
}

static void session_timeout(struct event_timer *timer, void *ctx)
{
	struct session *s = ctx;
	struct str r;

	(void)timer;
	smtpd_session_enter(s);
	if (s->state == SMTPD_CLOSING) {
		session_end(s);
		return;
	}
	/* A commit's fsyncs are not cut short: its reply is the next one. */
	if (smtpd_commit_pending(s)) {
		event_timer_restart(s->timer, s->cfg->timeout_ms);
		return;
	}
	/* The session timeout also bounds a wait for the auth daemon. */
	auth_async_cancel(&s->auth_req);
	mem_free(s->rcpt_retry);
	msg_info("timeout after %s from %s[%s]", smtpd_state_name(s->state),
		 s->client_name, s->client_addr);
	if (s->state == SMTPD_TLS_HANDSHAKE) {
		session_end(s);
		return;
	}
	str_init(&r, 128);
	str_printf(&r, "421 4.4.2 %s Error: timeout exceeded",
		   s->cfg->myhostname);
	smtpd_close_after(s, r.data);
	str_deinit(&r);
	session_run(s);
}

/* One complete input line outside DATA. */
static void session_line(struct session *s, const struct iobuf_line *line)
{
	if (s->state == SMTPD_AUTH) {
		smtpd_auth_input(s, line->data, line->len, false);
		return;
	}
	if (line->len > s->cfg->cmd_max) {
		smtpd_reply_error(s, "500 5.5.2 Error: line too long");
		return;
	}
	if (memchr(line->data, '\0', line->len) != NULL) {
		smtpd_reply_error(s, "500 5.5.2 Error: NUL byte in command");
		return;
	}
	if (line->eol != IOBUF_EOL_CRLF && !s->bare_lf_ok) {
		smtpd_bare_lf_close(s);
		return;
	}
	smtpd_command(s, line->data, line->len);
}

static bool session_can_read(const struct session *s)
{
	return !s->paused && s->auth_req == NULL && s->commit == NULL &&
	       s->peername == NULL && s->state != SMTPD_TLS_REPLY &&
	       s->state != SMTPD_TLS_HANDSHAKE && s->state != SMTPD_CLOSING;
}

/* Reads one unit of input; returns the iobuf status. */
static enum iobuf_status session_read_one(struct session *s)
{
	struct iobuf_line line;
	enum iobuf_status st;
	const void *p;
	size_t n;

	if (s->state == SMTPD_BDAT) {
		n = s->bdat_left < SMTPD_BDAT_READ ? (size_t)s->bdat_left
						   : SMTPD_BDAT_READ;
		st = iobuf_read_data(s->buf, n, &p, &n);
		if (st == IOBUF_OK)
			smtpd_bdat_input(s, p, n);
		return st;
	}
	st = iobuf_read_line(s->buf, &line);
	if (st != IOBUF_OK && st != IOBUF_TOO_LONG)
		return st;
	if (s->state == SMTPD_DATA)
		smtpd_data_input(s, &line, st == IOBUF_TOO_LONG);
	else if (st == IOBUF_TOO_LONG && s->state == SMTPD_AUTH)
		smtpd_auth_input(s, NULL, 0, true);
	else if (st == IOBUF_TOO_LONG)
		smtpd_reply_error(s, "500 5.5.2 Error: line too long");
	else
		session_line(s, &line);
	return IOBUF_OK;
}

/* Handles input until more is needed; returns false when the session has
 * ended. */
static bool session_input(struct session *s)
{
	enum iobuf_status st;

	while (session_can_read(s) && !iobuf_output_backed_up(s->buf)) {
		st = session_read_one(s);
		if (st == IOBUF_OK) {
			event_timer_restart(s->timer, s->cfg->timeout_ms);
			continue;
		}
		if (st == IOBUF_NEED_MORE)
			break;
		if (st == IOBUF_ERROR)
			msg_info("lost connection after %s from %s[%s]: %s",
				 smtpd_state_name(s->state), s->client_name,
				 s->client_addr, iobuf_error(s->buf));
		else
			msg_info("lost connection after %s from %s[%s]",
				 smtpd_state_name(s->state), s->client_name,
				 s->client_addr);
		session_end(s);
		return false;
	}
	return true;
}

static void session_handshake(struct session *s);

static void session_output(struct session *s)
{
	const char *err;
	unsigned events = 0;
	int r = iobuf_flush(s->buf);

	if (r < 0 || (r == 1 && s->state == SMTPD_CLOSING)) {
		session_end(s);
		return;
	}
	if (r == 1 && s->state == SMTPD_TLS_REPLY) {
		s->tls = tls_conn_server(s->cfg->tls, s->fd, &err);
		if (s->tls == NULL) {
			msg_warn("%s[%s]: %s", s->client_name, s->client_addr,
				 err);
			session_end(s);
			return;
		}
		smtpd_enter_state(s, SMTPD_TLS_HANDSHAKE);
		session_handshake(s);
		return;
	}
	if (session_can_read(s) && !iobuf_output_backed_up(s->buf))
		events |= EVENT_READ;
	if (r == 0)
		events |= EVENT_WRITE;
	if (s->tls_active) {
		events |= tls_conn_events(s->tls);
		if ((events & EVENT_READ) && tls_conn_pending(s->tls))
			event_defer(server_loop(s->srv), session_deferred, s);
	}
	if (event_io_modify(s->io, events, &err) < 0) {
		msg_warn("%s", err);
		session_end(s);
	}
}

static void session_run(struct session *s)
{
	if (session_input(s))
		session_output(s);
}

/* smtpd_client_connection_count_limit: takes a session slot for the
 * client, or ends the session with 421. Clients in
 * smtpd_client_event_limit_exceptions are not counted. */
static bool session_admit(struct session *s)
{
	const struct smtpd_config *cfg = s->cfg;
	struct str key;
	const char *err;
	int r;

	if (cfg->conn_limit == 0 || cfg->conn_dir_fd < 0 ||
	    cidr_list_match(cfg->limit_exceptions, s->client_addr))
		return true;
	str_init(&key, 128);
	str_printf(&key, "%s %s", server_service(s->srv), s->client_addr);
	r = conn_limit_take(cfg->conn_dir_fd, key.data, cfg->conn_limit,
			    &s->conn_slot, &err);
	if (r < 0)
		msg_warn("connection count limit not enforced for %s[%s]: %s",
			 s->client_name, s->client_addr, err);
	if (r == 0) {
		msg_warn("Connection concurrency limit exceeded: %u from "
			 "%s[%s] for service %s",
			 cfg->conn_limit + 1, s->client_name, s->client_addr,
			 server_service(s->srv));
		str_clear(&key);
		str_printf(&key,
			   "421 4.7.0 %s Error: too many connections "
			   "from %s",
			   cfg->myhostname, s->client_addr);
		smtpd_close_after(s, key.data);
	}
	str_deinit(&key);
	return r != 0;
}

static void session_greet(struct session *s)
{
	if (session_admit(s))
		smtpd_reply(s, "220 %s", s->cfg->banner);
}

static void session_handshake(struct session *s)
{
	const char *err;
	int r = tls_conn_handshake_io(s->tls, s->io, s->buf, &err);

	if (r < 0) {
		msg_info("%s[%s]: %s", s->client_name, s->client_addr, err);
		session_end(s);
		return;
	}
	if (r == 0)
		return;
	s->tls_active = true;
	msg_info("%s[%s]: TLS connection established: %s", s->client_name,
		 s->client_addr, tls_conn_summary(s->tls));
	mem_free(s->helo_name);
	s->esmtp = false;
	smtpd_auth_reset(s);
	smtpd_enter_state(s, SMTPD_INIT);
	if (s->cfg->tls_wrapper)
		session_greet(s);
	session_run(s);
}

void smtpd_start_tls_after_reply(struct session *s)
{
	smtpd_transaction_reset(s);
	smtpd_enter_state(s, SMTPD_TLS_REPLY);
}

static void session_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct session *s = ctx;

	(void)io;
	(void)fd;
	(void)events;
	smtpd_session_enter(s);
	if (s->state == SMTPD_TLS_HANDSHAKE)
		session_handshake(s);
	else
		session_run(s);
}

static void session_peer(struct session *s)
{
	memcpy(s->client_name, "unknown", sizeof("unknown"));
	memcpy(s->reverse_name, "unknown", sizeof("unknown"));
	(void)sock_peer(s->fd, s->client_addr, sizeof(s->client_addr),
			s->client_port, sizeof(s->client_port));
}

void smtpd_session_start(struct server *srv, const struct smtpd_config *cfg,
			 int fd)
{
	struct session *s = mem_alloc(sizeof(*s));
	struct iobuf_limits limits = {.max_line = SMTPD_DATA_LINE_MAX,
				      .max_output = IOBUF_DEFAULT_MAX_OUTPUT};
	const char *err;

	s->srv = srv;
	s->cfg = cfg;
	s->fd = fd;
	str_init(&s->content, 0);
	session_peer(s);
	s->bare_lf_ok =
	    !cfg->forbid_bare_lf ||
	    cidr_list_match(cfg->bare_lf_exclusions, s->client_addr);
	s->buf = iobuf_new(fd, &limits);
	s->timer = event_timer_add(server_loop(srv), cfg->timeout_ms, false,
				   session_timeout, s);
	s->io = event_io_add(server_loop(srv), fd, EVENT_WRITE, session_io, s,
			     &err);
	if (s->io == NULL) {
		msg_warn("%s", err);
		session_end(s);
		return;
	}
	smtpd_peername_start(s);
}

void smtpd_session_begin(struct session *s)
{
	msg_info("connect from %s[%s]", s->client_name, s->client_addr);
	if (s->cfg->tls_wrapper) {
		smtpd_enter_state(s, SMTPD_TLS_REPLY);
		session_output(s);
		return;
	}
	session_greet(s);
	session_output(s);
}
