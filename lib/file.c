/* file.c: durable writes and safe opens (see file.h). The queue, the table
 * builder and `postern conf -e` all write files through here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"

static char file_errbuf[1024];

static int file_fail(const char **error_r, const char *what, const char *path)
{
	snprintf(file_errbuf, sizeof(file_errbuf), "%s %s: %s", what, path,
		 strerror(errno));
	*error_r = file_errbuf;
	return -1;
}

int file_write_all(int fd, const void *buf, size_t len, const char **error_r)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return file_fail(error_r, "write", "file");
		}
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static char *file_dirname(const char *path)
{
	char *copy = mem_strdup(path);
	char *dir = mem_strdup(dirname(copy));

	mem_free(copy);
	return dir;
}

static int file_fsync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 1;

	if (fd < 0)
		return file_fail(error_r, "open directory", dir);
	if (fsync(fd) < 0)
		ret = file_fail(error_r, "fsync directory", dir);
	close(fd);
	return ret;
}

int file_fsync_parent(const char *path, const char **error_r)
{
	char *dir = file_dirname(path);
	int ret = file_fsync_dir(dir, error_r);

	mem_free(dir);
	return ret;
}

int file_rename_durable(const char *from, const char *to, const char **error_r)
{
	char *d_from, *d_to;
	int ret;

	if (rename(from, to) < 0)
		return file_fail(error_r, "rename to", to);
	d_from = file_dirname(from);
	d_to = file_dirname(to);
	ret = file_fsync_dir(d_to, error_r);
	if (ret > 0 && strcmp(d_from, d_to) != 0)
		ret = file_fsync_dir(d_from, error_r);
	mem_free(d_from);
	mem_free(d_to);
	return ret;
}

int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, const char **error_r)
{
	struct str tmp;
	int fd, ret = -1;

	str_init(&tmp, 0);
	str_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		file_fail(error_r, "create", tmp.data);
		goto out;
	}
	if (fchmod(fd, mode) < 0)
		file_fail(error_r, "chmod", tmp.data);
	else if (file_write_all(fd, data, len, error_r) < 0)
		;
	else if (fsync(fd) < 0)
		file_fail(error_r, "fsync", tmp.data);
	else
		ret = 0;
	if (close(fd) < 0 && ret == 0)
		ret = file_fail(error_r, "close", tmp.data);
	if (ret == 0)
		ret = file_rename_durable(tmp.data, path, error_r);
	if (ret < 0) {
		int saved = errno;
		unlink(tmp.data);
		errno = saved;
	}
out:
	str_deinit(&tmp);
	return ret < 0 ? -1 : 1;
}

int file_open_safe(const char *path, int flags, mode_t mode, uid_t owner,
		   const char **error_r)
{
	struct stat st;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);

	if (fd < 0)
		return file_fail(error_r, "open", path);
	if (fstat(fd, &st) < 0) {
		file_fail(error_r, "fstat", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (owner != (uid_t)-1 && st.st_uid != owner)) {
		snprintf(file_errbuf, sizeof(file_errbuf),
			 "open %s: not a regular file with one link%s", path,
			 owner != (uid_t)-1 ? " owned by the expected user" : "");
		*error_r = file_errbuf;
		close(fd);
		return -1;
	}
	return fd;
}

int file_read_all(const char *path, struct str *out, size_t max,
		  const char **error_r)
{
	char buf[65536];
	struct stat st;
	size_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return file_fail(error_r, "open", path);
	if (fstat(fd, &st) < 0) {
		file_fail(error_r, "fstat", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		file_fail(error_r, "read (not a regular file)", path);
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_fail(error_r, "read", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (max != 0 && total > max) {
			snprintf(file_errbuf, sizeof(file_errbuf),
				 "read %s: file larger than %zu bytes", path, max);
			*error_r = file_errbuf;
			close(fd);
			return -1;
		}
		str_append(out, buf, (size_t)n);
	}
	close(fd);
	return 1;
}
