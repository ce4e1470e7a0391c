/* smtp_data.c: DATA and BDAT content framing for smtpd and lmtpd (see
 * smtp_data.h): end of data only at CRLF "." CRLF, dot-unstuffing, and
 * refusal of bare CR, bare LF (unless allowed: then stored as CRLF), NUL
 * and oversize content. Pure functions over caller-held state. */
#include "config.h"

#include <string.h>

#include "smtp_data.h"

void smtpd_data_init(struct smtpd_data *d, uint64_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max;
	d->after_crlf = true;
}

/* Accounts for n more content bytes; false once over the limit. */
static bool data_room(struct smtpd_data *d, size_t n)
{
	if (d->max != 0 && (n > d->max || d->size > d->max - n)) {
		d->size = d->max + 1;
		d->flags |= DATA_F_TOO_BIG;
		return false;
	}
	d->size += n;
	return true;
}

static void data_append(struct smtpd_data *d, const char *p, size_t n,
			struct str *out)
{
	if (!data_room(d, n) || d->flags != 0)
		return;
	if (str_append(out, p, n) < 0)
		d->flags |= DATA_F_TOO_BIG;
}

int smtpd_data_line(struct smtpd_data *d, const char *line, size_t len,
		    enum iobuf_eol eol, struct str *out)
{
	bool line_start = d->after_crlf;

	d->after_crlf = eol == IOBUF_EOL_CRLF;
	if (eol != IOBUF_EOL_CRLF && !d->bare_lf_ok)
		d->flags |= DATA_F_BARE_LF;
	/* Only a "." line between two CRLFs ends the data: "\n.\r\n",
	 * ".\n" and "\r.\r\n" stay content (and make the message bad). */
	if (line_start && eol == IOBUF_EOL_CRLF && len == 1 && line[0] == '.')
		return 1;
	if (memchr(line, '\r', len) != NULL)
		d->flags |= DATA_F_BARE_CR;
	if (memchr(line, '\0', len) != NULL)
		d->flags |= DATA_F_NUL;
	if (line_start && len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	data_append(d, line, len, out);
	data_append(d, "\r\n", 2, out);
	return 0;
}

void smtpd_data_line_dropped(struct smtpd_data *d, enum iobuf_eol eol)
{
	d->flags |= DATA_F_LINE_TOO_LONG;
	if (eol != IOBUF_EOL_CRLF && !d->bare_lf_ok)
		d->flags |= DATA_F_BARE_LF;
	d->after_crlf = eol == IOBUF_EOL_CRLF;
}

void smtpd_data_chunk(struct smtpd_data *d, const char *data, size_t len,
		      struct str *out)
{
	size_t start = 0; /* bytes before start are in out already */

	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (d->pending_cr && c != '\n') {
			d->flags |= DATA_F_BARE_CR;
		} else if (!d->pending_cr && c == '\n' && d->bare_lf_ok) {
			data_append(d, data + start, i - start, out);
			data_append(d, "\r\n", 2, out);
			start = i + 1;
		} else if (!d->pending_cr && c == '\n') {
			d->flags |= DATA_F_BARE_LF;
		}
		if (c == '\0')
			d->flags |= DATA_F_NUL;
		d->pending_cr = c == '\r';
	}
	data_append(d, data + start, len - start, out);
}

void smtpd_data_chunk_end(struct smtpd_data *d)
{
	if (d->pending_cr)
		d->flags |= DATA_F_BARE_CR;
	d->pending_cr = false;
}

const char *smtpd_data_error_reply(unsigned flags)
{
	if (flags & DATA_F_TOO_BIG)
		return "552 5.3.4 Error: message file too big";
	if (flags & (DATA_F_BARE_LF | DATA_F_BARE_CR))
		return "550 5.5.2 Error: bare LF or CR in message (only CRLF "
		       "ends a line)";
	if (flags & DATA_F_NUL)
		return "550 5.6.0 Error: NUL byte in message";
	if (flags & DATA_F_LINE_TOO_LONG)
		return "552 5.3.4 Error: message line too long";
	return NULL;
}
