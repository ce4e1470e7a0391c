/* queue_dir.h: the queue directory: its folders and their modes, scanning a
 * queue, moving a message between queues, and crash recovery at qmgr start.
 * doc/queue.md has the state table this implements.
 *
 * $queue_directory holds one flat folder per queue (no hash levels: ext4,
 * xfs and btrfs index large directories themselves). A message is one file
 * named by its queue ID; bounce/ and defer/ hold per-message status logs of
 * the same name. Entries whose name is not a valid queue ID are never
 * touched (they are not ours). */
#ifndef POSTERN_QUEUE_DIR_H
#define POSTERN_QUEUE_DIR_H

#include <stddef.h>
#include <sys/types.h>

#include "queue_id.h"

enum queue_name {
	QUEUE_INCOMING, /* 0700: new messages (smtpd, pickup); qmgr takes */
	QUEUE_MAILDROP, /* 0730: local submissions (postdrop), pickup reads */
	QUEUE_ACTIVE,	/* 0700: messages qmgr is delivering */
	QUEUE_DEFERRED, /* 0700: to retry; mtime = next attempt */
	QUEUE_HOLD,	/* 0700: held by the admin */
	QUEUE_CORRUPT,	/* 0700: unreadable files, kept for a human */
	QUEUE_BOUNCE,	/* 0700: per-message logs of failed recipients */
	QUEUE_DEFER,	/* 0700: per-message logs of deferred recipients */
	QUEUE_NAME_COUNT
};

struct queue_dir;

/* "maildrop", "incoming", ... */
const char *queue_name_str(enum queue_name q);
/* Returns 1 with *q_r, or 0 for an unknown name. */
int queue_name_parse(const char *s, enum queue_name *q_r);

/* Creates root (0755) and every queue folder with its mode, for the
 * calling user; existing folders are left as they are. Instances get their
 * folders (and owners) from lib/instance.c; this is for tests and tools.
 * Returns 1 or -1. */
int queue_dir_create(const char *root, const char **error_r);
/* Opens root; folders are opened on first use and stay open until close.
 * Returns 1 or -1. */
int queue_dir_open(const char *root, struct queue_dir **qd_r,
		   const char **error_r);
void queue_dir_close(struct queue_dir **qdp);
const char *queue_dir_root(const struct queue_dir *qd);
/* The folder's fd for the *at() calls. Returns the fd or -1. */
int queue_dir_fd(struct queue_dir *qd, enum queue_name q, const char **error_r);
/* fsyncs the folder: 1, or 0 when this process may not read it (postdrop
 * and maildrop/: then the entry's durability rests on the file system, as
 * in Postfix), or -1. */
int queue_dir_sync(struct queue_dir *qd, enum queue_name q,
		   const char **error_r);
/* queue_dir_sync() for worker threads (thread-safe): the folder must be
 * open already (queue_dir_fd()); the entries made before the ticket was
 * taken (queue_dir_sync_ticket(), right after making one; 0: before the
 * call) become durable, callers share fsyncs (group_sync.h). Returns 1, 0
 * as queue_dir_sync(), or -1 with errno. */
uint64_t queue_dir_sync_ticket(struct queue_dir *qd, enum queue_name q);
int queue_dir_sync_shared(struct queue_dir *qd, enum queue_name q,
			  uint64_t ticket);

/* Valid queue IDs found in a folder, sorted (= arrival order). */
struct queue_id_list {
	char (*ids)[QUEUE_ID_SIZE];
	size_t count, cap;
	size_t skipped; /* entries that are not queue IDs */
};
/* Fills list (emptied first). Returns 1 or -1. */
int queue_dir_list(struct queue_dir *qd, enum queue_name q,
		   struct queue_id_list *list, const char **error_r);
/* The same for any folder of queue IDs open as dirfd (queue_pool.h).
 * Returns 1, or -1 with errno. */
int queue_id_list_read(int dirfd, struct queue_id_list *list);
void queue_id_list_free(struct queue_id_list *list);

#define QUEUE_MOVE_SYNC 0x01u /* fsync both folders before returning */

/* Moves message id from one queue to another without ever replacing a file
 * of the same name there. Without QUEUE_MOVE_SYNC a crash may leave the
 * message in either folder (never both, never neither): fine for moves
 * that recovery or a rescan repeat (incoming -> active, active ->
 * deferred). Returns 1, 0 when id is not in from, -1 (EEXIST: already in
 * to). */
int queue_dir_move(struct queue_dir *qd, const char *id, enum queue_name from,
		   enum queue_name to, unsigned flags, const char **error_r);
/* Removes id from q (with QUEUE_MOVE_SYNC: durably). 1, 0 if absent, -1. */
int queue_dir_remove(struct queue_dir *qd, enum queue_name q, const char *id,
		     unsigned flags, const char **error_r);
/* Which message queue holds id (incoming, active, deferred, hold, corrupt,
 * maildrop: checked in that order). 1 with *q_r, 0 if none, -1. */
int queue_dir_find(struct queue_dir *qd, const char *id, enum queue_name *q_r,
		   const char **error_r);

struct queue_recover_stats {
	size_t discarded; /* incomplete files of dead writers, removed */
	size_t busy;	  /* incomplete files of live writers, left */
	size_t requeued;  /* active -> incoming */
	size_t conflicts; /* left in active/: same ID already in incoming/ */
};
/* Removes the incomplete files (no completion mark, not locked by a live
 * writer) in queue q. pickup calls it for maildrop/. Returns 1 or -1. */
int queue_recover_incomplete(struct queue_dir *qd, enum queue_name q,
			     struct queue_recover_stats *stats,
			     const char **error_r);
/* What qmgr runs once at start, before its first scan: everything in
 * active/ goes back to incoming/, then incomplete files in incoming/ are
 * discarded (their writer died before commit returned, so no 250 was
 * sent; or qmgr was done with them, see queue_pool.h). Safe while smtpd
 * and pickup keep writing. Returns 1 or -1. */
int queue_recover(struct queue_dir *qd, struct queue_recover_stats *stats_r,
		  const char **error_r);

#endif
