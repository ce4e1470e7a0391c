/* t/unit/mstore_names.c: mail store names: what mstore_name_check()
 * accepts and refuses, INBOX in any case, the on-disk escapes, and that no
 * name (.., /etc, ~root, %2E%2E, INBOX/../x, Public/../../, control
 * characters, bad UTF-8, very long names) reaches outside the store: the
 * file system is checked after every attempt. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mstore.h"
#include "mstore_util.h"
#include "tap.h"

static const char *const bad_names[] = {
    "",
    "..",
    ".",
    "/etc",
    "/etc/passwd",
    "~root",
    "~root/INBOX",
    "%2E%2E",
    "a/%2E%2E/b",
    "INBOX/../x",
    "INBOX/..",
    "../x",
    "a/../../b",
    "Public/../../",
    "Public/..",
    "Public/../x",
    "a//b",
    "a/",
    "a/./b",
    "tab\there",
    "new\nline",
    "del\x7f",
    "esc\x1b[0m",
    "\xff\xfe",
    "caf\xc3",	    /* truncated UTF-8 */
    "\xc0\xaf",	    /* overlong '/' */
    "\xed\xa0\x80", /* a surrogate */
    "wild*",
    "per%cent",
    NULL,
};

static void check_refused(struct mstore *s)
{
	const char *err;
	struct mstore_mailbox *mb;
	struct mstore_status st;
	uint32_t uidv, uid;

	for (size_t i = 0; bad_names[i] != NULL; i++) {
		const char *n = bad_names[i], *show = t_show(n);

		err = NULL;
		is_int(mstore_name_check(n, &err), -1,
		       t_path("check refuses '%s'", show));
		ok(err != NULL && *err != '\0', "with a reason: %s",
		   err ? err : "");
		is_int(mstore_create(s, n, &err), -1,
		       t_path("create refuses '%s'", show));
		ok(mstore_mailbox_open(s, n, false, &mb, &err) <= 0,
		   "open does not open '%s'", show);
		ok(mstore_append(s, n, "x\n", 2, 0, NULL, 0, 0, &uidv, &uid,
				 &err) <= 0,
		   "append does not deliver to '%s'", show);
		ok(mstore_status(s, n, &st, &err) <= 0, "no status of '%s'",
		   show);
		ok(mstore_delete(s, n, &err) <= 0,
		   "delete does nothing to '%s'", show);
		ok(mstore_rename(s, "Sent", n, &err) < 0,
		   "rename to '%s' refused", show);
	}
}

static void check_long(struct mstore *s)
{
	char name[1100], comp[300];
	const char *err;

	memset(name, 'a', 1001);
	name[1001] = '\0';
	is_int(mstore_name_check(name, &err), -1, "1001 bytes refused");
	memset(name, 'a', 1000);
	name[1000] = '\0';
	for (int i = 100; i < 1000; i += 101)
		name[i] = '/';
	is_int(mstore_name_check(name, &err), 1,
	       "1000 bytes in levels pass the check");
	is_int(mstore_create(s, name, &err), -1, "but are too long on disk");
	memset(comp, 'b', 256);
	comp[256] = '\0';
	is_int(mstore_create(s, comp, &err), -1, "256-byte level refused");
	memset(comp, 'b', 254);
	comp[254] = '\0';
	is_int(mstore_create(s, comp, &err), 1,
	       "254-byte level (255 on disk) made");
	memset(comp, '.', 100);
	comp[100] = '\0';
	is_int(mstore_create(s, comp, &err), -1,
	       "100 dots (300 escaped bytes) refused");
}

/* A symlinked user root is fine (admins do that); a folder that is a
 * symlink out of the store is not a folder. */
