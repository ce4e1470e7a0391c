/* dict_source.c: streaming reader of table source files (see dict_source.h).
 * The aliases(5) form "name: value, value" is read by the same code: the
 * colon after a key is dropped (why: dict_source.h).
 *
 * Three layers: a reader that hands out physical lines from a file (through
 * a bounded buffer) or from memory; an assembler that drops comments and
 * joins continuation lines into logical lines; and the entry splitter that
 * turns a logical line into key and value. It sits in the hot path of
 * building million-entry tables, so lines are found with memchr() and the
 * only per-entry copy is the one into the logical-line buffer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "dict_source.h"
#include "mem.h"
#include "str.h"

#define SRC_CHUNK (64 * 1024)
#define SRC_MIN_BUF 256

struct src_reader {
	const char *origin;
	int lineno;
	/* file mode: fd >= 0; buf[start, end) holds unread bytes and
	 * buf[start, scan) is known to hold no newline */
	int fd;
	size_t chunk;
	char *buf;
	size_t cap, start, scan, end;
	bool eof;
	/* memory mode: fd < 0 */
	const char *mem;
	size_t mem_len, mem_pos;
};

struct src_lines {
	const char *origin;
	struct str text; /* the pending logical line */
	int first_line;	 /* its first line number; 0 when none is pending */
	dict_source_line_fn *fn;
	void *ctx;
};

struct src_entries {
	const char *origin;
	dict_source_fn *fn;
	void *ctx;
};

static struct str src_error;

static inline bool src_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Formats "origin:line: message" (line 0: "origin: message") into the
 * module's error buffer and returns -1. */
static int __attribute__((format(printf, 4, 5)))
src_fail(const char **error_r, const char *origin, int line, const char *fmt,
	 ...)
{
	va_list ap;

	if (src_error.data == NULL)
		str_init(&src_error, 128);
	str_clear(&src_error);
	if (line > 0)
		str_printf(&src_error, "%s:%d: ", origin, line);
	else
		str_printf(&src_error, "%s: ", origin);
	va_start(ap, fmt);
	str_vprintf(&src_error, fmt, ap);
	va_end(ap);
	*error_r = src_error.data;
	return -1;
}

static int src_too_long(const char **error_r, const char *origin, int line)
{
	return src_fail(error_r, origin, line, "line longer than %d bytes",
			DICT_SOURCE_LINE_MAX);
}

/* Reads more input into the buffer, first moving the partial line to the
 * front; the buffer grows only while a line is longer than one chunk. */
static int src_fill(struct src_reader *r, const char **error_r)
{
	size_t want;
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t limit = DICT_SOURCE_LINE_MAX + r->chunk + 1;

		r->cap = r->cap > limit / 2 ? limit : r->cap * 2;
		r->buf = mem_realloc(r->buf, r->cap);
	}
	want = r->cap - r->end;
	if (want > r->chunk)
		want = r->chunk;
	do
		n = read(r->fd, r->buf + r->end, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return src_fail(error_r, r->origin, 0, "read error: %s",
				strerror(errno));
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 1;
}

/* Finds the next physical line in file mode. */
static int src_next_fd(struct src_reader *r, const char **line_r, size_t *len_r,
		       const char **error_r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);

		if (nl != NULL) {
			*line_r = r->buf + r->start;
			*len_r = (size_t)(nl - *line_r);
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			return 1;
		}
		r->scan = r->end;
		if (r->eof) {
			if (r->start == r->end)
				return 0;
			*line_r = r->buf + r->start;
			*len_r = r->end - r->start;
			r->start = r->end;
			return 1;
		}
		if (r->end - r->start > DICT_SOURCE_LINE_MAX)
			return src_too_long(error_r, r->origin, r->lineno + 1);
		if (src_fill(r, error_r) < 0)
			return -1;
	}
}

