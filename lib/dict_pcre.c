/* dict_pcre.c: pcre: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_pcre_open(const char *name, int flags, const char **error_r)
{
	*error_r = "pcre tables are not built yet";
	return NULL;
}
