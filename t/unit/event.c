/* t/unit/event.c: tests for lib/event.c: fd events, removal during dispatch,
 * timers (order, repeat, restart, cancel, many), deferred calls, signals. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "tap.h"

static struct event_loop *loop;
static const char *err;

static void pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) < 0)
		abort();
}

static void stop_cb(struct event_timer *t, void *ctx)
{
	*(int *)ctx += 1;
	event_loop_stop(loop);
}

/* Runs the loop, stopping it after ms at the latest. */
static void run_for(unsigned ms)
{
	int fired = 0;
	struct event_timer *t =
	    event_timer_add(loop, ms, false, stop_cb, &fired);

	event_loop_run(loop, &err);
	event_timer_remove(&t);
}

/* ---- fds */

struct io_rec {
	int calls;
	unsigned events;
	struct event_io *io;
	struct event_io **other; /* removed by this callback, if set */
	bool remove_self;
	bool stop;
};

static void io_cb(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct io_rec *r = ctx;
	char buf[64];

	r->calls++;
	r->events |= events;
	if (events & EVENT_READ)
		while (read(fd, buf, sizeof(buf)) > 0)
			continue;
	if (r->other != NULL)
		event_io_remove(r->other);
	if (r->remove_self)
		event_io_remove(&r->io);
	if (r->stop)
		event_loop_stop(loop);
}

static void test_fd_events(void)
{
	struct io_rec r = {.stop = true};
	int fds[2];

	pair(fds);
	r.io = event_io_add(loop, fds[0], EVENT_READ, io_cb, &r, &err);
	ok(r.io != NULL, "add fd");
	ok(write(fds[1], "x", 1) == 1, "write to peer");
	run_for(2000);
	is_int(r.calls, 1, "read callback once");
	is_int(r.events, EVENT_READ, "only EVENT_READ reported");

	r.calls = 0;
	r.events = 0;
	is_int(event_io_modify(r.io, EVENT_WRITE, &err), 1, "modify to write");
	run_for(2000);
	is_int(r.events, EVENT_WRITE, "EVENT_WRITE on a writable socket");

	r.calls = 0;
	r.stop = false;
	is_int(event_io_modify(r.io, 0, &err), 1, "pause");
	ok(write(fds[1], "y", 1) == 1, "write while paused");
	close(fds[1]);
	run_for(50);
	is_int(r.calls, 0, "a paused fd gets no events, not even a hangup");

	r.stop = true;
	is_int(event_io_modify(r.io, EVENT_READ, &err), 1, "resume");
	run_for(2000);
	is_int(r.calls, 1, "resumed fd reports");
	ok(r.events & EVENT_READ, "data before the hangup is readable");
	r.events = 0;
	run_for(2000);
	ok(r.events & EVENT_ERROR, "hangup reported as EVENT_ERROR (%u)",
	   r.events);
	event_io_remove(&r.io);
	ok(r.io == NULL, "remove clears the pointer");
	close(fds[0]);
}

static void test_remove_during_dispatch(void)
{
	struct io_rec a = {0}, b = {0};
	int pa[2], pb[2];

	pair(pa);
	pair(pb);
	a.io = event_io_add(loop, pa[0], EVENT_READ, io_cb, &a, &err);
	b.io = event_io_add(loop, pb[0], EVENT_READ, io_cb, &b, &err);
	a.other = &b.io;
	b.other = &a.io;
	/* both readable: both events arrive in the same epoll batch */
	ok(write(pa[1], "a", 1) == 1 && write(pb[1], "b", 1) == 1,
	   "both ready");
	run_for(50);
	is_int(a.calls + b.calls, 1,
	       "the fd removed by the first callback is not called");
	ok((a.io == NULL) != (b.io == NULL), "only the removed handle is gone");
	event_io_remove(&a.io);
	event_io_remove(&b.io);

	/* self removal, then a new registration reusing the fd number */
	memset(&a, 0, sizeof(a));
	a.remove_self = true;
	a.io = event_io_add(loop, pa[0], EVENT_READ, io_cb, &a, &err);
	ok(write(pa[1], "a", 1) == 1, "ready again");
	run_for(50);
	is_int(a.calls, 1, "self-removing callback runs once");
	ok(a.io == NULL, "self-removed handle cleared");
	for (int i = 0; i < 2; i++) {
		close(pa[i]);
		close(pb[i]);
	}
}

struct reuse {
	int fds[2], peers[2], peer, calls_old, calls_new;
	struct event_io *ios[2], *fresh;
};

static void reuse_new_cb(struct event_io *io, int fd, unsigned ev, void *ctx)
{
	((struct reuse *)ctx)->calls_new++;
	event_io_modify(io, 0, &err);
}

/* Whichever runs first removes and closes the other fd and opens a new one
 * that gets the same number while the old event is still in the batch. */
