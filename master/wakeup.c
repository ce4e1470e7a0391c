/* wakeup.c: the wakeup column of master.cf. Every N seconds the master
 * connects to the service's own socket (or opens its fifo) and writes one
 * byte, MASTER_WAKEUP_BYTE; the connection alone makes the master start a
 * process if none is idle (avail.c). Services without "?" are woken once
 * right at start, so that a scheduler like qmgr runs from the beginning;
 * with "?" only once some process of the service has served a client. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "msg.h"
#include "sock.h"

/* Longest wakeup period the timers can hold, in seconds. */
#define MASTER_WAKEUP_MAX_S (4000U * 1000U)

static void wakeup_send(struct mservice *svc)
{
	struct mlistener *l = svc->listeners[0];
	char byte = MASTER_WAKEUP_BYTE;
	const char *err = NULL;
	int fd;

	if (l->key[0] == 'f')
		fd = open(l->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = sock_unix_connect(l->path, true, &err);
	if (fd < 0) {
		msg_warn("service %s: wakeup: %s", svc->label,
			 err != NULL ? err : strerror(errno));
		return;
	}
	if (write(fd, &byte, 1) != 1 && errno != EAGAIN)
		msg_warn("service %s: wakeup: write %s: %s", svc->label,
			 l->path, strerror(errno));
	close(fd);
}

static void on_wakeup(struct event_timer *timer, void *ctx)
{
	struct mservice *svc = ctx;

	if (svc->state != SVC_READY || svc->throttled || svc->m->stopping)
		return;
	if (svc->cf->wakeup_if_used && !svc->used)
		return;
	wakeup_send(svc);
}

static void on_first_wakeup(void *ctx)
{
	on_wakeup(NULL, ctx);
}

void master_wakeup_start(struct mservice *svc)
{
	unsigned int secs = svc->cf->wakeup;

	if (secs == 0)
		return;
	if (svc->cf->type == MASTER_INET || svc->cf->type == MASTER_PASS) {
		msg_warn("service %s: wakeup is only for unix and fifo "
			 "services; ignored",
			 svc->label);
		return;
	}
	if (secs > MASTER_WAKEUP_MAX_S)
		secs = MASTER_WAKEUP_MAX_S;
	svc->wakeup_timer =
	    event_timer_add(svc->m->loop, secs * 1000, true, on_wakeup, svc);
	if (!svc->cf->wakeup_if_used)
		event_defer(svc->m->loop, on_first_wakeup, svc);
}

void master_wakeup_stop(struct mservice *svc)
{
	event_defer_cancel(svc->m->loop, on_first_wakeup, svc);
	event_timer_remove(&svc->wakeup_timer);
}
