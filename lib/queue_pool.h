/* queue_pool.h: finished queue files kept for reuse. When qmgr is done
 * with a message it moves the file into incoming/.pool (named by its old
 * queue ID, mode 0600: incomplete to every reader) instead of removing it,
 * and smtpd takes a file from there for its next message (renamed to the
 * new ID in incoming/, overwritten, cut to size at commit) instead of
 * creating one. A file system then allocates and frees no inode per
 * message: on ext4 without a journal each allocation otherwise skips every
 * inode freed in the last minutes, a scan that grows with the mail flow.
 *
 * Safety: a pooled file is complete for nobody (no owner-execute bit);
 * a writer that takes one checks that it is a plain file of its own with
 * a single link before it writes (a crash in the middle of a rename can
 * leave two names for one file; the other name is then left alone), and
 * its commit makes the new name durable as for a created file. The pool
 * holds at most QUEUE_POOL_MAX files of at most QUEUE_POOL_FILE_MAX bytes
 * (so at most 128 MiB of old mail, readable only by the mail owner);
 * other files are removed. */
#ifndef POSTERN_QUEUE_POOL_H
#define POSTERN_QUEUE_POOL_H

#include "queue_dir.h"

#define QUEUE_POOL_DIR ".pool" /* inside incoming/ */
#define QUEUE_POOL_MAX 2000
#define QUEUE_POOL_FILE_MAX (64 * 1024)

struct queue_pool;

/* A handle on qd's pool (nothing is opened yet); one per process. */
struct queue_pool *queue_pool_new(struct queue_dir *qd);
void queue_pool_free(struct queue_pool **pp);

/* The finished message id in queue q: into the pool (its mode set to
 * 0600 first), or removed when the pool is full or the move fails.
 * Returns 1 (gone from q), 0 (it was not there) or -1 with *error_r. */
int queue_pool_put(struct queue_pool *p, enum queue_name q, const char *id,
		   const char **error_r);

/* A pooled file renamed to new_id in queue q: 1, or 0 when there is none
 * (or the pool cannot be used): the caller then creates a file. */
int queue_pool_take(struct queue_pool *p, enum queue_name q,
		    const char *new_id);

#endif
