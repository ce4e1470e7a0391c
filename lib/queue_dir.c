/* queue_dir.c: queue folders, scans, moves and recovery (see queue_dir.h).
 * The writer (queue_writer.c) creates files here; qmgr, pickup and the
 * queue CLI move, list and recover them. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group_sync.h"
#include "mem.h"
#include "queue_dir.h"
#include "str.h"

#define QD_OPEN_DIR (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

struct queue_dir {
	char *root;
	int root_fd;
	int fds[QUEUE_NAME_COUNT];	/* -1 until first use */
	bool no_sync[QUEUE_NAME_COUNT]; /* opened O_PATH: not readable */
	struct group_sync gsync[QUEUE_NAME_COUNT];
};

static const struct {
	const char *name;
	mode_t mode;
} qd_queues[QUEUE_NAME_COUNT] = {
    [QUEUE_MAILDROP] = {"maildrop", 0730},
    [QUEUE_INCOMING] = {"incoming", 0700},
    [QUEUE_ACTIVE] = {"active", 0700},
    [QUEUE_DEFERRED] = {"deferred", 0700},
    [QUEUE_HOLD] = {"hold", 0700},
    [QUEUE_CORRUPT] = {"corrupt", 0700},
    [QUEUE_BOUNCE] = {"bounce", 0700},
    [QUEUE_DEFER] = {"defer", 0700},
};

static char qd_errbuf[1200];

static int qd_fail(const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats the error and appends strerror(errno); errno is kept. */
static int qd_fail(const char **error_r, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(qd_errbuf, sizeof(qd_errbuf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(qd_errbuf))
		snprintf(qd_errbuf + n, sizeof(qd_errbuf) - (size_t)n, ": %s",
			 strerror(saved));
	*error_r = qd_errbuf;
	errno = saved;
	return -1;
}

const char *queue_name_str(enum queue_name q)
{
	return (unsigned)q < QUEUE_NAME_COUNT ? qd_queues[q].name : "unknown";
}

int queue_name_parse(const char *s, enum queue_name *q_r)
{
	for (int q = 0; q < QUEUE_NAME_COUNT; q++) {
		if (strcmp(s, qd_queues[q].name) == 0) {
			*q_r = (enum queue_name)q;
			return 1;
		}
	}
	return 0;
}

static int qd_mkdir(const char *path, mode_t mode, const char **error_r)
{
	if (mkdir(path, mode) < 0) {
		if (errno == EEXIST)
			return 1;
		return qd_fail(error_r, "mkdir %s", path);
	}
	/* mkdir's mode passed through the umask; set it exactly. */
	if (chmod(path, mode) < 0)
		return qd_fail(error_r, "chmod %s", path);
	return 1;
}

int queue_dir_create(const char *root, const char **error_r)
{
	struct str path;
	int ret;

	if ((ret = qd_mkdir(root, 0755, error_r)) < 0)
		return -1;
	str_init(&path, 0);
	for (int q = 0; q < QUEUE_NAME_COUNT && ret > 0; q++) {
		str_clear(&path);
		str_printf(&path, "%s/%s", root, qd_queues[q].name);
		ret = qd_mkdir(path.data, qd_queues[q].mode, error_r);
	}
	str_deinit(&path);
	return ret;
}

int queue_dir_open(const char *root, struct queue_dir **qd_r,
		   const char **error_r)
{
	struct queue_dir *qd;
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	*qd_r = NULL;
	if (fd < 0)
		return qd_fail(error_r, "open queue directory %s", root);
	qd = mem_alloc(sizeof(*qd));
	qd->root = mem_strdup(root);
	qd->root_fd = fd;
	for (int q = 0; q < QUEUE_NAME_COUNT; q++) {
		qd->fds[q] = -1;
		group_sync_init(&qd->gsync[q]);
	}
	*qd_r = qd;
	return 1;
}

void queue_dir_close(struct queue_dir **qdp)
{
	struct queue_dir *qd = *qdp;

	if (qd == NULL)
		return;
	for (int q = 0; q < QUEUE_NAME_COUNT; q++) {
		if (qd->fds[q] >= 0)
			close(qd->fds[q]);
		group_sync_deinit(&qd->gsync[q]);
	}
	close(qd->root_fd);
	mem_free(qd->root);
	mem_free(qd);
	*qdp = NULL;
}

const char *queue_dir_root(const struct queue_dir *qd)
{
	return qd->root;
}

int queue_dir_fd(struct queue_dir *qd, enum queue_name q, const char **error_r)
{
	const char *name = queue_name_str(q);
	int fd;

	if ((unsigned)q >= QUEUE_NAME_COUNT) {
		errno = EINVAL;
		return qd_fail(error_r, "queue %d", (int)q);
	}
	if (qd->fds[q] >= 0)
		return qd->fds[q];
	fd = openat(qd->root_fd, name, QD_OPEN_DIR | O_NOFOLLOW);
	if (fd < 0 && errno == EACCES) {
		/* maildrop/ for postdrop: writable, not readable. */
		fd = openat(qd->root_fd, name,
			    O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		qd->no_sync[q] = true;
	}
	if (fd < 0)
		return qd_fail(error_r, "open %s/%s", qd->root, name);
	qd->fds[q] = fd;
	return fd;
}

int queue_dir_sync(struct queue_dir *qd, enum queue_name q,
		   const char **error_r)
{
	int fd = queue_dir_fd(qd, q, error_r);

	if (fd < 0)
		return -1;
	if (qd->no_sync[q])
		return 0;
	if (fsync(fd) < 0)
		return qd_fail(error_r, "fsync %s/%s", qd->root,
			       queue_name_str(q));
	return 1;
}

uint64_t queue_dir_sync_ticket(struct queue_dir *qd, enum queue_name q)
{
	return (unsigned)q < QUEUE_NAME_COUNT ? group_sync_ticket(&qd->gsync[q])
					      : 0;
}

int queue_dir_sync_shared(struct queue_dir *qd, enum queue_name q,
			  uint64_t ticket)
{
	if ((unsigned)q >= QUEUE_NAME_COUNT || qd->fds[q] < 0) {
		errno = EBADF;
		return -1;
	}
	if (qd->no_sync[q])
		return 0;
	return group_sync_fsync(&qd->gsync[q], qd->fds[q], ticket);
}

static int qd_cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, QUEUE_ID_LEN);
}

static void qd_list_add(struct queue_id_list *list, const char *id)
{
	if (list->count == list->cap) {
		list->cap = list->cap == 0 ? 64 : size_mul(list->cap, 2);
		list->ids =
		    mem_realloc(list->ids, size_mul(list->cap, QUEUE_ID_SIZE));
	}
	memcpy(list->ids[list->count++], id, QUEUE_ID_SIZE);
}

int queue_id_list_read(int dirfd, struct queue_id_list *list)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	list->count = list->skipped = 0;
	/* A fresh open file description: a dup would share the read position
	 * with every other scan of this folder. */
	fd = openat(dirfd, ".", QD_OPEN_DIR);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (queue_id_valid(de->d_name))
			qd_list_add(list, de->d_name);
		else if (strcmp(de->d_name, ".") != 0 &&
			 strcmp(de->d_name, "..") != 0)
			list->skipped++;
		errno = 0;
	}
	if (errno != 0) {
		int saved = errno;

		closedir(dir);
		errno = saved;
		return -1;
	}
	closedir(dir);
	if (list->count > 1)
		qsort(list->ids, list->count, QUEUE_ID_SIZE, qd_cmp_id);
	return 1;
}

