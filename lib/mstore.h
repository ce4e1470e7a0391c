/* mstore.h: the mail store: one user's folders and messages, for imapd and
 * pop3d, behind a struct of operations (lib/mstore_internal.h) whose first
 * backend is Maildir++ (lib/mstore_maildir*.c).
 *
 * Names are UTF-8 with '/' between levels. "INBOX" in any case is the
 * INBOX (its children are "INBOX/x"); "Public/X" is folder X of the shared
 * public namespace (everyone may read and write it), and "Public" itself is
 * a \Noselect parent. Names are refused when empty, longer than
 * MSTORE_NAME_MAX bytes, not UTF-8, with an empty, "." or ".." component,
 * with a control character (< 0x20, 0x7f), with a first component starting
 * with '~' (another user's namespace in other servers), or when their disk
 * form is longer than 255 bytes. mstore_name_check() (for CREATE and
 * RENAME targets) also refuses the LIST wildcards '%' and '*'.
 *
 * Each mailbox has an index that survives restarts: UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ, MAILBOXID, up to 26 keywords and per message UID, flags,
 * MODSEQ, RFC822.SIZE, internal date and EMAILID. UIDs and MODSEQs only go
 * up and are never reused within a UIDVALIDITY; a lost or corrupt index is
 * rebuilt with a new, greater UIDVALIDITY. Several processes may have a
 * mailbox open while `local` delivers into it.
 *
 * Errors: int functions return -1 with *error_r (valid until the next call
 * on the same store or any of its mailboxes), 0 for "no such" where said,
 * 1 on success. No global state: one process may serve many stores.
 * Not thread-safe per store. */
#ifndef POSTERN_MSTORE_H
#define POSTERN_MSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

#define MSTORE_F_SEEN (1u << 0)
#define MSTORE_F_ANSWERED (1u << 1)
#define MSTORE_F_FLAGGED (1u << 2)
#define MSTORE_F_DELETED (1u << 3)
#define MSTORE_F_DRAFT (1u << 4)
/* session-level: set for messages this handle claimed */
#define MSTORE_F_RECENT (1u << 5)
#define MSTORE_F_STORED_MASK 0x1fu /* the flags kept on disk */
#define MSTORE_KEYWORD_MAX 26
#define MSTORE_KEYWORD_LEN_MAX 100

/* folder attributes */
#define MSTORE_A_NOSELECT (1u << 0)
#define MSTORE_A_HASCHILDREN (1u << 1)
#define MSTORE_A_HASNOCHILDREN (1u << 2)
#define MSTORE_A_SENT (1u << 3)
#define MSTORE_A_DRAFTS (1u << 4)
#define MSTORE_A_TRASH (1u << 5)
#define MSTORE_A_JUNK (1u << 6)
#define MSTORE_A_ARCHIVE (1u << 7)
#define MSTORE_A_SUBSCRIBED (1u << 8)
/* subscribed but gone (LSUB/LIST SUBSCRIBED); implies \Noselect */
#define MSTORE_A_NONEXISTENT (1u << 9)

#define MSTORE_NAME_MAX 1000	     /* bytes of a folder name */
#define MSTORE_MSG_MAX (1024u << 20) /* bytes of one message */
#define MSTORE_CACHE_BLOB_MAX (4u << 20)

struct mstore_settings {
	const char
	    *user_root; /* $mail_store/DOMAIN/LOCALPART (created if missing) */
	const char
	    *public_root; /* $mail_store/Public, or NULL: no public namespace */
	const char *hostname; /* for new file names */
};
struct mstore;

/* Opens (and creates where missing) the user's store. On the first open
 * (no subscriptions file yet) creates and subscribes INBOX, Sent, Drafts,
 * Trash, Junk and Archive. The settings are copied. */
int mstore_open(const struct mstore_settings *set, struct mstore **s_r,
		const char **error_r);
/* Every mailbox of the store must be closed first. */
void mstore_free(struct mstore **sp);

/* 1 when name is acceptable (for CREATE etc.), -1 with *error_r (static
 * text) saying why. */
int mstore_name_check(const char *name, const char **error_r);

