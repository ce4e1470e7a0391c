/* session.c: one IMAP connection: the input loop that turns lines and
 * literals into whole commands, the output side with its back-pressure,
 * long commands run as jobs while the client reads, timeouts, and the
 * STARTTLS / port 993 handshake. Commands live in the other files. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "imapd.h"
#include "sock.h"

/* Grace for the last output of a closing session. */
#define IMAPD_CLOSE_GRACE_MS 10000
/* Raw bytes taken per literal read. */
#define IMAPD_LITERAL_READ 65536
/* Input units (lines, literal pieces) one session handles per round of
 * the event loop before the others get a turn. */
#define IMAPD_ROUND_UNITS 32
/* Longest command line without its literals. */
#define IMAPD_COMMAND_MAX (1024 * 1024)

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
	imapd_login_abort(s);
	imapd_unselect(s);
	msg_info("disconnect from %s%s%s", s->client_addr,
		 s->user != NULL ? " user=" : "",
		 s->user != NULL ? s->user : "");
	event_io_remove(&s->io);
	event_timer_remove(&s->timer);
	if (s->tls_active)
		(void)tls_conn_shutdown(s->tls, &ev, &err);
	iobuf_free(&s->buf);
	tls_conn_free(&s->tls);
	close(s->fd);
	imap_reader_free(&s->reader);
	imap_parser_free(&s->parser);
	imapd_store_put(s);
	mem_free(s->user);
	mem_free(s->tag);
	str_deinit(&s->scratch);
	mem_free(s);
	server_client_done(srv);
}

void imapd_write(struct session *s, const void *data, size_t len)
{
	if (iobuf_write(s->buf, data, len) < 0) {
		/* Only a job that ignored imapd_output_full() gets here. */
		msg_warn("%s: output limit reached; closing", s->client_addr);
		s->input = IMAPD_IN_CLOSING;
	}
}

void imapd_printf(struct session *s, const char *fmt, ...)
{
	va_list ap;

	str_clear(&s->scratch);
	va_start(ap, fmt);
	str_vprintf(&s->scratch, fmt, ap);
	va_end(ap);
	str_append(&s->scratch, "\r\n", 2);
	imapd_write(s, s->scratch.data, s->scratch.len);
}

void imapd_tagged(struct session *s, const char *status, const char *fmt, ...)
{
	va_list ap;

	str_clear(&s->scratch);
	str_printf(&s->scratch, "%s %s ", s->tag != NULL ? s->tag : "*",
		   status);
	va_start(ap, fmt);
	str_vprintf(&s->scratch, fmt, ap);
	va_end(ap);
	str_append(&s->scratch, "\r\n", 2);
	imapd_write(s, s->scratch.data, s->scratch.len);
	if (strcmp(status, "BAD") == 0 &&
	    ++s->bad_commands >= IMAPD_MAX_BAD_COMMANDS) {
		msg_info("too many errors from %s", s->client_addr);
		imapd_close_after(s, "Too many invalid commands");
	}
}

void imapd_continue(struct session *s, const char *text)
{
	imapd_printf(s, "+ %s", text);
}

bool imapd_output_full(const struct session *s)
{
	return iobuf_output_pending(s->buf) >= IMAPD_OUTPUT_PAUSE;
}

void imapd_close_after(struct session *s, const char *text)
{
	if (s->input == IMAPD_IN_CLOSING)
		return;
	imapd_printf(s, "* BYE %s", text);
	s->input = IMAPD_IN_CLOSING;
	event_timer_restart(s->timer, IMAPD_CLOSE_GRACE_MS);
}

void imapd_set_input(struct session *s, enum imapd_input in)
{
	if (s->input != IMAPD_IN_CLOSING)
		s->input = in;
}

void imapd_job_start(struct session *s, const struct imapd_job *job)
{
	s->job = *job;
	s->job_running = true;
	imapd_set_input(s, IMAPD_IN_WAIT);
}

void imapd_resume(struct session *s)
{
	imapd_set_input(s, IMAPD_IN_COMMAND);
	event_defer(server_loop(s->srv), session_deferred, s);
}

void imapd_start_tls_after_reply(struct session *s)
{
	imapd_set_input(s, IMAPD_IN_TLS_REPLY);
}

static unsigned session_timeout_ms(const struct session *s)
{
	return s->state == IMAPD_NOTAUTH ? s->cfg->login_timeout_ms
					 : s->cfg->idle_timeout_ms;
}

