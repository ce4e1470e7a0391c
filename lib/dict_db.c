/* dict_db.c: hash: and btree: tables in Berkeley DB files (placeholder). */
#include "config.h"
#include "dict_backends.h"
static struct dict *dict_db_unavailable(const char **error_r)
{
	*error_r = "Berkeley DB tables are not built yet";
	return NULL;
}
struct dict *dict_hash_open(const char *name, int flags, const char **error_r) { return dict_db_unavailable(error_r); }
struct dict *dict_btree_open(const char *name, int flags, const char **error_r) { return dict_db_unavailable(error_r); }
const struct dict_builder_ops dict_hash_builder;
const struct dict_builder_ops dict_btree_builder;
