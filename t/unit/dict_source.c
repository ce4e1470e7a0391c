/* t/unit/dict_source.c: tests for lib/dict_source.c: the postmap source
 * syntax, the aliases(5) "name: value" form, its limits and errors, and
 * that streaming (even a byte at a time) gives the same entries as
 * parsing a buffer. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict_source.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* Records entries as "LINE:KEY=VALUE\n". */
static int collect(void *ctx, const char *key, const char *value, int line,
		   const char **error_r)
{
	str_printf(ctx, "%d:%s=%s\n", line, key, value);
	return 0;
}

static int collect_line(void *ctx, char *text, size_t len, int line,
			const char **error_r)
{
	str_printf(ctx, "%d:[%s]%zu\n", line, text, len);
	return 0;
}

static int stop_at_b(void *ctx, const char *key, const char *value, int line,
		     const char **error_r)
{
	if (strcmp(key, "b") == 0) {
		*error_r = "callback said stop";
		return -1;
	}
	return collect(ctx, key, value, line, error_r);
}

/* Parses buf; returns the entries, or "ERR:message". */
static const char *parse(struct str *out, const char *buf, size_t len)
{
	const char *error = NULL;

	str_clear(out);
	if (dict_source_parse_buffer("t.src", buf, len, collect, out, &error) <
	    0) {
		str_clear(out);
		str_printf(out, "ERR:%s", error);
	}
	return out->data;
}

#define PARSE(out, lit) parse(out, lit, sizeof(lit) - 1)

static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tap_tmpdir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

static void test_syntax(struct str *out)
{
	is_str(PARSE(out, "a 1\nb\t2\n"), "1:a=1\n2:b=2\n",
	       "key whitespace value");
	is_str(PARSE(out, "# comment\n\n   \n  # indented comment\nk v\n"),
	       "5:k=v\n", "comments and blank lines are skipped");
	is_str(PARSE(out, "k   value with  inner   spaces   \t \n"),
	       "1:k=value with  inner   spaces\n",
	       "inner whitespace kept, trailing trimmed");
	is_str(PARSE(out, "k first\n  second  \n\tthird\nz 1\n"),
	       "1:k=first second third\n4:z=1\n",
	       "continuation lines join with one space");
	is_str(PARSE(out, "k first\n# comment between\n\n  more\n"),
	       "1:k=first more\n",
	       "comments and blank lines do not end a logical line");
	is_str(PARSE(out, "k\n  v\n"), "1:k=v\n",
	       "the value may start on a continuation line");
	is_str(PARSE(out, "a 1\r\nb 2\r\n"), "1:a=1\n2:b=2\n",
	       "CRLF tolerated");
	is_str(PARSE(out, "a 1\nb 2"), "1:a=1\n2:b=2\n",
	       "last line without a newline");
	is_str(PARSE(out, "\"a b\" v\n\"#x\" y\n"), "1:a b=v\n2:#x=y\n",
	       "quoted keys hold whitespace and '#'");
	is_str(PARSE(out, "\"q\\\"t\\\\s\\n\" v\n"), "1:q\"t\\s\\n=v\n",
	       "quoted key escapes: \\\" and \\\\ only");
	is_str(PARSE(out, "key#x v#y\n"), "1:key#x=v#y\n",
	       "'#' inside a line is text");
	is_str(PARSE(out, "k \"quoted value\"\n"), "1:k=\"quoted value\"\n",
	       "quotes in values are kept");
	is_str(PARSE(out, ""), "", "empty input");
	is_str(PARSE(out, "\n\n# only comments"), "", "no entries");
}

