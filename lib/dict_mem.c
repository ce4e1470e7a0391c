/* dict_mem.c: in-memory read-only tables over an htable (see dict_mem.h). */
#include "config.h"

#include <string.h>

#include "dict_mem.h"
#include "htable.h"
#include "mem.h"
#include "msg.h"

struct dict_mem {
	struct dict d;
	struct htable *table;
	struct str fold_buf;
};

static int dict_mem_lookup(struct dict *d, const char *key, struct str *value_r,
			   const char **error_r)
{
	struct dict_mem *m = (struct dict_mem *)d;
	void *value;

	if (htable_find(m->table, key, &value) == 0)
		return 0;
	if (str_set(value_r, value, strlen(value)) < 0) {
		*error_r = "table value longer than the caller's limit";
		return -1;
	}
	return 1;
}

static int dict_mem_iterate(struct dict *d,
			    int (*fn)(void *ctx, const char *key,
				      const char *value),
			    void *ctx, const char **error_r)
{
	struct dict_mem *m = (struct dict_mem *)d;
	struct htable_iter it;
	const char *key;
	void *value;

	htable_iter_init(&it);
	while (htable_next(m->table, &it, &key, &value))
		if (fn(ctx, key, value) != 0)
			break;
	return 1;
}

static void dict_mem_free_value(void *value)
{
	mem_free(value);
}

static void dict_mem_close(struct dict *d)
{
	struct dict_mem *m = (struct dict_mem *)d;

	htable_free(&m->table, dict_mem_free_value);
	str_deinit(&m->fold_buf);
	dict_free_common(d);
}

static const struct dict_ops dict_mem_ops = {
    .lookup = dict_mem_lookup,
    .iterate = dict_mem_iterate,
    .close = dict_mem_close,
};

struct dict *dict_mem_new(const char *type, const char *name, int flags)
{
	struct dict_mem *m = (struct dict_mem *)dict_alloc(
	    sizeof(*m), &dict_mem_ops, type, name, flags);

	m->table = htable_new(0);
	str_init(&m->fold_buf, 64);
	return &m->d;
}

int dict_mem_add(struct dict *d, const char *key, const char *value,
		 const char *origin, int line)
{
	struct dict_mem *m = (struct dict_mem *)d;
	char *copy;
	char safe[256];

	if (!(d->flags & DICT_FLAG_NO_FOLD)) {
		str_set(&m->fold_buf, key, strlen(key));
		str_lower(&m->fold_buf);
		key = m->fold_buf.data;
	}
	copy = mem_strdup(value);
	if (htable_insert(m->table, key, copy) == 1)
		return 1;
	mem_free(copy);
	msg_safe(safe, sizeof(safe), key, strlen(key));
	if (line > 0)
		msg_warn("%s:%d: duplicate entry %s", origin, line, safe);
	else
		msg_warn("%s: duplicate entry %s", origin, safe);
	return 0;
}

size_t dict_mem_count(const struct dict *d)
{
	return htable_count(((const struct dict_mem *)d)->table);
}
