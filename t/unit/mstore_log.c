/* t/unit/mstore_log.c: the mail store's change log (postern-index.log):
 * changes append to the log and leave the base alone, other handles take
 * in only the new groups and end up equal to a fresh load, a STORE of many
 * uids is one group, compaction (while another handle keeps reading, and
 * a crash between its new base and its new log), the
 * synced-end note in the lock file, a torn last group cut at every byte
 * offset (the mailbox opens, no acknowledged UID or MODSEQ is reused), a
 * corrupt group in the middle, a group that fails its checks applies
 * nothing, a STORE logged as one FLAGS record (small, replayed to the
 * same names; bad ones refused; old names trimmed), a version 1 base
 * still loads, the notify descriptor, the
 * handle cache behind APPEND, and several processes appending, flagging
 * and expunging at once. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "mstore_internal.h"
#include "mstore_util.h"
#include "str.h"
#include "tap.h"

static char box[512];
static const char *terr;
static const char body[] = "Subject: log\r\n\r\nbody\r\n";

static uint64_t fsize(const char *name)
{
	struct stat st;

	return stat(t_path("%s/%s", box, name), &st) == 0 ? (uint64_t)st.st_size
							  : 0;
}

static ino_t finode(const char *name)
{
	struct stat st;

	return stat(t_path("%s/%s", box, name), &st) == 0 ? st.st_ino : 0;
}

static uint32_t append(struct mstore *s, uint32_t flags)
{
	uint32_t uidv, uid = 0;

	if (mstore_append(s, "Box", body, sizeof(body) - 1, flags, NULL, 0, 0,
			  &uidv, &uid, &terr) <= 0)
		tap_diag("append: %s", terr);
	return uid;
}

static bool store(struct mstore_mailbox *mb, uint32_t uid, uint32_t flags)
{
	return mstore_store_flags(mb, &uid, 1, MSTORE_FLAGS_ADD, flags, 0, 0,
				  NULL, NULL, &terr) == 1;
}

/* Two states say the same (what a fresh load would say). */
static bool same_state(const struct mdir_state *a, const struct mdir_state *b,
		       const char *what)
{
	const char *why = NULL;

	if (a->count != b->count || a->uidnext != b->uidnext ||
	    a->highestmodseq != b->highestmodseq ||
	    a->keyword_count != b->keyword_count ||
	    a->uidvalidity != b->uidvalidity)
		why = "header";
	for (size_t i = 0; why == NULL && i < a->count; i++) {
		const struct mdir_rec *x = &a->recs[i], *y = &b->recs[i];

		if (x->m.uid != y->m.uid || x->m.flags != y->m.flags ||
		    x->m.keywords != y->m.keywords ||
		    x->m.modseq != y->m.modseq || x->m.size != y->m.size ||
		    x->in_new != y->in_new ||
		    strcmp(x->m.emailid, y->m.emailid) != 0 ||
		    strcmp(mdir_rec_name(a, x), mdir_rec_name(b, y)) != 0)
			why = "a message";
	}
	if (why != NULL)
		tap_diag("%s: %s differs (%zu/%zu messages)", what, why,
			 a->count, b->count);
	return why == NULL;
}

static bool equals_fresh(struct mstore *s, struct mstore_mailbox *mb,
			 const char *what)
{
	struct mstore_mailbox *f = t_mb_open(s, "Box", true);
	bool r = same_state(&mdir_mb(mb)->st, &mdir_mb(f)->st, what);

	mstore_mailbox_close(&f);
	return r;
}

/* Groups in the log (a fresh replay over the base). */
static size_t log_groups(void)
{
	struct mdir_state st = {0};
	struct mdir_log_replay res = {0};
	struct str base, log;

	str_init(&base, 0);
	str_init(&log, 0);
	if (file_read_all(t_path("%s/" MDIR_INDEX, box), &base, 0, &terr) > 0 &&
	    file_read_all(t_path("%s/" MDIR_LOG, box), &log, 0, &terr) > 0 &&
	    mdir_index_parse(base.data, base.len, &st) == NULL &&
	    log.len >= MDIR_LOG_HDR)
		mdir_log_replay(&st, st.log_id, log.data + MDIR_LOG_HDR,
				log.len - MDIR_LOG_HDR, MDIR_LOG_HDR, &res);
	mdir_state_clear(&st);
	str_deinit(&base);
	str_deinit(&log);
	return res.groups;
}

