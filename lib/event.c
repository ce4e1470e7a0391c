/* event.c: the epoll event loop under every daemon (see event.h).
 *
 * Handles removed during a round are only marked dead and kept on a list
 * until the round ends, so an event fetched earlier in the same batch can
 * still look at the (dead) handle and skip it. Timers live in a binary
 * min-heap ordered by (deadline, sequence), so arming and cancelling cost
 * O(log n) and equal deadlines fire in the order they were armed. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "mem.h"
#include "msg.h"

#define EVENT_BATCH 64
#define NOT_IN_HEAP ((size_t)-1)

struct event_io {
	struct event_loop *loop;
	struct event_io *prev, *next; /* live list, or dead list (next only) */
	event_io_cb *cb;
	void *ctx;
	int fd;
	unsigned events;
	bool in_epoll;
	bool dead;
};

struct event_timer {
	struct event_loop *loop;
	struct event_timer *prev, *next; /* like event_io */
	event_timer_cb *cb;
	void *ctx;
	uint64_t deadline;
	uint64_t seq;
	size_t heap_idx;
	unsigned interval;
	bool repeat;
	bool due; /* collected for this round and not touched since */
	bool dead;
};

struct event_defer_call {
	struct event_defer_call *next;
	event_defer_cb *cb;
	void *ctx;
};

struct event_signal_handler {
	event_signal_cb *cb;
	void *ctx;
};

struct event_loop {
	int epfd;
	bool stopped;
	bool in_round;
	uint64_t now;
	uint64_t timer_seq;
	struct event_io *ios, *dead_ios;
	struct event_timer *timers, *dead_timers;
	struct event_timer **heap;
	size_t heap_len, heap_cap;
	struct event_timer **due;
	size_t due_cap;
	struct event_defer_call *defers, **defers_tail, *running;
	int sigfd;
	struct event_io *sig_io;
	sigset_t sigset;
	sigset_t orig_mask;
	bool mask_saved;
	struct event_signal_handler sig[_NSIG];
	char error[256];
};

uint64_t event_clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		msg_panic("clock_gettime(CLOCK_MONOTONIC): %s",
			  strerror(errno));
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *event_fail(struct event_loop *loop, const char *what)
{
	snprintf(loop->error, sizeof(loop->error), "%s: %s", what,
		 strerror(errno));
	return loop->error;
}

struct event_loop *event_loop_new(const char **error_r)
{
	struct event_loop *loop;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd < 0) {
		*error_r = errno == EMFILE ? "epoll_create: too many open files"
					   : "epoll_create failed";
		return NULL;
	}
	loop = mem_alloc(sizeof(*loop));
	loop->epfd = epfd;
	loop->sigfd = -1;
	loop->defers_tail = &loop->defers;
	loop->now = event_clock_ms();
	sigemptyset(&loop->sigset);
	return loop;
}

uint64_t event_loop_now(const struct event_loop *loop)
{
	return loop->now;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stopped = true;
}

/* ---- fds */

static uint32_t event_to_epoll(unsigned events)
{
	return ((events & EVENT_READ) ? EPOLLIN : 0) |
	       ((events & EVENT_WRITE) ? EPOLLOUT : 0);
}

/* Keeps the kernel's interest set in line with io->events; an fd with no
 * interest is taken out of epoll so that a hangup cannot spin the loop. */
static int event_io_sync(struct event_io *io, unsigned events)
{
	struct epoll_event ev = {.events = event_to_epoll(events),
				 .data.ptr = io};
	int op;

	if (io->in_epoll && events == io->events)
		return 1; /* level-triggered: nothing to tell the kernel */
	if (events == 0)
		op = io->in_epoll ? EPOLL_CTL_DEL : -1;
	else
		op = io->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op != -1 && epoll_ctl(io->loop->epfd, op, io->fd, &ev) < 0)
		return -1;
	io->in_epoll = events != 0;
	io->events = events;
	return 1;
}

struct event_io *event_io_add(struct event_loop *loop, int fd, unsigned events,
			      event_io_cb *cb, void *ctx, const char **error_r)
{
	struct event_io *io = mem_alloc(sizeof(*io));

	io->loop = loop;
	io->fd = fd;
	io->cb = cb;
	io->ctx = ctx;
	if (event_io_sync(io, events & (EVENT_READ | EVENT_WRITE)) < 0) {
		*error_r = event_fail(loop, "epoll_ctl add");
		mem_free(io);
		return NULL;
	}
	io->next = loop->ios;
	if (loop->ios != NULL)
		loop->ios->prev = io;
	loop->ios = io;
	return io;
}

