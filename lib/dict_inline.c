/* dict_inline.c: inline:{ key=value, ... } tables, written directly in a
 * main.cf parameter value (Postfix syntax).
 *
 * Entries are separated by commas and/or whitespace. An entry written as
 * { key = value } may hold commas and whitespace: the braces are removed,
 * and whitespace after "{", around the first "=" and before "}" is
 * dropped. Braces must balance everywhere; a bare entry may contain a
 * balanced {...} group (kept as text, separators inside it do not split).
 * Keys are folded like any fixed-key table; duplicates keep the first. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "dict_backends.h"
#include "dict_mem.h"
#include "mem.h"
#include "str.h"

#define INLINE_MAX (1024 * 1024)

static struct str inline_error;

static bool inline_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool inline_is_sep(char c)
{
	return c == ',' || inline_is_ws(c);
}

static const char *inline_fail(const char *spec, const char *problem)
{
	if (inline_error.data == NULL)
		str_init(&inline_error, 128);
	str_clear(&inline_error);
	str_printf(&inline_error, "inline table \"%.100s%s\": %s", spec,
		   strlen(spec) > 100 ? "..." : "", problem);
	return inline_error.data;
}

/* Returns the end of the entry at p: after its closing brace when braced,
 * else the first separator outside braces. NULL on unbalanced braces. */
static const char *inline_entry_end(const char *p, const char *end, bool braced,
				    const char **problem_r)
{
	size_t depth = 0;

	for (; p < end; p++) {
		if (*p == '{') {
			depth++;
		} else if (*p == '}') {
			if (depth == 0) {
				*problem_r = "unexpected '}'";
				return NULL;
			}
			if (--depth == 0 && braced)
				return p + 1;
		} else if (!braced && depth == 0 && inline_is_sep(*p)) {
			return p;
		}
	}
	if (depth > 0) {
		*problem_r = "missing '}'";
		return NULL;
	}
	return p;
}

static void inline_trim(const char **s, const char **e)
{
	while (*s < *e && inline_is_ws(**s))
		(*s)++;
	while (*e > *s && inline_is_ws((*e)[-1]))
		(*e)--;
}

/* Adds the entry text [s, e) (braces already removed). */
static int inline_add(struct dict *d, const char *s, const char *e,
		      const char *spec, const char **error_r)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ks = s, *ke = eq, *vs, *ve = e;
	char *key, *value;

	if (eq == NULL) {
		*error_r = inline_fail(spec, "expected key=value");
		return -1;
	}
	vs = eq + 1;
	inline_trim(&ks, &ke);
	inline_trim(&vs, &ve);
	if (ks == ke) {
		*error_r = inline_fail(spec, "empty key before '='");
		return -1;
	}
	key = mem_strndup(ks, (size_t)(ke - ks));
	value = mem_strndup(vs, (size_t)(ve - vs));
	(void)dict_mem_add(d, key, value, "inline table", 0);
	mem_free(key);
	mem_free(value);
	return 0;
}

/* Parses the entries between the outer braces. */
static int inline_parse(struct dict *d, const char *p, const char *end,
			const char *spec, const char **error_r)
{
	while (p < end) {
		const char *problem = NULL, *e;
		bool braced;

		if (inline_is_sep(*p)) {
			p++;
			continue;
		}
		braced = *p == '{';
		e = inline_entry_end(p, end, braced, &problem);
		if (e == NULL) {
			*error_r = inline_fail(spec, problem);
			return -1;
		}
		if (braced ? inline_add(d, p + 1, e - 1, spec, error_r)
			   : inline_add(d, p, e, spec, error_r))
			return -1;
		p = e;
	}
	return 0;
}

struct dict *dict_inline_open(const char *name, int flags, const char **error_r)
{
	const char *s = name, *e = name + strlen(name), *problem = NULL;
	struct dict *d;

	if (e - s > INLINE_MAX) {
		*error_r = inline_fail(name, "longer than 1 MiB");
		return NULL;
	}
	inline_trim(&s, &e);
	if (s == e || *s != '{' ||
	    inline_entry_end(s, e, true, &problem) != e) {
		*error_r =
		    inline_fail(name, problem != NULL ? problem
						      : "expected "
							"{ key=value, ... }");
		return NULL;
	}
	d = dict_mem_new("inline", name, flags);
	if (inline_parse(d, s + 1, e - 1, name, error_r) < 0) {
		dict_close(&d);
		return NULL;
	}
	if (dict_mem_count(d) == 0) {
		*error_r = inline_fail(name, "no entries");
		dict_close(&d);
		return NULL;
	}
	return d;
}
