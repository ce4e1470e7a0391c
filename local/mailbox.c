/* mailbox.c: the last step of local delivery: one message into one
 * Maildir++ mailbox, $mail_store/DOMAIN/LOCALPART/, through lib/maildir
 * (idempotent by queue ID and mailbox). The stored copy starts with
 * Return-Path: and Delivered-To:, and its lines end in LF (the queue keeps
 * CRLF; Maildir readers expect the local convention). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "file.h"
#include "local.h"
#include "maildir.h"

#define HEADERS_MAX (256 * 1024)
#define COPY_BUF 65536

static ssize_t content_pread(struct local_msg *msg, uint64_t pos, char *buf,
			     size_t len)
{
	ssize_t n;

	if (pos >= msg->size)
		return 0;
	if (len > msg->size - pos)
		len = (size_t)(msg->size - pos);
	do
		n = pread(msg->fd, buf, len, (off_t)(msg->offset + pos));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = EIO; /* shorter than the trailer says */
	return n > 0 ? n : -1;
}

int local_read_headers(struct local_msg *msg, const char **error_r)
{
	char buf[8192];
	uint64_t pos = 0;
	ssize_t n;
	char *end;

	str_clear(&msg->headers);
	while (msg->headers.len < HEADERS_MAX && pos < msg->size) {
		n = content_pread(msg, pos, buf, sizeof(buf));
		if (n < 0) {
			*error_r = strerror(errno);
			return -1;
		}
		str_append(&msg->headers, buf, (size_t)n);
		pos += (uint64_t)n;
		end = strstr(msg->headers.data, "\r\n\r\n");
		if (end != NULL) {
			str_truncate(&msg->headers,
				     (size_t)(end - msg->headers.data) + 2);
			break;
		}
	}
	return 1;
}

/* Counts headers named name; with value, only those whose value is it
 * (case-insensitive, blanks around ignored). */
static size_t header_count(const struct str *h, const char *name,
			   const char *value)
{
	size_t nlen = strlen(name), count = 0;
	const char *p = h->data, *eol, *v;

	for (; p != NULL && *p != '\0'; p = eol != NULL ? eol + 2 : NULL) {
		eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
			continue;
		if (value == NULL) {
			count++;
			continue;
		}
		v = p + nlen + 1;
		v += strspn(v, " \t");
		if (strncasecmp(v, value, strlen(value)) == 0) {
			const char *rest = v + strlen(value);

			rest += strspn(rest, " \t");
			if (rest == eol || *rest == '\0')
				count++;
		}
	}
	return count;
}

struct copy_ctx {
	struct local_msg *msg;
	const char *mailbox;
};

/* Drops the CR of each CRLF; the queue holds no bare CR, but a CR at the
 * end of a block waits for the next block to be sure. */
static int copy_write(void *ctx, int fd, const char **error_r)
{
	struct copy_ctx *c = ctx;
	char in[COPY_BUF];
	struct str out;
	uint64_t pos = 0;
	bool cr = false;
	ssize_t n;
	int r = 1;

	str_init(&out, COPY_BUF + 512);
	str_printf(&out, "Return-Path: <%s>\nDelivered-To: %s\n",
		   c->msg->sender, c->mailbox);
	while (r > 0 && (n = content_pread(c->msg, pos, in, sizeof(in))) > 0) {
		pos += (uint64_t)n;
		for (ssize_t i = 0; i < n; i++) {
			if (cr && in[i] != '\n')
				str_putc(&out, '\r');
			cr = in[i] == '\r';
			if (!cr)
				str_putc(&out, in[i]);
		}
		r = file_write_all(fd, out.data, out.len, error_r);
		str_clear(&out);
	}
	if (r > 0 && pos < c->msg->size) {
		*error_r = "read queue file: short content";
		r = -1;
	}
	if (r > 0 && cr)
		r = file_write_all(fd, "\r", 1, error_r);
	str_deinit(&out);
	return r;
}

/* A name safe as one path component. */
static bool path_part_ok(const char *s, size_t len)
{
	if (len == 0 || len > 255 || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

void local_deliver_mailbox(const struct local_config *cfg,
			   struct local_msg *msg, const char *mailbox,
			   struct local_result *res)
{
	const char *at = strrchr(mailbox, '@'), *err;
	struct copy_ctx c = {.msg = msg, .mailbox = mailbox};
	struct maildir_delivery d = {.hostname = cfg->myhostname,
				     .seconds = msg->arrival_sec,
				     .check_cur = msg->retry};
	struct str path, key;
	int r;

	if (at == NULL || !path_part_ok(mailbox, (size_t)(at - mailbox)) ||
	    !path_part_ok(at + 1, strlen(at + 1))) {
		local_result_set(
		    res, LOCAL_BOUNCED, "5.1.3",
		    "mailbox name \"%s\" is not usable as a folder", mailbox);
		return;
	}
	if (header_count(&msg->headers, "Delivered-To", mailbox) > 0) {
		local_result_set(res, LOCAL_BOUNCED, "5.4.6",
				 "mail forwarding loop for %s", mailbox);
		return;
	}
	if (header_count(&msg->headers, "Received", NULL) > LOCAL_HOP_LIMIT) {
		local_result_set(res, LOCAL_BOUNCED, "5.4.6",
				 "too many hops (more than %d Received: "
				 "headers)",
				 LOCAL_HOP_LIMIT);
		return;
	}
	str_init(&path, 128);
	str_init(&key, 64);
	str_printf(&path, "%s/%s/", cfg->mail_store, at + 1);
	str_append(&path, mailbox, (size_t)(at - mailbox));
	maildir_key(msg->queue_id, mailbox, &key);
	d.path = path.data;
	d.key = key.data;
	r = maildir_deliver(&d, copy_write, &c, &err);
	if (r >= 0)
		local_result_set(res, LOCAL_SENT, "2.0.0",
				 "delivered to maildir");
	else
		local_result_set(res, LOCAL_DEFERRED, "4.2.0",
				 "cannot write to mailbox %s: %s", mailbox,
				 err);
	str_deinit(&path);
	str_deinit(&key);
}
