/* iobuf.c: buffered non-blocking line/raw I/O over a pluggable transport
 * (see iobuf.h). Used by every network daemon and by the IPC codec.
 *
 * The input buffer is a window [start, end) over data[cap]. It grows up to
 * in_max, which is at least max_line + 2, so a buffer that is full without
 * a LF always holds an overlong line: the splitter then switches to
 * discarding until the next LF instead of growing further. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iobuf.h"
#include "mem.h"
#include "msg.h"

#define IOBUF_INITIAL 4096
#define IOBUF_MIN_IN_MAX 16384
/* Bytes of an overlong line dropped in one call before yielding. */
#define IOBUF_DISCARD_BUDGET (1024 * 1024)

struct iobuf_window {
	char *data;
	size_t start, end, cap;
};

struct iobuf {
	const struct iobuf_transport *t;
	void *tctx;
	int fd; /* for the built-in fd transport */
	struct iobuf_limits limits;
	struct iobuf_window in, out;
	size_t in_max;
	size_t scanned;	 /* bytes after in.start known to hold no LF */
	bool discarding; /* inside an overlong line */
	bool eof;
	bool failed;
	char error[256];
};

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	return read(*(int *)ctx, buf, len);
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	/* MSG_NOSIGNAL spares us SIGPIPE on sockets; pipes fall back */
	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, buf, len);
	return n;
}

static const struct iobuf_transport fd_transport = {fd_read, fd_write};

struct iobuf *iobuf_new_transport(const struct iobuf_transport *t, void *ctx,
				  const struct iobuf_limits *limits)
{
	struct iobuf *b = mem_alloc(sizeof(*b));

	b->t = t;
	b->tctx = ctx;
	b->fd = -1;
	b->limits.max_line = IOBUF_DEFAULT_MAX_LINE;
	b->limits.max_output = IOBUF_DEFAULT_MAX_OUTPUT;
	if (limits != NULL)
		b->limits = *limits;
	if (b->limits.max_line > IOBUF_MAX_LINE_LIMIT)
		msg_panic("iobuf: max_line %zu over the limit %zu",
			  b->limits.max_line, IOBUF_MAX_LINE_LIMIT);
	b->in_max = b->limits.max_line + 2;
	if (b->in_max < IOBUF_MIN_IN_MAX)
		b->in_max = IOBUF_MIN_IN_MAX;
	b->in.cap = IOBUF_INITIAL;
	b->in.data = mem_alloc(b->in.cap);
	return b;
}

struct iobuf *iobuf_new(int fd, const struct iobuf_limits *limits)
{
	struct iobuf *b = iobuf_new_transport(&fd_transport, NULL, limits);

	b->fd = fd;
	b->tctx = &b->fd;
	return b;
}

void iobuf_set_transport(struct iobuf *b, const struct iobuf_transport *t,
			 void *ctx)
{
	b->t = t;
	b->tctx = ctx;
}

void iobuf_free(struct iobuf **bp)
{
	struct iobuf *b = *bp;

	if (b == NULL)
		return;
	mem_free(b->in.data);
	mem_free(b->out.data);
	mem_free(b);
	*bp = NULL;
}

const char *iobuf_error(const struct iobuf *b)
{
	return b->error;
}

static void iobuf_set_error(struct iobuf *b, const char *what, int err)
{
	snprintf(b->error, sizeof(b->error), "%s: %s", what, strerror(err));
}

/* ---- input */

static size_t in_len(const struct iobuf *b)
{
	return b->in.end - b->in.start;
}

static void in_consume(struct iobuf *b, size_t n)
{
	b->in.start += n;
	b->scanned = 0;
	if (b->in.start == b->in.end)
		b->in.start = b->in.end = 0;
}

/* Makes free room at the end of the input window: moves the data to the
 * front, or grows the buffer up to in_max. */
