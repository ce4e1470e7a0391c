/* tap.h: a tiny TAP producer for the C unit tests in t/unit/.
 *
 * Typed asserts print both values on failure. tap_expect_exit() runs a
 * function in a child and checks how it ended (for msg_fatal/msg_panic).
 * tap_tmpdir() gives a fresh directory removed at exit. */
#ifndef POSTERN_TAP_H
#define POSTERN_TAP_H

#include <stdbool.h>
#include <stddef.h>

void tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tap_is_long(long long got, long long want, const char *file, int line,
		 const char *name);
void tap_is_str(const char *got, const char *want, const char *file, int line,
		const char *name);
void tap_is_mem(const void *got, size_t got_len, const void *want,
		size_t want_len, const char *file, int line, const char *name);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan and returns the exit code: 0 when all passed. */
int tap_done(void);

/* Child outcome: exit code >= 0, or -(signal number). */
int tap_run_child(void (*fn)(void *), void *arg);
const char *tap_tmpdir(void);

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, name) \
	tap_is_long((long long)(got), (long long)(want), __FILE__, __LINE__, name)
#define is_str(got, want, name) tap_is_str((got), (want), __FILE__, __LINE__, name)
#define is_mem(got, glen, want, wlen, name) \
	tap_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, name)

#endif
