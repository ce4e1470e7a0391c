/* local.h: the local delivery agent (postern-local(8)): one request from
 * qmgr per connection (lib/deliver_proto.h), each recipient resolved
 * through users_table, virtual_alias_maps and alias_maps (resolve.c) and
 * delivered into Maildir++ mailboxes under $mail_store (mailbox.c). */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "domains.h"
#include "str.h"

/* Alias nesting and fan-out limits (Postfix: 1000/1000; a mailbox host
 * needs far fewer). */
#define LOCAL_EXPAND_DEPTH 20
#define LOCAL_EXPAND_MAX 1000
/* More Received: headers than this is a loop (Postfix hopcount_limit). */
#define LOCAL_HOP_LIMIT 50

enum local_status { LOCAL_SENT, LOCAL_BOUNCED, LOCAL_DEFERRED };

struct local_config {
	struct conf *conf;
	struct local_tables *tables;
	const char *mail_store;
	const char *myhostname;
	const char *myorigin; /* appended to bare alias targets */
	unsigned timeout_ms;
};

/* What one recipient came to. */
struct local_result {
	enum local_status status;
	char dsn[16];
	struct str text;
};

/* The message being delivered: the queue file's content, read from fd. */
struct local_msg {
	const char *queue_id;
	const char *sender;
	uint64_t arrival_sec;
	int fd;
	uint64_t offset, size;
	bool retry;
	struct str headers; /* the header block, for the loop checks */
};

/* Sets res (status, dsn, text). Worst outcome wins. */
void local_result_set(struct local_result *res, enum local_status status,
		      const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resolves rcpt into its mailboxes (lower-case user@domain, no
 * duplicates) and delivers to each (resolve.c). */
void local_deliver_rcpt(const struct local_config *cfg, struct local_msg *msg,
			const char *rcpt, struct local_result *res);

/* Delivers msg into the Maildir of mailbox (user@domain), adding
 * Return-Path: and Delivered-To:, lines ending in LF (mailbox.c). */
void local_deliver_mailbox(const struct local_config *cfg,
			   struct local_msg *msg, const char *mailbox,
			   struct local_result *res);
/* Reads the header block of msg into msg->headers (at most 256 KiB). */
int local_read_headers(struct local_msg *msg, const char **error_r);

#endif
