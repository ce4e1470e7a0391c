/* local.h: the local delivery agent (postern-local(8)): one request from
 * qmgr per connection (lib/deliver_proto.h), each recipient resolved
 * through users_table, virtual_alias_maps and alias_maps (resolve.c,
 * target.c) and delivered into Maildir++ mailboxes under $mail_store
 * (mailbox.c, with quotas: lib/maildir_quota.c), or by alias targets into files
 * (file.c) and commands (command.c). */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "domains.h"
#include "str.h"

/* Alias nesting and fan-out limits (Postfix: 1000/1000; a mailbox host
 * needs far fewer). */
#define LOCAL_EXPAND_DEPTH 20
#define LOCAL_EXPAND_MAX 1000
/* Bytes of one :include: file. */
#define LOCAL_INCLUDE_MAX (1024 * 1024)

enum local_status { LOCAL_SENT, LOCAL_BOUNCED, LOCAL_DEFERRED };

struct local_config {
	struct conf *conf;
	struct local_tables *tables;
	const char *mail_store;
	const char *myhostname;
	const char *myorigin; /* appended to bare alias targets */
	unsigned timeout_ms;
	long long hop_limit;	     /* hopcount_limit */
	unsigned command_time_limit; /* seconds */
	uint64_t mailbox_size_limit; /* bytes; 0 = none */
	bool quota_bounce;	     /* mailbox_quota_action = bounce */
	uid_t uid;		     /* who we run as (owner of files) */
	const char *home;	     /* $HOME for commands */
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
	const char *rcpt;   /* the envelope recipient being delivered */
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
 * Return-Path: and Delivered-To:, lines ending in LF (mailbox.c). quota:
 * the user's own (users_table quota=), 0 for mailbox_size_limit. */
void local_deliver_mailbox(const struct local_config *cfg,
			   struct local_msg *msg, const char *mailbox,
			   uint64_t quota, struct local_result *res);
/* Delivers msg into the Maildir at path (created if missing), with
 * Delivered-To: delivered_to; quota 0: mailbox_size_limit. */
void local_deliver_maildir(const struct local_config *cfg,
			   struct local_msg *msg, const char *path,
			   const char *delivered_to, uint64_t quota,
			   struct local_result *res);
/* Reads the header block of msg into msg->headers (at most 256 KiB). */
int local_read_headers(struct local_msg *msg, const char **error_r);
/* True (after setting res to a bounce) when msg already carries
 * Delivered-To: rcpt: a mail loop. */
bool local_loop_check(struct local_msg *msg, const char *rcpt,
		      struct local_result *res);

/* An alias target "/path": appended to the file as mbox (From_ line,
 * >From quoting, fcntl lock, fsync), or, for "/path/", delivered into
 * that Maildir (file.c). rcpt: the address whose alias it was. */
void local_deliver_file(const struct local_config *cfg, struct local_msg *msg,
			const char *path, const char *rcpt,
			struct local_result *res);
/* An alias target "|command": run with /bin/sh -c (command.c). */
void local_deliver_command(const struct local_config *cfg,
			   struct local_msg *msg, const char *command,
			   const char *rcpt, struct local_result *res);

/* Alias values (target.c): the next target of the value at *p (commas
 * and blanks separate; "quoted" targets may hold both; an unquoted
 * |command runs to the next comma). Returns 1 with the target in out, 0
 * at the end. */
int local_target_next(const char **p, struct str *out);
/* Reads the :include: file path into out: it must be a regular file of
 * at most LOCAL_INCLUDE_MAX bytes owned by root or by us, writable by
 * nobody else (its file and command targets run with our rights).
 * Returns 1, or -1 with *error_r (static). */
int local_include_read(const struct local_config *cfg, const char *path,
		       struct str *out, const char **error_r);

#endif
