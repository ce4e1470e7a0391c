/* data.c: the message content after DATA: read from the queue file (as
 * smtpd stored it: CRLF lines, dots unstuffed), dot-stuffed (RFC 5321
 * 4.5.2), a bare LF sent as CRLF so that no server sees a line ending it
 * might read differently from us (SMTP smuggling), then the final ".".
 * For a server without 8BITMIME the content is scanned first (pass 1 of
 * lib/mime_7bit.h, before MAIL FROM, so that what cannot be converted
 * bounces cleanly) and converted while it is sent (pass 2). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "smtp.h"

#define DATA_CHUNK 65536

/* The output of one chunk, and where the previous one left off. */
struct data_buf {
	struct str out, conv;
	bool bol, cr;
};

/* Appends buf to out with dot-stuffing and CRLF line ends; *bol says
 * whether the next byte starts a line, *cr whether the last was a CR. */
static void stuff(struct str *out, const char *buf, size_t len, bool *bol,
		  bool *cr)
{
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (*bol && ch == '.')
			str_putc(out, '.');
		if (ch == '\n' && !*cr)
			str_putc(out, '\r');
		str_putc(out, ch);
		*bol = ch == '\n';
		*cr = ch == '\r';
	}
}

/* Reads the next chunk of the message at *pos into buf. Returns the
 * bytes read, or -1 with error (the text). */
static ssize_t read_chunk(const struct smtp_msg *msg, uint64_t *pos, char *buf,
			  char *error, size_t error_size)
{
	size_t want = msg->size - *pos < DATA_CHUNK ? (size_t)(msg->size - *pos)
						    : DATA_CHUNK;
	ssize_t n;

	do
		n = pread(msg->fd, buf, want, (off_t)(msg->offset + *pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(error, error_size, "cannot read the queue file: %s",
			 n < 0 ? strerror(errno) : "file too short");
		return -1;
	}
	*pos += (uint64_t)n;
	return n;
}

int smtp_data_scan(struct smtp_msg *msg, const char **error_r)
{
	static char error[300];
	char *buf;
	uint64_t pos = 0;
	ssize_t n = 0;

	if (msg->mime != NULL)
		return 1;
	buf = mem_alloc(DATA_CHUNK);
	msg->mime = mime_7bit_new();
	while (pos < msg->size &&
	       (n = read_chunk(msg, &pos, buf, error, sizeof(error))) > 0)
		mime_7bit_scan(msg->mime, buf, (size_t)n);
	mem_free(buf);
	if (n < 0) {
		mime_7bit_free(&msg->mime);
		*error_r = error;
		return -1;
	}
	mime_7bit_scan_end(msg->mime);
	return 1;
}

/* Writes data (converted to 7-bit first when to_7bit) to the server. */
static int send_chunk(struct smtp_conn *c, const struct smtp_msg *msg,
		      bool to_7bit, const char *buf, size_t len,
		      struct data_buf *d, unsigned timeout)
{
	static const char *what = "sending message body";

	str_clear(&d->out);
	if (to_7bit) {
		str_clear(&d->conv);
		if (buf != NULL)
			mime_7bit_convert(msg->mime, buf, len, &d->conv);
		else
			mime_7bit_convert_end(msg->mime, &d->conv);
		buf = d->conv.data;
		len = d->conv.len;
	}
	stuff(&d->out, buf, len, &d->bol, &d->cr);
	if (iobuf_write(c->io, d->out.data, d->out.len) < 0)
		return -1;
	return smtp_conn_flush(c, timeout, what);
}

int smtp_data_send(struct smtp_conn *c, const struct smtp_msg *msg,
		   bool to_7bit, unsigned timeout)
{
	struct data_buf d = {.bol = true};
	char *buf = mem_alloc(DATA_CHUNK);
	uint64_t pos = 0;
	ssize_t n;
	int r = 1;

	str_init(&d.out, 2 * DATA_CHUNK);
	str_init(&d.conv, to_7bit ? 3 * DATA_CHUNK : 0);
	while (r > 0 && pos < msg->size) {
		n = read_chunk(msg, &pos, buf, c->error, sizeof(c->error));
		if (n < 0) {
			r = -2;
			break;
		}
		r = send_chunk(c, msg, to_7bit, buf, (size_t)n, &d, timeout);
	}
	if (r > 0 && to_7bit)
		r = send_chunk(c, msg, true, NULL, 0, &d, timeout);
	else if (to_7bit) /* ends pass 2, for the next attempt */
		mime_7bit_convert_end(msg->mime, &d.conv);
	mem_free(buf);
	str_deinit(&d.out);
	str_deinit(&d.conv);
	if (r == -2)
		return -1;
	if (r > 0) {
		/* A message not ending in a line end gets one. */
		smtp_conn_put(c, "%s.", d.bol ? "" : "\r\n");
		r = smtp_conn_flush(c, timeout, "sending message body");
	}
	return r;
}
