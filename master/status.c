/* status.c: the master's status socket ($queue_directory/pid/master.sock,
 * mode 0600, so only the master's own user and root reach it), spoken with
 * lib/attr.h. `postern status` and `postern reload` ask it:
 *   request  {op = "status"}
 *   reply    {pid, generation, started, reload_error, retiring,
 *             services = [{name, type, state, problem, listen, procs,
 *                          avail, maxproc, pids, restarts, throttle_ms}]}
 * generation counts configuration loads (start and every reload attempt);
 * reload_error says why the last one failed ("" when it did not). A
 * malformed request drops that client only. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "instance.h"
#include "iobuf.h"
#include "master.h"
#include "mem.h"
#include "msg.h"
#include "sock.h"
#include "str.h"

#define MSTATUS_MAX_REQUEST 4096
#define MSTATUS_TIMEOUT_MS 10000
#define MSTATUS_MAX_CLIENTS 16

struct mstatus_client {
	struct mstatus *st;
	int fd;
	struct iobuf *buf;
	struct attr_decoder *dec;
	struct event_io *io;
	struct event_timer *timer;
	struct mstatus_client *next, **prevp;
};

struct mstatus {
	struct master *m;
	int fd;
	char *path;
	struct event_io *io;
	struct mstatus_client *clients;
	unsigned int nclients;
};

static const char *const state_names[] = {
    [SVC_READY] = "ready",
    [SVC_MISSING] = "missing",
    [SVC_FAILED] = "failed",
    [SVC_UNSUPPORTED] = "unsupported",
};

static void client_free(struct mstatus_client *c)
{
	event_io_remove(&c->io);
	event_timer_remove(&c->timer);
	iobuf_free(&c->buf);
	attr_decoder_free(&c->dec);
	close(c->fd);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	c->st->nclients--;
	mem_free(c);
}

static void put_service(struct attr_out *o, struct mservice *svc, uint64_t now)
{
	struct str s;

	str_init(&s, 0);
	attr_item_begin(o);
	attr_put_str(o, "name", svc->cf->name);
	attr_put_str(o, "type", master_type_name(svc->cf->type));
	attr_put_str(o, "state", state_names[svc->state]);
	attr_put_str(o, "problem", svc->problem ? svc->problem : "");
	for (unsigned int i = 0; i < svc->nlisten; i++)
		str_printf(&s, "%s%s", i ? "," : "", svc->listeners[i]->key);
	attr_put_str(o, "listen", s.data ? s.data : "");
	str_clear(&s);
	for (struct mchild *c = svc->children; c != NULL; c = c->next)
		str_printf(&s, "%s%ld", s.len ? "," : "", (long)c->pid);
	attr_put_str(o, "pids", s.data ? s.data : "");
	attr_put_int(o, "procs", svc->total);
	attr_put_int(o, "avail", svc->avail);
	attr_put_int(o, "maxproc", svc->cf->maxproc);
	attr_put_int(o, "restarts", (int64_t)svc->restarts);
	attr_put_int(o, "throttle_ms",
		     svc->throttled && svc->throttle_until > now
			 ? (int64_t)(svc->throttle_until - now)
			 : 0);
	attr_item_end(o);
	str_deinit(&s);
}

static void put_status(struct master *m, struct attr_out *o)
{
	uint64_t now = event_loop_now(m->loop);
	int64_t retiring = 0;
	struct htable_iter it;
	const char *key;
	void *value;

	htable_iter_init(&it);
	while (htable_next(m->children, &it, &key, &value))
		retiring += ((struct mchild *)value)->svc == NULL;
	attr_put_int(o, "pid", (int64_t)getpid());
	attr_put_int(o, "generation", (int64_t)m->generation);
	attr_put_int(o, "started", (int64_t)m->started);
	attr_put_str(o, "reload_error", m->reload_error ? m->reload_error : "");
	attr_put_int(o, "retiring", retiring);
	attr_list_begin(o, "services");
	for (struct mservice *svc = m->services; svc != NULL; svc = svc->next)
		put_service(o, svc, now);
	attr_list_end(o);
}

/* Returns 1 when the reply is queued, -1 to drop the client. */
static int handle_request(struct mstatus_client *c, struct attr_rec *rec)
{
	struct attr_out o;
	const char *op, *err;
	int ret = 1;

	if (attr_get_cstr(rec, "op", &op, &err) != 1 ||
	    attr_rec_done(rec, &err) < 0) {
		msg_warn("status socket: bad request: %s", err);
		return -1;
	}
	attr_out_init(&o);
	if (strcmp(op, "status") == 0)
		put_status(c->st->m, &o);
	else
		attr_put_str(&o, "error", "unknown op");
	if (attr_write_iobuf(c->buf, &o, &err) < 0) {
		msg_warn("status socket: reply: %s", err);
		ret = -1;
	}
	attr_out_deinit(&o);
	return ret;
}

