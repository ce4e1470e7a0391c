/* session.c: one POP3 connection: the input loop that hands command lines
 * to commands.c, the output side with its back-pressure, long replies
 * (jobs) sent in pieces while the client reads, the inactivity timer
 * (RFC 1939 3), and
 * the STLS / port 995 handshake. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "pop3d.h"
#include "sock.h"

/* Grace for the last output of a closing session. */
#define POP3D_CLOSE_GRACE_MS 10000
/* Lines one session handles per round of the event loop before the
 * others get a turn. */
#define POP3D_ROUND_LINES 32

static void session_run(struct session *s);

static void session_deferred(void *ctx)
{
	session_run(ctx);
}

static void session_end(struct session *s)
{
	struct server *srv = s->srv;
	unsigned ev;
	const char *err;

	event_defer_cancel(server_loop(srv), session_deferred, s);
	if (s->job_running && s->job.free != NULL)
		s->job.free(s->job.ctx);
	pop3d_login_abort(s);
	if (s->user != NULL)
		msg_info("disconnect from %s user=%s, retr=%llu/%llu",
			 s->client_addr, s->user,
			 (unsigned long long)s->retr_count,
			 (unsigned long long)s->retr_bytes);
	else
		msg_info("disconnect from %s", s->client_addr);
	pop3d_maildrop_close(s);
	event_io_remove(&s->io);
	event_timer_remove(&s->timer);
	if (s->tls_active)
		(void)tls_conn_shutdown(s->tls, &ev, &err);
	iobuf_free(&s->buf);
	tls_conn_free(&s->tls);
	close(s->fd);
	mem_free(s->user);
	mem_free(s->user_arg);
	str_deinit(&s->scratch);
	mem_free(s);
	server_client_done(srv);
}

void pop3d_write(struct session *s, const void *data, size_t len)
{
	if (iobuf_write(s->buf, data, len) < 0) {
		/* Only a client that pipelines without reading gets here. */
		msg_warn("%s: output limit reached; closing", s->client_addr);
		s->input = POP3D_IN_CLOSING;
	}
}

void pop3d_printf(struct session *s, const char *fmt, ...)
{
	va_list ap;

	str_clear(&s->scratch);
	va_start(ap, fmt);
	str_vprintf(&s->scratch, fmt, ap);
	va_end(ap);
	str_append(&s->scratch, "\r\n", 2);
	pop3d_write(s, s->scratch.data, s->scratch.len);
}

void pop3d_err(struct session *s, bool bad, const char *fmt, ...)
{
	va_list ap;

	str_clear(&s->scratch);
	str_append_cstr(&s->scratch, "-ERR ");
	va_start(ap, fmt);
	str_vprintf(&s->scratch, fmt, ap);
	va_end(ap);
	str_append(&s->scratch, "\r\n", 2);
	pop3d_write(s, s->scratch.data, s->scratch.len);
	if (bad && ++s->bad_commands >= POP3D_MAX_BAD_COMMANDS) {
		msg_info("too many errors from %s", s->client_addr);
		pop3d_close_after(s, "-ERR Too many invalid commands");
	}
}

void pop3d_close_after(struct session *s, const char *text)
{
	if (s->input == POP3D_IN_CLOSING)
		return;
	if (text != NULL)
		pop3d_printf(s, "%s", text);
	s->input = POP3D_IN_CLOSING;
	event_timer_restart(s->timer, POP3D_CLOSE_GRACE_MS);
}

void pop3d_set_input(struct session *s, enum pop3d_input in)
{
	if (s->input != POP3D_IN_CLOSING)
		s->input = in;
}

void pop3d_resume(struct session *s)
{
	pop3d_set_input(s, POP3D_IN_COMMAND);
	event_defer(server_loop(s->srv), session_deferred, s);
}

void pop3d_start_tls_after_reply(struct session *s)
{
	pop3d_set_input(s, POP3D_IN_TLS_REPLY);
}

void pop3d_job_start(struct session *s, const struct pop3d_job *job)
{
	s->job = *job;
	s->job_running = true;
	pop3d_set_input(s, POP3D_IN_WAIT);
}

bool pop3d_output_full(const struct session *s)
{
	return iobuf_output_pending(s->buf) >= POP3D_OUTPUT_PAUSE;
}

/* Runs the job while the output has room. */
static void session_job(struct session *s)
{
	while (s->job_running && !pop3d_output_full(s) &&
	       s->input != POP3D_IN_CLOSING) {
		bool done = s->job.run(s, s->job.ctx);

		/* A slow reader of a large message is not idle. */
		event_timer_restart(s->timer, s->cfg->timeout_ms);
		if (!done)
			continue;
		s->job_running = false;
		if (s->job.free != NULL)
			s->job.free(s->job.ctx);
		memset(&s->job, 0, sizeof(s->job));
		pop3d_set_input(s, POP3D_IN_COMMAND);
	}
}

