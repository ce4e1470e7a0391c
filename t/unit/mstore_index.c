/* t/unit/mstore_index.c: the mail store's per-mailbox index and cache:
 * UIDs persistent across close/open, a deleted index rebuilt with a new,
 * greater UIDVALIDITY (keeping MAILBOXID, EMAILIDs and keywords), corrupt
 * indexes (truncated, random bytes, one flipped byte, empty) rebuilt
 * without a crash, UIDs given in delivery order, the directory-mtime scan
 * shortcut and its two-second rule, files that are no messages, cache
 * blobs across reopen, compaction and corruption, and thousands of
 * mutated index images (with a valid checksum) through the parser. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "mstore_internal.h"
#include "str.h"
#include "mstore_util.h"
#include "tap.h"

static const char *box;
static const char *terr;

static uint32_t uidvalidity(struct mstore_mailbox *mb)
{
	struct mstore_status st;

	mstore_mailbox_status(mb, &st);
	return st.uidvalidity;
}

static void put_file(const char *path, const void *data, size_t len)
{
	const char *err;

	if (file_write_atomic(path, data, len, 0600, &err) < 0)
		tap_diag("write %s: %s", path, err);
}

static void persistent(struct mstore *s, uint32_t *uidv_r, char *mbid)
{
	struct mstore_mailbox *mb;
	struct mstore_status st;

	for (unsigned i = 1; i <= 3; i++)
		t_deliver(box, i, "Subject: x\n\nbody\n");
	mb = t_mb_open(s, "Box", false);
	is_str(t_uids(mb), "1,2,3", "three UIDs");
	*uidv_r = uidvalidity(mb);
	mstore_mailbox_status(mb, &st);
	memcpy(mbid, st.mailboxid, 40);
	is_int(mstore_keyword_index(mb, "$Work", true), 0, "keyword $Work");
	mstore_store_flags(mb, (uint32_t[]){2}, 1, MSTORE_FLAGS_ADD,
			   MSTORE_F_SEEN, 1, 0, NULL, NULL, &terr);
	mstore_mailbox_close(&mb);
	mb = t_mb_open(s, "Box", false);
	is_str(t_uids(mb), "1,2,3", "the same UIDs after reopening");
	is_int(uidvalidity(mb), *uidv_r, "the same UIDVALIDITY");
	t_deliver(box, 4, "Subject: x\n\nbody\n");
	is_int(mstore_mailbox_sync(mb, &terr), 1, "sync");
	is_str(t_uids(mb), "1,2,3,4", "uid 4");
	mstore_mailbox_close(&mb);
}

static void rebuilt(struct mstore *s, uint32_t *uidv, const char *mbid)
{
	struct mstore_mailbox *mb;
	struct mstore_status st;
	const char *const *kw;
	size_t n, count;
	char emailid[28];

	mb = t_mb_open(s, "Box", true);
	memcpy(emailid, mstore_messages(mb, &count)[1].emailid, 28);
	mstore_mailbox_close(&mb);
	ok(unlink(t_path("%s/postern-index", box)) == 0, "index deleted");
	mb = t_mb_open(s, "Box", false);
	ok(uidvalidity(mb) > *uidv, "rebuilt: UIDVALIDITY %u > %u",
	   uidvalidity(mb), *uidv);
	*uidv = uidvalidity(mb);
	is_str(t_uids(mb), "1,2,3,4", "UIDs afresh in file-name order");
	mstore_mailbox_status(mb, &st);
	is_str(st.mailboxid, mbid, "MAILBOXID kept");
	is_str(mstore_messages(mb, &count)[1].emailid, emailid, "EMAILID kept");
	kw = mstore_keywords(mb, &n);
	ok(n == 1 && strcmp(kw[0], "$Work") == 0, "keyword names kept");
	is_int(mstore_messages(mb, &count)[1].keywords, 1, "and the letters");
	is_int(mstore_messages(mb, &count)[1].flags & MSTORE_F_SEEN,
	       MSTORE_F_SEEN, "and flags");
	ok(unlink(t_path("%s/postern-index", box)) == 0,
	   "index deleted while open");
	ok(mstore_mailbox_sync(mb, &terr) < 0,
	   "sync reports the new UIDVALIDITY");
	ok(uidvalidity(mb) > *uidv, "which is greater");
	*uidv = uidvalidity(mb);
	mstore_mailbox_close(&mb);
}

static void corrupt_one(struct mstore *s, uint32_t *uidv, const char *what,
			void (*damage)(const char *path))
{
	struct mstore_mailbox *mb;

	damage(t_path("%s/postern-index", box));
	mb = t_mb_open(s, "Box", false);
	ok(uidvalidity(mb) > *uidv, "%s: rebuilt with UIDVALIDITY %u > %u",
	   what, uidvalidity(mb), *uidv);
	is_str(t_uids(mb), "1,2,3,4", "all four messages");
	*uidv = uidvalidity(mb);
	mstore_mailbox_close(&mb);
}

static void truncate_half(const char *path)
{
	struct stat st;

	stat(path, &st);
	if (truncate(path, st.st_size / 2) < 0)
		tap_diag("truncate failed");
}

static void random_bytes(const char *path)
{
	char buf[4096];

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)rand();
	put_file(path, buf, sizeof(buf));
}

static void flip_byte(const char *path)
{
	struct stat st;
	char c;
	int fd = open(path, O_RDWR);

	fstat(fd, &st);
	if (pread(fd, &c, 1, st.st_size / 2) == 1) {
		c ^= 0x20;
		if (pwrite(fd, &c, 1, st.st_size / 2) != 1)
			tap_diag("pwrite failed");
	}
	close(fd);
}

static void empty(const char *path)
{
	put_file(path, "", 0);
}

static void header_only(const char *path)
{
	put_file(path, "PSTIDX01\x04\x03\x02\x01", 12);
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	utimensat(AT_FDCWD, path, ts, 0);
}

static void mtime_shortcut(struct mstore *s)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", false);
	const char *cur = t_path("%s/cur", box), *newd = t_path("%s/new", box);
	time_t old = time(NULL) - 3600;
	struct stat st;

	set_mtime(cur, old);
	set_mtime(newd, old);
	is_int(mstore_mailbox_sync(mb, &terr), 1,
	       "sync (stores trusted mtimes)");
	put_file(t_path("%s/cur/1600000000.sneaky.host:2,", box), "x\n", 2);
	set_mtime(cur, old);
	is_int(mstore_mailbox_sync(mb, &terr), 1, "sync");
	is_str(t_uids(mb), "1,2,3,4",
	       "unchanged directory mtimes: no directory read");
	set_mtime(cur, time(NULL));
	is_int(mstore_mailbox_sync(mb, &terr), 1, "sync");
	is_str(t_uids(mb), "1,2,3,4,5", "a changed mtime: the file is found");

	/* two-second rule: a fresh mtime is not trusted */
	t_deliver(box, 9, "Subject: nine\n\nx\n");
	stat(newd, &st);
	is_int(mstore_mailbox_sync(mb, &terr), 1,
	       "sync right after a delivery");
	is_str(t_uids(mb), "1,2,3,4,5,6", "uid 6");
	t_deliver(box, 10, "Subject: ten\n\nx\n");
	utimensat(AT_FDCWD, newd, (struct timespec[]){st.st_atim, st.st_mtim},
		  0);
	is_int(mstore_mailbox_sync(mb, &terr), 1, "sync");
	is_str(t_uids(mb), "1,2,3,4,5,6,7",
	       "a delivery within the same mtime tick is still found");
	mstore_mailbox_close(&mb);
}

