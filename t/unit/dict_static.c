/* t/unit/dict_static.c: tests for lib/dict_static.c: static:value and
 * static:{ value }. */
#include "config.h"

#include "dict.h"
#include "str.h"
#include "tap.h"

static const char *lookup(struct str *out, const char *spec, const char *key)
{
	const char *error = NULL;
	struct dict *d = dict_open(spec, 0, &error);

	str_clear(out);
	if (d == NULL) {
		str_printf(out, "ERR:%s", error);
		return out->data;
	}
	if (dict_lookup(d, key, out, &error) != 1)
		str_printf(out, "ERR:lookup did not find");
	dict_close(&d);
	return out->data;
}

int main(void)
{
	struct str out;

	str_init(&out, 0);
	is_str(lookup(&out, "static:OK", "anything"), "OK", "static value");
	is_str(lookup(&out, "static:OK", ""), "OK", "even for the empty key");
	is_str(lookup(&out, "static:{ 550 go away }", "x"), "550 go away",
	       "braced value with spaces");
	is_str(lookup(&out, "static:{}", "x"), "", "static:{} is empty");
	is_str(lookup(&out, "static:{a {b} c}", "x"), "a {b} c",
	       "balanced inner braces");
	is_str(lookup(&out, "static:a}b", "x"), "a}b",
	       "bare value taken as is");
	is_str(lookup(&out, "static:", "x"),
	       "ERR:static table needs a value (static:{} for an empty one)",
	       "empty static is an error");
	is_str(lookup(&out, "static:{abc", "x"),
	       "ERR:static table: unbalanced braces in \"static:{ value }\"",
	       "unclosed brace");
	is_str(lookup(&out, "static:{a}b}", "x"),
	       "ERR:static table: unbalanced braces in \"static:{ value }\"",
	       "text after the closing brace");
	str_deinit(&out);
	return tap_done();
}
