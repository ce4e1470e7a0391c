/* maildir.h: delivery into a Maildir++ folder, idempotent per key.
 *
 * A message is written to tmp/NAME.PPID, fsync'd, linked to new/NAME (link, not
 * rename: an existing new/NAME is never replaced), the folder new/ is
 * fsync'd, then tmp/NAME is removed. NAME is "SECONDS.KEY.HOST": the key
 * comes from the queue ID and the final recipient (maildir_key()), so a
 * retried delivery of the same message to the same mailbox computes the
 * same name and finds its earlier copy in new/, or in cur/ where an IMAP
 * server moved it as "NAME:2,FLAGS" (the name before ':' is kept). The
 * folder and its cur/ new/ tmp/ are created when a delivery finds them
 * missing (the first one). */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "str.h"

/* Writes the message into fd (the open tmp/ file); returns 1 or -1 with
 * *error_r. */
typedef int maildir_write_fn(void *ctx, int fd, const char **error_r);

struct maildir_delivery {
	const char *path;     /* the Maildir: PATH/{cur,new,tmp} */
	const char *key;      /* from maildir_key() */
	const char *hostname; /* '/' and ':' are encoded in the name */
	uint64_t seconds;     /* the name's time part (the arrival time) */
	bool check_cur;	      /* a retry: also look in cur/ (a scan) */
};

/* Sets out to "Q" + queue_id + "R" + 16 hex digits of a hash of the
 * recipient (case-insensitive). */
void maildir_key(const char *queue_id, const char *recipient, struct str *out);

/* Creates path and its cur/ new/ tmp/ (mode 0700) where missing, with
 * every new directory's parent fsync'd; parents of path are created too.
 * Returns 1 or -1 with *error_r (errno kept). */
int maildir_create(const char *path, const char **error_r);

/* Delivers: returns 1 when written now, 0 when a copy with this key was
 * already there (nothing written), -1 with *error_r (static until the next
 * call; errno kept: ENOSPC, EDQUOT, EIO... are temporary for the caller). */
int maildir_deliver(const struct maildir_delivery *d, maildir_write_fn *fn,
		    void *ctx, const char **error_r);

#endif
