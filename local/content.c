/* content.c: the queued message as a byte stream in the local convention
 * (see content.h). One pass, byte by byte, with two small states: a CR
 * waiting to see whether an LF follows, and the first bytes of a line
 * held back until they can no longer begin "From ". */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "content.h"
#include "file.h"

#define CONTENT_CHUNK 65536

void content_init(struct content_stream *s, int fd, uint64_t offset,
		  uint64_t size, unsigned flags)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->offset = offset;
	s->size = size;
	s->flags = flags;
	s->bol = true;
	s->last = '\n';
	str_init(&s->prefix, 256);
}

void content_deinit(struct content_stream *s)
{
	str_deinit(&s->prefix);
}

static void emit(struct content_stream *s, struct str *out, const char *p,
		 size_t n)
{
	if (n == 0)
		return;
	str_append(out, p, n);
	s->last = p[n - 1];
	s->bol = s->last == '\n';
}

/* One byte of the LF-terminated text: quoting happens at line starts. */
static void put_byte(struct content_stream *s, struct str *out, char c)
{
	static const char from[] = "From ";

	if (!s->bol || !(s->flags & (CONTENT_QUOTE_FROM | CONTENT_DOT))) {
		emit(s, out, &c, 1);
		return;
	}
	if (s->hold_len == 0 && (s->flags & CONTENT_DOT) && c == '.')
		str_putc(out, '.');
	if (!(s->flags & CONTENT_QUOTE_FROM)) {
		emit(s, out, &c, 1);
		return;
	}
	s->hold[s->hold_len++] = c;
	if (memcmp(s->hold, from, s->hold_len) == 0) {
		if (s->hold_len < sizeof(from) - 1)
			return;
		str_putc(out, '>');
	}
	emit(s, out, s->hold, s->hold_len);
	s->hold_len = 0;
}

static int read_piece(struct content_stream *s, char *buf, size_t *len_r,
		      const char **error_r)
{
	size_t want = CONTENT_CHUNK;
	ssize_t n;

	if (want > s->size - s->pos)
		want = (size_t)(s->size - s->pos);
	do
		n = pread(s->fd, buf, want, (off_t)(s->offset + s->pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		*error_r = n < 0 ? "cannot read the queue file"
				 : "queue file shorter than its content size";
		return -1;
	}
	s->pos += (uint64_t)n;
	*len_r = (size_t)n;
	return 1;
}

/* After the last byte: what was held back, then the optional end. */
static void finish(struct content_stream *s, struct str *out)
{
	if (s->cr)
		put_byte(s, out, '\r');
	s->cr = false;
	emit(s, out, s->hold, s->hold_len);
	s->hold_len = 0;
	if (s->flags & CONTENT_BLANK_END) {
		if (s->last != '\n')
			emit(s, out, "\n", 1);
		emit(s, out, "\n", 1);
	}
	s->done = true;
}

int content_next(struct content_stream *s, struct str *out,
		 const char **error_r)
{
	char buf[CONTENT_CHUNK];
	size_t n, before = out->len;

	if (!s->prefix_done) {
		s->prefix_done = true;
		if (s->prefix.len > 0) {
			str_append(out, s->prefix.data, s->prefix.len);
			return 1;
		}
	}
	if (s->done)
		return 0;
	if (s->pos >= s->size) {
		finish(s, out);
		return out->len > before ? 1 : 0;
	}
	if (read_piece(s, buf, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (s->cr && c != '\n')
			put_byte(s, out, '\r');
		s->cr = c == '\r';
		if (!s->cr)
			put_byte(s, out, c);
	}
	return 1;
}

int content_write_fd(struct content_stream *s, int fd, const char **error_r)
{
	struct str out;
	int r;

	str_init(&out, CONTENT_CHUNK + 1024);
	while ((r = content_next(s, &out, error_r)) > 0) {
		r = file_write_all(fd, out.data, out.len, error_r);
		str_clear(&out);
		if (r < 0)
			break;
	}
	str_deinit(&out);
	return r < 0 ? -1 : 1;
}

int content_read_headers(int fd, uint64_t offset, uint64_t size,
			 struct str *out, const char **error_r)
{
	char buf[8192];
	uint64_t pos = 0;
	size_t want;
	ssize_t n;
	char *end;

	str_clear(out);
	while (out->len < CONTENT_HEADERS_MAX && pos < size) {
		want = size - pos < sizeof(buf) ? (size_t)(size - pos)
						: sizeof(buf);
		do
			n = pread(fd, buf, want, (off_t)(offset + pos));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			*error_r = n < 0
				       ? strerror(errno)
				       : "queue file shorter than its content "
					 "size";
			return -1;
		}
		/* the search starts a little before the new bytes, where a
		 * CRLFCRLF may straddle two reads */
		size_t from = out->len > 3 ? out->len - 3 : 0;

		str_append(out, buf, (size_t)n);
		pos += (uint64_t)n;
		if (out->len >= 2 && memcmp(out->data, "\r\n", 2) == 0) {
			str_truncate(out, 0); /* no header at all */
			break;
		}
		end = memmem(out->data + from, out->len - from, "\r\n\r\n", 4);
		if (end != NULL) {
			str_truncate(out, (size_t)(end - out->data) + 2);
			break;
		}
	}
	return 1;
}

size_t content_header_count(const struct str *h, const char *name,
			    const char *value)
{
	size_t nlen = strlen(name), vlen = value != NULL ? strlen(value) : 0;
	size_t count = 0;
	const char *p = h->data, *end = h->data + h->len, *eol, *v;

	for (; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			if (value == NULL) {
				count++;
			} else {
				v = p + nlen + 1;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				if ((size_t)(eol - v) >= vlen &&
				    strncasecmp(v, value, vlen) == 0) {
					const char *rest = v + vlen;

					while (rest < eol &&
					       (*rest == ' ' || *rest == '\t'))
						rest++;
					if (rest == eol)
						count++;
				}
			}
		}
		if (eol == end)
			break;
	}
	return count;
}

void content_from_line(struct str *out, const char *sender, time_t when)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	str_append_cstr(out, "From ");
	if (*sender == '\0')
		sender = "MAILER-DAEMON";
	/* the line is split at blanks by mbox readers */
	for (const char *p = sender; *p != '\0'; p++)
		str_putc(out,
			 (unsigned char)*p <= ' ' || *p == 0x7f ? '_' : *p);
	localtime_r(&when, &tm);
	str_printf(out, " %s %s %2d %02d:%02d:%02d %d\n", days[tm.tm_wday % 7],
		   months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min,
		   tm.tm_sec, tm.tm_year + 1900);
}