static void reuse_first_cb(struct event_io *io, int fd, unsigned ev, void *ctx)
{
	struct reuse *r = ctx;
	int other = io == r->ios[0] ? 1 : 0, fds[2];

	r->calls_old++;
	event_io_remove(&r->ios[other]);
	close(r->fds[other]);
	pair(fds);
	r->fresh = event_io_add(loop, fds[0], EVENT_READ | EVENT_WRITE,
				reuse_new_cb, r, &err);
	r->peer = fds[1];
	ok(fds[0] == r->fds[other], "fd number reused (%d)", fds[0]);
	r->fds[other] = fds[0];
	event_io_remove(&r->ios[1 - other]);
}

static void test_fd_reuse(void)
{
	struct reuse r = {0};

	for (int i = 0; i < 2; i++) {
		int fds[2];

		pair(fds);
		r.fds[i] = fds[0];
		r.peers[i] = fds[1];
		r.ios[i] = event_io_add(loop, fds[0], EVENT_READ,
					reuse_first_cb, &r, &err);
		ok(write(fds[1], "a", 1) == 1, "ready %d", i);
	}
	run_for(30);
	is_int(r.calls_old, 1, "first callback ran, the removed one did not");
	/* the new handle is writable, so it is called in a later round, but
	 * never with the stale event of the same batch: count rounds */
	ok(r.calls_new <= 1, "new handle not called from the stale event");
	event_io_remove(&r.fresh);
	for (int i = 0; i < 2; i++) {
		close(r.fds[i]);
		close(r.peers[i]);
	}
	close(r.peer);
}

/* ---- timers */

struct order {
	int seen[16];
	int n;
	struct event_timer **victim;
	int stop_at;
};

static void order_cb(struct event_timer *t, void *ctx);
static struct order *order_of;

static void order_cb(struct event_timer *t, void *ctx)
{
	struct order *o = order_of;

	o->seen[o->n++] = (int)(long)ctx;
	if (o->victim != NULL)
		event_timer_remove(o->victim);
	if (o->n == o->stop_at)
		event_loop_stop(loop);
}

static void test_timer_order(void)
{
	struct order o = {.stop_at = 3};
	struct event_timer *t30, *t10, *t20;
	uint64_t start = event_loop_now(loop);

	order_of = &o;
	t30 = event_timer_add(loop, 30, false, order_cb, (void *)30L);
	t10 = event_timer_add(loop, 10, false, order_cb, (void *)10L);
	t20 = event_timer_add(loop, 20, false, order_cb, (void *)20L);
	event_loop_run(loop, &err);
	is_int(o.n, 3, "three timers fired");
	ok(o.seen[0] == 10 && o.seen[1] == 20 && o.seen[2] == 30,
	   "in deadline order (%d %d %d)", o.seen[0], o.seen[1], o.seen[2]);
	ok(event_loop_now(loop) - start >= 30, "not before their time");
	ok(!event_timer_armed(t10), "one-shot disarmed after firing");

	/* restart re-arms; cancel prevents firing */
	o.n = 0;
	o.stop_at = 1;
	event_timer_restart(t10, 40);
	event_timer_restart(t20, 5);
	event_timer_stop(t20);
	event_timer_remove(&t30);
	ok(t30 == NULL, "remove clears the pointer");
	event_loop_run(loop, &err);
	ok(o.n == 1 && o.seen[0] == 10,
	   "stopped timer skipped, restarted fired");

	/* a callback removing another timer due in the same round */
	o.n = 0;
	o.stop_at = 2;
	o.victim = &t20;
	event_timer_restart(t10, 0);
	event_timer_restart(t20, 0);
	run_for(60);
	is_int(o.n, 1, "timer removed by an earlier callback did not fire");
	ok(t20 == NULL, "victim handle cleared");
	o.victim = NULL;
	event_timer_remove(&t10);
}

static void repeat_cb(struct event_timer *t, void *ctx)
{
	int *n = ctx;

	if (++*n == 5)
		event_timer_remove(&t);
}

static void test_timer_repeat(void)
{
	int n = 0, zero = 0;
	struct event_timer *rep = event_timer_add(loop, 2, true, repeat_cb, &n);
	struct event_timer *busy =
	    event_timer_add(loop, 0, true, repeat_cb, &zero);

	(void)rep; /* removes itself on the fifth tick */
	run_for(100);
	is_int(n, 5, "repeating timer fired until it removed itself");
	ok(zero >= 5, "0 ms repeating timer fires once per round, no spin");
	(void)busy;
}

#define MANY 5000
/* Each timer's true deadline lies in [lo, hi]: the clock read just before
 * and just after event_timer_add(). Two timers fired in the wrong order is
 * proven only when the earlier one's lo exceeds the later one's hi, which
 * stays exact however slowly a loaded machine runs the adds. */
static uint64_t many_lo[MANY], many_hi[MANY];
static uint64_t many_last_lo;
static int many_bad, many_count;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void many_cb(struct event_timer *t, void *ctx)
{
	long i = (long)ctx;

	if (many_last_lo > many_hi[i])
		many_bad++;
	many_last_lo = many_lo[i];
	many_count++;
	event_timer_remove(&t);
	if (many_count == MANY / 2)
		event_loop_stop(loop);
}

