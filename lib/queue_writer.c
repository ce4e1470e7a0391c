/* queue_writer.c: writing a message into the queue (see queue_writer.h and
 * doc/queue.md). Syscalls for a small message: openat, flock, fstat, one
 * write, fchmod, fsync, fsync of the folder, close. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "queue_pool.h"
#include "queue_writer.h"

/* Content is gathered up to this size before a write. */
#define QW_BLOCK (64 * 1024)
#define QW_CREATE_TRIES 10

enum qw_state { QW_OPEN, QW_TOO_BIG, QW_FAILED };

struct queue_writer {
	struct queue_dir *qd;
	struct queue_writer_settings set;
	int dirfd, fd;
	char id[QUEUE_ID_SIZE];
	struct queue_envelope env; /* strings owned (mem_strdup) */
	size_t rcpt_cap;
	struct str buf; /* envelope and content not yet written */
	uint64_t content_size;
	uint64_t written; /* bytes in the file so far */
	bool env_written, flushed;
	bool reused;	  /* a pooled file: cut to size at commit */
	bool pool_spoilt; /* a pooled file was refused: create from now on */
	enum qw_state state;
	char error[512];	 /* the failure, repeated by later calls */
	uint64_t dir_ticket;	 /* the folder fsync that covers the entry */
	const char *sync_failed; /* the fsync that failed (commit_sync()) */
	int sync_errno;
};

void (*queue_writer_test_hook)(const char *step);

static char qw_errbuf[512];

static void qw_step(const char *step)
{
	if (queue_writer_test_hook != NULL)
		queue_writer_test_hook(step);
}

static int qw_error(const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int qw_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(qw_errbuf, sizeof(qw_errbuf), fmt, ap);
	va_end(ap);
	*error_r = qw_errbuf;
	return -1;
}

/* A system call failed: the writer is dead from now on. */
static int qw_fail(struct queue_writer *qw, const char *what,
		   const char **error_r)
{
	snprintf(qw->error, sizeof(qw->error), "%s %s/%s: %s", what,
		 queue_name_str(qw->set.queue), qw->id, strerror(errno));
	qw->state = QW_FAILED;
	*error_r = qw->error;
	return -1;
}

/* The ID's time may run a few microseconds ahead (see queue_id.c); the
 * arrival time is the clock's. */
static uint64_t qw_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A pooled file now named qw->id: ours to overwrite only when it is a
 * plain file of this user with one link and no completion mark. */
static bool qw_reusable(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_nlink == 1 &&
	       st->st_uid == geteuid() && (st->st_mode & 07777) == 0600;
}

/* Creates the file under a fresh ID (or takes a pooled one) and locks it.
 * 1, 0 (try another ID) or -1. */
