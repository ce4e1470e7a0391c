/* cmd_start.c: `postern start`, `start-fg`, `stop` and `reload`: running and
 * signalling the master ($daemon_directory/master) of an instance.
 *
 *   start     runs the master in the background and waits until it is
 *             ready (every listener open) or has failed; the master itself
 *             prints why on standard error. Exit 0 once ready.
 *   start-fg  becomes the master (exec), in the foreground, logging to
 *             standard error: for systemd (Type=notify) and containers.
 *   stop      SIGTERM, then waits until the master released its lock,
 *             which it does only after every daemon has exited.
 *   reload    checks main.cf and master.cf first (a broken file is never
 *             loaded), SIGHUP, then waits until the master reports the new
 *             configuration loaded, or why not. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "instance.h"
#include "lifecycle.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS 30000
#define RELOAD_TIMEOUT_MS 30000
#define POLL_MS 10

/* The descriptor the master reports readiness on (master -w). */
#define START_READY_FD 3

struct instance {
	struct conf *conf;
	struct master_cf *mcf;
	char *dir;
	char *master; /* $daemon_directory/master */
};

static int load(struct instance *in, bool with_master_cf)
{
	struct str path;

	memset(in, 0, sizeof(*in));
	in->conf = lifecycle_load(&in->dir, with_master_cf ? &in->mcf : NULL);
	if (in->conf == NULL)
		return -1;
	str_init(&path, 0);
	str_printf(&path, "%s/master", conf_get(in->conf, "daemon_directory"));
	in->master = str_steal(&path);
	str_deinit(&path);
	return 1;
}

static void unload(struct instance *in)
{
	conf_free(&in->conf);
	master_cf_free(&in->mcf);
	mem_free(in->dir);
	mem_free(in->master);
}

/* 1 when not running (ready to start); else logs why not. */
static int not_running(struct instance *in)
{
	const char *err;
	pid_t pid;
	int r = instance_running(in->conf, &pid, &err);

	if (r < 0)
		msg_error("%s", err);
	else if (r > 0)
		msg_error("the instance in %s is already running (pid %ld)",
			  in->dir, (long)pid);
	else if (access(in->master, X_OK) < 0)
		msg_error("%s: %s", in->master, strerror(errno));
	else
		return 1;
	return -1;
}

static int usage(const char *cmd)
{
	fprintf(stderr, "usage: postern [-c DIR] %s\n", cmd);
	return LIFECYCLE_EXIT_USAGE;
}

static void exec_master(struct instance *in, const char *mode_flag,
			const char *ready)
{
	const char *argv[8] = {in->master, "-c", in->dir};
	int n = 3;

	if (mode_flag != NULL)
		argv[n++] = mode_flag;
	if (ready != NULL) {
		argv[n++] = "-w";
		argv[n++] = ready;
	}
	argv[n] = NULL;
	execv(in->master, (char *const *)argv);
	msg_error("exec %s: %s", in->master, strerror(errno));
}

/* In the child: a session of its own, stdin/stdout on /dev/null, stderr
 * still ours (the master reports start-up errors there), the ready pipe on
 * START_READY_FD. */
static void start_child(struct instance *in, int ready_wr)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    (ready_wr != START_READY_FD &&
	     dup2(ready_wr, START_READY_FD) < 0) ||
	    fcntl(START_READY_FD, F_SETFD, 0) < 0)
		_exit(LIFECYCLE_EXIT_FAIL);
	exec_master(in, NULL, "3");
	_exit(LIFECYCLE_EXIT_FAIL);
}

