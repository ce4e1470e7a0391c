/* t/unit/tls_side.c: the test driver of t/unit/tls.c: one end of a TLS
 * connection on a non-blocking socket, stepped by lib/event through the
 * handshake and then through lib/iobuf over tls_iobuf_transport, sending a
 * line or a bulk of numbered lines and reading lines back (see
 * tls_side.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_side.h"

void tls_test_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) < 0)
		abort();
}

bool tls_test_has(const char *text, const char *part)
{
	return text != NULL && strstr(text, part) != NULL;
}

/* ---- one end of a connection, stepped by the event loop */

static void side_wait(struct side *s, unsigned events)
{
	const char *err;

	if (event_io_modify(s->io, events, &err) < 0)
		abort();
}

static void side_finish(struct side *s, enum side_state state)
{
	s->state = state;
	if (state == S_FAILED) {
		event_io_remove(&s->io);
		shutdown(s->fd, SHUT_RDWR); /* let the peer fail fast */
	} else {
		side_wait(s, 0);
	}
	if (s->peer == NULL || s->peer->state >= S_DONE)
		event_loop_stop(s->loop);
}

static void side_fail(struct side *s, const char *error)
{
	snprintf(s->error, sizeof(s->error), "%s", error);
	side_finish(s, S_FAILED);
}

static void bulk_line(struct str *out, size_t i)
{
	str_clear(out);
	str_printf(out, "%06zu ", i);
	while (out->len < 100)
		str_putc(out, 'x');
}

static void side_fill_bulk(struct side *s)
{
	struct str line;

	str_init(&line, 128);
	while (s->bulk_sent < s->bulk && iobuf_output_pending(s->b) < 65536) {
		bulk_line(&line, s->bulk_sent++);
		str_append(&line, "\r\n", 2);
		iobuf_write(s->b, line.data, line.len);
	}
	str_deinit(&line);
}

static void side_line(struct side *s, const struct iobuf_line *l)
{
	if (s->bulk_in) {
		struct str want;

		str_init(&want, 128);
		bulk_line(&want, s->lines);
		if (l->len != want.len || memcmp(l->data, want.data, l->len))
			s->bulk_bad++;
		str_deinit(&want);
	} else {
		str_append(&s->got, l->data, l->len);
		str_putc(&s->got, '|');
	}
	s->lines++;
}

static void side_run(struct side *s)
{
	struct iobuf_line l;
	enum iobuf_status st;
	int flushed;

	for (;;) {
		side_fill_bulk(s);
		flushed = iobuf_flush(s->b);
		if (flushed < 0) {
			side_fail(s, iobuf_error(s->b));
			return;
		}
		st = iobuf_read_line(s->b, &l);
		if (st != IOBUF_OK)
			break;
		side_line(s, &l);
	}
	if (flushed == 1 && s->lines >= s->want_lines &&
	    s->bulk_sent == s->bulk) {
		side_finish(s, S_DONE);
		return;
	}
	if (st == IOBUF_EOF) {
		side_fail(s, "EOF");
		return;
	}
	if (st == IOBUF_ERROR) {
		side_fail(s, iobuf_error(s->b));
		return;
	}
	/* more bulk to queue also waits for room to write */
	side_wait(
	    s, EVENT_READ |
		   (flushed == 0 || s->bulk_sent < s->bulk ? EVENT_WRITE : 0) |
		   tls_conn_events(s->c));
}

static void side_step(struct side *s)
{
	unsigned events;
	const char *err;
	int ret;

	if (s->state == S_HANDSHAKE) {
		ret = tls_conn_handshake(s->c, &events, &err);
		if (ret < 0) {
			side_fail(s, err);
			return;
		}
		if (ret == 0) {
			side_wait(s, events);
			return;
		}
		s->state = S_RUN;
		s->b = iobuf_new_transport(&tls_iobuf_transport, s->c, NULL);
		if (s->send != NULL)
			iobuf_write(s->b, s->send, strlen(s->send));
	}
	if (s->state == S_RUN)
		side_run(s);
}

static void side_cb(struct event_io *io, int fd, unsigned events, void *ctx)
{
	side_step(ctx);
}

void side_init(struct side *s, struct event_loop *loop, struct tls_conn *c,
	       int fd, const char *send, unsigned want_lines)
{
	const char *err;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->c = c;
	s->fd = fd;
	s->send = send;
	s->want_lines = want_lines;
	str_init(&s->got, 0);
	s->io =
	    event_io_add(loop, fd, EVENT_READ | EVENT_WRITE, side_cb, s, &err);
	if (s->io == NULL)
		abort();
}

void side_deinit(struct side *s)
{
	event_io_remove(&s->io);
	iobuf_free(&s->b);
	tls_conn_free(&s->c);
	str_deinit(&s->got);
	close(s->fd);
}

static void deadline_cb(struct event_timer *t, void *ctx)
{
	struct side *s = ctx;

	s->timed_out = true;
	event_loop_stop(s->loop);
}

bool side_run_loop(struct side *a, struct side *b)
{
	struct event_timer *t =
	    event_timer_add(a->loop, 10000, false, deadline_cb, a);
	const char *err;

	a->timed_out = false;
	a->peer = b;
	if (b != NULL)
		b->peer = a;
	event_loop_run(a->loop, &err);
	event_timer_remove(&t);
	return !a->timed_out;
}
