/* t/unit/dict_pcre.c: tests for lib/dict_pcre.c and the shared pattern
 * table code in lib/dict_pattern.c: syntax, flags, substitution, if/endif,
 * errors at open, and CPU and size limits at lookup. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dict.h"
#include "dict_pattern.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* Opens table text; looks key up; returns value, "(none)" or "ERR:...". */
static const char *q(struct str *out, const char *text, const char *key)
{
	const char *error = NULL;
	struct dict *d =
	    dict_pcre_open_buffer("t.pcre", text, strlen(text), 0, &error);
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

static void test_basic(struct str *o)
{
	const char *t = "# comment\n/^a/ first\n/^ab/ second\n/b$/ third\n";

	is_str(q(o, t, "abc"), "first", "first matching rule wins");
	is_str(q(o, t, "xb"), "third", "later rule");
	is_str(q(o, t, "zzz"), "(none)", "no rule matches");
	is_str(q(o, "/^USER@/ r\n", "user@x"), "r", "caseless by default");
	is_str(q(o, "/^USER@/i r\n", "user@x"), "(none)",
	       "i toggles caseless off");
	is_str(q(o, "/^USER@/i r\n", "USER@x"), "r", "... exact case matches");
	is_str(q(o, "/^USER@/ii r\n", "user@x"), "r", "ii toggles it back");
	is_str(q(o, "~^a/b~ r\n", "a/b"), "r", "other delimiter");
	is_str(q(o, "/^a\\/b$/ r\n", "a/b"), "r", "escaped delimiter");
	is_str(q(o, "/^a b$/ r s\n", "a b"), "r s",
	       "spaces in pattern and result");
	is_str(q(o, "/^x/\n  550 long\n  text\n", "x"), "550 long text",
	       "result on continuation lines");
	is_str(q(o, "!/^a/ not-a\n", "b"), "not-a", "negated rule hits");
	is_str(q(o, "!/^a/ not-a\n", "a"), "(none)", "negated rule misses");
	is_str(q(o, "! /^a/ not-a\n", "b"), "not-a", "blank after !");
	is_str(q(o, "/a/ r\n", "XAX"), "r",
	       "keys are never folded: pattern does");
}

static void test_flags(struct str *o)
{
	is_str(q(o, "/^a.b$/ r\n", "a\nb"), "r", "s (dotall) on by default");
	is_str(q(o, "/^a.b$/s r\n", "a\nb"), "(none)", "s toggles it off");
	is_str(q(o, "/^b$/ r\n", "a\nb"), "(none)", "m off by default");
	is_str(q(o, "/^b$/m r\n", "a\nb"), "r", "m: multiline");
	is_str(q(o, "/^a b c$/x r\n", "abc"), "r", "x: extended");
	is_str(q(o, "/b/A r\n", "ab"), "(none)", "A: anchored");
	is_str(q(o, "/a$/ r\n", "a\n"), "r", "$ before a final newline");
	is_str(q(o, "/a$/E r\n", "a\n"), "(none)", "E: dollar end only");
	is_str(q(o, "/(a+)/U <$1>\n", "aaa"), "<a>", "U: ungreedy");
	is_str(q(o, "/(a+)/ <$1>\n", "aaa"), "<aaa>", "greedy by default");
	is_str(q(o, "/a/X r\n", "a"), "r", "X accepted");
	is_str(
	    q(o, "/a/q r\n", "a"),
	    "ERR:t.pcre:1: unknown pattern flag 'q' (known: i m s x A E U X)",
	    "unknown flag");
}

static void test_subst(struct str *o)
{
	const char *ten = "/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/ $10-${1}0-$(2)\n";

	is_str(q(o, "/^(.*)@(.*)$/ $2 has $1\n", "joe@example.org"),
	       "example.org has joe", "$1 and $2");
	is_str(q(o, "/^(.*)-outgoing@(.*)$/ ${1}x@$(2)y\n", "list-outgoing@d"),
	       "listx@dy", "${n} and $(n)");
	is_str(q(o, "/^a(b)?c/ [$1]\n", "ac"), "[]",
	       "unmatched group is empty");
	is_str(q(o, "/(x)|(y)/ [$1][$2]\n", "y"), "[][y]",
	       "group after an unmatched one");
	is_str(q(o, "/b+/ <$0> $$5\n", "abbc"), "<bb> $5", "$0 and $$");
	is_str(q(o, ten, "abcdefghij"), "j-a0-b", "$10 is group ten");
	is_str(q(o, "/(a)/ $10\n", "a"),
	       "ERR:t.pcre:1: result uses $10 but the pattern has 1 group",
	       "$10 with one group is an error at open");
	is_str(q(o, "x\n/(a)/ ${2}\n", "a"),
	       "ERR:t.pcre:1: expected /pattern/: the delimiter must be a "
	       "punctuation character",
	       "(bad delimiter)");
	is_str(q(o, "/a/ ok\n/(a)/ ${2}\n", "a"),
	       "ERR:t.pcre:2: result uses $2 but the pattern has 1 group",
	       "out-of-range group names its line");
	is_str(q(o, "/a/ $x\n", "a"),
	       "ERR:t.pcre:1: bad '$' in result: use $N, ${N} or $(N) for a "
	       "group and $$ for a '$'",
	       "bad $");
	is_str(q(o, "/a/ cost $\n", "a"),
	       "ERR:t.pcre:1: bad '$' in result: use $N, ${N} or $(N) for a "
	       "group and $$ for a '$'",
	       "$ at the end");
	is_str(q(o, "/a/ ${1\n", "a"),
	       "ERR:t.pcre:1: bad '$' in result: use $N, ${N} or $(N) for a "
	       "group and $$ for a '$'",
	       "unclosed ${");
	is_str(q(o, "/a/ $99999999\n", "a"),
	       "ERR:t.pcre:1: group number in result is too large", "huge $N");
	is_str(q(o, "!/(a)/ $1\n", "b"),
	       "ERR:t.pcre:1: $1 in the result of a negated pattern (nothing "
	       "was captured)",
	       "$N in a negated rule");
	is_str(q(o, "!/(a)/ $$\n", "b"), "$", "$$ in a negated rule is fine");
}

static void test_if(struct str *o)
{
	const char *t = "if /@example\\.com$/\n"
			"/^postmaster@/ pm\n"
			"if !/^x/\n"
			"/^a/ a-inner\n"
			"endif\n"
			"/^x/ x-inner\n"
			"ENDIF\n"
			"/^/ default\n";

	is_str(q(o, t, "postmaster@example.com"), "pm", "inside if");
	is_str(q(o, t, "abc@example.com"), "a-inner", "nested if !");
	is_str(q(o, t, "xa@example.com"), "x-inner", "nested if skipped");
	is_str(q(o, t, "postmaster@other.org"), "default", "if skipped");
	is_str(q(o, "if /a/\nendif\n/a/ r\n", "a"), "r", "empty if block");
	is_str(q(o, "/a/ r\nendif\n", "a"), "ERR:t.pcre:2: endif without if",
	       "endif without if");
	is_str(q(o, "/a/ r\nif /b/\nif /c/\nendif\n/d/ e\n", "a"),
	       "ERR:t.pcre:2: if without endif",
	       "if without endif names the if");
	is_str(q(o, "if /a/ r\nendif\n", "a"),
	       "ERR:t.pcre:1: unexpected text after if pattern",
	       "if with a result");
	is_str(q(o, "if /a/\nendif now\n", "a"),
	       "ERR:t.pcre:2: unexpected text after endif", "text after endif");
	is_str(q(o, "if\n", "a"),
	       "ERR:t.pcre:1: expected /pattern/: the delimiter must be a "
	       "punctuation character",
	       "if without a pattern");
}

static void test_errors(struct str *o)
{
	const char *error = NULL;
	struct str deep;

	is_str(q(o, "/a/ ok\n/^b/\n", "a"),
	       "ERR:t.pcre:2: missing result after pattern", "missing result");
	is_str(q(o, "/a/ ok\n/^(b/ r\n", "a"),
	       "ERR:t.pcre:2: bad regular expression: missing closing "
	       "parenthesis at offset 3",
	       "bad regex names its line");
	is_str(q(o, "/abc r\n", "a"),
	       "ERR:t.pcre:1: missing closing '/' after pattern",
	       "missing closing delimiter");
	is_str(q(o, "/abc\\/ r\n", "a"),
	       "ERR:t.pcre:1: missing closing '/' after pattern",
	       "escaped last delimiter");
	is_str(q(o, "\\a\\ r\n", "a"),
	       "ERR:t.pcre:1: expected /pattern/: the delimiter must be a "
	       "punctuation character",
	       "backslash is no delimiter");
	is_str(q(o, "", "a"), "(none)", "empty table");
	ok(dict_pcre_open_buffer("t.pcre", "/a/ r\n/b\0/ s\n", 12, 0, &error) ==
	       NULL,
	   "NUL byte in a table");
	is_str(error, "t.pcre:2: NUL byte in line", "... names its line");

	str_init(&deep, 0);
	for (int i = 0; i < DICT_PATTERN_NEST_MAX + 1; i++)
		str_append_cstr(&deep, "if /a/\n");
	is_str(q(o, deep.data, "a"),
	       "ERR:t.pcre:101: if nested deeper than 100 levels",
	       "nesting limit");
	str_deinit(&deep);

	ok(dict_open("pcre:/nonexistent/t.pcre", 0, &error) == NULL,
	   "missing file");
	is_str(error,
	       "/nonexistent/t.pcre: cannot open: No such file or directory",
	       "missing file error");
}

static void test_limits(struct str *o)
{
	static const char want[] = "ERR:t.pcre:2: pcre match failed: ";
	struct str key, t;
	struct timespec t0, t1;
	double secs;

	str_init(&key, 0);
	for (int i = 0; i < 40; i++)
		str_putc(&key, 'a');
	str_putc(&key, 'b');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	q(o, "/ok/ ok\n/^(a+)+$/ evil\n", key.data);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(strncmp(o->data, want, sizeof(want) - 1) == 0,
	   "catastrophic backtracking is a lookup error naming the rule: %s",
	   o->data);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(secs < 3.0, "... and fails fast (%.3f s)", secs);

	/* a result that grows past the limit by substitution */
	str_clear(&key);
	for (int i = 0; i < 10000; i++)
		str_putc(&key, 'k');
	str_init(&t, 0);
	str_append_cstr(&t, "/^(.*)$/ $1$1$1$1$1$1$1\n");
	is_str(q(o, t.data, key.data),
	       "ERR:t.pcre:1: result longer than the limit after substitution "
	       "(65536 bytes)",
	       "substituted result is bounded");
	str_clear(&t);
	str_append_cstr(&t, "/^(.*)$/ $1$1$1$1$1$1\n");
	is_int(strlen(q(o, t.data, key.data)), 60000,
	       "just under the limit is fine");
	str_deinit(&t);
	str_deinit(&key);
}

static void test_file(struct str *o)
{
	char path[512], spec[600];
	const char *error = NULL;
	const char *text = "/^(.+)@example\\.com$/ ${1}@example.net\n";
	struct dict *d;
	int fd;

	snprintf(path, sizeof(path), "%s/t.pcre", tap_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	snprintf(spec, sizeof(spec), "pcre:%s", path);
	d = dict_open(spec, 0, &error);
	ok(d != NULL, "pcre: table from a file");
	is_int(dict_lookup(d, "Joe@Example.COM", o, &error), 1, "lookup");
	is_str(o->data, "Joe@example.net", "key case kept in captures");
	is_int(dict_iterate(d, NULL, NULL, &error), -1,
	       "pcre cannot be listed");
	dict_close(&d);
}

int main(void)
{
	struct str o;

	str_init(&o, 0);
	test_basic(&o);
	test_flags(&o);
	test_subst(&o);
	test_if(&o);
	test_errors(&o);
	test_limits(&o);
	test_file(&o);
	str_deinit(&o);
	return tap_done();
}
