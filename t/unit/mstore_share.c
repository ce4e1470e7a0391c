/* t/unit/mstore_share.c: one mailbox open twice (two imapd sessions): a
 * flag change or an expunge by one is seen by the other only after its
 * sync, \Recent goes to one of them, UIDs are never reused, a message
 * renamed by the other is still readable; and several processes appending
 * and delivering at once never hand out a UID twice. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mstore.h"
#include "mstore_util.h"
#include "str.h"
#include "tap.h"

#define CHILDREN 3
#define PER_CHILD 30

static const char *root;
static const char *terr;

static const struct mstore_msg *msg(struct mstore_mailbox *mb, uint32_t uid)
{
	static const struct mstore_msg none;
	size_t count;
	const struct mstore_msg *m = mstore_messages(mb, &count);
	long i = mstore_find(mb, uid);

	return i < 0 ? &none : &m[i];
}

static void two_handles(struct mstore_mailbox *a, struct mstore_mailbox *b)
{
	uint32_t *gone;
	size_t n;
	struct str buf;

	ok((msg(a, 1)->flags & MSTORE_F_RECENT) &&
	       (msg(b, 1)->flags & MSTORE_F_RECENT) == 0,
	   "\\Recent went to the first session only");
	mstore_store_flags(a, (uint32_t[]){1}, 1, MSTORE_FLAGS_ADD,
			   MSTORE_F_SEEN, 0, 0, NULL, NULL, &terr);
	is_int(msg(b, 1)->flags, 0, "b does not see a's flag before syncing");
	is_int(mstore_mailbox_sync(b, &terr), 1, "b syncs");
	is_int(msg(b, 1)->flags, MSTORE_F_SEEN, "and sees \\Seen");
	is_int(msg(b, 1)->modseq, msg(a, 1)->modseq, "with the same modseq");

	mstore_expunge(b, (uint32_t[]){2}, 1, &gone, &n, &terr);
	free(gone);
	is_str(t_uids(a), "1,2,3", "a still has uid 2 until it syncs");
	is_int(mstore_store_flags(a, (uint32_t[]){2}, 1, MSTORE_FLAGS_ADD,
				  MSTORE_F_FLAGGED, 0, 0, NULL, NULL, &terr),
	       1, "a STORE on the expunged uid is harmless");
	is_int(mstore_mailbox_sync(a, &terr), 1, "a syncs");
	is_str(t_uids(a), "1,3", "uid 2 gone for a too");

	mstore_store_flags(b, (uint32_t[]){3}, 1, MSTORE_FLAGS_ADD,
			   MSTORE_F_FLAGGED, 0, 0, NULL, NULL, &terr);
	str_init(&buf, 0);
	is_int(mstore_msg_read(a, 3, &buf, &terr), 1,
	       "a reads uid 3 although b renamed its file");
	is_str(buf.data, "Subject: 3\n\nbody\n", "content");
	str_deinit(&buf);

	t_deliver(root, 4, "Subject: 4\n\nbody\n");
	mstore_mailbox_sync(b, &terr);
	mstore_mailbox_sync(a, &terr);
	ok((msg(b, 4)->flags & MSTORE_F_RECENT) &&
	       (msg(a, 4)->flags & MSTORE_F_RECENT) == 0,
	   "uid 4's \\Recent went to b, who synced first");
	mstore_expunge(a, (uint32_t[]){4}, 1, &gone, &n, &terr);
	free(gone);
	t_deliver(root, 5, "Subject: 5\n\nbody\n");
	mstore_mailbox_sync(a, &terr);
	mstore_mailbox_sync(b, &terr);
	is_str(t_uids(a), "1,3,5", "a: the new message is uid 5");
	is_str(t_uids(b), "1,3,5", "b agrees; 2 and 4 are not reused");
}

static void child(const char *name, int id)
{
	struct mstore *s = t_store_open("alice");
	char body[64];
	uint32_t uidv, uid, prev = 0;
	const char *err;

	for (int i = 0; i < PER_CHILD; i++) {
		snprintf(body, sizeof(body), "Subject: %d/%d\n\nx\n", id, i);
		if (mstore_append(s, name, body, strlen(body), 0, NULL, 0, 0,
				  &uidv, &uid, &err) != 1 ||
		    uid <= prev)
			_exit(1);
		prev = uid;
	}
	mstore_free(&s);
	_exit(0);
}

static void processes(struct mstore *s)
{
	struct mstore_mailbox *mb;
	struct mstore_status st;
	pid_t pids[CHILDREN + 1];
	int status, failed = 0;
	const char *err;

	mstore_create(s, "Conc", &err);
	mb = t_mb_open(s, "Conc", false);
	fflush(stdout);
	for (int i = 0; i < CHILDREN; i++)
		if ((pids[i] = fork()) == 0)
			child("Conc", i);
	if ((pids[CHILDREN] = fork()) == 0) {
		for (unsigned i = 0; i < PER_CHILD; i++)
			t_deliver(t_path("%s/.Conc", root), 100 + i, "x\n");
		_exit(0);
	}
	for (int i = 0; i < 20; i++)
		if (mstore_mailbox_sync(mb, &err) < 0)
			failed++;
	for (int i = 0; i <= CHILDREN; i++)
		if (waitpid(pids[i], &status, 0) < 0 || status != 0)
			failed++;
	is_int(failed, 0, "children and syncs all worked");
	is_int(mstore_mailbox_sync(mb, &err), 1, "final sync");
	mstore_mailbox_status(mb, &st);
	is_int(st.messages, (CHILDREN + 1) * PER_CHILD, "every message there");
	is_int(st.uidnext, (CHILDREN + 1) * PER_CHILD + 1,
	       "and no UID was handed out twice or skipped");
	mstore_mailbox_close(&mb);
}

int main(void)
{
	struct mstore *s1 = t_store_open("alice"), *s2 = t_store_open("alice");
	struct mstore_mailbox *a, *b;

	root = t_user_root("alice");
	for (unsigned i = 1; i <= 3; i++)
		t_deliver(root, i, t_path("Subject: %u\n\nbody\n", i));
	a = t_mb_open(s1, "INBOX", false);
	b = t_mb_open(s2, "INBOX", false);
	is_str(t_uids(a), "1,2,3", "a: three messages");
	is_str(t_uids(b), "1,2,3", "b: the same");
	two_handles(a, b);
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
	processes(s1);
	mstore_free(&s1);
	mstore_free(&s2);
	return tap_done();
}
