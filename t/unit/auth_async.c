/* t/unit/auth_async.c: lib/auth_async against a fake auth daemon on the
 * same event loop: exists pipelined on one connection and answered in
 * order; verify with the canonical user; a held-back verify failure does
 * not hold up exists; cancelled requests stay silent; a daemon that is
 * down, closes, or never answers gives -1 through the callback (never from
 * inside the call); an exists whose connection closed is sent once more. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "auth_async.h"
#include "auth_client.h"
#include "event.h"
#include "iobuf.h"
#include "mem.h"
#include "sock.h"
#include "str.h"
#include "tap.h"

struct fake_conn {
	int fd;
	struct iobuf *buf;
	struct attr_decoder *dec;
	struct event_io *io;
	struct event_timer *hold;
	struct attr_out held; /* a reply sent when hold fires */
};

static struct event_loop *loop;
static int listen_fd;
static unsigned accepted, requests;
static struct fake_conn *conns[64];
static size_t nconns;

/* What the callbacks saw, in order. */
static struct str seen;
static unsigned pending;

static void fake_close(struct fake_conn *c)
{
	event_io_remove(&c->io);
	event_timer_remove(&c->hold);
	iobuf_free(&c->buf);
	attr_decoder_free(&c->dec);
	attr_out_deinit(&c->held);
	close(c->fd);
	c->fd = -1;
}

static void fake_send(struct fake_conn *c, struct attr_out *o)
{
	const char *err;

	ok(attr_write_iobuf(c->buf, o, &err) == 1, "fake: reply queued");
	(void)iobuf_flush(c->buf);
}

static void fake_release(struct event_timer *t, void *ctx)
{
	(void)t;
	fake_send(ctx, &((struct fake_conn *)ctx)->held);
}

/* Replies by user name: yes*, no*, good (verify ok), slow (verify fail
 * after 300 ms), close (connection closed), silent (no answer), yes-bye
 * (yes, then the connection closed). */
static bool fake_request(struct fake_conn *c, struct attr_rec *r)
{
	const char *op = NULL, *user = NULL, *err, *v;
	struct attr_out o;

	requests++;
	(void)attr_get_cstr(r, "op", &op, &err);
	(void)attr_get_cstr(r, "user", &user, &err);
	(void)attr_get_cstr(r, "password", &v, &err);
	(void)attr_get_cstr(r, "service", &v, &err);
	(void)attr_get_cstr(r, "client", &v, &err);
	if (strcmp(user, "close") == 0) {
		fake_close(c);
		return false;
	}
	if (strcmp(user, "silent") == 0)
		return true;
	attr_out_init(&o);
	if (strcmp(op, "exists") == 0) {
		attr_put_str(&o, "result", user[0] == 'y' ? "yes" : "no");
	} else if (strcmp(user, "good") == 0) {
		attr_put_str(&o, "result", "ok");
		attr_put_str(&o, "user", "good@example.org");
	} else {
		attr_put_str(&o, "result", "fail");
	}
	if (strcmp(user, "slow") == 0) {
		c->held = o;
		c->hold = event_timer_add(loop, 300, false, fake_release, c);
		return true;
	}
	fake_send(c, &o);
	attr_out_deinit(&o);
	if (strcmp(user, "yes-bye") == 0) {
		fake_close(c);
		return false;
	}
	return true;
}

static void fake_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct fake_conn *c = ctx;
	struct attr_rec r;
	const char *err;
	enum attr_status st;

	(void)io;
	(void)fd;
	(void)events;
	while ((st = attr_read_iobuf(c->buf, c->dec, &r, &err)) == ATTR_RECORD)
		if (!fake_request(c, &r))
			return;
	if (st == ATTR_EOF || st == ATTR_ERROR)
		fake_close(c);
}

