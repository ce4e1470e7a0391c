/* t/unit/mstore_folders.c: folders of the mail store: the special-use
 * set-up on first open, LIST (order, \Noselect parents, children
 * attributes, subscriptions, \NonExistent), CREATE with parents, DELETE
 * (INBOX refused, \Noselect with children), RENAME (children, INBOX), and
 * the Public namespace shared between users. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mstore.h"
#include "mstore_util.h"
#include "tap.h"

/* "name:attrs" of every folder, attrs as letters. */
static const char *list_str(struct mstore *s)
{
	static char buf[8192];
	static const char letters[] = "NCcSDTJAsX";
	struct mstore_folder *l;
	size_t n, len = 0;
	const char *err;

	buf[0] = '\0';
	if (mstore_list(s, &l, &n, &err) < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"%s%s:", i > 0 ? " " : "", l[i].name);
		for (int b = 0; b < 10 && len + 2 < sizeof(buf); b++)
			if (l[i].attrs & (1u << b))
				buf[len++] = letters[b];
		buf[len] = '\0';
	}
	mstore_folders_free(l, n);
	return buf;
}

static unsigned attrs_of(struct mstore *s, const char *name)
{
	struct mstore_folder *l;
	size_t n;
	const char *err;
	unsigned a = 0xffffffffu;

	if (mstore_list(s, &l, &n, &err) < 0)
		return a;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			a = l[i].attrs;
	mstore_folders_free(l, n);
	return a;
}

static void first_open(struct mstore *s)
{
	is_str(list_str(s),
	       "INBOX:cs Archive:cAs Drafts:cDs Junk:cJs Public:Nc Sent:cSs "
	       "Trash:cTs",
	       "first open: special-use folders, subscribed");
}

static void create_delete(struct mstore *s, const char *root)
{
	const char *err;
	struct mstore_status st;
	uint32_t old_uidv;

	is_int(mstore_create(s, "Work/2024/Q1", &err), 1,
	       "create Work/2024/Q1");
	ok(t_exists(t_path("%s/.Work/cur", root)) &&
	       t_exists(t_path("%s/.Work.2024/cur", root)),
	   "parents made as folders");
	ok(t_exists(t_path("%s/.Work.2024.Q1/maildirfolder", root)),
	   "maildirfolder marker");
	is_int(mstore_create(s, "Work", &err), 0, "Work exists");
	is_int(attrs_of(s, "Work"), MSTORE_A_HASCHILDREN, "Work has children");
	is_int(attrs_of(s, "Work/2024/Q1"), MSTORE_A_HASNOCHILDREN,
	       "Q1 has none");
	is_int(mstore_append(s, "Work", "Subject: x\n\nhi\n", 15, 0, NULL, 0, 0,
			     &st.uidvalidity, &st.uidnext, &err),
	       1, "a message into Work");
	is_int(mstore_status(s, "Work", &st, &err), 1, "status of Work");
	old_uidv = st.uidvalidity;
	is_int(mstore_delete(s, "Work", &err), 1,
	       "delete Work (children stay)");
	ok(!t_exists(t_path("%s/.Work", root)), "its directory is gone");
	is_int(attrs_of(s, "Work"), MSTORE_A_NOSELECT | MSTORE_A_HASCHILDREN,
	       "Work is now \\Noselect with children");
	is_int(mstore_status(s, "Work", &st, &err), 0, "no status of it");
	is_int(mstore_delete(s, "Work", &err), -1,
	       "deleting a \\Noselect parent with children fails");
	is_int(mstore_delete(s, "Nope", &err), 0, "delete a missing name: 0");
	is_int(mstore_delete(s, "INBOX", &err), -1, "INBOX cannot be deleted");
	is_int(mstore_delete(s, "inbox", &err), -1, "nor inbox");
	is_int(mstore_create(s, "Work", &err), 1, "Work made again");
	is_int(mstore_status(s, "Work", &st, &err), 1,
	       "status of the new Work");
	is_int(st.messages, 0, "its messages went with the old one");
	ok(st.uidvalidity > old_uidv, "a greater UIDVALIDITY (%u > %u)",
	   st.uidvalidity, old_uidv);
	is_int(mstore_delete(s, "Work/2024/Q1", &err), 1, "delete a leaf");
	is_int(attrs_of(s, "Work/2024"), MSTORE_A_HASNOCHILDREN,
	       "its parent has no children now");
	ok(t_count(t_path("%s/tmp", root)) == 0, "no leftovers in tmp/");
}

