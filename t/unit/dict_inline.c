/* t/unit/dict_inline.c: tests for lib/dict_inline.c: inline:{...} syntax,
 * braced entries, folding, iteration and malformed specs. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "msg.h"
#include "str.h"
#include "tap.h"

/* Looks key up in spec; returns the value, "(none)" or "ERR:message". */
static const char *lookup(struct str *out, const char *spec, const char *key)
{
	const char *error = NULL;
	struct dict *d = dict_open(spec, 0, &error);
	int ret;

	str_clear(out);
	if (d == NULL) {
		str_printf(out, "ERR:%s", error);
		return out->data;
	}
	ret = dict_lookup(d, key, out, &error);
	if (ret == 0)
		str_set(out, "(none)", 6);
	else if (ret < 0)
		str_printf(out, "ERR:%s", error);
	dict_close(&d);
	return out->data;
}

static int collect(void *ctx, const char *key, const char *value)
{
	str_printf(ctx, "<%s=%s>", key, value);
	return 0;
}

static void test_syntax(struct str *out)
{
	is_str(lookup(out, "inline:{a=1, b=2}", "b"), "2", "comma separated");
	is_str(lookup(out, "inline:{ a=1 b=2 }", "b"), "2", "space separated");
	is_str(lookup(out, "inline:{a=1,,, ,b=2,}", "b"), "2",
	       "runs of separators");
	is_str(lookup(out, "inline:{ { k = text with, comma } }", "k"),
	       "text with, comma", "braced entry holds commas and spaces");
	is_str(lookup(out, "inline:{{k=v}}", "k"), "v",
	       "braced without spaces");
	is_str(lookup(out, "inline:{ {k = a {nested, x} b } }", "k"),
	       "a {nested, x} b", "balanced braces inside a braced value");
	is_str(lookup(out, "inline:{k={x, y}}", "k"), "{x, y}",
	       "braces inside a bare entry keep separators");
	is_str(lookup(out, "inline:{k=a=b}", "k"), "a=b",
	       "split at the first =");
	is_str(lookup(out, "inline:{k=}", "k"), "", "empty value allowed");
	is_str(lookup(out, "inline:{ User@Example.COM=x }", "user@example.com"),
	       "x", "keys folded at build");
	is_str(lookup(out, "inline:{ a=1 }", "A"), "1", "lookup key folded");
	is_str(lookup(out, "inline:{ a=1 }", "b"), "(none)", "missing key");
	is_str(lookup(out, "inline: {a=1} ", "a"), "1",
	       "whitespace around the braces");
}

static void test_errors(struct str *out)
{
	is_str(lookup(out, "inline:a=1", "a"),
	       "ERR:inline table \"a=1\": expected { key=value, ... }",
	       "missing braces");
	is_str(lookup(out, "inline:{a=1", "a"),
	       "ERR:inline table \"{a=1\": missing '}'", "unclosed brace");
	is_str(lookup(out, "inline:{a=1}}", "a"),
	       "ERR:inline table \"{a=1}}\": expected { key=value, ... }",
	       "extra closing brace after the table");
	is_str(lookup(out, "inline:{a=1} {b=2}", "a"),
	       "ERR:inline table \"{a=1} {b=2}\": expected { key=value, ... }",
	       "text after the table");
	is_str(lookup(out, "inline:{a}=1}", "a"),
	       "ERR:inline table \"{a}=1}\": expected { key=value, ... }",
	       "unbalanced brace inside");
	is_str(lookup(out, "inline:{ {a=1 }", "a"),
	       "ERR:inline table \"{ {a=1 }\": missing '}'",
	       "unbalanced inner brace");
	is_str(lookup(out, "inline:{ a }", "a"),
	       "ERR:inline table \"{ a }\": expected key=value", "no =");
	is_str(lookup(out, "inline:{ =v }", "a"),
	       "ERR:inline table \"{ =v }\": empty key before '='",
	       "empty key");
	is_str(lookup(out, "inline:{ { = v } }", "a"),
	       "ERR:inline table \"{ { = v } }\": empty key before '='",
	       "empty braced key");
	is_str(lookup(out, "inline:{}", "a"),
	       "ERR:inline table \"{}\": no entries", "empty table");
	is_str(lookup(out, "inline:{ , }", "a"),
	       "ERR:inline table \"{ , }\": no entries", "only separators");
	is_str(lookup(out, "inline:", "a"),
	       "ERR:inline table \"\": expected { key=value, ... }",
	       "empty spec");
}

static void test_iterate_dups(struct str *out)
{
	const char *error = NULL;
	struct dict *d;
	int fds[2], saved = dup(2);
	char buf[512];
	ssize_t n;

	if (pipe(fds) < 0)
		return;
	dup2(fds[1], 2);
	close(fds[1]);
	d = dict_open("inline:{a=1, A=2}", 0, &error);
	dup2(saved, 2);
	close(saved);
	n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	is_str(buf, "postern/test: warning: inline table: duplicate entry a\n",
	       "duplicate (after folding) warns");
	str_clear(out);
	is_int(dict_iterate(d, collect, out, &error), 1, "iterate");
	is_str(out->data, "<a=1>", "iterate: one entry, the first value");
	dict_close(&d);
}

int main(void)
{
	struct str out;

	msg_init("postern/test", MSG_DEST_STDERR);
	str_init(&out, 0);
	test_syntax(&out);
	test_errors(&out);
	test_iterate_dups(&out);
	str_deinit(&out);
	return tap_done();
}
