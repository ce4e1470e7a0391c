/* t/unit/str.c: tests for lib/str.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "tap.h"

int main(void)
{
	struct str s;
	struct str *h;
	char big[5000];

	str_init(&s, 0);
	is_int(s.len, 0, "new string is empty");
	is_str(s.data, "", "new string is NUL-terminated");
	str_append(&s, "abc", 3);
	str_append_cstr(&s, "def");
	str_putc(&s, 'g');
	is_str(s.data, "abcdefg", "appends concatenate");
	str_printf(&s, "-%d-%s", 42, "x");
	is_str(s.data, "abcdefg-42-x", "printf appends");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	str_clear(&s);
	str_printf(&s, "%s%s", big, big);
	is_int(s.len, 2 * (sizeof(big) - 1), "printf grows past the first guess");
	str_set(&s, "a\0b", 3);
	is_mem(s.data, s.len, "a\0b", 3, "embedded NUL kept");
	str_set(&s, "hello world", 11);
	str_consume(&s, 6);
	is_str(s.data, "world", "consume drops the front");
	str_truncate(&s, 3);
	is_str(s.data, "wor", "truncate");
	str_set(&s, "MiXeD", 5);
	str_lower(&s);
	ok(str_eq_cstr(&s, "mixed"), "lower and eq");

	s.max = 8;
	str_clear(&s);
	is_int(str_append(&s, "12345678", 8), 1, "append up to max succeeds");
	is_int(str_append(&s, "9", 1), -1, "append past max fails");
	is_int(s.len, 8, "failed append leaves string unchanged");
	is_int(str_printf(&s, "%s", "x"), -1, "printf past max fails");
	is_str(s.data, "12345678", "failed printf leaves string unchanged");
	str_deinit(&s);

	h = str_new(1);
	str_append_cstr(h, "heap");
	char *stolen = str_steal(h);
	is_str(stolen, "heap", "steal hands over the data");
	is_int(h->len, 0, "stolen-from string is empty");
	str_printf(h, "%s", "again");
	is_str(h->data, "again", "stolen-from string can be reused");
	free(stolen);
	str_free(&h);
	ok(h == NULL, "str_free sets the pointer to NULL");
	return tap_done();
}