struct mstore_folder {
	char *name;
	unsigned attrs;
};
/* Every folder (INBOX first, then sorted by name, bytewise), including the
 * \Noselect "Public" parent, parents that exist only as hierarchy
 * (\Noselect, \HasChildren) and subscribed names that do not exist
 * (\NonExistent, \Subscribed). Special-use attributes go with the top-level
 * names Sent, Drafts, Trash, Junk and Archive. Caller frees with
 * mstore_folders_free. */
int mstore_list(struct mstore *s, struct mstore_folder **list_r,
		size_t *count_r, const char **error_r);
void mstore_folders_free(struct mstore_folder *list, size_t count);
/* Creates name and its missing parents. 1 created, 0 exists, -1 error
 * (also for "Public" and for invalid names). */
int mstore_create(struct mstore *s, const char *name, const char **error_r);
/* 1 deleted, 0 no such, -1 error (INBOX, "Public", a \Noselect name with
 * children). Deleting a folder with children removes its messages and
 * leaves it a \Noselect parent (RFC 9051 6.3.4). Subscriptions stay. */
int mstore_delete(struct mstore *s, const char *name, const char **error_r);
/* Children move too; the target's missing parents are created. RENAME
 * INBOX moves INBOX's messages into the new folder and leaves INBOX empty
 * (its children stay). 1 done, 0 no such source, -1 error (target exists,
 * target inside source, across namespaces, invalid names). */
int mstore_rename(struct mstore *s, const char *from, const char *to,
		  const char **error_r);
/* Adds or removes name in the subscription list (any valid name, existing
 * or not). 1 or -1. */
int mstore_subscribe(struct mstore *s, const char *name, bool on,
		     const char **error_r);

struct mstore_status {
	uint32_t messages, recent, unseen, deleted;
	uint32_t uidnext, uidvalidity;
	uint64_t size, highestmodseq;
	char mailboxid[40];
};
/* STATUS without selecting: picks up new mail (claims no \Recent: recent
 * counts messages no session has claimed yet). 1, 0 no such / \Noselect,
 * -1 error. */
int mstore_status(struct mstore *s, const char *name, struct mstore_status *st,
		  const char **error_r);

struct mstore_msg {
	uint32_t uid;
	uint32_t flags;	   /* MSTORE_F_* */
	uint32_t keywords; /* bit i = keyword i of mstore_keywords() */
	uint64_t modseq;
	/* RFC822.SIZE: the size after turning each LF not preceded by CR
	 * into CRLF (how imapd serves the LF file) */
	uint64_t size;
	int64_t internaldate; /* seconds */
	char emailid[28];
};
struct mstore_mailbox;
/* readonly: EXAMINE (claims no \Recent, moves nothing from new/, refuses
 * flag changes and expunges). A writer handle claims \Recent for every
 * message no other writer claimed before it. 1, 0 = no such / \Noselect,
 * -1 error. The handle's view (messages, flags, status) changes only in
 * mstore_mailbox_sync() and by this handle's own flag changes and
 * expunges. */
int mstore_mailbox_open(struct mstore *s, const char *name, bool readonly,
			struct mstore_mailbox **mb_r, const char **error_r);
void mstore_mailbox_close(struct mstore_mailbox **mbp);
/* Picks up new mail, external flag changes, expunges by others (compare
 * the arrays before and after to find them); returns 1 or -1. After -1
 * (e.g. the mailbox was deleted, or its index lost: UIDVALIDITY changed)
 * the caller should close the handle. */
int mstore_mailbox_sync(struct mstore_mailbox *mb, const char **error_r);
/* The current messages in UID order (valid until the next call that
 * changes the mailbox: sync, store_flags, expunge, close). */
const struct mstore_msg *mstore_messages(const struct mstore_mailbox *mb,
					 size_t *count_r);
/* Index of uid in that array or -1 (binary search). */
long mstore_find(const struct mstore_mailbox *mb, uint32_t uid);
/* Counts of the view; uidnext and highestmodseq as of the last sync. */
void mstore_mailbox_status(const struct mstore_mailbox *mb,
			   struct mstore_status *st);
/* Keyword names (index = bit); *count_r <= 26. Names stay valid until
 * close; indexes never change while the UIDVALIDITY stays. */
const char *const *mstore_keywords(const struct mstore_mailbox *mb,
				   size_t *count_r);
/* Index of keyword (case-insensitive), adding it when create; -1 when
 * full/invalid (not an IMAP atom, starts with '\', over
 * MSTORE_KEYWORD_LEN_MAX bytes) or on a write error. */