int event_io_modify(struct event_io *io, unsigned events, const char **error_r)
{
	if (io->dead)
		msg_panic("event_io_modify: handle already removed");
	if (event_io_sync(io, events & (EVENT_READ | EVENT_WRITE)) < 0) {
		*error_r = event_fail(io->loop, "epoll_ctl modify");
		return -1;
	}
	return 1;
}

unsigned event_io_events(const struct event_io *io)
{
	return io->events;
}

static void event_io_unlink(struct event_io *io)
{
	struct event_loop *loop = io->loop;

	if (io->prev != NULL)
		io->prev->next = io->next;
	else
		loop->ios = io->next;
	if (io->next != NULL)
		io->next->prev = io->prev;
	io->prev = io->next = NULL;
}

void event_io_remove(struct event_io **iop)
{
	struct event_io *io = *iop;
	struct event_loop *loop;

	if (io == NULL)
		return;
	*iop = NULL;
	loop = io->loop;
	/* Failure (fd already closed) leaves nothing to undo. */
	(void)event_io_sync(io, 0);
	event_io_unlink(io);
	io->dead = true;
	if (loop->in_round) {
		io->next = loop->dead_ios;
		loop->dead_ios = io;
	} else {
		mem_free(io);
	}
}

/* ---- timers: a min-heap of armed timers */

