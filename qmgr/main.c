/* main.c: the queue manager daemon: a thin main() on lib/server.h (a
 * resident, solitary SERVER_TRIGGER service). post_init recovers the queue
 * (queue_recover()) and schedules a first run; each trigger byte or master
 * wakeup schedules another; a timer scans deferred/ every queue_run_delay.
 * A run takes at most qmgr_message_active_limit messages from incoming/
 * (and due ones from deferred/) and then yields to the event loop. See
 * postern-qmgr(8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "qmgr_trigger.h"
#include "str.h"

static struct qmgr qmgr;

static void qmgr_run(void *ctx);

static void qmgr_schedule(struct qmgr *q)
{
	if (q->run_queued)
		return;
	q->run_queued = true;
	event_defer(server_loop(q->srv), qmgr_run, q);
}

/* Moves up to room messages from one queue to active/ and runs each;
 * returns how many were taken. */
static size_t qmgr_take(struct qmgr *q, enum queue_name from, size_t room,
			bool retry)
{
	struct queue_id_list list = {0};
	time_t now = time(NULL);
	size_t taken = 0;
	struct stat st;
	const char *err;
	int dfd;

	if (queue_dir_list(q->qd, from, &list, &err) < 0) {
		msg_warn("scan %s: %s", queue_name_str(from), err);
		return 0;
	}
	dfd = queue_dir_fd(q->qd, from, &err);
	for (size_t i = 0; i < list.count && taken < room; i++) {
		const char *id = list.ids[i];

		if (from == QUEUE_DEFERRED && !q->force &&
		    (dfd < 0 || fstatat(dfd, id, &st, 0) < 0 ||
		     st.st_mtime > now))
			continue;
		if (queue_dir_move(q->qd, id, from, QUEUE_ACTIVE, 0, &err) <=
		    0) {
			if (errno != ENOENT)
				msg_warn("%s: move to active: %s", id, err);
			continue;
		}
		taken++;
		qmgr_message_run(q, id, retry);
	}
	queue_id_list_free(&list);
	return taken;
}

static void qmgr_run(void *ctx)
{
	struct qmgr *q = ctx;
	size_t room = (size_t)q->active_limit, taken;

	q->run_queued = false;
	taken = qmgr_take(q, QUEUE_INCOMING, room, false);
	if (q->scan_deferred && taken < room) {
		q->scan_deferred = false;
		taken += qmgr_take(q, QUEUE_DEFERRED, room - taken, true);
		q->force = false;
	}
	/* A full batch: more may be waiting; let triggers in first. */
	if (taken >= room)
		qmgr_schedule(q);
}

static void qmgr_deferred_tick(struct event_timer *timer, void *ctx)
{
	struct qmgr *q = ctx;

	(void)timer;
	q->scan_deferred = true;
	qmgr_schedule(q);
}

static void qmgr_trigger_cb(struct server *srv, const char *data, size_t len)
{
	struct qmgr *q = server_ctx(srv);

	for (size_t i = 0; i < len; i++) {
		if (data[i] == QMGR_TRIGGER_FORCE)
			q->force = true;
		if (data[i] == QMGR_TRIGGER_DEFERRED ||
		    data[i] == QMGR_TRIGGER_FORCE)
			q->scan_deferred = true;
	}
	qmgr_schedule(q);
}

static int qmgr_post_init(struct server *srv, const char **error_r)
{
	struct qmgr *q = server_ctx(srv);
	struct conf *conf = server_conf(srv);
	const char *qdir = conf_get(conf, "queue_directory");
	struct queue_recover_stats st;
	struct timespec now;
	long long t = conf_get_time(conf, "ipc_timeout");
	struct str path;

	q->srv = srv;
	q->conf = conf;
	q->active_limit = conf_get_int(conf, "qmgr_message_active_limit");
	q->min_backoff = conf_get_time(conf, "minimal_backoff_time");
	q->max_backoff = conf_get_time(conf, "maximal_backoff_time");
	q->run_delay = conf_get_time(conf, "queue_run_delay");
	q->lifetime = conf_get_time(conf, "maximal_queue_lifetime");
	q->bounce_lifetime = conf_get_time(conf, "bounce_queue_lifetime");
	q->timeout_ms = t > 600 ? 600000u : (unsigned)t * 1000u;
	q->relayhost = conf_get(conf, "relayhost");
	str_init(&path, 64);
	str_printf(&path, "%s/private", qdir);
	q->private_dir = str_steal(&path);
	if (qmgr_transport_maps_open(q, conf_get_list(conf, "transport_maps"),
				     error_r) < 0 ||
	    queue_dir_open(qdir, &q->qd, error_r) < 0 ||
	    queue_recover(q->qd, &st, error_r) < 0 ||
	    local_tables_open(conf, true, &q->tables, error_r) < 0)
		return -1;
	msg_info("queue recovered: %zu requeued from active, %zu incomplete "
		 "discarded, %zu busy, %zu conflicts",
		 st.requeued, st.discarded, st.busy, st.conflicts);
	clock_gettime(CLOCK_REALTIME, &now);
	q->start_usec =
	    (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
	q->scan_deferred = true;
	q->deferred_timer = event_timer_add(
	    server_loop(srv),
	    (unsigned)(q->run_delay > 86400 ? 86400 : q->run_delay) * 1000u,
	    true, qmgr_deferred_tick, q);
	qmgr_schedule(q);
	return 1;
}

static void qmgr_pre_exit(struct server *srv)
{
	struct qmgr *q = server_ctx(srv);

	event_timer_remove(&q->deferred_timer);
	local_tables_free(&q->tables);
	queue_dir_close(&q->qd);
	qmgr_transport_maps_close(q);
	mem_free(q->private_dir);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_TRIGGER,
	    .flags = SERVER_RESIDENT | SERVER_SOLITARY,
	    .post_init = qmgr_post_init,
	    .trigger = qmgr_trigger_cb,
	    .pre_exit = qmgr_pre_exit,
	};

	return server_main(argc, argv, &ops, &qmgr);
}
