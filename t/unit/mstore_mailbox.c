/* t/unit/mstore_mailbox.c: one open mailbox of the mail store: new mail
 * delivered into new/ the way `local` does it, picked up by sync with
 * ascending UIDs and moved to cur/; \Recent; EXAMINE; RFC822.SIZE in CRLF;
 * reading; STORE with flags in the file names; keywords up to 26; modseq
 * only going up; CONDSTORE UNCHANGEDSINCE; renames and removals by other
 * Maildir software; EXPUNGE; the notify descriptor. */
#include "config.h"

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mstore.h"
#include "mstore_util.h"
#include "str.h"
#include "tap.h"

static const char *root;
static uint64_t last_modseq;
static const char *terr;

/* The file of delivery n (t_deliver's names start "1700000000+n."). */
static const char *file_of(const char *sub, unsigned n)
{
	static char name[512];
	char prefix[32];
	struct dirent *e;
	DIR *d = opendir(t_path("%s/%s", root, sub));

	name[0] = '\0';
	snprintf(prefix, sizeof(prefix), "%u.", 1700000000u + n);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(name, sizeof(name), "%s", e->d_name);
	if (d != NULL)
		closedir(d);
	return name;
}

static const struct mstore_msg *msg(struct mstore_mailbox *mb, uint32_t uid)
{
	static const struct mstore_msg none;
	size_t count;
	const struct mstore_msg *m = mstore_messages(mb, &count);
	long i = mstore_find(mb, uid);

	return i < 0 ? &none : &m[i];
}

static void sync_ok(struct mstore_mailbox *mb, const char *what)
{
	struct mstore_status st;
	const char *err = NULL;

	is_int(mstore_mailbox_sync(mb, &err), 1, what);
	mstore_mailbox_status(mb, &st);
	ok(st.highestmodseq >= last_modseq,
	   "HIGHESTMODSEQ %llu never goes down",
	   (unsigned long long)st.highestmodseq);
	last_modseq = st.highestmodseq;
}

static void first_open(struct mstore *s, struct mstore_mailbox **mbp)
{
	static const char body1[] = "Subject: one\n\nline1\nline2\n";
	static const char body2[] = "Subject: two\r\n\r\nCRLF\r\nand bare\n";
	struct mstore_status st;
	struct mstore_mailbox *mb;
	const char *err;
	struct str buf;
	struct stat sb;

	t_deliver(root, 1, body1);
	t_deliver(root, 2, body2);
	t_deliver(root, 3, "Subject: three\n\n");
	*mbp = mb = t_mb_open(s, "INBOX", false);
	is_str(t_uids(mb), "1,2,3", "three messages, UIDs in delivery order");
	is_int(t_count(t_path("%s/new", root)), 0, "new/ emptied");
	ok(strstr(file_of("cur", 1), ":2,") != NULL, "moved to cur/ with :2,");
	mstore_mailbox_status(mb, &st);
	is_int(st.messages, 3, "STATUS messages");
	is_int(st.recent, 3, "all \\Recent for the first writer");
	is_int(st.unseen, 3, "unseen");
	is_int(st.uidnext, 4, "UIDNEXT");
	ok(st.uidvalidity > 0, "UIDVALIDITY %u", st.uidvalidity);
	ok(st.mailboxid[0] == 'M' && strlen(st.mailboxid) > 10, "MAILBOXID %s",
	   st.mailboxid);
	is_int(msg(mb, 1)->size, strlen(body1) + 4, "RFC822.SIZE counts CRLF");
	is_int(msg(mb, 2)->size, strlen(body2) + 1,
	       "CRLF lines are not counted twice");
	ok(msg(mb, 1)->flags & MSTORE_F_RECENT, "\\Recent flag");
	stat(t_path("%s/cur/%s", root, file_of("cur", 1)), &sb);
	is_int(msg(mb, 1)->internaldate, sb.st_mtime, "internal date = mtime");
	ok(msg(mb, 1)->emailid[0] == 'E' &&
	       strcmp(msg(mb, 1)->emailid, msg(mb, 2)->emailid) != 0,
	   "EMAILIDs %s, %s", msg(mb, 1)->emailid, msg(mb, 2)->emailid);
	str_init(&buf, 0);
	is_int(mstore_msg_read(mb, 1, &buf, &err), 1, "read uid 1");
	is_str(buf.data, body1, "its content, LF as stored");
	is_int(mstore_msg_read(mb, 99, &buf, &err), 0, "no uid 99");
	str_deinit(&buf);
	is_int(mstore_find(mb, 2), 1, "find uid 2");
	is_int(mstore_find(mb, 4), -1, "find uid 4: none");
}