static void test_errors(struct str *out)
{
	is_str(PARSE(out, "a 1\nlonely\nc 3\n"),
	       "ERR:t.src:2: expected key whitespace value",
	       "key without value names file and line");
	is_str(PARSE(out, "lonely   \n"),
	       "ERR:t.src:1: expected key whitespace value",
	       "trailing whitespace is not a value");
	is_str(PARSE(out, "a 1\nb 2\0x\n"), "ERR:t.src:2: NUL byte in line",
	       "NUL byte names the line");
	is_str(PARSE(out, "# c\0mment\n"), "ERR:t.src:1: NUL byte in line",
	       "NUL byte in a comment is an error too");
	is_str(PARSE(out, "  a 1\n"),
	       "ERR:t.src:1: continuation line without a preceding entry",
	       "continuation at the start");
	is_str(PARSE(out, "\"a b v\n"), "ERR:t.src:1: unterminated quoted key",
	       "unterminated quote");
	is_str(PARSE(out, "\"\" v\n"), "ERR:t.src:1: empty key",
	       "empty quoted key");
	is_str(PARSE(out, "\"a\"b v\n"),
	       "ERR:t.src:1: expected whitespace after quoted key",
	       "text glued to a quoted key");
	is_str(PARSE(out, "\"a\"\n"),
	       "ERR:t.src:1: expected key whitespace value",
	       "quoted key without value");
}

static void test_limits(struct str *out)
{
	size_t big = 10 * 1024 * 1024;
	char *buf = mem_alloc(big + 16);
	const char *error = NULL, *path;
	char want[128];

	snprintf(want, sizeof(want), "ERR:t.src:2: line longer than %d bytes",
		 DICT_SOURCE_LINE_MAX);
	memcpy(buf, "a 1\nk ", 6);
	memset(buf + 6, 'x', big - 6);
	is_str(parse(out, buf, big), want,
	       "10 MB line in a buffer is an error");

	path = write_file("big.src", buf, big);
	snprintf(want, sizeof(want), "%s:2: line longer than %d bytes", path,
		 DICT_SOURCE_LINE_MAX);
	str_clear(out);
	is_int(dict_source_parse_file(path, collect, out, &error), -1,
	       "10 MB line in a file fails");
	is_str(error, want, "... with file and line");
	is_str(out->data, "", "... and the pending entry is not delivered");

	/* exactly at the limit is fine, one more byte is not */
	memcpy(buf, "k ", 2);
	memset(buf + 2, 'y', DICT_SOURCE_LINE_MAX - 2);
	buf[DICT_SOURCE_LINE_MAX] = '\n';
	path = write_file("max.src", buf, DICT_SOURCE_LINE_MAX + 1);
	str_clear(out);
	is_int(dict_source_parse_file(path, collect, out, &error), 1,
	       "a line of exactly the limit is accepted");
	is_int(out->len, DICT_SOURCE_LINE_MAX + 3, "... whole");
	buf[DICT_SOURCE_LINE_MAX] = 'y';
	buf[DICT_SOURCE_LINE_MAX + 1] = '\n';
	snprintf(want, sizeof(want), "ERR:t.src:1: line longer than %d bytes",
		 DICT_SOURCE_LINE_MAX);
	is_str(parse(out, buf, DICT_SOURCE_LINE_MAX + 2), want,
	       "one byte over the limit is an error");

	/* a logical line over the limit, built from short lines */
	memcpy(buf, "k v\n", 4);
	for (size_t i = 4; i + 4 < 2 * (size_t)DICT_SOURCE_LINE_MAX; i += 4)
		memcpy(buf + i, " ab\n", 4);
	snprintf(want, sizeof(want), "ERR:t.src:1: line longer than %d bytes",
		 DICT_SOURCE_LINE_MAX);
	is_str(parse(out, buf, 2 * (size_t)DICT_SOURCE_LINE_MAX - 4), want,
	       "continued line over the limit names its first line");
	mem_free(buf);
}

/* Parses data through a file read chunk bytes at a time. */
static const char *parse_trickle(struct str *out, const char *data, size_t len,
				 size_t chunk)
{
	const char *path = write_file("trickle.src", data, len), *error = NULL;
	int fd = open(path, O_RDONLY);

	str_clear(out);
	if (dict_source_parse_fd("t.src", fd, chunk, collect, out, &error) <
	    0) {
		str_clear(out);
		str_printf(out, "ERR:%s", error);
	}
	close(fd);
	return out->data;
}

