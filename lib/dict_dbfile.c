/* dict_dbfile.c: the writer protocol and the stored form shared by the
 * file-backed table backends (see dict_dbfile.h for the why). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "dict_dbfile.h"
#include "file.h"
#include "mem.h"

/* A writer that keeps losing the race to other writers gives up. */
#define DBFILE_LOCK_TRIES 100
#define DBFILE_COPY_BUF (256 * 1024)

static int dbfile_fail(struct dict_dbfile_writer *w, const char **error_r,
		       const char *what, const char *path)
{
	str_clear(&w->error);
	str_printf(&w->error, "%s %s: %s", what, path, strerror(errno));
	*error_r = w->error.data;
	return -1;
}

/* Locks the file that path names now; see the writer protocol. */
static int dbfile_lock_live(struct dict_dbfile_writer *w, const char **error_r)
{
	struct stat fst, pst;

	for (int i = 0; i < DBFILE_LOCK_TRIES; i++) {
		int fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd < 0 && errno == ENOENT)
			return 1;
		if (fd < 0)
			return dbfile_fail(w, error_r, "open", w->path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				dbfile_fail(w, error_r, "lock", w->path);
				close(fd);
				return -1;
			}
		}
		if (fstat(fd, &fst) == 0 && stat(w->path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino) {
			w->lock_fd = fd;
			return 1;
		}
		close(fd);
	}
	errno = EAGAIN;
	return dbfile_fail(w, error_r, "lock (too many concurrent writers)",
			   w->path);
}

/* Picks mode and owner from the first of mode_from, the live file. */
static void dbfile_pick_mode(struct dict_dbfile_writer *w,
			     const char *mode_from)
{
	struct stat st;
	mode_t mask;

	if ((mode_from != NULL && stat(mode_from, &st) == 0) ||
	    stat(w->path, &st) == 0) {
		w->mode = st.st_mode & 07777;
		w->uid = st.st_uid;
		w->gid = st.st_gid;
		w->chown = geteuid() == 0;
		return;
	}
	mask = umask(022);
	umask(mask);
	w->mode = 0644 & ~mask;
}

int dict_dbfile_writer_begin(struct dict_dbfile_writer *w, const char *path,
			     const char *mode_from, const char **error_r)
{
	memset(w, 0, sizeof(*w));
	w->lock_fd = -1;
	str_init(&w->error, 128);
	w->path = mem_strdup(path);
	{
		struct str tmp;

		str_init(&tmp, strlen(path) + 24);
		str_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
		w->tmp = str_steal(&tmp);
		str_deinit(&tmp);
	}
	if (dbfile_lock_live(w, error_r) < 0)
		return -1;
	dbfile_pick_mode(w, mode_from);
	/* A temporary of our own PID is a leftover of a crashed process. */
	if (unlink(w->tmp) < 0 && errno != ENOENT) {
		dbfile_fail(w, error_r, "remove stale", w->tmp);
		dict_dbfile_writer_abort(w);
		return -1;
	}
	return 1;
}

static int dbfile_copy_fd(struct dict_dbfile_writer *w, int in, int out,
			  const char **error_r)
{
	char *buf = mem_alloc(DBFILE_COPY_BUF);
	int ret = 1;

	for (;;) {
		ssize_t n = read(in, buf, DBFILE_COPY_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = dbfile_fail(w, error_r, "read", w->path);
			break;
		}
		if (n == 0)
			break;
		if (file_write_all(out, buf, (size_t)n, error_r) < 0) {
			ret = dbfile_fail(w, error_r, "write", w->tmp);
			break;
		}
	}
	mem_free(buf);
	return ret;
}

int dict_dbfile_writer_copy_live(struct dict_dbfile_writer *w,
				 const char **error_r)
{
	int in, out, ret;

	in = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return dbfile_fail(w, error_r, "open", w->path);
	out = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   0600);
	if (out < 0) {
		ret = dbfile_fail(w, error_r, "create", w->tmp);
		close(in);
		return ret;
	}
	ret = dbfile_copy_fd(w, in, out, error_r);
	close(in);
	if (close(out) < 0 && ret > 0)
		ret = dbfile_fail(w, error_r, "close", w->tmp);
	return ret;
}

