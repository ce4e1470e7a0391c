/* t/unit/mem.c: tests for lib/mem.c: zeroing, duplication, overflow panics. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "tap.h"

static void overflow_add(void *arg)
{
	(void)size_add(SIZE_MAX, 1);
}

static void overflow_mul(void *arg)
{
	(void)size_mul(SIZE_MAX / 2 + 1, 2);
}

static void huge_alloc(void *arg)
{
	(void)mem_alloc(SIZE_MAX - 16);
}

int main(void)
{
	unsigned char *p = mem_alloc(64);
	int zero = 1;

	for (int i = 0; i < 64; i++)
		zero &= p[i] == 0;
	ok(zero, "mem_alloc zeroes");
	mem_free(p);
	ok(p == NULL, "mem_free clears the pointer");

	char *d = mem_strndup("abcdef", 3);
	is_str(d, "abc", "strndup copies at most n");
	mem_free(d);
	d = mem_strdup("xyz");
	is_str(d, "xyz", "strdup");
	mem_free(d);

	is_int(size_add(2, 3), 5, "size_add");
	is_int(size_mul(6, 7), 42, "size_mul");
	is_int(tap_run_child(overflow_add, NULL), -SIGABRT, "size_add overflow panics");
	is_int(tap_run_child(overflow_mul, NULL), -SIGABRT, "size_mul overflow panics");
	is_int(tap_run_child(huge_alloc, NULL), 1, "impossible allocation is fatal (exit 1)");
	return tap_done();
}
