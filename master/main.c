/* main.c: the Postern master, the one process that stays root (when started
 * as root): it reads main.cf and master.cf, opens every listening socket,
 * starts the daemons on demand (fork + execve of $daemon_directory/COMMAND)
 * and supervises them. SIGHUP reloads both files, SIGTERM (or SIGINT) stops
 * every daemon and the master. See postern-master(8).
 *
 *   master -c DIR [-f] [-w FD] [-v]
 *   -c  the configuration directory
 *   -f  foreground: log to standard error for good (postern start-fg)
 *   -w  write one byte to FD once ready, then close it (postern start)
 *   -v  verbose logging, passed on to the daemons
 * Until it is ready the master logs to standard error, so that `postern
 * start` shows why a start failed; then it switches to maillog_file, or to
 * syslog when that is empty (not in the foreground). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"
#include "master.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

static void usage(void)
{
	msg_fatal("usage: master -c DIR [-f] [-w FD] [-v]");
}

static void parse_args(struct master *m, int argc, char **argv, int *ready_r)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "c:fw:v")) != -1) {
		switch (c) {
		case 'c':
			m->config_dir = realpath(optarg, NULL);
			if (m->config_dir == NULL)
				msg_fatal("configuration directory %s: %s",
					  optarg, strerror(errno));
			break;
		case 'f':
			m->foreground = true;
			break;
		case 'w':
			*ready_r = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || *ready_r < 3)
				usage();
			break;
		case 'v':
			m->verbose = true;
			msg_set_level(MSG_DEBUG);
			break;
		default:
			usage();
		}
	}
	if (m->config_dir == NULL || optind != argc)
		usage();
}

static void set_progname(struct conf *conf, bool to_stderr, bool to_syslog)
{
	char prog[64];

	if (to_stderr)
		snprintf(prog, sizeof(prog), "%s/master[%ld]",
			 conf_get(conf, "syslog_name"), (long)getpid());
	else
		snprintf(prog, sizeof(prog), "%s/master",
			 conf_get(conf, "syslog_name"));
	msg_init(prog, (to_stderr ? MSG_DEST_STDERR : 0) |
			   (to_syslog ? MSG_DEST_SYSLOG : 0));
}

/* Decides where the log goes once the master is running: the descriptor
 * to put on standard error, or -1 to keep it (foreground). Sets
 * m->log_stderr, which daemons started from now on follow. */
static int log_choose(struct master *m, struct conf *conf)
{
	const char *file = conf_get(conf, "maillog_file");
	int fd;

	if (m->foreground) {
		m->log_stderr = true;
		return -1;
	}
	if (file[0] != '\0') {
		fd = open(file,
			  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			      O_NOFOLLOW | O_NOCTTY,
			  0640);
		if (fd >= 0) {
			m->log_stderr = true;
			return fd;
		}
		msg_warn("maillog_file %s: %s; logging to syslog", file,
			 strerror(errno));
	}
	m->log_stderr = false;
	return dup(m->devnull);
}

static void log_switch(struct master *m, int fd)
{
	if (fd >= 0) {
		if (dup2(fd, STDERR_FILENO) < 0)
			msg_warn("log: dup2: %s", strerror(errno));
		close(fd);
	}
	set_progname(m->conf, m->log_stderr, !m->log_stderr);
}

static void log_problems(struct master *m)
{
	for (struct mservice *svc = m->services; svc; svc = svc->next)
		if (svc->state != SVC_READY)
			msg_warn("service %s: %s -- not started", svc->label,
				 svc->problem);
}

static void reload(struct master *m)
{
	struct master_cf *mcf;
	struct conf *conf;
	const char *err;

	msg_info("reload -- configuration %s", m->config_dir);
	master_notify_systemd("RELOADING=1");
	mem_free(m->reload_error);
	if (master_config_read(m, &conf, &mcf, &err) < 0) {
		msg_error("reload failed, still running the previous "
			  "configuration: %s",
			  err);
		m->reload_error = mem_strdup(err);
		m->generation++;
	} else {
		int log_fd = log_choose(m, conf);
		master_config_apply(m, conf, mcf, false);
		log_switch(m, log_fd);
		log_problems(m);
	}
	master_notify_systemd("READY=1");
}