static void basics(struct mstore *s)
{
	struct mstore_mailbox *a, *b;
	ino_t base;
	uint64_t size;
	size_t groups, ngone;
	uint32_t uids[3] = {1, 2, 3}, *gone;

	for (unsigned i = 1; i <= 4; i++)
		t_deliver(box, i, "Subject: x\n\nbody\n");
	a = t_mb_open(s, "Box", false);
	b = t_mb_open(s, "Box", true);
	base = finode(MDIR_INDEX);
	size = fsize(MDIR_LOG);
	ok(store(a, 2, MSTORE_F_SEEN), "STORE");
	ok(finode(MDIR_INDEX) == base, "the base is left alone");
	ok(fsize(MDIR_LOG) > size && fsize(MDIR_LOG) - size < 400,
	   "one small group appended (%llu bytes)",
	   (unsigned long long)(fsize(MDIR_LOG) - size));
	is_int(mstore_mailbox_sync(b, &terr), 1, "the other handle syncs");
	is_int(mstore_messages(b, &(size_t){0})[1].flags & MSTORE_F_SEEN,
	       MSTORE_F_SEEN, "and sees the flag");
	ok(same_state(&mdir_mb(a)->st, &mdir_mb(b)->st, "replayed"),
	   "its state is the writer's");
	groups = log_groups();
	is_int(mstore_store_flags(a, uids, 3, MSTORE_FLAGS_ADD,
				  MSTORE_F_FLAGGED, 0, 0, NULL, NULL, &terr),
	       1, "STORE of three uids");
	is_int(log_groups(), groups + 1, "is one group");
	is_int(mstore_keyword_index(a, "$Label1", true), 0, "a keyword");
	is_int(mstore_store_flags(a, (uint32_t[]){4}, 1, MSTORE_FLAGS_ADD, 0, 1,
				  0, NULL, NULL, &terr),
	       1, "set on uid 4");
	is_int(mstore_expunge(a, (uint32_t[]){3}, 1, &gone, &ngone, &terr), 1,
	       "expunge uid 3");
	free(gone);
	is_int(mstore_mailbox_sync(b, &terr), 1, "sync");
	ok(same_state(&mdir_mb(a)->st, &mdir_mb(b)->st, "replayed") &&
	       equals_fresh(s, b, "fresh"),
	   "keyword, flags and expunge replayed: equal to a fresh load");
	is_str(t_uids(b), "1,2,4", "uid 3 gone from the view");
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
}

static void compaction(struct mstore *s)
{
	struct mstore_mailbox *a = t_mb_open(s, "Box", false);
	struct mstore_mailbox *b = t_mb_open(s, "Box", true);
	ino_t base = finode(MDIR_INDEX);
	unsigned replaced = 0;
	struct str data;
	bool all = true;

	str_init(&data, 0);
	for (int i = 0; i < 300; i++) {
		all &= store(a, 1 + (uint32_t)(i % 2),
			     (i & 2) ? MSTORE_F_ANSWERED : MSTORE_F_DRAFT);
		all &= store(a, 1 + (uint32_t)(i % 2), 0);
		mstore_store_flags(a, &(uint32_t){1 + (uint32_t)(i % 2)}, 1,
				   MSTORE_FLAGS_REMOVE,
				   MSTORE_F_ANSWERED | MSTORE_F_DRAFT, 0, 0,
				   NULL, NULL, &terr);
		if (finode(MDIR_INDEX) != base) {
			replaced++;
			base = finode(MDIR_INDEX);
		}
		if (i % 50 == 0)
			all &= mstore_msg_read(b, 4, &data, &terr) == 1;
	}
	ok(all, "900 STOREs, the reader reading along");
	ok(replaced >= 2, "the log was compacted %u times", replaced);
	ok(fsize(MDIR_LOG) < fsize(MDIR_INDEX) / 2 + 40000,
	   "the log stays below half the base plus slack");
	is_int(mstore_mailbox_sync(b, &terr), 1, "the reader syncs");
	ok(equals_fresh(s, b, "after compaction") &&
	       same_state(&mdir_mb(a)->st, &mdir_mb(b)->st, "reader"),
	   "and is equal to the writer and to a fresh load");
	str_deinit(&data);
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
}

/* A crash inside a compaction, after the new base and before the new
 * log: the old log names another base and is ignored. */
static bool set_flags(struct mstore_mailbox *mb, uint32_t uid, uint32_t flags)
{
	return mstore_store_flags(mb, &uid, 1, MSTORE_FLAGS_SET, flags, 0, 0,
				  NULL, NULL, &terr) == 1;
}

