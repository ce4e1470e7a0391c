/* sendmail_input.c: reading the message from sendmail's standard input in
 * bounded pieces (a line, or SM_LINE_MAX bytes of a longer one), the "."
 * end rule that -i/-oi turn off, the header section for -t, and sending it
 * all to postdrop as sendmail_stream.h frames it. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "sendmail.h"
#include "sendmail_headers.h"

#define SM_HEAD_MAX (1024 * 1024)

void sm_input_init(struct sm_input *in, bool ignore_dots)
{
	memset(in, 0, sizeof(*in));
	in->fd = 0;
	in->ignore_dots = ignore_dots;
	in->at_bol = true;
	str_init(&in->buf, SM_LINE_MAX);
}

void sm_input_deinit(struct sm_input *in)
{
	str_deinit(&in->buf);
}

/* The next piece into piece (replaced): 1, 0 at the end of the message,
 * -1 on a read error. *line_r tells whether the piece ends a line. */
static int next_piece(struct sm_input *in, struct str *piece, bool *bol_r,
		      const char **error_r)
{
	char *nl;
	size_t n;

	str_clear(piece);
	if (in->done)
		return 0;
	while (!in->eof && memchr(in->buf.data, '\n', in->buf.len) == NULL &&
	       in->buf.len < SM_LINE_MAX) {
		char tmp[16384];
		ssize_t r = read(in->fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*error_r = "read error on standard input";
			return -1;
		}
		if (r == 0)
			in->eof = true;
		str_append(&in->buf, tmp, (size_t)r);
	}
	if (in->buf.len == 0) {
		in->done = true;
		return 0;
	}
	nl = memchr(in->buf.data, '\n', in->buf.len);
	n = nl != NULL ? (size_t)(nl - in->buf.data) + 1 : in->buf.len;
	if (n > SM_LINE_MAX)
		n = SM_LINE_MAX;
	str_set(piece, in->buf.data, n);
	str_consume(&in->buf, n);
	*bol_r = in->at_bol;
	in->at_bol = piece->data[n - 1] == '\n';
	/* A lone "." ends the message unless -i. */
	if (!in->ignore_dots && *bol_r &&
	    (strcmp(piece->data, ".\n") == 0 ||
	     strcmp(piece->data, ".\r\n") == 0 ||
	     (in->eof && in->buf.len == 0 && strcmp(piece->data, ".") == 0))) {
		in->done = true;
		str_clear(piece);
		return 0;
	}
	return 1;
}

/* The length of a line without its LF or CRLF. */
static size_t text_len(const struct str *line)
{
	size_t n = line->len;

	if (n > 0 && line->data[n - 1] == '\n')
		n--;
	if (n > 0 && line->data[n - 1] == '\r')
		n--;
	return n;
}

int sm_read_head(struct sm_input *in, const struct sm_opts *o,
		 const char *origin, struct drop_envelope *env, struct str *out,
		 const char **error_r)
{
	struct str head, piece;
	bool bol, in_field = false;
	int r;

	str_init(&head, 0);
	str_init(&piece, 0);
	while ((r = next_piece(in, &piece, &bol, error_r)) > 0) {
		size_t n = text_len(&piece);
		bool cont = in_field && n > 0 &&
			    (piece.data[0] == ' ' || piece.data[0] == '\t');
		bool whole = piece.data[piece.len - 1] == '\n';

		if (!bol || !whole || head.len + piece.len > SM_HEAD_MAX ||
		    (!cont && !sendmail_is_header_start(piece.data, n)))
			break; /* the body starts with this piece */
		str_append(&head, piece.data, piece.len);
		in_field = true;
	}
	if (r >= 0)
		r = sendmail_header_scan(head.data, head.len, o->extract,
					 o->extract, origin, env, out, error_r);
	if (r >= 0)
		str_append(out, piece.data, piece.len);
	str_deinit(&head);
	str_deinit(&piece);
	return r < 0 ? -1 : 1;
}

/* Writes out's content as 'C' records and empties it. */
static int send_content(struct str *out, int fd, const char **error_r)
{
	struct str rec;
	size_t pos = 0;
	int r = 1;

	str_init(&rec, 0);
	while (pos < out->len && r > 0) {
		size_t n = out->len - pos;
		if (n > DROP_CHUNK_MAX)
			n = DROP_CHUNK_MAX;
		str_clear(&rec);
		drop_record_head(&rec, 'C', n);
		str_append(&rec, out->data + pos, n);
		r = file_write_all(fd, rec.data, rec.len, error_r);
		pos += n;
	}
	str_deinit(&rec);
	str_clear(out);
	return r;
}

int sm_send(struct sm_input *in, const struct drop_envelope *env,
	    struct str *out, int fd, const char **error_r)
{
	struct str buf;
	bool bol;
	int r;

	str_init(&buf, 0);
	r = drop_envelope_encode(env, &buf, error_r);
	if (r > 0)
		r = file_write_all(fd, buf.data, buf.len, error_r);
	if (r > 0)
		r = send_content(out, fd, error_r);
	while (r > 0 && (r = next_piece(in, &buf, &bol, error_r)) > 0) {
		str_append(out, buf.data, buf.len);
		if (out->len >= DROP_CHUNK_MAX)
			r = send_content(out, fd, error_r);
	}
	if (r == 0)
		r = send_content(out, fd, error_r);
	if (r > 0) {
		str_clear(&buf);
		drop_record_head(&buf, 'E', 0);
		r = file_write_all(fd, buf.data, buf.len, error_r);
	}
	str_deinit(&buf);
	return r < 0 ? -1 : 1;
}