int queue_dir_list(struct queue_dir *qd, enum queue_name q,
		   struct queue_id_list *list, const char **error_r)
{
	int dfd = queue_dir_fd(qd, q, error_r);

	list->count = list->skipped = 0;
	if (dfd < 0)
		return -1;
	if (queue_id_list_read(dfd, list) < 0)
		return qd_fail(error_r, "scan %s/%s", qd->root,
			       queue_name_str(q));
	return 1;
}

void queue_id_list_free(struct queue_id_list *list)
{
	mem_free(list->ids);
	list->count = list->cap = list->skipped = 0;
}

/* rename that never replaces; link + unlink where the file system lacks
 * RENAME_NOREPLACE (both fail with EEXIST on a clash). */
static int qd_rename_noreplace(int from_fd, int to_fd, const char *id)
{
	if (renameat2(from_fd, id, to_fd, id, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(from_fd, id, to_fd, id, 0) < 0)
		return -1;
	return unlinkat(from_fd, id, 0);
}

int queue_dir_move(struct queue_dir *qd, const char *id, enum queue_name from,
		   enum queue_name to, unsigned flags, const char **error_r)
{
	int ffd, tfd;

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return qd_fail(error_r, "move: bad queue ID");
	}
	if ((ffd = queue_dir_fd(qd, from, error_r)) < 0 ||
	    (tfd = queue_dir_fd(qd, to, error_r)) < 0)
		return -1;
	if (qd_rename_noreplace(ffd, tfd, id) < 0) {
		if (errno == ENOENT)
			return 0;
		return qd_fail(error_r, "move %s from %s to %s", id,
			       queue_name_str(from), queue_name_str(to));
	}
	if ((flags & QUEUE_MOVE_SYNC) != 0 &&
	    (queue_dir_sync(qd, to, error_r) < 0 ||
	     queue_dir_sync(qd, from, error_r) < 0))
		return -1;
	return 1;
}