static void client_event(struct event_io *io, int fd, unsigned events,
			 void *ctx)
{
	struct mstatus_client *c = ctx;
	struct attr_rec rec;
	enum attr_status st;
	const char *err;
	int flushed;

	for (;;) {
		st = attr_read_iobuf(c->buf, c->dec, &rec, &err);
		if (st != ATTR_RECORD)
			break;
		if (handle_request(c, &rec) < 0) {
			client_free(c);
			return;
		}
	}
	flushed = iobuf_flush(c->buf);
	if (st == ATTR_ERROR || st == ATTR_EOF || flushed < 0) {
		client_free(c);
		return;
	}
	if (event_io_modify(c->io, flushed ? EVENT_READ : EVENT_WRITE, &err) <
	    0)
		client_free(c);
}

static void client_timeout(struct event_timer *timer, void *ctx)
{
	client_free(ctx);
}

static void client_new(struct mstatus *st, int fd)
{
	struct mstatus_client *c = mem_alloc(sizeof(*c));
	struct attr_out o;
	const char *err;

	c->st = st;
	c->fd = fd;
	c->buf = iobuf_new(fd, NULL);
	c->dec = attr_decoder_new(MSTATUS_MAX_REQUEST);
	c->next = st->clients;
	c->prevp = &st->clients;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	st->clients = c;
	st->nclients++;
	c->timer = event_timer_add(st->m->loop, MSTATUS_TIMEOUT_MS, false,
				   client_timeout, c);
	attr_out_init(&o);
	attr_hello_put(&o, MASTER_STATUS_PROTOCOL, MASTER_STATUS_VERSION);
	attr_write_iobuf(c->buf, &o, &err);
	attr_out_deinit(&o);
	c->io =
	    event_io_add(st->m->loop, fd,
			 iobuf_flush(c->buf) == 0 ? EVENT_WRITE : EVENT_READ,
			 client_event, c, &err);
	if (c->io == NULL)
		client_free(c);
}

static void on_accept(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct mstatus *st = ctx;
	const char *err;
	int cfd;

	while (sock_accept(fd, &cfd, &err) > 0) {
		if (st->nclients >= MSTATUS_MAX_CLIENTS) {
			close(cfd);
			continue;
		}
		client_new(st, cfd);
	}
}

int master_status_open(struct master *m, const char **error_r)
{
	struct mstatus *st = mem_alloc(sizeof(*st));

	st->m = m;
	st->path = instance_status_path(m->conf);
	st->fd = sock_unix_listen(st->path, 0600, 16, error_r);
	if (st->fd < 0) {
		mem_free(st->path);
		mem_free(st);
		return -1;
	}
	st->io =
	    event_io_add(m->loop, st->fd, EVENT_READ, on_accept, st, error_r);
	if (st->io == NULL) {
		close(st->fd);
		mem_free(st->path);
		mem_free(st);
		return -1;
	}
	m->status = st;
	return 1;
}

void master_status_close(struct master *m)
{
	struct mstatus *st = m->status;

	if (st == NULL)
		return;
	while (st->clients != NULL)
		client_free(st->clients);
	event_io_remove(&st->io);
	close(st->fd);
	unlink(st->path);
	mem_free(st->path);
	mem_free(st);
	m->status = NULL;
}
