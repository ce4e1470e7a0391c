/* conn.c: one client connection of the auth daemon (a smtpd or imapd
 * process): hello, then request records in, replies out, in order. A
 * failure reply is held back by a timer (never a sleep: other clients go
 * on being served meanwhile), and no further request is read from that
 * connection until it has gone out. */
#include "config.h"

#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "auth_client.h"
#include "iobuf.h"
#include "mem.h"
#include "msg.h"

struct conn {
	struct auth_state *a;
	int fd;
	struct iobuf *b;
	struct attr_decoder *dec;
	struct attr_out out;
	struct event_io *io;
	struct event_timer *idle;
	struct event_timer *hold; /* armed while a reply is held back */
};

static void conn_drop(struct conn *c, const char *why)
{
	struct server *srv = c->a->srv;

	if (why != NULL)
		msg_warn("dropping auth client: %s", why);
	event_io_remove(&c->io);
	event_timer_remove(&c->idle);
	event_timer_remove(&c->hold);
	iobuf_free(&c->b);
	attr_decoder_free(&c->dec);
	attr_out_deinit(&c->out);
	close(c->fd);
	mem_free(c);
	server_client_done(srv);
}

static bool held(const struct conn *c)
{
	return c->hold != NULL && event_timer_armed(c->hold);
}

/* Takes requests until one must wait, then flushes. */
static void conn_run(struct conn *c)
{
	struct attr_rec r;
	enum attr_status st = ATTR_NEED_MORE;
	const char *err;
	long delay;
	int flushed;

	while (!held(c) && !iobuf_output_backed_up(c->b) &&
	       (st = attr_read_iobuf(c->b, c->dec, &r, &err)) == ATTR_RECORD) {
		event_timer_restart(c->idle, AUTH_IDLE_MS);
		delay = auth_request(c->a, &r, &c->out, &err);
		if (delay < 0 || attr_write_iobuf(c->b, &c->out, &err) < 0) {
			conn_drop(c, err);
			return;
		}
		if (delay > 0)
			event_timer_restart(c->hold, (unsigned)delay);
	}
	if (st == ATTR_ERROR || st == ATTR_EOF) {
		conn_drop(c, st == ATTR_ERROR ? err : NULL);
		return;
	}
	/* A held reply sits in the output buffer until the timer fires. */
	flushed = held(c) ? 1 : iobuf_flush(c->b);
	if (flushed < 0) {
		conn_drop(c, iobuf_error(c->b));
		return;
	}
	if (event_io_modify(
		c->io,
		(held(c) || iobuf_output_backed_up(c->b) ? 0 : EVENT_READ) |
		    (flushed == 0 ? EVENT_WRITE : 0),
		&err) < 0)
		conn_drop(c, err);
}

static void conn_event(struct event_io *io, int fd, unsigned events, void *ctx)
{
	(void)io;
	(void)fd;
	(void)events;
	conn_run(ctx);
}

static void conn_release(struct event_timer *t, void *ctx)
{
	(void)t;
	conn_run(ctx);
}

static void conn_idle(struct event_timer *t, void *ctx)
{
	(void)t;
	conn_drop(ctx, NULL);
}

void auth_conn_start(struct auth_state *a, int fd)
{
	struct conn *c = mem_alloc(sizeof(*c));
	struct event_loop *loop = server_loop(a->srv);
	const char *err;

	c->a = a;
	c->fd = fd;
	c->b = iobuf_new(fd, NULL);
	c->dec = attr_decoder_new(AUTH_MAX_RECORD);
	attr_out_init(&c->out);
	c->idle = event_timer_add(loop, AUTH_IDLE_MS, false, conn_idle, c);
	c->hold = event_timer_add(loop, 1000, false, conn_release, c);
	event_timer_stop(c->hold);
	attr_hello_put(&c->out, AUTH_PROTOCOL, AUTH_PROTOCOL_VERSION);
	if (attr_write_iobuf(c->b, &c->out, &err) < 0) {
		conn_drop(c, err);
		return;
	}
	c->io = event_io_add(loop, fd, EVENT_READ | EVENT_WRITE, conn_event, c,
			     &err);
	if (c->io == NULL)
		conn_drop(c, err);
}
