/* dict_registry.c: the table types Postern knows, by name. */
#include "config.h"

#include <string.h>

#include "dict_backends.h"

static const struct dict_type dict_types[] = {
	{"hash", dict_hash_open, &dict_hash_builder, true},
	{"btree", dict_btree_open, &dict_btree_builder, true},
	{"lmdb", dict_lmdb_open, &dict_lmdb_builder, true},
	{"pcre", dict_pcre_open, NULL, false},
	{"regexp", dict_regexp_open, NULL, false},
	{"texthash", dict_texthash_open, NULL, true},
	{"inline", dict_inline_open, NULL, true},
	{"static", dict_static_open, NULL, false},
};

static const char *const dict_names[] = {
	"btree", "hash", "inline", "lmdb", "pcre", "regexp", "static", "texthash", NULL,
};

const struct dict_type *dict_type_find(const char *type)
{
	for (size_t i = 0; i < sizeof(dict_types) / sizeof(dict_types[0]); i++)
		if (strcmp(dict_types[i].name, type) == 0)
			return &dict_types[i];
	return NULL;
}

const char *const *dict_type_names(void)
{
	return dict_names;
}
