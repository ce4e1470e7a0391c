/* dict_lmdb.c: lmdb: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_lmdb_open(const char *name, int flags, const char **error_r)
{
	*error_r = "LMDB tables are not built yet";
	return NULL;
}
const struct dict_builder_ops dict_lmdb_builder;
