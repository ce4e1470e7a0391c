/* message.c: one active message: route each pending recipient
 * (route.c) into entries on their destinations' queues (sched.c), record
 * every result on disk as it comes (done-mark, FAILED mark with
 * bounce/ID, or defer/ID; success notices for NOTIFY=SUCCESS in
 * bounce/ID too), and when the last entry is done, remove the message or
 * move it to deferred/ (with a delay warning when one is due). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "queue_pool.h"

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

void qmgr_delay_format(uint64_t usec, struct str *out)
{
	unsigned long long sec = usec / 1000000u;
	unsigned long long tenth = (usec % 1000000u) / 100000u;
	unsigned long long hundredth = (usec % 1000000u) / 10000u;

	/* two significant digits, at most two decimals, truncated */
	if (sec >= 10 || (sec >= 1 && tenth == 0))
		str_printf(out, "%llu", sec);
	else if (sec >= 1)
		str_printf(out, "%llu.%llu", sec, tenth);
	else if (hundredth == 0)
		str_putc(out, '0');
	else if (hundredth < 10)
		str_printf(out, "0.0%llu", hundredth);
	else if (hundredth % 10 == 0)
		str_printf(out, "0.%llu", hundredth / 10);
	else
		str_printf(out, "0.%llu", hundredth);
}

/* A delivered recipient: its done-mark is written at once (a qmgr crash
 * cannot lose it) but not synced, as in Postfix: an fdatasync per result
 * in qmgr's one event loop capped the whole flow at the disk's sync rate.
 * A system crash may lose the mark; the recipient is then delivered again
 * (local finds its earlier copy). Failures and deferrals are synced: their
 * logs feed the notifications. Success notices (NOTIFY=SUCCESS) go to
 * bounce/ID first. */
static int record_sent(struct qmgr *q, struct qmgr_msg *m,
		       const struct qmgr_result *res, const char **err)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	const struct queue_rcpt *rc = &env->rcpts[res->index];
	int r = 1;

	if ((rc->notify & QUEUE_NOTIFY_SUCCESS) && env->sender[0] != '\0')
		r = qmgr_status_append(q, env->id, QUEUE_BOUNCE, rc->address,
				       res->relayed ? "relayed" : "delivered",
				       res, err);
	if (r > 0)
		r = queue_file_mark(m->qf, res->index, QUEUE_RCPT_DONE, err);
	return r;
}

/* A result that did not reach the disk: the recipient stays pending and
 * is tried again; the postmaster hears of it (notify_classes resource). */
static void record_failed(struct qmgr *q, struct qmgr_msg *m, const char *rcpt,
			  enum qmgr_status status, const char *err)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	struct str text;

	str_init(&text, 128);
	str_printf(&text, "to=<%s>: cannot record the result (%s): %s", rcpt,
		   status_word(status), err);
	msg_warn("%s; the recipient stays pending", text.data);
	qmgr_notice(q, QMGR_PROBLEM_RESOURCE, "queue file write", env->id,
		    env->sender, text.data);
	str_deinit(&text);
}

void qmgr_record(struct qmgr *q, struct qmgr_msg *m,
		 const struct qmgr_result *res)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	const char *rcpt = env->rcpts[res->index].address, *err = NULL;
	uint64_t now = now_usec();
	uint64_t a = m->active_usec > env->arrival_usec
			 ? m->active_usec - env->arrival_usec
			 : 0;
	struct str line;
	int r = 1;

	if (res->status == QMGR_SENT)
		r = record_sent(q, m, res, &err);
	else if (res->status == QMGR_BOUNCED) {
		r = qmgr_status_append(q, env->id, QUEUE_BOUNCE, rcpt, "failed",
				       res, &err);
		if (r > 0)
			r = queue_file_mark(m->qf, res->index,
					    QUEUE_RCPT_FAILED, &err);
		if (r > 0)
			r = queue_file_sync(m->qf, &err);
	} else
		r = qmgr_status_append(q, env->id, QUEUE_DEFER, rcpt, "delayed",
				       res, &err);
	if (r < 0)
		record_failed(q, m, rcpt, res->status, err);
	str_init(&line, 256);
	str_printf(&line, "to=<%s>, relay=%s, ", rcpt, res->relay);
	if (res->conn_use > 1)
		str_printf(&line, "conn_use=%u, ", res->conn_use);
	str_append_cstr(&line, "delay=");
	qmgr_delay_format(now > env->arrival_usec ? now - env->arrival_usec : 0,
			  &line);
	str_append_cstr(&line, ", delays=");
	qmgr_delay_format(a, &line);
	str_putc(&line, '/');
	qmgr_delay_format(res->b_usec, &line);
	str_putc(&line, '/');
	qmgr_delay_format(res->c_usec, &line);
	str_putc(&line, '/');
	qmgr_delay_format(res->d_usec, &line);
	msg_info("%s, dsn=%s, status=%s (%s)", line.data, res->dsn,
		 status_word(res->status), res->text);
	str_deinit(&line);
}

/* A result decided by routing itself (error:, discard:, a failed
 * table). "error:5.1.1 text" sets the DSN code (4.x.x defers). */
static void route_result(struct qmgr *q, struct qmgr_msg *m, size_t i,
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
	qmgr_record(q, m, &r);
}