static bool timer_before(const struct event_timer *a,
			 const struct event_timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(struct event_loop *loop, size_t i, struct event_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_sift_up(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];

	while (i > 0 && timer_before(t, loop->heap[(i - 1) / 2])) {
		heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(loop, i, t);
}

static void heap_sift_down(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= loop->heap_len)
			break;
		if (c + 1 < loop->heap_len &&
		    timer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

static void heap_insert(struct event_loop *loop, struct event_timer *t)
{
	if (loop->heap_len == loop->heap_cap) {
		loop->heap_cap =
		    loop->heap_cap ? size_mul(loop->heap_cap, 2) : 16;
		loop->heap = mem_realloc(loop->heap,
					 size_mul(loop->heap_cap, sizeof(t)));
	}
	heap_set(loop, loop->heap_len++, t);
	heap_sift_up(loop, t->heap_idx);
}

static void heap_delete(struct event_loop *loop, struct event_timer *t)
{
	size_t i = t->heap_idx;
	struct event_timer *last;

	if (i == NOT_IN_HEAP)
		return;
	t->heap_idx = NOT_IN_HEAP;
	last = loop->heap[--loop->heap_len];
	if (last == t)
		return;
	heap_set(loop, i, last);
	heap_sift_up(loop, i);
	heap_sift_down(loop, last->heap_idx);
}

static void timer_arm(struct event_timer *t, uint64_t deadline)
{
	heap_delete(t->loop, t);
	t->due = false;
	t->deadline = deadline;
	t->seq = t->loop->timer_seq++;
	heap_insert(t->loop, t);
}

struct event_timer *event_timer_add(struct event_loop *loop, unsigned msecs,
				    bool repeat, event_timer_cb *cb, void *ctx)
{
	struct event_timer *t = mem_alloc(sizeof(*t));

	t->loop = loop;
	t->cb = cb;
	t->ctx = ctx;
	t->interval = msecs;
	t->repeat = repeat;
	t->heap_idx = NOT_IN_HEAP;
	t->next = loop->timers;
	if (loop->timers != NULL)
		loop->timers->prev = t;
	loop->timers = t;
	timer_arm(t, event_clock_ms() + msecs);
	return t;
}

void event_timer_restart(struct event_timer *t, unsigned msecs)
{
	if (t->dead)
		msg_panic("event_timer_restart: timer already removed");
	t->interval = msecs;
	timer_arm(t, event_clock_ms() + msecs);
}

void event_timer_stop(struct event_timer *t)
{
	heap_delete(t->loop, t);
	t->due = false;
}

bool event_timer_armed(const struct event_timer *t)
{
	return t->heap_idx != NOT_IN_HEAP;
}

void event_timer_remove(struct event_timer **timerp)
{
	struct event_timer *t = *timerp;
	struct event_loop *loop;

	if (t == NULL)
		return;
	*timerp = NULL;
	loop = t->loop;
	event_timer_stop(t);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		loop->timers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	t->dead = true;
	if (loop->in_round) {
		t->next = loop->dead_timers;
		loop->dead_timers = t;
	} else {
		mem_free(t);
	}
}

/* Pops every timer due at the start of this phase into loop->due, so that
 * timers armed by callbacks (even with 0 ms) wait for the next round. */
static size_t timers_collect(struct event_loop *loop)
{
	size_t n = 0;

	while (loop->heap_len > 0 && loop->heap[0]->deadline <= loop->now) {
		struct event_timer *t = loop->heap[0];

		if (n == loop->due_cap) {
			loop->due_cap =
			    loop->due_cap ? size_mul(loop->due_cap, 2) : 16;
			loop->due = mem_realloc(
			    loop->due, size_mul(loop->due_cap, sizeof(t)));
		}
		heap_delete(loop, t);
		t->due = true;
		loop->due[n++] = t;
	}
	return n;
}

static void timers_dispatch(struct event_loop *loop)
{
	size_t n = timers_collect(loop);

	for (size_t i = 0; i < n && !loop->stopped; i++) {
		struct event_timer *t = loop->due[i];

		/* dead, restarted or stopped by an earlier callback */
		if (!t->due)
			continue;
		t->cb(t, t->ctx);
		if (!t->due)
			continue;
		t->due = false;
		if (t->repeat) {
			uint64_t next = t->deadline + t->interval;
			uint64_t now = event_clock_ms();

			/* fell behind: skip the missed ticks, no burst */
			timer_arm(t, next > now ? next : now + t->interval);
		}
	}
	/* timers collected but not run because the loop stopped stay due */
	for (size_t i = 0; i < n; i++) {
		struct event_timer *t = loop->due[i];

		if (t->due)
			timer_arm(t, t->deadline);
	}
}

/* ---- deferred calls */

void event_defer(struct event_loop *loop, event_defer_cb *cb, void *ctx)
{
	struct event_defer_call *d = mem_alloc(sizeof(*d));

	d->cb = cb;
	d->ctx = ctx;
	*loop->defers_tail = d;
	loop->defers_tail = &d->next;
}

static unsigned defer_drop(struct event_defer_call **list, event_defer_cb *cb,
			   void *ctx, struct event_defer_call ***tail_r)
{
	struct event_defer_call **pp = list;
	unsigned n = 0;

	while (*pp != NULL) {
		struct event_defer_call *d = *pp;

		if (d->cb == cb && d->ctx == ctx) {
			*pp = d->next;
			mem_free(d);
			n++;
		} else {
			pp = &d->next;
		}
	}
	if (tail_r != NULL)
		*tail_r = pp;
	return n;
}

unsigned event_defer_cancel(struct event_loop *loop, event_defer_cb *cb,
			    void *ctx)
{
	return defer_drop(&loop->defers, cb, ctx, &loop->defers_tail) +
	       defer_drop(&loop->running, cb, ctx, NULL);
}

static void defers_dispatch(struct event_loop *loop)
{
	loop->running = loop->defers;
	loop->defers = NULL;
	loop->defers_tail = &loop->defers;
	while (loop->running != NULL && !loop->stopped) {
		struct event_defer_call *d = loop->running;
		event_defer_cb *cb = d->cb;
		void *ctx = d->ctx;

		loop->running = d->next;
		mem_free(d);
		cb(ctx);
	}
	/* calls left over when stopped go first in the next round */
	if (loop->running != NULL) {
		struct event_defer_call **pp = &loop->running;

		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = loop->defers;
		if (loop->defers == NULL)
			loop->defers_tail = pp;
		loop->defers = loop->running;
		loop->running = NULL;
	}
}

/* ---- signals */

static void signal_read(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct event_loop *loop = ctx;
	struct signalfd_siginfo info[16];
	bool seen[_NSIG] = {false};
	ssize_t n;

	while ((n = read(fd, info, sizeof(info))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(info[0]); i++)
			if (info[i].ssi_signo < _NSIG)
				seen[info[i].ssi_signo] = true;
	}
	for (int signo = 1; signo < _NSIG && !loop->stopped; signo++) {
		/* a handler may remove another signal's handler */
		if (seen[signo] && loop->sig[signo].cb != NULL)
			loop->sig[signo].cb(signo, loop->sig[signo].ctx);
	}
}

static int signal_update_fd(struct event_loop *loop, const char **error_r)
{
	int fd =
	    signalfd(loop->sigfd, &loop->sigset, SFD_NONBLOCK | SFD_CLOEXEC);

	if (fd < 0) {
		*error_r = event_fail(loop, "signalfd");
		return -1;
	}
	if (loop->sigfd == -1) {
		loop->sigfd = fd;
		loop->sig_io = event_io_add(loop, fd, EVENT_READ, signal_read,
					    loop, error_r);
		if (loop->sig_io == NULL)
			return -1;
	}
	return 1;
}

int event_signal_add(struct event_loop *loop, int signo, event_signal_cb *cb,
		     void *ctx, const char **error_r)
{
	sigset_t one;

	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL ||
	    signo == SIGSTOP) {
		snprintf(loop->error, sizeof(loop->error),
			 "signal %d cannot be handled", signo);
		*error_r = loop->error;
		return -1;
	}
	if (!loop->mask_saved) {
		sigprocmask(SIG_BLOCK, NULL, &loop->orig_mask);
		loop->mask_saved = true;
	}
	sigemptyset(&one);
	sigaddset(&one, signo);
	sigprocmask(SIG_BLOCK, &one, NULL);
	sigaddset(&loop->sigset, signo);
	loop->sig[signo].cb = cb;
	loop->sig[signo].ctx = ctx;
	if (signal_update_fd(loop, error_r) < 0) {
		event_signal_remove(loop, signo);
		return -1;
	}
	return 1;
}

void event_signal_remove(struct event_loop *loop, int signo)
{
	const char *error;
	sigset_t one;

	if (signo <= 0 || signo >= _NSIG || !sigismember(&loop->sigset, signo))
		return;
	loop->sig[signo].cb = NULL;
	loop->sig[signo].ctx = NULL;
	sigdelset(&loop->sigset, signo);
	if (loop->sigfd != -1)
		(void)signal_update_fd(loop, &error);
	if (!sigismember(&loop->orig_mask, signo)) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	}
}

void event_signal_restore_mask(const struct event_loop *loop)
{
	if (loop->mask_saved)
		sigprocmask(SIG_SETMASK, &loop->orig_mask, NULL);
}

/* ---- running */

static int event_timeout(const struct event_loop *loop)
{
	uint64_t now, deadline;

	if (loop->defers != NULL || loop->stopped)
		return 0;
	if (loop->heap_len == 0)
		return -1;
	now = event_clock_ms();
	deadline = loop->heap[0]->deadline;
	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

static unsigned event_from_epoll(uint32_t ev)
{
	return ((ev & EPOLLIN) ? EVENT_READ : 0) |
	       ((ev & EPOLLOUT) ? EVENT_WRITE : 0) |
	       ((ev & (EPOLLERR | EPOLLHUP)) ? EVENT_ERROR : 0);
}

static int event_round(struct event_loop *loop, const char **error_r)
{
	struct epoll_event evs[EVENT_BATCH];
	int n;

	defers_dispatch(loop);
	n = epoll_wait(loop->epfd, evs, EVENT_BATCH, event_timeout(loop));
	if (n < 0) {
		if (errno != EINTR) {
			*error_r = event_fail(loop, "epoll_wait");
			return -1;
		}
		n = 0;
	}
	loop->now = event_clock_ms();
	for (int i = 0; i < n && !loop->stopped; i++) {
		struct event_io *io = evs[i].data.ptr;
		unsigned ready;

		/* removed or paused by an earlier callback in this batch */
		if (io->dead || io->events == 0)
			continue;
		ready = event_from_epoll(evs[i].events) &
			(io->events | EVENT_ERROR);
		if (ready != 0)
			io->cb(io, io->fd, ready, io->ctx);
	}
	if (!loop->stopped)
		timers_dispatch(loop);
	return 1;
}

static void event_reap(struct event_loop *loop)
{
	while (loop->dead_ios != NULL) {
		struct event_io *io = loop->dead_ios;

		loop->dead_ios = io->next;
		mem_free(io);
	}
	while (loop->dead_timers != NULL) {
		struct event_timer *t = loop->dead_timers;

		loop->dead_timers = t->next;
		mem_free(t);
	}
}

int event_loop_run(struct event_loop *loop, const char **error_r)
{
	int ret = 1;

	if (loop->in_round)
		msg_panic("event_loop_run: called from inside a callback");
	loop->stopped = false;
	while (!loop->stopped && ret > 0) {
		loop->in_round = true;
		ret = event_round(loop, error_r);
		loop->in_round = false;
		event_reap(loop);
	}
	return ret;
}

void event_loop_free(struct event_loop **loopp)
{
	struct event_loop *loop = *loopp;

	if (loop == NULL)
		return;
	if (loop->in_round)
		msg_panic("event_loop_free: called from inside a callback");
	while (loop->ios != NULL) {
		struct event_io *io = loop->ios;
		event_io_remove(&io);
	}
	while (loop->timers != NULL) {
		struct event_timer *t = loop->timers;
		event_timer_remove(&t);
	}
	while (loop->defers != NULL) {
		struct event_defer_call *d = loop->defers;

		loop->defers = d->next;
		mem_free(d);
	}
	if (loop->sigfd != -1) {
		struct signalfd_siginfo info[16];

		/* consume what is pending so that unblocking does not deliver
		 * a signal the loop already owned (a SIGTERM would kill us) */
		while (read(loop->sigfd, info, sizeof(info)) > 0)
			continue;
		close(loop->sigfd);
	}
	event_signal_restore_mask(loop);
	close(loop->epfd);
	mem_free(loop->heap);
	mem_free(loop->due);
	mem_free(loop);
	*loopp = NULL;
}
