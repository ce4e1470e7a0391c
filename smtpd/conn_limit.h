/* conn_limit.h: smtpd_client_connection_count_limit, the number of
 * concurrent sessions one client address may hold on one service, shared
 * by every smtpd process without a daemon in between.
 *
 * Each (service, client address) pair has a lock file in a folder under
 * the queue's private area ($queue_directory/private/smtpd-conn). Byte 0
 * of the file is a guard; bytes 1..limit are session slots, each held with
 * an open file description lock (Linux F_OFD_SETLK) by the session. Such a
 * lock belongs to the session's own open of the file, not to the process:
 * two sessions of one smtpd process (SERVER_MULTI) hold two distinct
 * slots, and closing one session's file leaves the other's lock alone
 * (classic fcntl locks would merge both and drop both at the first
 * close). The kernel releases a slot when its smtpd exits or is killed: no
 * count can leak. The last session to leave removes the file (under the
 * guard, so that a newcomer never locks an unlinked file and miscounts). */
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
