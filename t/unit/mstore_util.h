/* t/unit/mstore_util.h: helpers shared by the mail store unit tests: a
 * store in the test's temporary directory, deliveries the way `local`
 * makes them, and small file-system probes. */
#ifndef POSTERN_T_MSTORE_UTIL_H
#define POSTERN_T_MSTORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mstore.h"

/* $tmp/store/example.org/USER with the public root $tmp/store/Public. */
struct mstore *t_store_open(const char *user);
const char *t_user_root(const char *user);
const char *t_public_root(void);
/* Delivers body into the Maildir at path (new/) as local does; the key
 * is made from n. Returns maildir_deliver()'s result. */
int t_deliver(const char *path, unsigned n, const char *body);
/* Entries (not starting with '.') in a directory; -1 if it is missing. */
int t_count(const char *dir);
bool t_exists(const char *path);
/* The uids of the mailbox view, as a comma list in a static buffer. */
const char *t_uids(struct mstore_mailbox *mb);
/* The only file in dir (static buffer), or "" when not exactly one. */
const char *t_only_file(const char *dir);
/* Opens, failing the test loudly when it does not work. */
struct mstore_mailbox *t_mb_open(struct mstore *s, const char *name,
				 bool readonly);
/* name with bytes outside printable ASCII (and '#', '\\') as \\xNN, for
 * test names (rotating static buffers). */
const char *t_show(const char *name);
/* A formatted path in a rotating static buffer. */
const char *t_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
