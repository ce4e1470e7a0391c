/* conn_limit.c: per-client session slots shared by all smtpd processes
 * through OFD byte-range locks on one small file per (service, client)
 * (see conn_limit.h for the layout and why it cannot leak). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn_limit.h"
#include "mem.h"
#include "str.h"

/* A file that keeps vanishing under us (a busy client arriving and leaving
 * at once) is retried this many times before giving up. */
#define CONN_LIMIT_RETRIES 16

struct conn_slot {
	int dir_fd;
	int fd;
	unsigned index; /* the byte we hold, 1..limit */
	char *name;
};

static char conn_errbuf[256];

static const char *conn_error(const char *what)
{
	snprintf(conn_errbuf, sizeof(conn_errbuf), "%s: %s", what,
		 strerror(errno));
	return conn_errbuf;
}

int conn_limit_open_dir(const char *dir, const char **error_r)
{
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = conn_error(dir);
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		*error_r = conn_error(dir);
	return fd;
}

/* The file name for key: safe characters kept, anything else (and an
 * overlong key) turned into a hashed form, so names never collide. */
static char *conn_file_name(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t len = strlen(key);
	bool plain = len > 0 && len <= CONN_LIMIT_NAME_MAX && key[0] != '.';
	struct str s;

	str_init(&s, len + 24);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == ':' ||
			  c == '-';

		h = (h ^ c) * 1099511628211ull;
		if (!ok)
			plain = false;
		if (s.len < CONN_LIMIT_NAME_MAX)
			str_putc(&s, ok ? (int)c : '_');
	}
	if (!plain)
		str_printf(&s, "~%016llx", (unsigned long long)h);
	return str_steal(&s);
}

/* One lock operation on [start, start+len) (len 0: to the end and
 * beyond), owned by fd's open file description. wait: F_OFD_SETLKW.
 * Returns 1, 0 when held through another open (only without wait), -1. */
static int conn_lock(int fd, short type, off_t start, off_t len, bool wait)
{
	struct flock fl = {.l_type = type,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};

	for (;;) {
		if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (!wait && (errno == EAGAIN || errno == EACCES))
			return 0;
		return -1;
	}
}

/* True when fd is still the file that dir_fd/name names. */
static bool conn_still_linked(int dir_fd, const char *name, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* One attempt: 1 taken (*index_r), 0 all busy, 2 the file was removed
 * meanwhile (retry), -1 error. The guard is held shared while slots are
 * tried, so the last one leaving cannot remove the file during the scan. */
static int conn_try(int dir_fd, const char *name, int fd, unsigned limit,
		    unsigned *index_r, const char **error_r)
{
	int r = 0;

	if (conn_lock(fd, F_RDLCK, 0, 1, true) < 0) {
		*error_r = conn_error("lock guard");
		return -1;
	}
	if (!conn_still_linked(dir_fd, name, fd))
		return 2;
	for (unsigned i = 1; i <= limit && r == 0; i++) {
		r = conn_lock(fd, F_WRLCK, (off_t)i, 1, false);
		if (r > 0)
			*index_r = i;
	}
	if (r < 0)
		*error_r = conn_error("lock slot");
	if (conn_lock(fd, F_UNLCK, 0, 1, false) < 0 && r >= 0) {
		*error_r = conn_error("unlock guard");
		r = -1;
	}
	return r;
}

int conn_limit_take(int dir_fd, const char *key, unsigned limit,
		    struct conn_slot **slot_r, const char **error_r)
{
	char *name = conn_file_name(key);
	unsigned index = 0;
	int fd, r = 2;

	for (int attempt = 0; r == 2 && attempt < CONN_LIMIT_RETRIES;
	     attempt++) {
		fd = openat(dir_fd, name,
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			*error_r = conn_error(name);
			mem_free(name);
			return -1;
		}
		r = conn_try(dir_fd, name, fd, limit, &index, error_r);
		if (r != 1)
			close(fd); /* also drops every lock we had on it */
	}
	if (r != 1) {
		if (r == 2)
			*error_r = "lock file keeps being replaced";
		mem_free(name);
		return r == 0 ? 0 : -1;
	}
	*slot_r = mem_alloc(sizeof(**slot_r));
	(*slot_r)->dir_fd = dir_fd;
	(*slot_r)->fd = fd;
	(*slot_r)->index = index;
	(*slot_r)->name = name;
	return 1;
}

void conn_limit_release(struct conn_slot **slotp)
{
	struct conn_slot *slot = *slotp;

	if (slot == NULL)
		return;
	/* Our slot goes first; then, holding the guard exclusively (newcomers
	 * hold it only while scanning), remove the file if no slot is held. */
	if (conn_lock(slot->fd, F_UNLCK, (off_t)slot->index, 1, false) >= 0 &&
	    conn_lock(slot->fd, F_WRLCK, 0, 1, true) > 0 &&
	    conn_lock(slot->fd, F_WRLCK, 1, 0, false) > 0 &&
	    conn_still_linked(slot->dir_fd, slot->name, slot->fd))
		(void)unlinkat(slot->dir_fd, slot->name, 0);
	close(slot->fd);
	mem_free(slot->name);
	mem_free(*slotp);
}
