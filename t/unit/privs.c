/* t/unit/privs.c: tests for lib/privs.c: user and group lookups, and (as
 * root, in child processes) the verified switch to another user, the
 * refusal of uid 0, the chroot, and the no-op when not root. */
#include "config.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privs.h"
#include "str.h"
#include "tap.h"

static const char *err;
static char jail[4096];

/* Each child exits 0 when every check passed, else the number of the
 * first failed check. The chrooted one uses _exit(): exit handlers such as
 * a sanitizer's leak check need /proc, which the jail lacks. */
static void child_drop(void *arg)
{
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg, groups[8];

	if (privs_user("nobody", &uid, &gid, &err) != 1)
		exit(1);
	if (privs_drop("nobody", NULL, &err) != 1)
		exit(2);
	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	if (ru != uid || eu != uid || su != uid)
		exit(3);
	if (rg != gid || eg != gid || sg != gid)
		exit(4);
	for (int i = 0, n = getgroups(8, groups); i < n; i++)
		if (groups[i] == 0)
			exit(5);
	if (setuid(0) == 0 || seteuid(0) == 0)
		exit(6);
	exit(0);
}

static void child_chroot(void *arg)
{
	struct dirent *e;
	DIR *d;
	int seen = 0;

	if (privs_drop("nobody", jail, &err) != 1)
		_exit(1);
	d = opendir("/");
	if (d == NULL)
		_exit(2);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, "marker") == 0)
			seen++;
		else if (e->d_name[0] != '.')
			_exit(3);
	}
	closedir(d);
	_exit(seen == 1 && getuid() != 0 ? 0 : 4);
}

static void child_root_user(void *arg)
{
	exit(privs_drop("root", NULL, &err) == -1 && getuid() == 0 ? 0 : 1);
}

/* Not root: privs_drop() changes nothing, even with a chroot asked for. */
static void child_not_root(void *arg)
{
	char before[4096], after[4096];
	uid_t uid = getuid();

	if (privs_is_root() && privs_drop("nobody", NULL, &err) != 1)
		exit(1);
	uid = getuid();
	if (getcwd(before, sizeof(before)) == NULL)
		exit(2);
	if (privs_drop("nobody", "/", &err) != 1)
		exit(3);
	if (getcwd(after, sizeof(after)) == NULL || strcmp(before, after) != 0)
		exit(4);
	exit(getuid() == uid ? 0 : 5);
}

static void test_lookups(void)
{
	uid_t uid;
	gid_t gid;

	is_int(privs_user("root", &uid, &gid, &err), 1, "root exists");
	is_int(uid, 0, "root has uid 0");
	is_int(privs_user("no-such-user-postern", &uid, &gid, &err), 0,
	       "unknown user");
	ok(err && strstr(err, "no such user"), "error says so: %s", err);
	is_int(privs_group("root", &gid, &err), 1, "group root exists");
	is_int(privs_group("no-such-group-postern", &gid, &err), 0,
	       "unknown group");
	is_int(privs_is_root(), getuid() == 0, "privs_is_root");
}

static void test_as_root(void)
{
	struct str path;

	if (getuid() != 0) {
		ok(1, "switch to nobody # SKIP not root");
		ok(1, "chroot # SKIP not root");
		ok(1, "uid 0 refused # SKIP not root");
		return;
	}
	is_int(tap_run_child(child_drop, NULL), 0,
	       "switch to nobody: every id switched, root not regained");
	snprintf(jail, sizeof(jail), "%s/jail", tap_tmpdir());
	str_init(&path, 0);
	str_printf(&path, "%s/marker", jail);
	chmod(tap_tmpdir(), 0755);
	ok(mkdir(jail, 0755) == 0 && mkdir(path.data, 0755) == 0, "make jail");
	is_int(tap_run_child(child_chroot, NULL), 0,
	       "chroot: only the jail is in view, as nobody");
	is_int(tap_run_child(child_root_user, NULL), 0,
	       "a user with uid 0 is refused");
	str_deinit(&path);
}

int main(void)
{
	test_lookups();
	test_as_root();
	is_int(tap_run_child(child_not_root, NULL), 0,
	       "not root: nothing changes");
	return tap_done();
}
