/* queue_pool.c: finished queue files kept for reuse (see queue_pool.h).
 * Takers keep a list of pooled names read in one scan and try them from a
 * random place on, so that several smtpd processes rarely race for one
 * (the loser's rename fails and it tries the next name). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "mem.h"
#include "queue_pool.h"

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
	struct queue_id_list names; /* taker: from the last scan */
	size_t next, left;
	uint64_t empty_ms; /* when the last scan found nothing */
};

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
	queue_id_list_free(&p->names);
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

/* Reads the pool's names into p->names (none after an error). */
static size_t pool_scan(struct queue_pool *p)
{
	if (queue_id_list_read(p->fd, &p->names) < 0)
		p->names.count = 0;
	return p->names.count;
}

int queue_pool_put(struct queue_pool *p, enum queue_name q, const char *id,
		   const char **error_r)
{
	uint64_t now = event_clock_ms();
	int from = queue_dir_fd(p->qd, q, error_r);
	struct stat st;

	if (from < 0)
		return -1;
	if (!queue_id_valid(id) || p->off || pool_fd(p, true) < 0)
		return queue_dir_remove(p->qd, q, id, 0, error_r);
	if (p->counted_ms == 0 || now - p->counted_ms >= POOL_COUNT_MS ||
	    (p->count >= QUEUE_POOL_MAX &&
	     now - p->counted_ms >= POOL_FULL_MS)) {
		p->count = pool_scan(p);
		p->counted_ms = now;
	}
	if (p->count >= QUEUE_POOL_MAX ||
	    fstatat(from, id, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_size > QUEUE_POOL_FILE_MAX)
		return queue_dir_remove(p->qd, q, id, 0, error_r);
	/* Incomplete for every reader before it leaves q: a pooled file
	 * with its mark, taken into incoming/, would be delivered again. */
	if (fchmodat(from, id, 0600, 0) < 0)
		return errno == ENOENT
			   ? 0
			   : queue_dir_remove(p->qd, q, id, 0, error_r);
	if (renameat2(from, id, p->fd, id, RENAME_NOREPLACE) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == EINVAL || errno == ENOSYS)
			p->off = true; /* no RENAME_NOREPLACE here */
		return queue_dir_remove(p->qd, q, id, 0, error_r);
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
			const char *name = p->names.ids[p->next];

			p->next = (p->next + 1) % p->names.count;
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
		now = event_clock_ms();
		if (scans > 0 ||
		    (p->empty_ms != 0 && now - p->empty_ms < POOL_EMPTY_MS))
			return 0;
		if (pool_fd(p, false) < 0) {
			p->empty_ms = now;
			return 0;
		}
		if (pool_scan(p) == 0) {
			p->empty_ms = now;
			return 0;
		}
		p->empty_ms = 0;
		/* Processes start at different places in the same list. */
		p->next = (size_t)(((uint64_t)getpid() * 2654435761u) ^ now) %
			  p->names.count;
		p->left = p->names.count;
	}
}
