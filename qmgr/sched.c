/* sched.c: the scheduler. A transport is a master.cf service (smtp, local,
 * a clone); it runs at most maxproc agent connections. A queue is one
 * destination of a transport (its next hop; for transports with a
 * recipient limit of 1, such as local, each recipient) with a todo list
 * of entries and a concurrency window: it starts at
 * initial_destination_concurrency, grows by one per delivery that worked
 * (up to the destination concurrency limit) and shrinks by one per
 * delivery that failed as a whole (connection refused, greeting 4xx,
 * DNS failure). Each such failure adds 1/window to a failure count; past
 * destination_concurrency_failed_cohort_limit the destination is dead: its
 * queued and new entries are deferred at once, without an attempt, until
 * minimal_backoff_time has passed. A transport whose agent crashed, broke
 * the protocol or could not be reached is unavailable in the same way, as
 * a whole, for transport_retry_time. A round hands entries to agents,
 * round robin over the queues of each transport, while the transport and
 * the queue have room; before each pick, a small job (one message's
 * entries for the transport) may go ahead of the big one being served
 * (preemption, see preempt()). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master_cf.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

/* NAME_suffix from main.cf, else default_suffix; at least min. */
static unsigned transport_param(struct qmgr *q, const char *name,
				const char *suffix, long long min,
				long long max)
{
	struct str key;
	const char *v;
	long long n;

	str_init(&key, 64);
	str_printf(&key, "%s_%s", name, suffix);
	v = conf_lookup(q->conf, key.data);
	if (v != NULL)
		n = strtoll(v, NULL, 10);
	else {
		str_clear(&key);
		str_printf(&key, "default_%s", suffix);
		n = conf_get_int(q->conf, key.data);
	}
	str_deinit(&key);
	return (unsigned)(n < min ? min : n > max ? max : n);
}

static struct qmgr_transport *transport_get(struct qmgr *q, const char *name)
{
	struct qmgr_transport *t;
	const struct master_service *s;
	long long lim;

	for (t = q->transports; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	t = mem_calloc(1, sizeof(*t));
	t->name = mem_strdup(name);
	s = q->master_cf != NULL
		? master_cf_find(q->master_cf, name, MASTER_UNIX)
		: NULL;
	lim = conf_get_int(q->conf, "default_process_limit");
	if (s != NULL)
		lim = s->maxproc == 0 ? 1000 : s->maxproc;
	t->proc_limit = (unsigned)(lim < 1 ? 1 : lim);
	t->dest_limit = transport_param(
	    q, name, "destination_concurrency_limit", 1, UINT32_MAX);
	t->rcpt_limit =
	    transport_param(q, name, "destination_recipient_limit", 1, 1000);
	t->slot_cost =
	    transport_param(q, name, "delivery_slot_cost", 0, UINT32_MAX);
	t->slot_loan =
	    transport_param(q, name, "delivery_slot_loan", 0, UINT32_MAX);
	t->slot_discount =
	    transport_param(q, name, "delivery_slot_discount", 0, 100);
	t->min_slots =
	    transport_param(q, name, "minimum_delivery_slots", 0, UINT32_MAX);
	t->next = q->transports;
	q->transports = t;
	return t;
}

static struct qmgr_queue *queue_get(struct qmgr *q, struct qmgr_transport *t,
				    const char *nexthop, const char *rcpt)
{
	struct qmgr_queue *u;
	struct str key;
	void *v;

	str_init(&key, 64);
	str_printf(&key, "%s\001%s", t->name,
		   t->rcpt_limit == 1 ? rcpt
		   : nexthop != NULL  ? nexthop
				      : "");
	if (htable_find(q->queues, key.data, &v)) {
		str_deinit(&key);
		return v;
	}
	u = mem_calloc(1, sizeof(*u));
	u->transport = t;
	u->key = str_steal(&key);
	u->nexthop = nexthop != NULL ? mem_strdup(nexthop) : NULL;
	u->window =
	    q->init_window < t->dest_limit ? q->init_window : t->dest_limit;
	htable_insert(q->queues, u->key, u);
	u->prev = t->queues_tail;
	if (t->queues_tail != NULL)
		t->queues_tail->next = u;
	else
		t->queues = u;
	t->queues_tail = u;
	return u;
}

static void queue_unlink(struct qmgr_queue *u)
{
	struct qmgr_transport *t = u->transport;

	if (u->prev != NULL)
		u->prev->next = u->next;
	else
		t->queues = u->next;
	if (u->next != NULL)
		u->next->prev = u->prev;
	else
		t->queues_tail = u->prev;
	u->prev = u->next = NULL;
}

/* Moves u to the end of its transport's list (round robin). */
static void queue_rotate(struct qmgr_queue *u)
{
	struct qmgr_transport *t = u->transport;

	if (t->queues_tail == u)
		return;
	queue_unlink(u);
	u->prev = t->queues_tail;
	t->queues_tail->next = u;
	t->queues_tail = u;
}

static void queue_free(struct qmgr *q, struct qmgr_queue *u)
{
	htable_remove(q->queues, u->key, NULL);
	queue_unlink(u);
	event_timer_remove(&u->revive);
	mem_free(u->dead_reason);
	mem_free(u->key);
	mem_free(u->nexthop);
	mem_free(u);
}

/* A queue with nothing to do, in flight or to remember goes away. */
static void queue_maybe_free(struct qmgr *q, struct qmgr_queue *u)
{
	if (u->todo == NULL && u->busy == 0 && u->agents == 0 && !u->dead &&
	    u->fail_cohorts == 0)
		queue_free(q, u);
}

/* Defers every recipient of e without an attempt: its destination is
 * dead or its transport unavailable. */
static void entry_defer(struct qmgr *q, struct qmgr_entry *e, const char *dsn,
			const char *reason)
{
	struct qmgr_result r = {.status = QMGR_DEFERRED, .relay = "none"};

	snprintf(r.dsn, sizeof(r.dsn), "%s", dsn);
	r.text = reason;
	msg_set_queue_id(e->msg->id);
	for (size_t i = 0; i < e->n; i++) {
		r.index = e->idx[i];
		qmgr_record(q, e->msg, &r);
	}
	msg_set_queue_id(NULL);
	qmgr_message_entry_done(q, e->msg);
	mem_free(e->idx);
	mem_free(e);
}

/* ---- jobs: one message's entries waiting for one transport */

static struct qmgr_job *job_get(struct qmgr_transport *t, struct qmgr_msg *m)
{
	struct qmgr_job *j;

