/* deliver.c: qmgr's side of the delivery protocol (lib/deliver_proto.h),
 * non-blocking on qmgr's event loop: one connection per delivery in
 * flight to the agent's socket (private/local, private/smtp, a clone),
 * each a small state machine: read the hello, pass a read-only descriptor
 * of the queue file, send the request (for smtp also the next hop and the
 * DSN envelope fields), read one result per recipient (smtp adds the relay
 * it used, its set-up and transmission times, how often the connection
 * to the server was used, and, when the destination failed as a whole,
 * the reason: "hop"). An agent that answers reuse=1 waits on the same
 * connection for another request: qmgr keeps it idle, bound to the
 * destination it served, for up to smtp_connection_cache_time_limit, and
 * hands it the next entry of that destination, so that the agent's SMTP
 * session is reused. Any failure (agent crashed, timeout, malformed
 * reply) defers every recipient of the entry with the reason: local is
 * idempotent, so a retry never makes a second copy; smtp cannot be. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_proto.h"
#include "iobuf.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

enum agent_state {
	AGENT_HELLO,
	AGENT_FD,
	AGENT_REQUEST,
	AGENT_REPLY,
	AGENT_IDLE
};

struct qmgr_agent {
	struct qmgr *q;
	struct qmgr_transport *t;
	struct qmgr_queue *queue; /* served last (idle: bound to it) */
	enum agent_state state;
	int fd, qfd;
	struct event_io *io;
	struct iobuf *buf;
	struct attr_decoder *dec;
	struct event_timer *timer;
	struct qmgr_entry *entry;
	struct attr_out out;
	bool reused;
	bool slow; /* timed out during a delivery: not a broken agent */
	uint64_t t_start, t_sent; /* microseconds, wall clock */
	struct qmgr_agent *prev, *next;
};

static uint64_t now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

unsigned qmgr_agent_count(const struct qmgr_transport *t)
{
	return t->conns;
}

static void agent_bind(struct qmgr_agent *a, struct qmgr_queue *u)
{
	if (a->queue == u)
		return;
	if (a->queue != NULL)
		qmgr_sched_unbind(a->q, a->queue);
	a->queue = u;
	u->agents++;
}

static void agent_free(struct qmgr_agent *a)
{
	struct qmgr_transport *t = a->t;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		t->agents = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	t->conns--;
	event_io_remove(&a->io);
	event_timer_remove(&a->timer);
	iobuf_free(&a->buf);
	attr_decoder_free(&a->dec);
	attr_out_deinit(&a->out);
	if (a->qfd >= 0)
		close(a->qfd);
	if (a->fd >= 0)
		close(a->fd);
	if (a->queue != NULL)
		qmgr_sched_unbind(a->q, a->queue);
	mem_free(a);
}

/* Every recipient of e deferred with "delivery agent T failed: why"; the
 * postmaster hears of it per notify_classes; throttle: the transport is
 * broken, not just this delivery (qmgr_transport_throttle()). */
static void entry_fail(struct qmgr *q, struct qmgr_entry *e,
		       const char *transport, enum qmgr_problem cls,
		       bool throttle, const char *why)
{
	const struct queue_envelope *env = queue_file_envelope(e->msg->qf);
	struct qmgr_result r = {.status = QMGR_DEFERRED,
				.dsn = "4.3.0",
				.relay = e->queue->nexthop == NULL ? transport
								   : "none"};
	struct str text, key;

	str_init(&text, 128);
	str_init(&key, 64);
	str_printf(&text, "delivery agent %s failed: %s", transport, why);
	str_printf(&key, "transport %s", transport);
	msg_set_queue_id(e->msg->id);
	msg_warn("%s", text.data);
	if (cls == QMGR_PROBLEM_SOFTWARE && throttle)
		msg_warn("transport %s failure -- see a previous "
			 "warning/fatal/panic logfile record for the problem "
			 "description",
			 transport);
	r.text = text.data;
	for (size_t i = 0; i < e->n; i++) {
		r.index = e->idx[i];
		qmgr_record(q, e->msg, &r);
	}
	qmgr_notice(q, cls, key.data, e->msg->id, env->sender, text.data);
	msg_set_queue_id(NULL);
	if (throttle)
		qmgr_transport_throttle(q, e->queue->transport, text.data);
	str_deinit(&text);
	str_deinit(&key);
	qmgr_sched_done(q, e, NULL, NULL);
}

