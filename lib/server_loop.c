/* server_loop.c: the daemon skeleton's event loop part (see server.h):
 * accepting on the listeners the master handed over, telling the master
 * when the process is busy or free, collecting trigger bytes, and deciding
 * when the process has done its share and exits. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "server_internal.h"
#include "sock.h"

/* Connections a MULTI process takes per wake-up before it looks at the rest
 * of its loop again. */
#define SERVER_ACCEPT_BATCH 16
/* A trigger connection idle for this long is cut: silently when it has
 * delivered triggers (a writer that keeps its connection, see
 * qmgr_trigger.h, gives it up sooner), with a warning when it never wrote. */
#define SERVER_TRIGGER_TIMEOUT_MS 10000

static void triggers_drop(struct server *srv);

struct server_trigger {
	struct server *srv;
	int fd;
	struct event_io *io;
	struct event_timer *timer;
	struct server_trigger *next, **prevp;
	bool delivered;
};

static void report(struct server *srv, bool avail)
{
	struct master_status st = {
	    .pid = (int32_t)getpid(),
	    .avail = avail ? MASTER_STAT_AVAIL : MASTER_STAT_TAKEN,
	};
	ssize_t n;

	if (srv->master_gone || srv->reported_avail == avail)
		return;
	srv->reported_avail = avail;
	n = write(MASTER_STATUS_FD, &st, sizeof(st));
	if (n == (ssize_t)sizeof(st))
		return;
	if (n < 0 && errno == EPIPE)
		srv->master_gone = true; /* server_update() acts on it */
	else
		msg_warn("service %s: status report to the master failed: %s",
			 srv->service, n < 0 ? strerror(errno) : "short write");
}

static void set_accepting(struct server *srv, bool on)
{
	const char *err;

	if (srv->accepting == on || srv->listeners_closed)
		return;
	srv->accepting = on;
	for (unsigned int i = 0; i < srv->nlisten; i++)
		if (event_io_modify(srv->listeners[i].io, on ? EVENT_READ : 0,
				    &err) < 0)
			msg_fatal("service %s: %s", srv->service, err);
}

/* Once the process will not accept again, its listeners go at once: the
 * master (or, after a removal on reload, nobody) keeps them open. */
static void close_listeners(struct server *srv)
{
	if (srv->listeners_closed)
		return;
	srv->listeners_closed = true;
	srv->accepting = false;
	for (unsigned int i = 0; i < srv->nlisten; i++) {
		event_io_remove(&srv->listeners[i].io);
		close(srv->listeners[i].fd);
		srv->listeners[i].fd = -1;
	}
}

/* Clients below which the process tells the master it is available. */
static unsigned int server_capacity(const struct server *srv)
{
	if (srv->ops->kind == SERVER_MULTI && srv->ops->multi_capacity > 0)
		return srv->ops->multi_capacity;
	return 1;
}

void server_update(struct server *srv)
{
	bool resident = (srv->ops->flags & SERVER_RESIDENT) != 0;

	if (srv->stopping || srv->master_gone ||
	    (!resident && srv->use_count >= srv->max_use)) {
		triggers_drop(srv);
		close_listeners(srv);
		report(srv, false);
		event_timer_stop(srv->idle_timer);
		if (srv->clients == 0)
			event_loop_stop(srv->loop);
		return;
	}
	set_accepting(srv, srv->ops->kind == SERVER_SINGLE
			       ? srv->clients == 0
			       : srv->ops->multi_capacity == 0 ||
				     srv->clients < srv->ops->multi_capacity);
	report(srv, srv->clients < server_capacity(srv));
	if (srv->master_gone) {
		server_update(srv);
		return;
	}
	if (srv->clients > 0 || resident)
		event_timer_stop(srv->idle_timer);
	else if (!event_timer_armed(srv->idle_timer))
		event_timer_restart(srv->idle_timer, srv->max_idle * 1000);
}

void server_client_done(struct server *srv)
{
	if (srv->clients == 0)
		msg_panic("server_client_done() without a client");
	srv->clients--;
	server_update(srv);
}

void server_stop(struct server *srv)
{
	srv->stopping = true;
	server_update(srv);
}

static void trigger_finish(struct server_trigger *t)
{
	struct server *srv = t->srv;

	event_io_remove(&t->io);
	event_timer_remove(&t->timer);
	close(t->fd);
	*t->prevp = t->next;
	if (t->next != NULL)
		t->next->prevp = t->prevp;
	mem_free(t);
	server_client_done(srv);
}

/* The bytes each read gets are one trigger, delivered at once: a writer
 * may keep its connection for the next ones. */
static void trigger_read(struct event_io *io, int fd, unsigned events,
			 void *ctx)
{
	struct server_trigger *t = ctx;
	char buf[SERVER_TRIGGER_MAX];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)io;
	(void)events;
	if (n > 0) {
		t->delivered = true;
		event_timer_restart(t->timer, SERVER_TRIGGER_TIMEOUT_MS);
		t->srv->ops->trigger(t->srv, buf, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		trigger_finish(t);
	}
}