static void not_messages(struct mstore *s)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", false);
	const char *err;
	size_t before, after;

	mstore_messages(mb, &before);
	ok(mkdir(t_path("%s/cur/1700000100.dir.host:2,", box), 0700) == 0 &&
	       symlink("/etc/passwd",
		       t_path("%s/cur/1700000101.link.host:2,", box)) == 0 &&
	       mkfifo(t_path("%s/new/1700000102.fifo.host", box), 0600) == 0,
	   "a directory, a symlink and a FIFO among the messages");
	is_int(mstore_mailbox_sync(mb, &err), 1, "sync works");
	mstore_messages(mb, &after);
	is_int(after, before, "none of them is a message");
	rmdir(t_path("%s/cur/1700000100.dir.host:2,", box));
	unlink(t_path("%s/cur/1700000101.link.host:2,", box));
	unlink(t_path("%s/new/1700000102.fifo.host", box));
	mstore_mailbox_close(&mb);
}

/* Random damage with the checksum made right again, so that the
 * parser's own checks (sizes, order, offsets, names) are what stands. */
static void mutations(void)
{
	struct str img;
	const char *err;
	unsigned accepted = 0, rejected = 0;

	str_init(&img, 0);
	if (file_read_all(t_path("%s/postern-index", box), &img, 0, &err) < 0)
		tap_diag("%s", err);
	srand(11);
	for (int i = 0; i < 3000; i++) {
		struct mdir_state st = {0};
		struct str m;
		uint64_t sum;

		str_init(&m, img.len);
		str_append(&m, img.data, img.len);
		for (int k = rand() % 4; k >= 0 && m.len > 8; k--)
			m.data[(size_t)rand() % (m.len - 8)] = (char)rand();
		if (rand() % 5 == 0)
			str_truncate(&m, (size_t)rand() % (m.len + 1));
		if (m.len >= 8) {
			sum = mdir_index_checksum(m.data, m.len - 8);
			memcpy(m.data + m.len - 8, &sum, 8);
		}
		if (mdir_index_parse(m.data, m.len, &st) == NULL)
			accepted++;
		else
			rejected++;
		mdir_state_clear(&st);
		str_deinit(&m);
	}
	ok(accepted + rejected == 3000 && rejected > 1000,
	   "3000 mutated images parsed without a crash (%u refused)", rejected);
	str_deinit(&img);
}