/* Finds the next physical line in memory mode. */
static int src_next_mem(struct src_reader *r, const char **line_r,
			size_t *len_r)
{
	const char *p = r->mem + r->mem_pos;
	size_t left = r->mem_len - r->mem_pos;
	const char *nl;

	if (left == 0)
		return 0;
	nl = memchr(p, '\n', left);
	*line_r = p;
	*len_r = nl != NULL ? (size_t)(nl - p) : left;
	r->mem_pos += *len_r + (nl != NULL);
	return 1;
}

/* Returns the next physical line without its newline: 1, 0 at the end,
 * -1 on error. The line stays valid until the next call. */
static int src_next_line(struct src_reader *r, const char **line_r,
			 size_t *len_r, const char **error_r)
{
	int ret = r->fd >= 0 ? src_next_fd(r, line_r, len_r, error_r)
			     : src_next_mem(r, line_r, len_r);

	if (ret <= 0)
		return ret;
	if (r->lineno == INT_MAX)
		return src_fail(error_r, r->origin, 0, "too many lines");
	r->lineno++;
	if (*len_r > DICT_SOURCE_LINE_MAX)
		return src_too_long(error_r, r->origin, r->lineno);
	return 1;
}

static void src_trim(struct str *s)
{
	size_t len = s->len;

	while (len > 0 && src_is_ws(s->data[len - 1]))
		len--;
	str_truncate(s, len);
}

/* Hands the pending logical line, if any, to the callback. */
static int src_flush(struct src_lines *l, const char **error_r)
{
	int ret;

	if (l->first_line == 0)
		return 0;
	src_trim(&l->text);
	ret = l->fn(l->ctx, l->text.data, l->text.len, l->first_line, error_r);
	l->first_line = 0;
	str_clear(&l->text);
	return ret < 0 ? -1 : 0;
}

/* Adds one physical line to the logical line being assembled. */
static int src_physical(struct src_lines *l, const char *p, size_t len,
			int lineno, const char **error_r)
{
	size_t i = 0;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (memchr(p, '\0', len) != NULL)
		return src_fail(error_r, l->origin, lineno, "NUL byte in line");
	while (i < len && src_is_ws(p[i]))
		i++;
	if (i == len || p[i] == '#')
		return 0;
	if (i > 0) {
		if (l->first_line == 0)
			return src_fail(error_r, l->origin, lineno,
					"continuation line without a "
					"preceding entry");
		src_trim(&l->text);
		if (str_putc(&l->text, ' ') < 0 ||
		    str_append(&l->text, p + i, len - i) < 0)
			return src_too_long(error_r, l->origin, l->first_line);
		return 0;
	}
	if (src_flush(l, error_r) < 0)
		return -1;
	if (str_set(&l->text, p, len) < 0)
		return src_too_long(error_r, l->origin, lineno);
	l->first_line = lineno;
	return 0;
}

