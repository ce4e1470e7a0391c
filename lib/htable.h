/* htable.h: an in-memory hash table from C-string keys to pointers.
 *
 * Open addressing with linear probing, at most 3/4 full. The table copies
 * each key; values are the caller's (htable_free() can free them). Keys
 * are hashed with SipHash-1-3 under a random per-process key, so that keys
 * chosen by a remote party cannot be made to collide. Lookups and inserts
 * are O(1) on average. Iteration order is unspecified and changes when the
 * table grows; inserting or removing during an iteration is not allowed.
 * Not thread-safe. */
#ifndef POSTERN_HTABLE_H
#define POSTERN_HTABLE_H

#include <stdbool.h>
#include <stddef.h>

struct htable;

/* hint: the expected number of entries (0 is fine). */
struct htable *htable_new(size_t hint);
/* Frees the table and its keys; calls free_value (if not NULL) on each
 * value. Sets *tp to NULL. */
void htable_free(struct htable **tp, void (*free_value)(void *value));

/* Adds key -> value. Returns 1 when added, 0 when the key was already
 * there (the table is then unchanged and keeps the old value). */
int htable_insert(struct htable *t, const char *key, void *value);
/* Returns 1 and sets *value_r (optional) when key is there, else 0. */
int htable_find(const struct htable *t, const char *key, void **value_r);
/* Removes key. Returns 1 and sets *value_r (optional) to its value so the
 * caller can free it, or 0 when the key was not there. */
int htable_remove(struct htable *t, const char *key, void **value_r);
size_t htable_count(const struct htable *t);

struct htable_iter {
	size_t pos;
};
void htable_iter_init(struct htable_iter *it);
/* Returns true with the next entry, false after the last. The key stays
 * valid until the entry is removed or the table freed. */
bool htable_next(const struct htable *t, struct htable_iter *it,
		 const char **key_r, void **value_r);

/* The keyed hash used by the table (exposed for tests). */
unsigned long long htable_hash(const void *data, size_t len);

#endif