static void trigger_timeout(struct event_timer *timer, void *ctx)
{
	struct server_trigger *t = ctx;

	(void)timer;
	if (!t->delivered)
		msg_warn("service %s: trigger writer timed out",
			 t->srv->service);
	trigger_finish(t);
}

/* Stopping: kept trigger connections carry nothing that waits for an
 * answer, so they do not hold the process (what is readable is taken). */
static void triggers_drop(struct server *srv)
{
	static bool dropping;
	char buf[SERVER_TRIGGER_MAX];
	ssize_t n;

	if (dropping)
		return; /* trigger_finish() comes back through here */
	dropping = true;
	while (srv->triggers != NULL) {
		n = read(srv->triggers->fd, buf, sizeof(buf));
		if (n > 0)
			srv->ops->trigger(srv, buf, (size_t)n);
		trigger_finish(srv->triggers);
	}
	dropping = false;
}

static void trigger_start(struct server *srv, int fd)
{
	struct server_trigger *t = mem_alloc(sizeof(*t));
	const char *err;

	t->srv = srv;
	t->fd = fd;
	t->io = event_io_add(srv->loop, fd, EVENT_READ, trigger_read, t, &err);
	if (t->io == NULL)
		msg_fatal("service %s: %s", srv->service, err);
	t->timer = event_timer_add(srv->loop, SERVER_TRIGGER_TIMEOUT_MS, false,
				   trigger_timeout, t);
	t->next = srv->triggers;
	t->prevp = &srv->triggers;
	if (t->next != NULL)
		t->next->prevp = &t->next;
	srv->triggers = t;
}

/* A fifo has no connections: whatever is readable is one trigger. */
static void fifo_read(struct server *srv, int fd)
{
	char buf[SERVER_TRIGGER_MAX];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return;
	srv->use_count++;
	srv->clients++;
	server_update(srv);
	srv->ops->trigger(srv, buf, (size_t)n);
	server_client_done(srv);
}

static void on_listener(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct server_listener *l = ctx;
	struct server *srv = l->srv;
	const char *err;
	int cfd;

	if (l->fifo) {
		fifo_read(srv, fd);
		return;
	}
	for (int i = 0; i < SERVER_ACCEPT_BATCH && srv->accepting; i++) {
		int r = sock_accept(fd, &cfd, &err);
		if (r == 0)
			return;
		if (r < 0) {
			/* EMFILE and the like: this process is full; the
			 * master starts another when it is needed. */
			msg_warn("service %s: %s", srv->service, err);
			server_stop(srv);
			return;
		}
		srv->use_count++;
		srv->clients++;
		server_update(srv);
		if (srv->ops->kind == SERVER_TRIGGER)
			trigger_start(srv, cfd);
		else
			srv->ops->client(srv, cfd);
	}
}

static void on_status(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct server *srv = ctx;

	msg_debug("service %s: the master closed the status pipe",
		  srv->service);
	event_io_remove(&srv->status_io);
	srv->master_gone = true;
	server_update(srv);
}

static void on_idle(struct event_timer *timer, void *ctx)
{
	struct server *srv = ctx;

	if (srv->clients == 0) {
		msg_debug("service %s: idle for %us", srv->service,
			  srv->max_idle);
		server_stop(srv);
	}
}

/* The watchdog: SIGALRM (default action: die) unless the loop comes round
 * within daemon_timeout. */
static void on_watchdog(struct event_timer *timer, void *ctx)
{
	struct server *srv = ctx;

	alarm(srv->daemon_timeout);
}

int server_loop_setup(struct server *srv, const char **error_r)
{
	unsigned int beat = srv->daemon_timeout / 4;

	for (unsigned int i = 0; i < srv->nlisten; i++) {
		struct server_listener *l = &srv->listeners[i];
		l->io = event_io_add(srv->loop, l->fd, EVENT_READ, on_listener,
				     l, error_r);
		if (l->io == NULL)
			return -1;
	}
	srv->accepting = true;
	srv->status_io = event_io_add(srv->loop, MASTER_STATUS_FD, EVENT_READ,
				      on_status, srv, error_r);
	if (srv->status_io == NULL)
		return -1;
	srv->idle_timer = event_timer_add(srv->loop, 1000, false, on_idle, srv);
	event_timer_stop(srv->idle_timer);
	beat = beat < 1 ? 1 : beat > 3600 ? 3600 : beat;
	srv->watchdog =
	    event_timer_add(srv->loop, beat * 1000, true, on_watchdog, srv);
	alarm(srv->daemon_timeout);
	server_update(srv);
	return 1;
}

void server_loop_teardown(struct server *srv)
{
	while (srv->triggers != NULL) {
		struct server_trigger *t = srv->triggers;
		event_io_remove(&t->io);
		event_timer_remove(&t->timer);
		close(t->fd);
		srv->triggers = t->next;
		mem_free(t);
	}
	close_listeners(srv);
	event_io_remove(&srv->status_io);
	event_timer_remove(&srv->idle_timer);
	event_timer_remove(&srv->watchdog);
	alarm(0);
}
