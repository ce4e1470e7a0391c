/* spawn.c: starting daemons (fork + execve, never a shell), reaping them,
 * and throttling a service whose processes die before serving anyone.
 *
 * A process that exits abnormally is logged with its service, pid and
 * status. If it had not served a client yet, the service is throttled: no
 * new process for a while, doubling from MASTER_THROTTLE_FIRST_MS up to
 * service_throttle_time while the failures go on, back to the start once a
 * process serves a client. Clients wait in the listen queue meanwhile;
 * other services are not affected. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master.h"
#include "mem.h"
#include "msg.h"

extern char **environ;

/* Longest exponent of the doubling back-off. */
#define MASTER_THROTTLE_LEVEL_MAX 20

static void child_fail(struct mservice *svc, const char *what)
    __attribute__((noreturn));

static void child_fail(struct mservice *svc, const char *what)
{
	msg_error("service %s: %s %s: %s", svc->label, what, svc->path,
		  strerror(errno));
	_exit(127);
}

/* Puts the status pipe and listeners on the fixed descriptors of
 * master_proto.h: first everything is moved above the target range, so
 * that no dup2() overwrites a source still needed. */
static void child_fds(struct mservice *svc)
{
	int top = MASTER_LISTEN_FD + (int)svc->nlisten;
	int status, null, lfd[MASTER_LISTEN_MAX];

	status = fcntl(svc->status_wr, F_DUPFD, top);
	null = fcntl(svc->m->devnull, F_DUPFD, top);
	if (status < 0 || null < 0)
		child_fail(svc, "descriptors for");
	for (unsigned int i = 0; i < svc->nlisten; i++)
		if ((lfd[i] = fcntl(svc->listeners[i]->fd, F_DUPFD, top)) < 0)
			child_fail(svc, "descriptors for");
	if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(status, MASTER_STATUS_FD) < 0)
		child_fail(svc, "descriptors for");
	for (unsigned int i = 0; i < svc->nlisten; i++)
		if (dup2(lfd[i], MASTER_LISTEN_FD + (int)i) < 0)
			child_fail(svc, "descriptors for");
	close_range((unsigned int)top, ~0U, 0);
}

static void child_exec(struct mservice *svc) __attribute__((noreturn));

static void child_exec(struct mservice *svc)
{
	event_signal_restore_mask(svc->m->loop);
	signal(SIGPIPE, SIG_DFL);
	child_fds(svc);
	execve(svc->path, svc->argv, environ);
	child_fail(svc, "exec");
}

void master_spawn(struct mservice *svc)
{
	struct master *m = svc->m;
	struct mchild *child;
	char key[24];
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		msg_warn("service %s: fork: %s", svc->label, strerror(errno));
		master_throttle(svc, "cannot fork");
		return;
	}
	if (pid == 0)
		child_exec(svc);
	child = mem_alloc(sizeof(*child));
	child->pid = pid;
	child->svc = svc;
	child->avail = true;
	child->started = event_loop_now(m->loop);
	child->next = svc->children;
	child->prevp = &svc->children;
	if (child->next != NULL)
		child->next->prevp = &child->next;
	svc->children = child;
	snprintf(key, sizeof(key), "%ld", (long)pid);
	htable_insert(m->children, key, child);
	svc->total++;
	svc->avail++;
	msg_debug("service %s: started process %ld", svc->label, (long)pid);
}

static void child_unlink(struct mchild *child)
{
	if (child->prevp == NULL)
		return;
	*child->prevp = child->next;
	if (child->next != NULL)
		child->next->prevp = child->prevp;
	child->prevp = NULL;
	child->next = NULL;
}

void master_children_orphan(struct mservice *svc)
{
	while (svc->children != NULL) {
		struct mchild *child = svc->children;
		child_unlink(child);
		child->svc = NULL;
	}
	svc->total = svc->avail = 0;
}

static void log_exit(struct master *m, struct mchild *child, int status)
{
	const char *label = child->svc ? child->svc->label : "(retired)";

	if (WIFSIGNALED(status))
		msg_warn("service %s: process %ld killed by signal %d (%s)",
			 label, (long)child->pid, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		msg_warn("service %s: process %ld exit status %d", label,
			 (long)child->pid, WEXITSTATUS(status));
}

static void account_exit(struct master *m, struct mchild *child, bool abnormal)
{
	struct mservice *svc = child->svc;
	uint64_t lived = event_loop_now(m->loop) - child->started;

	svc->total--;
	if (child->avail)
		svc->avail--;
	if (abnormal)
		svc->restarts++;
	if (m->stopping)
		return;
	if (abnormal && !child->used)
		master_throttle(svc, "bad command startup");
	else if (!child->used && lived < MASTER_QUICK_EXIT_MS)
		master_throttle(svc, "process exited at once without serving");
	master_avail_update(svc);
}

static void reaped(struct master *m, pid_t pid, int status)
{
	bool abnormal = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct mchild *child;
	char key[24];
	void *value;

	snprintf(key, sizeof(key), "%ld", (long)pid);
	if (htable_remove(m->children, key, &value) == 0)
		return;
	child = value;
	child_unlink(child);
	if (abnormal && !(m->stopping && WIFSIGNALED(status) &&
			  WTERMSIG(status) == SIGTERM))
		log_exit(m, child, status);
	if (child->svc != NULL)
		account_exit(m, child, abnormal);
	mem_free(child);
}

void master_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		reaped(m, pid, status);
	if (m->stopping && htable_count(m->children) == 0)
		event_loop_stop(m->loop);
}

static void unthrottle(struct event_timer *timer, void *ctx)
{
	struct mservice *svc = ctx;

	svc->throttled = false;
	msg_debug("service %s: throttle lifted", svc->label);
	master_avail_update(svc);
}

void master_throttle(struct mservice *svc, const char *why)
{
	struct master *m = svc->m;
	uint64_t max =
	    (uint64_t)conf_get_time(m->conf, "service_throttle_time") * 1000;
	uint64_t delay = (uint64_t)MASTER_THROTTLE_FIRST_MS
			 << svc->throttle_level;

	if (svc->throttled)
		return;
	if (delay > max)
		delay = max;
	if (svc->throttle_level < MASTER_THROTTLE_LEVEL_MAX)
		svc->throttle_level++;
	msg_warn("service %s: %s -- throttling for %llu.%llus", svc->label, why,
		 (unsigned long long)(delay / 1000),
		 (unsigned long long)(delay % 1000 / 100));
	svc->throttled = true;
	svc->throttle_until = event_loop_now(m->loop) + delay;
	if (svc->throttle_timer == NULL)
		svc->throttle_timer = event_timer_add(m->loop, (unsigned)delay,
						      false, unthrottle, svc);
	else
		event_timer_restart(svc->throttle_timer, (unsigned)delay);
	master_avail_update(svc);
}

void master_kill_all(struct master *m, int sig)
{
	struct htable_iter it;
	const char *key;
	void *value;

	htable_iter_init(&it);
	while (htable_next(m->children, &it, &key, &value))
		kill(((struct mchild *)value)->pid, sig);
}