/* The connection broke: the entry in flight (if any) is deferred; a
 * software problem (crash, broken protocol, no answer in time) throttles
 * the transport. why may live in a's buffers: it is copied before they
 * go. */
static void agent_fail(struct qmgr_agent *a, enum qmgr_problem cls,
		       const char *why)
{
	struct qmgr *q = a->q;
	struct qmgr_entry *e = a->entry;
	bool slow = a->slow;
	struct str t, w;

	a->entry = NULL;
	str_init(&t, 32);
	str_init(&w, 128);
	str_append_cstr(&t, a->t->name);
	str_append_cstr(&w, why);
	if (e != NULL && a->reused && a->state <= AGENT_REQUEST) {
		/* An idle agent that went away before it took the request
		 * (its own idle limit, max_use): a fresh one will do. */
		agent_free(a);
		qmgr_sched_requeue(q, e);
	} else {
		agent_free(a);
		if (e != NULL)
			entry_fail(q, e, t.data, cls,
				   cls == QMGR_PROBLEM_SOFTWARE && !slow,
				   w.data);
	}
	str_deinit(&t);
	str_deinit(&w);
}

static void agent_reply(struct qmgr *q, struct qmgr_agent *a);

static void agent_want(struct qmgr_agent *a, unsigned events, unsigned ms)
{
	const char *err;

	(void)event_io_modify(a->io, events, &err);
	event_timer_restart(a->timer, ms);
}

static void request_put(struct attr_out *o, struct queue_file *qf,
			const struct qmgr_entry *e, bool retry)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *envid = env->fields[QUEUE_FIELD_ENVID];
	const char *nexthop = e->queue->nexthop;

	attr_out_reset(o);
	attr_put_str(o, "queue_id", env->id);
	attr_put_str(o, "sender", env->sender);
	attr_put_int(o, "arrival", (int64_t)env->arrival_usec);
	attr_put_int(o, "offset", (int64_t)queue_file_content_offset(qf));
	attr_put_int(o, "size", (int64_t)queue_file_content_size(qf));
	attr_put_int(o, "retry", retry ? 1 : 0);
	if (nexthop != NULL) {
		attr_put_str(o, "nexthop", nexthop);
		attr_put_str(o, "envid", envid != NULL ? envid : "");
		attr_put_int(o, "ret", (int64_t)env->ret);
		attr_put_int(o, "flags", (int64_t)env->msg_flags);
	}
	attr_list_begin(o, "rcpts");
	for (size_t i = 0; i < e->n; i++) {
		const struct queue_rcpt *r = &env->rcpts[e->idx[i]];

		attr_item_begin(o);
		attr_put_int(o, "index", (int64_t)e->idx[i]);
		attr_put_str(o, "address", r->address);
		attr_put_str(o, "orcpt", r->orcpt != NULL ? r->orcpt : "");
		if (nexthop != NULL)
			attr_put_int(o, "notify", (int64_t)r->notify);
		attr_item_end(o);
	}
	attr_list_end(o);
}

