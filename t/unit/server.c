/* t/unit/server.c: tests for the daemon skeleton (lib/server.c,
 * lib/server_loop.c) without a master: this test plays the master, hands
 * the test daemon t/svc/echo a status pipe and a listener on the
 * descriptors of master_proto.h, and checks what the daemon reports and
 * when it exits (max_use, max_idle, the master going away), one client at a
 * time vs many, triggers, and (as root) the privilege drop and chroot. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "master_proto.h"
#include "sock.h"
#include "str.h"
#include "tap.h"

struct daemon {
	pid_t pid;
	int status_rd;
	int lfd;
	int port;
};

static const char *err;
static char echo_path[4096], conf_dir[4096], log_path[4096];

static void write_conf(const char *text)
{
	struct str path;

	str_init(&path, 0);
	str_printf(&path, "%s/main.cf", conf_dir);
	if (file_write_atomic(path.data, text, strlen(text), 0644, &err) < 0)
		tap_diag("%s", err);
	str_deinit(&path);
}

/* Starts echo like the master would; extra: more flags, NULL-ended. */
static void start(struct daemon *d, int lfd, const char *type, const char *mode,
		  const char *const *extra)
{
	const char *argv[32] = {echo_path, "-c", conf_dir, "-n", "test", "-t",
				type,	   "-s", "1",	   "-m", "10",	 "-e"};
	int n = 12, pipefd[2];

	for (; extra != NULL && *extra != NULL; extra++)
		argv[n++] = *extra;
	argv[n++] = "--";
	argv[n++] = mode;
	argv[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		abort();
	d->status_rd = pipefd[0];
	d->lfd = lfd;
	d->pid = fork();
	if (d->pid == 0) {
		int s = fcntl(pipefd[1], F_DUPFD, 10),
		    l = fcntl(lfd, F_DUPFD, 10);
		int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
		dup2(s, MASTER_STATUS_FD);
		dup2(l, MASTER_LISTEN_FD);
		dup2(log, 2);
		close_range(MASTER_LISTEN_FD + 1, ~0U, 0);
		execv(echo_path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
}

static int tcp_listener(int *port_r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = sock_tcp_listen("127.0.0.1:0", 16, &err);

	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static int connect_to(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		tap_diag("connect: %s", strerror(errno));
	return fd;
}

/* One line without CRLF into buf, "" on timeout or EOF. */
static const char *read_line(int fd, int timeout_ms)
{
	static char buf[512];
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (n + 1 < sizeof(buf) && poll(&p, 1, timeout_ms) == 1 &&
	       read(fd, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
		n--;
	buf[n] = '\0';
	return buf;
}

static const char *ask(int fd, const char *line)
{
	struct str s;

	str_init(&s, 0);
	str_printf(&s, "%s\r\n", line);
	if (write(fd, s.data, s.len) != (ssize_t)s.len)
		tap_diag("write: %s", strerror(errno));
	str_deinit(&s);
	return read_line(fd, 3000);
}

/* The next status report: MASTER_STAT_*, or -1 on timeout. */
static int next_status(struct daemon *d, pid_t *pid_r)
{
	struct master_status st;
	struct pollfd p = {.fd = d->status_rd, .events = POLLIN};

	if (poll(&p, 1, 3000) != 1 ||
	    read(d->status_rd, &st, sizeof(st)) != (ssize_t)sizeof(st))
		return -1;
	*pid_r = st.pid;
	return st.avail;
}

/* Exit status, or -1 when the daemon is still running after timeout_ms
 * (it is left running). */
static int wait_exit(struct daemon *d, int timeout_ms)
{
	int status;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		usleep(20000);
	}
	return -1;
}

static bool log_has(const char *text)
{
	struct str log;
	bool found;

	str_init(&log, 0);
	file_read_all(log_path, &log, 0, &err);
	found = log.data != NULL && strstr(log.data, text) != NULL;
	str_deinit(&log);
	return found;
}

static void like_id(const char *reply)
{
	ok(strncmp(reply, "250 uid=65534 gid=65534 groups=65534", 36) == 0,
	   "runs as nobody: %s", reply);
}

static void test_by_hand(void)
{
	struct daemon d;
	int status;

	d.pid = fork();
	if (d.pid == 0) {
		int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
		dup2(log, 2);
		close_range(3, ~0U, 0);
		execl(echo_path, echo_path, (char *)NULL);
		_exit(127);
	}
	waitpid(d.pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	   "run by hand: exits with an error");
	ok(log_has("is run by the Postern master"), "and says why");
}

/* One client at a time: busy/idle reports, a second client waits, and
 * the process exits after max_use clients. */
static void test_single(void)
{
	struct daemon d;
	int port, lfd = tcp_listener(&port), c1, c2;
	pid_t pid = 0;
	char want[64];

	write_conf("max_use = 2\nmax_idle = 30s\n");
	start(&d, lfd, "inet", "single", NULL);
	c1 = connect_to(port);
	is_str(read_line(c1, 3000), "220 test ready", "greeting");
	is_int(next_status(&d, &pid), MASTER_STAT_TAKEN, "busy reported");
	is_int(pid, d.pid, "with the daemon's pid");
	snprintf(want, sizeof(want), "250 %ld", (long)d.pid);
	is_str(ask(c1, "PID"), want, "served by that process");
	c2 = connect_to(port);
	is_str(read_line(c2, 300), "", "a second client waits");
	is_str(ask(c1, "QUIT"), "221 bye", "quit");
	is_int(next_status(&d, &pid), MASTER_STAT_AVAIL, "idle reported");
	is_str(read_line(c2, 3000), "220 test ready", "second client served");
	is_int(next_status(&d, &pid), MASTER_STAT_TAKEN, "busy again");
	is_int(wait_exit(&d, 200), -1, "still running during the session");
	is_str(ask(c2, "hello"), "250 hello", "echo");
	is_str(ask(c2, "QUIT"), "221 bye", "quit");
	is_int(wait_exit(&d, 3000), 0, "exits after max_use = 2 clients");
	close(c1);
	close(c2);
	close(d.status_rd);
	close(lfd);
}

static void test_idle(void)
{
	struct daemon d;
	int port, lfd = tcp_listener(&port);

	write_conf("max_idle = 1s\n");
	start(&d, lfd, "inet", "single", NULL);
	is_int(wait_exit(&d, 400), -1, "idle daemon waits");
	is_int(wait_exit(&d, 3000), 0, "and exits after max_idle");
	close(d.status_rd);
	close(lfd);
}

/* The master closes the status pipe (it exited, or a reload retired the
 * service): the session goes on, no new client is taken, then exit. */
static void test_master_gone(void)
{
	struct daemon d;
	int port, lfd = tcp_listener(&port), c1, c2;

	write_conf("max_idle = 30s\n");
	start(&d, lfd, "inet", "single", NULL);
	c1 = connect_to(port);
	is_str(read_line(c1, 3000), "220 test ready", "greeting");
	close(d.status_rd);
	usleep(100000);
	is_str(ask(c1, "still"), "250 still", "session goes on");
	is_str(ask(c1, "QUIT"), "221 bye", "quit");
	is_int(wait_exit(&d, 3000), 0, "then the daemon exits");
	c2 = connect_to(port);
	is_str(read_line(c2, 200), "", "and took no new client");
	close(c1);
	close(c2);
	close(lfd);
}

static void test_multi(void)
{
	struct daemon d;
	int port, lfd = tcp_listener(&port), c1, c2;
	pid_t pid = 0;
	char want[64];

	write_conf("max_idle = 30s\n");
	start(&d, lfd, "inet", "multi", NULL);
	c1 = connect_to(port);
	c2 = connect_to(port);
	is_str(read_line(c1, 3000), "220 test ready", "first client");
	is_str(read_line(c2, 3000), "220 test ready",
	       "second client at the same time");
	snprintf(want, sizeof(want), "250 %ld", (long)d.pid);
	is_str(ask(c1, "PID"), want, "one process");
	is_str(ask(c2, "PID"), want, "serves both");
	is_int(next_status(&d, &pid), MASTER_STAT_TAKEN, "busy with clients");
	ask(c1, "QUIT");
	ask(c2, "QUIT");
	is_int(next_status(&d, &pid), MASTER_STAT_AVAIL, "idle once both left");
	kill(d.pid, SIGTERM);
	is_int(wait_exit(&d, 3000), 128 + SIGTERM, "SIGTERM ends it");
	close(c1);
	close(c2);
	close(d.status_rd);
	close(lfd);
}

static void test_trigger(void)
{
	struct daemon d;
	struct str path;
	int lfd, c;

	str_init(&path, 0);
	str_printf(&path, "%s/trigger.sock", tap_tmpdir());
	lfd = sock_unix_listen(path.data, 0600, 16, &err);
	write_conf("max_idle = 30s\n");
	start(&d, lfd, "unix", "trigger", NULL);
	c = sock_unix_connect(path.data, false, &err);
	ok(write(c, "W", 1) == 1, "wakeup byte sent");
	close(c);
	for (int i = 0; i < 100 && !log_has("trigger: 1 byte(s): W"); i++)
		usleep(20000);
	ok(log_has("trigger: 1 byte(s): W"), "trigger delivered");
	/* A writer that keeps its connection: each byte is delivered as it
	 * comes; the connection does not keep the daemon from stopping. */
	c = sock_unix_connect(path.data, false, &err);
	ok(write(c, "A", 1) == 1, "kept connection: first byte");
	for (int i = 0; i < 100 && !log_has("trigger: 1 byte(s): A"); i++)
		usleep(20000);
	ok(log_has("trigger: 1 byte(s): A"), "delivered before the close");
	ok(write(c, "D", 1) == 1, "kept connection: second byte");
	for (int i = 0; i < 100 && !log_has("trigger: 1 byte(s): D"); i++)
		usleep(20000);
	ok(log_has("trigger: 1 byte(s): D"), "delivered too");
	close(d.status_rd); /* the master went away */
	is_int(wait_exit(&d, 3000), 0,
	       "the daemon ends though a trigger connection is open");
	close(c);
	close(lfd);
	str_deinit(&path);
}

/* -u and -r: the daemon runs as mail_owner, chrooted into the queue. */
static void test_root(void)
{
	static const char *const flags[] = {"-u", "-r", NULL};
	struct daemon d;
	struct str text;
	int port, lfd, c;

	if (getuid() != 0) {
		ok(1, "privilege drop # SKIP not root");
		return;
	}
	str_init(&text, 0);
	chmod(tap_tmpdir(), 0755);
	str_printf(&text, "%s/q", tap_tmpdir());
	mkdir(text.data, 0755);
	str_append_cstr(&text, "/incoming");
	mkdir(text.data, 0700);
	str_clear(&text);
	str_printf(&text, "mail_owner = nobody\nqueue_directory = %s/q\n",
		   tap_tmpdir());
	write_conf(text.data);
	lfd = tcp_listener(&port);
	start(&d, lfd, "inet", "single", flags);
	c = connect_to(port);
	is_str(read_line(c, 3000), "220 test ready", "greeting");
	like_id(ask(c, "ID"));
	is_str(ask(c, "LS /"), "250 incoming", "chrooted into the queue");
	ask(c, "QUIT");
	kill(d.pid, SIGTERM);
	wait_exit(&d, 3000);
	close(c);
	close(d.status_rd);
	close(lfd);
	str_deinit(&text);
}

int main(void)
{
	const char *top = getenv("top_builddir");

	snprintf(echo_path, sizeof(echo_path), "%s/t/svc/echo",
		 top ? top : ".");
	snprintf(conf_dir, sizeof(conf_dir), "%s", tap_tmpdir());
	snprintf(log_path, sizeof(log_path), "%s/log", tap_tmpdir());
	signal(SIGPIPE, SIG_IGN);
	test_by_hand();
	test_single();
	test_idle();
	test_master_gone();
	test_multi();
	test_trigger();
	test_root();
	return tap_done();
}