static void symlinks(struct mstore *s)
{
	const char *err, *target = t_path("%s/elsewhere", tap_tmpdir());
	struct mstore *carol;
	struct mstore_mailbox *mb;
	struct mstore_folder *l;
	size_t n;
	bool listed = false;

	ok(mkdir(t_path("%s/real-carol", tap_tmpdir()), 0700) == 0 &&
	       symlink(t_path("%s/real-carol", tap_tmpdir()),
		       t_user_root("carol")) == 0,
	   "carol's root is a symlink");
	carol = t_store_open("carol");
	is_int(mstore_mailbox_open(carol, "INBOX", false, &mb, &err), 1,
	       "her INBOX opens");
	mstore_mailbox_close(&mb);
	mstore_free(&carol);

	ok(mkdir(target, 0700) == 0 &&
	       mkdir(t_path("%s/cur", target), 0700) == 0 &&
	       mkdir(t_path("%s/new", target), 0700) == 0 &&
	       mkdir(t_path("%s/tmp", target), 0700) == 0 &&
	       symlink(target, t_path("%s/.Evil", t_user_root("alice"))) == 0,
	   "a folder symlinked out of the store");
	is_int(mstore_mailbox_open(s, "Evil", false, &mb, &err), 0,
	       "does not open");
	is_int(mstore_append(s, "Evil", "x\n", 2, 0, NULL, 0, 0, &(uint32_t){0},
			     &(uint32_t){0}, &err),
	       0, "takes no mail");
	mstore_list(s, &l, &n, &err);
	for (size_t i = 0; i < n; i++)
		listed |= strcmp(l[i].name, "Evil") == 0;
	mstore_folders_free(l, n);
	ok(!listed, "is not listed");
	is_int(mstore_create(s, "Evil", &err), -1, "cannot be created over");
	is_int(mstore_create(s, "Evil/Sub", &err), -1, "nor below");
	is_int(t_count(target), 3, "nothing written there");
}

int main(void)
{
	struct mstore *s = t_store_open("alice");
	const char *err, *root = t_user_root("alice");
	struct mstore_mailbox *mb;
	struct mstore_status st;

	is_int(mstore_name_check("INBOX", &err), 1, "INBOX");
	is_int(mstore_name_check("Work/2024/Q1", &err), 1, "levels");
	is_int(mstore_name_check("Caf\xc3\xa9 \xe2\x82\xac", &err), 1, "UTF-8");
	is_int(mstore_name_check("a.b", &err), 1, "dots inside a level");
	is_int(mstore_name_check(".hidden", &err), 1, "a leading dot");
	is_int(mstore_name_check("x~y", &err), 1, "~ not first");

	check_refused(s);
	check_long(s);

	is_int(mstore_create(s, "a.b", &err), 1, "create a.b");
	ok(t_exists(t_path("%s/.a%%2Eb/cur", root)), "a.b is .a%%2Eb on disk");
	is_int(mstore_create(s, ".hidden/x", &err), 1, "create .hidden/x");
	ok(t_exists(t_path("%s/.%%2Ehidden.x/cur", root)),
	   "as .%%2Ehidden.x, below the root");
	is_int(mstore_status(s, "%2Eb", &st, &err), 0,
	       "a literal %%2E never means a dot");

	is_int(mstore_create(s, "inbox", &err), 0, "inbox is INBOX: exists");
	is_int(mstore_create(s, "iNbOx/Sub", &err), 1, "iNbOx/Sub");
	ok(t_exists(t_path("%s/.INBOX.Sub/cur", root)), "stored as .INBOX.Sub");
	is_int(mstore_mailbox_open(s, "Inbox/sub", false, &mb, &err), 0,
	       "levels below INBOX keep their case");
	is_int(mstore_mailbox_open(s, "INBOX/Sub", false, &mb, &err), 1,
	       "INBOX/Sub opens");
	mstore_mailbox_close(&mb);
	is_int(mstore_mailbox_open(s, "inBOX", true, &mb, &err), 1,
	       "inBOX opens");
	mstore_mailbox_close(&mb);

	/* nothing outside the user's directory */
	is_int(t_count(t_path("%s/store/example.org", tap_tmpdir())), 1,
	       "only alice in the domain");
	is_int(t_count(t_path("%s/store", tap_tmpdir())), 2,
	       "only the domain and Public in the store");
	is_int(t_count(tap_tmpdir()), 1, "only the store in the test dir");
	is_int(t_count(t_public_root()), 3, "Public holds only cur new tmp");
	ok(!t_exists(t_path("%s/store/example.org/alice/.etc", tap_tmpdir())) &&
	       !t_exists(t_path("%s/etc", tap_tmpdir())),
	   "no etc anywhere");

	symlinks(s);
	mstore_free(&s);
	ok(s == NULL, "free NULLs the pointer");
	return tap_done();
}
