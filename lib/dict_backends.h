/* dict_backends.h: the open and builder entry points of each table backend,
 * for the registry in dict_registry.c. One backend per file. */
#ifndef POSTERN_DICT_BACKENDS_H
#define POSTERN_DICT_BACKENDS_H

#include "dict.h"

/* dict_db.c: Berkeley DB */
struct dict *dict_hash_open(const char *name, int flags, const char **error_r);
struct dict *dict_btree_open(const char *name, int flags, const char **error_r);
extern const struct dict_builder_ops dict_hash_builder;
extern const struct dict_builder_ops dict_btree_builder;
/* dict_lmdb.c */
struct dict *dict_lmdb_open(const char *name, int flags, const char **error_r);
extern const struct dict_builder_ops dict_lmdb_builder;
/* dict_pcre.c, dict_regexp.c */
struct dict *dict_pcre_open(const char *name, int flags, const char **error_r);
struct dict *dict_regexp_open(const char *name, int flags, const char **error_r);
/* dict_texthash.c, dict_inline.c, dict_static.c */
struct dict *dict_texthash_open(const char *name, int flags, const char **error_r);
struct dict *dict_inline_open(const char *name, int flags, const char **error_r);
struct dict *dict_static_open(const char *name, int flags, const char **error_r);

#endif
