/* dict.c: the generic side of lookup tables: parse "type:name", pick the
 * backend, fold keys, forward calls (see dict.h). */
#include "config.h"

#include <string.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"

static struct str dict_open_error;

/* Resets and returns the error buffer shared by all dict_open() calls. */
static struct str *dict_open_error_buf(void)
{
	if (dict_open_error.data == NULL)
		str_init(&dict_open_error, 128);
	str_clear(&dict_open_error);
	return &dict_open_error;
}

struct dict *dict_open(const char *spec, int flags, const char **error_r)
{
	const char *colon = strchr(spec, ':');
	const struct dict_type *type;
	const char *err = NULL;
	char *tname;
	struct dict *d;

	if (colon == NULL || colon == spec) {
		str_printf(dict_open_error_buf(), "table \"%s\": expected type:name",
			   spec);
		*error_r = dict_open_error.data;
		return NULL;
	}
	tname = mem_strndup(spec, (size_t)(colon - spec));
	type = dict_type_find(tname);
	if (type == NULL) {
		str_printf(dict_open_error_buf(),
			   "unsupported table type \"%s\" in \"%s\"", tname, spec);
		*error_r = dict_open_error.data;
		mem_free(tname);
		return NULL;
	}
	mem_free(tname);
	d = type->open(colon + 1, flags, &err);
	if (d == NULL) {
		str_append_cstr(dict_open_error_buf(), err ? err : "open failed");
		*error_r = dict_open_error.data;
		return NULL;
	}
	d->fold = type->fixed_keys && !(flags & DICT_FLAG_NO_FOLD);
	return d;
}

/* Returns the key to hand to the backend: folded into d->key_buf or as is. */
static const char *dict_key(struct dict *d, const char *key)
{
	if (!d->fold)
		return key;
	str_set(&d->key_buf, key, strlen(key));
	str_lower(&d->key_buf);
	return d->key_buf.data;
}

int dict_lookup(struct dict *d, const char *key, struct str *value_r,
		const char **error_r)
{
	return d->ops->lookup(d, dict_key(d, key), value_r, error_r);
}

int dict_update(struct dict *d, const char *key, const char *value,
		const char **error_r)
{
	if (d->ops->update == NULL || !(d->flags & DICT_FLAG_WRITE)) {
		*error_r = "table is not open for writing";
		return -1;
	}
	return d->ops->update(d, dict_key(d, key), value, error_r);
}

int dict_remove(struct dict *d, const char *key, const char **error_r)
{
	if (d->ops->remove == NULL || !(d->flags & DICT_FLAG_WRITE)) {
		*error_r = "table is not open for writing";
		return -1;
	}
	return d->ops->remove(d, dict_key(d, key), error_r);
}

int dict_iterate(struct dict *d,
		 int (*fn)(void *ctx, const char *key, const char *value),
		 void *ctx, const char **error_r)
{
	if (d->ops->iterate == NULL) {
		*error_r = "table type cannot be listed";
		return -1;
	}
	return d->ops->iterate(d, fn, ctx, error_r);
}

void dict_close(struct dict **dp)
{
	if (*dp == NULL)
		return;
	(*dp)->ops->close(*dp);
	*dp = NULL;
}

struct dict *dict_alloc(size_t size, const struct dict_ops *ops,
			const char *type, const char *name, int flags)
{
	struct dict *d;

	if (size < sizeof(*d))
		msg_panic("dict_alloc: size %zu too small", size);
	d = mem_alloc(size);
	d->ops = ops;
	d->type = mem_strdup(type);
	d->name = mem_strdup(name);
	d->flags = flags;
	str_init(&d->key_buf, 64);
	str_init(&d->error, 64);
	return d;
}

void dict_free_common(struct dict *d)
{
	mem_free(d->type);
	mem_free(d->name);
	str_deinit(&d->key_buf);
	str_deinit(&d->error);
	mem_free(d);
}