int mstore_keyword_index(struct mstore_mailbox *mb, const char *name,
			 bool create);

/* Message content: replaces out with the whole file (LF form as stored).
 * 1, 0 = expunged meanwhile (or not in the mailbox), -1 error. */
int mstore_msg_read(struct mstore_mailbox *mb, uint32_t uid, struct str *out,
		    const char **error_r);

enum mstore_flag_mode {
	MSTORE_FLAGS_SET,
	MSTORE_FLAGS_ADD,
	MSTORE_FLAGS_REMOVE
};
/* Changes flags (RECENT ignored) of the given uids (sorted); unchangedsince:
 * 0 = none, else (CONDSTORE) messages whose modseq is higher are left alone
 * and listed in *failed_r (caller frees; may be NULL). Bumps modseq of each
 * changed message (unchanged ones keep theirs); uids expunged meanwhile are
 * skipped. The view's entries get the messages' current flags and modseqs.
 * Returns 1 or -1. */
int mstore_store_flags(struct mstore_mailbox *mb, const uint32_t *uids,
		       size_t count, enum mstore_flag_mode mode, uint32_t flags,
		       uint32_t keywords, uint64_t unchangedsince,
		       uint32_t **failed_r, size_t *failed_count_r,
		       const char **error_r);
/* Removes the given uids (or, uids NULL, every \Deleted one of the view);
 * *expunged_r gets the uids actually removed (sorted; caller frees; NULL
 * when none). They leave the view too. */
int mstore_expunge(struct mstore_mailbox *mb, const uint32_t *uids,
		   size_t count, uint32_t **expunged_r,
		   size_t *expunged_count_r, const char **error_r);
/* APPEND: data in CRLF or LF form (stored as LF), flags/keywords as given
 * (keyword names resolved by the caller through mstore_keyword_index on the
 * destination mailbox handle; unknown ones are added, invalid ones or ones
 * past 26 dropped), internaldate (0 = now). Opens the destination by name
 * itself; returns the new uid and the destination's uidvalidity
 * (APPENDUID). 0 = no such mailbox. */
int mstore_append(struct mstore *s, const char *name, const void *data,
		  size_t len, uint32_t flags, const char *const *keywords,
		  size_t keyword_count, int64_t internaldate,
		  uint32_t *uidvalidity_r, uint32_t *uid_r,
		  const char **error_r);
/* COPY (hard links, or a copy across file systems; flags and keywords
 * kept, keyword names mapped; EMAILID, size and internal date kept); new
 * uids in new_uids_r (same order as uids; caller frees). 0 = no such
 * destination; -1 also when some uid is not (any more) in src. */
int mstore_copy(struct mstore_mailbox *src, const uint32_t *uids, size_t count,
		const char *dest, uint32_t *uidvalidity_r,
		uint32_t **new_uids_r, const char **error_r);

/* Cache blobs (opaque to the store). get: 1 found (data valid until the
 * next call on mb), 0 not cached. put: best effort (returns 1 or -1); a
 * blob larger than MSTORE_CACHE_BLOB_MAX is refused. Puts reach the index
 * at the next sync or close. */
enum mstore_cache_field {
	MSTORE_CACHE_ENVELOPE,
	MSTORE_CACHE_BODY,
	MSTORE_CACHE_BODYSTRUCTURE,
	MSTORE_CACHE_HEADER,
	MSTORE_CACHE_FIELDS
};
#define MSTORE_CACHE_FIELD_COUNT 5
int mstore_cache_get(struct mstore_mailbox *mb, uint32_t uid,
		     enum mstore_cache_field f, const char **data_r,
		     size_t *len_r);
int mstore_cache_put(struct mstore_mailbox *mb, uint32_t uid,
		     enum mstore_cache_field f, const void *data, size_t len);

/* An inotify descriptor (non-blocking, close-on-exec, owned by mb) that
 * becomes readable when something in the mailbox may have changed (new
 * mail, renames, index rewrite). Call mstore_notify_drain() after it fired,
 * then mstore_mailbox_sync(). -1 if unavailable. */
int mstore_notify_fd(struct mstore_mailbox *mb);
void mstore_notify_drain(struct mstore_mailbox *mb);

#endif