static void compaction_crash(struct mstore *s)
{
	struct mstore_mailbox *a = t_mb_open(s, "Box", false);
	struct str old, now;
	const char *err;

	str_init(&old, 0);
	str_init(&now, 0);
	ok(set_flags(a, 1, MSTORE_F_SEEN | MSTORE_F_DRAFT),
	   "a change in the log");
	file_read_all(t_path("%s/" MDIR_LOG, box), &old, 0, &terr);
	ok(mdir_lock(mdir_mb(a)) > 0 && mdir_index_write(mdir_mb(a)) > 0,
	   "compaction");
	mdir_unlock(mdir_mb(a));
	ok(file_write_atomic(t_path("%s/" MDIR_LOG, box), old.data, old.len,
			     0600, &err) > 0,
	   "the old log back in place");
	ok(equals_fresh(s, a, "old log"), "a fresh load ignores it");
	ok(set_flags(a, 1, MSTORE_F_SEEN), "the next change");
	file_read_all(t_path("%s/" MDIR_LOG, box), &now, 0, &terr);
	ok(mdir_log_header_check(now.data, now.len, mdir_mb(a)->st.log_id),
	   "starts the log the base names");
	ok(equals_fresh(s, a, "new log"), "and a fresh load agrees");
	str_deinit(&old);
	str_deinit(&now);
	mstore_mailbox_close(&a);
}

static void hint(struct mstore *s)
{
	struct mstore_mailbox *a = t_mb_open(s, "Box", false), *b;
	uint64_t h[2] = {0, 0};
	int fd;

	b = t_mb_open(s, "Box", true);
	ok(store(a, 1, MSTORE_F_FLAGGED), "STORE (flags only: not synced)");
	/* a new UID is synced before it is handed out, the STORE with it */
	ok(append(s, 0) > 0, "APPEND");
	fd = open(t_path("%s/" MDIR_LOCK, box), O_RDWR);
	ok(pread(fd, h, 16, 0) == 16 && h[0] == mdir_mb(a)->st.log_id &&
	       h[1] == fsize(MDIR_LOG),
	   "the lock file notes the synced end of the log");
	/* as if the writer died between its write and its fdatasync */
	ok(pwrite(fd, (uint64_t[]){0, 0}, 16, 0) == 16, "note cleared");
	/* a STORE that went to the log, not into a new base */
	for (int i = 0, done = 0; !done && i < 4; i++) {
		ino_t base = finode(MDIR_INDEX);

		store(a, 2, i % 2 ? MSTORE_F_ANSWERED : MSTORE_F_DRAFT);
		done = finode(MDIR_INDEX) == base;
	}
	ok(pwrite(fd, (uint64_t[]){0, 0}, 16, 0) == 16, "note cleared again");
	is_int(mstore_mailbox_sync(b, &terr), 1, "a reader takes it in");
	ok(pread(fd, h, 16, 0) == 16 && h[0] == mdir_mb(b)->st.log_id &&
	       h[1] == fsize(MDIR_LOG),
	   "after syncing it to disk itself");
	close(fd);
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
}

/* The EMAILIDs of uids 1..n-1 as a string (what must never change). */
static void emailids(struct mstore_mailbox *mb, uint32_t below, struct str *out)
{
	size_t count;
	const struct mstore_msg *m = mstore_messages(mb, &count);

	str_clear(out);
	for (size_t i = 0; i < count; i++)
		if (m[i].uid < below)
			str_printf(out, "%u=%s,", m[i].uid, m[i].emailid);
}

static bool uids_sane(struct mstore_mailbox *mb)
{
	size_t count;
	const struct mstore_msg *m = mstore_messages(mb, &count);
	struct mstore_status st;

	mstore_mailbox_status(mb, &st);
	for (size_t i = 0; i < count; i++)
		if ((i > 0 && m[i].uid <= m[i - 1].uid) ||
		    m[i].uid >= st.uidnext || m[i].modseq > st.highestmodseq)
			return false;
	return true;
}

struct snap {
	struct str base, log;
	uint32_t acked_below; /* uids handed out before the lost group */
	uint64_t modseq;      /* HIGHESTMODSEQ shown before it */
	struct str ids;
};

static void restore(const struct snap *sn, size_t log_len)
{
	const char *err;

	if (file_write_atomic(t_path("%s/" MDIR_INDEX, box), sn->base.data,
			      sn->base.len, 0600, &err) < 0 ||
	    file_write_atomic(t_path("%s/" MDIR_LOG, box), sn->log.data,
			      log_len, 0600, &err) < 0)
		tap_diag("restore: %s", err);
}

/* Cuts the log inside its last group at every offset; each time the
 * mailbox must open with every message, the same UIDs for the ones
 * handed out before, and no MODSEQ below what was shown. */
