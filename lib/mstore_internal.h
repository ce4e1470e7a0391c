/* mstore_internal.h: what lies behind lib/mstore.h. Part one is the
 * contract between the generic layer (mstore.c: name checks, error text,
 * the view arrays) and a backend (a struct of operations). Part two is
 * shared by the files of the Maildir++ backend (mstore_maildir*.c). */
#ifndef POSTERN_MSTORE_INTERNAL_H
#define POSTERN_MSTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mstore.h"
#include "str.h"

/* ---- Part one: the generic layer and the backend operations. */

struct mstore {
	const struct mstore_ops *ops;
	char *user_root, *public_root, *hostname;
	struct str err; /* the text behind every *error_r */
	unsigned mailboxes_open;
	void *backend; /* the backend's per-store data */
};

/* The part of a mailbox handle the generic layer reads; a backend's
 * handle starts with it. The view is what the caller sees. */
struct mstore_mailbox {
	struct mstore *s;
	bool readonly;
	struct mstore_msg *msgs;
	size_t count, cap;
	char *keywords[MSTORE_KEYWORD_MAX];
	size_t keyword_count;
	struct mstore_status status;
};

/* A growable sorted-or-not list of uids. */
struct mstore_uids {
	uint32_t *v;
	size_t count, cap;
};
void mstore_uids_push(struct mstore_uids *u, uint32_t uid);
void mstore_uids_deinit(struct mstore_uids *u);

struct mstore_append_req {
	const void *data;
	size_t len;
	uint32_t flags;
	const char *const *keywords;
	size_t keyword_count;
	int64_t internaldate;
};

/* Names reaching a backend are checked and normalised (INBOX upper case).
 * Every operation sets s->err (mstore_error) when it returns -1. */
struct mstore_ops {
	int (*init)(struct mstore *s);
	/* frees s->backend; mailboxes the caller opened are closed already */
	void (*deinit)(struct mstore *s);
	int (*list)(struct mstore *s, struct mstore_folder **list_r,
		    size_t *count_r);
	int (*create)(struct mstore *s, const char *name);
	int (*remove)(struct mstore *s, const char *name);
	int (*rename)(struct mstore *s, const char *from, const char *to);
	int (*subscribe)(struct mstore *s, const char *name, bool on);
	int (*status)(struct mstore *s, const char *name,
		      struct mstore_status *st);
	int (*mailbox_open)(struct mstore *s, const char *name, bool readonly,
			    struct mstore_mailbox **mb_r);
	void (*mailbox_close)(struct mstore_mailbox *mb);
	int (*mailbox_sync)(struct mstore_mailbox *mb);
	/* adds a keyword known valid and not in the view; index or -1 */
	int (*keyword_add)(struct mstore_mailbox *mb, const char *name);
	int (*msg_read)(struct mstore_mailbox *mb, uint32_t uid,
			struct str *out);
	int (*store_flags)(struct mstore_mailbox *mb, const uint32_t *uids,
			   size_t count, enum mstore_flag_mode mode,
			   uint32_t flags, uint32_t keywords,
			   uint64_t unchangedsince, struct mstore_uids *failed);
	int (*expunge)(struct mstore_mailbox *mb, const uint32_t *uids,
		       size_t count, struct mstore_uids *expunged);
	int (*append)(struct mstore *s, const char *name,
		      const struct mstore_append_req *req,
		      uint32_t *uidvalidity_r, uint32_t *uid_r);
	int (*copy)(struct mstore_mailbox *src, const uint32_t *uids,
		    size_t count, const char *dest, uint32_t *uidvalidity_r,
		    struct mstore_uids *new_uids);
	int (*cache_get)(struct mstore_mailbox *mb, uint32_t uid,
			 enum mstore_cache_field f, const char **data_r,
			 size_t *len_r);
	int (*cache_put)(struct mstore_mailbox *mb, uint32_t uid,
			 enum mstore_cache_field f, const void *data,
			 size_t len);
	int (*notify_fd)(struct mstore_mailbox *mb);
	void (*notify_drain)(struct mstore_mailbox *mb);
};

extern const struct mstore_ops mstore_maildir_ops;

