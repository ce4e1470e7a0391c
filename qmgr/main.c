/* main.c: the queue manager daemon: a thin main() on lib/server.h (a
 * resident, solitary SERVER_TRIGGER service). post_init recovers the queue
 * (queue_recover()) and schedules a first run; each trigger byte or master
 * wakeup schedules another; a timer scans deferred/ every queue_run_delay.
 * A run takes messages from incoming/ (and due ones from deferred/) into
 * active/ while fewer than the active limit are in memory (message.c
 * loads each, sched.c delivers them); when the limit stopped it, the next
 * message to finish asks for another run. See postern-qmgr(8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "master_cf.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "queue_pool.h"
#include "qmgr_trigger.h"
#include "str.h"

static struct qmgr qmgr;

static void qmgr_run(void *ctx);

void qmgr_wakeup(struct qmgr *q)
{
	if (q->run_queued)
		return;
	q->run_queued = true;
	event_defer(q->loop, qmgr_run, q);
}

/* Moves up to room messages from one queue to active/ and loads each;
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
		/* Still being written (no completion mark yet): its
		 * writer's trigger brings us back. Cheaper than a move to
		 * active/ and back. */
		if (from == QUEUE_INCOMING &&
		    (dfd < 0 || fstatat(dfd, id, &st, 0) < 0 ||
		     !(st.st_mode & S_IXUSR)))
			continue;
		if (queue_dir_move(q->qd, id, from, QUEUE_ACTIVE, 0, &err) <=
		    0) {
			if (errno != ENOENT)
				msg_warn("%s: move to active: %s", id, err);
			continue;
		}
		taken++;
		qmgr_message_load(q, id, retry);
	}
	queue_id_list_free(&list);
	return taken;
}

static void qmgr_run(void *ctx)
{
	struct qmgr *q = ctx;
	size_t room, taken;

	q->run_queued = false;
	room = q->msg_count < q->msg_limit ? q->msg_limit - q->msg_count : 0;
	taken = qmgr_take(q, QUEUE_INCOMING, room, false);
	if (q->scan_deferred && taken < room) {
		q->scan_deferred = false;
		taken += qmgr_take(q, QUEUE_DEFERRED, room - taken, true);
		q->force = false;
	}
	/* At the limit: more may be waiting; the next message to finish
	 * asks for another run. */
	q->more = taken >= room;
}

static void qmgr_deferred_tick(struct event_timer *timer, void *ctx)
{
	struct qmgr *q = ctx;

	(void)timer;
	q->scan_deferred = true;
	qmgr_wakeup(q);
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
	qmgr_wakeup(q);
}

static void qmgr_busy_tick(struct event_timer *timer, void *ctx)
{
	(void)timer;
	qmgr_sched_wakeup(ctx);
}

/* Messages in memory hold their queue file open: stay within the
 * descriptor limit (raised to the hard limit), with room for agents. */
static size_t qmgr_msg_limit(long long active_limit)
{
	struct rlimit rl;
	size_t fds = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		fds = rl.rlim_cur > 1000000 ? 1000000 : (size_t)rl.rlim_cur;
	}
	fds = fds > 512 ? (fds - 256) / 2 : 128;
	return (size_t)active_limit < fds ? (size_t)active_limit : fds;
}

/* Parameters read once at start. */
static void qmgr_params(struct qmgr *q, struct conf *conf)
{
	long long t = conf_get_time(conf, "ipc_timeout");
	long long idle =
	    conf_get_time(conf, "smtp_connection_cache_time_limit");
	const char *const *nc = conf_get_list(conf, "notify_classes");
	static const char *const names[] = {"bounce", "2bounce", "delay",
					    "resource", "software"};

	q->msg_limit =
	    qmgr_msg_limit(conf_get_int(conf, "qmgr_message_active_limit"));
	q->min_backoff = conf_get_time(conf, "minimal_backoff_time");
	q->max_backoff = conf_get_time(conf, "maximal_backoff_time");
	q->run_delay = conf_get_time(conf, "queue_run_delay");
	q->lifetime = conf_get_time(conf, "maximal_queue_lifetime");
	q->bounce_lifetime = conf_get_time(conf, "bounce_queue_lifetime");
	q->warn_time = conf_get_time(conf, "delay_warning_time");
	q->retry_time = conf_get_time(conf, "transport_retry_time");
	q->timeout_ms = t > 600 ? 600000u : (unsigned)t * 1000u;
	q->idle_ms = idle > 600 ? 600000u : (unsigned)idle * 1000u;
	q->init_window =
	    (unsigned)conf_get_int(conf, "initial_destination_concurrency");
	q->cohort_limit = (unsigned)conf_get_int(
	    conf, "destination_concurrency_failed_cohort_limit");
	q->relayhost = conf_get(conf, "relayhost");
	for (; nc != NULL && *nc != NULL; nc++)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(*nc, names[i]) == 0)
				q->notify_classes |= 1u << i;
	/* as in Postfix, bounce implies 2bounce */
	if (q->notify_classes & QMGR_NOTIFY_BOUNCE)
		q->notify_classes |= QMGR_NOTIFY_2BOUNCE;
}

static void qmgr_master_cf(struct qmgr *q, struct conf *conf)
{
	struct str path;
	const char *err;

	str_init(&path, 64);
	str_printf(&path, "%s/master.cf", conf_get(conf, "config_directory"));
	q->master_cf = master_cf_load(path.data, conf, &err);
	if (q->master_cf == NULL)
		msg_warn("%s; process limits are default_process_limit", err);
	str_deinit(&path);
}

static int qmgr_post_init(struct server *srv, const char **error_r)
{
	struct qmgr *q = server_ctx(srv);
	struct conf *conf = server_conf(srv);
	const char *qdir = conf_get(conf, "queue_directory");
	struct queue_recover_stats st;
	struct timespec now;
	struct str path;

	q->srv = srv;
	q->loop = server_loop(srv);
	q->conf = conf;
	qmgr_params(q, conf);
	qmgr_master_cf(q, conf);
	q->queues = htable_new(64);
	q->busy_timer = event_timer_add(q->loop, 100, false, qmgr_busy_tick, q);
	event_timer_stop(q->busy_timer);
	str_init(&path, 64);
	str_printf(&path, "%s/private", qdir);
	q->private_dir = str_steal(&path);
	if (qmgr_transport_maps_open(q, conf_get_list(conf, "transport_maps"),
				     error_r) < 0 ||
	    queue_dir_open(qdir, &q->qd, error_r) < 0 ||
	    queue_recover(q->qd, &st, error_r) < 0 ||
	    local_tables_open(conf, true, &q->tables, error_r) < 0)
		return -1;
	q->pool = queue_pool_new(q->qd);
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
	qmgr_wakeup(q);
	return 1;
}

static void qmgr_pre_exit(struct server *srv)
{
	struct qmgr *q = server_ctx(srv);

	event_timer_remove(&q->deferred_timer);
	event_timer_remove(&q->busy_timer);
	qmgr_sched_free(q);
	while (q->msgs != NULL) {
		struct qmgr_msg *m = q->msgs;

		q->msgs = m->next;
		queue_file_close(&m->qf);
		mem_free(m);
	}
	htable_free(&q->queues, NULL);
	master_cf_free(&q->master_cf);
	local_tables_free(&q->tables);
	queue_pool_free(&q->pool);
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
