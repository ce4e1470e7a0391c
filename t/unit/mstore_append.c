/* t/unit/mstore_append.c: APPEND (CRLF stored as LF, RFC822.SIZE, flags
 * and keywords in the file name, internal date, APPENDUID values, missing
 * mailboxes) and COPY (COPYUID values, hard links, flags kept, keywords
 * mapped by name, EMAILID kept, missing destination or source uids, copy
 * into the same mailbox). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mstore.h"
#include "mstore_util.h"
#include "str.h"
#include "tap.h"

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

/* Links of the file of dir whose name ends in suffix; 0 if none. */
static int suffix_file_links(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	size_t sl = strlen(suffix);
	int links = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0 &&
		    stat(t_path("%s/%s", dir, e->d_name), &st) == 0)
			links = (int)st.st_nlink;
	}
	if (d != NULL)
		closedir(d);
	return links;
}

static bool has_suffix_file(const char *dir, const char *suffix)
{
	return suffix_file_links(dir, suffix) > 0;
}

static void append(struct mstore *s)
{
	static const char crlf[] = "Subject: a\r\n\r\nbody\r\nbare\rcr\r\n";
	static const char *const kws[] = {"$Label1", "bad keyword", "$Label2"};
	struct mstore_mailbox *mb;
	struct mstore_status st;
	uint32_t uidv, uid, uid2;
	const char *err;
	struct str buf;

	is_int(mstore_append(s, "INBOX", crlf, strlen(crlf), 0, NULL, 0, 0,
			     &uidv, &uid, &err),
	       1, "APPEND");
	is_int(uid, 1, "APPENDUID uid 1");
	is_int(mstore_status(s, "INBOX", &st, &err), 1, "STATUS");
	is_int(uidv, st.uidvalidity, "APPENDUID uidvalidity");
	is_int(st.uidnext, 2, "UIDNEXT 2");
	is_int(mstore_append(s, "inbox", "x\n", 2,
			     MSTORE_F_SEEN | MSTORE_F_FLAGGED | MSTORE_F_RECENT,
			     kws, 3, 1234567890, &uidv, &uid2, &err),
	       1, "APPEND with flags, keywords and a date");
	is_int(uid2, 2, "uid 2");
	ok(has_suffix_file(t_path("%s/cur", root), ":2,FSab"),
	   "flags and the two valid keywords in the file name");
	mb = t_mb_open(s, "INBOX", false);
	is_int(msg(mb, 1)->size, strlen(crlf), "RFC822.SIZE = the CRLF size");
	str_init(&buf, 0);
	mstore_msg_read(mb, 1, &buf, &err);
	is_str(buf.data, "Subject: a\n\nbody\nbare\rcr\n", "stored as LF");
	str_deinit(&buf);
	is_int(msg(mb, 2)->internaldate, 1234567890, "internal date");
	ok(msg(mb, 1)->internaldate > time(NULL) - 100, "0 = now");
	is_int(msg(mb, 2)->keywords, 3, "keywords");
	is_int(msg(mb, 2)->flags & ~MSTORE_F_RECENT,
	       MSTORE_F_SEEN | MSTORE_F_FLAGGED, "flags (no \\Recent stored)");
	ok(msg(mb, 1)->flags & MSTORE_F_RECENT,
	   "\\Recent for the next session");
	mstore_mailbox_close(&mb);

	is_int(mstore_append(s, "Nope", "x\n", 2, 0, NULL, 0, 0, &uidv, &uid,
			     &err),
	       0, "no such mailbox: 0");
	is_int(mstore_append(s, "Public", "x\n", 2, 0, NULL, 0, 0, &uidv, &uid,
			     &err),
	       0, "Public is not a mailbox: 0");
	is_int(mstore_append(s, "INBOX", "x", (size_t)MSTORE_MSG_MAX + 1, 0,
			     NULL, 0, 0, &uidv, &uid, &err),
	       -1, "too large");
}

static void copy(struct mstore *s)
{
	struct mstore_mailbox *src, *dst;
	uint32_t uidv, uid, *nu = NULL;
	struct mstore_status st;
	const char *err, *const *kw;
	size_t n;

	mstore_create(s, "Dest", &err);
	mstore_append(s, "Dest", "old\n", 4, 0, (const char *[]){"$Other"}, 1,
		      0, &uidv, &uid, &err);
	src = t_mb_open(s, "INBOX", false);
	is_int(
	    mstore_copy(src, (uint32_t[]){1, 2}, 2, "Dest", &uidv, &nu, &err),
	    1, "COPY 1:2 Dest");
	ok(nu != NULL && nu[0] == 2 && nu[1] == 3, "COPYUID new uids 2,3");
	free(nu);
	mstore_status(s, "Dest", &st, &err);
	is_int(uidv, st.uidvalidity, "COPYUID uidvalidity");
	dst = t_mb_open(s, "Dest", true);
	is_int(msg(dst, 3)->flags & ~MSTORE_F_RECENT,
	       MSTORE_F_SEEN | MSTORE_F_FLAGGED, "flags kept");
	kw = mstore_keywords(dst, &n);
	ok(n == 3 && strcmp(kw[0], "$Other") == 0 &&
	       strcmp(kw[1], "$Label1") == 0,
	   "keywords added by name");
	is_int(msg(dst, 3)->keywords, 6,
	       "and mapped (bits 1, 2 instead of 0, 1)");
	is_str(msg(dst, 3)->emailid, msg(src, 2)->emailid, "EMAILID kept");
	is_int(msg(dst, 3)->size, msg(src, 2)->size, "size kept");
	is_int(msg(dst, 3)->internaldate, 1234567890, "internal date kept");
	ok(has_suffix_file(t_path("%s/.Dest/cur", root), ":2,FSbc"),
	   "file name with the mapped letters");
	is_int(suffix_file_links(t_path("%s/cur", root), ":2,FSab"), 2,
	       "a hard link of the source");
	mstore_mailbox_close(&dst);

	is_int(mstore_copy(src, (uint32_t[]){1}, 1, "Nope", &uidv, &nu, &err),
	       0, "no such destination: 0");
	is_int(
	    mstore_copy(src, (uint32_t[]){1, 99}, 2, "Dest", &uidv, &nu, &err),
	    -1, "a missing source uid: error");
	ok(err != NULL && strstr(err, "no longer exist") != NULL, "%s", err);
	mstore_status(s, "Dest", &st, &err);
	is_int(st.messages, 3, "nothing copied then");
	is_int(mstore_copy(src, (uint32_t[]){2}, 1, "INBOX", &uidv, &nu, &err),
	       1, "COPY into the same mailbox");
	ok(nu != NULL && nu[0] == 3, "as uid 3");
	free(nu);
	is_int(mstore_mailbox_sync(src, &terr), 1, "sync");
	is_str(t_uids(src), "1,2,3", "the copy is there");
	ok(strcmp(msg(src, 3)->emailid, msg(src, 2)->emailid) == 0,
	   "sharing the EMAILID");
	mstore_mailbox_close(&src);
}

int main(void)
{
	struct mstore *s = t_store_open("alice");

	root = t_user_root("alice");
	append(s);
	copy(s);
	mstore_free(&s);
	return tap_done();
}