static void session_timeout(struct event_timer *timer, void *ctx)
{
	struct session *s = ctx;

	(void)timer;
	if (s->input == IMAPD_IN_CLOSING ||
	    s->input == IMAPD_IN_TLS_HANDSHAKE) {
		session_end(s);
		return;
	}
	msg_info("timeout from %s", s->client_addr);
	imapd_close_after(s, "Autologout; idle for too long");
	session_run(s);
}

/* A whole command has been read. */
static void session_command(struct session *s)
{
	struct imap_command cmd;
	const char *buf, *err;
	size_t len;

	buf = imap_reader_command(s->reader, &len);
	mem_free(s->tag);
	if (imap_parse_command(s->parser, buf, len, &cmd, &err) < 0) {
		s->tag = mem_strdup(cmd.tag != NULL ? cmd.tag : "*");
		imap_reader_reset(s->reader);
		imapd_tagged(s, "BAD", "Error in IMAP command: %s", err);
		return;
	}
	s->tag = mem_strdup(cmd.tag);
	imapd_command(s, &cmd);
	imap_reader_reset(s->reader);
}

static void session_command_line(struct session *s, const char *line,
				 size_t len)
{
	uint64_t need = 0;
	bool sync = false;
	const char *err = "";

	switch (imap_reader_line(s->reader, line, len, &need, &sync, &err)) {
	case IMAP_READ_COMPLETE:
		session_command(s);
		break;
	case IMAP_READ_LITERAL:
		if (sync)
			imapd_continue(s, "OK");
		s->input = IMAPD_IN_LITERAL;
		if (need == 0)
			s->input = IMAPD_IN_COMMAND;
		break;
	case IMAP_READ_TOO_BIG:
		mem_free(s->tag);
		s->tag = mem_strdup(imap_reader_tag(s->reader));
		imap_reader_reset(s->reader);
		if (sync) {
			imapd_tagged(s, "NO", "[TOOBIG] %s", err);
			break;
		}
		imapd_close_after(s, "Literal too big");
		break;
	}
}

static void session_line(struct session *s, const struct iobuf_line *line)
{
	switch (s->input) {
	case IMAPD_IN_IDLE:
		imapd_idle_input(s, line->data, line->len);
		break;
	case IMAPD_IN_SASL:
		imapd_sasl_input(s, line->data, line->len);
		break;
	default:
		session_command_line(s, line->data, line->len);
		break;
	}
}

static bool session_can_read(const struct session *s)
{
	return s->input == IMAPD_IN_COMMAND || s->input == IMAPD_IN_LITERAL ||
	       s->input == IMAPD_IN_DISCARD || s->input == IMAPD_IN_IDLE ||
	       s->input == IMAPD_IN_SASL;
}

static enum iobuf_status session_read_literal(struct session *s)
{
	uint64_t left = imap_reader_literal_left(s->reader);
	size_t n = left < IMAPD_LITERAL_READ ? (size_t)left
					     : IMAPD_LITERAL_READ;
	enum iobuf_status st;
	const void *p;

	if (n == 0) {
		s->input = IMAPD_IN_COMMAND;
		return IOBUF_OK;
	}
	st = iobuf_read_data(s->buf, n, &p, &n);
	if (st != IOBUF_OK)
		return st;
	imap_reader_literal(s->reader, p, n);
	if (imap_reader_literal_left(s->reader) == 0)
		s->input = IMAPD_IN_COMMAND;
	return IOBUF_OK;
}

/* Reads and handles one unit of input. */
static enum iobuf_status session_read_one(struct session *s)
{
	struct iobuf_line line;
	enum iobuf_status st;

	if (s->input == IMAPD_IN_LITERAL)
		return session_read_literal(s);
	st = iobuf_read_line(s->buf, &line);
	if (st == IOBUF_TOO_LONG) {
		mem_free(s->tag);
		s->tag = mem_strdup("*");
		imap_reader_reset(s->reader);
		if (s->input == IMAPD_IN_COMMAND)
			imapd_tagged(s, "BAD", "Command line too long");
		else
			imapd_close_after(s, "Line too long");
		return IOBUF_OK;
	}
	if (st == IOBUF_OK)
		session_line(s, &line);
	return st;
}

