/* deliver.c: the recipients of lmtpd: which addresses are users (the auth
 * daemon knows; lmtpd never reads the users table), and the delivery of a
 * spooled message into each user's Maildir++ mailbox,
 * $mail_store/DOMAIN/LOCALPART/, through lib/maildir as local does: the
 * stored copy starts with Return-Path:, Delivered-To: and lmtpd's
 * Received: (with "for <recipient>", since every copy is written apart),
 * lines end in LF, and mailbox_size_limit is kept as a Maildir++ quota
 * (local/quota.c). Each recipient's reply says what its delivery came to:
 * 250, or 452/552 for a full mailbox or disk, 450 for a mailbox that
 * cannot be written. The delivery key is the transaction's own queue ID
 * (LMTP gives a retry no identity of its own), so a recipient named twice
 * in one transaction gets one copy. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "lmtpd.h"
#include "mail_date.h"
#include "maildir.h"
#include "maildir_quota.h"
#include "msg.h"

#define COPY_BUF 65536

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

static bool mailbox_ok(const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');

	return at != NULL && path_part_ok(mailbox, (size_t)(at - mailbox)) &&
	       path_part_ok(at + 1, strlen(at + 1));
}

int lmtpd_rcpt_lookup(const struct lmtpd_config *cfg, const char *address,
		      struct str *mailbox_r)
{
	const char *err, *at = strrchr(address, '@'), *ext;
	int r;

	str_clear(mailbox_r);
	str_append_cstr(mailbox_r, address);
	r = auth_client_exists(cfg->auth, address, &err);
	if (r == 0 && at != NULL && cfg->delimiter[0] != '\0' &&
	    (ext = strpbrk(address, cfg->delimiter)) != NULL && ext < at &&
	    ext != address) {
		str_clear(mailbox_r);
		str_append(mailbox_r, address, (size_t)(ext - address));
		str_append_cstr(mailbox_r, at);
		r = auth_client_exists(cfg->auth, mailbox_r->data, &err);
	}
	if (r < 0) {
		msg_warn("recipient check for %s: %s", address, err);
		return -1;
	}
	str_lower(mailbox_r);
	if (r > 0 && !mailbox_ok(mailbox_r->data)) {
		msg_warn("user %s: the name is not usable as a folder",
			 mailbox_r->data);
		return 0;
	}
	return r;
}

struct copy_ctx {
	const struct session *s;
	const char *path;
	const struct str *prefix;
	uint64_t quota, written;
	bool over_quota, read_error;
};

static int copy_quota_ok(struct copy_ctx *c, const char **error_r)
{
	uint64_t size = c->prefix->len + c->s->spool_size;
	int r;

	if (c->quota == 0)
		return 1;
	r = maildir_quota_room(c->path, c->quota, size, error_r);
	if (r == 0) {
		c->over_quota = true;
		*error_r = "mailbox is over quota";
	}
	return r > 0 ? 1 : -1;
}

/* maildir_write_fn: the prefix, then the spool. The quota is checked here,
 * once lib/maildir has found no copy with this key already. */
static int copy_write(void *ctx, int fd, const char **error_r)
{
	struct copy_ctx *c = ctx;
	char buf[COPY_BUF];
	uint64_t pos = 0, size = c->s->spool_size;
	ssize_t n;

	if (copy_quota_ok(c, error_r) < 0 ||
	    file_write_all(fd, c->prefix->data, c->prefix->len, error_r) < 0)
		return -1;
	while (pos < size) {
		size_t want = size - pos < sizeof(buf) ? (size_t)(size - pos)
						       : sizeof(buf);

		do
			n = pread(c->s->spool_fd, buf, want, (off_t)pos);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			c->read_error = true;
			*error_r =
			    n < 0 ? strerror(errno) : "temporary file is short";
			return -1;
		}
		if (file_write_all(fd, buf, (size_t)n, error_r) < 0)
			return -1;
		pos += (uint64_t)n;
	}
	c->written = c->prefix->len + size;
	return 1;
}

/* The headers every copy starts with. */
static void copy_prefix(const struct session *s, const struct lmtpd_rcpt *r,
			const char *date, struct str *out)
{
	const struct lmtpd_config *cfg = s->cfg;

	str_clear(out);
	str_printf(out, "Return-Path: <%s>\nDelivered-To: %s\n", s->sender,
		   r->mailbox);
	str_printf(out, "Received: from %s", s->helo_name);
	if (!s->client_unix)
		str_printf(out, " (%s [%s%s])", s->client_name,
			   strchr(s->client_addr, ':') != NULL ? "IPv6:" : "",
			   s->client_addr);
	/* RFC 3848 and RFC 6531 protocol names */
	str_printf(out, "\n\tby %s (%s) with %s id %s\n\tfor <%s>; %s\n",
		   cfg->myhostname, cfg->mail_name,
		   s->smtputf8 ? "UTF8LMTP" : "LMTP", s->queue_id, r->address,
		   date);
}