/* Passes the queue file descriptor: 1 sent, 0 wait for room, -1. */
static int fd_send(struct qmgr_agent *a)
{
	ssize_t n = deliver_fd_sendmsg(a->fd, a->qfd, MSG_DONTWAIT);

	if (n == 1) {
		close(a->qfd);
		a->qfd = -1;
		return 1;
	}
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

/* Sends what is pending: the descriptor, then the request. */
static void agent_send(struct qmgr_agent *a)
{
	const char *err;
	int r;

	if (a->state == AGENT_FD) {
		r = fd_send(a);
		if (r < 0)
			return agent_fail(a, QMGR_PROBLEM_SOFTWARE,
					  "cannot pass the queue file");
		if (r == 0)
			return agent_want(a, EVENT_WRITE, a->q->timeout_ms);
		if (attr_write_iobuf(a->buf, &a->out, &err) < 0)
			return agent_fail(a, QMGR_PROBLEM_SOFTWARE, err);
		a->state = AGENT_REQUEST;
	}
	r = iobuf_flush(a->buf);
	if (r < 0)
		return agent_fail(a, QMGR_PROBLEM_SOFTWARE,
				  iobuf_error(a->buf));
	if (r == 0)
		return agent_want(a, EVENT_WRITE, a->q->timeout_ms);
	a->state = AGENT_REPLY;
	a->t_sent = now_usec();
	agent_want(a, EVENT_READ, a->q->timeout_ms);
}

/* Hands entry e to agent a (connected, hello read). */
static void agent_request(struct qmgr_agent *a, struct qmgr_entry *e)
{
	struct qmgr *q = a->q;
	const char *err;
	int dfd = queue_dir_fd(q->qd, QUEUE_ACTIVE, &err);

	a->entry = e;
	agent_bind(a, e->queue);
	a->qfd = dfd < 0 ? -1
			 : openat(dfd, e->msg->id,
				  O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (a->qfd < 0)
		return agent_fail(a, QMGR_PROBLEM_RESOURCE,
				  "cannot reopen the queue file read-only");
	request_put(&a->out, e->msg->qf, e, e->msg->retry);
	a->state = AGENT_FD;
	agent_send(a);
}

static void agent_hello(struct qmgr_agent *a)
{
	struct attr_rec rec;
	const char *err = NULL;
	enum attr_status st = attr_read_iobuf(a->buf, a->dec, &rec, &err);

	if (st == ATTR_NEED_MORE)
		return;
	if (st != ATTR_RECORD ||
	    attr_hello_check(&rec, DELIVER_PROTOCOL, DELIVER_VERSION, &err) < 0)
		return agent_fail(a, QMGR_PROBLEM_SOFTWARE,
				  err != NULL ? err : "no hello");
	agent_request(a, a->entry);
}

/* An idle connection: the agent may only close it. */
static void agent_idle_event(struct qmgr_agent *a)
{
	agent_free(a);
}

static void agent_io(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct qmgr_agent *a = ctx;

	(void)io;
	(void)fd;
	(void)events;
	switch (a->state) {
	case AGENT_HELLO:
		return agent_hello(a);
	case AGENT_FD:
	case AGENT_REQUEST:
		return agent_send(a);
	case AGENT_REPLY:
		return agent_reply(a->q, a);
	case AGENT_IDLE:
		return agent_idle_event(a);
	}
}

static void agent_timeout(struct event_timer *timer, void *ctx)
{
	struct qmgr_agent *a = ctx;

	(void)timer;
	if (a->state == AGENT_IDLE)
		return agent_free(a);
	/* An agent that never answered is broken; one that took the
	 * request may just be slow with a big delivery: only that one
	 * delivery is deferred. */
	a->slow = a->state == AGENT_REPLY;
	agent_fail(a, QMGR_PROBLEM_SOFTWARE, "timeout");
}

/* A non-blocking connect to private/NAME: fd, -2 when the backlog is
 * full, -1 with *error_r. */
static int agent_connect(struct qmgr *q, const char *name, struct str *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, n;

	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
		     q->private_dir, name);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		str_append_cstr(err, "socket path too long");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		str_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		n = errno;
		close(fd);
		if (n == EAGAIN)
			return -2;
		str_printf(err, "connect to transport private/%s: %s", name,
			   strerror(n));
		return -1;
	}
	return fd;
}

static struct qmgr_agent *agent_new(struct qmgr *q, struct qmgr_transport *t,
				    int fd)
{
	struct qmgr_agent *a = mem_calloc(1, sizeof(*a));
	const char *err;

	a->q = q;
	a->t = t;
	a->fd = fd;
	a->qfd = -1;
	a->buf = iobuf_new(fd, NULL);
	a->dec = attr_decoder_new(ATTR_DEFAULT_MAX_RECORD * 4);
	attr_out_init(&a->out);
	a->io = event_io_add(q->loop, fd, EVENT_READ, agent_io, a, &err);
	a->timer =
	    event_timer_add(q->loop, q->timeout_ms, false, agent_timeout, a);
	a->next = t->agents;
	if (t->agents != NULL)
		t->agents->prev = a;
	t->agents = a;
	t->conns++;
	return a;
}

