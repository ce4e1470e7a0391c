/* fuzz/iobuf_fuzz.c: libFuzzer target for the line splitter of
 * lib/iobuf.c. The first three bytes choose max_line, the read size and
 * how often raw reads (BDAT/literal style) interleave with lines; the rest
 * is the peer's input, delivered with EAGAIN between reads. Every line,
 * overlong-line report and raw chunk is checked against the input itself,
 * so a lost, split, merged or misreported byte aborts. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "iobuf.h"
#include "msg.h"

struct feed {
	const uint8_t *data;
	size_t len, pos, chunk;
	bool stalled;
};

static ssize_t feed_read(void *ctx, void *buf, size_t len)
{
	struct feed *f = ctx;
	size_t n = f->chunk ? f->chunk : len;

	if (!f->stalled) {
		f->stalled = true;
		errno = EAGAIN;
		return -1;
	}
	f->stalled = false;
	if (f->pos == f->len)
		return 0;
	if (n > len)
		n = len;
	if (n > f->len - f->pos)
		n = f->len - f->pos;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static ssize_t feed_write(void *ctx, const void *buf, size_t len)
{
	return (ssize_t)len;
}

static const struct iobuf_transport feed_transport = {feed_read, feed_write};

/* Checks a returned line against the input at *pos and moves past it. */
static void check_line(const uint8_t *in, size_t size, size_t *pos,
		       const struct iobuf_line *l, size_t max_line)
{
	size_t eol = l->eol == IOBUF_EOL_CRLF ? 2 : 1;

	if (l->len > max_line || l->data[l->len] != '\0' ||
	    memchr(l->data, '\n', l->len) != NULL)
		msg_panic("bad line of %zu bytes", l->len);
	if (*pos + l->len + eol > size ||
	    memcmp(in + *pos, l->data, l->len) != 0 ||
	    memcmp(in + *pos + l->len, eol == 2 ? "\r\n" : "\n", eol) != 0)
		msg_panic("line does not match the input at %zu", *pos);
	*pos += l->len + eol;
}

/* An overlong line: must end at the next LF and really be too long. */
static void check_too_long(const uint8_t *in, size_t size, size_t *pos,
			   const struct iobuf_line *l, size_t max_line)
{
	const uint8_t *lf = memchr(in + *pos, '\n', size - *pos);
	size_t content;
	bool crlf;

	if (lf == NULL)
		msg_panic("too-long line without an end");
	crlf = lf > in + *pos && lf[-1] == '\r';
	content = (size_t)(lf - (in + *pos)) - (crlf ? 1 : 0);
	if (content <= max_line || crlf != (l->eol == IOBUF_EOL_CRLF))
		msg_panic("line of %zu bytes reported too long (max %zu)",
			  content, max_line);
	*pos = (size_t)(lf - in) + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iobuf_limits lim = {0, 1024};
	struct feed f = {0};
	struct iobuf *b;
	struct iobuf_line l;
	enum iobuf_status st;
	size_t pos = 0, raw_every, lines = 0;

	if (size < 3)
		return 0;
	lim.max_line = data[0] % 64;
	f.chunk = data[1] % 8;
	raw_every = data[2] % 4;
	f.data = data + 3;
	f.len = size - 3;
	b = iobuf_new_transport(&feed_transport, &f, &lim);
	for (;;) {
		if (raw_every != 0 && lines % raw_every == raw_every - 1) {
			const void *raw;
			size_t n;

			lines++;
			st = iobuf_read_data(b, 1 + data[2] / 4, &raw, &n);
			if (st == IOBUF_OK) {
				if (n > 1 + (size_t)data[2] / 4 ||
				    memcmp(f.data + pos, raw, n) != 0)
					msg_panic("raw data does not match");
				pos += n;
			} else if (st != IOBUF_NEED_MORE) {
				break;
			}
			continue;
		}
		st = iobuf_read_line(b, &l);
		if (st == IOBUF_OK)
			check_line(f.data, f.len, &pos, &l, lim.max_line);
		else if (st == IOBUF_TOO_LONG)
			check_too_long(f.data, f.len, &pos, &l, lim.max_line);
		else if (st != IOBUF_NEED_MORE)
			break;
		lines += st != IOBUF_NEED_MORE;
	}
	if (st != IOBUF_EOF)
		msg_panic("ended with %d, not EOF", (int)st);
	/* what is left is one unterminated (possibly overlong) line */
	if (memchr(f.data + pos, '\n', f.len - pos) != NULL ||
	    iobuf_input_pending(b) > f.len - pos)
		msg_panic("a complete line was left behind at %zu", pos);
	iobuf_free(&b);
	return 0;
}