/* The reply for a failed delivery (errno from lib/maildir). */
static void fail_reply(const struct session *s, const struct lmtpd_rcpt *r,
		       const struct copy_ctx *c, int saved, struct str *out)
{
	if (c->over_quota || saved == EDQUOT)
		str_printf(out, "%s <%s> Mailbox full",
			   s->cfg->quota_bounce ? "552 5.2.2" : "452 4.2.2",
			   r->address);
	else if (saved == ENOSPC)
		str_printf(out, "452 4.3.1 <%s> Insufficient system storage",
			   r->address);
	else if (c->read_error)
		str_printf(out, "451 4.3.0 <%s> Temporary file read error",
			   r->address);
	else
		str_printf(out, "450 4.2.0 <%s> Mailbox unavailable",
			   r->address);
}

/* "to=<mailbox>, orig_to=<address>, relay=maildir, dsn=..., status=..." */
static void deliver_log(const struct lmtpd_rcpt *r, int ret, const char *reply,
			const char *err)
{
	struct str orig;

	str_init(&orig, 64);
	if (strcmp(r->mailbox, r->address) != 0)
		str_printf(&orig, ", orig_to=<%s>", r->address);
	if (ret >= 0)
		msg_info("to=<%s>%s, relay=maildir, dsn=2.0.0, status=sent "
			 "(%s)",
			 r->mailbox, orig.data,
			 ret > 0 ? "delivered to maildir"
				 : "already delivered");
	else
		msg_info("to=<%s>%s, relay=maildir, dsn=%.5s, status=%s (%s)",
			 r->mailbox, orig.data, reply + 4,
			 reply[0] == '5' ? "bounced" : "deferred", err);
	str_deinit(&orig);
}

/* Delivers to one recipient; its reply goes to reply_r. */
static void deliver_one(struct session *s, const struct lmtpd_rcpt *r,
			time_t now, const char *date, struct str *reply_r)
{
	const char *at = strrchr(r->mailbox, '@'), *err = "";
	struct str path, key, prefix;
	struct copy_ctx c = {.s = s, .quota = s->cfg->mailbox_size_limit};
	struct maildir_delivery d = {.hostname = s->cfg->myhostname,
				     .seconds = (uint64_t)now};
	int ret, saved;

	str_init(&path, 128);
	str_init(&key, 64);
	str_init(&prefix, 512);
	str_printf(&path, "%s/%s/", s->cfg->mail_store, at + 1);
	str_append(&path, r->mailbox, (size_t)(at - r->mailbox));
	maildir_key(s->queue_id, r->mailbox, &key);
	copy_prefix(s, r, date, &prefix);
	c.path = d.path = path.data;
	c.prefix = &prefix;
	d.key = key.data;
	ret = maildir_deliver(&d, copy_write, &c, &err);
	saved = errno;
	str_clear(reply_r);
	if (ret > 0 && c.quota != 0)
		maildir_quota_add(path.data, c.written);
	if (ret >= 0)
		str_printf(reply_r, "250 2.0.0 <%s> Ok: delivered as %s",
			   r->address, s->queue_id);
	else
		fail_reply(s, r, &c, saved, reply_r);
	deliver_log(r, ret, reply_r->data, err);
	str_deinit(&prefix);
	str_deinit(&key);
	str_deinit(&path);
}

void lmtpd_deliver_all(struct session *s, const char *refusal)
{
	struct str date, reply;
	time_t now = time(NULL);

	if (refusal != NULL) {
		for (size_t i = 0; i < s->rcpt_count; i++)
			lmtpd_reply(s, "%s", refusal);
		return;
	}
	str_init(&date, 64);
	str_init(&reply, 128);
	mail_date(now, &date);
	msg_info("from=<%s>, size=%llu, nrcpt=%zu", s->sender,
		 (unsigned long long)s->spool_size, s->rcpt_count);
	for (size_t i = 0; i < s->rcpt_count; i++) {
		deliver_one(s, &s->rcpts[i], now, date.data, &reply);
		lmtpd_reply(s, "%s", reply.data);
	}
	str_deinit(&reply);
	str_deinit(&date);
}
