/* conf_value.c: the parameter index and the typed checks of conf_params.h.
 *
 * lib/conf.c calls conf_param_check() on every expanded value at load time,
 * so a daemon never sees a value of the wrong shape; the numbers it gets
 * back are what conf_get_int()/conf_get_time()/conf_get_size() return. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_internal.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"

static const struct conf_param *param_table;
static size_t param_count;
static const struct conf_param **param_index; /* sorted by name */
static struct str check_error;

static int param_cmp(const void *a, const void *b)
{
	const struct conf_param *const *pa = a, *const *pb = b;

	return strcmp((*pa)->name, (*pb)->name);
}

/* A duplicate or unordered level list is a bug in the table, found by the
 * first test that loads any configuration. */
static void param_index_build(void)
{
	if (param_table == NULL)
		param_table = conf_params_builtin(&param_count);
	param_index = mem_calloc(param_count, sizeof(*param_index));
	for (size_t i = 0; i < param_count; i++) {
		const struct conf_level_default *ld = param_table[i].level_defs;
		param_index[i] = &param_table[i];
		for (; ld != NULL && ld->value != NULL; ld++) {
			if (ld[1].value != NULL && ld[1].level <= ld->level)
				msg_panic("parameter %s: level defaults out of "
					  "order",
					  param_table[i].name);
		}
	}
	qsort(param_index, param_count, sizeof(*param_index), param_cmp);
	for (size_t i = 1; i < param_count; i++) {
		if (strcmp(param_index[i - 1]->name, param_index[i]->name) == 0)
			msg_panic("parameter %s defined twice",
				  param_index[i]->name);
	}
}

void conf_params_set_table(const struct conf_param *table, size_t count)
{
	mem_free(param_index);
	param_table = table;
	param_count = table == NULL ? 0 : count;
}

size_t conf_param_count(void)
{
	if (param_index == NULL)
		param_index_build();
	return param_count;
}

const struct conf_param *conf_param_at(size_t i)
{
	if (i >= conf_param_count())
		msg_panic("conf_param_at(%zu): out of range", i);
	return param_index[i];
}

