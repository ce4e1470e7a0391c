/* t/unit/blocking_pool.c: tests for lib/blocking_pool.c (work runs in other
 * threads, at once up to the limit, done callbacks in the loop's thread in
 * order, free drains) and lib/group_sync.c (shared folder fsyncs). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "blocking_pool.h"
#include "group_sync.h"
#include "tap.h"

static struct event_loop *loop;
static pthread_t loop_thread;
static const char *err;

struct job {
	unsigned ms;
	bool worked, in_other_thread, done_in_loop;
	int order;
};
static int done_count;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void work(void *ctx)
{
	struct job *j = ctx;
	struct timespec ts = {0, (long)j->ms * 1000000};

	j->in_other_thread = !pthread_equal(pthread_self(), loop_thread);
	nanosleep(&ts, NULL);
	j->worked = true;
}

static void done(void *ctx)
{
	struct job *j = ctx;

	j->done_in_loop = pthread_equal(pthread_self(), loop_thread);
	j->order = done_count++;
	if (done_count == 8)
		event_loop_stop(loop);
}

static void test_parallel(void)
{
	struct blocking_pool *pool = blocking_pool_new(loop, 4, &err);
	struct job jobs[8] = {0};
	bool all = true;
	uint64_t t0, took;

	ok(pool != NULL, "pool made");
	t0 = now_ms();
	for (int i = 0; i < 8; i++) {
		jobs[i].ms = 200;
		ok(blocking_pool_run(pool, work, done, &jobs[i], &err) == 1,
		   "job %d queued", i);
	}
	is_int(blocking_pool_pending(pool), 8, "8 pending");
	event_loop_run(loop, &err);
	took = now_ms() - t0;
	for (int i = 0; i < 8; i++)
		all = all && jobs[i].worked && jobs[i].in_other_thread &&
		      jobs[i].done_in_loop;
	ok(all, "each worked in a worker, done in the loop's thread");
	is_int(blocking_pool_pending(pool), 0, "none pending");
	/* 8 x 200 ms on 4 threads: 400 ms, not 1600 or 200 */
	ok(took >= 390 && took < 1200, "4 at a time (%llu ms)",
	   (unsigned long long)took);
	blocking_pool_free(&pool);
	ok(pool == NULL, "freed");
}

static void test_order_one_thread(void)
{
	struct blocking_pool *pool = blocking_pool_new(loop, 1, &err);
	struct job jobs[8] = {0};
	bool in_order = true;

	done_count = 0;
	for (int i = 0; i < 8; i++) {
		jobs[i].ms = 1;
		blocking_pool_run(pool, work, done, &jobs[i], &err);
	}
	event_loop_run(loop, &err);
	for (int i = 0; i < 8; i++)
		in_order = in_order && jobs[i].order == i;
	ok(in_order, "one thread: done in the order queued");
	blocking_pool_free(&pool);
}

static void test_free_drains(void)
{
	struct blocking_pool *pool = blocking_pool_new(loop, 2, &err);
	struct job jobs[5] = {0};
	bool all = true;

	done_count = 0;
	for (int i = 0; i < 5; i++) {
		jobs[i].ms = 20;
		blocking_pool_run(pool, work, done, &jobs[i], &err);
	}
	blocking_pool_free(&pool);
	for (int i = 0; i < 5; i++)
		all = all && jobs[i].worked && jobs[i].done_in_loop;
	ok(all, "free waits for queued work and runs its done callbacks");
	is_int(done_count, 5, "5 done");
}

struct syncer {
	struct group_sync *gs;
	int fd, r;
};

static void *sync_thread(void *arg)
{
	struct syncer *s = arg;

	s->r = group_sync_fsync(s->gs, s->fd, 0);
	return NULL;
}

static void test_group_sync(void)
{
	struct group_sync gs;
	struct syncer s[16];
	pthread_t t[16];
	int fd = open(tap_tmpdir(), O_RDONLY | O_DIRECTORY);
	bool all = true;
	uint64_t ticket, n;

	group_sync_init(&gs);
	is_int(group_sync_fsync(&gs, fd, 0), 1, "one fsync");
	is_int(gs.started, 1, "counted");
	for (int i = 0; i < 16; i++) {
		s[i] = (struct syncer){.gs = &gs, .fd = fd};
		pthread_create(&t[i], NULL, sync_thread, &s[i]);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		all = all && s[i].r == 1;
	}
	ok(all, "16 threads at once: all synced");
	ok(gs.started >= 2 && gs.started <= 17, "%llu fsyncs for 17 calls",
	   (unsigned long long)gs.started);
	errno = 0;
	is_int(group_sync_fsync(&gs, -1, 0), -1, "bad fd: -1");
	is_int(errno, EBADF, "with errno");
	ticket = group_sync_ticket(&gs);
	is_int(group_sync_fsync(&gs, fd, ticket), 1, "a later good one succeeds");
	n = gs.started;
	is_int(group_sync_fsync(&gs, fd, ticket), 1, "the same ticket again:");
	is_int(gs.started, n, "no new fsync (one since the ticket ended)");
	is_int(group_sync_fsync(&gs, fd, 0), 1, "no ticket:");
	is_int(gs.started, n + 1, "a new fsync");
	group_sync_deinit(&gs);
	close(fd);
}

int main(void)
{
	loop_thread = pthread_self();
	loop = event_loop_new(&err);
	test_parallel();
	test_order_one_thread();
	test_free_drains();
	test_group_sync();
	event_loop_free(&loop);
	return tap_done();
}