static void torn_every_offset(const struct snap *sn, uint64_t from,
			      const char *what, uint32_t check_uid,
			      uint32_t check_flags)
{
	unsigned good = 0, n = 0;
	struct str ids;

	str_init(&ids, 0);
	for (uint64_t k = from; k < sn->log.len; k++, n++) {
		struct mstore *s = t_store_open("alice");
		struct mstore_mailbox *mb;
		struct mstore_status st;
		long i;
		bool g;

		restore(sn, (size_t)k);
		mb = t_mb_open(s, "Box", true);
		mstore_mailbox_status(mb, &st);
		emailids(mb, sn->acked_below, &ids);
		i = mstore_find(mb, check_uid);
		g = uids_sane(mb) && strcmp(ids.data, sn->ids.data) == 0 &&
		    st.highestmodseq >= sn->modseq && i >= 0 &&
		    (mstore_messages(mb, &(size_t){0})[i].flags &
		     check_flags) == check_flags &&
		    !mdir_mb(mb)->need_base;
		mstore_mailbox_close(&mb);
		g = g && append(s, 0) >= sn->acked_below;
		good += g;
		if (!g)
			tap_diag("%s: cut at %llu fails", what,
				 (unsigned long long)k);
		mstore_free(&s);
	}
	ok(n > 0 && good == n,
	   "%s: the log cut at each of %u offsets of the last group", what, n);
	str_deinit(&ids);
}

static void snap_take(struct mstore *s, struct snap *sn)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", true);
	struct mstore_status st;

	mstore_mailbox_status(mb, &st);
	sn->acked_below = st.uidnext;
	sn->modseq = st.highestmodseq;
	emailids(mb, st.uidnext, &sn->ids);
	mstore_mailbox_close(&mb);
	str_clear(&sn->base);
	str_clear(&sn->log);
	file_read_all(t_path("%s/" MDIR_INDEX, box), &sn->base, 0, &terr);
	file_read_all(t_path("%s/" MDIR_LOG, box), &sn->log, 0, &terr);
}

static void torn(struct mstore *s)
{
	struct snap sn;
	struct mstore_mailbox *mb;
	uint64_t before;
	uint32_t uid;

	str_init(&sn.base, 0);
	str_init(&sn.log, 0);
	str_init(&sn.ids, 0);
	snap_take(s, &sn);
	before = sn.log.len;
	uid = append(s, MSTORE_F_SEEN);
	ok(uid >= sn.acked_below, "APPEND: uid %u", uid);
	snap_take(s, &sn);
	sn.acked_below = uid; /* the APPEND's own group is the lost one */
	emailids(mb = t_mb_open(s, "Box", true), uid, &sn.ids);
	mstore_mailbox_close(&mb);
	torn_every_offset(&sn, before, "APPEND", uid, MSTORE_F_SEEN);

	restore(&sn, sn.log.len);
	snap_take(s, &sn);
	before = sn.log.len;
	mb = t_mb_open(s, "Box", false);
	ok(store(mb, 2, MSTORE_F_DELETED), "STORE");
	mstore_mailbox_close(&mb);
	snap_take(s, &sn);
	ok(sn.log.len > before + 150, "its group holds the message");
	torn_every_offset(&sn, before, "STORE", 2, MSTORE_F_DELETED);
	str_deinit(&sn.base);
	str_deinit(&sn.log);
	str_deinit(&sn.ids);
}

static const char *uid_of_emailid(struct mstore_mailbox *mb, uint32_t uid,
				  char *out)
{
	long i = mstore_find(mb, uid);

	out[0] = '\0';
	if (i >= 0)
		memcpy(out, mstore_messages(mb, &(size_t){0})[i].emailid, 28);
	return out;
}

static uint32_t find_emailid(struct mstore_mailbox *mb, const char *id)
{
	size_t count;
	const struct mstore_msg *m = mstore_messages(mb, &count);

	for (size_t i = 0; i < count; i++)
		if (strcmp(m[i].emailid, id) == 0)
			return m[i].uid;
	return 0;
}

/* A flipped byte in the middle of the log: the groups after it are lost
 * (their messages come back with new UIDs), no UID is reused. */
