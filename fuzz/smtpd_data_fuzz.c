/* fuzz/smtpd_data_fuzz.c: libFuzzer target for smtpd's content framing
 * (lib/smtp_data.c) driven through a real lib/iobuf over a memory transport
 * that hands the input out in pieces of varying size, as the daemon does.
 * The first byte picks DATA or BDAT, the size limit, the line limit and
 * the piece sizes. Beyond "no crash" it checks the promises of smtp_data.h:
 * DATA ends only at CRLF "." CRLF; accepted content never holds a bare CR,
 * a bare LF or a NUL, and never exceeds the limit; BDAT content accepted
 * is the input unchanged (or, with a bare LF allowed, clean); DATA content
 * accepted dot-stuffed again gives the input back. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "iobuf.h"
#include "msg.h"
#include "smtp_data.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem_in {
	const uint8_t *p;
	size_t len, pos;
	unsigned step;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_in *m = ctx;
	size_t n = m->len - m->pos;

	if (n == 0)
		return 0;
	if (n > m->step)
		n = m->step;
	if (n > len)
		n = len;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	m->step = m->step * 7 % 61 + 1;
	return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	errno = EIO;
	return len > 0 ? -1 : 0;
}

static const struct iobuf_transport mem_transport = {mem_read, mem_write};

static void check_clean(const struct str *out, const struct smtpd_data *d)
{
	if (d->max != 0 && out->len > d->max)
		msg_panic("content over the limit");
	for (size_t i = 0; i < out->len; i++) {
		char c = out->data[i];

		if (c == '\0')
			msg_panic("NUL in accepted content");
		if (c == '\r' &&
		    (i + 1 == out->len || out->data[i + 1] != '\n'))
			msg_panic("bare CR in accepted content");
		if (c == '\n' && (i == 0 || out->data[i - 1] != '\r'))
			msg_panic("bare LF in accepted content");
	}
}

/* Dot-stuffs out again and checks it is the consumed input. */
static void check_roundtrip(const struct str *out, const uint8_t *in,
			    size_t used)
{
	struct str again;
	bool bol = true;

	str_init(&again, out->len + 8);
	for (size_t i = 0; i < out->len; i++) {
		if (bol && out->data[i] == '.')
			str_putc(&again, '.');
		str_putc(&again, out->data[i]);
		bol = out->data[i] == '\n';
	}
	str_append(&again, ".\r\n", 3);
	/* A leading dot before a non-dot is removed on input (RFC 5321
	 * 4.5.2) and not put back, so compare only when there was none. */
	if (again.len == used && memcmp(again.data, in, used) != 0)
		msg_panic("DATA content does not round-trip");
	str_deinit(&again);
}

static void fuzz_data(const uint8_t *in, size_t len, uint64_t max,
		      size_t max_line, unsigned step)
{
	struct iobuf_limits lim = {.max_line = max_line, .max_output = 64};
	struct mem_in m = {.p = in, .len = len, .step = step};
	struct iobuf *b = iobuf_new_transport(&mem_transport, &m, &lim);
	struct smtpd_data d;
	struct iobuf_line line;
	enum iobuf_status st;
	struct str out;
	bool ended = false;

	str_init(&out, 0);
	smtpd_data_init(&d, max);
	while (!ended && ((st = iobuf_read_line(b, &line)) == IOBUF_OK ||
			  st == IOBUF_TOO_LONG || st == IOBUF_NEED_MORE)) {
		if (st == IOBUF_NEED_MORE)
			continue;
		if (st == IOBUF_TOO_LONG)
			smtpd_data_line_dropped(&d, line.eol);
		else if (smtpd_data_line(&d, line.data, line.len, line.eol,
					 &out) == 1)
			ended = true;
	}
	if (ended) {
		size_t used = len - iobuf_input_pending(b) - (m.len - m.pos);

		if (used < 3 || memcmp(in + used - 3, ".\r\n", 3) != 0 ||
		    (used > 3 && memcmp(in + used - 5, "\r\n", 2) != 0))
			msg_panic("DATA ended without CRLF . CRLF");
		if (d.flags == 0) {
			check_clean(&out, &d);
			check_roundtrip(&out, in, used);
		}
	}
	str_deinit(&out);
	iobuf_free(&b);
}

static void fuzz_bdat(const uint8_t *in, size_t len, uint64_t max,
		      unsigned step, bool lf_ok)
{
	struct smtpd_data d;
	struct str out;
	size_t pos = 0, n;

	str_init(&out, 0);
	smtpd_data_init(&d, max);
	d.bare_lf_ok = lf_ok;
	while (pos < len) {
		n = step < len - pos ? step : len - pos;
		smtpd_data_chunk(&d, (const char *)in + pos, n, &out);
		pos += n;
		step = step * 5 % 97 + 1;
	}
	smtpd_data_chunk_end(&d);
	if (d.flags == 0) {
		check_clean(&out, &d);
		if (!lf_ok &&
		    (out.len != len || memcmp(out.data, in, len) != 0))
			msg_panic("BDAT content changed");
	}
	str_deinit(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t maxes[] = {0, 1, 16, 1000};
	static const size_t lines[] = {2, 8, 64, 1024};
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0];
	if (mode & 0x80)
		fuzz_bdat(data + 1, size - 1, maxes[mode & 3],
			  (mode >> 2 & 7) + 1, (mode & 0x20) != 0);
	else
		fuzz_data(data + 1, size - 1, maxes[mode & 3],
			  lines[mode >> 2 & 3], (mode >> 4 & 7) + 1);
	return 0;
}
