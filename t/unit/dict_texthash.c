/* t/unit/dict_texthash.c: tests for lib/dict_texthash.c (and dict_mem.c):
 * texthash:/path read at open, key folding, duplicates, iteration, errors. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "msg.h"
#include "str.h"
#include "tap.h"

static char spec[600];

/* Writes a source file and returns "texthash:PATH". */
static const char *table(const char *name, const char *data)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tap_tmpdir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		abort();
	close(fd);
	snprintf(spec, sizeof(spec), "texthash:%s", path);
	return spec;
}

/* Opens spec with stderr captured into log. */
static struct dict *open_logged(const char *s, int flags, struct str *log,
				const char **error_r)
{
	int fds[2], saved = dup(2);
	char buf[4096];
	struct dict *d;
	ssize_t n;

	if (pipe(fds) < 0)
		abort();
	dup2(fds[1], 2);
	close(fds[1]);
	d = dict_open(s, flags, error_r);
	dup2(saved, 2);
	close(saved);
	str_clear(log);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		str_append(log, buf, (size_t)n);
	close(fds[0]);
	return d;
}

static int count_entries(void *ctx, const char *key, const char *value)
{
	str_printf(ctx, "%s=%s;", key, value);
	return 0;
}

static int stop_first(void *ctx, const char *key, const char *value)
{
	(*(int *)ctx)++;
	return 1;
}

static void test_lookup(struct str *val, struct str *log)
{
	const char *error = NULL;
	struct dict *d;
	char want[700];
	int calls = 0;

	d = open_logged(table("a.txt", "# aliases\nFoo@Example.COM bar\n"
				       "baz  qux quux\n  continued\n"
				       "foo@example.com second\n"),
			0, log, &error);
	ok(d != NULL, "texthash opens");
	snprintf(
	    want, sizeof(want),
	    "postern/test: warning: %s:5: duplicate entry foo@example.com\n",
	    spec + strlen("texthash:"));
	is_str(log->data, want, "duplicate warns with file, line and key");
	is_int(dict_lookup(d, "foo@example.com", val, &error), 1, "lookup");
	is_str(val->data, "bar", "first of the duplicates kept");
	is_int(dict_lookup(d, "FOO@EXAMPLE.com", val, &error), 1,
	       "lookup key is folded");
	is_int(dict_lookup(d, "baz", val, &error), 1, "second entry");
	is_str(val->data, "qux quux continued", "continued value");
	is_int(dict_lookup(d, "nope", val, &error), 0, "missing key");
	str_clear(log);
	is_int(dict_iterate(d, count_entries, log, &error), 1, "iterate");
	ok(strstr(log->data, "foo@example.com=bar;") != NULL &&
	       strstr(log->data, "baz=qux quux continued;") != NULL &&
	       strlen(log->data) == strlen("foo@example.com=bar;"
					   "baz=qux quux continued;"),
	   "iterate sees both entries: %s", log->data);
	is_int(dict_iterate(d, stop_first, &calls, &error), 1, "iterate stops");
	is_int(calls, 1, "... after fn returns non-zero");
	is_int(dict_update(d, "x", "y", &error), -1, "texthash is read-only");
	dict_close(&d);
	ok(d == NULL, "close NULLs the pointer");

	d = dict_open(table("b.txt", "MiXed v\n"), DICT_FLAG_NO_FOLD, &error);
	is_int(dict_lookup(d, "MiXed", val, &error), 1, "no-fold keeps case");
	is_int(dict_lookup(d, "mixed", val, &error), 0,
	       "no-fold: other case missing");
	dict_close(&d);
}

static void test_errors(struct str *log)
{
	const char *error = NULL;
	char want[700];

	ok(dict_open(table("c.txt", "ok 1\nbroken\n"), 0, &error) == NULL,
	   "bad source fails to open");
	snprintf(want, sizeof(want), "%s:2: expected key whitespace value",
		 spec + strlen("texthash:"));
	is_str(error, want, "error names file and line");
	ok(dict_open("texthash:/nonexistent/x", 0, &error) == NULL,
	   "missing file fails");
	is_str(error, "/nonexistent/x: cannot open: No such file or directory",
	       "missing file error");
}

int main(void)
{
	struct str val, log;

	msg_init("postern/test", MSG_DEST_STDERR);
	str_init(&val, 0);
	str_init(&log, 0);
	test_lookup(&val, &log);
	test_errors(&log);
	str_deinit(&val);
	str_deinit(&log);
	return tap_done();
}