static void fake_accept(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct fake_conn *c;
	struct attr_out o;
	const char *err;
	int cfd;

	(void)io;
	(void)events;
	(void)ctx;
	while (sock_accept(fd, &cfd, &err) == 1) {
		accepted++;
		c = mem_alloc(sizeof(*c));
		c->fd = cfd;
		c->buf = iobuf_new(cfd, NULL);
		c->dec = attr_decoder_new(0);
		c->io = event_io_add(loop, cfd, EVENT_READ, fake_io, c, &err);
		attr_out_init(&o);
		attr_hello_put(&o, AUTH_PROTOCOL, AUTH_PROTOCOL_VERSION);
		fake_send(c, &o);
		attr_out_deinit(&o);
		conns[nconns++] = c;
	}
}

/* Records "NAME=RESULT[/canon] " and stops the loop when all are in. */
static void cb(int result, const char *canon, const char *error, void *ctx)
{
	str_printf(&seen, "%s=%d%s%s ", (const char *)ctx, result,
		   canon ? "/" : "", canon ? canon : "");
	if (result < 0 && (error == NULL || error[0] == '\0'))
		str_printf(&seen, "(no error text) ");
	if (--pending == 0)
		event_loop_stop(loop);
}

static void give_up(struct event_timer *t, void *ctx)
{
	(void)t;
	(void)ctx;
	str_printf(&seen, "TIMEOUT");
	event_loop_stop(loop);
}

static void run(unsigned n)
{
	struct event_timer *t = event_timer_add(loop, 5000, false, give_up, 0);
	const char *err;

	pending = n;
	(void)event_loop_run(loop, &err);
	event_timer_remove(&t);
}

static void test_exists_and_verify(struct auth_async *a)
{
	struct auth_async_req *r;

	str_clear(&seen);
	(void)auth_async_verify(a, "slow", "pw", "smtp", "192.0.2.1", cb, "v1");
	(void)auth_async_exists(a, "yes1", cb, "e1");
	r = auth_async_exists(a, "yes2", cb, "e2");
	(void)auth_async_exists(a, "no3", cb, "e3");
	(void)auth_async_verify(a, "good", "pw", "smtp", "192.0.2.1", cb, "v2");
	auth_async_cancel(&r);
	ok(r == NULL, "cancel clears the handle");
	is_str(seen.data, "", "no callback from inside the calls");
	run(4);
	/* The held failure comes last; the cancelled one never. */
	ok(strstr(seen.data, "e1=1 ") != NULL &&
	       strstr(seen.data, "e3=0 ") != NULL &&
	       strstr(seen.data, "e1=1 ") < strstr(seen.data, "e3=0 "),
	   "exists answered in order: %s", seen.data);
	ok(strstr(seen.data, "v2=1/good@example.org ") != NULL,
	   "verify ok with the canonical user: %s", seen.data);
	ok(strstr(seen.data, "e2=") == NULL, "cancelled: no callback");
	ok(strlen(seen.data) >= 5 &&
	       strcmp(seen.data + strlen(seen.data) - 5, "v1=0 ") == 0,
	   "the held-back failure did not hold up the rest: %s", seen.data);
	is_int(accepted, 3, "one connection for the exists, one per verify");
}

static void test_broken(struct auth_async *a)
{
	unsigned before = requests, acc = accepted;

	/* The connection closes on "close": sent once more on a new
	 * connection, which closes too: -1. */
	str_clear(&seen);
	(void)auth_async_exists(a, "close", cb, "c");
	run(1);
	is_str(seen.data, "c=-1 ", "closed twice: temporary failure");
	is_int(requests - before, 2, "the exists was sent twice");
	str_clear(&seen);
	(void)auth_async_exists(a, "yes", cb, "y");
	run(1);
	is_str(seen.data, "y=1 ", "then a new connection works");
	is_int(accepted - acc, 2,
	       "two connections made (the first try went on the kept one)");
	str_clear(&seen);
	(void)auth_async_verify(a, "close", "pw", "smtp", "c", cb, "vc");
	run(1);
	is_str(seen.data, "vc=-1 ", "verify: connection closed: -1");
}

static unsigned open_conns(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < nconns; i++)
		n += conns[i]->fd >= 0;
	return n;
}

