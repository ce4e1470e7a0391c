/* avail.c: how the master knows when to start a process. Every process of
 * a service reports busy/idle on the service's status pipe
 * (master_proto.h). The master watches a service's listeners only while no
 * process of it is idle: a connection then waiting means a new process is
 * needed, up to the service's process limit, unless it is throttled. While
 * some process is idle, that process accepts and the master stays out of
 * the way. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "mem.h"
#include "msg.h"

/* Status messages read per wake-up. */
#define MASTER_STATUS_BATCH 64

static void status_one(struct mservice *svc, const struct master_status *st)
{
	char key[24];
	void *value;
	struct mchild *child;

	snprintf(key, sizeof(key), "%ld", (long)st->pid);
	if (htable_find(svc->m->children, key, &value) == 0 ||
	    ((struct mchild *)value)->svc != svc) {
		msg_warn("service %s: status from unknown process %ld",
			 svc->label, (long)st->pid);
		return;
	}
	child = value;
	if (st->avail == MASTER_STAT_TAKEN) {
		if (child->avail) {
			child->avail = false;
			svc->avail--;
		}
		child->used = true;
		svc->used = true;
		svc->throttle_level = 0;
	} else if (st->avail == MASTER_STAT_AVAIL) {
		if (!child->avail) {
			child->avail = true;
			svc->avail++;
		}
	} else {
		msg_warn("service %s: bad status %ld from process %ld",
			 svc->label, (long)st->avail, (long)st->pid);
	}
}

static void on_status(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct mservice *svc = ctx;
	struct master_status st[MASTER_STATUS_BATCH];
	ssize_t n = read(fd, st, sizeof(st));

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		msg_warn("service %s: read status pipe: %s", svc->label,
			 strerror(errno));
	if (n <= 0)
		return;
	/* Writes of one struct are atomic on a pipe, so reads come in
	 * whole structs. */
	for (size_t i = 0; i < (size_t)n / sizeof(st[0]); i++)
		status_one(svc, &st[i]);
	master_avail_update(svc);
}

int master_status_pipe_open(struct mservice *svc, const char **error_r)
{
	int fds[2];

	/* Non-blocking on both sides: a daemon never hangs on a report. */
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	svc->status_rd = fds[0];
	svc->status_wr = fds[1];
	svc->status_io = event_io_add(svc->m->loop, fds[0], EVENT_READ,
				      on_status, svc, error_r);
	if (svc->status_io == NULL) {
		master_status_pipe_close(svc);
		return -1;
	}
	return 1;
}

void master_status_pipe_close(struct mservice *svc)
{
	event_io_remove(&svc->status_io);
	if (svc->status_rd >= 0)
		close(svc->status_rd);
	if (svc->status_wr >= 0)
		close(svc->status_wr);
	svc->status_rd = svc->status_wr = -1;
}

static bool at_limit(struct mservice *svc)
{
	unsigned int max = svc->cf->maxproc;
	uint64_t now = event_loop_now(svc->m->loop);

	if (max == 0 || svc->total < max)
		return false;
	/* A service that runs one process by design is busy, not short. */
	if (max > 1 && (svc->limit_warned == 0 ||
			now - svc->limit_warned >= MASTER_LIMIT_WARN_MS)) {
		svc->limit_warned = now;
		msg_warn("service %s has reached its process limit %u: new "
			 "clients may have to wait",
			 svc->label, max);
	}
	return true;
}

void master_avail_update(struct mservice *svc)
{
	bool want = svc->state == SVC_READY && !svc->m->stopping &&
		    !svc->throttled && svc->avail == 0 && !at_limit(svc);
	const char *err;

	if (want == svc->listening)
		return;
	svc->listening = want;
	for (unsigned int i = 0; i < svc->nlisten; i++)
		if (event_io_modify(svc->listeners[i]->io,
				    want ? EVENT_READ : 0, &err) < 0)
			msg_fatal("service %s: %s", svc->label, err);
}

void master_listener_ready(struct event_io *io, int fd, unsigned events,
			   void *ctx)
{
	struct mlistener *l = ctx;
	struct mservice *svc = l->svc;
	const char *err;

	if (svc == NULL || !svc->listening) {
		/* Left over from before a reload in this round. */
		if (event_io_modify(io, 0, &err) < 0)
			msg_fatal("%s", err);
		return;
	}
	master_spawn(svc);
	master_avail_update(svc);
}