static void test_streaming(struct str *out)
{
	static const char *const inputs[] = {
	    "a 1\nb 2\r\n# c\n  cont\n\"q k\" v\nlast 9",
	    "a 1\nlonely\n",
	    "k v\nx\0y z\n",
	    "\n\n\n  \n",
	};
	struct str want;
	const char *error = NULL, *path;

	str_init(&want, 0);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t len = strlen(inputs[i]);

		if (i == 2)
			len = 10;
		parse(&want, inputs[i], len);
		is_str(parse_trickle(out, inputs[i], len, 1), want.data,
		       "byte-at-a-time read equals buffer parse");
		is_str(parse_trickle(out, inputs[i], len, 3), want.data,
		       "3-byte reads equal buffer parse");
	}
	str_deinit(&want);

	path = write_file("ok.src", "x 1\ny 2\n", 8);
	str_clear(out);
	is_int(dict_source_parse_file(path, collect, out, &error), 1,
	       "file parses");
	is_str(out->data, "1:x=1\n2:y=2\n", "file entries");
	is_int(
	    dict_source_parse_file("/nonexistent/t.src", collect, out, &error),
	    -1, "missing file fails");
	is_str(error,
	       "/nonexistent/t.src: cannot open: No such file or directory",
	       "missing file error names the path");
	is_int(dict_source_parse_file(tap_tmpdir(), collect, out, &error), -1,
	       "a directory fails");
	ok(strstr(error, "read error") != NULL, "... with a read error: %s",
	   error);
}

/* aliases(5): "name: value, value", continuation lines, comments,
 * quoted names; plain tables and keys with inner colons unchanged. */
static void test_aliases(struct str *out)
{
	is_str(PARSE(out, "root: alice, bob\n"), "1:root=alice, bob\n",
	       "aliases: the colon ends the name");
	is_str(PARSE(out, "# aliases\npostmaster:\troot\nteam: a,\n"
			  "  b,\n\t# comment inside\n\tc\nx: y\n"),
	       "2:postmaster=root\n3:team=a, b, c\n7:x=y\n",
	       "aliases: continuation lines and comments");
	is_str(PARSE(out, "\"john doe\": john\n\"a:b\" v\n"),
	       "1:john doe=john\n2:a:b=v\n",
	       "aliases: quoted name with a colon after it; colon inside "
	       "quotes kept");
	is_str(PARSE(out, "arch: \"|/usr/bin/x a, b\", /var/mail/a\n"),
	       "1:arch=\"|/usr/bin/x a, b\", /var/mail/a\n",
	       "aliases: the value is kept as written");
	is_str(PARSE(out, "user:pass v\n[mx.example]:587 u:p\n: x\n"),
	       "1:user:pass=v\n2:[mx.example]:587=u:p\n3::=x\n",
	       "colons inside keys, and a lone ':' key, are kept");
	is_str(PARSE(out, "root:\n"),
	       "ERR:t.src:1: expected key whitespace value",
	       "aliases: a name without value is an error");
	is_str(PARSE(out, "\"a b\":x y\n"),
	       "ERR:t.src:1: expected whitespace after quoted key",
	       "aliases: quoted name, colon, then whitespace required");
}

static void test_callbacks(struct str *out)
{
	const char *error = NULL;
	static const char src[] = "a 1\nb 2\nc 3\n";
	static const char lines[] = "/re gex/ r\n  cont  \nif /x/\n";

	str_clear(out);
	is_int(dict_source_parse_buffer("t.src", src, sizeof(src) - 1,
					stop_at_b, out, &error),
	       -1, "callback can stop the parse");
	is_str(error, "callback said stop",
	       "callback error passed on unchanged");
	is_str(out->data, "1:a=1\n", "no entries after the stop");

	str_clear(out);
	is_int(dict_source_lines_buffer("t.src", lines, sizeof(lines) - 1,
					collect_line, out, &error),
	       1, "logical lines");
	is_str(out->data, "1:[/re gex/ r cont]15\n3:[if /x/]6\n",
	       "logical lines are joined and trimmed, not split");
}

int main(void)
{
	struct str out;

	str_init(&out, 0);
	test_syntax(&out);
	test_errors(&out);
	test_limits(&out);
	test_streaming(&out);
	test_aliases(&out);
	test_callbacks(&out);
	str_deinit(&out);
	return tap_done();
}
