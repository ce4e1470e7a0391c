/* auth_async.c: the auth daemon's client on the event loop (see
 * auth_async.h). A channel is one connection: the daemon's hello, then
 * requests written as they come and replies matched to them in order. The
 * shared channel carries "exists" requests and is kept for the next ones
 * until it has been idle for AUTH_ASYNC_IDLE_MS: not longer, because an
 * auth process that the master retires (reload) serves its clients until
 * they leave. A verify channel carries one request and is closed after
 * its reply. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "auth_async.h"
#include "auth_client.h"
#include "iobuf.h"
#include "mem.h"
#include "sock.h"

/* Replies are small: a result and a user name. */
#define AUTH_ASYNC_MAX_RECORD (64 * 1024)
/* An "exists" whose kept connection broke is sent once more. */
#define AUTH_ASYNC_TRIES 2
#define AUTH_ASYNC_ERROR_MAX 160
/* The shared channel is closed after this long without a request. */
#define AUTH_ASYNC_IDLE_MS 2000

struct chan {
	struct auth_async *a;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer; /* a reply's timeout, or the idle limit */
	struct attr_decoder *dec;
	bool hello_done;
	struct auth_async_req *head, **tailp; /* sent, awaiting replies */
	struct chan *next, **prevp;
};

struct auth_async_req {
	struct auth_async *a;
	struct chan *ch; /* NULL: failing, its callback deferred */
	struct auth_async_req *next;
	bool verify;
	bool cancelled;
	unsigned tries;
	char *user; /* exists: kept for a second try */
	auth_async_cb *cb;
	void *ctx;
	char error[AUTH_ASYNC_ERROR_MAX];
};

struct auth_async {
	struct event_loop *loop;
	char *path;
	unsigned timeout_ms;
	struct chan *shared;
	struct chan *chans;		/* every open channel */
	struct auth_async_req *failing; /* callbacks deferred */
};

static void chan_io(struct event_io *io, int fd, unsigned events, void *ctx);
static void chan_timeout(struct event_timer *timer, void *ctx);

struct auth_async *auth_async_new(struct event_loop *loop, const char *path,
				  unsigned timeout_ms)
{
	struct auth_async *a = mem_alloc(sizeof(*a));

	a->loop = loop;
	a->path = mem_strdup(path);
	a->timeout_ms = timeout_ms > 0 ? timeout_ms : AUTH_CALL_TIMEOUT_MS;
	return a;
}

static void req_free(struct auth_async_req *req)
{
	mem_free(req->user);
	mem_free(req);
}

/* Frees the request, then runs its callback (unless cancelled): the
 * callback may start new requests or end its session. */
static void deliver(struct auth_async_req *req, int result, const char *canon,
		    const char *error)
{
	auth_async_cb *cb = req->cb;
	void *ctx = req->ctx;
	bool cancelled = req->cancelled;
	char err[AUTH_ASYNC_ERROR_MAX];

	snprintf(err, sizeof(err), "%s", error != NULL ? error : "");
	req_free(req);
	if (!cancelled)
		cb(result, canon, error != NULL ? err : NULL, ctx);
}

static void req_deferred(void *ctx)
{
	struct auth_async_req *req = ctx, **pp = &req->a->failing;

	while (*pp != req)
		pp = &(*pp)->next;
	*pp = req->next;
	deliver(req, -1, NULL, req->error);
}

/* The callback with a temporary failure, from the next loop round. */
static void req_fail_later(struct auth_async_req *req, const char *error)
{
	req->ch = NULL;
	snprintf(req->error, sizeof(req->error), "auth service: %s", error);
	req->next = req->a->failing;
	req->a->failing = req;
	event_defer(req->a->loop, req_deferred, req);
}

static struct chan *chan_new(struct auth_async *a, const char **error_r)
{
	struct chan *ch;
	struct event_io *io;
	int fd = sock_unix_connect(a->path, true, error_r);

	if (fd < 0)
		return NULL;
	ch = mem_alloc(sizeof(*ch));
	io = event_io_add(a->loop, fd, EVENT_READ, chan_io, ch, error_r);
	if (io == NULL) {
		close(fd);
		mem_free(ch);
		return NULL;
	}
	ch->a = a;
	ch->fd = fd;
	ch->io = io;
	ch->buf = iobuf_new(fd, NULL);
	ch->dec = attr_decoder_new(AUTH_ASYNC_MAX_RECORD);
	ch->tailp = &ch->head;
	ch->timer =
	    event_timer_add(a->loop, a->timeout_ms, false, chan_timeout, ch);
	event_timer_stop(ch->timer);
	ch->next = a->chans;
	ch->prevp = &a->chans;
	if (ch->next != NULL)
		ch->next->prevp = &ch->next;
	a->chans = ch;
	return ch;
}

