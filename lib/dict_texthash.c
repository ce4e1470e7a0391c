/* dict_texthash.c: texthash:/path tables: a source file in postmap syntax
 * (see dict_source.h) read into memory when the table is opened, so that
 * small tables need no build step. Read-only; changes are seen on the next
 * open (daemons reopen on reload). */
#include "config.h"

#include "dict_backends.h"
#include "dict_mem.h"
#include "dict_source.h"

struct texthash_load {
	struct dict *d;
	const char *path;
};

static int texthash_add(void *ctx, const char *key, const char *value, int line,
			const char **error_r)
{
	struct texthash_load *l = ctx;

	(void)dict_mem_add(l->d, key, value, l->path, line);
	return 0;
}

struct dict *dict_texthash_open(const char *name, int flags,
				const char **error_r)
{
	struct texthash_load l = {.path = name};

	l.d = dict_mem_new("texthash", name, flags);
	if (dict_source_parse_file(name, texthash_add, &l, error_r) < 0) {
		dict_close(&l.d);
		return NULL;
	}
	return l.d;
}