static void test_many_timers(void)
{
	struct event_timer *ts[MANY];

	srandom(7);
	for (long i = 0; i < MANY; i++) {
		long ms = random() % 40;

		many_lo[i] = mono_ms() + (uint64_t)ms;
		ts[i] = event_timer_add(loop, (unsigned)ms, false, many_cb,
					(void *)i);
		many_hi[i] = mono_ms() + (uint64_t)ms + 1;
	}
	/* cancel every other one */
	for (int i = 0; i < MANY; i += 2)
		event_timer_remove(&ts[i]);
	event_loop_run(loop, &err);
	is_int(many_count, MANY / 2, "all remaining timers fired");
	is_int(many_bad, 0, "in non-decreasing deadline order");
}

/* ---- deferred calls */

static char defer_log[32];
static void defer_cb(void *ctx);

static void defer_cb(void *ctx)
{
	char c = (char)(long)ctx;
	size_t n = strlen(defer_log);

	defer_log[n] = c;
	if (c == 'a')
		event_defer(loop, defer_cb, (void *)'d'); /* next round */
	if (c == 'b')
		event_defer_cancel(loop, defer_cb, (void *)'c');
	if (c == 'd')
		event_loop_stop(loop);
}

static void test_defer(void)
{
	event_defer(loop, defer_cb, (void *)'a');
	event_defer(loop, defer_cb, (void *)'b');
	event_defer(loop, defer_cb, (void *)'c');
	event_defer(loop, defer_cb, (void *)'x');
	is_int(event_defer_cancel(loop, defer_cb, (void *)'x'), 1,
	       "cancel a queued call");
	run_for(2000);
	is_str(defer_log, "abd",
	       "FIFO; cancelled from a running call; "
	       "queued by a call runs next round");
}

/* ---- signals */

static int sig_seen[_NSIG];

static void sig_cb(int signo, void *ctx)
{
	sig_seen[signo]++;
	if (signo == SIGCHLD)
		while (waitpid(-1, NULL, WNOHANG) > 0)
			sig_seen[0]++;
	event_loop_stop(loop);
}

static void test_signals(void)
{
	sigset_t now;
	pid_t pid;

	is_int(event_signal_add(loop, SIGTERM, sig_cb, NULL, &err), 1,
	       "SIGTERM");
	is_int(event_signal_add(loop, SIGHUP, sig_cb, NULL, &err), 1, "SIGHUP");
	is_int(event_signal_add(loop, SIGCHLD, sig_cb, NULL, &err), 1,
	       "SIGCHLD");
	is_int(event_signal_add(loop, SIGKILL, sig_cb, NULL, &err), -1,
	       "SIGKILL refused");
	kill(getpid(), SIGTERM);
	run_for(2000);
	is_int(sig_seen[SIGTERM], 1, "SIGTERM became a loop event");
	kill(getpid(), SIGHUP);
	run_for(2000);
	is_int(sig_seen[SIGHUP], 1, "SIGHUP became a loop event");
	pid = fork();
	if (pid == 0)
		_exit(0);
	run_for(2000);
	is_int(sig_seen[SIGCHLD], 1, "SIGCHLD became a loop event");
	is_int(sig_seen[0], 1, "child reaped in the handler");

	sigprocmask(SIG_BLOCK, NULL, &now);
	ok(sigismember(&now, SIGHUP), "handled signal is blocked");
	event_signal_remove(loop, SIGHUP);
	sigprocmask(SIG_BLOCK, NULL, &now);
	ok(!sigismember(&now, SIGHUP), "removed signal is unblocked");
	event_signal_restore_mask(loop);
	sigprocmask(SIG_BLOCK, NULL, &now);
	ok(!sigismember(&now, SIGTERM), "mask restored for children");
	event_signal_add(loop, SIGTERM, sig_cb, NULL, &err);
}

int main(void)
{
	int fds[2];
	struct event_timer *leftover;

	loop = event_loop_new(&err);
	ok(loop != NULL, "loop created");
	test_fd_events();
	test_remove_during_dispatch();
	test_fd_reuse();
	test_timer_order();
	test_timer_repeat();
	test_many_timers();
	test_defer();
	test_signals();

	/* freeing with live handles frees them (LeakSanitizer checks) */
	pair(fds);
	event_io_add(loop, fds[0], EVENT_READ, io_cb, NULL, &err);
	leftover = event_timer_add(loop, 1000, true, repeat_cb, NULL);
	event_defer(loop, defer_cb, NULL);
	(void)leftover;
	kill(getpid(), SIGTERM); /* pending: must not kill us on free */
	event_loop_free(&loop);
	ok(loop == NULL, "free clears the pointer");
	close(fds[0]);
	close(fds[1]);
	return tap_done();
}
