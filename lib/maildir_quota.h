/* maildir_quota.h: how full a Maildir++ mailbox is, kept in its
 * "maildirsize" file (shared with Courier and Dovecot), for local and
 * lmtpd; maildir_quota.c says how the sum is kept and trusted. */
#ifndef POSTERN_MAILDIR_QUOTA_H
#define POSTERN_MAILDIR_QUOTA_H

#include <stdint.h>

/* 1 when size more bytes fit under limit, 0 when they do not, -1 with
 * *error_r (static) when the Maildir cannot be measured. */
int maildir_quota_room(const char *maildir, uint64_t limit, uint64_t size,
		       const char **error_r);
/* Records bytes more in maildirsize after a delivery (best effort). */
void maildir_quota_add(const char *maildir, uint64_t bytes);

#endif
