/* dict.h: lookup tables "type:name" behind one interface.
 *
 * A table maps text keys to text values. Callers open a table by its
 * "type:name" spec (e.g. "hash:/etc/postern/aliases", "pcre:/x.pcre",
 * "inline:{a=b, c=d}", "static:value") and look keys up; the backend is
 * chosen from the type. Fixed-key tables (hash, btree, lmdb, texthash,
 * inline) fold keys to lower case on build and on lookup unless
 * DICT_FLAG_NO_FOLD is given, as Postfix does; pattern tables (pcre,
 * regexp) never fold and use their own flags.
 *
 * Return values follow STYLE.md: 1 found/ok, 0 not found, -1 error (the
 * table could not be read: callers must treat this as a temporary failure,
 * never as "not found"). *error_r stays valid until the next call on the
 * same table. */
#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* Open flags. */
#define DICT_FLAG_NO_FOLD (1 << 0) /* keep key case (postern map -f) */
#define DICT_FLAG_WRITE (1 << 1)   /* open for update/delete */
/* Builders: a duplicate key replaces the earlier value (postern map -r);
 * add() still returns 0 for it. */
#define DICT_FLAG_DUP_REPLACE (1 << 2)

struct dict;

struct dict_ops {
	/* Looks up key (already case-folded when the table folds). Sets
	 * *value_r on success. */
	int (*lookup)(struct dict *d, const char *key, struct str *value_r,
		      const char **error_r);
	/* Optional (NULL when the table is read-only). */
	int (*update)(struct dict *d, const char *key, const char *value,
		      const char **error_r);
	/* Optional; returns 0 when the key was not there. */
	int (*remove)(struct dict *d, const char *key, const char **error_r);
	/* Optional; calls fn for each entry until fn returns non-zero. */
	int (*iterate)(struct dict *d,
		       int (*fn)(void *ctx, const char *key, const char *value),
		       void *ctx, const char **error_r);
	void (*close)(struct dict *d);
};

struct dict {
	const struct dict_ops *ops;
	char *type; /* "hash" */
	char *name; /* "/etc/postern/aliases" */
	int flags;
	bool fold;   /* keys are lower-cased before lookup/update/remove */
	struct str key_buf;  /* scratch for the folded key */
	struct str error;    /* backend error text */
};

/* Opens "type:name". Returns NULL with *error_r set ("unsupported table
 * type", missing file, corrupt file, ...). The error stays valid until the
 * next dict_open(). */
struct dict *dict_open(const char *spec, int flags, const char **error_r);
int dict_lookup(struct dict *d, const char *key, struct str *value_r,
		const char **error_r);
int dict_update(struct dict *d, const char *key, const char *value,
		const char **error_r);
int dict_remove(struct dict *d, const char *key, const char **error_r);
int dict_iterate(struct dict *d,
		 int (*fn)(void *ctx, const char *key, const char *value),
		 void *ctx, const char **error_r);
void dict_close(struct dict **dp);

/* Looks an address up in the order every caller uses (Postfix's
 * virtual/alias/access order): with delimiter (a set of characters, e.g.
 * "+" or "+-") non-empty and an extension present, "user+ext@domain"
 * first; then "user@domain", then (only when allow_bare_user)
 * "user+ext" and "user", then "@domain". The domain starts after the LAST
 * "@". An address without "@" is looked up only when allow_bare_user; the
 * empty address returns 0 without a lookup (callers wanting an entry for
 * <> use their own key). A -1 from the table stops the search at once.
 * Returns 1/0/-1; on 1, *matched_r (optional) tells which form matched, as
 * a pointer into the static list {"full", "user@domain", "user+ext",
 * "user", "@domain"}. */
int dict_lookup_address(struct dict *d, const char *address,
			const char *delimiter, bool allow_bare_user,
			struct str *value_r, const char **matched_r,
			const char **error_r);

/* ---- for backends ---------------------------------------------------- */

/* Builder of a file table (hash, btree, lmdb): the table is written to a
 * temporary file and renamed over the final one on commit, so readers see
 * the old or the new table, never a half-built one. */
struct dict_builder;
struct dict_builder_ops {
	/* path is the source path; the backend adds its suffix (.db, .lmdb). */
	struct dict_builder *(*begin)(const char *path, int flags,
				      const char **error_r);
	/* Returns 1 added, 0 duplicate key (kept the first), -1 error. */
	int (*add)(struct dict_builder *b, const char *key, const char *value,
		   const char **error_r);
	int (*commit)(struct dict_builder *b, const char **error_r);
	void (*abort)(struct dict_builder *b);
};

struct dict_type {
	const char *name;
	/* name is the part after "type:"; returns NULL with *error_r. */
	struct dict *(*open)(const char *name, int flags, const char **error_r);
	const struct dict_builder_ops *builder; /* NULL: not built by postern map */
	bool fixed_keys; /* keys folded by default */
};

/* Looks a type up in the registry (lib/dict_registry.c); NULL if unknown. */
const struct dict_type *dict_type_find(const char *type);
/* The registered type names, NULL-terminated (for `postern map -m`). */
const char *const *dict_type_names(void);

/* Allocates a dict of size bytes (a backend struct that starts with
 * struct dict) and fills the common fields. */
struct dict *dict_alloc(size_t size, const struct dict_ops *ops,
			const char *type, const char *name, int flags);
/* Frees what dict_alloc() set up; backends call it from their close(). */
void dict_free_common(struct dict *d);

#endif