static void on_stop_timer(struct event_timer *timer, void *ctx)
{
	struct master *m = ctx;
	static bool killed;

	if (!killed) {
		msg_warn("%zu process(es) did not stop; killing them",
			 htable_count(m->children));
		master_kill_all(m, SIGKILL);
		killed = true;
		event_timer_restart(timer, MASTER_KILL_GRACE_MS);
	} else {
		msg_warn("%zu process(es) could not be reaped",
			 htable_count(m->children));
		event_loop_stop(m->loop);
	}
}

static void stop(struct master *m, int signo)
{
	if (m->stopping)
		return;
	msg_info("terminating on signal %d", signo);
	master_notify_systemd("STOPPING=1");
	m->stopping = true;
	master_status_close(m);
	master_services_free(m);
	master_kill_all(m, SIGTERM);
	if (htable_count(m->children) == 0)
		event_loop_stop(m->loop);
	else
		m->stop_timer = event_timer_add(m->loop, MASTER_STOP_GRACE_MS,
						false, on_stop_timer, m);
}

static void on_signal(int signo, void *ctx)
{
	struct master *m = ctx;

	if (signo == SIGCHLD)
		master_reap(m);
	else if (signo == SIGHUP && !m->stopping)
		reload(m);
	else if (signo == SIGTERM || signo == SIGINT)
		stop(m, signo);
}

static void setup_loop(struct master *m)
{
	static const int signals[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
	const char *err;

	m->loop = event_loop_new(&err);
	if (m->loop == NULL)
		msg_fatal("%s", err);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (event_signal_add(m->loop, signals[i], on_signal, m, &err) <
		    0)
			msg_fatal("%s", err);
	signal(SIGPIPE, SIG_IGN);
	m->children = htable_new(64);
	m->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (m->devnull < 0)
		msg_fatal("open /dev/null: %s", strerror(errno));
}

/* Creates missing queue folders; other problems are only logged here
 * (`postern check` lists them). */
static void prepare_dirs(struct conf *conf)
{
	struct instance_ids ids;
	struct str problems;
	const char *err;
	char *line, *save = NULL;

	if (instance_ids(conf, &ids, &err) < 0)
		msg_fatal("%s", err);
	str_init(&problems, 0);
	if (instance_check_dirs(conf, &ids, true, &problems) > 0)
		for (line = strtok_r(problems.data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			msg_warn("%s", line);
	str_deinit(&problems);
}

static void start(struct master *m, int ready_fd)
{
	struct master_cf *mcf;
	struct conf *conf;
	const char *err;
	int log_fd;

	if (master_config_read(m, &conf, &mcf, &err) < 0)
		msg_fatal("%s", err);
	prepare_dirs(conf);
	if (instance_lock(conf, &m->lock_fd, &err) <= 0)
		msg_fatal("%s", err);
	m->pid_path = instance_pid_path(conf);
	setup_loop(m);
	if (chdir(conf_get(conf, "queue_directory")) < 0)
		msg_fatal("chdir %s: %s", conf_get(conf, "queue_directory"),
			  strerror(errno));
	log_fd = log_choose(m, conf);
	m->started = time(NULL);
	master_config_apply(m, conf, mcf, true);
	if (master_status_open(m, &err) < 0)
		msg_fatal("status socket: %s", err);
	log_switch(m, log_fd);
	master_notify_ready(ready_fd);
	msg_info("daemon started -- version %s, configuration %s",
		 PACKAGE_VERSION, m->config_dir);
	log_problems(m);
}

int main(int argc, char **argv)
{
	struct master m;
	int ready_fd = -1;
	const char *err;

	memset(&m, 0, sizeof(m));
	m.lock_fd = m.devnull = -1;
	msg_init("postern/master", MSG_DEST_STDERR);
	parse_args(&m, argc, argv, &ready_fd);
	if (getuid() != geteuid() || getgid() != getegid())
		msg_fatal("refusing to run set-uid or set-gid");
	umask(022);
	start(&m, ready_fd);
	if (event_loop_run(m.loop, &err) < 0)
		msg_fatal("%s", err);
	master_status_close(&m);
	master_services_free(&m);
	unlink(m.pid_path);
	msg_info("stopped");
	event_timer_remove(&m.stop_timer);
	event_loop_free(&m.loop);
	htable_free(&m.children, NULL);
	conf_free(&m.conf);
	master_cf_free(&m.mcf);
	mem_free(m.pid_path);
	mem_free(m.reload_error);
	free(m.config_dir);
	close(m.devnull);
	/* The lock goes with the process: `postern stop` waits for it, so
	 * it must outlast everything the process still does at exit. */
	return 0;
}
