/* queue_file_read.c: the strict queue file reader and the in-place marks
 * (see queue_file.h). Queue files in maildrop/ come from the less trusted
 * sendmail/postdrop path and may even change while being read, so every
 * length is checked against the envelope and the file size, the envelope
 * is parsed from one private copy, and anything unexpected is EBADMSG. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "queue_file.h"
#include "queue_file_int.h"

/* The first read covers header, envelope and trailer of most messages. */
#define QF_FIRST_READ (64 * 1024)
#define QF_MIN_ENVELOPE 23 /* T(3+8) S(3) R(3+2+1) M(3) */

struct queue_file {
	int fd;
	bool writable;
	char *name; /* for error messages */
	const unsigned char *image;
	struct queue_envelope env;
	char *strings;		/* every value, NUL-terminated */
	uint64_t *mark_offsets; /* file offset of each status byte */
	size_t rcpt_cap;
	uint64_t content_offset, content_size, file_size;
};

struct qf_parse {
	struct queue_file *qf;
	const unsigned char *rec; /* the envelope records */
	size_t env_len, pos;	  /* pos: start of the current record */
	char *strp;		  /* next free byte in qf->strings */
	bool seen[256];
	unsigned char prev;
	bool ended;
	const char **error_r;
};

typedef int qf_handler(struct qf_parse *p, unsigned char type,
		       const unsigned char *v, size_t len);

static char qf_errbuf[1200];

static int qf_fail(const char **error_r, int err, const char *name,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int qf_fail(const char **error_r, int err, const char *name,
		   const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(qf_errbuf, sizeof(qf_errbuf),
			 "queue file %s: ", name != NULL ? name : "(image)");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(qf_errbuf))
		vsnprintf(qf_errbuf + n, sizeof(qf_errbuf) - (size_t)n, fmt,
			  ap);
	va_end(ap);
	*error_r = qf_errbuf;
	errno = err;
	return -1;
}