static int qw_create(struct queue_writer *qw, const char **error_r)
{
	struct stat st;

	queue_id_new(qw->id);
	qw->reused = qw->set.pool != NULL && qw->set.queue == QUEUE_INCOMING &&
		     !qw->pool_spoilt &&
		     queue_pool_take(qw->set.pool, qw->set.queue, qw->id) > 0;
	if (qw->reused)
		qw->fd = openat(qw->dirfd, qw->id,
				O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	else
		qw->fd = openat(
		    qw->dirfd, qw->id,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (qw->fd < 0 && qw->reused) {
		(void)unlinkat(qw->dirfd, qw->id, 0);
		qw->pool_spoilt = true;
		return 0;
	}
	if (qw->fd < 0)
		return errno == EEXIST ? 0 : qw_fail(qw, "create", error_r);
	qw->dir_ticket = queue_dir_sync_ticket(qw->qd, qw->set.queue);
	qw_step("opened");
	/* Recovery removes an unmarked file only while holding its lock, so
	 * a file that we lock and that is still linked is ours to the end.
	 * Losing that race costs the ID; recovery removes the file. */
	if (flock(qw->fd, LOCK_EX | LOCK_NB) < 0) {
		bool lost = errno == EWOULDBLOCK;
		if (!lost) {
			qw_fail(qw, "lock", error_r);
			(void)unlinkat(qw->dirfd, qw->id, 0);
		}
		close(qw->fd);
		qw->fd = -1;
		return lost ? 0 : -1;
	}
	if (fstat(qw->fd, &st) < 0) {
		qw_fail(qw, "fstat", error_r);
		(void)unlinkat(qw->dirfd, qw->id, 0);
		close(qw->fd);
		qw->fd = -1;
		return -1;
	}
	if (st.st_nlink == 0) {
		close(qw->fd);
		qw->fd = -1;
		return 0;
	}
	if (qw->reused && !qw_reusable(&st)) {
		/* Only our name goes: another one stays as it is. */
		(void)unlinkat(qw->dirfd, qw->id, 0);
		qw->pool_spoilt = true;
		close(qw->fd);
		qw->fd = -1;
		return 0;
	}
	return 1;
}

int queue_writer_begin(struct queue_dir *qd,
		       const struct queue_writer_settings *set,
		       struct queue_writer **qw_r, const char **error_r)
{
	struct queue_writer *qw = mem_alloc(sizeof(*qw));
	int r = 0;

	*qw_r = NULL;
	qw->qd = qd;
	qw->fd = -1;
	if (set != NULL)
		qw->set = *set;
	if (qw->set.mode == 0)
		qw->set.mode = 0600;
	qw->dirfd = queue_dir_fd(qd, qw->set.queue, error_r);
	for (int i = 0; qw->dirfd >= 0 && r == 0 && i < QW_CREATE_TRIES; i++)
		r = qw_create(qw, error_r);
	if (r <= 0) {
		if (qw->dirfd >= 0 && r == 0)
			qw_error(error_r, "create in %s: no free queue ID",
				 queue_name_str(qw->set.queue));
		mem_free(qw);
		return -1;
	}
	str_init(&qw->buf, 4096);
	memcpy(qw->env.id, qw->id, QUEUE_ID_SIZE);
	qw->env.arrival_usec = qw_now_usec();
	qw_step("created");
	*qw_r = qw;
	return 1;
}

const char *queue_writer_id(const struct queue_writer *qw)
{
	return qw->id;
}

/* Common checks of the envelope setters. */
static int qw_settable(struct queue_writer *qw, const char *what,
		       const char *value, const char **error_r)
{
	if (qw->env_written || qw->state != QW_OPEN)
		return qw_error(error_r, "%s: the envelope is already written",
				what);
	if (value == NULL)
		return qw_error(error_r, "%s: no value", what);
	return queue_value_check(what, value, strlen(value), error_r);
}

int queue_writer_set_sender(struct queue_writer *qw, const char *sender,
			    const char **error_r)
{
	if (qw_settable(qw, "sender", sender, error_r) < 0)
		return -1;
	if (qw->env.sender != NULL)
		return qw_error(error_r, "sender already set");
	qw->env.sender = mem_strdup(sender);
	return 1;
}

int queue_writer_set_field(struct queue_writer *qw, enum queue_field field,
			   const char *value, const char **error_r)
{
	if ((unsigned)field >= QUEUE_FIELD_COUNT)
		return qw_error(error_r, "unknown envelope field %d",
				(int)field);
	if (qw_settable(qw, queue_field_name(field), value, error_r) < 0)
		return -1;
	if (qw->env.fields[field] != NULL)
		return qw_error(error_r, "%s already set",
				queue_field_name(field));
	qw->env.fields[field] = mem_strdup(value);
	return 1;
}

int queue_writer_set_ret(struct queue_writer *qw, enum queue_ret ret,
			 const char **error_r)
{
	if (qw_settable(qw, "RET", "", error_r) < 0)
		return -1;
	if (ret > QUEUE_RET_HDRS)
		return qw_error(error_r, "invalid RET %d", (int)ret);
	qw->env.ret = ret;
	return 1;
}

int queue_writer_set_msg_flags(struct queue_writer *qw, unsigned flags,
			       const char **error_r)
{
	if (qw_settable(qw, "message flags", "", error_r) < 0)
		return -1;
	if ((flags & ~(QUEUE_MSG_8BITMIME | QUEUE_MSG_BINARYMIME |
		       QUEUE_MSG_SMTPUTF8)) != 0 ||
	    (flags & QUEUE_MSG_8BITMIME && flags & QUEUE_MSG_BINARYMIME))
		return qw_error(error_r, "invalid message flags 0x%x", flags);
	qw->env.msg_flags = flags;
	return 1;
}

void queue_writer_set_arrival(struct queue_writer *qw, uint64_t usec)
{
	qw->env.arrival_usec = usec;
}

int queue_writer_add_rcpt(struct queue_writer *qw, const char *address,
			  const char *orcpt, unsigned notify,
			  const char **error_r)
{
	struct queue_rcpt *r;

	if (qw_settable(qw, "recipient", address, error_r) < 0 ||
	    (orcpt != NULL && qw_settable(qw, "ORCPT", orcpt, error_r) < 0))
		return -1;
	if (address[0] == '\0' || (orcpt != NULL && orcpt[0] == '\0'))
		return qw_error(error_r, "empty recipient or ORCPT");
	if ((notify & ~0x0fu) != 0 ||
	    ((notify & QUEUE_NOTIFY_NEVER) && notify != QUEUE_NOTIFY_NEVER))
		return qw_error(error_r, "invalid NOTIFY flags 0x%x", notify);
	if (qw->env.rcpt_count == QUEUE_RCPT_MAX)
		return qw_error(error_r, "more than %d recipients",
				QUEUE_RCPT_MAX);
	if (qw->env.rcpt_count == qw->rcpt_cap) {
		qw->rcpt_cap =
		    qw->rcpt_cap == 0 ? 4 : size_mul(qw->rcpt_cap, 2);
		qw->env.rcpts = mem_realloc(qw->env.rcpts,
					    size_mul(qw->rcpt_cap, sizeof(*r)));
	}
	r = &qw->env.rcpts[qw->env.rcpt_count++];
	r->address = mem_strdup(address);
	r->orcpt = orcpt != NULL ? mem_strdup(orcpt) : NULL;
	r->notify = notify;
	r->status = QUEUE_RCPT_PENDING;
	return 1;
}

/* Writes the iovecs completely. */
static int qw_writev(struct queue_writer *qw, struct iovec *iov, int n,
		     const char **error_r)
{
	while (n > 0) {
		ssize_t w = writev(qw->fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return qw_fail(qw, "write", error_r);
		qw->written += (uint64_t)w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 1;
}

/* Writes the buffer, then data (which may be NULL). */
static int qw_flush(struct queue_writer *qw, const void *data, size_t len,
		    const char **error_r)
{
	struct iovec iov[2] = {{qw->buf.data, qw->buf.len},
			       {(void *)data, len}};

	if (qw_writev(qw, iov, data != NULL && len > 0 ? 2 : 1, error_r) < 0)
		return -1;
	str_clear(&qw->buf);
	if (!qw->flushed) {
		qw->flushed = true;
		qw_step("content");
	}
	return 1;
}

static int qw_put_envelope(struct queue_writer *qw, const char **error_r)
{
	if (qw->env.sender == NULL)
		return qw_error(error_r, "no sender");
	if (queue_file_encode(&qw->env, &qw->buf, error_r) < 0)
		return -1;
	qw->env_written = true;
	return 1;
}

static int qw_usable(struct queue_writer *qw, const char **error_r)
{
	if (qw->state == QW_FAILED) {
		*error_r = qw->error;
		return -1;
	}
	if (qw->state == QW_TOO_BIG) {
		*error_r = "message size limit exceeded";
		return 0;
	}
	return 1;
}

int queue_writer_write(struct queue_writer *qw, const void *data, size_t len,
		       const char **error_r)
{
	int r = qw_usable(qw, error_r);

	if (r <= 0)
		return r;
	if (!qw->env_written && qw_put_envelope(qw, error_r) < 0)
		return -1;
	if (qw->set.max_content != 0 &&
	    len > qw->set.max_content - qw->content_size) {
		qw->state = QW_TOO_BIG;
		*error_r = "message size limit exceeded";
		return 0;
	}
	qw->content_size += len;
	if (qw->buf.len + len <= QW_BLOCK)
		return str_append(&qw->buf, data, len);
	return qw_flush(qw, data, len, error_r);
}

uint64_t queue_writer_content_size(const struct queue_writer *qw)
{
	return qw->content_size;
}

static void qw_free(struct queue_writer *qw)
{
	mem_free(qw->env.sender);
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		mem_free(qw->env.fields[f]);
	for (size_t i = 0; i < qw->env.rcpt_count; i++) {
		mem_free(qw->env.rcpts[i].address);
		mem_free(qw->env.rcpts[i].orcpt);
	}
	mem_free(qw->env.rcpts);
	str_deinit(&qw->buf);
	mem_free(qw);
}

void queue_writer_abort(struct queue_writer **qwp)
{
	struct queue_writer *qw = *qwp;

	if (qw == NULL)
		return;
	/* Unlink while still holding the lock, then close. */
	(void)unlinkat(qw->dirfd, qw->id, 0);
	close(qw->fd);
	qw_free(qw);
	*qwp = NULL;
}

/* The end mark and the completion bit, not yet durable. */
static int qw_prepare(struct queue_writer *qw, const char **error_r)
{
	if (!qw->env_written && qw_put_envelope(qw, error_r) < 0)
		return -1;
	queue_file_encode_trailer(qw->content_size, &qw->buf);
	if (qw_flush(qw, NULL, 0, error_r) < 0)
		return -1;
	/* A reused file still has its old content past ours. */
	if (qw->reused && ftruncate(qw->fd, (off_t)qw->written) < 0)
		return qw_fail(qw, "truncate", error_r);
	qw_step("written");
	if (fchmod(qw->fd, (qw->set.mode & 0777) | S_IXUSR) < 0)
		return qw_fail(qw, "chmod", error_r);
	qw_step("marked");
	return 1;
}

/* Error texts in qw die with it: move them to the module buffer. */
static const char *qw_keep_error(struct queue_writer *qw, const char *err)
{
	if (err == qw->error) {
		snprintf(qw_errbuf, sizeof(qw_errbuf), "%s", err);
		return qw_errbuf;
	}
	return err;
}

int queue_writer_commit_prepare(struct queue_writer **qwp, const char **error_r)
{
	struct queue_writer *qw = *qwp;
	int r = qw_usable(qw, error_r);

	if (r > 0)
		r = qw_prepare(qw, error_r);
	if (r <= 0) {
		*error_r = qw_keep_error(qw, *error_r);
		queue_writer_abort(qwp);
		return -1;
	}
	return 1;
}

/* Only syscalls and fields of qw that no other thread touches meanwhile:
 * the error text is made by commit_finish(). */
void queue_writer_commit_sync(struct queue_writer *qw)
{
	if (fsync(qw->fd) < 0) {
		qw->sync_errno = errno;
		qw->sync_failed = "fsync";
		return;
	}
	qw_step("file-synced");
	if (!qw->set.no_dir_sync &&
	    queue_dir_sync_shared(qw->qd, qw->set.queue, qw->dir_ticket) < 0) {
		qw->sync_errno = errno;
		qw->sync_failed = "fsync folder of";
		return;
	}
	qw_step("dir-synced");
}

int queue_writer_commit_finish(struct queue_writer **qwp,
			       char id_r[QUEUE_ID_SIZE], const char **error_r)
{
	struct queue_writer *qw = *qwp;
	int fd;

	if (qw->sync_failed != NULL) {
		errno = qw->sync_errno;
		qw_fail(qw, qw->sync_failed, error_r);
		*error_r = qw_keep_error(qw, *error_r);
		queue_writer_abort(qwp);
		return -1;
	}
	fd = qw->fd;
	qw->fd = -1;
	if (close(fd) < 0) {
		qw_fail(qw, "close", error_r);
		*error_r = qw_keep_error(qw, *error_r);
		(void)unlinkat(qw->dirfd, qw->id, 0);
		qw_free(qw);
		*qwp = NULL;
		return -1;
	}
	if (id_r != NULL)
		memcpy(id_r, qw->id, QUEUE_ID_SIZE);
	qw_free(qw);
	*qwp = NULL;
	return 1;
}

int queue_writer_commit(struct queue_writer **qwp, char id_r[QUEUE_ID_SIZE],
			const char **error_r)
{
	if (queue_writer_commit_prepare(qwp, error_r) < 0)
		return -1;
	queue_writer_commit_sync(*qwp);
	return queue_writer_commit_finish(qwp, id_r, error_r);
}
