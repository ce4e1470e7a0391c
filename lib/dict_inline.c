/* dict_inline.c: inline: tables (placeholder). */
#include "config.h"
#include "dict_backends.h"
struct dict *dict_inline_open(const char *name, int flags, const char **error_r)
{
	*error_r = "inline tables are not built yet";
	return NULL;
}
