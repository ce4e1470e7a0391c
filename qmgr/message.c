/* message.c: one delivery attempt of one active message: route each
 * pending recipient (route.c), group them per agent and next hop, deliver
 * each group (deliver.c), record every result on disk
 * (done-mark, FAILED mark with bounce/ID, or defer/ID), then remove the
 * message or move it to deferred/. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "mem.h"
#include "msg.h"
#include "qmgr.h"

static uint64_t now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static const char *status_word(enum qmgr_status s)
{
	return s == QMGR_SENT	   ? "sent"
	       : s == QMGR_BOUNCED ? "bounced"
				   : "deferred";
}

/* Records one result on disk, then logs it. When the record fails the
 * recipient stays pending (and is tried again). */
static void record(struct qmgr *q, struct queue_file *qf,
		   const struct qmgr_result *res)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *rcpt = env->rcpts[res->index].address, *err = NULL;
	uint64_t delay = now_usec() - env->arrival_usec;
	double secs;
	int r = 1;

	if (res->status == QMGR_SENT)
		r = queue_file_mark_done(qf, res->index, &err);
	else if (res->status == QMGR_BOUNCED) {
		r = qmgr_status_append(q, env->id, QUEUE_BOUNCE, rcpt, res,
				       &err);
		if (r > 0)
			r = queue_file_mark(qf, res->index, QUEUE_RCPT_FAILED,
					    &err);
		if (r > 0)
			r = queue_file_sync(qf, &err);
	} else
		r = qmgr_status_append(q, env->id, QUEUE_DEFER, rcpt, res,
				       &err);
	if (r < 0)
		msg_warn("to=<%s>: cannot record the result (%s): %s; the "
			 "recipient stays pending",
			 rcpt, status_word(res->status), err);
	/* Postfix's precision: 0.01, 1.2, 12 */
	secs = (double)delay / 1e6;
	msg_info("to=<%s>, relay=%s, delay=%.*f, dsn=%s, status=%s (%s)", rcpt,
		 res->relay,
		 secs < 1    ? 2
		 : secs < 10 ? 1
			     : 0,
		 secs, res->dsn, status_word(res->status), res->text);
}

/* Recipients of one message that go to the same agent and next hop. */
struct group {
	struct qmgr_route route;
	char *transport, *nexthop;
	size_t *idx;
	size_t n;
};

static struct group *group_find(struct group *groups, size_t *ng, size_t max,
				const char *transport, const char *nexthop)
{
	struct group *g;

	for (size_t i = 0; i < *ng; i++) {
		g = &groups[i];
		if (strcmp(g->route.transport, transport) == 0 &&
		    (nexthop == NULL ? g->nexthop == NULL
				     : g->nexthop != NULL &&
					   strcmp(g->nexthop, nexthop) == 0))
			return g;
	}
	g = &groups[(*ng)++];
	g->transport = mem_strdup(transport);
	g->nexthop = nexthop != NULL ? mem_strdup(nexthop) : NULL;
	g->route.transport = g->transport;
	g->route.nexthop = g->nexthop;
	g->idx = mem_calloc(max, sizeof(size_t));
	return g;
}

/* A result decided by routing itself (error:, discard:, a failed
 * table). "error:5.1.1 text" sets the DSN code (4.x.x defers). */
static void route_result(struct qmgr *q, struct queue_file *qf, size_t i,
			 const struct qmgr_dest *dest)
{
	struct qmgr_result r = {.index = i, .relay = "none"};
	const char *t = dest->text.data;
	size_t n = strspn(t, "0123456789.");

	r.status = dest->kind == QMGR_DEST_DISCARD ? QMGR_SENT
		   : dest->kind == QMGR_DEST_ERROR ? QMGR_BOUNCED
						   : QMGR_DEFERRED;
	memcpy(r.dsn,
	       r.status == QMGR_SENT	  ? "2.0.0"
	       : r.status == QMGR_BOUNCED ? "5.0.0"
					  : "4.3.0",
	       6);
	if (dest->kind == QMGR_DEST_ERROR && n >= 5 && n < 12 &&
	    (t[0] == '4' || t[0] == '5') && t[1] == '.' && t[n] == ' ') {
		memcpy(r.dsn, t, n);
		r.dsn[n] = '\0';
		r.status = t[0] == '4' ? QMGR_DEFERRED : QMGR_BOUNCED;
		t += n + 1;
	}
	r.text =
	    dest->kind == QMGR_DEST_DISCARD && *t == '\0' ? "discarded" : t;
	record(q, qf, &r);
}

static void group_deliver(struct qmgr *q, struct queue_file *qf,
			  const struct group *g, bool retry)
{
	struct qmgr_result *res = mem_calloc(DELIVER_BATCH, sizeof(*res));

	for (size_t done = 0; done < g->n;) {
		size_t n = g->n - done;

		if (n > DELIVER_BATCH)
			n = DELIVER_BATCH;
		qmgr_deliver(q, qf, &g->route, g->idx + done, n, retry, res);
		for (size_t i = 0; i < n; i++)
			record(q, qf, &res[i]);
		done += n;
	}
	mem_free(res);
}