static void corrupt_middle(struct mstore *s)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", false);
	struct mstore_status st0, st;
	uint64_t start = fsize(MDIR_LOG), mid;
	struct str ids, ids2;
	uint32_t uid, now_uid;
	char c, id[28];
	int fd;

	str_init(&ids, 0);
	str_init(&ids2, 0);
	mstore_mailbox_status(mb, &st0);
	emailids(mb, st0.uidnext, &ids);
	for (uint32_t i = 0; i < 6; i++)
		store(mb, 1 + i % 2, i % 2 ? MSTORE_F_SEEN : MSTORE_F_DELETED);
	mstore_mailbox_close(&mb);
	uid = append(s, 0);
	mb = t_mb_open(s, "Box", true);
	mstore_mailbox_status(mb, &st);
	uid_of_emailid(mb, uid, id);
	mstore_mailbox_close(&mb);
	ok(fsize(MDIR_LOG) > start + 200, "seven groups in the log");
	mid = start + (fsize(MDIR_LOG) - start) / 3;
	fd = open(t_path("%s/" MDIR_LOG, box), O_RDWR);
	ok(pread(fd, &c, 1, (off_t)mid) == 1, "read a byte in the middle");
	c ^= 0x40;
	ok(pwrite(fd, &c, 1, (off_t)mid) == 1, "and flip it");
	close(fd);
	mb = t_mb_open(s, "Box", true);
	mstore_mailbox_status(mb, &st0);
	emailids(mb, st.uidnext, &ids2);
	now_uid = find_emailid(mb, id);
	ok(st0.uidnext >= st.uidnext && st0.highestmodseq >= st.highestmodseq,
	   "UIDNEXT and HIGHESTMODSEQ kept from the groups after it");
	ok(strncmp(ids2.data, ids.data, ids.len) == 0,
	   "the messages from before keep their UIDs");
	ok(now_uid == uid || now_uid >= st.uidnext,
	   "the APPENDed one keeps its UID or gets a new one (%u, was %u)",
	   now_uid, uid);
	ok(uids_sane(mb) && !mdir_mb(mb)->need_base,
	   "consistent, and compacted");
	mstore_mailbox_close(&mb);
	ok(append(s, 0) >= st.uidnext, "the next APPEND gets a new UID");
	str_deinit(&ids);
	str_deinit(&ids2);
}

/* A group that passes its checksum but not its checks applies nothing. */
static void atomic_group(struct mstore *s)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", true);
	struct mdir_state *st = &mdir_mb(mb)->st, copy = {0};
	struct mdir_log_replay res;
	struct str g, base;
	long i1 = mdir_rec_find(st, 1), i2 = mdir_rec_find(st, 2);

	str_init(&g, 0);
	str_init(&base, 0);
	mdir_index_serialize(st, &base);
	st->recs[i1].m.flags ^= MSTORE_F_FLAGGED;
	mdir_rec_dirty(st, &st->recs[i1]);
	st->recs[i2].m.modseq = st->highestmodseq + 5; /* beyond the header */
	mdir_rec_dirty(st, &st->recs[i2]);
	mdir_log_group_build(st, NULL, 0, 77, 32, &g);
	ok(mdir_index_parse(base.data, base.len, &copy) == NULL, "a copy");
	mdir_log_replay(&copy, 77, g.data, g.len, 32, &res);
	ok(res.status == MDIR_LOG_CORRUPT && res.groups == 0 && res.end == 32,
	   "a group with one bad record is refused (%s)",
	   res.why != NULL ? res.why : "accepted");
	ok((copy.recs[i1].m.flags & MSTORE_F_FLAGGED) !=
	       (st->recs[i1].m.flags & MSTORE_F_FLAGGED),
	   "its good record was not applied either");
	mdir_state_clear(&copy);
	str_clear(&g);
	st->recs[i2].m.modseq = st->highestmodseq;
	mdir_log_group_build(st, NULL, 0, 77, 32, &g);
	ok(mdir_index_parse(base.data, base.len, &copy) == NULL, "a copy");
	mdir_log_replay(&copy, 77, g.data, g.len, 32, &res);
	ok(res.status == MDIR_LOG_OK && res.groups == 1 &&
	       same_state(&copy, st, "replayed"),
	   "the good group applies");
	mdir_log_replay(&copy, 78, g.data, g.len, 32, &res);
	ok(res.groups == 0, "not as part of another log");
	mdir_log_replay(&copy, 77, g.data, g.len, 40, &res);
	ok(res.groups == 0, "nor at another offset");
	mdir_state_clear(&copy);
	str_deinit(&g);
	str_deinit(&base);
	mstore_mailbox_close(&mb); /* the changes above were never committed */
}

static bool store_many(struct mstore_mailbox *mb, const uint32_t *uids,
		       size_t n, enum mstore_flag_mode mode, uint32_t flags,
		       uint32_t kw)
{
	return mstore_store_flags(mb, uids, n, mode, flags, kw, 0, NULL, NULL,
				  &terr) == 1;
}

/* The group g rebuilt around its payload with the last 16 bytes (two
 * ranges of its FLAGS record) swapped or its last uid set to hi. */
