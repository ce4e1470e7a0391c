/* message.c: one delivery attempt of one active message: route each
 * pending recipient, deliver the local ones, record every result on disk
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

static void route_and_deliver(struct qmgr *q, struct queue_file *qf, bool retry)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	size_t *local = mem_calloc(env->rcpt_count + 1, sizeof(size_t));
	struct qmgr_result *res;
	size_t nlocal = 0;

	for (size_t i = 0; i < env->rcpt_count; i++) {
		struct qmgr_result r = {.index = i,
					.status = QMGR_DEFERRED,
					.relay = "none",
					.text = "relay not available yet"};

		if (env->rcpts[i].status != QUEUE_RCPT_PENDING)
			continue;
		if (local_domain_match(q->tables, env->rcpts[i].address)) {
			local[nlocal++] = i;
			continue;
		}
		memcpy(r.dsn, "4.3.0", 6);
		record(q, qf, &r);
	}
	res = mem_calloc(nlocal + 1, sizeof(*res));
	for (size_t done = 0; done < nlocal;) {
		size_t n = nlocal - done;

		if (n > DELIVER_BATCH)
			n = DELIVER_BATCH;
		qmgr_deliver_local(q, qf, local + done, n, retry, res);
		for (size_t i = 0; i < n; i++)
			record(q, qf, &res[i]);
		done += n;
	}
	mem_free(res);
	mem_free(local);
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