static int src_run(struct src_reader *r, dict_source_line_fn *fn, void *ctx,
		   const char **error_r)
{
	struct src_lines l = {.origin = r->origin, .fn = fn, .ctx = ctx};
	const char *p = NULL;
	size_t len = 0;
	int ret;

	str_init(&l.text, 256);
	l.text.max = DICT_SOURCE_LINE_MAX;
	while ((ret = src_next_line(r, &p, &len, error_r)) > 0) {
		if (src_physical(&l, p, len, r->lineno, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0)
		ret = src_flush(&l, error_r) < 0 ? -1 : 1;
	str_deinit(&l.text);
	return ret;
}

static int src_run_fd(const char *origin, int fd, size_t chunk,
		      dict_source_line_fn *fn, void *ctx, const char **error_r)
{
	struct src_reader r = {.origin = origin, .fd = fd};
	int ret;

	r.chunk = chunk == 0 ? SRC_CHUNK : chunk;
	r.cap = r.chunk < SRC_MIN_BUF ? SRC_MIN_BUF : r.chunk;
	r.buf = mem_alloc(r.cap);
	ret = src_run(&r, fn, ctx, error_r);
	mem_free(r.buf);
	return ret;
}

static int src_run_file(const char *path, dict_source_line_fn *fn, void *ctx,
			const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return src_fail(error_r, path, 0, "cannot open: %s",
				strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	ret = src_run_fd(path, fd, SRC_CHUNK, fn, ctx, error_r);
	close(fd);
	return ret;
}

int dict_source_lines_file(const char *path, dict_source_line_fn *fn, void *ctx,
			   const char **error_r)
{
	return src_run_file(path, fn, ctx, error_r);
}

int dict_source_lines_buffer(const char *origin, const char *buf, size_t len,
			     dict_source_line_fn *fn, void *ctx,
			     const char **error_r)
{
	struct src_reader r = {
	    .origin = origin, .fd = -1, .mem = buf, .mem_len = len};

	return src_run(&r, fn, ctx, error_r);
}

/* Reads a quoted key in place: text points at the opening quote. Sets
 * *key_r and returns the position just after the closing quote. */
static char *src_quoted_key(char *text, char *end, char **key_r, int line,
			    const struct src_entries *e, const char **error_r)
{
	char *p = text + 1, *w = p;

	for (;;) {
		char c;

		if (p == end) {
			src_fail(error_r, e->origin, line,
				 "unterminated quoted key");
			return NULL;
		}
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\' && p < end && (*p == '"' || *p == '\\'))
			c = *p++;
		*w++ = c;
	}
	if (w == text + 1) {
		src_fail(error_r, e->origin, line, "empty key");
		return NULL;
	}
	if (p < end && *p == ':')
		p++; /* aliases(5): "name with blanks": value */
	if (p < end && !src_is_ws(*p)) {
		src_fail(error_r, e->origin, line,
			 "expected whitespace after quoted key");
		return NULL;
	}
	*w = '\0';
	*key_r = text + 1;
	return p;
}

/* Splits a logical line into key and value (a dict_source_line_fn). */
static int src_entry(void *ctx, char *text, size_t len, int line,
		     const char **error_r)
{
	const struct src_entries *e = ctx;
	char *end = text + len, *p = text, *key = text, *key_end = NULL;

	if (*p == '"') {
		p = src_quoted_key(text, end, &key, line, e, error_r);
		if (p == NULL)
			return -1;
	} else {
		while (p < end && !src_is_ws(*p))
			p++;
		key_end = p;
		/* aliases(5): "name: value"; a key that must end in ':'
		 * is written in quotes */
		if (key_end - key > 1 && key_end[-1] == ':')
			key_end--;
	}
	while (p < end && src_is_ws(*p))
		p++;
	if (p == end)
		return src_fail(error_r, e->origin, line,
				"expected key whitespace value");
	if (key_end != NULL)
		*key_end = '\0';
	return e->fn(e->ctx, key, p, line, error_r) < 0 ? -1 : 0;
}

int dict_source_parse_file(const char *path, dict_source_fn *fn, void *ctx,
			   const char **error_r)
{
	struct src_entries e = {.origin = path, .fn = fn, .ctx = ctx};

	return src_run_file(path, src_entry, &e, error_r);
}

int dict_source_parse_buffer(const char *origin, const char *buf, size_t len,
			     dict_source_fn *fn, void *ctx,
			     const char **error_r)
{
	struct src_entries e = {.origin = origin, .fn = fn, .ctx = ctx};

	return dict_source_lines_buffer(origin, buf, len, src_entry, &e,
					error_r);
}

int dict_source_parse_fd(const char *origin, int fd, size_t chunk,
			 dict_source_fn *fn, void *ctx, const char **error_r)
{
	struct src_entries e = {.origin = origin, .fn = fn, .ctx = ctx};

	return src_run_fd(origin, fd, chunk, src_entry, &e, error_r);
}
