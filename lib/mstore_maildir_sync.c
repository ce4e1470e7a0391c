/* mstore_maildir_sync.c: keeps a Maildir++ mailbox's index in step with
 * its files. Under the mailbox lock: take in what other processes logged,
 * rebuild the index (new UIDVALIDITY) if it is lost or corrupt, read new/
 * and cur/ when their mtimes say something changed (new/ alone when only
 * it did, which is what a delivery changes), give new files UIDs (in
 * delivery order), notice flag renames and removals by other Maildir
 * software, move new/ to cur/ and claim \Recent (writers), and commit
 * before any new UID is handed out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "mstore_internal.h"

#define SCAN_RETRIES 3
#define MTIME_TRUST_SECONDS 2
/* more new files than this in new/ alone: read cur/ too (one sorted walk
 * instead of a search through the index per file) */
#define NEW_ONLY_MAX 32

/* A file seen in new/ or cur/, or a record of the index, by base name. */
struct key {
	const char *name;
	uint16_t name_len, base_len;
	uint8_t in_new;
	size_t idx; /* the record (for index keys) */
};

struct scan {
	struct str arena; /* the file names read, NUL-separated */
	struct key *ents;
	size_t count, cap;
	struct mdir_mtime new_mtime, cur_mtime;
};

const char *mdir_msg_path(struct mdir_mailbox *mb, const struct mdir_rec *r)
{
	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/%s/%s", mb->path,
		   r->in_new ? "new" : "cur", mdir_rec_name(&mb->st, r));
	return mb->path_buf.data;
}

uint64_t mdir_modseq_next(struct mdir_mailbox *mb)
{
	mb->index_dirty = true;
	return ++mb->st.highestmodseq;
}

static int dir_mtime(struct mdir_mailbox *mb, const char *sub,
		     struct mdir_mtime *m)
{
	struct stat st;

	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/%s", mb->path, sub);
	if (stat(mb->path_buf.data, &st) < 0)
		return mstore_error_sys(mb->pub.s, "stat", mb->path_buf.data);
	m->sec = st.st_mtim.tv_sec;
	m->nsec = st.st_mtim.tv_nsec;
	return 1;
}

static bool mtime_eq(const struct mdir_mtime *a, const struct mdir_mtime *b)
{
	return a->sec == b->sec && a->nsec == b->nsec;
}

/* A directory changed within the last seconds may change again within the
 * same timestamp tick: do not trust it to skip the next scan. */
static struct mdir_mtime mtime_trusted(struct mdir_mtime m)
{
	struct mdir_mtime none = {0, 0};

	return (int64_t)time(NULL) - m.sec < MTIME_TRUST_SECONDS ? none : m;
}

/* Nothing to do without even taking the lock? */
static bool quick_unchanged(struct mdir_mailbox *mb, bool claim)
{
	struct mdir_mtime n, c;

	if (!mb->loaded || mb->pending_count > 0 || mb->index_dirty ||
	    mb->need_base || mb->need_scan || mb->st.new_mtime.sec == 0 ||
	    mb->st.cur_mtime.sec == 0)
		return false;
	if (claim && mb->st.first_recent_uid != mb->st.uidnext)
		return false;
	for (size_t i = 0; mb->mode == MDIR_WRITER && i < mb->st.count; i++)
		if (mb->st.recs[i].in_new)
			return false; /* noted by a reader: move it */
	return mdir_index_unchanged(mb) && dir_mtime(mb, "new", &n) > 0 &&
	       dir_mtime(mb, "cur", &c) > 0 &&
	       mtime_eq(&n, &mb->st.new_mtime) &&
	       mtime_eq(&c, &mb->st.cur_mtime);
}

void mdir_cur_changed(struct mdir_mailbox *mb)
{
	struct mdir_mtime c;

	if (mb->st.cur_mtime.sec == 0)
		return; /* not known before: read it next time anyway */
	if (dir_mtime(mb, "cur", &c) < 0)
		c = (struct mdir_mtime){0, 0};
	mb->st.cur_mtime = c;
	mb->index_dirty = true;
}