/* A format error at the current record, naming its file offset. */
#define QF_BAD(p, fmt, ...)                                                    \
	qf_fail((p)->error_r, EBADMSG, (p)->qf->name, "offset %zu: " fmt,      \
		(size_t)QUEUE_HEADER_SIZE + (p)->pos, ##__VA_ARGS__)

static int qf_string(struct qf_parse *p, const char *what,
		     const unsigned char *v, size_t len, const char **out)
{
	const char *err;

	if (queue_value_check(what, (const char *)v, len, &err) < 0)
		return QF_BAD(p, "%s", err);
	memcpy(p->strp, v, len);
	p->strp[len] = '\0';
	*out = p->strp;
	p->strp += len + 1;
	return 1;
}

static int qf_rec_time(struct qf_parse *p, unsigned char type,
		       const unsigned char *v, size_t len)
{
	(void)type;
	if (len != 8)
		return QF_BAD(p, "arrival time record of %zu bytes", len);
	p->qf->env.arrival_usec = queue_get_le(v, 8);
	return 1;
}

static int qf_rec_sender(struct qf_parse *p, unsigned char type,
			 const unsigned char *v, size_t len)
{
	(void)type;
	return qf_string(p, "sender", v, len, &p->qf->env.sender);
}

static int qf_rec_flags(struct qf_parse *p, unsigned char type,
			const unsigned char *v, size_t len)
{
	unsigned flags;

	(void)type;
	if (len != 4)
		return QF_BAD(p, "flags record of %zu bytes", len);
	flags = (unsigned)queue_get_le(v, 4);
	if (flags == 0 || !queue_msg_flags_valid(flags))
		return QF_BAD(p, "invalid message flags 0x%x", flags);
	p->qf->env.msg_flags = flags;
	return 1;
}

static int qf_rec_ret(struct qf_parse *p, unsigned char type,
		      const unsigned char *v, size_t len)
{
	(void)type;
	if (len != 1 || v[0] == QUEUE_RET_NONE || v[0] > QUEUE_RET_HDRS)
		return QF_BAD(p, "invalid RET record");
	p->qf->env.ret = (enum queue_ret)v[0];
	return 1;
}

static int qf_rec_field(struct qf_parse *p, unsigned char type,
			const unsigned char *v, size_t len)
{
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (queue_field_types[f] == type)
			return qf_string(p,
					 queue_field_name((enum queue_field)f),
					 v, len, &p->qf->env.fields[f]);
	return QF_BAD(p, "unknown field record 0x%02x", type);
}

static void qf_grow_rcpts(struct queue_file *qf)
{
	size_t cap = qf->rcpt_cap == 0 ? 8 : size_mul(qf->rcpt_cap, 2);

	qf->env.rcpts =
	    mem_realloc(qf->env.rcpts, size_mul(cap, sizeof(*qf->env.rcpts)));
	qf->mark_offsets =
	    mem_realloc(qf->mark_offsets, size_mul(cap, sizeof(uint64_t)));
	qf->rcpt_cap = cap;
}

static int qf_rec_rcpt(struct qf_parse *p, unsigned char type,
		       const unsigned char *v, size_t len)
{
	struct queue_file *qf = p->qf;
	struct queue_rcpt *r;

	(void)type;
	if (len < 3)
		return QF_BAD(p, "recipient record of %zu bytes", len);
	if (v[0] != QUEUE_RCPT_PENDING && v[0] != QUEUE_RCPT_DONE &&
	    v[0] != QUEUE_RCPT_FAILED)
		return QF_BAD(p, "invalid recipient status 0x%02x", v[0]);
	if (!queue_notify_valid(v[1]))
		return QF_BAD(p, "invalid NOTIFY flags 0x%02x", v[1]);
	if (qf->env.rcpt_count == QUEUE_RCPT_MAX)
		return QF_BAD(p, "more than %d recipients", QUEUE_RCPT_MAX);
	if (qf->env.rcpt_count == qf->rcpt_cap)
		qf_grow_rcpts(qf);
	r = &qf->env.rcpts[qf->env.rcpt_count];
	memset(r, 0, sizeof(*r));
	r->status = (enum queue_rcpt_status)v[0];
	r->notify = v[1];
	if (qf_string(p, "recipient", v + 2, len - 2, &r->address) < 0)
		return -1;
	qf->mark_offsets[qf->env.rcpt_count++] =
	    QUEUE_HEADER_SIZE + p->pos + QUEUE_REC_HEAD;
	return 1;
}

static int qf_rec_orcpt(struct qf_parse *p, unsigned char type,
			const unsigned char *v, size_t len)
{
	struct queue_file *qf = p->qf;

	(void)type;
	if (p->prev != QUEUE_REC_RCPT)
		return QF_BAD(p, "ORCPT record not after a recipient");
	if (len == 0)
		return QF_BAD(p, "empty ORCPT");
	return qf_string(p, "ORCPT", v, len,
			 &qf->env.rcpts[qf->env.rcpt_count - 1].orcpt);
}

static int qf_rec_content(struct qf_parse *p, unsigned char type,
			  const unsigned char *v, size_t len)
{
	(void)type;
	(void)v;
	if (len != 0 || p->pos + QUEUE_REC_HEAD != p->env_len)
		return QF_BAD(
		    p, "end-of-envelope record is not last or not empty");
	p->ended = true;
	return 1;
}

static qf_handler *const qf_handlers[256] = {
    [QUEUE_REC_TIME] = qf_rec_time,
    [QUEUE_REC_SENDER] = qf_rec_sender,
    [QUEUE_REC_FLAGS] = qf_rec_flags,
    [QUEUE_REC_RET] = qf_rec_ret,
    [QUEUE_REC_RCPT] = qf_rec_rcpt,
    [QUEUE_REC_ORCPT] = qf_rec_orcpt,
    [QUEUE_REC_CONTENT] = qf_rec_content,
    ['V'] = qf_rec_field,
    ['c'] = qf_rec_field,
    ['a'] = qf_rec_field,
    ['p'] = qf_rec_field,
    ['h'] = qf_rec_field,
    ['P'] = qf_rec_field,
    ['t'] = qf_rec_field,
    ['C'] = qf_rec_field,
    ['b'] = qf_rec_field,
    ['y'] = qf_rec_field,
    ['m'] = qf_rec_field,
    ['u'] = qf_rec_field,
    ['l'] = qf_rec_field,
    ['f'] = qf_rec_field,
};

static int qf_parse_records(struct qf_parse *p)
{
	while (p->pos < p->env_len) {
		const unsigned char *r = p->rec + p->pos;
		unsigned char type = r[0];
		size_t len;

		if (p->env_len - p->pos < QUEUE_REC_HEAD)
			return QF_BAD(p, "truncated record header");
		len = (size_t)queue_get_le(r + 1, 2);
		if (len > p->env_len - p->pos - QUEUE_REC_HEAD)
			return QF_BAD(p,
				      "record 0x%02x of %zu bytes overruns "
				      "the envelope",
				      type, len);
		if (qf_handlers[type] == NULL)
			return QF_BAD(p, "unknown record type 0x%02x", type);
		if (type != QUEUE_REC_RCPT && type != QUEUE_REC_ORCPT &&
		    p->seen[type])
			return QF_BAD(p, "duplicate record 0x%02x", type);
		p->seen[type] = true;
		if (qf_handlers[type](p, type, r + QUEUE_REC_HEAD, len) < 0)
			return -1;
		p->prev = type;
		p->pos += QUEUE_REC_HEAD + len;
	}
	if (!p->ended)
		return QF_BAD(p, "no end-of-envelope record");
	if (!p->seen[QUEUE_REC_TIME] || !p->seen[QUEUE_REC_SENDER] ||
	    p->qf->env.rcpt_count == 0)
		return QF_BAD(p, "envelope without arrival time, sender or "
				 "recipients");
	return 1;
}

/* Checks the header; returns the envelope length in *env_len_r. */
static int qf_parse_header(struct queue_file *qf, const unsigned char *h,
			   const char *name, size_t *env_len_r,
			   const char **error_r)
{
	uint64_t env_len = queue_get_le(h + 12, 4);
	unsigned version = (unsigned)queue_get_le(h + 8, 2);

	if (memcmp(h, QUEUE_MAGIC, 8) != 0)
		return qf_fail(error_r, EBADMSG, qf->name, "not a queue file");
	if (version != QUEUE_FILE_VERSION)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "unsupported version %u", version);
	if ((h[QUEUE_STATE_OFFSET] & ~QUEUE_STATE_ALL) != 0 || h[11] != 0)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "invalid state flags 0x%02x", h[10]);
	if (!queue_id_valid_mem((const char *)h + 16, QUEUE_ID_LEN))
		return qf_fail(error_r, EBADMSG, qf->name,
			       "invalid queue ID in the header");
	memcpy(qf->env.id, h + 16, QUEUE_ID_LEN);
	qf->env.id[QUEUE_ID_LEN] = '\0';
	if (name != NULL && strcmp(name, qf->env.id) != 0)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "name does not match the queue ID %s in the "
			       "header",
			       qf->env.id);
	if (env_len < QF_MIN_ENVELOPE || env_len > QUEUE_ENVELOPE_MAX ||
	    QUEUE_HEADER_SIZE + env_len + QUEUE_TRAILER_SIZE > qf->file_size)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "envelope length %llu does not fit the file "
			       "(%llu bytes)",
			       (unsigned long long)env_len,
			       (unsigned long long)qf->file_size);
	qf->env.state = h[QUEUE_STATE_OFFSET];
	*env_len_r = (size_t)env_len;
	return 1;
}

