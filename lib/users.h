/* users.h: the users table (users_table, a texthash file): one line per
 * virtual user, "ADDRESS HASH [quota=BYTES]", where HASH is a crypt(3)
 * hash (yescrypt "$y$", or SHA-512-crypt "$6$" where libcrypt lacks
 * yescrypt). `postern user` edits it through this module; the auth daemon
 * reads it and checks passwords with users_password_verify(). The file
 * keeps the postmap source syntax, so any texthash reader sees the
 * addresses as keys.
 *
 * Addresses are stored canonical: parsed with lib/addr and lower-cased as
 * a whole (lookup tables fold keys, and logins are case-insensitive). */
#ifndef POSTERN_USERS_H
#define POSTERN_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

/* Longest password accepted anywhere (SASL, prompt, stdin). */
#define USERS_PASSWORD_MAX 1024
/* Most entries one table may hold (a larger file is refused). */
#define USERS_MAX_ENTRIES 1000000

struct user_entry {
	char *address;	/* canonical, lower-case */
	char *hash;	/* crypt(3) text */
	uint64_t quota; /* bytes; 0 = none */
};

struct users;

/* The file path of a users_table spec: "texthash:/path" or a bare
 * absolute path. Returns the path inside spec, or NULL with *error_r for
 * another table type (only texthash tables are editable and readable
 * here). */
const char *users_table_path(const char *spec, const char **error_r);

/* Reads path; a missing file gives an empty table. Errors name
 * "path:line". Returns 1 with *users_r (the caller frees), or -1. */
int users_load(const char *path, struct users **users_r, const char **error_r);
struct users *users_new(void);
void users_free(struct users **up);

size_t users_count(const struct users *u);
/* The entry at index i (< users_count()), in file order. */
const struct user_entry *users_at(const struct users *u, size_t i);
/* The entry for a canonical address, or NULL. Valid until the next change. */
const struct user_entry *users_find(const struct users *u, const char *address);
/* Adds or replaces the hash (and quota when quota_set). */
void users_set(struct users *u, const char *address, const char *hash,
	       bool quota_set, uint64_t quota);
/* Removes an entry: 1 removed, 0 no such address. */
int users_delete(struct users *u, const char *address);
/* Writes the table atomically with mode 0600 (lib/file.h). 1 or -1. */
int users_save(const struct users *u, const char *path, const char **error_r);

/* The canonical address of a login name: validated with lib/addr_parse,
 * lower-cased; a name without "@domain" gets default_domain (the
 * instance's $mydomain). Returns 1 with the address in out (replaced), or
 * -1 with *error_r (static). */
int users_canonical(const char *login, size_t len, const char *default_domain,
		    struct str *out, const char **error_r);

/* A new hash for password (yescrypt, else SHA-512-crypt) into out
 * (replaced). Returns 1 or -1 with *error_r. */
int users_password_hash(const char *password, struct str *out,
			const char **error_r);
/* Checks password against hash. hash NULL (no such user) still costs one
 * hash computation against a built-in dummy, so that the time taken does
 * not tell which users exist. Returns 1 match, 0 no match. */
int users_password_verify(const char *hash, const char *password);

#endif