static int read_dir(struct mdir_mailbox *mb, struct scan *sc, bool in_new)
{
	struct dirent *e;
	DIR *d;

	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/%s", mb->path, in_new ? "new" : "cur");
	d = opendir(mb->path_buf.data);
	if (d == NULL)
		return mstore_error_sys(mb->pub.s, "open", mb->path_buf.data);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		const char *colon;

		if (e->d_name[0] == '.' || len > 255 ||
		    (e->d_type != DT_REG && e->d_type != DT_UNKNOWN))
			continue;
		if (sc->count >= MDIR_MAX_MESSAGES)
			break;
		if (sc->count == sc->cap) {
			sc->cap = sc->cap < 256 ? 256 : size_mul(sc->cap, 2);
			sc->ents = mem_realloc(
			    sc->ents, size_mul(sc->cap, sizeof(*sc->ents)));
		}
		colon = memchr(e->d_name, ':', len);
		sc->ents[sc->count++] = (struct key){
		    .name = (const char *)(uintptr_t)sc->arena.len,
		    .name_len = (uint16_t)len,
		    .base_len =
			(uint16_t)(colon != NULL ? (size_t)(colon - e->d_name)
						 : len),
		    .in_new = in_new,
		};
		str_append(&sc->arena, e->d_name, len + 1);
	}
	closedir(d);
	return 1;
}

static int base_cmp(const struct key *x, const struct key *y)
{
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	if (x->base_len != y->base_len)
		return x->base_len < y->base_len ? -1 : 1;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = base_cmp(x, y);

	return c != 0 ? c : (int)x->in_new - (int)y->in_new; /* cur/ first */
}

/* Reads new/ then cur/ (a file moving from new/ to cur/ meanwhile is seen
 * in one of them); again when a directory changed during the reading. */
static int read_dirs(struct mdir_mailbox *mb, struct scan *sc)
{
	struct mdir_mtime n2, c2;

	for (int tries = 0;; tries++) {
		sc->count = 0;
		str_clear(&sc->arena);
		if (dir_mtime(mb, "new", &sc->new_mtime) < 0 ||
		    dir_mtime(mb, "cur", &sc->cur_mtime) < 0 ||
		    read_dir(mb, sc, true) < 0 || read_dir(mb, sc, false) < 0 ||
		    dir_mtime(mb, "new", &n2) < 0 ||
		    dir_mtime(mb, "cur", &c2) < 0)
			return -1;
		if ((mtime_eq(&n2, &sc->new_mtime) &&
		     mtime_eq(&c2, &sc->cur_mtime)) ||
		    tries + 1 >= SCAN_RETRIES)
			break;
	}
	for (size_t i = 0; i < sc->count; i++)
		sc->ents[i].name = sc->arena.data + (uintptr_t)sc->ents[i].name;
	if (sc->count > 1)
		qsort(sc->ents, sc->count, sizeof(*sc->ents), key_cmp);
	return 1;
}

/* Delivery order: the seconds before the first '.', then the name. */
static int new_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	unsigned long long sx = strtoull(x->name, NULL, 10);
	unsigned long long sy = strtoull(y->name, NULL, 10);

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Size (CRLF) and arrival time of a new file; 0 when it is gone. */
static int file_info(struct mdir_mailbox *mb, const char *path,
		     uint64_t *size_r, int64_t *mtime_r)
{
	char buf[65536];
	struct stat st;
	bool cr = false;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT
			   ? 0
			   : mstore_error_sys(mb->pub.s, "open", path);
	*size_r = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd); /* not a message: skipped, looked at again later */
		return 0;
	}
	*mtime_r = st.st_mtim.tv_sec;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return mstore_error_sys(mb->pub.s, "read", path);
		}
		*size_r += mdir_crlf_size(buf, (size_t)n, &cr);
	}
	close(fd);
	return 1;
}