static void session_timeout(struct event_timer *timer, void *ctx)
{
	struct session *s = ctx;

	(void)timer;
	/* A reply cut short by the timer must not be followed by more text:
	 * a client that stopped reading a message just loses the line. */
	if (s->input == POP3D_IN_CLOSING ||
	    s->input == POP3D_IN_TLS_HANDSHAKE || s->job_running) {
		msg_info("timeout from %s", s->client_addr);
		session_end(s);
		return;
	}
	/* RFC 1939 3: an autologout does not enter the UPDATE state. */
	msg_info("timeout from %s", s->client_addr);
	pop3d_close_after(s, "-ERR Autologout; idle for too long");
	session_run(s);
}

static bool session_can_read(const struct session *s)
{
	return s->input == POP3D_IN_COMMAND || s->input == POP3D_IN_SASL;
}

/* Reads and handles one line. */
static enum iobuf_status session_read_one(struct session *s)
{
	struct iobuf_line line;
	enum iobuf_status st = iobuf_read_line(s->buf, &line);

	if (st == IOBUF_TOO_LONG) {
		if (s->input == POP3D_IN_SASL)
			pop3d_set_input(s, POP3D_IN_COMMAND);
		pop3d_err(s, true, "Line too long");
		return IOBUF_OK;
	}
	if (st != IOBUF_OK)
		return st;
	if (s->input == POP3D_IN_SASL)
		pop3d_sasl_input(s, line.data, line.len);
	else
		pop3d_command(s, line.data, line.len);
	return IOBUF_OK;
}

/* Handles input until more is needed; false when the session ended. */
static bool session_input(struct session *s)
{
	enum iobuf_status st;

	session_job(s);
	for (unsigned n = 0; session_can_read(s) && !pop3d_output_full(s);
	     n++) {
		if (n == POP3D_ROUND_LINES) {
			/* Other sessions of the process get their turn; what
			 * this one wrote so far goes out now. */
			(void)iobuf_flush(s->buf);
			event_defer(server_loop(s->srv), session_deferred, s);
			break;
		}
		st = session_read_one(s);
		if (st == IOBUF_OK) {
			event_timer_restart(s->timer, s->cfg->timeout_ms);
			session_job(s);
			continue;
		}
		if (st == IOBUF_NEED_MORE)
			break;
		if (st == IOBUF_ERROR)
			msg_info("lost connection from %s: %s", s->client_addr,
				 iobuf_error(s->buf));
		else
			msg_info("connection closed by %s", s->client_addr);
		session_end(s);
		return false;
	}
	return true;
}

static void session_handshake(struct session *s);

/* The +OK to STLS is out: the handshake starts. */
static void session_tls_begin(struct session *s)
{
	const char *err;

	s->tls = tls_conn_server(s->cfg->tls, s->fd, &err);
	if (s->tls == NULL) {
		msg_warn("%s: %s", s->client_addr, err);
		session_end(s);
		return;
	}
	s->input = POP3D_IN_TLS_HANDSHAKE;
	session_handshake(s);
}

static void session_output(struct session *s)
{
	const char *err;
	unsigned events = 0;
	int r = iobuf_flush(s->buf);

	if (r < 0 || (r == 1 && s->input == POP3D_IN_CLOSING)) {
		session_end(s);
		return;
	}
	if (r == 1 && s->input == POP3D_IN_TLS_REPLY) {
		session_tls_begin(s);
		return;
	}
	if (s->job_running && !pop3d_output_full(s))
		event_defer(server_loop(s->srv), session_deferred, s);
	if (session_can_read(s) && !pop3d_output_full(s))
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

static void session_greet(struct session *s)
{
	pop3d_printf(s, "+OK %s", s->cfg->greeting);
}

static void session_handshake(struct session *s)
{
	const char *err;
	int r = tls_conn_handshake_io(s->tls, s->io, s->buf, &err);

	if (r < 0) {
		msg_info("%s: %s", s->client_addr, err);
		session_end(s);
		return;
	}
	if (r == 0)
		return;
	s->tls_active = true;
	msg_info("%s: TLS connection established: %s", s->client_addr,
		 tls_conn_summary(s->tls));
	s->input = POP3D_IN_COMMAND;
	if (s->cfg->tls_wrapper)
		session_greet(s);
	session_run(s);
}

static void session_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct session *s = ctx;

	(void)io;
	(void)fd;
	(void)events;
	if (s->input == POP3D_IN_TLS_HANDSHAKE)
		session_handshake(s);
	else
		session_run(s);
}

static void session_peer(struct session *s)
{
	(void)sock_peer(s->fd, s->client_addr, sizeof(s->client_addr), NULL, 0);
}

void pop3d_session_start(struct server *srv, const struct pop3d_config *cfg,
			 int fd)
{
	struct session *s = mem_alloc(sizeof(*s));
	struct iobuf_limits limits = {.max_line = cfg->max_line,
				      .max_output = POP3D_OUTPUT_MAX};
	const char *err;

	s->srv = srv;
	s->cfg = cfg;
	s->fd = fd;
	s->lock_fd = -1;
	str_init(&s->scratch, 256);
	session_peer(s);
	msg_info("connect from %s", s->client_addr);
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
	if (cfg->tls_wrapper) {
		s->input = POP3D_IN_TLS_REPLY;
		session_output(s);
		return;
	}
	session_greet(s);
}