static void new_mail(struct mstore *s, struct mstore_mailbox *mb)
{
	struct mstore_mailbox *ro;
	struct mstore_status st;
	const char *err;

	t_deliver(root, 4, "Subject: four\n\nx\n");
	is_str(t_uids(mb), "1,2,3", "the view waits for sync");
	sync_ok(mb, "sync");
	is_str(t_uids(mb), "1,2,3,4", "uid 4 after sync");
	ok((msg(mb, 4)->flags & MSTORE_F_RECENT) &&
	       (msg(mb, 1)->flags & MSTORE_F_RECENT),
	   "new and old keep \\Recent in this session");

	t_deliver(root, 5, "Subject: five\n\nx\n");
	ro = t_mb_open(s, "inbox", true);
	is_str(t_uids(ro), "1,2,3,4,5", "EXAMINE sees uid 5");
	is_int(t_count(t_path("%s/new", root)), 1, "but leaves it in new/");
	ok((msg(ro, 5)->flags & MSTORE_F_RECENT) == 0,
	   "and claims no \\Recent");
	mstore_mailbox_status(ro, &st);
	is_int(st.recent, 1, "RECENT counts the unclaimed one");
	is_int(mstore_store_flags(ro, (uint32_t[]){1}, 1, MSTORE_FLAGS_ADD,
				  MSTORE_F_SEEN, 0, 0, NULL, NULL, &err),
	       -1, "no STORE in EXAMINE");
	mstore_mailbox_close(&ro);
	ok(ro == NULL, "close NULLs the handle");
	sync_ok(mb, "sync");
	ok(msg(mb, 5)->flags & MSTORE_F_RECENT, "the writer claims uid 5");
	is_int(t_count(t_path("%s/new", root)), 0, "and moves it");
	ro = t_mb_open(s, "INBOX", true);
	mstore_mailbox_status(ro, &st);
	is_int(st.recent, 0, "nothing left to claim");
	mstore_mailbox_close(&ro);
}

