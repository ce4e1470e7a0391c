/* conf.c: loading main.cf into a struct conf, overrides and getters (see
 * conf.h). Expansion and validation live in conf_expand.c; the line reader
 * in conf_lines.c; the parameter table in conf_params.c. Every daemon and
 * command starts by calling conf_load_dir(conf_dir(...)). */
#include "config.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_internal.h"
#include "mem.h"
#include "msg.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/postern"
#endif

static struct str conf_error;

void conf_where(const struct conf *c, const struct conf_entry *e,
		struct str *out)
{
	if (e == NULL)
		return;
	if (e->src == CONF_SRC_DEFAULT)
		str_printf(out, "%s: %s (default value): ", c->file, e->name);
	else if (e->line > 0)
		str_printf(out, "%s:%d: %s: ", e->origin, e->line, e->name);
	else
		str_printf(out, "%s: %s: ", e->origin, e->name);
}

int conf_fail(struct conf *c, const struct conf_entry *e, const char **error_r,
	      const char *fmt, ...)
{
	va_list ap;

	if (conf_error.data == NULL)
		str_init(&conf_error, 256);
	str_clear(&conf_error);
	conf_where(c, e, &conf_error);
	va_start(ap, fmt);
	str_vprintf(&conf_error, fmt, ap);
	va_end(ap);
	*error_r = conf_error.data;
	return -1;
}

/* Plain (not "file: name:") message. */
static int conf_fail_plain(const char **error_r, const char *text)
{
	if (conf_error.data == NULL)
		str_init(&conf_error, 256);
	str_set(&conf_error, text, strlen(text));
	*error_r = conf_error.data;
	return -1;
}

