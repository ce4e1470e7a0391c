/* blocking_pool.h: calls that block (fsync above all) run in worker threads
 * so that an event loop serving many sessions goes on meanwhile; the loop
 * learns of each finished call through an eventfd and runs its done
 * callback, in the loop's thread.
 *
 * The work function runs in a worker thread: it may only make system calls
 * on what its context owns and must not touch the loop, msg_*(), or data
 * the loop's thread uses at the same time. Threads start when work is
 * queued and none is free, up to the pool's limit, with every signal
 * blocked (signals stay the loop's). */
#ifndef POSTERN_BLOCKING_POOL_H
#define POSTERN_BLOCKING_POOL_H

#include "event.h"

struct blocking_pool;

typedef void blocking_work_fn(void *ctx);
typedef void blocking_done_fn(void *ctx);

/* A pool of at most max_threads (>= 1) workers reporting to loop. Returns
 * NULL with *error_r (static text) when the eventfd cannot be made. */
struct blocking_pool *blocking_pool_new(struct event_loop *loop,
					unsigned max_threads,
					const char **error_r);
/* Waits for the queued and running work, runs their done callbacks, stops
 * the threads, frees the pool; *poolp = NULL; NULL is a no-op. */
void blocking_pool_free(struct blocking_pool **poolp);

/* Queues work(ctx), then done(ctx) in the loop once it returned. Work runs
 * in the order queued when one thread is free; done callbacks run in the
 * order the work finished. Returns 1, or -1 with *error_r when no thread
 * could be started and none runs (the caller then does the work itself). */
int blocking_pool_run(struct blocking_pool *pool, blocking_work_fn *work,
		      blocking_done_fn *done, void *ctx, const char **error_r);

/* Work queued or running whose done callback has not run yet. */
unsigned blocking_pool_pending(const struct blocking_pool *pool);

#endif
