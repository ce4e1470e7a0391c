/* session.c: one LMTP session: its state, its connection and the loop
 * that turns input into commands, DATA lines or BDAT bytes; the timeout
 * and the orderly close. Replies are queued in the iobuf and written when
 * the socket takes them; while output is backed up (a client pipelining
 * without reading) no more input is handled. Commands live in commands.c,
 * the content in cmd_data.c. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "lmtpd.h"
#include "mem.h"
#include "msg.h"
#include "sock.h"

/* Grace for the last reply of a closing session. */
#define LMTPD_CLOSE_GRACE_MS 10000
/* Raw bytes taken per BDAT read. */
#define LMTPD_BDAT_READ 65536

static const char *const state_names[LMTPD_STATE_COUNT] = {
    [LMTPD_INIT] = "INIT",	   [LMTPD_IDLE] = "IDLE",
    [LMTPD_MAIL] = "MAIL",	   [LMTPD_RCPT] = "RCPT",
    [LMTPD_DATA] = "DATA",	   [LMTPD_BDAT] = "BDAT",
    [LMTPD_CHUNKING] = "CHUNKING", [LMTPD_CLOSING] = "CLOSING",
};

const char *lmtpd_state_name(enum lmtpd_state st)
{
	return st < LMTPD_STATE_COUNT ? state_names[st] : "?";
}

void lmtpd_enter_state(struct session *s, enum lmtpd_state st)
{
	/* A closing session only flushes its last reply. */
	if (s->state == LMTPD_CLOSING)
		return;
	if (s->state != st)
		msg_debug("%s[%s]: state %s -> %s", s->client_name,
			  s->client_addr, lmtpd_state_name(s->state),
			  lmtpd_state_name(st));
	s->state = st;
}

void lmtpd_transaction_reset(struct session *s)
{
	mem_free(s->sender);
	for (size_t i = 0; i < s->rcpt_count; i++) {
		mem_free(s->rcpts[i].address);
		mem_free(s->rcpts[i].mailbox);
	}
	s->rcpt_count = 0;
	s->smtputf8 = false;
	s->queue_id[0] = '\0';
	str_clear(&s->content);
	s->spool_size = 0;
	s->spool_failed = false;
	s->bdat_left = 0;
	s->bdat_last = false;
	msg_set_queue_id(NULL);
}

static void session_end(struct session *s)
{
	struct server *srv = s->srv;

	lmtpd_transaction_reset(s);
	msg_info("disconnect from %s[%s]", s->client_name, s->client_addr);
	event_io_remove(&s->io);
	event_timer_remove(&s->timer);
	iobuf_free(&s->buf);
	close(s->fd);
	lmtpd_spool_close(s);
	mem_free(s->rcpts);
	mem_free(s->helo_name);
	str_deinit(&s->content);
	mem_free(s);
	server_client_done(srv);
}

void lmtpd_close_after(struct session *s, const char *reply)
{
	lmtpd_reply(s, "%s", reply);
	lmtpd_transaction_reset(s);
	lmtpd_enter_state(s, LMTPD_CLOSING);
	event_timer_restart(s->timer, LMTPD_CLOSE_GRACE_MS);
}

void lmtpd_bare_lf_close(struct session *s)
{
	struct str r;

	msg_info("bare <LF> received after %s from %s[%s]",
		 lmtpd_state_name(s->state), s->client_name, s->client_addr);
	str_init(&r, 128);
	str_printf(&r, "521 5.5.2 %s Error: bare <LF> received",
		   s->cfg->myhostname);
	lmtpd_close_after(s, r.data);
	str_deinit(&r);
}

static void session_timeout(struct event_timer *timer, void *ctx)
{
	struct session *s = ctx;
	struct str r;
	const char *err;

	(void)timer;
	if (s->state == LMTPD_CLOSING) {
		session_end(s);
		return;
	}
	msg_info("timeout after %s from %s[%s]", lmtpd_state_name(s->state),
		 s->client_name, s->client_addr);
	str_init(&r, 128);
	str_printf(&r, "421 4.4.2 %s Error: timeout exceeded",
		   s->cfg->myhostname);
	lmtpd_close_after(s, r.data);
	str_deinit(&r);
	if (event_io_modify(s->io, EVENT_WRITE, &err) < 0)
		session_end(s);
}