/* Sets s->err; returns -1. */
int mstore_error(struct mstore *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "what path: strerror(errno)"; returns -1. */
int mstore_error_sys(struct mstore *s, const char *what, const char *path);
/* Checks name (strict: also no '%' or '*') and writes its normal form
 * (first component "INBOX" when it is INBOX in any case) into out.
 * 1 or -1 with static *error_r. */
int mstore_name_normalize(const char *name, bool strict, struct str *out,
			  const char **error_r);
/* An IMAP flag-keyword atom of at most MSTORE_KEYWORD_LEN_MAX bytes. */
bool mstore_keyword_valid(const char *name);
/* Recomputes the view's counts (messages, recent, unseen, deleted, size). */
void mstore_view_count(struct mstore_mailbox *mb);
/* Index of uid in msgs[0..count) (sorted by uid) or -1. */
long mstore_msgs_find(const struct mstore_msg *msgs, size_t count,
		      uint32_t uid);

/* ---- Part two: the Maildir++ backend.
 *
 * A mailbox directory (the root for INBOX, ROOT/.A.B for "A/B") holds
 * cur/ new/ tmp/ and: postern-index (the base index, replaced atomically
 * by a compaction), postern-index.log (the change log that continues that
 * base: appended under the lock, one fdatasync'd group per change;
 * replaced right after each new base), postern-cache (append-only blobs),
 * postern-lock (flock'd by writers of the index and cache; its first bytes
 * say how much of the log is known to be on disk), postern-meta (MAILBOXID
 * and keyword names, so that a rebuilt index keeps them). A root holds
 * postern-uidvalidity (the last UIDVALIDITY handed out there, so that every
 * new one is greater), postern-root.lock and, for a user,
 * postern-subscriptions. Lock order: a mailbox lock, then the root lock;
 * never the other way.
 *
 * The disk state is the base plus every group of the log whose id the base
 * names. Durability: a group is written with one pwrite() at the end of
 * the last good group and fdatasync'd before the lock goes and before any
 * UID or MODSEQ in it is handed out; a reader that finds bytes past the
 * synced end noted in postern-lock (a writer died between its write and
 * its fdatasync) syncs them before it uses them. So whatever a crash cuts
 * off the log's tail was never shown to anyone, and reusing those UIDs and
 * MODSEQs is safe. A torn or corrupt tail ends the replay; the good part is
 * kept and compacted into a new base at once. cur/ changes only under the
 * lock (postern) or through foreign Maildir software: postern notes the
 * directory's mtime after its own changes and after reading it, so a
 * change it logged costs no directory read (the price: foreign software
 * renaming in cur/ within the same timestamp tick as postern goes
 * unnoticed until cur/ changes again or the file is looked for). new/,
 * written by `local` without the lock, keeps the two-second rule: its
 * mtime is trusted only when older than that. */

#define MDIR_INDEX "postern-index"
#define MDIR_LOG "postern-index.log"
#define MDIR_CACHE "postern-cache"
#define MDIR_LOCK "postern-lock"
#define MDIR_META "postern-meta"
#define MDIR_UIDVALIDITY "postern-uidvalidity"
#define MDIR_ROOT_LOCK "postern-root.lock"
#define MDIR_SUBSCRIPTIONS "postern-subscriptions"
#define MDIR_MAX_MESSAGES 10000000u
#define MDIR_INDEX_MAX ((size_t)2 << 30) /* bytes of a base or a log */
#define MDIR_REC_SIZE 88		 /* a message record on disk */
#define MDIR_LOG_HDR 32			 /* the log file's header */

struct mdir_rec {
	struct mstore_msg m;  /* flags never hold RECENT */
	uint64_t cache_off;   /* newest cache record of the message, 0 none */
	uint32_t cache_bytes; /* bytes of its live cache records */
	uint32_t name_off;    /* the file name in state.names */
	uint16_t name_len, base_len; /* base: the part before ":2," */
	uint8_t in_new;
	uint8_t dirty; /* in state.dirty: changed since the last commit */
};

struct mdir_mtime {
	int64_t sec, nsec; /* 0/0: unknown, scan */
};

/* The flag change of a STORE (set, add or remove flags and keywords),
 * logged as itself plus the uids it changed (as ranges) instead of the
 * changed records whole: STORE 1:* on 10,000 messages logs a few dozen
 * bytes rather than 1.5 MB, so it never forces a compaction, and a
 * replay redoes it on the same records with the same outcome (the name
 * comes from the old name, as mdir_name_build made it for the rename). */
struct mdir_flag_op {
	uint32_t mode; /* enum mstore_flag_mode */
	uint32_t flags, keywords;
	uint64_t modseq;	 /* of every message it changed */
	struct mstore_uids uids; /* changed, not committed yet (ascending) */
};

/* What the index says (the disk state, as last loaded or written), plus
 * what changed in memory since (the next commit's log group). */
struct mdir_state {
	uint32_t uidvalidity, uidnext, first_recent_uid;
	uint64_t highestmodseq, cache_id;
	uint64_t log_id; /* the log continuing this base; 0: none yet */
	struct mdir_mtime new_mtime, cur_mtime;
	char mailboxid[40];
	char *keywords[MSTORE_KEYWORD_MAX];
	size_t keyword_count;
	struct mdir_rec *recs; /* sorted by uid */
	size_t count, cap;
	struct str names;
	size_t names_dead; /* bytes of names no record uses any more */
	/* since the last load or commit: records at or above disk_uidnext
	 * are new, dirty ones changed, expunged uids were removed */
	uint32_t disk_uidnext;
	size_t disk_keyword_count;
	struct mstore_uids dirty, expunged;
	struct mdir_flag_op op;
};

enum mdir_mode {
	MDIR_WRITER,   /* SELECT: claims \Recent, moves new/ to cur/ */
	MDIR_READONLY, /* EXAMINE */
	MDIR_QUIET, /* internal (STATUS, APPEND, COPY): writes, claims nothing
		     */
};

struct mdir_pending {
	uint32_t uid, bytes;
	uint64_t off;
};

struct mdir_mailbox {
	struct mstore_mailbox pub;
	char *path; /* the mailbox directory */
	char *root; /* the Maildir++ root it belongs to */
	enum mdir_mode mode;
	int lock_fd;  /* postern-lock, opened on demand */
	int locked;   /* nesting count of mdir_lock() */
	int index_fd; /* the loaded base, kept open: its inode stays unique */
	dev_t index_dev;
	ino_t index_ino;
	uint64_t base_size;
	int log_fd; /* the log as last looked at (or -1), kept open too */
	dev_t log_dev;
	ino_t log_ino;
	bool log_ok;	  /* log_fd continues the loaded base */
	uint64_t log_end; /* end of the last group replayed or written */
	bool loaded, index_dirty;
	bool need_base; /* the next commit writes a new base */
	bool need_scan; /* a damaged log lost changes: read the dirs */
	struct mdir_state st;
	struct mstore_uids claimed; /* uids this handle claimed as \Recent */
	int cache_fd;
	uint64_t cache_file_id;
	struct str cache_buf;
	/* The cache file mapped read-only (gets read from it, no syscall);
	 * the file is only appended to, and replaced by rename, never
	 * truncated, so the mapping stays valid while the fd is open. */
	const unsigned char *cache_map;
	size_t cache_map_len;
	/* The commit being made holds flag changes only (store.c sets it):
	 * see mdir_index_commit(). */
	bool commit_lazy;
	struct mdir_pending *pending; /* cache heads not in the index yet */
	size_t pending_count, pending_cap;
	int notify_fd, notify_log_wd;
	struct str path_buf;
	struct mdir_mailbox *next_quiet; /* in the store's handle cache */
};

static inline struct mdir_mailbox *mdir_mb(struct mstore_mailbox *mb)
{
	return (struct mdir_mailbox *)mb;
}

/* mstore_maildir.c: name -> directory. 1 a selectable mailbox path (it
 * may not exist), 0 \Noselect namespace root ("Public"); *root_r (may be
 * NULL) gets the Maildir++ root. Caller frees. */
int mdir_name_path(struct mstore *s, const char *name, char **path_r,
		   char **root_r);
bool mdir_is_maildir(const char *path);
/* Creates path (and cur/ new/ tmp/ and, when it is a subfolder, the
 * maildirfolder marker). */
int mdir_folder_create(struct mstore *s, const char *path, bool subfolder);

/* mstore_maildir_list.c: LIST and subscriptions */
int mdir_list(struct mstore *s, struct mstore_folder **list_r, size_t *count_r);
int mdir_subscribe(struct mstore *s, const char *name, bool on);
/* Writes the subscription list when there is none yet. */
int mdir_subscriptions_init(struct mstore *s, const char *const *names,
			    size_t count);
/* The directory names (NUL-separated) of root's folders below dir
 * (".A" -> ".A.x", ".A.x.y", ...). */
int mdir_children(struct mstore *s, const char *root, const char *dir,
		  struct str *names_r);

/* mstore_maildir_util.c */
/* flock on path (created 0600); returns the fd or -1 (s->err). Waits up
 * to 30 s. */
int mdir_lock_path(struct mstore *s, const char *path);
int mdir_lock(struct mdir_mailbox *mb);
void mdir_unlock(struct mdir_mailbox *mb);
/* Flags and keyword bits from the info after ":2," of a file name;
 * keyword letters at or beyond keyword_count are ignored. */
void mdir_info_parse(const char *name, size_t len, size_t base_len,
		     size_t keyword_count, uint32_t *flags_r,
		     uint32_t *keywords_r);
/* base + ":2," + the letters (ASCII order), keeping unknown upper-case
 * letters of old_name (may be NULL). */
void mdir_name_build(struct str *out, const char *base, size_t base_len,
		     uint32_t flags, uint32_t keywords, const char *old_name,
		     size_t old_len);
/* A new unique base name "SECONDS.M<usec>P<pid>R<random>.HOST". */
void mdir_base_new(struct str *out, const char *hostname);
void mdir_random_hex(char *out, size_t hex_digits);
void mdir_emailid(const char *base, size_t len, char out[28]);
/* Removes a folder directory tree (at most 3 levels, no symlinks
 * followed). 1 or -1 (s->err). */
int mdir_remove_tree(struct mstore *s, const char *path);
/* Next UIDVALIDITY of root: greater than every earlier one there and than
 * floor. 0 on error (s->err). */
uint32_t mdir_uidvalidity_next(struct mstore *s, const char *root,
			       uint32_t floor);
/* The CRLF size of the LF file content. */
uint64_t mdir_crlf_size(const char *data, size_t len, bool *cr_r);

/* mstore_maildir_index.c: the state and the base file's format */
void mdir_state_clear(struct mdir_state *st);
/* What changed is on disk now (after a commit or a load). */
void mdir_state_committed(struct mdir_state *st);
/* Anything for the next commit's log group (besides the header)? */
bool mdir_state_changed(const struct mdir_state *st);
const char *mdir_rec_name(const struct mdir_state *st,
			  const struct mdir_rec *r);
/* Index of uid in st->recs or -1. */
long mdir_rec_find(const struct mdir_state *st, uint32_t uid);
/* Appends a record (uid above every other) with name; the caller sets its
 * uid (a uid at or above st->disk_uidnext is logged as new). */
struct mdir_rec *mdir_rec_add(struct mdir_state *st, const char *name,
			      size_t len, size_t base_len, bool in_new);
/* A new name (and directory) for r, noted for the next commit. */
void mdir_rec_rename(struct mdir_state *st, struct mdir_rec *r,
		     const char *name, size_t len, bool in_new);
/* The same, not noted (the change came from the disk). */
void mdir_rec_set_name(struct mdir_state *st, struct mdir_rec *r,
		       const char *name, size_t len, bool in_new);
/* The flags and keywords op gives r (the STORE and the replay of its
 * log record both ask this); false when they are r's already. */
bool mdir_op_flags(const struct mdir_flag_op *op, const struct mdir_rec *r,
		   uint32_t *flags_r, uint32_t *keywords_r);
/* r takes the file name (in cur/) that carries flags and keywords, built
 * from its old one in name_buf, and them and modseq. */
void mdir_rec_set_flags(struct mdir_state *st, struct mdir_rec *r,
			uint32_t flags, uint32_t keywords, uint64_t modseq,
			struct str *name_buf);
/* Notes that r's flags, keywords or modseq changed. */
void mdir_rec_dirty(struct mdir_state *st, struct mdir_rec *r);
/* Marks r removed (uid 0, dropped by the next mdir_state_compact) and
 * notes its uid for the next commit. */
void mdir_rec_expunge(struct mdir_state *st, struct mdir_rec *r);
/* Drops the records whose uid is 0; compacts names. */
void mdir_state_compact(struct mdir_state *st);
/* Compacts names when the old names left behind by renames outweigh the
 * live ones (a mailbox whose log is rarely compacted, STOREs only).
 * Costs nothing until then. */
void mdir_names_trim(struct mdir_state *st);
/* Parses a whole base file image into st (zeroed; the caller clears it
 * either way): NULL, or what is wrong with it. */
const char *mdir_index_parse(const void *data, size_t len,
			     struct mdir_state *st);
/* The whole base file image of st, appended to out. */
void mdir_index_serialize(const struct mdir_state *st, struct str *out);
uint64_t mdir_index_checksum(const void *data, size_t len);
/* A message record's MDIR_REC_SIZE bytes on disk (no name). */
void mdir_rec_encode(struct str *out, const struct mdir_rec *r);
void mdir_rec_decode(const unsigned char *p, struct mdir_rec *r);
/* NULL when r's fields fit (uid below uidnext, modseq at most
 * highestmodseq, known flags and keywords, a file name (name_len bytes at
 * name) without '/', NUL or a leading '.', an EMAILID); else why not. */
const char *mdir_rec_check(const struct mdir_rec *r, uint32_t uidnext,
			   uint64_t highestmodseq, size_t keyword_count,
			   const unsigned char *name);
/* MAILBOXID and keywords of postern-meta into st (when readable). */
void mdir_meta_read(struct mdir_mailbox *mb);
int mdir_meta_write(struct mdir_mailbox *mb);

/* mstore_maildir_log.c: the log's format (no I/O) */
#define MDIR_LOG_GROUP_MAX (16u << 20) /* payload bytes of one group */
/* The MDIR_LOG_HDR bytes starting a log that continues the base with
 * log_id. */
void mdir_log_header_build(struct str *out, uint64_t log_id);
/* Whether data starts with the header of log log_id (nonzero). */
bool mdir_log_header_check(const void *data, size_t len, uint64_t log_id);
/* Appends to out the group (frame, payload, padding) that records what
 * changed in st (see mdir_state_changed) and the pending cache heads, to
 * be written at file offset off of log log_id. */
void mdir_log_group_build(const struct mdir_state *st,
			  const struct mdir_pending *pending, size_t npending,
			  uint64_t log_id, uint64_t off, struct str *out);
/* Appends payload (len at most MDIR_LOG_GROUP_MAX) framed as the group
 * at offset off of log log_id, padded (out->len must be 8-aligned). For
 * tests and the fuzz target. */
void mdir_log_group_wrap(const void *payload, size_t len, uint64_t log_id,
			 uint64_t off, struct str *out);
enum mdir_log_status {
	MDIR_LOG_OK,	  /* every byte was a good group */
	MDIR_LOG_TORN,	  /* an incomplete last group (a crash): ignored */
	MDIR_LOG_CORRUPT, /* a bad group with data after it: lost groups */
};
struct mdir_log_replay {
	enum mdir_log_status status;
	uint64_t end; /* file offset after the last group applied */
	size_t groups;
	const char *why; /* a group that failed its checks (static) */
	/* CORRUPT: the highest UIDNEXT and HIGHESTMODSEQ in the good
	 * groups after the bad one (0 if none) */
	uint32_t lost_uidnext;
	uint64_t lost_modseq;
};
/* Applies the groups in data (the log's bytes from file offset off on,
 * off 8-aligned) to st, each whole or not at all, up to the first bad
 * one. Never fails on bad input; memory grows at most with len. */
void mdir_log_replay(struct mdir_state *st, uint64_t log_id, const void *data,
		     size_t len, uint64_t off, struct mdir_log_replay *res);

/* mstore_maildir_commit.c: the base and log files. Call locked except
 * mdir_index_unchanged. */
/* Brings st up to the disk: loads the base when it is not the one loaded
 * (replaced by a compaction), then replays the log's new groups (only
 * those). 1 up to date, 0 base missing or corrupt (*corrupt_r; a warning
 * logged; *old_uidvalidity_r gets its UIDVALIDITY when readable, else 0),
 * -1 error. A damaged log keeps its good part and sets need_base (and
 * need_scan when changes were lost). */
int mdir_index_refresh(struct mdir_mailbox *mb, uint32_t *old_uidvalidity_r,
		       bool *corrupt_r);
/* Without the lock: true when base and log are the ones loaded, no group
 * added since. */
bool mdir_index_unchanged(struct mdir_mailbox *mb);
/* Makes what changed in st durable: one log group (one pwrite, one
 * fdatasync), or a new base and a new, empty log (a compaction: when
 * need_base, when the log would grow past half the base, when there is no
 * log). Nothing when nothing changed. After -1 the handle reloads. */
int mdir_index_commit(struct mdir_mailbox *mb);
/* A new base and log now (tmp, fsync, rename, fsync dir; the base
 * first: a crash between leaves the old log, which the new base does not
 * name, so it is ignored). */
int mdir_index_write(struct mdir_mailbox *mb);
/* Closes the base and log descriptors. */
void mdir_index_close(struct mdir_mailbox *mb);

/* mstore_maildir_sync.c */
/* Brings the disk state up to date: (locks,) loads the index, rebuilds a
 * lost one, scans new/ and cur/ when they changed (always with
 * MDIR_R_SCAN), moves new/ to cur/ (writer), claims \Recent (writer, with
 * MDIR_R_CLAIM), writes the index when it changed. */
#define MDIR_R_SCAN 1u
#define MDIR_R_CLAIM 2u
int mdir_refresh(struct mdir_mailbox *mb, unsigned flags);
/* The view := the disk state (+ \Recent for claimed uids). */
void mdir_view_build(struct mdir_mailbox *mb);
/* The path of a message file into mb->path_buf. */
const char *mdir_msg_path(struct mdir_mailbox *mb, const struct mdir_rec *r);
/* Next modseq (bumps highestmodseq). */
uint64_t mdir_modseq_next(struct mdir_mailbox *mb);
/* After this handle changed cur/ (locked): when the index knew all of
 * cur/ before, it notes cur/'s new mtime, so that the change it logs
 * costs no directory read. */
void mdir_cur_changed(struct mdir_mailbox *mb);
/* STATUS counts from the disk state (recent: not claimed by anyone). */
void mdir_state_status(const struct mdir_state *st, struct mstore_status *out);

/* mstore_maildir_mailbox.c */
int mdir_mailbox_sync(struct mstore_mailbox *mb);
int mdir_keyword_add(struct mstore_mailbox *mb, const char *name);
int mdir_msg_read(struct mstore_mailbox *mb, uint32_t uid, struct str *out);
int mdir_store_flags(struct mstore_mailbox *mb, const uint32_t *uids,
		     size_t count, enum mstore_flag_mode mode, uint32_t flags,
		     uint32_t keywords, uint64_t unchangedsince,
		     struct mstore_uids *failed);
int mdir_expunge(struct mstore_mailbox *mb, const uint32_t *uids, size_t count,
		 struct mstore_uids *expunged);
int mdir_notify_fd(struct mstore_mailbox *mb);
void mdir_notify_drain(struct mstore_mailbox *mb);
int mdir_mailbox_open_mode(struct mstore *s, const char *name,
			   enum mdir_mode mode, struct mdir_mailbox **mb_r);
void mdir_mailbox_close(struct mstore_mailbox *mb);
/* Keyword index in the disk state, adding it (locked) when missing. */
int mdir_keyword_resolve(struct mdir_mailbox *mb, const char *name);

/* mstore_maildir_cache.c */
void mdir_cache_close(struct mdir_mailbox *mb);
/* Puts pending cache heads into the state (after a reload). */
void mdir_cache_apply_pending(struct mdir_mailbox *mb);
/* Locked, before a new base or after expunges: compacts the cache file
 * when over half of it is dead. true when it did (every head moved: the
 * next commit must write a new base). */
bool mdir_cache_maybe_compact(struct mdir_mailbox *mb);
int mdir_cache_get(struct mstore_mailbox *mb, uint32_t uid,
		   enum mstore_cache_field f, const char **data_r,
		   size_t *len_r);
int mdir_cache_put(struct mstore_mailbox *mb, uint32_t uid,
		   enum mstore_cache_field f, const void *data, size_t len);

/* mstore_maildir_append.c */
/* A QUIET handle on name, refreshed: from the store's small cache of
 * them (APPEND after APPEND costs only the log's new groups) or opened.
 * 1, 0 no such mailbox, -1 error. Give it back with mdir_quiet_put. */
int mdir_quiet_get(struct mstore *s, const char *name,
		   struct mdir_mailbox **mb_r);
void mdir_quiet_put(struct mdir_mailbox *mb);
/* Closes the cached handles (a folder was renamed or deleted, or the
 * store goes). */
void mdir_quiet_flush(struct mstore *s);
int mdir_append(struct mstore *s, const char *name,
		const struct mstore_append_req *req, uint32_t *uidvalidity_r,
		uint32_t *uid_r);
int mdir_copy(struct mstore_mailbox *src, const uint32_t *uids, size_t count,
	      const char *dest, uint32_t *uidvalidity_r,
	      struct mstore_uids *new_uids);

#endif