static void rename_tests(struct mstore *s, const char *root)
{
	const char *err;
	struct mstore_status st;
	uint32_t uidv, uid;

	is_int(mstore_create(s, "A/B/C", &err), 1, "A/B/C");
	mstore_append(s, "A/B/C", "x\n", 2, 0, NULL, 0, 0, &uidv, &uid, &err);
	is_int(mstore_rename(s, "A", "Z/Y", &err), 1, "rename A to Z/Y");
	is_int(mstore_status(s, "Z/Y/B/C", &st, &err), 1, "Z/Y/B/C");
	ok(st.messages == 1 && st.uidvalidity == uidv,
	   "with its message and UIDVALIDITY");
	ok(!t_exists(t_path("%s/.A", root)) &&
	       !t_exists(t_path("%s/.A.B", root)),
	   "A and children gone");
	ok(t_exists(t_path("%s/.Z.Y.B.C/cur", root)) &&
	       t_exists(t_path("%s/.Z/cur", root)),
	   "children moved, new parent made");
	is_int(mstore_rename(s, "Z/Y", "Z/Y/W", &err), -1, "not into itself");
	is_int(mstore_rename(s, "Z", "Work", &err), -1,
	       "not onto an existing one");
	is_int(mstore_rename(s, "Nope", "Ghost2/Nope2", &err), 0,
	       "missing source: 0");
	ok(!t_exists(t_path("%s/.Ghost2", root)), "and no parent made for it");
	is_int(mstore_rename(s, "Sent", "INBOX", &err), -1, "not to INBOX");
	is_int(mstore_rename(s, "Sent", "Public/Sent", &err), -1,
	       "not across namespaces");

	is_int(mstore_create(s, "INBOX/Sub", &err), 1, "INBOX/Sub");
	for (int i = 0; i < 3; i++)
		t_deliver(root, (unsigned)i, "Subject: inbox\n\nbody\n");
	is_int(mstore_append(s, "INBOX", "x\n", 2, MSTORE_F_SEEN, NULL, 0, 0,
			     &uidv, &uid, &err),
	       1, "and one appended");
	is_int(mstore_rename(s, "INBOX", "Old/Mail", &err), 1,
	       "rename INBOX to Old/Mail");
	is_int(mstore_status(s, "INBOX", &st, &err), 1, "INBOX still there");
	is_int(st.messages, 0, "and empty");
	is_int(mstore_status(s, "Old/Mail", &st, &err), 1, "Old/Mail there");
	is_int(st.messages, 4, "with INBOX's four messages");
	is_int(st.unseen, 3, "flags kept");
	ok(t_exists(t_path("%s/.INBOX.Sub/cur", root)), "INBOX children stay");
	is_int(attrs_of(s, "INBOX"), MSTORE_A_HASCHILDREN | MSTORE_A_SUBSCRIBED,
	       "INBOX: \\HasChildren");
	is_int(mstore_rename(s, "INBOX", "Old/Mail", &err), -1,
	       "the target exists now");
}

static void subscriptions(struct mstore *s)
{
	const char *err;

	is_int(mstore_subscribe(s, "Ghost/Town", true, &err), 1,
	       "subscribe a name that does not exist");
	is_int(attrs_of(s, "Ghost/Town"),
	       MSTORE_A_SUBSCRIBED | MSTORE_A_NONEXISTENT,
	       "listed \\NonExistent \\Subscribed");
	is_int(attrs_of(s, "Ghost"), 0xffffffffu, "and makes no parent");
	is_int(mstore_subscribe(s, "Ghost/Town", true, &err), 1,
	       "twice is fine");
	is_int(mstore_subscribe(s, "Ghost/Town", false, &err), 1,
	       "unsubscribe");
	is_int(attrs_of(s, "Ghost/Town"), 0xffffffffu, "gone from the list");
	is_int(mstore_subscribe(s, "Junk", false, &err), 1, "unsubscribe Junk");
	is_int(attrs_of(s, "Junk"), MSTORE_A_HASNOCHILDREN | MSTORE_A_JUNK,
	       "Junk still there, not subscribed");
	is_int(mstore_subscribe(s, "../x", true, &err), -1,
	       "bad names refused");
	is_int(mstore_delete(s, "Trash", &err), 1, "delete Trash");
	is_int(attrs_of(s, "Trash"), MSTORE_A_SUBSCRIBED | MSTORE_A_NONEXISTENT,
	       "still subscribed: \\NonExistent");
}

static void public_ns(struct mstore *s)
{
	struct mstore *bob;
	const char *err;
	struct mstore_status st;
	uint32_t uidv, uid;

	is_int(mstore_create(s, "Public", &err), -1, "Public is a namespace");
	is_int(mstore_delete(s, "Public", &err), -1, "and cannot be deleted");
	is_int(mstore_status(s, "Public", &st, &err), 0, "nor selected");
	is_int(mstore_create(s, "Public/Team/Notes", &err), 1,
	       "create Public/Team/Notes");
	ok(t_exists(t_path("%s/.Team.Notes/cur", t_public_root())),
	   "in the public root");
	is_int(attrs_of(s, "Public"), MSTORE_A_NOSELECT | MSTORE_A_HASCHILDREN,
	       "Public: \\Noselect \\HasChildren");
	is_int(mstore_append(s, "Public/Team", "hello\n", 6, 0, NULL, 0, 0,
			     &uidv, &uid, &err),
	       1, "alice appends to Public/Team");
	bob = t_store_open("bob");
	is_int(attrs_of(bob, "Public/Team"), MSTORE_A_HASCHILDREN,
	       "bob sees Public/Team");
	is_int(mstore_status(bob, "Public/Team", &st, &err), 1, "bob: status");
	is_int(st.messages, 1, "with alice's message");
	is_int(st.uidvalidity, uidv, "same mailbox");
	is_int(attrs_of(bob, "Work"), 0xffffffffu, "but not alice's folders");
	is_int(mstore_rename(bob, "Public/Team", "Public/Crew", &err), 1,
	       "rename inside Public");
	is_int(attrs_of(s, "Public/Crew/Notes"), MSTORE_A_HASNOCHILDREN,
	       "alice sees it renamed, with its child");
	mstore_free(&bob);
}

int main(void)
{
	struct mstore *s = t_store_open("alice");
	const char *root = t_user_root("alice");
	const char *err;

	first_open(s);
	ok(t_exists(t_path("%s/.Sent/cur", root)), "Sent on disk");
	create_delete(s, root);
	rename_tests(s, root);
	subscriptions(s);
	public_ns(s);

	is_int(mstore_delete(s, "Junk", &err), 1, "delete Junk");
	mstore_free(&s);
	s = t_store_open("alice");
	is_int(attrs_of(s, "Junk"), 0xffffffffu,
	       "a second open does not make Junk again");
	mstore_free(&s);
	return tap_done();
}