int qmgr_agent_start(struct qmgr *q, struct qmgr_entry *e)
{
	struct qmgr_transport *t = e->queue->transport;
	struct qmgr_agent *a;
	struct str err;
	int fd;

	for (a = t->agents; a != NULL; a = a->next)
		if (a->state == AGENT_IDLE && a->queue == e->queue)
			break;
	if (a != NULL) {
		a->reused = true;
		a->t_start = now_usec();
		agent_request(a, e);
		return 1;
	}
	str_init(&err, 128);
	fd = agent_connect(q, t->name, &err);
	if (fd == -2) {
		str_deinit(&err);
		return 0;
	}
	if (fd < 0) {
		/* Postfix: the agent cannot be started, a resource
		 * problem; the transport is left alone for a while */
		entry_fail(q, e, t->name, QMGR_PROBLEM_RESOURCE, true,
			   err.data);
		str_deinit(&err);
		return 1;
	}
	str_deinit(&err);
	a = agent_new(q, t, fd);
	if (a->io == NULL) {
		a->entry = e;
		agent_fail(a, QMGR_PROBLEM_RESOURCE,
			   "cannot watch the connection");
		return 1;
	}
	a->entry = e;
	agent_bind(a, e->queue);
	a->state = AGENT_HELLO;
	a->t_start = now_usec();
	return 1;
}

bool qmgr_agent_make_room(struct qmgr *q, struct qmgr_transport *t,
			  const struct qmgr_queue *u)
{
	struct qmgr_agent *a, *victim = NULL;

	(void)q;
	for (a = t->agents; a != NULL; a = a->next) {
		if (a->state != AGENT_IDLE)
			continue;
		if (a->queue == u)
			return true;
		victim = a;
	}
	if (victim == NULL)
		return false;
	agent_free(victim);
	return true;
}

void qmgr_agent_close_all(struct qmgr *q, struct qmgr_transport *t)
{
	(void)q;
	while (t->agents != NULL) {
		struct qmgr_agent *a = t->agents;

		if (a->entry != NULL) {
			mem_free(a->entry->idx);
			mem_free(a->entry);
		}
		a->queue = NULL; /* the queues go next */
		agent_free(a);
	}
}

/* ---- the reply */

struct reply_info {
	const char *hop, *hop_dsn;
	int64_t setup_usec, xfer_usec, conn_use, reuse;
};

/* The optional top-level fields of an smtp-like agent's reply. */
static int reply_info_get(struct attr_rec *rep, struct reply_info *ri,
			  const char **error_r)
{
	int r;

	*ri = (struct reply_info){.setup_usec = -1, .xfer_usec = -1};
	if ((r = attr_get_cstr(rep, "hop", &ri->hop, error_r)) < 0 ||
	    (r == 1 &&
	     attr_get_cstr(rep, "hop_dsn", &ri->hop_dsn, error_r) != 1) ||
	    attr_get_int_range(rep, "setup_usec", 0, INT64_MAX, &ri->setup_usec,
			       error_r) < 0 ||
	    attr_get_int_range(rep, "xfer_usec", 0, INT64_MAX, &ri->xfer_usec,
			       error_r) < 0 ||
	    attr_get_int_range(rep, "conn_use", 0, INT32_MAX, &ri->conn_use,
			       error_r) < 0 ||
	    attr_get_int_range(rep, "reuse", 0, 1, &ri->reuse, error_r) < 0)
		return -1;
	if (ri->hop != NULL && ri->hop[0] == '\0')
		ri->hop = NULL;
	return attr_rec_done(rep, error_r);
}

/* One result per recipient of e, in order, into res. */
static int results_get(struct attr_list *list, const struct qmgr_entry *e,
		       struct qmgr_result *res, const char **error_r)
{
	struct attr_rec item;
	const char *status, *dsn;
	int64_t index, relayed = 0;
	size_t k = 0;

