/* mailbox.c: the last step of local delivery: one message into one
 * Maildir++ mailbox, $mail_store/DOMAIN/LOCALPART/ (or an alias's
 * "/path/" Maildir), through lib/maildir (idempotent by queue ID and
 * mailbox). The stored copy starts with Return-Path: and Delivered-To:,
 * and its lines end in LF (the queue keeps CRLF; Maildir readers expect
 * the local convention). The quota is checked once lib/maildir has found
 * no earlier copy, so that a retry after a crash never bounces a message
 * that is already in the mailbox. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "content.h"
#include "file.h"
#include "local.h"
#include "maildir.h"
#include "maildir_quota.h"

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
	return content_read_headers(msg->fd, msg->offset, msg->size,
				    &msg->headers, error_r);
}

bool local_loop_check(struct local_msg *msg, const char *rcpt,
		      struct local_result *res)
{
	if (content_header_count(&msg->headers, "Delivered-To", rcpt) == 0)
		return false;
	local_result_set(res, LOCAL_BOUNCED, "5.4.6",
			 "mail forwarding loop for %s", rcpt);
	return true;
}

struct copy_ctx {
	const struct local_config *cfg;
	struct local_msg *msg;
	const char *delivered_to, *path;
	uint64_t quota, written;
	bool over_quota;
	const char *quota_error;
};

static int quota_ok(struct copy_ctx *c, const char **error_r)
{
	int r;

	if (c->quota == 0)
		return 1;
	r = maildir_quota_room(c->path, c->quota, c->msg->size, &c->quota_error);
	if (r == 0) {
		c->over_quota = true;
		*error_r = "mailbox is over quota";
	} else if (r < 0) {
		*error_r = c->quota_error;
	}
	return r > 0 ? 1 : -1;
}

/* Appends in[0..n) to out without the CR of each CRLF; a CR at the end
 * of the block waits in *cr for the next block to be sure (the queue holds
 * no bare CR, but nothing here relies on it). Runs between CRs are copied
 * whole. */
static void crlf_to_lf(const char *in, size_t n, bool *cr, struct str *out)
{
	const char *p, *end = in + n;

	if (*cr && n > 0 && in[0] != '\n')
		str_putc(out, '\r');
	*cr = false;
	while (in < end) {
		p = memchr(in, '\r', (size_t)(end - in));
		if (p == NULL) {
			str_append(out, in, (size_t)(end - in));
			return;
		}
		str_append(out, in, (size_t)(p - in));
		if (p + 1 == end) {
			*cr = true;
			return;
		}
		if (p[1] != '\n')
			str_putc(out, '\r');
		in = p + 1;
	}
}

static int copy_write(void *ctx, int fd, const char **error_r)
{
	struct copy_ctx *c = ctx;
	char in[COPY_BUF];
	struct str out;
	uint64_t pos = 0;
	bool cr = false;
	ssize_t n;
	int r = quota_ok(c, error_r);

	str_init(&out, COPY_BUF + 512);
	str_printf(&out, "Return-Path: <%s>\nDelivered-To: %s\n",
		   c->msg->sender, c->delivered_to);
	while (r > 0 && (n = content_pread(c->msg, pos, in, sizeof(in))) > 0) {
		pos += (uint64_t)n;
		crlf_to_lf(in, (size_t)n, &cr, &out);
		c->written += out.len;
		r = file_write_all(fd, out.data, out.len, error_r);
		str_clear(&out);
	}
	if (r > 0 && pos < c->msg->size) {
		*error_r = "read queue file: short content";
		r = -1;
	}
	if (r > 0 && cr) {
		c->written++;
		r = file_write_all(fd, "\r", 1, error_r);
	}
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

static void quota_result(const struct local_config *cfg, const char *who,
			 struct local_result *res)
{
	if (cfg->quota_bounce)
		local_result_set(res, LOCAL_BOUNCED, "5.2.2",
				 "mailbox %s is full (over quota)", who);
	else
		local_result_set(res, LOCAL_DEFERRED, "4.2.2",
				 "mailbox %s is full (over quota)", who);
}

void local_deliver_maildir(const struct local_config *cfg,
			   struct local_msg *msg, const char *path,
			   const char *delivered_to, uint64_t quota,
			   struct local_result *res)
{
	struct copy_ctx c = {.cfg = cfg,
			     .msg = msg,
			     .delivered_to = delivered_to,
			     .path = path,
			     .quota =
				 quota != 0 ? quota : cfg->mailbox_size_limit};
	struct maildir_delivery d = {.hostname = cfg->myhostname,
				     .seconds = msg->arrival_sec,
				     .check_cur = msg->retry,
				     .path = path};
	const char *err;
	struct str key;
	int r;

	str_init(&key, 64);
	maildir_key(msg->queue_id, delivered_to, &key);
	d.key = key.data;
	r = maildir_deliver(&d, copy_write, &c, &err);
	if (r > 0 && c.quota != 0)
		maildir_quota_add(path, c.written);
	if (r >= 0)
		local_result_set(res, LOCAL_SENT, "2.0.0",
				 "delivered to maildir");
	else if (c.over_quota)
		quota_result(cfg, delivered_to, res);
	else
		local_result_set(res, LOCAL_DEFERRED, "4.2.0",
				 "cannot write to mailbox %s: %s", delivered_to,
				 err);
	str_deinit(&key);
}

void local_deliver_mailbox(const struct local_config *cfg,
			   struct local_msg *msg, const char *mailbox,
			   uint64_t quota, struct local_result *res)
{
	const char *at = strrchr(mailbox, '@');
	struct str path;

	if (at == NULL || !path_part_ok(mailbox, (size_t)(at - mailbox)) ||
	    !path_part_ok(at + 1, strlen(at + 1))) {
		local_result_set(
		    res, LOCAL_BOUNCED, "5.1.3",
		    "mailbox name \"%s\" is not usable as a folder", mailbox);
		return;
	}
	if (local_loop_check(msg, mailbox, res))
		return;
	str_init(&path, 128);
	str_printf(&path, "%s/%s/", cfg->mail_store, at + 1);
	str_append(&path, mailbox, (size_t)(at - mailbox));
	local_deliver_maildir(cfg, msg, path.data, mailbox, quota, res);
	str_deinit(&path);
}