static void flags_tamper(const struct str *g, bool swap, uint32_t hi,
			 struct str *out)
{
	uint32_t plen;
	unsigned char p[4096];

	memcpy(&plen, g->data + 4, 4);
	memcpy(p, g->data + 16, plen);
	if (swap) {
		memcpy(p + plen - 16, g->data + 16 + plen - 8, 8);
		memcpy(p + plen - 8, g->data + 16 + plen - 16, 8);
	} else {
		memcpy(p + plen - 4, &hi, 4);
	}
	str_clear(out);
	mdir_log_group_wrap(p, plen, 77, 32, out);
}

/* A STORE is one FLAGS record whatever its size, replayed to the same
 * names, flags and modseqs; a bad one applies nothing; the old names it
 * leaves in memory are trimmed. */
static void flag_ops(struct mstore *s)
{
	char dir[512];
	uint32_t uids[200], odd[10];
	struct mstore_mailbox *a, *b, *f;
	struct mdir_state *st, copy = {0};
	struct mdir_log_replay res;
	struct str g, bad, base;
	struct stat sb;
	off_t size;
	bool files = true;

	snprintf(dir, sizeof(dir), "%s/.Many", t_user_root("alice"));
	is_int(mstore_create(s, "Many", &terr), 1, "create Many");
	for (unsigned i = 0; i < 200; i++)
		t_deliver(dir, i + 1, "Subject: many\n\nbody\n");
	a = t_mb_open(s, "Many", false);
	b = t_mb_open(s, "Many", true);
	st = &mdir_mb(a)->st;
	for (unsigned i = 0; i < 200; i++)
		uids[i] = mstore_messages(a, &(size_t){0})[i].uid;
	for (unsigned i = 0; i < 10; i++)
		odd[i] = uids[2 * i];
	size = stat(t_path("%s/" MDIR_LOG, dir), &sb) == 0 ? sb.st_size : 0;
	is_int(mstore_keyword_index(a, "$Done", true), 0, "a keyword");
	ok(store_many(a, uids, 200, MSTORE_FLAGS_ADD,
		      MSTORE_F_SEEN | MSTORE_F_FLAGGED, 1),
	   "STORE +FLAGS on 200 messages");
	size =
	    stat(t_path("%s/" MDIR_LOG, dir), &sb) == 0 ? sb.st_size - size : 0;
	ok(size > 0 && size < 300, "logs one small group (%lld bytes)",
	   (long long)size);
	ok(store_many(a, uids + 50, 100, MSTORE_FLAGS_REMOVE, MSTORE_F_SEEN,
		      0) &&
	       store_many(a, odd, 10, MSTORE_FLAGS_SET, MSTORE_F_DRAFT, 0),
	   "-FLAGS on 100, FLAGS on every other of 20");
	is_int(mstore_mailbox_sync(b, &terr), 1, "the other handle syncs");
	f = t_mb_open(s, "Many", true);
	ok(same_state(st, &mdir_mb(b)->st, "replayed") &&
	       same_state(st, &mdir_mb(f)->st, "fresh"),
	   "names, flags, keywords and modseqs as the writer's and a fresh "
	   "load's");
	mstore_mailbox_close(&f);
	for (size_t i = 0; i < st->count; i++) {
		const struct mdir_rec *r = &st->recs[i];

		files &= t_exists(mdir_msg_path(mdir_mb(b), r));
	}
	ok(files, "every replayed name is the file's");

	str_init(&g, 0);
	str_init(&bad, 0);
	str_init(&base, 0);
	mdir_index_serialize(st, &base);
	mstore_uids_deinit(&st->op.uids);
	st->op = (struct mdir_flag_op){.mode = MSTORE_FLAGS_ADD,
				       .flags = MSTORE_F_ANSWERED,
				       .modseq = st->highestmodseq};
	for (unsigned i = 0; i < 3; i++)
		mstore_uids_push(&st->op.uids, uids[i == 2 ? 6 : 3 + i]);
	mdir_log_group_build(st, NULL, 0, 77, 32, &g);
	flags_tamper(&g, true, 0, &bad);
	mdir_index_parse(base.data, base.len, &copy);
	mdir_log_replay(&copy, 77, bad.data, bad.len, 32, &res);
	ok(res.groups == 0 && res.why != NULL, "ranges out of order: refused");
	flags_tamper(&g, false, st->uidnext, &bad);
	mdir_log_replay(&copy, 77, bad.data, bad.len, 32, &res);
	ok(res.groups == 0 && res.why != NULL, "a uid at UIDNEXT: refused");
	st->op.modseq = st->highestmodseq + 1;
	str_clear(&g);
	mdir_log_group_build(st, NULL, 0, 77, 32, &g);
	mdir_log_replay(&copy, 77, g.data, g.len, 32, &res);
	ok(res.groups == 0 && res.why != NULL, "a modseq above the header's");
	ok((copy.recs[3].m.flags & MSTORE_F_ANSWERED) == 0, "nothing applied");
	mdir_state_clear(&copy);
	mstore_uids_deinit(&st->op.uids);

	for (unsigned i = 0; i < 60; i++) {
		files &= store_many(a, uids, 200, MSTORE_FLAGS_ADD,
				    MSTORE_F_SEEN, 0);
		files &= store_many(a, uids, 200, MSTORE_FLAGS_REMOVE,
				    MSTORE_F_SEEN, 0);
	}
	is_int(mstore_mailbox_sync(b, &terr), 1, "120 STOREs of 200");
	ok(files && st->names.len < 200000 && mdir_mb(b)->st.names.len < 200000,
	   "old names trimmed (%zu and %zu bytes in memory)", st->names.len,
	   mdir_mb(b)->st.names.len);
	ok(same_state(st, &mdir_mb(b)->st, "after trimming"), "still equal");
	str_deinit(&g);
	str_deinit(&bad);
	str_deinit(&base);
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
}