	for (j = m->jobs; j != NULL; j = j->msg_next)
		if (j->transport == t)
			return j;
	j = mem_calloc(1, sizeof(*j));
	j->msg = m;
	j->transport = t;
	j->msg_next = m->jobs;
	m->jobs = j;
	j->prev = t->jobs_tail;
	if (t->jobs_tail != NULL)
		t->jobs_tail->next = j;
	else
		t->jobs = j;
	t->jobs_tail = j;
	return j;
}

static void job_free(struct qmgr_job *j)
{
	struct qmgr_transport *t = j->transport;
	struct qmgr_job **p = &j->msg->jobs;

	while (*p != j)
		p = &(*p)->msg_next;
	*p = j->msg_next;
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		t->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	else
		t->jobs_tail = j->prev;
	if (t->current == j)
		t->current = NULL;
	mem_free(j);
}

static void job_append(struct qmgr_job *j, struct qmgr_entry *e)
{
	e->job = j;
	e->job_prev = j->todo_tail;
	if (j->todo_tail != NULL)
		j->todo_tail->job_next = e;
	else
		j->todo = e;
	j->todo_tail = e;
	j->waiting++;
	j->total++;
}

/* e left the todo lists: its job forgets it, and goes when empty. */
static void job_unlink(struct qmgr_entry *e)
{
	struct qmgr_job *j = e->job;

	if (j == NULL)
		return;
	if (e->job_prev != NULL)
		e->job_prev->job_next = e->job_next;
	else
		j->todo = e->job_next;
	if (e->job_next != NULL)
		e->job_next->job_prev = e->job_prev;
	else
		j->todo_tail = e->job_prev;
	e->job = NULL;
	e->job_prev = e->job_next = NULL;
	if (--j->waiting == 0)
		job_free(j);
}

/* ---- todo lists */

static void todo_remove(struct qmgr_queue *u, struct qmgr_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		u->todo = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		u->todo_tail = e->prev;
	e->prev = e->next = NULL;
}

static struct qmgr_entry *todo_pop(struct qmgr_queue *u)
{
	struct qmgr_entry *e = u->todo;