static void flags(struct mstore_mailbox *mb)
{
	const char *err;
	uint64_t ms;

	is_int(mstore_store_flags(mb, (uint32_t[]){1, 2}, 2, MSTORE_FLAGS_ADD,
				  MSTORE_F_SEEN | MSTORE_F_FLAGGED, 0, 0, NULL,
				  NULL, &err),
	       1, "STORE +FLAGS (\\Seen \\Flagged) 1:2");
	ok(msg(mb, 1)->flags ==
	       (MSTORE_F_SEEN | MSTORE_F_FLAGGED | MSTORE_F_RECENT),
	   "the view has them");
	ok(strstr(file_of("cur", 1), ":2,FS") != NULL, "file name %s",
	   file_of("cur", 1));
	ms = msg(mb, 1)->modseq;
	ok(ms > last_modseq && msg(mb, 2)->modseq == ms,
	   "modseq bumped to %llu", (unsigned long long)ms);
	mstore_store_flags(mb, (uint32_t[]){1}, 1, MSTORE_FLAGS_REMOVE,
			   MSTORE_F_FLAGGED, 0, 0, NULL, NULL, &err);
	ok(strstr(file_of("cur", 1), ":2,S") != NULL, "-FLAGS: %s",
	   file_of("cur", 1));
	ok(msg(mb, 1)->modseq > ms, "modseq up again");
	ms = msg(mb, 1)->modseq;
	mstore_store_flags(mb, (uint32_t[]){1}, 1, MSTORE_FLAGS_ADD,
			   MSTORE_F_SEEN, 0, 0, NULL, NULL, &err);
	is_int(msg(mb, 1)->modseq, ms, "no change, no new modseq");
	mstore_store_flags(mb, (uint32_t[]){3}, 1, MSTORE_FLAGS_SET,
			   MSTORE_F_ANSWERED | MSTORE_F_DELETED |
			       MSTORE_F_DRAFT,
			   0, 0, NULL, NULL, &err);
	ok(strstr(file_of("cur", 3), ":2,DRT") != NULL,
	   "FLAGS (Draft Answered "
	   "Deleted): %s",
	   file_of("cur", 3));
	mstore_store_flags(mb, (uint32_t[]){4}, 1, MSTORE_FLAGS_SET,
			   MSTORE_F_RECENT, 0, 0, NULL, NULL, &err);
	is_int(msg(mb, 4)->flags, MSTORE_F_RECENT,
	       "\\Recent cannot be stored "
	       "or removed");
	mstore_store_flags(mb, (uint32_t[]){4, 77}, 2, MSTORE_FLAGS_ADD,
			   MSTORE_F_SEEN, 0, 0, NULL, NULL, &err);
	is_int(msg(mb, 4)->flags, MSTORE_F_RECENT | MSTORE_F_SEEN,
	       "unknown uids are skipped");
	sync_ok(mb, "sync after STORE");
}

static void keywords(struct mstore_mailbox *mb)
{
	const char *const *names;
	size_t count;
	const char *err;
	char kw[16];
	int i;

	for (i = 0; i < MSTORE_KEYWORD_MAX; i++) {
		snprintf(kw, sizeof(kw), "kw%d", i);
		if (mstore_keyword_index(mb, kw, true) != i)
			break;
	}
	is_int(i, MSTORE_KEYWORD_MAX, "26 keywords");
	is_int(mstore_keyword_index(mb, "one-too-many", true), -1,
	       "the 27th is refused");
	is_int(mstore_keyword_index(mb, "KW3", false), 3, "case-insensitive");
	is_int(mstore_keyword_index(mb, "nope", false), -1, "not created");
	is_int(mstore_keyword_index(mb, "\\Seen", true), -1, "not a flag");
	is_int(mstore_keyword_index(mb, "a b", true), -1, "not an atom");
	is_int(mstore_keyword_index(mb, "(x", true), -1, "no specials");
	names = mstore_keywords(mb, &count);
	ok(count == 26 && strcmp(names[0], "kw0") == 0 &&
	       strcmp(names[25], "kw25") == 0,
	   "keyword names in order");
	mstore_store_flags(mb, (uint32_t[]){2}, 1, MSTORE_FLAGS_ADD, 0,
			   1u | (1u << 25), 0, NULL, NULL, &err);
	is_int(msg(mb, 2)->keywords, 1u | (1u << 25), "keywords stored");
	ok(strstr(file_of("cur", 2), ":2,FSaz") != NULL, "as letters: %s",
	   file_of("cur", 2));
}

static void condstore(struct mstore_mailbox *mb)
{
	uint32_t *failed = NULL;
	size_t nfailed = 0;
	const char *err;
	uint64_t m2 = msg(mb, 2)->modseq, m4 = msg(mb, 4)->modseq;

	ok(m4 < m2, "uid 4 (%llu) older than uid 2 (%llu)",
	   (unsigned long long)m4, (unsigned long long)m2);
	is_int(mstore_store_flags(mb, (uint32_t[]){2, 4}, 2, MSTORE_FLAGS_ADD,
				  MSTORE_F_ANSWERED, 0, m4, &failed, &nfailed,
				  &err),
	       1, "STORE (UNCHANGEDSINCE m4)");
	ok(nfailed == 1 && failed[0] == 2, "uid 2 failed the test");
	ok((msg(mb, 2)->flags & MSTORE_F_ANSWERED) == 0, "and kept its flags");
	ok(msg(mb, 4)->flags & MSTORE_F_ANSWERED, "uid 4 changed");
	free(failed);
}

