/* data.c: the message content after DATA: read from the queue file (as
 * smtpd stored it: CRLF lines, dots unstuffed), dot-stuffed (RFC 5321
 * 4.5.2), a bare LF sent as CRLF so that no server sees a line ending it
 * might read differently from us (SMTP smuggling), then the final ".". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtp.h"

#define DATA_CHUNK 65536

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

int smtp_data_send(struct smtp_conn *c, const struct smtp_msg *msg,
		   unsigned timeout)
{
	static const char *what = "sending message body";
	char buf[DATA_CHUNK];
	struct str out;
	uint64_t pos = 0;
	bool bol = true, cr = false;
	ssize_t n;
	int r = 1;

	str_init(&out, 2 * DATA_CHUNK);
	while (r > 0 && pos < msg->size) {
		size_t want = msg->size - pos < sizeof(buf)
				  ? (size_t)(msg->size - pos)
				  : sizeof(buf);

		do
			n = pread(msg->fd, buf, want,
				  (off_t)(msg->offset + pos));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			snprintf(c->error, sizeof(c->error),
				 "cannot read the queue file: %s",
				 n < 0 ? strerror(errno) : "file too short");
			r = -2;
			break;
		}
		pos += (uint64_t)n;
		str_clear(&out);
		stuff(&out, buf, (size_t)n, &bol, &cr);
		if (iobuf_write(c->io, out.data, out.len) < 0)
			r = -1;
		else
			r = smtp_conn_flush(c, timeout, what);
	}
	str_deinit(&out);
	if (r == -2)
		return -1;
	if (r > 0) {
		/* A message not ending in a line end gets one. */
		smtp_conn_put(c, "%s.", bol ? "" : "\r\n");
		r = smtp_conn_flush(c, timeout, what);
	}
	return r;
}