int queue_dir_remove(struct queue_dir *qd, enum queue_name q, const char *id,
		     unsigned flags, const char **error_r)
{
	int fd;

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return qd_fail(error_r, "remove: bad queue ID");
	}
	if ((fd = queue_dir_fd(qd, q, error_r)) < 0)
		return -1;
	if (unlinkat(fd, id, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return qd_fail(error_r, "remove %s/%s", queue_name_str(q), id);
	}
	if ((flags & QUEUE_MOVE_SYNC) != 0 &&
	    queue_dir_sync(qd, q, error_r) < 0)
		return -1;
	return 1;
}

int queue_dir_find(struct queue_dir *qd, const char *id, enum queue_name *q_r,
		   const char **error_r)
{
	static const enum queue_name order[] = {
	    QUEUE_INCOMING, QUEUE_ACTIVE,  QUEUE_DEFERRED,
	    QUEUE_HOLD,	    QUEUE_CORRUPT, QUEUE_MAILDROP,
	};
	struct stat st;

	if (!queue_id_valid(id))
		return 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int fd = queue_dir_fd(qd, order[i], error_r);
		if (fd < 0)
			return -1;
		if (fstatat(fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			*q_r = order[i];
			return 1;
		}
		if (errno != ENOENT)
			return qd_fail(error_r, "stat %s/%s",
				       queue_name_str(order[i]), id);
	}
	return 0;
}

/* One file of an incomplete-file scan. Returns 1 (decided) or -1. */
static int qd_recover_one(int dfd, const char *id,
			  struct queue_recover_stats *stats,
			  const char **error_r)
{
	struct stat st;
	int fd = openat(
	    dfd, id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP
			   ? 1
			   : qd_fail(error_r, "recover: open %s", id);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IXUSR) != 0)
		goto keep; /* complete, or not a file of ours */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			qd_fail(error_r, "recover: lock %s", id);
			close(fd);
			return -1;
		}
		stats->busy++; /* its writer is alive */
		goto keep;
	}
	/* The writer may have committed between our fstat and our lock. */
	if (fstat(fd, &st) < 0 || (st.st_mode & S_IXUSR) != 0 ||
	    st.st_nlink == 0)
		goto keep;
	/* Unlinked while we hold the lock: a writer that opened this name
	 * but has not locked it yet sees nlink 0 after its flock and starts
	 * over under a new ID. */
	if (unlinkat(dfd, id, 0) < 0 && errno != ENOENT) {
		qd_fail(error_r, "recover: remove %s", id);
		close(fd);
		return -1;
	}
	stats->discarded++;
keep:
	close(fd);
	return 1;
}

int queue_recover_incomplete(struct queue_dir *qd, enum queue_name q,
			     struct queue_recover_stats *stats,
			     const char **error_r)
{
	struct queue_id_list list = {0};
	int dfd, ret = 1;

	if (queue_dir_list(qd, q, &list, error_r) < 0)
		return -1;
	dfd = queue_dir_fd(qd, q, error_r);
	for (size_t i = 0; i < list.count && ret > 0; i++)
		ret = qd_recover_one(dfd, list.ids[i], stats, error_r);
	queue_id_list_free(&list);
	return ret;
}

int queue_recover(struct queue_dir *qd, struct queue_recover_stats *stats_r,
		  const char **error_r)
{
	struct queue_id_list list = {0};
	int ret = 1;

	memset(stats_r, 0, sizeof(*stats_r));
	if (queue_dir_list(qd, QUEUE_ACTIVE, &list, error_r) < 0)
		return -1;
	/* No fsync: after a crash during this loop each message is in
	 * active/ or incoming/, and the next start handles either. A file
	 * of active/ without its mark was done with (queue_pool.h) and goes
	 * with the incomplete ones of incoming/ below. */
	for (size_t i = 0; i < list.count && ret > 0; i++) {
		int r = queue_dir_move(qd, list.ids[i], QUEUE_ACTIVE,
				       QUEUE_INCOMING, 0, error_r);
		if (r > 0)
			stats_r->requeued++;
		else if (r < 0 && errno == EEXIST)
			stats_r->conflicts++;
		else if (r < 0)
			ret = -1;
	}
	queue_id_list_free(&list);
	if (ret > 0 &&
	    queue_recover_incomplete(qd, QUEUE_INCOMING, stats_r, error_r) < 0)
		return -1;
	return ret;
}