static void route_and_deliver(struct qmgr *q, struct queue_file *qf, bool retry)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	size_t max = env->rcpt_count, ng = 0;
	struct group *groups = mem_calloc(max + 1, sizeof(*groups)), *g;
	struct qmgr_dest dest;

	str_init(&dest.transport, 16);
	str_init(&dest.nexthop, 64);
	str_init(&dest.text, 64);
	for (size_t i = 0; i < max; i++) {
		if (env->rcpts[i].status != QUEUE_RCPT_PENDING)
			continue;
		qmgr_route(q, env->rcpts[i].address, &dest);
		if (dest.kind == QMGR_DEST_LOCAL)
			g = group_find(groups, &ng, max, "local", NULL);
		else if (dest.kind == QMGR_DEST_SMTP)
			g = group_find(groups, &ng, max, dest.transport.data,
				       dest.nexthop.data);
		else {
			route_result(q, qf, i, &dest);
			continue;
		}
		g->idx[g->n++] = i;
	}
	for (size_t k = 0; k < ng; k++) {
		group_deliver(q, qf, &groups[k], retry);
		mem_free(groups[k].idx);
		mem_free(groups[k].transport);
		mem_free(groups[k].nexthop);
	}
	mem_free(groups);
	str_deinit(&dest.transport);
	str_deinit(&dest.nexthop);
	str_deinit(&dest.text);
}

static bool all_done(const struct queue_envelope *env)
{
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (env->rcpts[i].status == QUEUE_RCPT_PENDING)
			return false;
	return true;
}

/* After maximal_queue_lifetime (bounce_queue_lifetime for mail from the
 * null sender) the pending recipients fail: they go to bounce/ID like any
 * permanent failure, so the sender gets the notification. Returns true
 * when the message expired. */
static bool expire(struct qmgr *q, struct queue_file *qf)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	long long limit =
	    env->sender[0] != '\0' ? q->lifetime : q->bounce_lifetime;
	uint64_t age = now_usec() - env->arrival_usec;
	struct str text;

	if (age < (uint64_t)limit * 1000000u)
		return false;
	str_init(&text, 64);
	str_printf(&text, "message expired after %llu s in the queue",
		   (unsigned long long)(age / 1000000u));
	msg_info("from=<%s>, status=expired, returned to sender", env->sender);
	for (size_t i = 0; i < env->rcpt_count; i++) {
		struct qmgr_result r = {.index = i,
					.status = QMGR_BOUNCED,
					.dsn = "4.4.7",
					.relay = "none",
					.text = text.data};

		if (env->rcpts[i].status == QUEUE_RCPT_PENDING)
			record(q, qf, &r);
	}
	str_deinit(&text);
	return all_done(env);
}

static void finish(struct qmgr *q, struct queue_file *qf)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *err;

	if (!all_done(env) && !expire(q, qf)) {
		qmgr_defer_message(q, env->id, env->arrival_usec);
		return;
	}
	if (qmgr_bounce_flush(q, qf, &err) < 0) {
		msg_warn("bounce notification: %s; retrying later", err);
		qmgr_defer_message(q, env->id, env->arrival_usec);
		return;
	}
	(void)queue_dir_remove(q->qd, QUEUE_DEFER, env->id, 0, &err);
	if (queue_dir_remove(q->qd, QUEUE_ACTIVE, env->id, 0, &err) < 0) {
		msg_warn("remove: %s", err);
		return;
	}
	msg_info("removed");
}

void qmgr_message_run(struct qmgr *q, const char *id, bool retry)
{
	struct queue_file *qf = NULL;
	const struct queue_envelope *env;
	const char *err;
	char idbuf[QUEUE_ID_SIZE];
	int r;

	memcpy(idbuf, id, QUEUE_ID_SIZE);
	msg_set_queue_id(idbuf);
	r = queue_file_openat(queue_dir_fd(q->qd, QUEUE_ACTIVE, &err), idbuf,
			      QUEUE_OPEN_WRITE, &qf, &err);
	if (r <= 0) {
		if (r < 0 && errno == EBADMSG) {
			msg_warn("%s; moved to corrupt", err);
			(void)queue_dir_move(q->qd, idbuf, QUEUE_ACTIVE,
					     QUEUE_CORRUPT, QUEUE_MOVE_SYNC,
					     &err);
		} else if (r == 0 || errno != ENOENT) {
			msg_warn("not ready: %s", err);
			(void)queue_dir_move(q->qd, idbuf, QUEUE_ACTIVE,
					     QUEUE_INCOMING, 0, &err);
		}
		msg_set_queue_id(NULL);
		return;
	}
	env = queue_file_envelope(qf);
	/* A previous qmgr may have delivered some of it before it died. */
	if (env->arrival_usec < q->start_usec)
		retry = true;
	msg_info("from=<%s>, size=%llu, nrcpt=%zu (queue active)", env->sender,
		 (unsigned long long)queue_file_content_size(qf),
		 env->rcpt_count);
	route_and_deliver(q, qf, retry);
	finish(q, qf);
	queue_file_close(&qf);
	msg_set_queue_id(NULL);
}
