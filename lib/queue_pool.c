/* queue_pool.c: finished queue files kept for reuse (see queue_pool.h).
 * Takers keep a list of pooled names read in one scan and try them from a
 * random place on, so that several smtpd processes rarely race for one
 * (the loser's rename fails and it tries the next name). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "queue_pool.h"

/* Names one scan keeps for a taker. */
#define POOL_NAMES 256
/* An empty pool is looked at again after this long (an empty folder costs
 * little to read, but not nothing). */
#define POOL_EMPTY_MS 20
/* The putter counts the pool again after this long, and sooner (after
 * POOL_FULL_MS) while its count says full: takers empty it meanwhile. */
#define POOL_COUNT_MS 10000
#define POOL_FULL_MS 500

struct queue_pool {
	struct queue_dir *qd;
	int fd;	      /* incoming/.pool, -1 until opened */
	bool off;     /* the file system cannot do what the pool needs */
	size_t count; /* putter: files in the pool, roughly */
	uint64_t counted_ms;
	char (*names)[QUEUE_ID_SIZE]; /* taker: from the last scan */
	size_t n, next, left;
	uint64_t empty_ms; /* when the last scan found nothing */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct queue_pool *queue_pool_new(struct queue_dir *qd)
{
	struct queue_pool *p = mem_alloc(sizeof(*p));

	p->qd = qd;
	p->fd = -1;
	return p;
}

void queue_pool_free(struct queue_pool **pp)
{
	struct queue_pool *p = *pp;

	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	mem_free(p->names);
	mem_free(p);
	*pp = NULL;
}

/* The pool's folder, made when create is set. Returns the fd or -1. */
static int pool_fd(struct queue_pool *p, bool create)
{
	const char *err;
	int in = queue_dir_fd(p->qd, QUEUE_INCOMING, &err);

	if (p->fd >= 0 || in < 0)
		return p->fd;
	p->fd = openat(in, QUEUE_POOL_DIR,
		       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->fd < 0 && errno == ENOENT && create &&
	    (mkdirat(in, QUEUE_POOL_DIR, 0700) == 0 || errno == EEXIST))
		p->fd = openat(in, QUEUE_POOL_DIR,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return p->fd;
}

/* Valid queue IDs in the pool, up to max of them into names (may be
 * NULL); returns how many were found in all, or 0 on an error. */
static size_t pool_scan(struct queue_pool *p, char (*names)[QUEUE_ID_SIZE],
			size_t max, size_t *kept_r)
{
	int fd = openat(p->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t found = 0, kept = 0;
	struct dirent *de;
	DIR *dir;

	*kept_r = 0;
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		found++;
		if (names != NULL && kept < max &&
		    strlen(de->d_name) < QUEUE_ID_SIZE)
			memcpy(names[kept++], de->d_name,
			       strlen(de->d_name) + 1);
	}
	closedir(dir);
	*kept_r = kept;
	return found;
}

/* Removes q/id (the pool is full or cannot be used). */
static int pool_remove(struct queue_pool *p, enum queue_name q, const char *id,
		       const char **error_r)
{
	return queue_dir_remove(p->qd, q, id, 0, error_r);
}

int queue_pool_put(struct queue_pool *p, enum queue_name q, const char *id,
		   const char **error_r)
{
	uint64_t now = now_ms();
	int from = queue_dir_fd(p->qd, q, error_r);
	struct stat st;
	size_t kept;

	if (from < 0)
		return -1;
	if (!queue_id_valid(id) || p->off || pool_fd(p, true) < 0)
		return pool_remove(p, q, id, error_r);
	if (p->counted_ms == 0 || now - p->counted_ms >= POOL_COUNT_MS ||
	    (p->count >= QUEUE_POOL_MAX &&
	     now - p->counted_ms >= POOL_FULL_MS)) {
		p->count = pool_scan(p, NULL, 0, &kept);
		p->counted_ms = now;
	}
	if (p->count >= QUEUE_POOL_MAX ||
	    fstatat(from, id, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_size > QUEUE_POOL_FILE_MAX)
		return pool_remove(p, q, id, error_r);
	/* Incomplete for every reader before it leaves q: a pooled file
	 * with its mark, taken into incoming/, would be delivered again. */
	if (fchmodat(from, id, 0600, 0) < 0)
		return errno == ENOENT ? 0 : pool_remove(p, q, id, error_r);
	if (renameat2(from, id, p->fd, id, RENAME_NOREPLACE) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == EINVAL || errno == ENOSYS)
			p->off = true; /* no RENAME_NOREPLACE here */
		return pool_remove(p, q, id, error_r);
	}
	p->count++;
	return 1;
}

int queue_pool_take(struct queue_pool *p, enum queue_name q, const char *new_id)
{
	const char *err;
	int to = queue_dir_fd(p->qd, q, &err);
	uint64_t now;

	if (to < 0 || p->off || !queue_id_valid(new_id))
		return 0;
	for (int scans = 0;; scans++) {
		while (p->left > 0) {
			const char *name = p->names[p->next];

			p->next = (p->next + 1) % p->n;
			p->left--;
			if (renameat2(p->fd, name, to, new_id,
				      RENAME_NOREPLACE) == 0)
				return 1;
			if (errno == EINVAL || errno == ENOSYS) {
				p->off = true;
				return 0;
			}
			if (errno != ENOENT) /* ENOENT: another took it */
				return 0;
		}
		now = now_ms();
		if (scans > 0 ||
		    (p->empty_ms != 0 && now - p->empty_ms < POOL_EMPTY_MS))
			return 0;
		if (pool_fd(p, false) < 0) {
			p->empty_ms = now;
			return 0;
		}
		if (p->names == NULL)
			p->names = mem_alloc(POOL_NAMES * sizeof(*p->names));
		pool_scan(p, p->names, POOL_NAMES, &p->n);
		if (p->n == 0) {
			p->empty_ms = now;
			return 0;
		}
		p->empty_ms = 0;
		/* Processes start at different places in the same list. */
		p->next =
		    (size_t)(((uint64_t)getpid() * 2654435761u) ^ now) % p->n;
		p->left = p->n;
	}
}
