/* t/unit/msg.c: tests for lib/msg.c: line format, queue ID, levels, exits. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "str.h"
#include "tap.h"

/* Runs fn with stderr captured into out. */
static void capture(void (*fn)(void), struct str *out)
{
	int fds[2], saved = dup(2);
	char buf[4096];
	ssize_t n;

	if (pipe(fds) < 0)
		return;
	dup2(fds[1], 2);
	close(fds[1]);
	fn();
	dup2(saved, 2);
	close(saved);
	str_clear(out);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		str_append(out, buf, (size_t)n);
	close(fds[0]);
}

static void log_plain(void)
{
	msg_info("hello %d", 7);
	msg_warn("careful");
	msg_debug("hidden");
}

static void log_qid(void)
{
	msg_set_queue_id("3Fq2x7");
	msg_info("to=<a@b>, status=sent");
	msg_set_queue_id(NULL);
	msg_error("bad thing");
}

static void log_level(void)
{
	msg_set_level(MSG_WARN);
	msg_info("dropped");
	msg_warn("kept");
	msg_set_level(MSG_INFO);
}

static void fatal_child(void *arg)
{
	msg_set_fatal_exit(*(int *)arg);
	msg_fatal("environment broken");
}

static void panic_child(void *arg)
{
	msg_panic("a bug");
}

int main(void)
{
	struct str out;
	char safe[16];
	int code = 2;

	str_init(&out, 0);
	msg_init("postern/test", MSG_DEST_STDERR);
	capture(log_plain, &out);
	is_str(out.data, "postern/test: hello 7\npostern/test: warning: careful\n",
	       "info and warning lines carry the program name");
	capture(log_qid, &out);
	is_str(out.data,
	       "postern/test: 3Fq2x7: to=<a@b>, status=sent\n"
	       "postern/test: error: bad thing\n",
	       "queue ID prefix set and cleared");
	capture(log_level, &out);
	is_str(out.data, "postern/test: warning: kept\n", "level filter");
	is_int(tap_run_child(fatal_child, &code), 2, "fatal exits with the set code");
	is_int(tap_run_child(panic_child, NULL), -SIGABRT, "panic aborts");
	is_str(msg_safe(safe, sizeof(safe), "a\r\nb\0c", 6), "a??b?c",
	       "msg_safe masks control characters");
	is_str(msg_safe(safe, 4, "abcdef", 6), "abc", "msg_safe truncates");
	str_deinit(&out);
	return tap_done();
}
