/* maildir_quota.c: how full a Maildir is (maildir_quota.h), kept in the Maildir++ "maildirsize"
 * file that Courier and Dovecot also read: a first line with the limit
 * ("51200000S"), then lines "BYTES COUNT", one written by each
 * recalculation and one appended by each delivery. The sum is trusted
 * only to say "there is room": before a delivery is refused, and whenever
 * the file has grown past MAILDIRSIZE_MAX or names another limit, the
 * Maildir is measured again (every file in cur/ and new/ of the Maildir
 * and of its .Folder subfolders), because IMAP expunges do not update
 * the file. So the check costs one small read per delivery, and a scan
 * only every few dozen deliveries or when the mailbox looks full. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "maildir_quota.h"
#include "num.h"
#include "str.h"

#define MAILDIRSIZE_MAX 5120

static char quota_errbuf[512];

static int quota_fail(const char *what, const char *path, const char **error_r)
{
	snprintf(quota_errbuf, sizeof(quota_errbuf), "%s %s: %s", what, path,
		 strerror(errno));
	*error_r = quota_errbuf;
	return -1;
}

/* Adds the sizes of the files in dir (missing: nothing). */
static int scan_dir(const char *dir, uint64_t *bytes, uint64_t *count,
		    const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (d == NULL)
		return errno == ENOENT ? 1 : quota_fail("open", dir, error_r);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    !S_ISREG(st.st_mode))
			continue; /* expunged meanwhile, or not a message */
		*bytes += (uint64_t)st.st_size;
		*count += 1;
	}
	closedir(d);
	return 1;
}

/* cur/ and new/ of the folder at path. */
static int scan_folder(const char *path, uint64_t *bytes, uint64_t *count,
		       const char **error_r)
{
	struct str p;
	int r;

	str_init(&p, 128);
	str_printf(&p, "%s/cur", path);
	r = scan_dir(p.data, bytes, count, error_r);
	str_clear(&p);
	str_printf(&p, "%s/new", path);
	if (r > 0)
		r = scan_dir(p.data, bytes, count, error_r);
	str_deinit(&p);
	return r;
}

static int measure(const char *maildir, uint64_t *bytes, uint64_t *count,
		   const char **error_r)
{
	DIR *d;
	struct dirent *e;
	struct str p;
	int r;

	*bytes = *count = 0;
	if ((r = scan_folder(maildir, bytes, count, error_r)) < 0)
		return -1;
	if ((d = opendir(maildir)) == NULL)
		return errno == ENOENT ? 1
				       : quota_fail("open", maildir, error_r);
	str_init(&p, 128);
	while (r > 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		str_clear(&p);
		str_printf(&p, "%s/%s", maildir, e->d_name);
		r = scan_folder(p.data, bytes, count, error_r);
	}
	closedir(d);
	str_deinit(&p);
	return r;
}

/* The sum in maildirsize when it is usable for limit: 1, else 0. */
static int read_cache(const char *file, uint64_t limit, uint64_t *bytes_r)
{
	char buf[MAILDIRSIZE_MAX + 1], want[32];
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	char *line, *save = NULL;
	int64_t sum = 0;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n > MAILDIRSIZE_MAX)
		return 0;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%lluS", (unsigned long long)limit);
	line = strtok_r(buf, "\n", &save);
	if (line == NULL || strcmp(line, want) != 0)
		return 0;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		long long b, c;

		if (sscanf(line, "%lld %lld", &b, &c) != 2)
			return 0;
		sum += b;
	}
	*bytes_r = sum < 0 ? 0 : (uint64_t)sum;
	return 1;
}

static void write_cache(const char *file, uint64_t limit, uint64_t bytes,
			uint64_t count)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%lluS\n%llu %llu\n",
			 (unsigned long long)limit, (unsigned long long)bytes,
			 (unsigned long long)count);
	const char *err;

	(void)file_write_atomic(file, buf, (size_t)n, 0600, &err);
}

int maildir_quota_room(const char *maildir, uint64_t limit, uint64_t size,
		       const char **error_r)
{
	struct str file;
	uint64_t bytes = 0, count = 0;
	int r = 1;

	str_init(&file, 128);
	str_printf(&file, "%s/maildirsize", maildir);
	if (read_cache(file.data, limit, &bytes) > 0 && bytes + size <= limit) {
		str_deinit(&file);
		return 1;
	}
	if (measure(maildir, &bytes, &count, error_r) < 0)
		r = -1;
	else
		write_cache(file.data, limit, bytes, count);
	str_deinit(&file);
	if (r < 0)
		return -1;
	return bytes + size <= limit ? 1 : 0;
}

void maildir_quota_add(const char *maildir, uint64_t bytes)
{
	struct str file;
	char line[64];
	int fd, n;

	str_init(&file, 128);
	str_printf(&file, "%s/maildirsize", maildir);
	fd = open(file.data, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		/* one write(2) of a short line: appends do not interleave */
		n = snprintf(line, sizeof(line), "%llu 1\n",
			     (unsigned long long)bytes);
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	str_deinit(&file);
}