static int add_new(struct mdir_mailbox *mb, struct key *ents, size_t count)
{
	struct mdir_state *st = &mb->st;
	uint64_t modseq = 0;
	int r;

	qsort(ents, count, sizeof(*ents), new_cmp);
	for (size_t i = 0; i < count; i++) {
		const struct key *k = &ents[i];
		uint64_t size;
		int64_t mtime = 0;

		if (st->uidnext == UINT32_MAX || st->count >= MDIR_MAX_MESSAGES)
			return mstore_error(mb->pub.s, "%s: too many messages",
					    mb->path);
		str_clear(&mb->path_buf);
		str_printf(&mb->path_buf, "%s/%s/%s", mb->path,
			   k->in_new ? "new" : "cur", k->name);
		r = file_info(mb, mb->path_buf.data, &size, &mtime);
		if (r <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (modseq == 0)
			modseq = mdir_modseq_next(mb);
		struct mdir_rec *rec = mdir_rec_add(st, k->name, k->name_len,
						    k->base_len, k->in_new);
		rec->m.uid = st->uidnext++;
		rec->m.modseq = modseq;
		rec->m.size = size;
		rec->m.internaldate = mtime;
		mdir_info_parse(k->name, k->name_len, k->base_len,
				st->keyword_count, &rec->m.flags,
				&rec->m.keywords);
		mdir_emailid(k->name, k->base_len, rec->m.emailid);
		mb->index_dirty = true;
	}
	return 1;
}

/* A record whose file was renamed (flags changed elsewhere, or moved to
 * cur/). */
static void rec_update(struct mdir_mailbox *mb, struct mdir_rec *r,
		       const struct key *k, uint64_t *modseq)
{
	struct mdir_state *st = &mb->st;
	uint32_t flags, kw;

	mdir_info_parse(k->name, k->name_len, k->base_len, st->keyword_count,
			&flags, &kw);
	if (flags != r->m.flags || kw != r->m.keywords) {
		if (*modseq == 0)
			*modseq = mdir_modseq_next(mb);
		r->m.flags = flags;
		r->m.keywords = kw;
		r->m.modseq = *modseq;
	}
	mdir_rec_rename(st, r, k->name, k->name_len, k->in_new);
	mb->index_dirty = true;
}

/* Index keys sorted by base name. */
static struct key *index_keys(const struct mdir_state *st)
{
	struct key *keys = mem_calloc(st->count + 1, sizeof(*keys));

	for (size_t i = 0; i < st->count; i++) {
		const struct mdir_rec *r = &st->recs[i];

		keys[i] = (struct key){mdir_rec_name(st, r), r->name_len,
				       r->base_len, r->in_new, i};
	}
	qsort(keys, st->count, sizeof(*keys), key_cmp);
	return keys;
}

/* Walks files and records in base-name order. Renames are applied after
 * the walk: they append to the name table the keys point into. */
static int merge(struct mdir_mailbox *mb, struct scan *sc)
{
	struct mdir_state *st = &mb->st;
	struct key *keys = index_keys(st), *fresh;
	size_t i = 0, j = 0, nfresh = 0, nupd = 0, *upd;
	bool gone = false;
	uint64_t modseq = 0;
	int r;

	fresh = mem_calloc(sc->count + 1, sizeof(*fresh));
	upd = mem_calloc(sc->count + 1, sizeof(*upd) * 2);
	while (i < sc->count || j < st->count) {
		if (i > 0 && i < sc->count &&
		    base_cmp(&sc->ents[i], &sc->ents[i - 1]) == 0) {
			i++; /* the same base in new/ and cur/: cur/ wins */
			continue;
		}
		int c = i >= sc->count	 ? 1
			: j >= st->count ? -1
					 : base_cmp(&sc->ents[i], &keys[j]);

		if (c < 0) {
			fresh[nfresh++] = sc->ents[i++];
		} else if (c > 0) {
			mdir_rec_expunge(st, &st->recs[keys[j++].idx]);
			gone = true;
		} else {
			if (sc->ents[i].in_new != keys[j].in_new ||
			    sc->ents[i].name_len != keys[j].name_len ||
			    memcmp(sc->ents[i].name, keys[j].name,
				   keys[j].name_len) != 0) {
				upd[2 * nupd] = i;
				upd[2 * nupd++ + 1] = keys[j].idx;
			}
			i++, j++;
		}
	}
	for (size_t u = 0; u < nupd; u++)
		rec_update(mb, &st->recs[upd[2 * u + 1]], &sc->ents[upd[2 * u]],
			   &modseq);
	if (gone) {
		(void)mdir_modseq_next(mb); /* expunges count as changes */
		mdir_state_compact(st);
	}
	r = add_new(mb, fresh, nfresh);
	mem_free(keys);
	mem_free(fresh);
	mem_free(upd);
	return r;
}

static bool base_indexed(const struct mdir_state *st, const struct key *k)
{
	for (size_t i = 0; i < st->count; i++)
		if (st->recs[i].base_len == k->base_len &&
		    memcmp(mdir_rec_name(st, &st->recs[i]), k->name,
			   k->base_len) == 0)
			return true;
	return false;
}

/* new/ against the index's records in new/, when cur/ is as the index
 * knows it. 1 done, 0 read both directories instead (a record left new/
 * for somewhere the index does not know, or many new files), -1 error. */
static int merge_new(struct mdir_mailbox *mb, struct scan *sc)
{
	struct mdir_state *st = &mb->st;
	struct key *keys = mem_calloc(st->count + 1, sizeof(*keys)), *fresh;
	size_t nkeys = 0, i = 0, j = 0, nfresh = 0, nkept = 0;
	int r = 1;

	for (size_t k = 0; k < st->count; k++)
		if (st->recs[k].in_new)
			keys[nkeys++] = (struct key){
			    mdir_rec_name(st, &st->recs[k]),
			    st->recs[k].name_len, st->recs[k].base_len, 1, k};
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	fresh = mem_calloc(sc->count + 1, sizeof(*fresh));
	while (r > 0 && (i < sc->count || j < nkeys)) {
		if (i > 0 && i < sc->count &&
		    base_cmp(&sc->ents[i], &sc->ents[i - 1]) == 0) {
			i++;
			continue;
		}
		int c = i >= sc->count ? 1
			: j >= nkeys   ? -1
				       : base_cmp(&sc->ents[i], &keys[j]);

		if (c < 0)
			fresh[nfresh++] = sc->ents[i++];
		else if (c > 0 || sc->ents[i].name_len != keys[j].name_len ||
			 memcmp(sc->ents[i].name, keys[j].name,
				keys[j].name_len) != 0)
			r = 0; /* gone or renamed in new/: rare, the slow way */
		else
			i++, j++;
	}
	if (nfresh > NEW_ONLY_MAX)
		r = 0;
	/* a base already in cur/ (copied there by other software): cur/
	 * wins, as in merge() */
	for (size_t f = 0; r > 0 && f < nfresh; f++)
		if (!base_indexed(st, &fresh[f]))
			fresh[nkept++] = fresh[f];
	if (r > 0)
		r = add_new(mb, fresh, nkept);
	mem_free(keys);
	mem_free(fresh);
	return r;
}

static int scan_new(struct mdir_mailbox *mb, const struct mdir_mtime *cur)
{
	struct scan sc = {0};
	struct mdir_mtime n2, c2, n;
	int r = 1;

	str_init(&sc.arena, 1024);
	for (int tries = 0;; tries++) {
		sc.count = 0;
		str_clear(&sc.arena);
		if (dir_mtime(mb, "new", &sc.new_mtime) < 0 ||
		    read_dir(mb, &sc, true) < 0 ||
		    dir_mtime(mb, "new", &n2) < 0 ||
		    dir_mtime(mb, "cur", &c2) < 0) {
			r = -1;
			break;
		}
		if (!mtime_eq(&c2, cur)) {
			r = 0;
			break;
		}
		if (mtime_eq(&n2, &sc.new_mtime) || tries + 1 >= SCAN_RETRIES)
			break;
	}
	for (size_t i = 0; r > 0 && i < sc.count; i++)
		sc.ents[i].name = sc.arena.data + (uintptr_t)sc.ents[i].name;
	if (r > 0 && sc.count > 1)
		qsort(sc.ents, sc.count, sizeof(*sc.ents), key_cmp);
	if (r > 0)
		r = merge_new(mb, &sc);
	if (r > 0) {
		n = mtime_trusted(sc.new_mtime);
		if (!mtime_eq(&n, &mb->st.new_mtime))
			mb->index_dirty = true;
		mb->st.new_mtime = n;
	}
	str_deinit(&sc.arena);
	mem_free(sc.ents);
	return r;
}

static int scan(struct mdir_mailbox *mb, bool force)
{
	struct scan sc = {0};
	struct mdir_mtime n, c;
	bool cur_same;
	int r;

	if (dir_mtime(mb, "new", &n) < 0 || dir_mtime(mb, "cur", &c) < 0)
		return -1;
	cur_same = !force && c.sec != 0 && mtime_eq(&c, &mb->st.cur_mtime);
	if (cur_same && n.sec != 0 && mtime_eq(&n, &mb->st.new_mtime))
		return 1;
	if (cur_same && (r = scan_new(mb, &c)) != 0)
		return r;
	str_init(&sc.arena, 4096);
	r = read_dirs(mb, &sc);
	if (r > 0)
		r = merge(mb, &sc);
	if (r > 0) {
		/* cur/ changes under the lock or by foreign software only:
		 * its mtime is trusted at once (see mstore_internal.h) */
		n = mtime_trusted(sc.new_mtime);
		c = sc.cur_mtime;
		if (!mtime_eq(&n, &mb->st.new_mtime) ||
		    !mtime_eq(&c, &mb->st.cur_mtime))
			mb->index_dirty = true;
		mb->st.new_mtime = n;
		mb->st.cur_mtime = c;
		mb->need_scan = false;
	}
	str_deinit(&sc.arena);
	mem_free(sc.ents);
	return r;
}

/* A fresh state for a lost or corrupt index: MAILBOXID and keywords from
 * postern-meta, a UIDVALIDITY greater than any before. */
static int rebuild(struct mdir_mailbox *mb, uint32_t old_uidvalidity,
		   bool *had_meta_r)
{
	struct mdir_state *st = &mb->st;
	uint32_t floor = old_uidvalidity > st->uidvalidity ? old_uidvalidity
							   : st->uidvalidity;
	uint32_t uidv = mdir_uidvalidity_next(mb->pub.s, mb->root, floor);

	if (uidv == 0)
		return -1;
	mdir_state_clear(st);
	str_init(&st->names, 1024);
	mdir_meta_read(mb);
	*had_meta_r = st->mailboxid[0] != '\0';
	if (st->mailboxid[0] == '\0') {
		st->mailboxid[0] = 'M';
		mdir_random_hex(st->mailboxid + 1, 24);
		if (mdir_meta_write(mb) < 0)
			return -1;
	}
	st->uidvalidity = uidv;
	st->uidnext = 1;
	st->first_recent_uid = 1;
	st->highestmodseq = 1;
	mb->pending_count = 0;
	mb->claimed.count = 0; /* UIDs of another UIDVALIDITY */
	mb->loaded = false;
	mb->index_dirty = true;
	mb->need_base = true;
	return 1;
}

static void move_new(struct mdir_mailbox *mb)
{
	struct str from, to;
	bool moved = false;

	str_init(&from, 0);
	str_init(&to, 0);
	for (size_t i = 0; i < mb->st.count; i++) {
		struct mdir_rec *r = &mb->st.recs[i];
		const char *name = mdir_rec_name(&mb->st, r);

		if (!r->in_new)
			continue;
		mdir_name_build(&to, name, r->base_len, r->m.flags,
				r->m.keywords, name, r->name_len);
		str_clear(&from);
		str_printf(&from, "%s/new/%s", mb->path, name);
		str_clear(&mb->path_buf);
		str_printf(&mb->path_buf, "%s/cur/%s", mb->path, to.data);
		/* failure (another process moved it) is found by the
		 * next scan */
		if (rename(from.data, mb->path_buf.data) == 0) {
			mdir_rec_rename(&mb->st, r, to.data, to.len, false);
			mb->index_dirty = moved = true;
		}
	}
	if (moved)
		mdir_cur_changed(mb);
	str_deinit(&from);
	str_deinit(&to);
}

static void claim_recent(struct mdir_mailbox *mb)
{
	struct mdir_state *st = &mb->st;

	size_t i = st->count;

	if (st->first_recent_uid == st->uidnext)
		return;
	/* the unclaimed ones are the newest: from the end (and pushed in
	 * ascending order, keeping claimed sorted) */
	while (i > 0 && st->recs[i - 1].m.uid >= st->first_recent_uid)
		i--;
	for (; i < st->count; i++)
		mstore_uids_push(&mb->claimed, st->recs[i].m.uid);
	st->first_recent_uid = st->uidnext;
	mb->index_dirty = true;
}

int mdir_refresh(struct mdir_mailbox *mb, unsigned flags)
{
	uint32_t old_uidv = 0;
	bool rebuilt = false, corrupt = false, had_meta = false;
	bool claim = mb->mode == MDIR_WRITER && (flags & MDIR_R_CLAIM) != 0;
	int r;

	if ((flags & MDIR_R_SCAN) == 0 && quick_unchanged(mb, claim))
		return 1;
	if (mdir_lock(mb) < 0)
		return -1;
	r = mdir_index_refresh(mb, &old_uidv, &corrupt);
	if (r == 0) {
		rebuilt = true;
		r = rebuild(mb, old_uidv, &had_meta);
	}
	if (r > 0)
		r = scan(mb, (flags & MDIR_R_SCAN) != 0 || rebuilt ||
				 mb->need_scan);
	/* a folder that never had an index (new, or made by other
	 * software) is no news */
	if (r > 0 && rebuilt && !corrupt && had_meta && mb->st.count > 0)
		msg_warn("%s: index missing, rebuilt with UIDVALIDITY %u",
			 mb->path, mb->st.uidvalidity);
	if (r > 0 && mb->mode == MDIR_WRITER)
		move_new(mb);
	if (r > 0 && claim)
		claim_recent(mb);
	if (r > 0)
		r = mdir_index_commit(mb);
	mdir_unlock(mb);
	return r;
}

void mdir_state_status(const struct mdir_state *st, struct mstore_status *out)
{
	memset(out, 0, sizeof(*out));
	out->messages = (uint32_t)st->count;
	for (size_t i = 0; i < st->count; i++) {
		const struct mstore_msg *m = &st->recs[i].m;

		out->recent += m->uid >= st->first_recent_uid;
		out->unseen += (m->flags & MSTORE_F_SEEN) == 0;
		out->deleted += (m->flags & MSTORE_F_DELETED) != 0;
		out->size += m->size;
	}
	out->uidvalidity = st->uidvalidity;
	out->uidnext = st->uidnext;
	out->highestmodseq = st->highestmodseq;
	memcpy(out->mailboxid, st->mailboxid, sizeof(st->mailboxid));
}

void mdir_view_build(struct mdir_mailbox *mb)
{
	struct mstore_mailbox *v = &mb->pub;
	const struct mdir_state *st = &mb->st;
	size_t c = 0, kept = 0;

	if (v->cap < st->count) {
		v->cap = st->count;
		v->msgs =
		    mem_realloc(v->msgs, size_mul(v->cap, sizeof(*v->msgs)));
	}
	for (size_t i = 0; i < st->count; i++) {
		struct mstore_msg *m = &v->msgs[i];

		*m = st->recs[i].m;
		while (c < mb->claimed.count && mb->claimed.v[c] < m->uid)
			c++;
		if (c < mb->claimed.count && mb->claimed.v[c] == m->uid) {
			m->flags |= MSTORE_F_RECENT;
			mb->claimed.v[kept++] = m->uid; /* drop expunged ones */
		}
	}
	mb->claimed.count = kept;
	v->count = st->count;
	for (size_t i = v->keyword_count; i < st->keyword_count; i++)
		v->keywords[i] = mem_strdup(st->keywords[i]);
	if (st->keyword_count > v->keyword_count)
		v->keyword_count = st->keyword_count;
	mstore_view_count(v);
	if (mb->mode != MDIR_WRITER) {
		v->status.recent = 0;
		for (size_t i = 0; i < st->count; i++)
			v->status.recent +=
			    st->recs[i].m.uid >= st->first_recent_uid;
	}
	v->status.uidvalidity = st->uidvalidity;
	v->status.uidnext = st->uidnext;
	v->status.highestmodseq = st->highestmodseq;
	memcpy(v->status.mailboxid, st->mailboxid, sizeof(st->mailboxid));
}
