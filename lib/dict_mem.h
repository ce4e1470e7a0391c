/* dict_mem.h: a read-only table held in memory (an htable of key -> value),
 * the common body of the texthash: and inline: backends, which differ only
 * in where their entries come from. */
#ifndef POSTERN_DICT_MEM_H
#define POSTERN_DICT_MEM_H

#include "dict.h"

/* An empty table; flags as for dict_open(). Supports lookup and iterate;
 * close frees everything. */
struct dict *dict_mem_new(const char *type, const char *name, int flags);
/* Adds an entry, lower-casing the key unless the table was made with
 * DICT_FLAG_NO_FOLD. A duplicate key keeps the first value and logs the
 * warning "origin:line: duplicate entry KEY" ("origin: ..." when line is
 * 0). Returns 1 added, 0 duplicate. */
int dict_mem_add(struct dict *d, const char *key, const char *value,
		 const char *origin, int line);
size_t dict_mem_count(const struct dict *d);

#endif
