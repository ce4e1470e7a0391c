/* privs.c: dropping root for good, verified (see privs.h). Called by the
 * server skeleton in every daemon, between its privileged setup and the
 * first byte of client input. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "privs.h"

/* More groups than this for one user is a broken group database. */
#define PRIVS_GROUPS_MAX 1024

static char privs_errbuf[512];

static int privs_fail(const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int privs_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(privs_errbuf, sizeof(privs_errbuf), fmt, ap);
	va_end(ap);
	*error_r = privs_errbuf;
	return -1;
}

int privs_user(const char *name, uid_t *uid_r, gid_t *gid_r,
	       const char **error_r)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			return privs_fail(error_r, "look up user %s: %s", name,
					  strerror(errno));
		privs_fail(error_r, "no such user: %s", name);
		return 0;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 1;
}

int privs_group(const char *name, gid_t *gid_r, const char **error_r)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(name);
	if (gr == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			return privs_fail(error_r, "look up group %s: %s", name,
					  strerror(errno));
		privs_fail(error_r, "no such group: %s", name);
		return 0;
	}
	*gid_r = gr->gr_gid;
	return 1;
}

bool privs_is_root(void)
{
	return getuid() == 0 && geteuid() == 0;
}

/* The user's groups as the group database has them; the caller frees. */
static int user_groups(const char *name, gid_t gid, gid_t **groups_r,
		       int *count_r, const char **error_r)
{
	int n = 32;
	gid_t *groups = mem_calloc((size_t)n, sizeof(gid_t));

	while (getgrouplist(name, gid, groups, &n) < 0) {
		if (n <= 0 || n > PRIVS_GROUPS_MAX) {
			mem_free(groups);
			return privs_fail(error_r,
					  "user %s: bad number of "
					  "groups (%d)",
					  name, n);
		}
		groups = mem_realloc(groups, (size_t)n * sizeof(gid_t));
	}
	*groups_r = groups;
	*count_r = n;
	return 1;
}

static bool groups_same(const gid_t *want, int nwant)
{
	gid_t have[PRIVS_GROUPS_MAX];
	int nhave = getgroups(PRIVS_GROUPS_MAX, have);

	if (nhave < 0)
		return false;
	for (int i = 0; i < nhave; i++) {
		bool found = false;
		for (int j = 0; j < nwant && !found; j++)
			found = have[i] == want[j];
		if (!found)
			return false;
	}
	for (int j = 0; j < nwant; j++) {
		bool found = false;
		for (int i = 0; i < nhave && !found; i++)
			found = have[i] == want[j];
		if (!found)
			return false;
	}
	return true;
}

static int do_chroot(const char *dir, const char **error_r)
{
	char cwd[16];

	if (chroot(dir) < 0)
		return privs_fail(error_r, "chroot %s: %s", dir,
				  strerror(errno));
	if (chdir("/") < 0)
		return privs_fail(error_r, "chdir / in %s: %s", dir,
				  strerror(errno));
	if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
		return privs_fail(error_r, "chroot %s: not verified", dir);
	return 1;
}

/* After the switch: every id is the user's and root cannot come back. */
static int verify_ids(const char *user, uid_t uid, gid_t gid,
		      const gid_t *groups, int ngroups, const char **error_r)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return privs_fail(error_r, "getresuid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		return privs_fail(error_r,
				  "user %s: uid not switched (%ld %ld "
				  "%ld)",
				  user, (long)ru, (long)eu, (long)su);
	if (rg != gid || eg != gid || sg != gid)
		return privs_fail(error_r,
				  "user %s: gid not switched (%ld %ld "
				  "%ld)",
				  user, (long)rg, (long)eg, (long)sg);
	if (!groups_same(groups, ngroups))
		return privs_fail(error_r,
				  "user %s: supplementary groups not "
				  "switched",
				  user);
	if (setuid(0) == 0 || seteuid(0) == 0)
		return privs_fail(error_r, "user %s: root could be regained",
				  user);
	return 1;
}

static int switch_user(const char *user, const char *chroot_dir,
		       const char **error_r)
{
	uid_t uid;
	gid_t gid, *groups = NULL;
	int ngroups = 0, ret;

	ret = privs_user(user, &uid, &gid, error_r);
	if (ret <= 0)
		return -1;
	if (uid == 0)
		return privs_fail(error_r,
				  "user %s has uid 0: refusing to run "
				  "a daemon as root under another name",
				  user);
	if (user_groups(user, gid, &groups, &ngroups, error_r) < 0)
		return -1;
	if (setgid(gid) < 0)
		ret = privs_fail(error_r, "setgid %ld: %s", (long)gid,
				 strerror(errno));
	else if (setgroups((size_t)ngroups, groups) < 0)
		ret = privs_fail(error_r, "setgroups for %s: %s", user,
				 strerror(errno));
	else if (chroot_dir != NULL && do_chroot(chroot_dir, error_r) < 0)
		ret = -1;
	else if (setuid(uid) < 0)
		ret = privs_fail(error_r, "setuid %ld: %s", (long)uid,
				 strerror(errno));
	else
		ret = verify_ids(user, uid, gid, groups, ngroups, error_r);
	mem_free(groups);
	return ret;
}

int privs_drop(const char *user, const char *chroot_dir, const char **error_r)
{
	if (!privs_is_root()) {
		if (geteuid() == 0)
			return privs_fail(error_r, "running set-uid root is "
						   "not supported");
		return 1;
	}
	if (user != NULL)
		return switch_user(user, chroot_dir, error_r);
	if (chroot_dir != NULL)
		return do_chroot(chroot_dir, error_r);
	return 1;
}