/* Runs the job while the output has room. */
static void session_job(struct session *s)
{
	while (s->job_running && !imapd_output_full(s) &&
	       s->input != IMAPD_IN_CLOSING) {
		if (!s->job.run(s, s->job.ctx))
			continue;
		s->job_running = false;
		if (s->job.free != NULL)
			s->job.free(s->job.ctx);
		memset(&s->job, 0, sizeof(s->job));
		imapd_set_input(s, IMAPD_IN_COMMAND);
	}
}

/* Handles input until more is needed; false when the session ended. */
static bool session_input(struct session *s)
{
	enum iobuf_status st;

	session_job(s);
	for (unsigned n = 0; session_can_read(s) && !imapd_output_full(s);
	     n++) {
		if (n == IMAPD_ROUND_UNITS) {
			/* Other sessions of the process get their turn; what
			 * this one wrote so far goes out now. */
			(void)iobuf_flush(s->buf);
			event_defer(server_loop(s->srv), session_deferred, s);
			break;
		}
		st = session_read_one(s);
		if (st == IOBUF_OK) {
			event_timer_restart(s->timer, session_timeout_ms(s));
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

static void session_output(struct session *s)
{
	const char *err;
	unsigned events = 0;
	int r = iobuf_flush(s->buf);

	if (r < 0 || (r == 1 && s->input == IMAPD_IN_CLOSING)) {
		session_end(s);
		return;
	}
	if (r == 1 && s->input == IMAPD_IN_TLS_REPLY) {
		s->tls = tls_conn_server(s->cfg->tls, s->fd, &err);
		if (s->tls == NULL) {
			msg_warn("%s: %s", s->client_addr, err);
			session_end(s);
			return;
		}
		s->input = IMAPD_IN_TLS_HANDSHAKE;
		session_handshake(s);
		return;
	}
	if (s->job_running && !imapd_output_full(s))
		event_defer(server_loop(s->srv), session_deferred, s);
	if (session_can_read(s) && !imapd_output_full(s))
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
	str_clear(&s->scratch);
	str_append_cstr(&s->scratch, "* OK [");
	imapd_capabilities(s, &s->scratch);
	str_append_cstr(&s->scratch, "] Postern IMAP ready\r\n");
	imapd_write(s, s->scratch.data, s->scratch.len);
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
	s->input = IMAPD_IN_COMMAND;
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
	if (s->input == IMAPD_IN_TLS_HANDSHAKE)
		session_handshake(s);
	else
		session_run(s);
}

void imapd_session_notify(struct session *s)
{
	/* Only IDLE reports at once; the output goes from the loop, so
	 * that no session ends inside the caller's iteration. */
	if (s->input != IMAPD_IN_IDLE || s->mb == NULL)
		return;
	imapd_sync(s, true);
	event_defer(server_loop(s->srv), session_deferred, s);
}

static void session_peer(struct session *s)
{
	(void)sock_peer(s->fd, s->client_addr, sizeof(s->client_addr), NULL, 0);
}

void imapd_session_start(struct server *srv, const struct imapd_config *cfg,
			 int fd)
{
	struct session *s = mem_alloc(sizeof(*s));
	struct iobuf_limits limits = {.max_line = cfg->max_line};
	const char *err;
	uint64_t out_max = cfg->literal_limit + cfg->literal_limit / 8 +
			   4 * (uint64_t)IMAPD_OUTPUT_PAUSE;

	/* Output holds at most a paused job's worth plus one message (a
	 * FETCH of one whole message is written in one piece). */
	limits.max_output = out_max > SIZE_MAX / 2 ? SIZE_MAX / 2
						   : (size_t)out_max;
	s->srv = srv;
	s->cfg = cfg;
	s->fd = fd;
	str_init(&s->scratch, 256);
	session_peer(s);
	msg_info("connect from %s", s->client_addr);
	s->buf = iobuf_new(fd, &limits);
	s->reader = imap_reader_new(IMAPD_COMMAND_MAX, cfg->literal_limit,
				    cfg->literal_limit + IMAPD_COMMAND_MAX);
	s->parser = imap_parser_new();
	s->timer = event_timer_add(server_loop(srv), cfg->login_timeout_ms,
				   false, session_timeout, s);
	s->io = event_io_add(server_loop(srv), fd, EVENT_WRITE, session_io, s,
			     &err);
	if (s->io == NULL) {
		msg_warn("%s", err);
		session_end(s);
		return;
	}
	if (cfg->tls_wrapper) {
		s->input = IMAPD_IN_TLS_REPLY;
		session_output(s);
		return;
	}
	session_greet(s);
}