static void stop_loop(struct event_timer *t, void *ctx)
{
	(void)t;
	(void)ctx;
	event_loop_stop(loop);
}

static void pause_loop(unsigned ms)
{
	struct event_timer *t = event_timer_add(loop, ms, false, stop_loop, 0);
	const char *err;

	(void)event_loop_run(loop, &err);
	event_timer_remove(&t);
}

/* The exists connection is kept for the next questions, closed after two
 * idle seconds, and replaced when the daemon closes it. */
static void test_kept(struct auth_async *a)
{
	unsigned acc;

	str_clear(&seen);
	(void)auth_async_exists(a, "yes1", cb, "k1");
	run(1);
	acc = accepted;
	(void)auth_async_exists(a, "yes2", cb, "k2");
	run(1);
	(void)auth_async_exists(a, "no3", cb, "k3");
	run(1);
	is_str(seen.data, "k1=1 k2=1 k3=0 ", "questions one after another");
	is_int(accepted - acc, 0, "on the kept connection");
	is_int(open_conns(), 1, "which stays open meanwhile");
	pause_loop(2600);
	is_int(open_conns(), 0, "closed after two idle seconds");
	str_clear(&seen);
	(void)auth_async_exists(a, "yes-bye", cb, "b1");
	run(1);
	pause_loop(100);
	(void)auth_async_exists(a, "yes4", cb, "b2");
	run(1);
	is_str(seen.data, "b1=1 b2=1 ",
	       "the daemon closed the kept connection: a new one");
}

static void test_timeout_and_down(const char *path)
{
	struct auth_async *a = auth_async_new(loop, path, 200);
	struct auth_async *down;
	struct auth_async_req *r;

	str_clear(&seen);
	(void)auth_async_exists(a, "silent", cb, "s");
	(void)auth_async_verify(a, "silent", "pw", "smtp", "c", cb, "vs");
	run(2);
	ok(strstr(seen.data, "s=-1 ") && strstr(seen.data, "vs=-1 "),
	   "no answer: -1 after the timeout: %s", seen.data);
	auth_async_free(&a);
	ok(a == NULL, "free clears the pointer");

	down = auth_async_new(loop, "/nonexistent/auth", 200);
	str_clear(&seen);
	(void)auth_async_exists(down, "x", cb, "d1");
	(void)auth_async_verify(down, "x", "pw", "smtp", "c", cb, "d2");
	r = auth_async_exists(down, "x", cb, "d3");
	auth_async_cancel(&r);
	is_str(seen.data, "", "daemon down: nothing from inside the calls");
	run(2);
	is_str(seen.data, "d1=-1 d2=-1 ",
	       "daemon down: -1 through the "
	       "callbacks");
	/* Pending requests are dropped by free without callbacks. */
	(void)auth_async_exists(down, "x", cb, "d4");
	auth_async_free(&down);
}

int main(void)
{
	struct auth_async *a;
	struct event_io *lio;
	struct str path;
	const char *err;

	loop = event_loop_new(&err);
	str_init(&seen, 256);
	str_init(&path, 128);
	str_printf(&path, "%s/auth.sock", tap_tmpdir());
	listen_fd = sock_unix_listen(path.data, 0600, 16, &err);
	ok(listen_fd >= 0, "fake auth daemon listens");
	lio =
	    event_io_add(loop, listen_fd, EVENT_READ, fake_accept, NULL, &err);
	a = auth_async_new(loop, path.data, 2000);
	test_exists_and_verify(a);
	test_broken(a);
	test_kept(a);
	auth_async_free(&a);
	test_timeout_and_down(path.data);
	for (size_t i = 0; i < nconns; i++) {
		if (conns[i]->fd >= 0)
			fake_close(conns[i]);
		mem_free(conns[i]);
	}
	event_io_remove(&lio);
	close(listen_fd);
	event_loop_free(&loop);
	str_deinit(&path);
	str_deinit(&seen);
	return tap_done();
}
