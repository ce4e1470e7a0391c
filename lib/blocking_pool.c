/* blocking_pool.c: worker threads for blocking calls, reporting to an event
 * loop through an eventfd (see blocking_pool.h). Jobs are allocated and
 * freed in the loop's thread; the threads only move them between the two
 * lists under the lock. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blocking_pool.h"
#include "mem.h"

/* Work here is a few syscalls deep. */
#define BP_STACK_SIZE (256 * 1024)

struct bp_job {
	blocking_work_fn *work;
	blocking_done_fn *done;
	void *ctx;
	struct bp_job *next;
};

struct bp_list {
	struct bp_job *head, **tail;
};

struct blocking_pool {
	struct event_loop *loop;
	struct event_io *io;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct bp_list todo, done; /* under lock */
	unsigned todo_count, idle; /* under lock */
	bool stopping;		   /* under lock */
	pthread_t *threads;	   /* loop thread only from here on */
	unsigned thread_count, max_threads, pending;
};

static void bp_list_init(struct bp_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void bp_list_push(struct bp_list *l, struct bp_job *job)
{
	job->next = NULL;
	*l->tail = job;
	l->tail = &job->next;
}

static struct bp_job *bp_list_pop(struct bp_list *l)
{
	struct bp_job *job = l->head;

	if (job != NULL) {
		l->head = job->next;
		if (l->head == NULL)
			l->tail = &l->head;
	}
	return job;
}

static void *bp_worker(void *arg)
{
	struct blocking_pool *pool = arg;
	const uint64_t one = 1;
	struct bp_job *job;
	bool was_empty;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->todo.head == NULL && !pool->stopping) {
			pool->idle++;
			pthread_cond_wait(&pool->cond, &pool->lock);
			pool->idle--;
		}
		if ((job = bp_list_pop(&pool->todo)) == NULL)
			break;
		pool->todo_count--;
		pthread_mutex_unlock(&pool->lock);
		job->work(job->ctx);
		pthread_mutex_lock(&pool->lock);
		was_empty = pool->done.head == NULL;
		bp_list_push(&pool->done, job);
		/* The loop reads the eventfd before it takes the list, so one
		 * wake-up per empty-to-full change is enough. */
		if (was_empty)
			(void)!write(pool->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Runs the done callbacks of the finished work, in order. */
static void bp_reap(struct blocking_pool *pool)
{
	uint64_t n;
	struct bp_list done;
	struct bp_job *job;

	(void)!read(pool->efd, &n, sizeof(n));
	pthread_mutex_lock(&pool->lock);
	done = pool->done;
	if (done.head == NULL)
		done.tail = &done.head;
	bp_list_init(&pool->done);
	pthread_mutex_unlock(&pool->lock);
	while ((job = bp_list_pop(&done)) != NULL) {
		pool->pending--;
		job->done(job->ctx);
		mem_free(job);
	}
}

static void bp_readable(struct event_io *io, int fd, unsigned events,
			void *ctx)
{
	(void)io;
	(void)fd;
	(void)events;
	bp_reap(ctx);
}

struct blocking_pool *blocking_pool_new(struct event_loop *loop,
					unsigned max_threads,
					const char **error_r)
{
	struct blocking_pool *pool;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (efd < 0) {
		*error_r = "eventfd failed";
		return NULL;
	}
	pool = mem_alloc(sizeof(*pool));
	pool->io = event_io_add(loop, efd, EVENT_READ, bp_readable, pool,
				error_r);
	if (pool->io == NULL) {
		close(efd);
		mem_free(pool);
		return NULL;
	}
	pool->loop = loop;
	pool->efd = efd;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	bp_list_init(&pool->todo);
	bp_list_init(&pool->done);
	pool->max_threads = max_threads > 0 ? max_threads : 1;
	pool->threads = mem_calloc(pool->max_threads, sizeof(pthread_t));
	return pool;
}

/* A new worker with every signal blocked; false when none could start. */
static bool bp_start_thread(struct blocking_pool *pool)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, BP_STACK_SIZE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&pool->threads[pool->thread_count], &attr,
			   bp_worker, pool);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0)
		return false;
	pool->thread_count++;
	return true;
}

int blocking_pool_run(struct blocking_pool *pool, blocking_work_fn *work,
		      blocking_done_fn *done, void *ctx, const char **error_r)
{
	struct bp_job *job = mem_alloc(sizeof(*job));
	bool more;

	job->work = work;
	job->done = done;
	job->ctx = ctx;
	pthread_mutex_lock(&pool->lock);
	bp_list_push(&pool->todo, job);
	pool->todo_count++;
	more = pool->todo_count > pool->idle;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	if (more && pool->thread_count < pool->max_threads &&
	    !bp_start_thread(pool) && pool->thread_count == 0) {
		/* Nobody would ever take it: take it back. */
		pthread_mutex_lock(&pool->lock);
		bp_list_init(&pool->todo);
		pool->todo_count = 0;
		pthread_mutex_unlock(&pool->lock);
		mem_free(job);
		*error_r = "cannot start a worker thread";
		return -1;
	}
	pool->pending++;
	return 1;
}

unsigned blocking_pool_pending(const struct blocking_pool *pool)
{
	return pool->pending;
}

void blocking_pool_free(struct blocking_pool **poolp)
{
	struct blocking_pool *pool = *poolp;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	bp_reap(pool);
	event_io_remove(&pool->io);
	close(pool->efd);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	mem_free(pool->threads);
	mem_free(pool);
	*poolp = NULL;
}