static void order(struct mstore *s)
{
	static const char *const names[] = {"200.b.host:2,", "1000.a.host:2,S",
					    "30.c.host"};
	struct mstore_mailbox *mb;
	const struct mstore_msg *m;
	const char *err;
	size_t n;

	mstore_create(s, "Order", &err);
	for (int i = 0; i < 3; i++)
		put_file(t_path("%s/.Order/%s/%s", t_user_root("alice"),
				i == 2 ? "new" : "cur", names[i]),
			 "x\n", 2);
	mb = t_mb_open(s, "Order", true);
	m = mstore_messages(mb, &n);
	ok(n == 3 && m[0].size == 3 && (m[2].flags & MSTORE_F_SEEN),
	   "UIDs by the seconds in the names: 30, 200, 1000");
	mstore_mailbox_close(&mb);
}

static void cache(struct mstore *s)
{
	static char big[20000];
	struct mstore_mailbox *mb = t_mb_open(s, "Box", false);
	const char *data, *cache_path = t_path("%s/postern-cache", box);
	struct stat before, after;
	size_t len, count;
	uint32_t *gone;
	char *junk;
	int fd;

	is_int(mstore_cache_put(mb, 1, MSTORE_CACHE_ENVELOPE, "(env)", 5), 1,
	       "put ENVELOPE");
	is_int(mstore_cache_put(mb, 1, MSTORE_CACHE_BODYSTRUCTURE, "(bs)", 4),
	       1, "put BODYSTRUCTURE");
	is_int(mstore_cache_get(mb, 1, MSTORE_CACHE_ENVELOPE, &data, &len), 1,
	       "get ENVELOPE");
	is_mem(data, len, "(env)", 5, "its data");
	is_int(mstore_cache_get(mb, 1, MSTORE_CACHE_HEADER, &data, &len), 0,
	       "HEADER not cached");
	is_int(mstore_cache_put(mb, 999, MSTORE_CACHE_HEADER, "x", 1), -1,
	       "no put for an unknown uid");
	is_int(mstore_cache_put(mb, 1, MSTORE_CACHE_HEADER, big,
				MSTORE_CACHE_BLOB_MAX + 1),
	       -1, "nor a huge blob");
	mstore_mailbox_close(&mb);
	mb = t_mb_open(s, "Box", true);
	is_int(mstore_cache_get(mb, 1, MSTORE_CACHE_BODYSTRUCTURE, &data, &len),
	       1, "after reopening");
	is_mem(data, len, "(bs)", 4, "the same data");
	mstore_mailbox_close(&mb);

	mb = t_mb_open(s, "Box", false);
	memset(big, 'B', sizeof(big));
	for (uint32_t uid = 1; uid <= 7; uid++)
		for (int f = 0; f < 3; f++)
			mstore_cache_put(mb, uid, (enum mstore_cache_field)f,
					 big, sizeof(big));
	big[0] = 'Z';
	mstore_cache_put(mb, 7, MSTORE_CACHE_HEADER, big, 100);
	mstore_mailbox_sync(mb, &terr);
	stat(cache_path, &before);
	mstore_expunge(mb, (uint32_t[]){1, 2, 3, 4, 5, 6}, 6, &gone, &count,
		       &terr);
	free(gone);
	stat(cache_path, &after);
	ok(after.st_size < before.st_size / 2,
	   "compacted after EXPUNGE: %lld -> %lld bytes",
	   (long long)before.st_size, (long long)after.st_size);
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_HEADER, &data, &len), 1,
	       "live blobs kept");
	ok(len == 100 && data[0] == 'Z', "with their data");
	mstore_mailbox_close(&mb);
	mb = t_mb_open(s, "Box", true);
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_ENVELOPE, &data, &len), 1,
	       "and after reopening");
	is_int(len, sizeof(big), "whole");
	mstore_mailbox_close(&mb);

	stat(cache_path, &after);
	junk = malloc((size_t)after.st_size);
	memset(junk, 'J', (size_t)after.st_size);
	fd = open(cache_path, O_RDONLY);
	ok(pread(fd, junk, 16, 0) == 16, "keep the header (the id matches)");
	close(fd);
	put_file(cache_path, junk, (size_t)after.st_size);
	free(junk);
	mb = t_mb_open(s, "Box", false);
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_ENVELOPE, &data, &len), 0,
	       "garbage records: not cached");
	is_int(mstore_cache_put(mb, 7, MSTORE_CACHE_ENVELOPE, "e", 1), 1,
	       "a put still works");
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_ENVELOPE, &data, &len), 1,
	       "and is found");
	mstore_mailbox_close(&mb);
	put_file(cache_path, "garbage", 7);
	mb = t_mb_open(s, "Box", false);
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_ENVELOPE, &data, &len), 0,
	       "a garbage file: not cached");
	is_int(mstore_cache_put(mb, 7, MSTORE_CACHE_ENVELOPE, "f", 1), 1,
	       "a put starts a new cache file");
	is_int(mstore_cache_get(mb, 7, MSTORE_CACHE_ENVELOPE, &data, &len), 1,
	       "found there");
	is_mem(data, len, "f", 1, "the new blob");
	mstore_mailbox_close(&mb);
}

int main(void)
{
	struct mstore *s = t_store_open("alice");
	static char boxbuf[512];
	const char *err;
	uint32_t uidv;
	char mbid[40];

	snprintf(boxbuf, sizeof(boxbuf), "%s/.Box", t_user_root("alice"));
	box = boxbuf;
	is_int(mstore_create(s, "Box", &err), 1, "create Box");
	persistent(s, &uidv, mbid);
	rebuilt(s, &uidv, mbid);
	corrupt_one(s, &uidv, "truncated", truncate_half);
	corrupt_one(s, &uidv, "random bytes", random_bytes);
	corrupt_one(s, &uidv, "a flipped byte", flip_byte);
	corrupt_one(s, &uidv, "empty", empty);
	corrupt_one(s, &uidv, "header only", header_only);
	mtime_shortcut(s);
	not_messages(s);
	mutations();
	order(s);
	cache(s);
	mstore_free(&s);
	return tap_done();
}