const struct conf_param *conf_param_find(const char *name)
{
	size_t lo = 0, hi = conf_param_count();

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, param_index[mid]->name);
		if (cmp == 0)
			return param_index[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *conf_param_default(const struct conf_param *p, long long level)
{
	const char *value = p->def;

	for (const struct conf_level_default *ld = p->level_defs;
	     ld != NULL && ld->value != NULL && ld->level <= level; ld++)
		value = ld->value;
	return value;
}

bool conf_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

void conf_quote(struct str *out, const char *text, size_t n)
{
	char buf[84];

	msg_safe(buf, sizeof(buf), text, n > 80 ? 80 : n);
	str_printf(out, "\"%s%s\"", buf, n > 80 ? "..." : "");
}

static int check_fail(const char *what, const char *value, const char *hint)
{
	if (check_error.data == NULL)
		str_init(&check_error, 128);
	str_clear(&check_error);
	str_printf(&check_error, "%s ", what);
	conf_quote(&check_error, value, strlen(value));
	if (hint != NULL)
		str_printf(&check_error, " (%s)", hint);
	return -1;
}

/* Reads decimal digits at *sp; -1 when there are none or on overflow. */
static int parse_digits(const char **sp, long long *n_r)
{
	const char *s = *sp;
	long long n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (LLONG_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*sp = s;
	*n_r = n;
	return 1;
}

static long long unit_seconds(char unit)
{
	static const char units[] = "smhdw";
	static const long long seconds[] = {1, 60, 3600, 86400, 7 * 86400};
	const char *u = unit != '\0' ? strchr(units, unit) : NULL;

	return u != NULL ? seconds[u - units] : 0;
}

static int check_time(const struct conf_param *p, const char *v, long long *n)
{
	const char *s = v;
	long long mult;
	char unit = p->unit ? p->unit : 's';

	if (parse_digits(&s, n) < 0)
		return check_fail("bad time value", v,
				  "expected a number with an optional unit "
				  "s, m, h, d or w");
	if (*s != '\0')
		unit = *s++;
	mult = unit_seconds(unit);
	if (mult == 0 || *s != '\0')
		return check_fail("bad time value", v,
				  "expected a number with an optional unit "
				  "s, m, h, d or w");
	if (*n > LLONG_MAX / mult)
		return check_fail("time value is too large:", v, NULL);
	*n *= mult;
	return 1;
}

static int check_number(const struct conf_param *p, const char *v, long long *n)
{
	const char *s = v;
	bool neg = p->type == CONF_INT && *s == '-';

	if (neg)
		s++;
	if (parse_digits(&s, n) < 0 || *s != '\0') {
		if (p->type == CONF_SIZE)
			return check_fail("bad size value", v,
					  "expected a number of bytes");
		return check_fail("bad integer value", v, NULL);
	}
	if (neg)
		*n = -*n;
	return 1;
}

static int check_range(const struct conf_param *p, const char *v, long long n)
{
	char hint[96];
	const char *u = p->type == CONF_TIME ? "s" : "";

	if (n >= p->min && n <= p->max)
		return 1;
	snprintf(hint, sizeof(hint), "allowed: %lld%s to %lld%s", p->min, u,
		 p->max, u);
	return check_fail("value out of range:", v, hint);
}

static bool choice_ok(const struct conf_param *p, const char *word)
{
	for (const char *const *c = p->choices; *c != NULL; c++) {
		if (strcasecmp(*c, word) == 0)
			return true;
	}
	return false;
}

static int choice_fail(const struct conf_param *p, const char *word)
{
	struct str hint;
	int ret;

	str_init(&hint, 64);
	str_append_cstr(&hint, "expected one of:");
	for (const char *const *c = p->choices; *c != NULL; c++)
		str_printf(&hint, " %s", **c ? *c : "(empty)");
	ret = check_fail("bad value", word, hint.data);
	str_deinit(&hint);
	return ret;
}

static int check_list(const struct conf_param *p, const char *v)
{
	char **items;
	const char *err;
	int ret = 1;

	if (conf_list_split(v, &items, &err) < 0)
		return check_fail("bad list", v, err);
	for (size_t i = 0; p->choices != NULL && items[i] != NULL; i++) {
		if (!choice_ok(p, items[i])) {
			ret = choice_fail(p, items[i]);
			break;
		}
	}
	conf_list_free(&items);
	return ret;
}

static const char *trim(const char *v, struct str *buf)
{
	size_t len = strlen(v);

	while (*v == ' ' || *v == '\t')
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	str_set(buf, v, len);
	return buf->data;
}

int conf_param_check(const struct conf_param *p, const char *value,
		     long long *num_r, const char **error_r)
{
	struct str buf;
	long long n = 0;
	int ret = 1;

	str_init(&buf, 32);
	value = trim(value, &buf);
	switch (p->type) {
	case CONF_STR:
		if (p->choices != NULL && !choice_ok(p, value))
			ret = choice_fail(p, value);
		break;
	case CONF_LIST:
		ret = check_list(p, value);
		break;
	case CONF_BOOL:
		if (strcasecmp(value, "yes") == 0)
			n = 1;
		else if (strcasecmp(value, "no") != 0)
			ret = check_fail("bad boolean value", value,
					 "expected yes or no");
		break;
	case CONF_TIME:
		ret = check_time(p, value, &n);
		break;
	case CONF_INT:
	case CONF_SIZE:
		ret = check_number(p, value, &n);
		break;
	}
	if (ret > 0 && (p->type == CONF_TIME || p->type == CONF_INT ||
			p->type == CONF_SIZE))
		ret = check_range(p, value, n);
	str_deinit(&buf);
	if (ret < 0) {
		*error_r = check_error.data;
		return -1;
	}
	if (num_r != NULL)
		*num_r = n;
	return 1;
}

static bool list_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int conf_list_split(const char *value, char ***items_r, const char **error_r)
{
	size_t n = 0, cap = 4;
	char **items = mem_calloc(cap, sizeof(*items));
	const char *s = value;

	while (*s != '\0') {
		const char *start;
		int depth = 0;

		while (list_sep(*s))
			s++;
		if (*s == '\0')
			break;
		for (start = s; *s != '\0' && (depth > 0 || !list_sep(*s));
		     s++) {
			if (*s == '{')
				depth++;
			else if (*s == '}' && --depth < 0)
				break;
		}
		if (depth != 0) {
			*error_r = depth < 0 ? "unexpected '}'" : "missing '}'";
			conf_list_free(&items);
			return -1;
		}
		if (n + 1 >= cap) {
			cap = size_mul(cap, 2);
			items =
			    mem_realloc(items, size_mul(cap, sizeof(*items)));
		}
		items[n++] = mem_strndup(start, (size_t)(s - start));
		items[n] = NULL;
	}
	*items_r = items;
	return 1;
}

void conf_list_free(char ***items)
{
	if (*items == NULL)
		return;
	for (char **p = *items; *p != NULL; p++)
		mem_free(*p);
	mem_free(*items);
}
