/* dict_dbfile.h: what the file-backed table backends share (dict_db.c for
 * hash: and btree:, dict_lmdb.c for lmdb:): the writer protocol that keeps
 * readers safe, and the stored form of keys and values.
 *
 * Writer protocol (every change: a build, an update, a delete):
 * - A live table file is never modified in place. The writer produces a
 *   complete new file NAME.tmpPID in the same directory, fsyncs it, renames
 *   it over NAME and fsyncs the directory. A reader keeps the inode it
 *   opened and sees one consistent snapshot, old or new, so readers take
 *   no locks (and LMDB readers may run with MDB_NOLOCK).
 * - Writers serialize on an exclusive flock(2) on the live file, held from
 *   begin to commit/abort. Once the lock is granted the writer checks that
 *   NAME still names the inode it locked (a writer that ran meanwhile has
 *   renamed a new file over it) and locks again if not.
 *
 * Stored form: keys and values include their terminating NUL, as Postfix
 * writes them by default on Linux, so tables built by postmap can be read
 * here and the other way round. Readers also accept entries stored without
 * the NUL (postmap -n): see struct dict_dbfile_nul. */
#ifndef POSTERN_DICT_DBFILE_H
#define POSTERN_DICT_DBFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "str.h"

struct dict_dbfile_writer {
	char *path;  /* the live file NAME */
	char *tmp;   /* NAME.tmpPID, created by the backend */
	int lock_fd; /* NAME locked exclusively, or -1 when NAME did not exist
		      */
	mode_t mode; /* permissions of the new file */
	bool chown;  /* running as root: give the new file uid/gid */
	uid_t uid;
	gid_t gid;
	struct str error;
};

/* Locks the live file path (when it exists), removes a stale temporary of
 * the same name and picks the new file's mode: that of mode_from when it
 * exists (a build: the source file), else that of the live file, else 0644
 * less the umask. As root the new file also gets the owner of that file.
 * Returns 1, or -1 with *error_r (valid until dict_dbfile_writer_free()).
 * Call dict_dbfile_writer_free() after either outcome. */
int dict_dbfile_writer_begin(struct dict_dbfile_writer *w, const char *path,
			     const char *mode_from, const char **error_r);
/* Copies the live file to the temporary byte for byte (an update or delete
 * then edits the copy). Returns 1 or -1. */
int dict_dbfile_writer_copy_live(struct dict_dbfile_writer *w,
				 const char **error_r);
/* The backend has closed the temporary: applies mode and owner, fsyncs it,
 * renames it over the live file, fsyncs the directory, unlocks. Returns 1,
 * or -1 with the temporary removed and the live file untouched. */
int dict_dbfile_writer_commit(struct dict_dbfile_writer *w,
			      const char **error_r);
/* Removes the temporary (if any) and unlocks. */
void dict_dbfile_writer_abort(struct dict_dbfile_writer *w);
/* A change to a live table, the whole protocol: begin, copy the live file,
 * apply(ctx, tmp) edits the copy, commit. apply returns 1 (changed: publish),
 * 0 (nothing to change: e.g. the key to delete is absent) or -1 (its error
 * text already in errbuf). Returns apply's result, or -1 with *error_r
 * pointing into errbuf (the caller's, so it outlives this call). */
int dict_dbfile_modify(const char *path,
		       int (*apply)(void *ctx, const char *tmp), void *ctx,
		       struct str *errbuf, const char **error_r);
/* Frees what begin allocated (after commit or abort). */
void dict_dbfile_writer_free(struct dict_dbfile_writer *w);

/* The key to store or look up: key folded to lower case into buf unless
 * flags has DICT_FLAG_NO_FOLD (then key itself). */
const char *dict_dbfile_fold(struct str *buf, const char *key, int flags);

/* Which stored forms a reader still tries; it learns from the first hit,
 * as one file holds one form. */
enum dict_dbfile_nul {
	DICT_DBFILE_WITH_NUL = 1 << 0,
	DICT_DBFILE_WITHOUT_NUL = 1 << 1,
};

/* Copies a stored key or value (len bytes, maybe ending in NUL) into out
 * without its NUL; cuts at an embedded NUL, which a valid table does not
 * have. */
void dict_dbfile_unstore(struct str *out, const void *data, size_t len);

/* Before a backend opens path: fails with a clear "open PATH: ..." for a
 * missing file, a directory or other non-regular file, and an empty file.
 * On success sets *size_r. Returns 1 or -1 with the text in err. */
int dict_dbfile_check_path(const char *path, unsigned long long *size_r,
			   struct str *err);

/* Checks that the file behind fd is at least need bytes long, so that a
 * truncated table gives an error instead of a fault. Returns 1 or -1 with
 * "path: file is truncated (...)" in err. */
int dict_dbfile_check_size(int fd, const char *path, unsigned long long need,
			   struct str *err);

#endif
