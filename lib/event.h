/* event.h: the one event loop (epoll): fds, timers, deferred calls, signals.
 *
 * Every daemon runs one struct event_loop; nothing here is global. The loop
 * calls back on explicit events: EVENT_READ (data or EOF waiting),
 * EVENT_WRITE (room to write), EVENT_ERROR (error or hangup; never asked
 * for, always reported while the fd has any interest registered).
 *
 * Callbacks may add, modify or remove any fd, timer, deferred call or
 * signal, including their own, at any time: a removed handle is never called
 * again, even when its event was already fetched in the same batch. Removal
 * frees the handle (the memory is reclaimed once the current dispatch is
 * over), so the caller's pointer is set to NULL. Handles still registered
 * when the loop is freed are freed with it, without being called.
 *
 * Times are milliseconds on the monotonic clock (wall-clock jumps do not
 * fire or delay timers). Not thread-safe. */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;
struct event_io;
struct event_timer;

enum event_flags {
	EVENT_READ = 1,
	EVENT_WRITE = 2,
	EVENT_ERROR = 4,
};

/* events: the EVENT_* bits that are ready, limited to those asked for plus
 * EVENT_ERROR. On EVENT_ERROR, read/write to learn the actual error (data
 * that arrived before a hangup can still be read). */
typedef void event_io_cb(struct event_io *io, int fd, unsigned events,
			 void *ctx);
typedef void event_timer_cb(struct event_timer *timer, void *ctx);
typedef void event_defer_cb(void *ctx);
typedef void event_signal_cb(int signo, void *ctx);

/* Returns a new loop, or NULL with *error_r set (epoll_create failed:
 * EMFILE/ENOMEM). The error text is static. */
struct event_loop *event_loop_new(const char **error_r);
/* Frees every handle still registered (without calling them), restores
 * the signal mask changed by event_signal_add(), closes the epoll fd and
 * sets *loopp to NULL. Must not be called from inside a callback. */
void event_loop_free(struct event_loop **loopp);

/* Runs until event_loop_stop(): each round runs the deferred calls queued
 * before it, waits for fds (not past the next timer; not at all if calls
 * are deferred), dispatches fd events, then due timers. Returns 1 when
 * stopped, -1 with *error_r (valid until the loop is freed) if epoll_wait
 * fails. The loop may be run again after it stops. */
int event_loop_run(struct event_loop *loop, const char **error_r);
/* Makes event_loop_run() return after the current callback. */
void event_loop_stop(struct event_loop *loop);
/* Monotonic time in ms, refreshed once per round (cheap; use it for
 * deadlines computed inside callbacks). */
uint64_t event_loop_now(const struct event_loop *loop);
/* The same clock read now, for code without a loop at hand. */
uint64_t event_clock_ms(void);

/* Watches fd (not owned: never closed here) for events (EVENT_READ and/or
 * EVENT_WRITE; 0 registers it paused). One registration per fd. Returns the
 * handle, or NULL with *error_r (valid until the next call on loop). */
struct event_io *event_io_add(struct event_loop *loop, int fd, unsigned events,
			      event_io_cb *cb, void *ctx, const char **error_r);
/* Changes the events asked for; 0 pauses the fd completely (no EVENT_ERROR
 * either, so a paused hung-up fd does not spin). Returns 1 or -1. */
int event_io_modify(struct event_io *io, unsigned events, const char **error_r);
unsigned event_io_events(const struct event_io *io);
/* Stops watching and frees the handle; *iop = NULL; NULL is a no-op.
 * Remove before closing the fd (epoll tracks the open file, not the
 * number: a dup'ed fd would keep reporting events). */
void event_io_remove(struct event_io **iop);

/* Calls cb after msecs (one-shot) or every msecs (repeat). The handle stays
 * valid until event_timer_remove(): a one-shot timer that fired is only
 * disarmed and may be restarted. A timer never fires twice in one round,
 * whatever its interval. */
struct event_timer *event_timer_add(struct event_loop *loop, unsigned msecs,
				    bool repeat, event_timer_cb *cb, void *ctx);
/* (Re)arms the timer to fire msecs from now (idle timeouts: restart on
 * every activity), keeping its repeat mode. */
void event_timer_restart(struct event_timer *timer, unsigned msecs);
/* Disarms without freeing. */
void event_timer_stop(struct event_timer *timer);
bool event_timer_armed(const struct event_timer *timer);
/* Disarms and frees; *timerp = NULL; NULL is a no-op. */
void event_timer_remove(struct event_timer **timerp);

/* Queues cb(ctx) to run once at the start of the next round (before the
 * loop blocks), in the order queued. Nothing to free afterwards. */
void event_defer(struct event_loop *loop, event_defer_cb *cb, void *ctx);
/* Drops every queued-but-not-run call of cb with ctx (when ctx is freed).
 * Returns how many were dropped. */
unsigned event_defer_cancel(struct event_loop *loop, event_defer_cb *cb,
			    void *ctx);

/* Turns signo into loop events through a signalfd: the signal is blocked
 * in the process mask and cb(signo, ctx) runs from the loop, once per
 * delivery round (signals of one kind that arrive together are merged, so
 * a SIGCHLD handler must reap all children). One callback per signal;
 * adding again replaces it. Returns 1, or -1 with *error_r. */
int event_signal_add(struct event_loop *loop, int signo, event_signal_cb *cb,
		     void *ctx, const char **error_r);
/* Stops handling signo and unblocks it (the default action applies
 * again). */
void event_signal_remove(struct event_loop *loop, int signo);
/* For a forked child before exec: restores the signal mask as it was before
 * the loop blocked any signal (the loop itself is left alone). */
void event_signal_restore_mask(const struct event_loop *loop);

#endif
