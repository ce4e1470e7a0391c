/* mstore_maildir_log.c: the format of a Maildir++ mailbox's change log
 * (postern-index.log), which continues the base index: building the group
 * of records one commit appends, and replaying groups onto a struct
 * mdir_state. No file I/O here (that is mstore_maildir_commit.c), so the
 * fuzz target and the tests can feed it any bytes.
 *
 * File: a 32-byte header (magic, byte-order mark, version, the log id that
 * the base names), then groups at 8-byte aligned offsets. A group is one
 * commit: magic, payload length, a checksum over the payload mixed with
 * the log id and the group's offset (so a stale group from another log or
 * another place never counts), the payload, zero padding. The payload is
 * records (type, length, body): first a HEADER (UIDNEXT, first unclaimed
 * UID, HIGHESTMODSEQ, cache id, directory mtimes), then KEYWORD (names
 * added), REC (a new or changed message, whole), FLAGS (a STORE: the
 * operation, its modseq and the uids it changed, as ranges: redone on
 * the same records it gives the same flags and file names), CACHE (a new
 * cache head) and EXPUNGE (removed uids). A group is checked completely
 * before any of it is applied: all of it or none. Replay stops at the
 * first group that is incomplete or fails its checks; when a good group
 * follows the bad one, the log is corrupt rather than torn, and the
 * highest UIDNEXT and HIGHESTMODSEQ among the groups after it are
 * reported so that the caller never hands those out again. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "mstore_internal.h"

#define LOG_MAGIC "PSTLOG01"
#define LOG_BOM 0x01020304u
#define LOG_VERSION 1u
#define GROUP_MAGIC 0x31474c50u /* "PLG1" */
#define GROUP_HDR 16
#define HEADER_SIZE 56
#define CACHE_SIZE 16
#define FLAGS_HDR 24 /* mode, flags, keywords, 0, modseq; then ranges */

enum rec_type {
	T_HEADER = 1,
	T_KEYWORD,
	T_REC,
	T_CACHE,
	T_EXPUNGE,
	T_FLAGS,
};

struct log_hdr {
	uint32_t uidnext, first_recent_uid;
	uint64_t highestmodseq, cache_id;
	struct mdir_mtime new_mtime, cur_mtime;
};

#define PUT(buf, v)                                                            \
	do {                                                                   \
		__typeof__(v) put_v_ = (v);                                    \
		str_append((buf), &put_v_, sizeof(put_v_));                    \
	} while (0)

void mdir_log_header_build(struct str *out, uint64_t log_id)
{
	static const char zero[8];

	str_append(out, LOG_MAGIC, 8);
	PUT(out, (uint32_t)LOG_BOM);
	PUT(out, (uint32_t)LOG_VERSION);
	PUT(out, log_id);
	str_append(out, zero, sizeof(zero));
}

bool mdir_log_header_check(const void *data, size_t len, uint64_t log_id)
{
	const unsigned char *p = data;
	uint32_t bom, version;
	uint64_t id;

	if (len < MDIR_LOG_HDR || memcmp(p, LOG_MAGIC, 8) != 0)
		return false;
	memcpy(&bom, p + 8, 4);
	memcpy(&version, p + 12, 4);
	memcpy(&id, p + 16, 8);
	return bom == LOG_BOM && version == LOG_VERSION && id == log_id &&
	       log_id != 0;
}

static uint64_t group_sum(const unsigned char *payload, size_t len,
			  uint64_t log_id, uint64_t off)
{
	uint64_t mix[4] = {mdir_index_checksum(payload, len), log_id, off, len};

	return mdir_index_checksum(mix, sizeof(mix));
}

static void rec_start(struct str *b, enum rec_type t, size_t len)
{
	PUT(b, (uint16_t)t);
	PUT(b, (uint16_t)0);
	PUT(b, (uint32_t)len);
}

