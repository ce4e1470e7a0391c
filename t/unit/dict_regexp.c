/* t/unit/dict_regexp.c: tests for lib/dict_regexp.c: POSIX patterns in the
 * shared pattern table syntax, its flags, substitution and errors. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "dict_pattern.h"
#include "str.h"
#include "tap.h"

static const char *q(struct str *out, const char *text, const char *key)
{
	const char *error = NULL;
	struct dict *d =
	    dict_regexp_open_buffer("t.re", text, strlen(text), 0, &error);
	int ret;

	str_clear(out);
	if (d == NULL) {
		str_printf(out, "ERR:%s", error);
		return out->data;
	}
	ret = dict_lookup(d, key, out, &error);
	if (ret == 0)
		str_set(out, "(none)", 6);
	else if (ret < 0) {
		str_clear(out);
		str_printf(out, "ERR:%s", error);
	}
	dict_close(&d);
	return out->data;
}

static void test_match(struct str *o)
{
	const char *t = "/^postmaster@/ OK\n"
			"/[%!@].*[%!@]/ 550 Sender-specified routing rejected\n"
			"if !/^owner-/\n"
			"/^(.*)-outgoing@(.*)$/ 550 Use ${1}@${2} instead\n"
			"endif\n";

	is_str(q(o, t, "Postmaster@x"), "OK", "caseless by default");
	is_str(q(o, t, "a@b@c"), "550 Sender-specified routing rejected",
	       "second rule");
	is_str(q(o, t, "list-outgoing@example.org"),
	       "550 Use list@example.org instead", "if ! block with ${n}");
	is_str(q(o, t, "owner-list-outgoing@example.org"), "(none)",
	       "if ! block skipped");
	is_str(q(o, "/^A$/i r\n", "a"), "(none)", "i toggles case sensitivity");
	is_str(q(o, "/^a+$/ r\n", "aaa"), "r", "extended syntax by default");
	is_str(q(o, "/^a+$/x r\n", "aaa"), "(none)",
	       "x: basic syntax, + literal");
	is_str(q(o, "/^\\(a*\\)b$/x <$1>\n", "aab"), "<aa>", "basic groups");
	is_str(q(o, "/^b$/ r\n", "a\nb"), "(none)", "m off by default");
	is_str(q(o, "/^b$/m r\n", "a\nb"), "r", "m: newline-sensitive");
	is_str(q(o, "!/^a/ r\n", "b"), "r", "negation");
	is_str(q(o, "/(x)|(y)/ [$1][$2] $$ $0\n", "zy"), "[][y] $ y",
	       "unmatched group empty, $$, $0");
	is_str(q(o, "/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/ $10$9\n", "abcdefghij"),
	       "ji", "$10");
}

static void test_errors(struct str *o)
{
	const char *error = NULL;

	is_str(q(o, "/(a)/ $10\n", "a"),
	       "ERR:t.re:1: result uses $10 but the pattern has 1 group",
	       "$10 beyond the groups");
	q(o, "/a/ r\n/(b/ s\n", "a");
	ok(strncmp(o->data, "ERR:t.re:2: bad regular expression: ", 36) == 0,
	   "bad regex names its line: %s", o->data);
	is_str(q(o, "/a/m\n", "a"), "ERR:t.re:1: missing result after pattern",
	       "missing result");
	is_str(q(o, "/a/s r\n", "a"),
	       "ERR:t.re:1: unknown pattern flag 's' (known: i x m)",
	       "pcre-only flag");
	is_str(q(o, "if /a/\n/a/ r\n", "a"), "ERR:t.re:1: if without endif",
	       "if without endif");
	is_str(q(o, "!/(a)/ $1\n", "b"),
	       "ERR:t.re:1: $1 in the result of a negated pattern (nothing "
	       "was captured)",
	       "$N in a negated rule");
	ok(dict_open("regexp:/nonexistent/t.re", 0, &error) == NULL,
	   "missing file");
	is_str(error,
	       "/nonexistent/t.re: cannot open: No such file or directory",
	       "missing file error");
}

static void test_file(struct str *o)
{
	char path[512], spec[600];
	const char *error = NULL, *text = "/^(.*)@OLD$/ $1@new\n";
	struct dict *d;
	int fd;

	snprintf(path, sizeof(path), "%s/t.re", tap_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	snprintf(spec, sizeof(spec), "regexp:%s", path);
	d = dict_open(spec, 0, &error);
	ok(d != NULL, "regexp: table from a file");
	is_int(dict_lookup(d, "Joe@old", o, &error), 1, "lookup");
	is_str(o->data, "Joe@new", "key case kept");
	dict_close(&d);
}

int main(void)
{
	struct str o;

	str_init(&o, 0);
	test_match(&o);
	test_errors(&o);
	test_file(&o);
	str_deinit(&o);
	return tap_done();
}