static void external(struct mstore_mailbox *mb)
{
	const char *name = file_of("cur", 4);
	char *colon = strchr(name, ':');
	char base[512];

	snprintf(base, sizeof(base), "%.*s", (int)(colon - name), name);
	ok(rename(t_path("%s/cur/%s", root, name),
		  t_path("%s/cur/%s:2,FPRS", root, base)) == 0,
	   "another Maildir client flags uid 4");
	sync_ok(mb, "sync");
	is_int(msg(mb, 4)->flags & ~MSTORE_F_RECENT,
	       MSTORE_F_FLAGGED | MSTORE_F_ANSWERED | MSTORE_F_SEEN,
	       "the flags are seen");
	is_int(msg(mb, 4)->modseq, last_modseq, "with the newest modseq");
	ok(unlink(t_path("%s/cur/%s", root, file_of("cur", 5))) == 0,
	   "and deletes uid 5");
	sync_ok(mb, "sync");
	is_str(t_uids(mb), "1,2,3,4", "uid 5 gone");
	mstore_store_flags(mb, (uint32_t[]){4}, 1, MSTORE_FLAGS_ADD,
			   MSTORE_F_DRAFT, 0, 0, NULL, NULL, &terr);
	ok(strstr(file_of("cur", 4), ":2,DFPRS") != NULL,
	   "unknown flags (P) survive our renames: %s", file_of("cur", 4));
}

static void expunge(struct mstore_mailbox *mb)
{
	uint32_t *gone;
	size_t n;
	const char *err;

	is_int(mstore_expunge(mb, NULL, 0, &gone, &n, &err), 1, "EXPUNGE");
	ok(n == 1 && gone[0] == 3, "removed the \\Deleted uid 3");
	free(gone);
	is_str(t_uids(mb), "1,2,4", "view without it");
	is_str(file_of("cur", 3), "", "file removed");
	is_int(mstore_expunge(mb, (uint32_t[]){99, 2}, 2, &gone, &n, &err), 1,
	       "UID EXPUNGE 99,2");
	ok(n == 1 && gone[0] == 2, "removed uid 2 only");
	free(gone);
	sync_ok(mb, "sync");
	is_str(t_uids(mb), "1,4", "1 and 4 left");
	t_deliver(root, 6, "Subject: six\n\nx\n");
	sync_ok(mb, "sync");
	is_str(t_uids(mb), "1,4,6",
	       "a new message gets a new UID, never 2 or 3 "
	       "or 5");
}

static void notify(struct mstore_mailbox *mb)
{
	int fd = mstore_notify_fd(mb);
	struct pollfd p = {.fd = fd, .events = POLLIN};

	ok(fd >= 0, "notify fd");
	is_int(mstore_notify_fd(mb), fd, "the same one again");
	mstore_notify_drain(mb);
	is_int(poll(&p, 1, 0), 0, "quiet");
	t_deliver(root, 7, "Subject: seven\n\nx\n");
	is_int(poll(&p, 1, 2000), 1, "readable after a delivery");
	mstore_notify_drain(mb);
	is_int(poll(&p, 1, 0), 0, "drained");
	sync_ok(mb, "sync");
	is_str(t_uids(mb), "1,4,6,7", "uid 7");
}

int main(void)
{
	struct mstore *s = t_store_open("alice");
	struct mstore_mailbox *mb;
	struct mstore_status st;
	const char *err;

	root = t_user_root("alice");
	first_open(s, &mb);
	new_mail(s, mb);
	flags(mb);
	keywords(mb);
	condstore(mb);
	external(mb);
	expunge(mb);
	notify(mb);
	is_int(mstore_status(s, "INBOX", &st, &err), 1, "STATUS while open");
	is_int(st.messages, 4, "four messages");
	is_int(st.uidnext, 8, "UIDNEXT 8");
	mstore_mailbox_close(&mb);
	mstore_free(&s);
	return tap_done();
}