/* Applies mode and owner to the closed temporary and makes it durable. */
static int dbfile_finish_tmp(struct dict_dbfile_writer *w, const char **error_r)
{
	int fd = open(w->tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	int ret = 1;

	if (fd < 0)
		return dbfile_fail(w, error_r, "open", w->tmp);
	if (w->chown && fchown(fd, w->uid, w->gid) < 0)
		ret = dbfile_fail(w, error_r, "chown", w->tmp);
	else if (fchmod(fd, w->mode) < 0)
		ret = dbfile_fail(w, error_r, "chmod", w->tmp);
	else if (fsync(fd) < 0)
		ret = dbfile_fail(w, error_r, "fsync", w->tmp);
	close(fd);
	return ret;
}

int dict_dbfile_writer_commit(struct dict_dbfile_writer *w,
			      const char **error_r)
{
	const char *err;

	if (dbfile_finish_tmp(w, error_r) < 0) {
		dict_dbfile_writer_abort(w);
		return -1;
	}
	if (file_rename_durable(w->tmp, w->path, &err) < 0) {
		str_clear(&w->error);
		str_append_cstr(&w->error, err);
		*error_r = w->error.data;
		dict_dbfile_writer_abort(w);
		return -1;
	}
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	w->lock_fd = -1;
	return 1;
}

void dict_dbfile_writer_abort(struct dict_dbfile_writer *w)
{
	if (w->tmp != NULL)
		(void)unlink(w->tmp);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	w->lock_fd = -1;
}

void dict_dbfile_writer_free(struct dict_dbfile_writer *w)
{
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	w->lock_fd = -1;
	mem_free(w->path);
	mem_free(w->tmp);
	str_deinit(&w->error);
}

int dict_dbfile_modify(const char *path,
		       int (*apply)(void *ctx, const char *tmp), void *ctx,
		       struct str *errbuf, const char **error_r)
{
	struct dict_dbfile_writer w;
	const char *err = NULL;
	int ret = -1;

	if (dict_dbfile_writer_begin(&w, path, NULL, &err) < 0 ||
	    dict_dbfile_writer_copy_live(&w, &err) < 0) {
		str_set(errbuf, err, strlen(err));
		dict_dbfile_writer_abort(&w);
	} else if ((ret = apply(ctx, w.tmp)) <= 0) {
		dict_dbfile_writer_abort(&w);
	} else if (dict_dbfile_writer_commit(&w, &err) < 0) {
		str_set(errbuf, err, strlen(err));
		ret = -1;
	}
	dict_dbfile_writer_free(&w);
	if (ret < 0)
		*error_r = errbuf->data;
	return ret;
}

const char *dict_dbfile_fold(struct str *buf, const char *key, int flags)
{
	if (flags & DICT_FLAG_NO_FOLD)
		return key;
	str_set(buf, key, strlen(key));
	str_lower(buf);
	return buf->data;
}

void dict_dbfile_unstore(struct str *out, const void *data, size_t len)
{
	const char *nul = memchr(data, '\0', len);

	if (nul != NULL)
		len = (size_t)(nul - (const char *)data);
	str_set(out, data, len);
}

int dict_dbfile_check_path(const char *path, unsigned long long *size_r,
			   struct str *err)
{
	struct stat st;

	str_clear(err);
	if (stat(path, &st) < 0) {
		str_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		str_printf(err, "open %s: not a regular file", path);
		return -1;
	}
	if (st.st_size == 0) {
		str_printf(err,
			   "open %s: empty file, not a table: rebuild it "
			   "with postern map",
			   path);
		return -1;
	}
	*size_r = (unsigned long long)st.st_size;
	return 1;
}

int dict_dbfile_check_size(int fd, const char *path, unsigned long long need,
			   struct str *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		str_clear(err);
		str_printf(err, "fstat %s: %s", path, strerror(errno));
		return -1;
	}
	if ((unsigned long long)st.st_size < need) {
		str_clear(err);
		str_printf(err,
			   "%s: file is truncated or corrupt (%lld bytes, "
			   "needs %llu): rebuild it with postern map",
			   path, (long long)st.st_size, need);
		return -1;
	}
	return 1;
}