	while (attr_list_next(list, &item) == 1) {
		struct qmgr_result *r = &res[k];

		if (k >= e->n ||
		    attr_get_int(&item, "index", &index, error_r) != 1 ||
		    attr_get_cstr(&item, "status", &status, error_r) != 1 ||
		    attr_get_cstr(&item, "dsn", &dsn, error_r) != 1 ||
		    attr_get_cstr(&item, "text", &r->text, error_r) != 1 ||
		    attr_get_cstr(&item, "relay", &r->relay, error_r) < 0 ||
		    attr_get_int_range(&item, "relayed", 0, 1, &relayed,
				       error_r) < 0 ||
		    attr_rec_done(&item, error_r) < 0)
			return -1;
		if ((size_t)index != e->idx[k] || strlen(dsn) >= 16) {
			*error_r = "reply does not match the request";
			return -1;
		}
		r->index = (size_t)index;
		r->status = strcmp(status, "sent") == 0	     ? QMGR_SENT
			    : strcmp(status, "bounced") == 0 ? QMGR_BOUNCED
							     : QMGR_DEFERRED;
		memcpy(r->dsn, dsn, strlen(dsn) + 1);
		r->relayed = relayed != 0;
		k++;
	}
	if (k != e->n) {
		*error_r = "reply has fewer results than recipients";
		return -1;
	}
	return 1;
}

/* Records every result of a well-formed reply. */
static void results_record(struct qmgr_agent *a, struct qmgr_result *res,
			   const struct reply_info *ri)
{
	struct qmgr_entry *e = a->entry;
	uint64_t now = now_usec(), active = e->msg->active_usec;
	bool timed = ri->setup_usec >= 0 && ri->xfer_usec >= 0;
	/* b: in qmgr until the agent had the request (waiting for a
	 * window, for the agent process); an agent that does not time its
	 * work gets c = the IPC set-up, d = the rest */
	uint64_t end_b = timed ? a->t_sent : a->t_start;
	uint64_t b = end_b > active ? end_b - active : 0;

	msg_set_queue_id(e->msg->id);
	for (size_t k = 0; k < e->n; k++) {
		struct qmgr_result *r = &res[k];

		if (r->relay == NULL || r->relay[0] == '\0')
			r->relay =
			    e->queue->nexthop == NULL ? a->t->name : "none";
		r->conn_use = (unsigned)ri->conn_use;
		r->b_usec = b;
		if (timed) {
			r->c_usec = (uint64_t)ri->setup_usec;
			r->d_usec = (uint64_t)ri->xfer_usec;
		} else {
			r->c_usec = a->t_sent - a->t_start;
			r->d_usec = now - a->t_sent;
		}
		qmgr_record(a->q, e->msg, r);
	}
	msg_set_queue_id(NULL);
}

static void agent_reply(struct qmgr *q, struct qmgr_agent *a)
{
	struct qmgr_entry *e = a->entry;
	struct qmgr_result *res;
	struct reply_info ri;
	struct attr_rec rep;
	struct attr_list list;
	const char *err = NULL;
	enum attr_status st = attr_read_iobuf(a->buf, a->dec, &rep, &err);
	struct str hop;
	char hop_dsn[16] = "";

	if (st == ATTR_NEED_MORE)
		return;
	if (st != ATTR_RECORD)
		return agent_fail(a, QMGR_PROBLEM_SOFTWARE,
				  err != NULL ? err : "connection closed");
	res = mem_calloc(e->n, sizeof(*res));
	if (attr_get_list(&rep, "rcpts", &list, &err) != 1 ||
	    results_get(&list, e, res, &err) < 0 ||
	    reply_info_get(&rep, &ri, &err) < 0) {
		mem_free(res);
		return agent_fail(a, QMGR_PROBLEM_SOFTWARE, err);
	}
	results_record(a, res, &ri);
	mem_free(res);
	str_init(&hop, 64);
	if (ri.hop != NULL) {
		str_append_cstr(&hop, ri.hop);
		snprintf(hop_dsn, sizeof(hop_dsn), "%s", ri.hop_dsn);
	}
	a->entry = NULL;
	if (ri.reuse == 1) {
		a->state = AGENT_IDLE;
		agent_want(a, EVENT_READ, q->idle_ms);
	} else
		agent_free(a);
	/* the reply (and ri) may be gone now */
	qmgr_sched_done(q, e, ri.hop != NULL ? hop.data : NULL, hop_dsn);
	str_deinit(&hop);
}
