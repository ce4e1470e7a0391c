/* privs.h: giving up root for good, and looking up the users a daemon runs
 * as.
 *
 * Only the master keeps root, and only to open sockets and fork. Every
 * daemon calls privs_drop() from the server skeleton (lib/server.h) after
 * its privileged setup and before it reads any client input. The order is
 * fixed: look the user up (while /etc/passwd is still in view), setgid,
 * initgroups, chroot and chdir "/", setuid; then each step is verified, so
 * a half-dropped process never goes on. A process that is not root cannot
 * change users or chroot: privs_drop() then changes nothing (instance mode,
 * where everything runs as the invoking user).
 *
 * Functions return 1 on success and -1 with *error_r pointing to a message
 * that stays valid until the next call into this module. */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

/* Looks up a user by name: its uid and primary gid. Returns 0 (with
 * *error_r "no such user") when there is none. */
int privs_user(const char *name, uid_t *uid_r, gid_t *gid_r,
	       const char **error_r);
/* Looks up a group by name. Returns 0 when there is none. */
int privs_group(const char *name, gid_t *gid_r, const char **error_r);

/* True when the process has root's powers (real and effective uid 0). */
bool privs_is_root(void);

/* As root: switches for good to user (a name; NULL keeps root) and, when
 * chroot_dir is not NULL, chroots into it (then the working directory is
 * the new "/"). Refuses to "drop" to a user with uid 0. Verifies that real,
 * effective and saved ids are the user's, that the supplementary groups
 * are the user's, and that root cannot be regained.
 * Not root: returns 1 without changing anything (chroot_dir is ignored). */
int privs_drop(const char *user, const char *chroot_dir, const char **error_r);

#endif
