/* file.h: durable and safe file operations.
 *
 * "Durable" means: data fsync'd, then the directory entry fsync'd, so that a
 * crash after the call returns cannot lose the file. Functions return 1 on
 * success and -1 on error with *error_r pointing to a message that stays
 * valid until the next call into this module. */
#ifndef POSTERN_FILE_H
#define POSTERN_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "str.h"

/* Writes all of buf to fd, retrying short writes and EINTR. */
int file_write_all(int fd, const void *buf, size_t len, const char **error_r);
/* fsyncs the directory that holds path. */
int file_fsync_parent(const char *path, const char **error_r);
/* rename(from, to), then fsync of the destination directory (and of the
 * source directory when it differs). */
int file_rename_durable(const char *from, const char *to, const char **error_r);
/* Replaces path atomically: writes path.tmpPID with mode, fsyncs it,
 * renames it over path and fsyncs the directory. Readers see the old or the
 * new content, never a mix. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, const char **error_r);
/* Opens without following a final symlink (O_NOFOLLOW), and checks that the
 * result is a regular file with one link and, when owner is not (uid_t)-1,
 * owned by owner. Returns the fd or -1. */
int file_open_safe(const char *path, int flags, mode_t mode, uid_t owner,
		   const char **error_r);
/* Reads a whole regular file (symlinks followed: for config and tables) into
 * out (appended); fails if it is larger than max bytes (0 = no limit). */
int file_read_all(const char *path, struct str *out, size_t max,
		  const char **error_r);

#endif
