/* tap.c: TAP output for unit tests (see tap.h). */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static int tap_count;
static int tap_failed;
static char tap_dir[256];
static pid_t tap_dir_owner;

static void tap_result(bool cond, const char *file, int line, const char *name)
{
	tap_count++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

void tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	tap_result(cond, file, line, name);
}

void tap_is_long(long long got, long long want, const char *file, int line,
		 const char *name)
{
	tap_result(got == want, file, line, name);
	if (got != want)
		printf("#   got: %lld\n#   expected: %lld\n", got, want);
}

void tap_is_str(const char *got, const char *want, const char *file, int line,
		const char *name)
{
	bool same = (got == NULL || want == NULL) ? got == want
						  : strcmp(got, want) == 0;

	tap_result(same, file, line, name);
	if (!same)
		printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
}

void tap_is_mem(const void *got, size_t got_len, const void *want,
		size_t want_len, const char *file, int line, const char *name)
{
	bool same = got_len == want_len && memcmp(got, want, got_len) == 0;

	tap_result(same, file, line, name);
	if (!same)
		printf("#   got: '%.*s' (%zu bytes)\n#   expected: '%.*s' (%zu bytes)\n",
		       (int)got_len, (const char *)got, got_len, (int)want_len,
		       (const char *)want, want_len);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d tests failed\n", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

int tap_run_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1000;
	if (pid == 0) {
		/* silence the child's expected complaints */
		if (!freopen("/dev/null", "w", stderr)) {
			/* keep going with stderr as it was */
		}
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1000;
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void tap_rm_tmpdir(void)
{
	char cmd[300];

	if (tap_dir[0] == '\0' || getpid() != tap_dir_owner)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tap_dir);
	if (system(cmd) != 0) {
		/* leftovers in /tmp are harmless */
	}
}

const char *tap_tmpdir(void)
{
	if (tap_dir[0] == '\0') {
		const char *base = getenv("TMPDIR");
		snprintf(tap_dir, sizeof(tap_dir), "%s/postern-t.XXXXXX",
			 base ? base : "/tmp");
		if (mkdtemp(tap_dir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		tap_dir_owner = getpid();
		atexit(tap_rm_tmpdir);
	}
	return tap_dir;
}
