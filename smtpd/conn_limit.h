/* conn_limit.h: smtpd_client_connection_count_limit, the number of
 * concurrent sessions one client address may hold on one service, shared
 * by every smtpd process without a daemon in between.
 *
 * Each (service, client address) pair has a lock file in a folder under
 * the queue's private area ($queue_directory/private/smtpd-conn). Byte 0
 * of the file is a guard; bytes 1..limit are session slots, each held with
 * an fcntl write lock by the process serving that session. Locks belong to
 * the process, so a slot is released by the kernel when its smtpd exits or
 * is killed: no count can leak. The last session to leave removes the file
 * (under the guard, so that a newcomer never locks an unlinked file and
 * miscounts). fcntl locks are per process, which is exactly right for
 * smtpd: one session per process (SERVER_SINGLE). */
#ifndef POSTERN_SMTPD_CONN_LIMIT_H
#define POSTERN_SMTPD_CONN_LIMIT_H

/* Longest key used in a file name; longer keys are shortened with a hash
 * suffix, so two keys never share a file by accident of truncation. */
#define CONN_LIMIT_NAME_MAX 200

struct conn_slot;

/* Opens (creating it, mode 0700) the lock folder dir. Returns its fd, or
 * -1 with *error_r (static buffer). */
int conn_limit_open_dir(const char *dir, const char **error_r);

/* Takes one of limit slots (limit >= 1) for key ("service client-address")
 * in the folder dir_fd. Returns 1 with *slot_r (hold it for the session),
 * 0 when all limit slots are held by other processes, -1 with *error_r
 * (static buffer) when the locks do not work: callers then serve the client
 * unlimited, as Postfix does when its anvil service is down. */
int conn_limit_take(int dir_fd, const char *key, unsigned limit,
		    struct conn_slot **slot_r, const char **error_r);

/* Releases the slot (removing the file when no other slot is held) and
 * sets *slotp to NULL. NULL is fine. */
void conn_limit_release(struct conn_slot **slotp);

#endif