static void in_make_room(struct iobuf *b)
{
	struct iobuf_window *w = &b->in;
	size_t len = w->end - w->start;

	if (w->start > 0 &&
	    (w->cap - w->end < w->cap / 4 || w->end == w->cap)) {
		memmove(w->data, w->data + w->start, len);
		w->start = 0;
		w->end = len;
	}
	if (w->end == w->cap && w->cap < b->in_max) {
		w->cap = w->cap > b->in_max / 2 ? b->in_max : w->cap * 2;
		w->data = mem_realloc(w->data, w->cap);
	}
}

/* One transport read into the input buffer. Returns IOBUF_OK (got bytes),
 * IOBUF_NEED_MORE, IOBUF_EOF or IOBUF_ERROR. */
static enum iobuf_status in_fill(struct iobuf *b)
{
	ssize_t n;

	if (b->failed)
		return IOBUF_ERROR;
	if (b->eof)
		return IOBUF_EOF;
	in_make_room(b);
	if (b->in.end == b->in.cap)
		msg_panic("iobuf: input buffer full without an overlong line");
	do {
		n = b->t->read(b->tctx, b->in.data + b->in.end,
			       b->in.cap - b->in.end);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		b->in.end += (size_t)n;
		return IOBUF_OK;
	}
	if (n == 0) {
		b->eof = true;
		return IOBUF_EOF;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IOBUF_NEED_MORE;
	b->failed = true;
	iobuf_set_error(b, "read", errno);
	return IOBUF_ERROR;
}

/* Looks for a complete line in the buffer. Returns IOBUF_OK with the line,
 * IOBUF_TOO_LONG for a complete overlong line (consumed), IOBUF_NEED_MORE
 * when the line is incomplete; an incomplete line that can no longer fit
 * switches to discarding (also IOBUF_NEED_MORE). */
static enum iobuf_status in_split(struct iobuf *b, struct iobuf_line *line_r)
{
	char *base = b->in.data + b->in.start;
	size_t len = in_len(b), pos, content;
	char *lf = memchr(base + b->scanned, '\n', len - b->scanned);

	if (lf == NULL) {
		/* a trailing CR may still become the CR of a CRLF */
		size_t least = len > 0 && base[len - 1] == '\r' ? len - 1 : len;

		b->scanned = len;
		if (least > b->limits.max_line)
			b->discarding = true;
		return IOBUF_NEED_MORE;
	}
	pos = (size_t)(lf - base);
	content = pos;
	line_r->eol = IOBUF_EOL_LF;
	if (pos > 0 && base[pos - 1] == '\r') {
		content--;
		line_r->eol = IOBUF_EOL_CRLF;
	}
	in_consume(b, pos + 1);
	if (content > b->limits.max_line) {
		line_r->data = "";
		line_r->len = 0;
		return IOBUF_TOO_LONG;
	}
	/* the terminator is consumed, so its first byte can become the NUL */
	base[content] = '\0';
	line_r->data = base;
	line_r->len = content;
	return IOBUF_OK;
}

/* Drops input up to and including the LF that ends the overlong line.
 * Returns IOBUF_TOO_LONG when it ended, else IOBUF_NEED_MORE. */
static enum iobuf_status in_discard(struct iobuf *b, struct iobuf_line *line_r)
{
	char *base = b->in.data + b->in.start;
	size_t len = in_len(b);
	char *lf = memchr(base, '\n', len);

	if (lf == NULL) {
		/* keep a trailing CR: it tells CRLF from LF when the LF comes
		 */
		if (len > 0 && base[len - 1] == '\r')
			len--;
		in_consume(b, len);
		return IOBUF_NEED_MORE;
	}
	line_r->eol =
	    lf > base && lf[-1] == '\r' ? IOBUF_EOL_CRLF : IOBUF_EOL_LF;
	line_r->data = "";
	line_r->len = 0;
	in_consume(b, (size_t)(lf - base) + 1);
	b->discarding = false;
	return IOBUF_TOO_LONG;
}

enum iobuf_status iobuf_read_line(struct iobuf *b, struct iobuf_line *line_r)
{
	size_t dropped = 0;