const char *conf_dir(const char *override)
{
	const char *env;

	if (override != NULL)
		return override;
	/* secure_getenv: a set-id program must not let its caller pick the
	 * configuration it trusts. */
	env = secure_getenv("POSTERN_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return SYSCONFDIR;
}

static unsigned int name_hash(const char *name)
{
	unsigned int h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % CONF_BUCKETS;
}

struct conf_entry *conf_entry_find(struct conf *c, const char *name)
{
	for (struct conf_entry *e = c->buckets[name_hash(name)]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

struct conf_entry *conf_entry_get(struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);
	unsigned int h;

	if (e != NULL)
		return e;
	e = mem_alloc(sizeof(*e));
	e->name = mem_strdup(name);
	e->param = conf_param_find(name);
	h = name_hash(name);
	e->next = c->buckets[h];
	c->buckets[h] = e;
	if (c->count == c->cap) {
		c->cap = c->cap == 0 ? 64 : size_mul(c->cap, 2);
		c->order = mem_realloc(c->order, size_mul(c->cap, sizeof(e)));
	}
	c->order[c->count++] = e;
	return e;
}

static void retire_str(struct conf *c, char **sp)
{
	if (*sp == NULL)
		return;
	if (c->retired_count == c->retired_cap) {
		c->retired_cap = c->retired_cap ? c->retired_cap * 2 : 64;
		c->retired = mem_realloc(
		    c->retired, size_mul(c->retired_cap, sizeof(char *)));
	}
	c->retired[c->retired_count++] = *sp;
	*sp = NULL;
}

/* Callers may still hold pointers into the caches (conf.h promises they
 * stay valid until conf_free), so old values are kept, not freed. */
static void retire(struct conf *c, struct conf_entry *e)
{
	retire_str(c, &e->expanded);
	retire_str(c, &e->def);
	if (e->list != NULL) {
		if (c->retired_lists_count == c->retired_lists_cap) {
			c->retired_lists_cap = c->retired_lists_cap
						   ? c->retired_lists_cap * 2
						   : 16;
			c->retired_lists = mem_realloc(
			    c->retired_lists,
			    size_mul(c->retired_lists_cap, sizeof(char **)));
		}
		c->retired_lists[c->retired_lists_count++] = e->list;
		e->list = NULL;
	}
}

void conf_cache_clear(struct conf *c)
{
	for (size_t i = 0; i < c->count; i++) {
		struct conf_entry *e = c->order[i];
		retire(c, e);
		e->checked = false;
		e->referenced = false;
	}
	c->expanded_total = 0;
}

static struct conf *conf_new(const char *file, const char *config_dir,
			     unsigned int flags)
{
	struct conf *c = mem_alloc(sizeof(*c));

	c->file = mem_strdup(file);
	c->config_dir = mem_strdup(config_dir);
	c->flags = flags;
	c->level = 1;
	return c;
}

void conf_free(struct conf **cp)
{
	struct conf *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->count; i++) {
		struct conf_entry *e = c->order[i];
		mem_free(e->name);
		mem_free(e->value);
		mem_free(e->origin);
		mem_free(e->def);
		mem_free(e->expanded);
		conf_list_free(&e->list);
		mem_free(e);
	}
	for (size_t i = 0; i < c->retired_count; i++)
		mem_free(c->retired[i]);
	for (size_t i = 0; i < c->retired_lists_count; i++)
		conf_list_free(&c->retired_lists[i]);
	mem_free(c->retired);
	mem_free(c->retired_lists);
	mem_free(c->order);
	mem_free(c->file);
	mem_free(c->config_dir);
	mem_free(c);
	*cp = NULL;
}

static void entry_set(struct conf_entry *e, enum conf_src src,
		      const char *value, size_t len, const char *origin,
		      int line)
{
	mem_free(e->value);
	mem_free(e->origin);
	e->value = value ? mem_strndup(value, len) : NULL;
	e->origin = origin ? mem_strdup(origin) : NULL;
	e->src = src;
	e->line = line;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "name = value" from the line reader (no control bytes, no trailing
 * blanks, starts with a non-blank). */
static int parse_line(void *ctx, const char *line, size_t len, int lineno,
		      const char **error_r)
{
	struct conf *c = ctx;
	struct conf_entry *e;
	size_t n = 0, v;
	char *name;

	while (n < len && conf_name_char(line[n]))
		n++;
	for (v = n; v < len && blank(line[v]); v++)
		;
	if (n == 0 || (v == n && v < len && line[v] != '=')) {
		struct str msg;
		size_t end = 0;
		while (end < len && !blank(line[end]) && line[end] != '=')
			end++;
		str_init(&msg, 64);
		str_printf(&msg, "%s:%d: bad parameter name ", c->file, lineno);
		conf_quote(&msg, line, end);
		str_append_cstr(&msg, " (expected name = value)");
		conf_fail_plain(error_r, msg.data);
		str_deinit(&msg);
		return -1;
	}
	if (v == len || line[v] != '=') {
		struct str msg;
		str_init(&msg, 64);
		str_printf(&msg, "%s:%d: missing '=' after ", c->file, lineno);
		conf_quote(&msg, line, n);
		str_append_cstr(&msg, " (expected name = value)");
		conf_fail_plain(error_r, msg.data);
		str_deinit(&msg);
		return -1;
	}
	if (n > CONF_NAME_MAX) {
		struct str msg;
		str_init(&msg, 64);
		str_printf(&msg, "%s:%d: parameter name longer than %d bytes",
			   c->file, lineno, CONF_NAME_MAX);
		conf_fail_plain(error_r, msg.data);
		str_deinit(&msg);
		return -1;
	}
	for (v++; v < len && blank(line[v]); v++)
		;
	name = mem_strndup(line, n);
	e = conf_entry_get(c, name);
	mem_free(name);
	if (e->src == CONF_SRC_FILE && !(c->flags & CONF_NO_WARN))
		msg_warn("%s:%d: %s is set again; this overrides line %d",
			 c->file, lineno, e->name, e->line);
	entry_set(e, CONF_SRC_FILE, line + v, len - v, c->file, lineno);
	return 1;
}

/* After validation every $name use is known: warn about unknown names that
 * nothing uses, which are most likely typos. */
static void warn_unknown(struct conf *c)
{
	for (size_t i = 0; i < c->count; i++) {
		struct conf_entry *e = c->order[i];
		if (e->param == NULL && e->src == CONF_SRC_FILE &&
		    !e->referenced)
			msg_warn("%s:%d: unknown parameter %s", e->origin,
				 e->line, e->name);
	}
}

static struct conf *conf_parse(const char *origin, const char *config_dir,
			       const char *buf, size_t len, unsigned int flags,
			       const char **error_r)
{
	struct conf *c = conf_new(origin, config_dir, flags);
	bool warn = !(flags & CONF_NO_WARN);

	if (conf_lines_parse(origin, buf, len, parse_line, c, error_r) < 0 ||
	    conf_validate(c, warn, error_r) < 0) {
		conf_free(&c);
		return NULL;
	}
	if (warn)
		warn_unknown(c);
	return c;
}

struct conf *conf_parse_buffer(const char *origin, const char *buf, size_t len,
			       unsigned int flags, const char **error_r)
{
	return conf_parse(origin, SYSCONFDIR, buf, len, flags, error_r);
}

struct conf *conf_load(const char *path, const char **error_r)
{
	struct str text;
	struct conf *c = NULL;
	char *copy = mem_strdup(path);

	str_init(&text, 4096);
	if (conf_read_file(path, &text, error_r) > 0)
		c = conf_parse(path, dirname(copy), text.data, text.len, 0,
			       error_r);
	else
		conf_fail_plain(error_r, *error_r);
	str_deinit(&text);
	mem_free(copy);
	return c;
}

struct conf *conf_load_dir(const char *dir, const char **error_r)
{
	struct str path;
	struct conf *c;

	str_init(&path, 64);
	str_printf(&path, "%s/main.cf", dir);
	c = conf_load(path.data, error_r);
	str_deinit(&path);
	return c;
}

struct conf *conf_dup(const struct conf *orig)
{
	struct conf *c = conf_new(orig->file, orig->config_dir, orig->flags);
	const char *error;

	for (size_t i = 0; i < orig->count; i++) {
		const struct conf_entry *o = orig->order[i];
		struct conf_entry *e = conf_entry_get(c, o->name);
		if (o->value != NULL)
			entry_set(e, o->src, o->value, strlen(o->value),
				  o->origin, o->line);
	}
	if (conf_validate(c, false, &error) < 0)
		msg_panic("conf_dup: copy of a valid configuration fails: %s",
			  error);
	return c;
}

/* What an override replaces, to put back when validation fails. */
struct saved_entry {
	struct conf_entry *e;
	char *value, *origin;
	enum conf_src src;
	int line;
};

static int setting_check(const struct conf_setting *s, const char **error_r)
{
	size_t n = strlen(s->name);
	const char *bad = NULL;

	for (size_t i = 0; i < n; i++)
		if (!conf_name_char(s->name[i]))
			bad = "bad parameter name";
	if (n == 0 || n > CONF_NAME_MAX)
		bad = "bad parameter name";
	else if (strlen(s->value) > CONF_LINE_MAX)
		bad = "value is too long";
	for (const char *p = s->value; bad == NULL && *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			bad = "control character in value";
	if (bad == NULL)
		return 1;
	if (conf_error.data == NULL)
		str_init(&conf_error, 256);
	str_clear(&conf_error);
	if (s->origin != NULL && s->line > 0)
		str_printf(&conf_error, "%s:%d: ", s->origin, s->line);
	else if (s->origin != NULL)
		str_printf(&conf_error, "%s: ", s->origin);
	str_printf(&conf_error, "%s: ", bad);
	conf_quote(&conf_error, s->name, n);
	*error_r = conf_error.data;
	return -1;
}

static void saved_restore(struct conf *c, struct saved_entry *saved,
			  size_t count)
{
	const char *error;

	/* Backwards, so that a name overridden twice ends as it started. */
	while (count-- > 0) {
		struct conf_entry *e = saved[count].e;
		mem_free(e->value);
		mem_free(e->origin);
		e->value = saved[count].value;
		e->origin = saved[count].origin;
		e->src = saved[count].src;
		e->line = saved[count].line;
	}
	conf_cache_clear(c);
	if (conf_validate(c, false, &error) < 0)
		msg_panic("conf_override: restored configuration fails: %s",
			  error);
}

int conf_override_all(struct conf *c, const struct conf_setting *settings,
		      size_t count, const char **error_r)
{
	struct saved_entry *saved;
	int ret = 1;

	for (size_t i = 0; i < count; i++)
		if (setting_check(&settings[i], error_r) < 0)
			return -1;
	saved = mem_calloc(count ? count : 1, sizeof(*saved));
	for (size_t i = 0; i < count; i++) {
		const struct conf_setting *s = &settings[i];
		struct conf_entry *e = conf_entry_get(c, s->name);
		size_t len = strlen(s->value);
		const char *v = s->value;

		saved[i] = (struct saved_entry){e, e->value, e->origin, e->src,
						e->line};
		e->value = e->origin = NULL;
		while (blank(*v))
			v++, len--;
		while (len > 0 && blank(v[len - 1]))
			len--;
		entry_set(e, CONF_SRC_OVERRIDE, v, len,
			  s->origin ? s->origin : "override", s->line);
	}
	conf_cache_clear(c);
	if (conf_validate(c, false, error_r) < 0) {
		/* The error text is in conf_error, which restoring keeps. */
		saved_restore(c, saved, count);
		ret = -1;
	} else {
		for (size_t i = 0; i < count; i++) {
			mem_free(saved[i].value);
			mem_free(saved[i].origin);
		}
	}
	mem_free(saved);
	return ret;
}

int conf_override(struct conf *c, const char *name, const char *value,
		  const char **error_r)
{
	struct conf_setting s = {name, value, NULL, 0};

	return conf_override_all(c, &s, 1, error_r);
}