static int qf_parse_trailer(struct queue_file *qf, const unsigned char *t,
			    size_t env_len, const char **error_r)
{
	uint64_t size = queue_get_le(t + 8, 8);
	uint64_t room =
	    qf->file_size - QUEUE_HEADER_SIZE - env_len - QUEUE_TRAILER_SIZE;

	if (memcmp(t, QUEUE_TRAILER_MAGIC, 4) != 0 ||
	    queue_get_le(t + 4, 4) != 0)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "no end mark (truncated or incomplete)");
	if (size != room)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "content is %llu bytes but the end mark says "
			       "%llu",
			       (unsigned long long)room,
			       (unsigned long long)size);
	qf->content_offset = QUEUE_HEADER_SIZE + env_len;
	qf->content_size = size;
	return 1;
}

/* head holds at least header + envelope; trailer its last 16 bytes. */
static int qf_parse_all(struct queue_file *qf, const unsigned char *head,
			size_t env_len, const unsigned char *trailer,
			const char **error_r)
{
	struct qf_parse *p = mem_alloc(sizeof(*p));
	int ret;

	if (qf_parse_trailer(qf, trailer, env_len, error_r) < 0) {
		mem_free(p);
		return -1;
	}
	/* Each record spends 3 header bytes and its value needs one NUL, so
	 * the values fit into env_len bytes. */
	qf->strings = mem_alloc(env_len + 1);
	p->qf = qf;
	p->rec = head + QUEUE_HEADER_SIZE;
	p->env_len = env_len;
	p->strp = qf->strings;
	p->error_r = error_r;
	ret = qf_parse_records(p);
	mem_free(p);
	return ret;
}

