/* dict_static.c: static:value tables: every lookup finds the same value.
 * "static:{ text with spaces }" holds whitespace (the braces and the
 * whitespace just inside them are removed; "static:{}" is the empty
 * value). Used where a parameter wants a table but one answer fits all. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "dict_backends.h"
#include "mem.h"

struct dict_static {
	struct dict d;
	char *value;
	size_t value_len;
};

static int dict_static_lookup(struct dict *d, const char *key,
			      struct str *value_r, const char **error_r)
{
	struct dict_static *s = (struct dict_static *)d;

	if (str_set(value_r, s->value, s->value_len) < 0) {
		*error_r = "static value longer than the caller's limit";
		return -1;
	}
	return 1;
}

static void dict_static_close(struct dict *d)
{
	mem_free(((struct dict_static *)d)->value);
	dict_free_common(d);
}

static const struct dict_ops dict_static_ops = {
    .lookup = dict_static_lookup,
    .close = dict_static_close,
};

static bool static_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Strips "{ ... }" from [*s, *e); returns false if the braces do not
 * balance. */
static bool static_unbrace(const char **s, const char **e)
{
	size_t depth = 0;

	for (const char *p = *s; p < *e; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' &&
			 (depth == 0 || (--depth == 0 && p + 1 != *e)))
			return false;
	}
	if (depth != 0)
		return false;
	(*s)++;
	(*e)--;
	while (*s < *e && static_is_ws(**s))
		(*s)++;
	while (*e > *s && static_is_ws((*e)[-1]))
		(*e)--;
	return true;
}

struct dict *dict_static_open(const char *name, int flags, const char **error_r)
{
	const char *s = name, *e = name + strlen(name);
	struct dict_static *st;

	if (s == e) {
		*error_r = "static table needs a value (static:{} for an "
			   "empty one)";
		return NULL;
	}
	if (*s == '{' && !static_unbrace(&s, &e)) {
		*error_r = "static table: unbalanced braces in "
			   "\"static:{ value }\"";
		return NULL;
	}
	st = (struct dict_static *)dict_alloc(sizeof(*st), &dict_static_ops,
					      "static", name, flags);
	st->value = mem_strndup(s, (size_t)(e - s));
	st->value_len = (size_t)(e - s);
	return &st->d;
}