static void version1(struct mstore *s)
{
	struct mstore_mailbox *mb = t_mb_open(s, "Box", true);
	struct mdir_state *st = &mdir_mb(mb)->st;
	uint32_t uidv = st->uidvalidity, one = 1;
	struct str img, v1;
	uint64_t sum;
	const char *err;

	str_init(&img, 0);
	str_init(&v1, 0);
	mdir_index_serialize(st, &img);
	mstore_mailbox_close(&mb);
	/* version 1: no log id after the 40-byte MAILBOXID at 80 */
	str_append(&v1, img.data, 120);
	memcpy(v1.data + 12, &one, 4);
	str_append(&v1, img.data + 128, img.len - 128 - 8);
	sum = mdir_index_checksum(v1.data, v1.len);
	str_append(&v1, &sum, 8);
	file_write_atomic(t_path("%s/" MDIR_INDEX, box), v1.data, v1.len, 0600,
			  &err);
	unlink(t_path("%s/" MDIR_LOG, box));
	mb = t_mb_open(s, "Box", false);
	is_int(mdir_mb(mb)->st.uidvalidity, uidv,
	       "a version 1 base loads with its UIDVALIDITY");
	ok(store(mb, 1, MSTORE_F_ANSWERED), "a change");
	ok(fsize(MDIR_LOG) >= MDIR_LOG_HDR && mdir_mb(mb)->st.log_id != 0,
	   "writes a version 2 base with a log");
	mstore_mailbox_close(&mb);
	str_deinit(&img);
	str_deinit(&v1);
}

static void notify(struct mstore *s)
{
	struct mstore_mailbox *a = t_mb_open(s, "Box", false);
	struct mstore_mailbox *b = t_mb_open(s, "Box", true);
	struct pollfd p = {.fd = mstore_notify_fd(b), .events = POLLIN};

	ok(p.fd >= 0, "notify descriptor");
	mstore_notify_drain(b);
	is_int(mstore_store_flags(a, (uint32_t[]){1}, 1, MSTORE_FLAGS_SET,
				  MSTORE_F_SEEN, 0, 0, NULL, NULL, &terr),
	       1, "STORE in another handle");
	is_int(poll(&p, 1, 1000), 1, "the log append wakes it");
	mstore_notify_drain(b);
	mstore_mailbox_close(&a);
	mstore_mailbox_close(&b);
}

static void quiet_cache(struct mstore *s)
{
	uint32_t uidv, uid;

	is_int(mstore_create(s, "Q", &terr), 1, "create Q");
	is_int(mstore_append(s, "Q", body, sizeof(body) - 1, 0, NULL, 0, 0,
			     &uidv, &uid, &terr),
	       1, "APPEND to Q");
	is_int(mstore_delete(s, "Q", &terr), 1, "delete Q");
	is_int(mstore_append(s, "Q", body, sizeof(body) - 1, 0, NULL, 0, 0,
			     &uidv, &uid, &terr),
	       0, "APPEND: no such mailbox");
	is_int(mstore_create(s, "Q", &terr), 1, "create Q again");
	is_int(mstore_append(s, "Q", body, sizeof(body) - 1, 0, NULL, 0, 0,
			     &uidv, &uid, &terr),
	       1, "APPEND");
	is_int(uid, 1, "uid 1 in the new folder");
	is_int(mdir_remove_tree(s, t_path("%s/.Q", t_user_root("alice"))), 1,
	       "Q removed behind the store's back");
	is_int(mstore_append(s, "Q", body, sizeof(body) - 1, 0, NULL, 0, 0,
			     &uidv, &uid, &terr),
	       0, "APPEND: no such mailbox");
}

