/* mstore_maildir_util.c: small pieces of the Maildir++ store backend:
 * locks, the ":2,FLAGS" info of file names, new unique names and IDs,
 * removing a folder tree, the per-root UIDVALIDITY counter. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "file.h"
#include "mem.h"
#include "mstore_internal.h"
#include "num.h"

#define LOCK_WAIT_MS 30000
#define TREE_DEPTH_MAX 3

/* flock with a deadline: a hung peer must not block this process forever. */
static int flock_wait(int fd)
{
	int64_t deadline = (int64_t)event_clock_ms() + LOCK_WAIT_MS;
	long sleep_us = 500;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if ((int64_t)event_clock_ms() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct timespec ts = {0, sleep_us * 1000};
		nanosleep(&ts, NULL);
		if (sleep_us < 20000)
			sleep_us *= 2;
	}
}

int mdir_lock_path(struct mstore *s, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return mstore_error_sys(s, "open lock file", path);
	if (flock_wait(fd) < 0) {
		mstore_error_sys(s, "lock", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Locks mb's lock file; a lock file replaced meanwhile (the folder was
 * deleted and made again) is opened afresh so the lock means something. */
int mdir_lock(struct mdir_mailbox *mb)
{
	struct stat a, b;
	struct str p;
	int r = -1;

	if (mb->locked++ > 0)
		return 1;
	str_init(&p, 0);
	str_printf(&p, "%s/" MDIR_LOCK, mb->path);
	for (int tries = 0; r < 0 && tries < 3; tries++) {
		if (mb->lock_fd < 0)
			mb->lock_fd = open(
			    p.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (mb->lock_fd < 0) {
			mstore_error_sys(mb->pub.s, "open lock file", p.data);
			break;
		}
		if (flock_wait(mb->lock_fd) < 0) {
			mstore_error_sys(mb->pub.s, "lock", p.data);
			break;
		}
		if (fstat(mb->lock_fd, &a) == 0 && stat(p.data, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			r = 1;
			break;
		}
		close(mb->lock_fd);
		mb->lock_fd = -1;
	}
	if (r < 0 && mb->pub.s->err.len == 0)
		mstore_error(mb->pub.s, "lock %s: lock file keeps changing",
			     p.data);
	str_deinit(&p);
	if (r < 0)
		mb->locked = 0;
	return r;
}

void mdir_unlock(struct mdir_mailbox *mb)
{
	if (mb->locked == 0 || --mb->locked > 0)
		return;
	if (mb->lock_fd >= 0)
		(void)flock(mb->lock_fd, LOCK_UN);
}

void mdir_info_parse(const char *name, size_t len, size_t base_len,
		     size_t keyword_count, uint32_t *flags_r,
		     uint32_t *keywords_r)
{
	uint32_t flags = 0, kw = 0;

	if (len - base_len >= 3 && memcmp(name + base_len, ":2,", 3) == 0) {
		for (size_t i = base_len + 3; i < len; i++) {
			char c = name[i];

			if (c == 'D')
				flags |= MSTORE_F_DRAFT;
			else if (c == 'F')
				flags |= MSTORE_F_FLAGGED;
			else if (c == 'R')
				flags |= MSTORE_F_ANSWERED;
			else if (c == 'S')
				flags |= MSTORE_F_SEEN;
			else if (c == 'T')
				flags |= MSTORE_F_DELETED;
			else if (c >= 'a' && c <= 'z' &&
				 (size_t)(c - 'a') < keyword_count)
				kw |= 1u << (c - 'a');
		}
	}
	*flags_r = flags;
	*keywords_r = kw;
}

void mdir_name_build(struct str *out, const char *base, size_t base_len,
		     uint32_t flags, uint32_t keywords, const char *old_name,
		     size_t old_len)
{
	bool upper[26] = {false};
	const char *info;

	/* other software's upper-case flags (P: passed, ...) survive */
	info = old_name != NULL ? memchr(old_name, ':', old_len) : NULL;
	if (info != NULL && old_len - (size_t)(info - old_name) >= 3 &&
	    memcmp(info, ":2,", 3) == 0)
		for (const char *p = info + 3; p < old_name + old_len; p++)
			if (*p >= 'A' && *p <= 'Z')
				upper[*p - 'A'] = true;
	upper['D' - 'A'] = (flags & MSTORE_F_DRAFT) != 0;
	upper['F' - 'A'] = (flags & MSTORE_F_FLAGGED) != 0;
	upper['R' - 'A'] = (flags & MSTORE_F_ANSWERED) != 0;
	upper['S' - 'A'] = (flags & MSTORE_F_SEEN) != 0;
	upper['T' - 'A'] = (flags & MSTORE_F_DELETED) != 0;
	str_clear(out);
	str_append(out, base, base_len);
	str_append_cstr(out, ":2,");
	for (int i = 0; i < 26; i++)
		if (upper[i])
			str_putc(out, 'A' + i);
	for (int i = 0; i < MSTORE_KEYWORD_MAX; i++)
		if (keywords & (1u << i))
			str_putc(out, 'a' + i);
}

void mdir_random_hex(char *out, size_t hex_digits)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[32];
	size_t n = (hex_digits + 1) / 2, got = 0;

	if (n > sizeof(buf))
		n = sizeof(buf);
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* no entropy source: uniqueness is what matters */
			uint64_t x = event_clock_ms() ^
				     ((uint64_t)getpid() << 32) ^
				     (uintptr_t)out;
			for (; got < n;
			     got++, x = x * 6364136223846793005ULL + 1)
				buf[got] = (unsigned char)(x >> 56);
			break;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < hex_digits && i / 2 < n; i++)
		out[i] = hex[(buf[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	out[hex_digits] = '\0';
}

void mdir_base_new(struct str *out, const char *hostname)
{
	struct timeval tv;
	char rnd[17];

	gettimeofday(&tv, NULL);
	mdir_random_hex(rnd, 16);
	str_clear(out);
	str_printf(out, "%lld.M%06ldP%ldR%s.", (long long)tv.tv_sec,
		   (long)tv.tv_usec, (long)getpid(), rnd);
	for (const char *h = hostname; *h != '\0'; h++) {
		unsigned char c = (unsigned char)*h;

		if (c == '/')
			str_append_cstr(out, "\\057");
		else if (c == ':')
			str_append_cstr(out, "\\072");
		else
			str_putc(out, c <= 0x20 || c >= 0x7f ? '_' : c);
	}
}

/* Derived from the base name, so a rebuilt index gives the same EMAILID
 * (base names are unique per mailbox and carry the delivery key). */
void mdir_emailid(const char *base, size_t len, char out[28])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(base, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 12) {
		out[0] = 'E';
		mdir_random_hex(out + 1, 24);
		return;
	}
	out[0] = 'E';
	for (size_t i = 0; i < 24; i++)
		out[1 + i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	out[25] = '\0';
}

static int remove_at(int dirfd, const char *name, int depth)
{
	int fd = openat(dirfd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	struct stat st;
	DIR *d;
	int r = 0;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode))
			r = unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT
				? -1
				: 0;
		else if (depth < TREE_DEPTH_MAX)
			r = remove_at(fd, e->d_name, depth + 1);
		else
			r = (errno = ENOTEMPTY, -1);
	}
	closedir(d);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		r = -1;
	return r;
}

int mdir_remove_tree(struct mstore *s, const char *path)
{
	if (remove_at(AT_FDCWD, path, 1) < 0)
		return mstore_error_sys(s, "remove", path);
	return 1;
}

static uint32_t counter_read(const char *path)
{
	struct str buf;
	const char *err;
	uint64_t v = 0;

	str_init(&buf, 32);
	if (file_read_all(path, &buf, 64, &err) > 0) {
		while (buf.len > 0 && buf.data[buf.len - 1] == '\n')
			buf.len--;
		if (num_parse_u64(buf.data, buf.len, UINT32_MAX, &v) <= 0)
			v = 0;
	}
	str_deinit(&buf);
	return (uint32_t)v;
}

uint32_t mdir_uidvalidity_next(struct mstore *s, const char *root,
			       uint32_t floor)
{
	struct str lock, path, val;
	uint64_t next = (uint64_t)time(NULL), last;
	const char *err;
	int fd;

	str_init(&lock, 0);
	str_init(&path, 0);
	str_init(&val, 16);
	str_printf(&lock, "%s/" MDIR_ROOT_LOCK, root);
	str_printf(&path, "%s/" MDIR_UIDVALIDITY, root);
	fd = mdir_lock_path(s, lock.data);
	if (fd >= 0) {
		last = counter_read(path.data);
		if (last < floor)
			last = floor;
		if (next <= last)
			next = last + 1;
		if (next > UINT32_MAX) {
			mstore_error(s, "%s: UIDVALIDITY exhausted", root);
			next = 0;
		} else {
			str_printf(&val, "%llu\n", (unsigned long long)next);
			if (file_write_atomic(path.data, val.data, val.len,
					      0600, &err) < 0) {
				mstore_error(s, "%s", err);
				next = 0;
			}
		}
		close(fd);
	} else {
		next = 0;
	}
	str_deinit(&lock);
	str_deinit(&path);
	str_deinit(&val);
	return (uint32_t)next;
}

uint64_t mdir_crlf_size(const char *data, size_t len, bool *cr_r)
{
	uint64_t size = len;
	bool cr = *cr_r;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && !cr)
			size++;
		cr = data[i] == '\r';
	}
	*cr_r = cr;
	return size;
}