/* Closes the channel; its requests must have been taken off it. */
static void chan_close(struct chan *ch)
{
	if (ch->a->shared == ch)
		ch->a->shared = NULL;
	*ch->prevp = ch->next;
	if (ch->next != NULL)
		ch->next->prevp = ch->prevp;
	event_io_remove(&ch->io);
	event_timer_remove(&ch->timer);
	iobuf_free(&ch->buf);
	attr_decoder_free(&ch->dec);
	close(ch->fd);
	mem_free(ch);
}

/* Writes the request and queues req for its reply. Returns 1 or -1. */
static int chan_send(struct chan *ch, struct auth_async_req *req,
		     struct attr_out *out, const char **error_r)
{
	if (attr_write_iobuf(ch->buf, out, error_r) < 0 ||
	    event_io_modify(ch->io, EVENT_READ | EVENT_WRITE, error_r) < 0)
		return -1;
	req->ch = ch;
	req->next = NULL;
	req->tries++;
	if (ch->head == NULL)
		event_timer_restart(ch->timer, ch->a->timeout_ms);
	*ch->tailp = req;
	ch->tailp = &req->next;
	return 1;
}

static void exists_send(struct auth_async_req *req)
{
	struct auth_async *a = req->a;
	struct attr_out out;
	const char *err;

	if (a->shared == NULL && (a->shared = chan_new(a, &err)) == NULL) {
		req_fail_later(req, err);
		return;
	}
	attr_out_init(&out);
	attr_put_str(&out, "op", "exists");
	attr_put_str(&out, "user", req->user);
	if (chan_send(a->shared, req, &out, &err) < 0)
		req_fail_later(req, err);
	attr_out_deinit(&out);
}

static struct auth_async_req *req_new(struct auth_async *a, auth_async_cb *cb,
				      void *ctx)
{
	struct auth_async_req *req = mem_alloc(sizeof(*req));

	req->a = a;
	req->cb = cb;
	req->ctx = ctx;
	return req;
}

struct auth_async_req *auth_async_exists(struct auth_async *a, const char *user,
					 auth_async_cb *cb, void *ctx)
{
	struct auth_async_req *req = req_new(a, cb, ctx);

	req->user = mem_strdup(user);
	exists_send(req);
	return req;
}

struct auth_async_req *auth_async_verify(struct auth_async *a, const char *user,
					 const char *password,
					 const char *service,
					 const char *client, auth_async_cb *cb,
					 void *ctx)
{
	struct auth_async_req *req = req_new(a, cb, ctx);
	struct attr_out out;
	struct chan *ch;
	const char *err;

	req->verify = true;
	ch = chan_new(a, &err);
	if (ch == NULL) {
		req_fail_later(req, err);
		return req;
	}
	attr_out_init(&out);
	attr_put_str(&out, "op", "verify");
	attr_put_str(&out, "user", user);
	attr_put_str(&out, "password", password);
	attr_put_str(&out, "service", service);
	attr_put_str(&out, "client", client);
	if (chan_send(ch, req, &out, &err) < 0) {
		chan_close(ch);
		req_fail_later(req, err);
	}
	/* The password was in the request buffer. */
	if (out.buf.data != NULL)
		OPENSSL_cleanse(out.buf.data, out.buf.len);
	attr_out_deinit(&out);
	return req;
}

void auth_async_cancel(struct auth_async_req **reqp)
{
	struct auth_async_req *req = *reqp, **pp;

	if (req == NULL)
		return;
	*reqp = NULL;
	if (req->ch == NULL) {
		event_defer_cancel(req->a->loop, req_deferred, req);
		for (pp = &req->a->failing; *pp != req; pp = &(*pp)->next)
			;
		*pp = req->next;
		req_free(req);
	} else if (req->verify) {
		/* Its own connection: nothing else waits on it. */
		chan_close(req->ch);
		req_free(req);
	} else {
		/* The reply still comes on the shared connection, in its
		 * place; it is then dropped. */
		req->cancelled = true;
	}
}

/* The channel broke: every request on it is sent again (an "exists" on
 * its first try, when the connection simply closed: the daemon may have
 * dropped a kept idle connection or restarted) or fails. */
static void chan_fail(struct chan *ch, const char *error, bool retry)
{
	struct auth_async_req *req = ch->head, *next;
	char err[AUTH_ASYNC_ERROR_MAX];

	snprintf(err, sizeof(err), "auth service: %s", error);
	ch->head = NULL;
	chan_close(ch);
	for (; req != NULL; req = next) {
		next = req->next;
		if (retry && !req->verify && req->tries < AUTH_ASYNC_TRIES)
			exists_send(req);
		else
			deliver(req, -1, NULL, err);
	}
}