enum { KIDS = 4, ROUNDS = 25 };

/* One of several processes: APPENDs, STOREs, EXPUNGEs; writes its uids
 * to fd; fails when its HIGHESTMODSEQ ever goes down. */
static void worker(int id, int fd)
{
	struct mstore *s = t_store_open("alice");
	struct mstore_mailbox *mb = t_mb_open(s, "Box", id == 0);
	uint64_t last = 0;
	int bad = 0;

	srand((unsigned)id * 7919u);
	for (int i = 0; i < ROUNDS; i++) {
		struct mstore_status st;
		uint32_t uid = append(s, id == 1 ? MSTORE_F_SEEN : 0);
		size_t n;
		const struct mstore_msg *m;

		bad |= uid == 0 || write(fd, &uid, 4) != 4;
		bad |= mstore_mailbox_sync(mb, &terr) < 0;
		m = mstore_messages(mb, &n);
		if (id != 0 && n > 0)
			mstore_store_flags(
			    mb, &m[(size_t)rand() % n].uid, 1, MSTORE_FLAGS_ADD,
			    rand() % 2 ? MSTORE_F_FLAGGED : MSTORE_F_ANSWERED,
			    0, 0, NULL, NULL, &terr);
		if (id == 3 && i % 5 == 4 && n > 0) {
			uint32_t *gone;
			size_t gn;

			mstore_expunge(mb, &m[0].uid, 1, &gone, &gn, &terr);
			free(gone);
		}
		mstore_mailbox_status(mb, &st);
		bad |= st.highestmodseq < last;
		last = st.highestmodseq;
	}
	mstore_mailbox_close(&mb);
	mstore_free(&s);
	_exit(bad);
}

static void concurrent(struct mstore *s)
{
	int pipefd[2], status, fails = 0;
	uint32_t uids[KIDS * ROUNDS], uid;
	size_t n = 0;
	pid_t pids[KIDS];
	struct mstore_mailbox *mb;
	bool unique = true, files = true;

	ok(pipe(pipefd) == 0, "pipe");
	for (int k = 0; k < KIDS; k++)
		if ((pids[k] = fork()) == 0) {
			close(pipefd[0]);
			worker(k, pipefd[1]);
		}
	close(pipefd[1]);
	while (n < KIDS * ROUNDS && read(pipefd[0], &uid, 4) == 4)
		uids[n++] = uid;
	close(pipefd[0]);
	for (int k = 0; k < KIDS; k++)
		if (waitpid(pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			fails++;
	is_int(fails, 0, "4 processes: no errors, HIGHESTMODSEQ never down");
	is_int(n, KIDS * ROUNDS, "every APPEND returned a uid");
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			unique &= uids[i] != uids[j];
	ok(unique, "all APPENDUIDs differ");
	mb = t_mb_open(s, "Box", true);
	ok(uids_sane(mb), "the index is consistent");
	for (size_t i = 0; i < mdir_mb(mb)->st.count; i++) {
		const struct mdir_rec *r = &mdir_mb(mb)->st.recs[i];
		uint32_t fl, kw;

		mdir_info_parse(mdir_rec_name(&mdir_mb(mb)->st, r), r->name_len,
				r->base_len, mdir_mb(mb)->st.keyword_count, &fl,
				&kw);
		files &=
		    t_exists(mdir_msg_path(mdir_mb(mb), r)) && fl == r->m.flags;
	}
	ok(files, "every record names its file, with its flags");
	is_int(t_count(t_path("%s/cur", box)) + t_count(t_path("%s/new", box)),
	       mdir_mb(mb)->st.count, "and every file has its record");
	ok(equals_fresh(s, mb, "concurrent"), "a fresh load agrees");
	mstore_mailbox_close(&mb);
}

int main(void)
{
	struct mstore *s = t_store_open("alice");

	snprintf(box, sizeof(box), "%s/.Box", t_user_root("alice"));
	is_int(mstore_create(s, "Box", &terr), 1, "create Box");
	basics(s);
	compaction(s);
	compaction_crash(s);
	hint(s);
	torn(s);
	corrupt_middle(s);
	atomic_group(s);
	flag_ops(s);
	version1(s);
	notify(s);
	quiet_cache(s);
	concurrent(s);
	mstore_free(&s);
	return tap_done();
}
