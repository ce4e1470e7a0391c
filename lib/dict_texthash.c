/* dict_texthash.c: texthash: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_texthash_open(const char *name, int flags, const char **error_r)
{
	*error_r = "texthash tables are not built yet";
	return NULL;
}