	for (;;) {
		enum iobuf_status st;

		if (!b->discarding) {
			st = in_split(b, line_r);
			if (st != IOBUF_NEED_MORE)
				return st;
		}
		if (b->discarding) {
			size_t before = in_len(b);

			st = in_discard(b, line_r);
			if (st != IOBUF_NEED_MORE)
				return st;
			dropped += before - in_len(b);
			if (dropped > IOBUF_DISCARD_BUDGET)
				return IOBUF_NEED_MORE;
		}
		st = in_fill(b);
		if (st != IOBUF_OK)
			return st;
	}
}

enum iobuf_status iobuf_read_data(struct iobuf *b, size_t max,
				  const void **data_r, size_t *len_r)
{
	size_t n;

	if (max == 0 || b->discarding)
		msg_panic("iobuf_read_data: %s",
			  max == 0 ? "zero length" : "inside an overlong line");
	if (in_len(b) == 0) {
		enum iobuf_status st = in_fill(b);

		if (st != IOBUF_OK)
			return st;
	}
	n = in_len(b) < max ? in_len(b) : max;
	*data_r = b->in.data + b->in.start;
	*len_r = n;
	in_consume(b, n);
	return IOBUF_OK;
}

size_t iobuf_input_pending(const struct iobuf *b)
{
	return in_len(b);
}

size_t iobuf_take_input(struct iobuf *b, struct str *out)
{
	size_t n = in_len(b);

	if (out != NULL && n > 0 &&
	    str_append(out, b->in.data + b->in.start, n) < 0)
		msg_panic("iobuf_take_input: destination string is limited");
	in_consume(b, n);
	b->discarding = false;
	return n;
}

/* ---- output */

int iobuf_write(struct iobuf *b, const void *data, size_t len)
{
	struct iobuf_window *w = &b->out;
	size_t pending = w->end - w->start;

	if (pending > b->limits.max_output ||
	    len > b->limits.max_output - pending)
		return -1;
	if (w->cap - w->end < len) {
		if (pending > 0 && w->start > 0)
			memmove(w->data, w->data + w->start, pending);
		w->start = 0;
		w->end = pending;
		if (w->cap - w->end < len) {
			size_t cap = w->cap < 1024 ? 1024 : w->cap;

			while (cap - pending < len)
				cap = size_mul(cap, 2);
			w->data = mem_realloc(w->data, cap);
			w->cap = cap;
		}
	}
	if (len > 0)
		memcpy(w->data + w->end, data, len);
	w->end += len;
	return 1;
}

int iobuf_printf(struct iobuf *b, const char *fmt, ...)
{
	struct str s;
	va_list ap;
	int ret;

	str_init(&s, 128);
	va_start(ap, fmt);
	ret = str_vprintf(&s, fmt, ap);
	va_end(ap);
	if (ret > 0)
		ret = iobuf_write(b, s.data, s.len);
	str_deinit(&s);
	return ret;
}

int iobuf_flush(struct iobuf *b)
{
	struct iobuf_window *w = &b->out;

	while (w->start < w->end) {
		ssize_t n =
		    b->t->write(b->tctx, w->data + w->start, w->end - w->start);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			iobuf_set_error(b, "write", errno);
			return -1;
		}
		if (n == 0) {
			snprintf(b->error, sizeof(b->error),
				 "write: transport accepted nothing");
			return -1;
		}
		w->start += (size_t)n;
	}
	w->start = w->end = 0;
	return 1;
}

size_t iobuf_output_pending(const struct iobuf *b)
{
	return b->out.end - b->out.start;
}

bool iobuf_output_backed_up(const struct iobuf *b)
{
	return iobuf_output_pending(b) >= b->limits.max_output / 2 &&
	       iobuf_output_pending(b) > 0;
}