	todo_remove(u, e);
	job_unlink(e);
	return e;
}

static void todo_push_front(struct qmgr_queue *u, struct qmgr_entry *e)
{
	e->prev = NULL;
	e->next = u->todo;
	if (u->todo != NULL)
		u->todo->prev = e;
	else
		u->todo_tail = e;
	u->todo = e;
}

static void todo_append(struct qmgr_queue *u, struct qmgr_entry *e)
{
	e->next = NULL;
	e->prev = u->todo_tail;
	if (u->todo_tail != NULL)
		u->todo_tail->next = e;
	else
		u->todo = e;
	u->todo_tail = e;
}

void qmgr_sched_add(struct qmgr *q, struct qmgr_msg *m, const char *transport,
		    const char *nexthop, const char *rcpt, size_t index)
{
	struct qmgr_transport *t = transport_get(q, transport);
	struct qmgr_queue *u = queue_get(q, t, nexthop, rcpt);
	struct qmgr_entry *e = u->todo_tail;

	/* a new entry also when the last one went ahead (preemption) */
	if (e == NULL || e->msg != m || e->n >= e->max || e->job == NULL) {
		e = mem_calloc(1, sizeof(*e));
		e->msg = m;
		e->queue = u;
		e->max = t->rcpt_limit;
		e->idx = mem_calloc(e->max, sizeof(size_t));
		m->entries++;
		todo_append(u, e);
		job_append(job_get(t, m), e);
	}
	e->idx[e->n++] = index;
	qmgr_sched_wakeup(q);
}

/* ---- preemption */

static void queue_to_front(struct qmgr_queue *u)
{
	struct qmgr_transport *t = u->transport;

	if (t->queues == u)
		return;
	queue_unlink(u);
	u->next = t->queues;
	t->queues->prev = u;
	t->queues = u;
}

/* Job k goes first: its entries to the front of their queues, and those
 * queues to the front of the round robin. */
static void job_front(struct qmgr_job *k)
{
	for (struct qmgr_entry *e = k->todo_tail; e != NULL; e = e->job_prev) {
		todo_remove(e->queue, e);
		todo_push_front(e->queue, e);
		queue_to_front(e->queue);
	}
}

/* Postfix's preemption, in a simple form: a later job that needs no more
 * deliveries than the slots the current job has earned (one per
 * slot_cost entries selected, less those spent, plus the loan; the last
 * discount percent need not be earned yet) goes ahead of it, and the
 * slots are spent. A job that would never earn min_slots is not
 * preempted. Looks at a few jobs only: this runs per selection. */
static void preempt(struct qmgr_transport *t)
{
	struct qmgr_job *c = t->current, *k;
	long long avail;
	unsigned looked = 0;

	if (c == NULL || t->slot_cost == 0 ||
	    c->total / t->slot_cost < t->min_slots)
		return;
	avail = (long long)(c->selected / t->slot_cost) - (long long)c->spent +
		(long long)t->slot_loan;
	for (k = c->next; k != NULL && looked < 64; k = k->next, looked++) {
		if (k->preempted || avail * 100 < (long long)k->waiting *
						      (100 - t->slot_discount))
			continue;
		c->spent += k->waiting;
		k->preempted = true;
		job_front(k);
		return;
	}
}

/* Defers what waits for dead queues, or for an unavailable transport. */
static void drain_dead(struct qmgr *q, struct qmgr_transport *t)
{
	struct qmgr_queue *u, *next;

	for (u = t->queues; u != NULL; u = next) {
		next = u->next;
		while (t->unavailable && u->todo != NULL)
			entry_defer(q, todo_pop(u), "4.3.0", t->unavail_reason);
		while (u->dead && u->todo != NULL)
			entry_defer(q, todo_pop(u), u->dead_dsn,
				    u->dead_reason);
		/* per-recipient queues of an unavailable transport */
		queue_maybe_free(q, u);
	}
}

/* Starts what transport t has room for. Returns false when an agent
 * socket was busy (try again soon). */
static bool transport_run(struct qmgr *q, struct qmgr_transport *t)
{
	struct qmgr_queue *u;
	struct qmgr_entry *e;
	int r;

	for (;;) {
		/* an attempt may have made it unavailable: the round that
		 * qmgr_transport_throttle() asked for defers the rest */
		if (t->unavailable)
			return true;
		preempt(t);
		for (u = t->queues; u != NULL; u = u->next)
			if (u->todo != NULL && !u->dead && u->busy < u->window)
				break;
		if (u == NULL)
			return true;
		/* At the limit with every connection busy: the next one to
		 * finish runs another round. */
		if (qmgr_agent_count(t) >= t->proc_limit &&
		    !qmgr_agent_make_room(q, t, u))
			return true;
		if (u->todo->job != NULL) {
			u->todo->job->selected++;
			t->current = u->todo->job;
		}
		e = todo_pop(u);
		u->busy++;
		queue_rotate(u);
		r = qmgr_agent_start(q, e);
		if (r > 0)
			continue;
		u->busy--;
		if (r == 0) {
			todo_push_front(u, e);
			return false;
		}
	}
}

static void sched_run(void *ctx)
{
	struct qmgr *q = ctx;
	bool busy = false;

	q->sched_queued = false;
	for (struct qmgr_transport *t = q->transports; t != NULL; t = t->next) {
		drain_dead(q, t);
		if (!transport_run(q, t))
			busy = true;
	}
	if (busy && !event_timer_armed(q->busy_timer))
		event_timer_restart(q->busy_timer, 100);
}

void qmgr_sched_wakeup(struct qmgr *q)
{
	if (q->sched_queued)
		return;
	q->sched_queued = true;
	event_defer(q->loop, sched_run, q);
}

static void revive(struct event_timer *timer, void *ctx)
{
	struct qmgr_queue *u = ctx;

	(void)timer;
	u->dead = false;
	u->fail_cohorts = 0;
	u->window = u->revive_window;
}

/* A delivery failed as a whole: shrink the window; dead past the limit. */
static void queue_fail(struct qmgr *q, struct qmgr_queue *u, const char *hop,
		       const char *dsn)
{
	u->fail_cohorts += 1.0 / (u->window > 0 ? u->window : 1);
	u->success = 0;
	if (u->window > 1)
		u->window--;
	if (u->dead || u->fail_cohorts <= (double)q->cohort_limit)
		return;
	u->dead = true;
	mem_free(u->dead_reason);
	u->dead_reason = mem_strdup(hop);
	snprintf(u->dead_dsn, sizeof(u->dead_dsn), "%s",
		 dsn != NULL && dsn[0] == '4' ? dsn : "4.4.1");
	msg_info("destination %s is dead for %llds: %s",
		 strchr(u->key, '\001') + 1, q->min_backoff, hop);
	u->revive_window = q->init_window < u->transport->dest_limit
			       ? q->init_window
			       : u->transport->dest_limit;
	if (u->revive == NULL)
		u->revive = event_timer_add(q->loop, 1000, false, revive, u);
	event_timer_restart(u->revive, q->min_backoff > 86400
					   ? 86400000u
					   : (unsigned)q->min_backoff * 1000u);
}

/* Slow start: +1 per success while the window is the limit. */
static void queue_success(struct qmgr_queue *u, unsigned init)
{
	u->fail_cohorts = 0;
	u->success += 1.0;
	if (u->success >= 1.0 && u->window < u->transport->dest_limit &&
	    u->window < u->busy + init + 1) {
		u->window++;
		u->success = 0;
	}
}

void qmgr_sched_done(struct qmgr *q, struct qmgr_entry *e, const char *hop,
		     const char *hop_dsn)
{
	struct qmgr_queue *u = e->queue;
	struct qmgr_msg *m = e->msg;

	u->busy--;
	if (hop != NULL)
		queue_fail(q, u, hop, hop_dsn);
	else
		queue_success(u, q->init_window);
	mem_free(e->idx);
	mem_free(e);
	qmgr_message_entry_done(q, m);
	queue_maybe_free(q, u);
	qmgr_sched_wakeup(q);
}

static void transport_retry(struct event_timer *timer, void *ctx)
{
	struct qmgr_transport *t = ctx;

	(void)timer;
	t->unavailable = false;
	mem_free(t->unavail_reason);
	t->unavail_reason = NULL;
	msg_info("transport %s: trying again", t->name);
}

void qmgr_transport_throttle(struct qmgr *q, struct qmgr_transport *t,
			     const char *reason)
{
	long long secs = q->retry_time > 86400 ? 86400 : q->retry_time;

	if (t->unavailable)
		return;
	t->unavailable = true;
	t->unavail_reason = mem_strdup(reason);
	msg_warn("transport %s unavailable for %llds (transport_retry_time): "
		 "%s",
		 t->name, secs, reason);
	if (t->retry == NULL)
		t->retry =
		    event_timer_add(q->loop, 1000, false, transport_retry, t);
	event_timer_restart(t->retry, (unsigned)secs * 1000u);
	qmgr_sched_wakeup(q);
}

void qmgr_sched_unbind(struct qmgr *q, struct qmgr_queue *u)
{
	u->agents--;
	queue_maybe_free(q, u);
}

void qmgr_sched_requeue(struct qmgr *q, struct qmgr_entry *e)
{
	e->queue->busy--;
	todo_push_front(e->queue, e);
	qmgr_sched_wakeup(q);
}

void qmgr_sched_free(struct qmgr *q)
{
	struct qmgr_transport *t;

	while ((t = q->transports) != NULL) {
		q->transports = t->next;
		qmgr_agent_close_all(q, t);
		while (t->queues != NULL) {
			struct qmgr_queue *u = t->queues;

			while (u->todo != NULL) {
				struct qmgr_entry *e = todo_pop(u);

				mem_free(e->idx);
				mem_free(e);
			}
			queue_free(q, u);
		}
		event_timer_remove(&t->retry);
		mem_free(t->unavail_reason);
		mem_free(t->name);
		mem_free(t);
	}
}
