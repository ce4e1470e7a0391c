/* dict_static.c: static: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_static_open(const char *name, int flags, const char **error_r)
{
	*error_r = "static tables are not built yet";
	return NULL;
}