static struct queue_file *qf_new(const char *name)
{
	struct queue_file *qf = mem_alloc(sizeof(*qf));

	qf->fd = -1;
	qf->name = mem_strdup(name != NULL ? name : "(image)");
	return qf;
}

int queue_file_parse_image(const void *data, size_t size, const char *name,
			   struct queue_file **qf_r, const char **error_r)
{
	struct queue_file *qf = qf_new(name);
	const unsigned char *d = data;
	size_t env_len;

	*qf_r = NULL;
	qf->file_size = size;
	qf->image = d;
	if (size < QUEUE_HEADER_SIZE + QUEUE_TRAILER_SIZE) {
		qf_fail(error_r, EBADMSG, qf->name, "only %zu bytes", size);
		queue_file_close(&qf);
		return -1;
	}
	if (qf_parse_header(qf, d, name, &env_len, error_r) < 0 ||
	    qf_parse_all(qf, d, env_len, d + size - QUEUE_TRAILER_SIZE,
			 error_r) < 0) {
		queue_file_close(&qf);
		errno = EBADMSG;
		return -1;
	}
	*qf_r = qf;
	return 1;
}

/* pread of exactly len bytes: 1, 0 when the file ended early, -1. */
static int qf_pread(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *b = buf;

	while (len > 0) {
		ssize_t n = pread(fd, b, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 1;
}

static int qf_read_fail(struct queue_file *qf, int r, const char **error_r)
{
	if (r == 0)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "shorter than it was a moment ago");
	return qf_fail(error_r, errno, qf->name, "read: %s", strerror(errno));
}

/* Reads header, envelope and trailer (one pread for most files), then
 * parses them. */
static int qf_load(struct queue_file *qf, const char *name,
		   const char **error_r)
{
	size_t first = qf->file_size < QF_FIRST_READ ? (size_t)qf->file_size
						     : QF_FIRST_READ;
	unsigned char *buf = mem_alloc(first), trailer[QUEUE_TRAILER_SIZE];
	const unsigned char *t;
	size_t env_len, need;
	int r, ret = -1;

	if ((r = qf_pread(qf->fd, buf, first, 0)) <= 0) {
		qf_read_fail(qf, r, error_r);
		goto out;
	}
	if (qf_parse_header(qf, buf, name, &env_len, error_r) < 0)
		goto out;
	need = QUEUE_HEADER_SIZE + env_len;
	if (need > first) {
		buf = mem_realloc(buf, need);
		if ((r = qf_pread(qf->fd, buf + first, need - first, first)) <=
		    0) {
			qf_read_fail(qf, r, error_r);
			goto out;
		}
	}
	if (qf->file_size <= first) {
		t = buf + first - QUEUE_TRAILER_SIZE;
	} else {
		r = qf_pread(qf->fd, trailer, sizeof(trailer),
			     qf->file_size - QUEUE_TRAILER_SIZE);
		if (r <= 0) {
			qf_read_fail(qf, r, error_r);
			goto out;
		}
		t = trailer;
	}
	ret = qf_parse_all(qf, buf, env_len, t, error_r);
out:
	mem_free(buf);
	return ret;
}

/* The checks before reading: type, links, completion mark, lock.
 * Returns 1, 0 (not ready) or -1. */
static int qf_check_fd(struct queue_file *qf, const char **error_r)
{
	struct stat st;

	if (fstat(qf->fd, &st) < 0)
		return qf_fail(error_r, errno, qf->name, "fstat: %s",
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return qf_fail(error_r, EBADMSG, qf->name,
			       "not a regular file");
	if (st.st_nlink == 0)
		return qf_fail(error_r, ENOENT, qf->name, "removed meanwhile");
	if (st.st_nlink != 1)
		return qf_fail(error_r, EBADMSG, qf->name, "has %lu hard links",
			       (unsigned long)st.st_nlink);
	if ((st.st_mode & S_IXUSR) == 0) {
		qf_fail(error_r, EAGAIN, qf->name,
			"incomplete (no completion mark)");
		return 0;
	}
	if (flock(qf->fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return qf_fail(error_r, errno, qf->name, "flock: %s",
				       strerror(errno));
		qf_fail(error_r, EAGAIN, qf->name, "locked by its writer");
		return 0;
	}
	qf->file_size = (uint64_t)st.st_size;
	if (qf->file_size < QUEUE_HEADER_SIZE + QUEUE_TRAILER_SIZE)
		return qf_fail(error_r, EBADMSG, qf->name, "only %llu bytes",
			       (unsigned long long)qf->file_size);
	return 1;
}

int queue_file_openat(int dirfd, const char *name, unsigned flags,
		      struct queue_file **qf_r, const char **error_r)
{
	struct queue_file *qf = qf_new(name);
	const char *base = strrchr(name, '/');
	int r, oflags = (flags & QUEUE_OPEN_WRITE) != 0 ? O_RDWR : O_RDONLY;

	*qf_r = NULL;
	/* O_NONBLOCK: a FIFO planted in a queue must not hang the reader. */
	qf->fd =
	    openat(dirfd, name,
		   oflags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	qf->writable = (flags & QUEUE_OPEN_WRITE) != 0;
	if (qf->fd < 0) {
		r = qf_fail(error_r, errno, qf->name, "open: %s",
			    strerror(errno));
		if (errno == ELOOP)
			errno = EBADMSG; /* a symlink in a queue */
	} else if ((r = qf_check_fd(qf, error_r)) > 0) {
		r = qf_load(qf, base != NULL ? base + 1 : name, error_r);
	}
	if (r <= 0) {
		int saved = errno;
		queue_file_close(&qf);
		errno = saved;
		return r;
	}
	*qf_r = qf;
	return 1;
}

int queue_file_open(const char *path, unsigned flags, struct queue_file **qf_r,
		    const char **error_r)
{
	return queue_file_openat(AT_FDCWD, path, flags, qf_r, error_r);
}

void queue_file_close(struct queue_file **qfp)
{
	struct queue_file *qf = *qfp;

	if (qf == NULL)
		return;
	if (qf->fd >= 0)
		close(qf->fd);
	mem_free(qf->name);
	mem_free(qf->strings);
	mem_free(qf->env.rcpts);
	mem_free(qf->mark_offsets);
	mem_free(qf);
	*qfp = NULL;
}

const struct queue_envelope *queue_file_envelope(const struct queue_file *qf)
{
	return &qf->env;
}

uint64_t queue_file_content_offset(const struct queue_file *qf)
{
	return qf->content_offset;
}

uint64_t queue_file_content_size(const struct queue_file *qf)
{
	return qf->content_size;
}

int queue_file_fd(const struct queue_file *qf)
{
	return qf->fd;
}

ssize_t queue_file_content_read(struct queue_file *qf, uint64_t pos, void *buf,
				size_t len, const char **error_r)
{
	ssize_t n;

	if (pos >= qf->content_size)
		return 0;
	if (len > qf->content_size - pos)
		len = (size_t)(qf->content_size - pos);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (qf->fd < 0) {
		memcpy(buf, qf->image + qf->content_offset + pos, len);
		return (ssize_t)len;
	}
	do
		n = pread(qf->fd, buf, len, (off_t)(qf->content_offset + pos));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return qf_fail(error_r, errno, qf->name, "read: %s",
			       strerror(errno));
	if (n == 0)
		return qf_fail(error_r, EBADMSG, qf->name,
			       "content shorter than its end mark says");
	return n;
}

static int qf_patch(struct queue_file *qf, uint64_t off, unsigned char byte,
		    const char **error_r)
{
	ssize_t n;

	if (qf->fd < 0 || !qf->writable)
		return qf_fail(error_r, EBADF, qf->name,
			       "not open for writing");
	do
		n = pwrite(qf->fd, &byte, 1, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return qf_fail(error_r, n < 0 ? errno : EIO, qf->name,
			       "write mark: %s",
			       n < 0 ? strerror(errno) : "short write");
	return 1;
}

int queue_file_mark(struct queue_file *qf, size_t rcpt,
		    enum queue_rcpt_status status, const char **error_r)
{
	struct queue_rcpt *r;

	if (rcpt >= qf->env.rcpt_count ||
	    (status != QUEUE_RCPT_DONE && status != QUEUE_RCPT_FAILED))
		return qf_fail(error_r, EINVAL, qf->name, "invalid mark %zu=%c",
			       rcpt, (char)status);
	r = &qf->env.rcpts[rcpt];
	if (r->status == status)
		return 1;
	if (r->status != QUEUE_RCPT_PENDING)
		return qf_fail(error_r, EINVAL, qf->name,
			       "recipient %zu is already marked %c", rcpt,
			       (char)r->status);
	if (qf_patch(qf, qf->mark_offsets[rcpt], (unsigned char)status,
		     error_r) < 0)
		return -1;
	r->status = status;
	return 1;
}

int queue_file_sync(struct queue_file *qf, const char **error_r)
{
	if (qf->fd < 0 || fdatasync(qf->fd) < 0)
		return qf_fail(error_r, qf->fd < 0 ? EBADF : errno, qf->name,
			       "fdatasync: %s",
			       qf->fd < 0 ? "no file" : strerror(errno));
	return 1;
}

int queue_file_mark_done(struct queue_file *qf, size_t rcpt,
			 const char **error_r)
{
	if (queue_file_mark(qf, rcpt, QUEUE_RCPT_DONE, error_r) < 0)
		return -1;
	return queue_file_sync(qf, error_r);
}

int queue_file_set_state(struct queue_file *qf, unsigned bits,
			 const char **error_r)
{
	unsigned state = qf->env.state | bits;

	if ((bits & ~QUEUE_STATE_ALL) != 0)
		return qf_fail(error_r, EINVAL, qf->name,
			       "invalid state bits 0x%x", bits);
	if (state == qf->env.state)
		return 1;
	if (qf_patch(qf, QUEUE_STATE_OFFSET, (unsigned char)state, error_r) < 0)
		return -1;
	qf->env.state = state;
	return 1;
}