static void route_all(struct qmgr *q, struct qmgr_msg *m)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	struct qmgr_dest dest;

	str_init(&dest.transport, 16);
	str_init(&dest.nexthop, 64);
	str_init(&dest.text, 64);
	for (size_t i = 0; i < env->rcpt_count; i++) {
		const char *rcpt = env->rcpts[i].address;

		if (env->rcpts[i].status != QUEUE_RCPT_PENDING)
			continue;
		qmgr_route(q, rcpt, &dest);
		if (dest.kind == QMGR_DEST_LOCAL)
			qmgr_sched_add(q, m, "local", NULL, rcpt, i);
		else if (dest.kind == QMGR_DEST_SMTP)
			qmgr_sched_add(q, m, dest.transport.data,
				       dest.nexthop.data, rcpt, i);
		else
			route_result(q, m, i, &dest);
	}
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
static bool expire(struct qmgr *q, struct qmgr_msg *m)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
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
			qmgr_record(q, m, &r);
	}
	str_deinit(&text);
	return all_done(env);
}

/* Still pending: a delay warning once it is due, then deferred/. */
static void finish_deferred(struct qmgr *q, struct qmgr_msg *m)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	const char *err;

	if (q->warn_time > 0 && !(env->state & QUEUE_STATE_WARNED) &&
	    now_usec() - env->arrival_usec >=
		(uint64_t)q->warn_time * 1000000u &&
	    qmgr_bounce_warn(q, m->qf, &err) < 0)
		msg_warn("delay warning: %s; retrying later", err);
	qmgr_defer_message(q, env->id, env->arrival_usec);
}

static void finish(struct qmgr *q, struct qmgr_msg *m)
{
	const struct queue_envelope *env = queue_file_envelope(m->qf);
	const char *err;

	if (!all_done(env) && !expire(q, m))
		return finish_deferred(q, m);
	if (qmgr_bounce_flush(q, m->qf, &err) < 0) {
		msg_warn("bounce notification: %s; retrying later", err);
		qmgr_defer_message(q, env->id, env->arrival_usec);
		return;
	}
	(void)queue_dir_remove(q->qd, QUEUE_DEFER, env->id, 0, &err);
	/* The file is kept for smtpd's next message (queue_pool.h). */
	if (queue_pool_put(q->pool, QUEUE_ACTIVE, env->id, &err) < 0) {
		msg_warn("remove: %s", err);
		return;
	}
	msg_info("removed");
}

void qmgr_message_entry_done(struct qmgr *q, struct qmgr_msg *m)
{
	if (--m->entries > 0)
		return;
	msg_set_queue_id(m->id);
	finish(q, m);
	msg_set_queue_id(NULL);
	queue_file_close(&m->qf);
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		q->msgs = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	mem_free(m);
	q->msg_count--;
	/* room for more: the intake stopped at the limit */
	if (q->more)
		qmgr_wakeup(q);
}

/* A file that cannot be opened goes to corrupt/ (bad) or back to
 * incoming/ (not ready). */
static void load_failed(struct qmgr *q, const char *id, int r, const char *err)
{
	if (r < 0 && errno == EBADMSG) {
		struct str text;

		str_init(&text, 128);
		str_printf(&text, "malformed queue file: %s; moved to corrupt",
			   err);
		msg_warn("%s; moved to corrupt", err);
		(void)queue_dir_move(q->qd, id, QUEUE_ACTIVE, QUEUE_CORRUPT,
				     QUEUE_MOVE_SYNC, &err);
		qmgr_notice(q, QMGR_PROBLEM_SOFTWARE, "corrupt queue file", id,
			    NULL, text.data);
		str_deinit(&text);
	} else if (r == 0 || errno != ENOENT) {
		msg_warn("not ready: %s", err);
		(void)queue_dir_move(q->qd, id, QUEUE_ACTIVE, QUEUE_INCOMING, 0,
				     &err);
	}
}

void qmgr_message_load(struct qmgr *q, const char *id, bool retry)
{
	struct qmgr_msg *m = mem_calloc(1, sizeof(*m));
	const struct queue_envelope *env;
	const char *err;
	int r;

	memcpy(m->id, id, QUEUE_ID_SIZE);
	msg_set_queue_id(m->id);
	r = queue_file_openat(queue_dir_fd(q->qd, QUEUE_ACTIVE, &err), m->id,
			      QUEUE_OPEN_WRITE, &m->qf, &err);
	if (r <= 0) {
		load_failed(q, m->id, r, err);
		msg_set_queue_id(NULL);
		mem_free(m);
		return;
	}
	env = queue_file_envelope(m->qf);
	/* A previous qmgr may have delivered some of it before it died. */
	m->retry = retry || env->arrival_usec < q->start_usec;
	m->active_usec = now_usec();
	m->entries = 1; /* routing holds one until it is done */
	m->next = q->msgs;
	if (q->msgs != NULL)
		q->msgs->prev = m;
	q->msgs = m;
	q->msg_count++;
	msg_info("from=<%s>, size=%llu, nrcpt=%zu (queue active)", env->sender,
		 (unsigned long long)queue_file_content_size(m->qf),
		 env->rcpt_count);
	route_all(q, m);
	msg_set_queue_id(NULL);
	qmgr_message_entry_done(q, m);
}
