/* spawn.c: running one delivery program (see spawn.h). The parent feeds
 * standard input and drains the output in one poll() loop, so that a
 * program that writes much before it reads cannot deadlock against us;
 * a third pipe, closed by a successful execve(), tells an exec failure
 * (a configuration problem: defer) from the program's own exit codes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

struct run {
	int in_w, out_r, ex_r;
	struct str pending; /* input read but not yet written */
	size_t pending_off;
	bool input_end;
	int exec_errno;
	struct timespec deadline;
	bool timed_out;
};

static __attribute__((noreturn)) void child(const struct spawn_request *req,
					    int in_r, int out_w, int ex_w)
{
	sigset_t none;
	int e;

	(void)setsid();
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0)
		_exit(71);
	if (ex_w != 3 && dup3(ex_w, 3, O_CLOEXEC) < 0)
		_exit(71);
	if (close_range(4, ~0u, 0) < 0)
		for (int fd = 4; fd < 65536; fd++)
			(void)close(fd);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(req->path, req->argv, req->envp);
	e = errno;
	if (write(3, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int ms_left(const struct run *r)
{
	struct timespec now;
	long long ms;

	if (r->deadline.tv_sec == 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(r->deadline.tv_sec - now.tv_sec) * 1000 +
	     (r->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Keeps printable output, one line: the bounce text is a header field. */
static void output_add(struct spawn_result *res, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && res->output.len < SPAWN_OUTPUT_MAX; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		if (c == ' ' && (res->output.len == 0 ||
				 res->output.data[res->output.len - 1] == ' '))
			continue;
		str_putc(&res->output, c);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Writes what it can of the input; 1 going on, -1 queue file error. */
static int feed(struct run *r, struct content_stream *in,
		struct spawn_result *res)
{
	const char *err;
	ssize_t n;

	if (r->pending_off == r->pending.len) {
		str_clear(&r->pending);
		r->pending_off = 0;
		int got = content_next(in, &r->pending, &err);

		if (got < 0) {
			snprintf(res->error, sizeof(res->error), "%s", err);
			return -1;
		}
		if (got == 0) {
			close_fd(&r->in_w); /* end of input for the program */
			return 1;
		}
	}
	n = write(r->in_w, r->pending.data + r->pending_off,
		  r->pending.len - r->pending_off);
	if (n > 0)
		r->pending_off += (size_t)n;
	else if (n < 0 && errno != EINTR && errno != EAGAIN)
		close_fd(&r->in_w); /* it stopped reading: its exit decides */
	return 1;
}

static void drain(int *fd, struct spawn_result *res, bool keep)
{
	char buf[4096];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0 && keep)
		output_add(res, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

static void exec_status(struct run *r)
{
	int e;
	ssize_t n = read(r->ex_r, &e, sizeof(e));

	if (n == (ssize_t)sizeof(e))
		r->exec_errno = e;
	if (n >= 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(&r->ex_r);
}

/* Until the program closed its output and input is done: 1, 0 at the
 * time limit, -1 queue file error. */
static int pump(struct run *r, const struct spawn_request *req,
		struct spawn_result *res)
{
	struct pollfd p[3];

	while (r->out_r >= 0 || r->ex_r >= 0) {
		int n = 0, t = ms_left(r);

		if (t == 0)
			return 0;
		p[n++] = (struct pollfd){.fd = r->out_r, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = r->ex_r, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = r->in_w, .events = POLLOUT};
		if (poll(p, 3, t) < 0 && errno != EINTR)
			return -1;
		if (p[0].revents != 0)
			drain(&r->out_r, res, true);
		if (p[1].revents != 0)
			exec_status(r);
		if (p[2].revents & (POLLERR | POLLHUP))
			close_fd(&r->in_w);
		else if (p[2].revents != 0 && feed(r, req->input, res) < 0)
			return -1;
	}
	return 1;
}

/* Waits for the program to exit, up to the deadline: 1, 0 timeout, -1
 * error (nothing then says how the program ended). */
static int reap(struct run *r, pid_t pid, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (ms_left(r) == 0)
			return 0;
		struct timespec nap = {0, 10 * 1000 * 1000};

		nanosleep(&nap, NULL);
	}
}

static int make_pipes(int in[2], int out[2], int ex[2])
{
	in[0] = in[1] = out[0] = out[1] = ex[0] = ex[1] = -1;
	return pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		       pipe2(ex, O_CLOEXEC) < 0
		   ? -1
		   : 0;
}

static void close_all(int in[2], int out[2], int ex[2])
{
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&ex[i]);
	}
}

static void finish_result(struct run *r, int status, int pumped,
			  struct spawn_result *res)
{
	if (pumped < 0 && res->error[0] == '\0')
		snprintf(res->error, sizeof(res->error), "%s", strerror(errno));
	if (r->exec_errno != 0) {
		res->how = SPAWN_EXEC_FAILED;
		res->code = r->exec_errno;
	} else if (r->timed_out) {
		res->how = SPAWN_TIMEOUT;
	} else if (pumped < 0) {
		res->how = SPAWN_FAILED;
	} else if (WIFSIGNALED(status)) {
		res->how = SPAWN_SIGNALED;
		res->code = WTERMSIG(status);
	} else {
		res->how = SPAWN_EXITED;
		res->code = WEXITSTATUS(status);
	}
}

void spawn_run(const struct spawn_request *req, struct spawn_result *res)
{
	struct run r = {.in_w = -1, .out_r = -1, .ex_r = -1};
	int in[2], out[2], ex[2], status = 0, pumped;
	pid_t pid;

	res->error[0] = '\0';
	str_clear(&res->output);
	if (make_pipes(in, out, ex) < 0 || (pid = fork()) < 0) {
		snprintf(res->error, sizeof(res->error), "cannot start: %s",
			 strerror(errno));
		close_all(in, out, ex);
		res->how = SPAWN_FAILED;
		return;
	}
	if (pid == 0)
		child(req, in[0], out[1], ex[1]);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&ex[1]);
	r.in_w = in[1], r.out_r = out[0], r.ex_r = ex[0];
	in[1] = out[0] = ex[0] = -1;
	(void)fcntl(r.in_w, F_SETFL, O_NONBLOCK);
	str_init(&r.pending, 65536 + 1024);
	if (req->time_limit > 0) {
		clock_gettime(CLOCK_MONOTONIC, &r.deadline);
		r.deadline.tv_sec += req->time_limit;
	}
	pumped = pump(&r, req, res);
	close_fd(&r.in_w);
	close_fd(&r.out_r);
	close_fd(&r.ex_r);
	if (pumped > 0) {
		pumped = reap(&r, pid, &status);
		if (pumped < 0)
			snprintf(res->error, sizeof(res->error), "wait: %s",
				 strerror(errno));
	}
	if (pumped == 0) {
		r.timed_out = true;
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
	}
	if (pumped <= 0) {
		(void)kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	while (res->output.len > 0 &&
	       res->output.data[res->output.len - 1] == ' ')
		str_truncate(&res->output, res->output.len - 1);
	finish_result(&r, status, pumped, res);
	str_deinit(&r.pending);
}

/* sysexits(3) codes 64..78: the DSN and the meaning. */
static const struct {
	const char *dsn, *text;
} sysexits[] = {
    {"5.3.0", "command line usage error"},  /* 64 EX_USAGE */
    {"5.6.0", "data format error"},	    /* 65 EX_DATAERR */
    {"5.3.0", "cannot open input"},	    /* 66 EX_NOINPUT */
    {"5.1.1", "user unknown"},		    /* 67 EX_NOUSER */
    {"5.1.2", "host name unknown"},	    /* 68 EX_NOHOST */
    {"5.3.0", "service unavailable"},	    /* 69 EX_UNAVAILABLE */
    {"5.3.0", "internal software error"},   /* 70 EX_SOFTWARE */
    {"5.3.0", "system resource problem"},   /* 71 EX_OSERR */
    {"5.3.0", "critical OS file missing"},  /* 72 EX_OSFILE */
    {"5.2.0", "cannot create output file"}, /* 73 EX_CANTCREAT */
    {"5.3.0", "input/output error"},	    /* 74 EX_IOERR */
    {"4.3.0", "temporary failure"},	    /* 75 EX_TEMPFAIL */
    {"5.5.0", "remote error in protocol"},  /* 76 EX_PROTOCOL */
    {"5.7.0", "permission denied"},	    /* 77 EX_NOPERM */
    {"5.3.5", "local configuration error"}, /* 78 EX_CONFIG */
};

static void with_output(const struct spawn_result *res, struct str *text)
{
	if (res->output.len > 0)
		str_printf(text, "; output: %s", res->output.data);
}

enum spawn_class spawn_classify(const struct spawn_result *res,
				const char *what, unsigned time_limit,
				char *dsn, struct str *text)
{
	enum spawn_class cls = SPAWN_DEFER;
	const char *d = "4.3.0";
	int c = res->code;

	if (res->how == SPAWN_EXITED && c == 0) {
		cls = SPAWN_OK, d = "2.0.0";
		str_printf(text, "delivered to %s", what);
	} else if (res->how == SPAWN_EXITED && c >= 64 && c <= 78) {
		cls = c == 75 ? SPAWN_DEFER : SPAWN_BOUNCE;
		d = sysexits[c - 64].dsn;
		str_printf(text, "%s exited with status %d (%s)", what, c,
			   sysexits[c - 64].text);
	} else if (res->how == SPAWN_EXITED) {
		cls = SPAWN_BOUNCE, d = "5.3.0";
		str_printf(text, "%s exited with status %d", what, c);
	} else if (res->how == SPAWN_SIGNALED) {
		str_printf(text, "%s was killed by signal %d", what, c);
	} else if (res->how == SPAWN_TIMEOUT) {
		str_printf(text, "%s was killed: time limit of %u s exceeded",
			   what, time_limit);
	} else if (res->how == SPAWN_EXEC_FAILED) {
		d = "4.3.5";
		str_printf(text, "cannot execute %s: %s", what, strerror(c));
	} else {
		str_printf(text, "cannot run %s: %s", what, res->error);
	}
	if (res->how != SPAWN_EXEC_FAILED && res->how != SPAWN_FAILED)
		with_output(res, text);
	snprintf(dsn, 16, "%s", d);
	return cls;
}