/* One complete input line outside DATA. */
static void session_line(struct session *s, const struct iobuf_line *line)
{
	if (line->len > s->cfg->cmd_max) {
		lmtpd_reply_error(s, "500 5.5.2 Error: line too long");
		return;
	}
	if (memchr(line->data, '\0', line->len) != NULL) {
		lmtpd_reply_error(s, "500 5.5.2 Error: NUL byte in command");
		return;
	}
	if (line->eol != IOBUF_EOL_CRLF) {
		lmtpd_bare_lf_close(s);
		return;
	}
	lmtpd_command(s, line->data, line->len);
}

/* Reads one unit of input; returns the iobuf status. */
static enum iobuf_status session_read_one(struct session *s)
{
	struct iobuf_line line;
	enum iobuf_status st;
	const void *p;
	size_t n;

	if (s->state == LMTPD_BDAT) {
		n = s->bdat_left < LMTPD_BDAT_READ ? (size_t)s->bdat_left
						   : LMTPD_BDAT_READ;
		st = iobuf_read_data(s->buf, n, &p, &n);
		if (st == IOBUF_OK)
			lmtpd_bdat_input(s, p, n);
		return st;
	}
	st = iobuf_read_line(s->buf, &line);
	if (st != IOBUF_OK && st != IOBUF_TOO_LONG)
		return st;
	if (s->state == LMTPD_DATA)
		lmtpd_data_input(s, &line, st == IOBUF_TOO_LONG);
	else if (st == IOBUF_TOO_LONG)
		lmtpd_reply_error(s, "500 5.5.2 Error: line too long");
	else
		session_line(s, &line);
	return IOBUF_OK;
}

/* Handles input until more is needed; returns false when the session has
 * ended. */
static bool session_input(struct session *s)
{
	enum iobuf_status st;

	while (s->state != LMTPD_CLOSING && !iobuf_output_backed_up(s->buf)) {
		st = session_read_one(s);
		if (st == IOBUF_OK) {
			event_timer_restart(s->timer, s->cfg->timeout_ms);
			continue;
		}
		if (st == IOBUF_NEED_MORE)
			break;
		if (st == IOBUF_ERROR)
			msg_info("lost connection after %s from %s[%s]: %s",
				 lmtpd_state_name(s->state), s->client_name,
				 s->client_addr, iobuf_error(s->buf));
		else
			msg_info("lost connection after %s from %s[%s]",
				 lmtpd_state_name(s->state), s->client_name,
				 s->client_addr);
		session_end(s);
		return false;
	}
	return true;
}

static void session_output(struct session *s)
{
	const char *err;
	unsigned events = 0;
	int r = iobuf_flush(s->buf);

	if (r < 0 || (r == 1 && s->state == LMTPD_CLOSING)) {
		session_end(s);
		return;
	}
	if (s->state != LMTPD_CLOSING && !iobuf_output_backed_up(s->buf))
		events |= EVENT_READ;
	if (r == 0)
		events |= EVENT_WRITE;
	if (event_io_modify(s->io, events, &err) < 0) {
		msg_warn("%s", err);
		session_end(s);
	}
}

static void session_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct session *s = ctx;

	(void)io;
	(void)fd;
	(void)events;
	if (session_input(s))
		session_output(s);
}

/* Fills client_addr and client_name: "a.b.c.d" or "v6" for TCP (no
 * reverse lookup: the name is "unknown"), "unix" and "localhost" for the
 * UNIX socket. */
static void session_peer(struct session *s)
{
	memcpy(s->client_name, "unknown", sizeof("unknown"));
	if (sock_peer(s->fd, s->client_addr, sizeof(s->client_addr), NULL, 0) ==
	    0) {
		s->client_unix = true;
		memcpy(s->client_name, "localhost", sizeof("localhost"));
	}
}

void lmtpd_session_start(struct server *srv, const struct lmtpd_config *cfg,
			 int fd)
{
	struct session *s = mem_alloc(sizeof(*s));
	struct iobuf_limits limits = {.max_line = LMTPD_DATA_LINE_MAX,
				      .max_output = IOBUF_DEFAULT_MAX_OUTPUT};
	const char *err;

	s->srv = srv;
	s->cfg = cfg;
	s->fd = fd;
	s->spool_fd = -1;
	str_init(&s->content, 0);
	session_peer(s);
	msg_info("connect from %s[%s]", s->client_name, s->client_addr);
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
	lmtpd_reply(s, "220 %s LMTP %s", cfg->myhostname, cfg->mail_name);
}
