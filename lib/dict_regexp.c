/* dict_regexp.c: regexp: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_regexp_open(const char *name, int flags, const char **error_r)
{
	*error_r = "regexp tables are not built yet";
	return NULL;
}