static void chan_timeout(struct event_timer *timer, void *ctx)
{
	struct chan *ch = ctx;

	(void)timer;
	if (ch->head == NULL)
		chan_close(ch); /* idle */
	else
		chan_fail(ch, "timeout", false);
}

/* Decodes the reply to req: 1, 0, or -1 with *error_r (and *malformed_r
 * when the record itself was wrong). canon gets the canonical user of a
 * successful verify. */
static int reply_parse(struct auth_async_req *req, struct attr_rec *rec,
		       char *canon, size_t canon_size, bool *malformed_r,
		       const char **error_r)
{
	const char *result = NULL, *user = NULL;

	*malformed_r = true;
	if (attr_get_cstr(rec, "result", &result, error_r) != 1 ||
	    (req->verify && attr_get_cstr(rec, "user", &user, error_r) < 0) ||
	    attr_rec_done(rec, error_r) < 0)
		return -1;
	*malformed_r = false;
	if (strcmp(result, req->verify ? "ok" : "yes") == 0) {
		if (!req->verify)
			return 1;
		if (user != NULL && user[0] != '\0' &&
		    strlen(user) < canon_size) {
			memcpy(canon, user, strlen(user) + 1);
			return 1;
		}
	} else if (strcmp(result, req->verify ? "fail" : "no") == 0) {
		return 0;
	}
	*error_r = "auth service: temporary failure";
	return -1;
}

/* One record: the hello, or the reply to the oldest request. Returns
 * false when the channel is gone. */
static bool chan_record(struct chan *ch, struct attr_rec *rec)
{
	struct auth_async_req *req = ch->head;
	char canon[AUTH_USER_MAX + 1], errbuf[AUTH_ASYNC_ERROR_MAX];
	const char *err = NULL;
	bool malformed, verify;
	int r;

	if (!ch->hello_done) {
		if (attr_hello_check(rec, AUTH_PROTOCOL, AUTH_PROTOCOL_VERSION,
				     &err) < 0) {
			chan_fail(ch, err, false);
			return false;
		}
		ch->hello_done = true;
		return true;
	}
	if (req == NULL) {
		chan_fail(ch, "reply without a request", false);
		return false;
	}
	ch->head = req->next;
	if (ch->head == NULL)
		ch->tailp = &ch->head;
	r = reply_parse(req, rec, canon, sizeof(canon), &malformed, &err);
	if (r < 0 && malformed) {
		/* The stream may be out of step: nothing more on it. err
		 * lives in the record, which goes with the channel. */
		snprintf(errbuf, sizeof(errbuf), "auth service: %s", err);
		chan_fail(ch, err, false);
		deliver(req, -1, NULL, errbuf);
		return false;
	}
	if (ch->head == NULL)
		event_timer_stop(ch->timer);
	else
		event_timer_restart(ch->timer, ch->a->timeout_ms);
	if (req->verify)
		chan_close(ch);
	verify = req->verify;
	deliver(req, r, r > 0 && verify ? canon : NULL, r < 0 ? err : NULL);
	/* The callback may have asked again on this channel. */
	if (!verify && ch->head == NULL)
		event_timer_restart(ch->timer, AUTH_ASYNC_IDLE_MS);
	return !verify;
}

static void chan_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct chan *ch = ctx;
	struct attr_rec rec;
	enum attr_status st;
	const char *err = "connection closed";

	(void)io;
	(void)fd;
	(void)events;
	if (iobuf_flush(ch->buf) < 0) {
		chan_fail(ch, iobuf_error(ch->buf), true);
		return;
	}
	while ((st = attr_read_iobuf(ch->buf, ch->dec, &rec, &err)) ==
	       ATTR_RECORD)
		if (!chan_record(ch, &rec))
			return;
	if (st == ATTR_EOF && ch->head == NULL) {
		chan_close(ch);
		return;
	}
	if (st != ATTR_NEED_MORE) {
		chan_fail(ch, st == ATTR_EOF ? "connection closed" : err, true);
		return;
	}
	if (event_io_modify(
		ch->io,
		EVENT_READ |
		    (iobuf_output_pending(ch->buf) > 0 ? EVENT_WRITE : 0),
		&err) < 0)
		chan_fail(ch, err, false);
}

void auth_async_free(struct auth_async **ap)
{
	struct auth_async *a = *ap;
	struct auth_async_req *req;

	if (a == NULL)
		return;
	while (a->chans != NULL) {
		struct chan *ch = a->chans;
		while ((req = ch->head) != NULL) {
			ch->head = req->next;
			req_free(req);
		}
		chan_close(ch);
	}
	while ((req = a->failing) != NULL) {
		a->failing = req->next;
		event_defer_cancel(a->loop, req_deferred, req);
		req_free(req);
	}
	mem_free(a->path);
	mem_free(a);
	*ap = NULL;
}
