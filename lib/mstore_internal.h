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
 * cur/ new/ tmp/ and: postern-index (the index, replaced atomically),
 * postern-cache (append-only blobs), postern-lock (flock'd by writers of
 * the index and cache), postern-meta (MAILBOXID and keyword names, so that
 * a rebuilt index keeps them). A root holds postern-uidvalidity (the last
 * UIDVALIDITY handed out there, so that every new one is greater),
 * postern-root.lock and, for a user, postern-subscriptions. Lock order:
 * a mailbox lock, then the root lock; never the other way. */

#define MDIR_INDEX "postern-index"
#define MDIR_CACHE "postern-cache"
#define MDIR_LOCK "postern-lock"
#define MDIR_META "postern-meta"
#define MDIR_UIDVALIDITY "postern-uidvalidity"
#define MDIR_ROOT_LOCK "postern-root.lock"
#define MDIR_SUBSCRIPTIONS "postern-subscriptions"
#define MDIR_MAX_MESSAGES 10000000u

struct mdir_rec {
	struct mstore_msg m;  /* flags never hold RECENT */
	uint64_t cache_off;   /* newest cache record of the message, 0 none */
	uint32_t cache_bytes; /* bytes of its live cache records */
	uint32_t name_off;    /* the file name in state.names */
	uint16_t name_len, base_len; /* base: the part before ":2," */
	uint8_t in_new;
};

struct mdir_mtime {
	int64_t sec, nsec; /* 0/0: unknown, scan */
};

/* What the index says (the disk state, as last loaded or written). */
struct mdir_state {
	uint32_t uidvalidity, uidnext, first_recent_uid;
	uint64_t highestmodseq, cache_id;
	struct mdir_mtime new_mtime, cur_mtime;
	char mailboxid[40];
	char *keywords[MSTORE_KEYWORD_MAX];
	size_t keyword_count;
	struct mdir_rec *recs; /* sorted by uid */
	size_t count, cap;
	struct str names;
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
	int index_fd; /* the loaded index, kept open: its inode stays unique */
	dev_t index_dev;
	ino_t index_ino;
	bool loaded, index_dirty;
	struct mdir_state st;
	struct mstore_uids claimed; /* uids this handle claimed as \Recent */
	int cache_fd;
	uint64_t cache_file_id;
	struct str cache_buf;
	struct mdir_pending *pending; /* cache heads not in the index yet */
	size_t pending_count, pending_cap;
	int notify_fd;
	struct str path_buf;
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

/* mstore_maildir_index.c */
void mdir_state_clear(struct mdir_state *st);
const char *mdir_rec_name(const struct mdir_state *st,
			  const struct mdir_rec *r);
/* Index of uid in st->recs or -1. */
long mdir_rec_find(const struct mdir_state *st, uint32_t uid);
/* Appends a record (uid above every other) with name. */
struct mdir_rec *mdir_rec_add(struct mdir_state *st, const char *name,
			      size_t len, size_t base_len, bool in_new);
void mdir_rec_rename(struct mdir_state *st, struct mdir_rec *r,
		     const char *name, size_t len, bool in_new);
/* Drops the records whose uid is 0; compacts names. */
void mdir_state_compact(struct mdir_state *st);
/* Loads the index when it changed on disk: 1 loaded or unchanged, 0
 * missing or corrupt (*corrupt_r; a warning logged; *old_uidvalidity_r
 * gets its UIDVALIDITY when readable, else 0), -1 error. */
int mdir_index_refresh(struct mdir_mailbox *mb, uint32_t *old_uidvalidity_r,
		       bool *corrupt_r);
/* Parses a whole index file image into st (zeroed; the caller clears it
 * either way): NULL, or what is wrong with it. */
const char *mdir_index_parse(const void *data, size_t len,
			     struct mdir_state *st);
uint64_t mdir_index_checksum(const void *data, size_t len);
/* Writes the index (tmp, fsync, rename, fsync dir). Call locked. */
int mdir_index_write(struct mdir_mailbox *mb);
/* MAILBOXID and keywords of postern-meta into st (when readable). */
void mdir_meta_read(struct mdir_mailbox *mb);
int mdir_meta_write(struct mdir_mailbox *mb);

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
/* Locked, before an index write: compacts the cache file when over half
 * of it is dead. */
void mdir_cache_maybe_compact(struct mdir_mailbox *mb);
int mdir_cache_get(struct mstore_mailbox *mb, uint32_t uid,
		   enum mstore_cache_field f, const char **data_r,
		   size_t *len_r);
int mdir_cache_put(struct mstore_mailbox *mb, uint32_t uid,
		   enum mstore_cache_field f, const void *data, size_t len);

/* mstore_maildir_append.c */
int mdir_append(struct mstore *s, const char *name,
		const struct mstore_append_req *req, uint32_t *uidvalidity_r,
		uint32_t *uid_r);
int mdir_copy(struct mstore_mailbox *src, const uint32_t *uids, size_t count,
	      const char *dest, uint32_t *uidvalidity_r,
	      struct mstore_uids *new_uids);

#endif