static void put_rec(struct str *b, const struct mdir_state *st,
		    const struct mdir_rec *r)
{
	struct mdir_rec copy = *r;

	copy.name_off = 0; /* meaningless outside this process */
	rec_start(b, T_REC, MDIR_REC_SIZE + (size_t)r->name_len);
	mdir_rec_encode(b, &copy);
	str_append(b, mdir_rec_name(st, r), r->name_len);
}

static void put_header(struct str *b, const struct mdir_state *st)
{
	rec_start(b, T_HEADER, HEADER_SIZE);
	PUT(b, st->uidnext);
	PUT(b, st->first_recent_uid);
	PUT(b, st->highestmodseq);
	PUT(b, st->cache_id);
	PUT(b, st->new_mtime.sec);
	PUT(b, st->new_mtime.nsec);
	PUT(b, st->cur_mtime.sec);
	PUT(b, st->cur_mtime.nsec);
}

/* The first record at or above uid (records are sorted by uid). */
static size_t lower_bound(const struct mdir_state *st, uint32_t uid)
{
	size_t lo = 0, hi = st->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->recs[mid].m.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The pending STORE as one FLAGS record: its uids as ascending ranges. */
static void put_flag_op(struct str *b, const struct mdir_flag_op *op)
{
	size_t n = op->uids.count, nranges = 0, at;
	uint32_t *u = mem_alloc(size_mul(n, 4));
	bool sorted = true;

	memcpy(u, op->uids.v, n * 4);
	for (size_t i = 1; i < n && sorted; i++)
		sorted = u[i] > u[i - 1];
	if (!sorted) /* they come sorted unless the caller's uids were not */
		qsort(u, n, 4, u32_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || u[i] > u[i - 1] + 1)
			nranges++;
	rec_start(b, T_FLAGS, FLAGS_HDR + nranges * 8);
	PUT(b, op->mode);
	PUT(b, op->flags);
	PUT(b, op->keywords);
	PUT(b, (uint32_t)0);
	PUT(b, op->modseq);
	for (size_t i = 0; i < n; i = at) {
		for (at = i + 1; at < n && u[at] <= u[at - 1] + 1; at++)
			;
		PUT(b, u[i]);
		PUT(b, u[at - 1]);
	}
	mem_free(u);
}

static void put_changes(struct str *b, const struct mdir_state *st,
			const struct mdir_pending *pending, size_t npending)
{
	for (size_t i = st->disk_keyword_count; i < st->keyword_count; i++) {
		size_t len = strlen(st->keywords[i]);

		rec_start(b, T_KEYWORD, 4 + len);
		PUT(b, (uint32_t)i);
		str_append(b, st->keywords[i], len);
	}
	for (size_t i = 0; i < st->dirty.count; i++) {
		long idx = mdir_rec_find(st, st->dirty.v[i]);

		if (idx >= 0 && st->dirty.v[i] < st->disk_uidnext)
			put_rec(b, st, &st->recs[idx]);
	}
	for (size_t i = lower_bound(st, st->disk_uidnext); i < st->count; i++)
		put_rec(b, st, &st->recs[i]);
	/* after the records: a replay finds new ones there already */
	if (st->op.uids.count > 0)
		put_flag_op(b, &st->op);
	for (size_t i = 0; i < npending; i++) {
		if (mdir_rec_find(st, pending[i].uid) < 0)
			continue;
		rec_start(b, T_CACHE, CACHE_SIZE);
		PUT(b, pending[i].uid);
		PUT(b, pending[i].bytes);
		PUT(b, pending[i].off);
	}
	if (st->expunged.count > 0) {
		rec_start(b, T_EXPUNGE, st->expunged.count * 4);
		str_append(b, st->expunged.v, st->expunged.count * 4);
	}
}

void mdir_log_group_build(const struct mdir_state *st,
			  const struct mdir_pending *pending, size_t npending,
			  uint64_t log_id, uint64_t off, struct str *out)
{
	size_t start = out->len, plen;
	uint32_t magic = GROUP_MAGIC, len32;
	uint64_t sum;

	str_append(out, (const char[GROUP_HDR]){0}, GROUP_HDR);
	put_header(out, st);
	put_changes(out, st, pending, npending);
	plen = out->len - start - GROUP_HDR;
	while ((out->len - start) % 8 != 0)
		str_putc(out, '\0');
	len32 = plen > UINT32_MAX ? UINT32_MAX : (uint32_t)plen;
	sum = group_sum((const unsigned char *)out->data + start + GROUP_HDR,
			plen, log_id, off);
	memcpy(out->data + start, &magic, 4);
	memcpy(out->data + start + 4, &len32, 4);
	memcpy(out->data + start + 8, &sum, 8);
}

void mdir_log_group_wrap(const void *payload, size_t len, uint64_t log_id,
			 uint64_t off, struct str *out)
{
	uint32_t magic = GROUP_MAGIC, len32 = (uint32_t)len;
	uint64_t sum = group_sum(payload, len, log_id, off);

	str_append(out, &magic, 4);
	str_append(out, &len32, 4);
	str_append(out, &sum, 8);
	str_append(out, payload, len);
	while (out->len % 8 != 0)
		str_putc(out, '\0');
}

/* A record of a payload. */
struct lrec {
	uint16_t type;
	uint32_t len;
	const unsigned char *body;
};

/* The next record at *pos: 1, 0 at the end, -1 when it runs over. */
static int next_rec(const unsigned char *p, size_t len, size_t *pos,
		    struct lrec *r)
{
	if (*pos == len)
		return 0;
	if (len - *pos < 8)
		return -1;
	memcpy(&r->type, p + *pos, 2);
	memcpy(&r->len, p + *pos + 4, 4);
	if (len - *pos - 8 < r->len)
		return -1;
	r->body = p + *pos + 8;
	*pos += 8 + (size_t)r->len;
	return 1;
}

static void hdr_decode(const unsigned char *p, struct log_hdr *h)
{
	memcpy(&h->uidnext, p, 4);
	memcpy(&h->first_recent_uid, p + 4, 4);
	memcpy(&h->highestmodseq, p + 8, 8);
	memcpy(&h->cache_id, p + 16, 8);
	memcpy(&h->new_mtime.sec, p + 24, 8);
	memcpy(&h->new_mtime.nsec, p + 32, 8);
	memcpy(&h->cur_mtime.sec, p + 40, 8);
	memcpy(&h->cur_mtime.nsec, p + 48, 8);
}

/* What pass one of a group keeps track of. */
struct gcheck {
	struct log_hdr h;
	size_t keyword_count, count;
	uint32_t last_uid;
	const unsigned char *kw[MSTORE_KEYWORD_MAX];
	size_t kw_len[MSTORE_KEYWORD_MAX];
};

static bool keyword_check(const struct mdir_state *st, struct gcheck *g,
			  const struct lrec *r)
{
	char name[MSTORE_KEYWORD_LEN_MAX + 1];
	uint32_t idx;
	size_t n = r->len - 4;

	if (r->len < 5 || n > MSTORE_KEYWORD_LEN_MAX ||
	    g->keyword_count >= MSTORE_KEYWORD_MAX)
		return false;
	memcpy(&idx, r->body, 4);
	memcpy(name, r->body + 4, n);
	name[n] = '\0';
	if (idx != g->keyword_count || strlen(name) != n ||
	    !mstore_keyword_valid(name))
		return false;
	for (size_t i = 0; i < st->keyword_count; i++)
		if (strcasecmp(st->keywords[i], name) == 0)
			return false;
	for (size_t i = st->keyword_count; i < g->keyword_count; i++)
		if (g->kw_len[i] == n &&
		    strncasecmp((const char *)g->kw[i], name, n) == 0)
			return false;
	g->kw[g->keyword_count] = r->body + 4;
	g->kw_len[g->keyword_count++] = n;
	return true;
}

static bool rec_ok(const struct mdir_state *st, struct gcheck *g,
		   const struct lrec *r)
{
	struct mdir_rec rec;

	if (r->len < MDIR_REC_SIZE + 1)
		return false;
	mdir_rec_decode(r->body, &rec);
	if (rec.name_len != r->len - MDIR_REC_SIZE ||
	    mdir_rec_check(&rec, g->h.uidnext, g->h.highestmodseq,
			   g->keyword_count, r->body + MDIR_REC_SIZE) != NULL)
		return false;
	if (mdir_rec_find(st, rec.m.uid) >= 0)
		return true;
	/* a new message: above every other, within the limit */
	if (rec.m.uid <= g->last_uid || g->count >= MDIR_MAX_MESSAGES)
		return false;
	g->last_uid = rec.m.uid;
	g->count++;
	return true;
}

static struct mdir_flag_op flag_op_decode(const struct lrec *r)
{
	struct mdir_flag_op op = {0};

	memcpy(&op.mode, r->body, 4);
	memcpy(&op.flags, r->body + 4, 4);
	memcpy(&op.keywords, r->body + 8, 4);
	memcpy(&op.modseq, r->body + 16, 8);
	return op;
}

/* A known operation on known flags and keywords, a modseq the header
 * covers, at least one range, ascending and apart, below UIDNEXT. */
static bool flags_ok(const struct gcheck *g, const struct lrec *r)
{
	struct mdir_flag_op op;
	uint32_t lo, hi, prev = 0;

	if (r->len < FLAGS_HDR + 8 || (r->len - FLAGS_HDR) % 8 != 0)
		return false;
	op = flag_op_decode(r);
	if (op.mode > MSTORE_FLAGS_REMOVE ||
	    (op.flags & ~MSTORE_F_STORED_MASK) != 0 ||
	    (g->keyword_count < 32 && (op.keywords >> g->keyword_count) != 0) ||
	    op.modseq == 0 || op.modseq > g->h.highestmodseq)
		return false;
	for (size_t off = FLAGS_HDR; off < r->len; off += 8) {
		memcpy(&lo, r->body + off, 4);
		memcpy(&hi, r->body + off + 4, 4);
		if (lo == 0 || lo > hi || hi >= g->h.uidnext ||
		    (off > FLAGS_HDR && lo <= prev))
			return false;
		prev = hi;
	}
	return true;
}

/* Pass one: NULL when the payload is a group that applies to st. */
static const char *group_check(const struct mdir_state *st,
			       const unsigned char *p, size_t len)
{
	struct gcheck g = {.keyword_count = st->keyword_count,
			   .count = st->count};
	struct lrec r;
	size_t pos = 0;
	int n;

	if (next_rec(p, len, &pos, &r) <= 0 || r.type != T_HEADER ||
	    r.len != HEADER_SIZE)
		return "a group without its header";
	hdr_decode(r.body, &g.h);
	if (g.h.uidnext < st->uidnext ||
	    g.h.highestmodseq < st->highestmodseq ||
	    g.h.first_recent_uid > g.h.uidnext)
		return "UIDNEXT or HIGHESTMODSEQ going back";
	g.last_uid = st->count > 0 ? st->recs[st->count - 1].m.uid : 0;
	while ((n = next_rec(p, len, &pos, &r)) > 0) {
		bool good =
		    (r.type == T_KEYWORD && keyword_check(st, &g, &r)) ||
		    (r.type == T_REC && rec_ok(st, &g, &r)) ||
		    (r.type == T_FLAGS && flags_ok(&g, &r)) ||
		    (r.type == T_CACHE && r.len == CACHE_SIZE) ||
		    (r.type == T_EXPUNGE && r.len % 4 == 0);

		if (!good)
			return "a bad record";
	}
	return n < 0 ? "a record runs over its group" : NULL;
}

static void apply_rec(struct mdir_state *st, const struct lrec *r)
{
	struct mdir_rec rec, *d;
	const char *name = (const char *)r->body + MDIR_REC_SIZE;
	long idx;

	mdir_rec_decode(r->body, &rec);
	idx = mdir_rec_find(st, rec.m.uid);
	d = idx >= 0 ? &st->recs[idx]
		     : mdir_rec_add(st, name, rec.name_len, rec.base_len,
				    rec.in_new);
	if (idx >= 0)
		mdir_rec_set_name(st, d, name, rec.name_len, rec.in_new);
	rec.name_off = d->name_off;
	rec.dirty = d->dirty;
	*d = rec;
}

/* Redoes a STORE on the records in its ranges. A name that would grow
 * past 255 bytes was never renamed to (rename(2) refuses it): skipped.
 * The old names stay behind in st->names: trimmed once they outweigh the
 * live ones, so memory stays within a multiple of the log's size. */
static void apply_flags(struct mdir_state *st, const struct lrec *r)
{
	struct mdir_flag_op op = flag_op_decode(r);
	struct str name;
	uint32_t lo, hi, f, k;

	str_init(&name, 256);
	for (size_t off = FLAGS_HDR; off < r->len; off += 8) {
		memcpy(&lo, r->body + off, 4);
		memcpy(&hi, r->body + off + 4, 4);
		for (size_t i = lower_bound(st, lo);
		     i < st->count && st->recs[i].m.uid <= hi; i++) {
			struct mdir_rec *rec = &st->recs[i];
			const char *old = mdir_rec_name(st, rec);

			if (!mdir_op_flags(&op, rec, &f, &k))
				continue;
			mdir_name_build(&name, old, rec->base_len, f, k, old,
					rec->name_len);
			if (name.len > 255)
				continue;
			mdir_rec_set_flags(st, rec, f, k, op.modseq, &name);
		}
	}
	str_deinit(&name);
	mdir_names_trim(st);
}

static void apply_cache(struct mdir_state *st, const struct lrec *r)
{
	struct mdir_pending c;
	long idx;

	memcpy(&c.uid, r->body, 4);
	memcpy(&c.bytes, r->body + 4, 4);
	memcpy(&c.off, r->body + 8, 8);
	if ((idx = mdir_rec_find(st, c.uid)) >= 0) {
		st->recs[idx].cache_off = c.off;
		st->recs[idx].cache_bytes = c.bytes;
	}
}

/* One pass over the records (the uids sorted first), one compaction. */
static void apply_expunges(struct mdir_state *st, const struct lrec *r)
{
	size_t n = r->len / 4, k = 0;
	uint32_t *uids = mem_alloc(size_mul(n + 1, 4));
	bool any = false;

	memcpy(uids, r->body, n * 4);
	qsort(uids, n, 4, u32_cmp);
	for (size_t i = 0; i < st->count && k < n; i++) {
		while (k < n && uids[k] < st->recs[i].m.uid)
			k++;
		if (k < n && uids[k] == st->recs[i].m.uid) {
			st->recs[i].m.uid = 0;
			any = true;
		}
	}
	if (any)
		mdir_state_compact(st);
	mem_free(uids);
}

/* Pass two, on a group that passed pass one. Expunges go last: a uid 0
 * in the array would break the lookups of the other records. */
static void group_apply(struct mdir_state *st, const unsigned char *p,
			size_t len)
{
	struct log_hdr h;
	struct lrec r, ex = {0};
	size_t pos = 0;

	(void)next_rec(p, len, &pos, &r);
	hdr_decode(r.body, &h);
	st->uidnext = h.uidnext;
	st->first_recent_uid = h.first_recent_uid;
	st->highestmodseq = h.highestmodseq;
	st->cache_id = h.cache_id;
	st->new_mtime = h.new_mtime;
	st->cur_mtime = h.cur_mtime;
	while (next_rec(p, len, &pos, &r) > 0) {
		if (r.type == T_KEYWORD)
			st->keywords[st->keyword_count++] =
			    mem_strndup((const char *)r.body + 4, r.len - 4);
		else if (r.type == T_REC)
			apply_rec(st, &r);
		else if (r.type == T_FLAGS)
			apply_flags(st, &r);
		else if (r.type == T_CACHE)
			apply_cache(st, &r);
		else if (r.type == T_EXPUNGE && ex.len == 0)
			ex = r;
		else if (r.type == T_EXPUNGE)
			apply_expunges(st, &r);
	}
	if (ex.len > 0)
		apply_expunges(st, &ex);
	st->disk_uidnext = st->uidnext;
	st->disk_keyword_count = st->keyword_count;
}

/* The group at pos passes its frame checks: its payload length, or 0. */
static size_t frame_ok(const unsigned char *p, size_t len, size_t pos,
		       uint64_t log_id, uint64_t off)
{
	uint32_t magic, plen;
	uint64_t sum;

	if (len - pos < GROUP_HDR)
		return 0;
	memcpy(&magic, p + pos, 4);
	memcpy(&plen, p + pos + 4, 4);
	memcpy(&sum, p + pos + 8, 8);
	if (magic != GROUP_MAGIC || plen == 0 || plen > MDIR_LOG_GROUP_MAX ||
	    ((size_t)plen + GROUP_HDR + 7) / 8 * 8 > len - pos)
		return 0;
	if (group_sum(p + pos + GROUP_HDR, plen, log_id, off + pos) != sum)
		return 0;
	return plen;
}

/* After a bad group: any good group from pos on makes the log corrupt
 * (not just torn), and its header counts for what was lost. */
static void scan_rest(const unsigned char *p, size_t len, size_t pos,
		      uint64_t log_id, uint64_t off,
		      struct mdir_log_replay *res)
{
	for (; pos < len; pos += 8) {
		size_t plen = frame_ok(p, len, pos, log_id, off);
		struct log_hdr h;
		struct lrec r;
		size_t rp = 0;

		if (plen == 0)
			continue;
		res->status = MDIR_LOG_CORRUPT;
		if (next_rec(p + pos + GROUP_HDR, plen, &rp, &r) > 0 &&
		    r.type == T_HEADER && r.len == HEADER_SIZE) {
			hdr_decode(r.body, &h);
			if (h.uidnext > res->lost_uidnext)
				res->lost_uidnext = h.uidnext;
			if (h.highestmodseq > res->lost_modseq)
				res->lost_modseq = h.highestmodseq;
		}
		pos += (plen + GROUP_HDR + 7) / 8 * 8 - 8;
	}
}

void mdir_log_replay(struct mdir_state *st, uint64_t log_id, const void *data,
		     size_t len, uint64_t off, struct mdir_log_replay *res)
{
	const unsigned char *p = data;
	size_t pos = 0, plen;

	memset(res, 0, sizeof(*res));
	res->end = off;
	res->status = MDIR_LOG_OK;
	while (pos < len) {
		plen = frame_ok(p, len, pos, log_id, off);
		if (plen == 0) {
			res->status = MDIR_LOG_TORN;
			scan_rest(p, len, pos + 8, log_id, off, res);
			return;
		}
		res->why = group_check(st, p + pos + GROUP_HDR, plen);
		if (res->why != NULL) {
			/* written whole, yet wrong: not a torn write */
			res->status = MDIR_LOG_CORRUPT;
			scan_rest(p, len, pos, log_id, off, res);
			return;
		}
		group_apply(st, p + pos + GROUP_HDR, plen);
		pos += (plen + GROUP_HDR + 7) / 8 * 8;
		res->end = off + pos;
		res->groups++;
	}
}