/* Waits for the ready byte; returns 1 when ready. */
static int wait_ready(int fd, pid_t pid)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int status, r;
	char byte;

	r = poll(&p, 1, START_TIMEOUT_MS);
	if (r == 1 && read(fd, &byte, 1) == 1 && byte == 'R')
		return 1;
	if (r == 0) {
		msg_error("the master (pid %ld) was not ready after %ds; "
			  "stopping it",
			  (long)pid, START_TIMEOUT_MS / 1000);
		kill(pid, SIGTERM);
		return -1;
	}
	if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
		msg_error("the master did not start: killed by signal %d",
			  WTERMSIG(status));
	else
		msg_error("the master did not start (exit status %d)",
			  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

int cmd_start_main(int argc, char **argv)
{
	struct instance in;
	int ready[2], ret = LIFECYCLE_EXIT_FAIL;
	pid_t pid;

	if (argc != 1)
		return usage("start");
	if (load(&in, true) < 0)
		return LIFECYCLE_EXIT_FAIL;
	if (not_running(&in) > 0 && pipe2(ready, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0)
			start_child(&in, ready[1]);
		close(ready[1]);
		if (pid < 0)
			msg_error("fork: %s", strerror(errno));
		else if (wait_ready(ready[0], pid) > 0) {
			fprintf(stderr, "postern: started (pid %ld)\n",
				(long)pid);
			ret = 0;
		}
		close(ready[0]);
	}
	unload(&in);
	return ret;
}

int cmd_start_fg_main(int argc, char **argv)
{
	struct instance in;

	if (argc != 1)
		return usage("start-fg");
	if (load(&in, true) < 0)
		return LIFECYCLE_EXIT_FAIL;
	if (not_running(&in) > 0)
		exec_master(&in, "-f", NULL);
	unload(&in);
	return LIFECYCLE_EXIT_FAIL;
}

/* The running master's pid, or 0 (reason logged). */
static pid_t running_pid(struct instance *in)
{
	const char *err;
	pid_t pid;
	int r = instance_running(in->conf, &pid, &err);

	if (r < 0)
		msg_error("%s", err);
	else if (r == 0)
		msg_error("the instance in %s is not running", in->dir);
	else if (pid <= 0)
		msg_error("the instance in %s is locked but its pid file is "
			  "empty",
			  in->dir);
	else
		return pid;
	return 0;
}

static int send_signal(pid_t pid, int sig)
{
	if (kill(pid, sig) == 0)
		return 1;
	msg_error("signal the master (pid %ld): %s", (long)pid,
		  strerror(errno));
	return -1;
}

int cmd_stop_main(int argc, char **argv)
{
	struct instance in;
	const char *err;
	pid_t pid, now;
	int ret = LIFECYCLE_EXIT_FAIL;

	if (argc != 1)
		return usage("stop");
	if (load(&in, false) < 0)
		return LIFECYCLE_EXIT_FAIL;
	pid = running_pid(&in);
	if (pid > 0 && send_signal(pid, SIGTERM) > 0) {
		for (int waited = 0; waited < STOP_TIMEOUT_MS;
		     waited += POLL_MS) {
			if (instance_running(in.conf, &now, &err) == 0) {
				ret = 0;
				break;
			}
			usleep(POLL_MS * 1000);
		}
		if (ret == 0)
			fprintf(stderr, "postern: stopped (pid %ld)\n",
				(long)pid);
		else
			msg_error("the master (pid %ld) did not stop within "
				  "%ds",
				  (long)pid, STOP_TIMEOUT_MS / 1000);
	}
	unload(&in);
	return ret;
}

/* The master's configuration count and last reload error (copied), or -1
 * when it does not answer. */
static long long generation(struct instance *in, char **reload_error_r)
{
	struct attr_client *client = NULL;
	struct attr_rec rec;
	const char *err, *text;
	int64_t gen = -1;
	size_t len;

	if (lifecycle_query(in->conf, &client, &rec, &err) < 0)
		return -1;
	if (attr_get_int(&rec, "generation", &gen, &err) != 1 ||
	    attr_get_str(&rec, "reload_error", &text, &len, &err) != 1)
		gen = -1;
	else if (reload_error_r != NULL)
		*reload_error_r = text[0] ? mem_strdup(text) : NULL;
	attr_client_free(&client);
	return gen;
}

static int wait_reloaded(struct instance *in, long long before)
{
	char *reload_error = NULL;
	int ret = -1;

	for (int waited = 0; waited < RELOAD_TIMEOUT_MS; waited += POLL_MS) {
		long long now = generation(in, &reload_error);
		if (now > before) {
			ret = reload_error == NULL ? 1 : -1;
			if (reload_error != NULL)
				msg_error("reload failed: %s", reload_error);
			mem_free(reload_error);
			return ret;
		}
		mem_free(reload_error);
		usleep(POLL_MS * 1000);
	}
	msg_error("the master did not confirm the reload within %ds",
		  RELOAD_TIMEOUT_MS / 1000);
	return ret;
}

int cmd_reload_main(int argc, char **argv)
{
	struct instance in;
	long long before;
	pid_t pid;
	int ret = LIFECYCLE_EXIT_FAIL;

	if (argc != 1)
		return usage("reload");
	if (load(&in, true) < 0)
		return LIFECYCLE_EXIT_FAIL;
	pid = running_pid(&in);
	if (pid > 0) {
		before = generation(&in, NULL);
		if (send_signal(pid, SIGHUP) > 0 &&
		    (before < 0 || wait_reloaded(&in, before) > 0)) {
			fprintf(stderr, "postern: reloaded (pid %ld)\n",
				(long)pid);
			ret = 0;
		}
	}
	unload(&in);
	return ret;
}
