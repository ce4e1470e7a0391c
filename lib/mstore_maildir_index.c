/* mstore_maildir_index.c: the per-mailbox index of the Maildir++ store in
 * memory (struct mdir_state: what changed since the last commit is noted
 * for the change log), the format of its base file (postern-index) and the
 * small postern-meta file. The log (postern-index.log) is in
 * mstore_maildir_log.c, the file I/O of both in mstore_maildir_commit.c.
 *
 * The base is binary in host byte order (a byte-order mark makes a file
 * from another architecture count as corrupt) and is checked completely
 * on load: sizes, a checksum over everything, ascending UIDs below UIDNEXT,
 * names inside the name table. Anything wrong means "rebuild", never a
 * crash. Layout: header (with the id of the log that continues it),
 * keyword names (length-prefixed), the name table size, fixed-size message
 * records, the name table, the checksum. Version 1 (no log id) still
 * loads; the first change then writes version 2. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "msg.h"
#include "mstore_internal.h"

#define INDEX_MAGIC "PSTIDX01"
#define INDEX_BOM 0x01020304u
#define INDEX_VERSION 2u
#define META_MAX 65536

void mdir_state_clear(struct mdir_state *st)
{
	for (size_t i = 0; i < st->keyword_count; i++)
		mem_free(st->keywords[i]);
	mem_free(st->recs);
	str_deinit(&st->names);
	mstore_uids_deinit(&st->dirty);
	mstore_uids_deinit(&st->expunged);
	mstore_uids_deinit(&st->op.uids);
	memset(st, 0, sizeof(*st));
}

void mdir_state_committed(struct mdir_state *st)
{
	for (size_t i = 0; i < st->dirty.count; i++) {
		long idx = mdir_rec_find(st, st->dirty.v[i]);

		if (idx >= 0)
			st->recs[idx].dirty = 0;
	}
	st->dirty.count = 0;
	st->expunged.count = 0;
	st->op.uids.count = 0;
	st->disk_uidnext = st->uidnext;
	st->disk_keyword_count = st->keyword_count;
}

bool mdir_state_changed(const struct mdir_state *st)
{
	return st->dirty.count > 0 || st->expunged.count > 0 ||
	       st->op.uids.count > 0 || st->disk_uidnext != st->uidnext ||
	       st->disk_keyword_count != st->keyword_count;
}

const char *mdir_rec_name(const struct mdir_state *st, const struct mdir_rec *r)
{
	return st->names.data + r->name_off;
}

long mdir_rec_find(const struct mdir_state *st, uint32_t uid)
{
	size_t lo = 0, hi = st->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->recs[mid].m.uid == uid)
			return (long)mid;
		if (st->recs[mid].m.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static uint32_t names_add(struct mdir_state *st, const char *name, size_t len)
{
	size_t off = st->names.len;

	str_append(&st->names, name, len);
	str_putc(&st->names, '\0');
	return (uint32_t)off;
}

struct mdir_rec *mdir_rec_add(struct mdir_state *st, const char *name,
			      size_t len, size_t base_len, bool in_new)
{
	struct mdir_rec *r;

	if (st->count == st->cap) {
		st->cap = st->cap < 64 ? 64 : size_mul(st->cap, 2);
		st->recs =
		    mem_realloc(st->recs, size_mul(st->cap, sizeof(*st->recs)));
	}
	r = &st->recs[st->count++];
	memset(r, 0, sizeof(*r));
	r->name_off = names_add(st, name, len);
	r->name_len = (uint16_t)len;
	r->base_len = (uint16_t)base_len;
	r->in_new = in_new;
	return r;
}

void mdir_rec_dirty(struct mdir_state *st, struct mdir_rec *r)
{
	/* new records go to the log anyway, by their uid */
	if (r->dirty || r->m.uid == 0 || r->m.uid >= st->disk_uidnext)
		return;
	r->dirty = 1;
	mstore_uids_push(&st->dirty, r->m.uid);
}

void mdir_rec_set_name(struct mdir_state *st, struct mdir_rec *r,
		       const char *name, size_t len, bool in_new)
{
	st->names_dead += (size_t)r->name_len + 1;
	r->name_off = names_add(st, name, len);
	r->name_len = (uint16_t)len;
	r->in_new = in_new;
}

void mdir_rec_rename(struct mdir_state *st, struct mdir_rec *r,
		     const char *name, size_t len, bool in_new)
{
	mdir_rec_set_name(st, r, name, len, in_new);
	mdir_rec_dirty(st, r);
}

bool mdir_op_flags(const struct mdir_flag_op *op, const struct mdir_rec *r,
		   uint32_t *flags_r, uint32_t *keywords_r)
{
	uint32_t f = op->flags, k = op->keywords;

	if (op->mode == MSTORE_FLAGS_ADD)
		f |= r->m.flags, k |= r->m.keywords;
	else if (op->mode == MSTORE_FLAGS_REMOVE)
		f = r->m.flags & ~f, k = r->m.keywords & ~k;
	*flags_r = f;
	*keywords_r = k;
	return f != r->m.flags || k != r->m.keywords;
}

void mdir_rec_set_flags(struct mdir_state *st, struct mdir_rec *r,
			uint32_t flags, uint32_t keywords, uint64_t modseq,
			struct str *name_buf)
{
	const char *name = mdir_rec_name(st, r);

	mdir_name_build(name_buf, name, r->base_len, flags, keywords, name,
			r->name_len);
	mdir_rec_set_name(st, r, name_buf->data, name_buf->len, false);
	r->m.flags = flags;
	r->m.keywords = keywords;
	r->m.modseq = modseq;
}

void mdir_names_trim(struct mdir_state *st)
{
	if (st->names_dead > st->names.len / 2 + 32768)
		mdir_state_compact(st);
}

void mdir_rec_expunge(struct mdir_state *st, struct mdir_rec *r)
{
	if (r->m.uid != 0 && r->m.uid < st->disk_uidnext)
		mstore_uids_push(&st->expunged, r->m.uid);
	r->m.uid = 0;
}

void mdir_state_compact(struct mdir_state *st)
{
	struct str names;
	size_t j = 0;

	str_init(&names, st->names.len + 1);
	for (size_t i = 0; i < st->count; i++) {
		struct mdir_rec r = st->recs[i];

		if (r.m.uid == 0)
			continue;
		size_t off = names.len;
		str_append(&names, st->names.data + r.name_off, r.name_len);
		str_putc(&names, '\0');
		r.name_off = (uint32_t)off;
		st->recs[j++] = r;
	}
	st->count = j;
	str_deinit(&st->names);
	st->names = names;
	st->names_dead = 0;
}

/* A checksum for corruption, not for adversaries: 8 bytes per step. */
uint64_t mdir_index_checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h = (h << 31) | (h >> 33);
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

#define PUT(buf, v)                                                            \
	do {                                                                   \
		__typeof__(v) put_v_ = (v);                                    \
		str_append((buf), &put_v_, sizeof(put_v_));                    \
	} while (0)

void mdir_rec_encode(struct str *b, const struct mdir_rec *r)
{
	static const char pad[3];

	PUT(b, r->m.uid);
	PUT(b, r->m.flags);
	PUT(b, r->m.keywords);
	PUT(b, r->name_off);
	PUT(b, r->name_len);
	PUT(b, r->base_len);
	PUT(b, r->in_new);
	str_append(b, pad, sizeof(pad));
	PUT(b, r->cache_bytes);
	PUT(b, r->m.modseq);
	PUT(b, r->m.size);
	PUT(b, r->cache_off);
	PUT(b, r->m.internaldate);
	str_append(b, r->m.emailid, sizeof(r->m.emailid));
}

void mdir_index_serialize(const struct mdir_state *st, struct str *b)
{
	uint64_t sum;

	str_append(b, INDEX_MAGIC, 8);
	PUT(b, (uint32_t)INDEX_BOM);
	PUT(b, (uint32_t)INDEX_VERSION);
	PUT(b, st->uidvalidity);
	PUT(b, st->uidnext);
	PUT(b, st->first_recent_uid);
	PUT(b, (uint32_t)st->count);
	PUT(b, st->highestmodseq);
	PUT(b, st->cache_id);
	PUT(b, st->new_mtime.sec);
	PUT(b, st->new_mtime.nsec);
	PUT(b, st->cur_mtime.sec);
	PUT(b, st->cur_mtime.nsec);
	str_append(b, st->mailboxid, sizeof(st->mailboxid));
	PUT(b, st->log_id);
	PUT(b, (uint32_t)st->keyword_count);
	for (size_t i = 0; i < st->keyword_count; i++) {
		size_t len = strlen(st->keywords[i]);

		PUT(b, (uint8_t)len);
		str_append(b, st->keywords[i], len);
	}
	PUT(b, (uint32_t)st->names.len);
	for (size_t i = 0; i < st->count; i++)
		mdir_rec_encode(b, &st->recs[i]);
	str_append(b, st->names.data, st->names.len);
	sum = mdir_index_checksum(b->data, b->len);
	PUT(b, sum);
}

/* A bounds-checked reader over the file image. */
struct cursor {
	const unsigned char *p;
	size_t len, pos;
	bool bad;
};

static void get(struct cursor *c, void *out, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p + c->pos, n);
	c->pos += n;
}

#define GET(c, v) get((c), &(v), sizeof(v))

static bool id_valid(const char *id, size_t size)
{
	size_t len = strnlen(id, size);

	if (len == 0 || len == size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static const char *get_keywords(struct cursor *c, struct mdir_state *st)
{
	uint32_t n;

	GET(c, n);
	if (n > MSTORE_KEYWORD_MAX)
		return "too many keywords";
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		uint8_t len;
		char name[256];

		GET(c, len);
		get(c, name, len);
		name[len] = '\0';
		if (c->bad || strlen(name) != len ||
		    !mstore_keyword_valid(name))
			return "bad keyword";
		st->keywords[st->keyword_count++] = mem_strdup(name);
	}
	return NULL;
}

static const char *get_header(struct cursor *c, struct mdir_state *st,
			      uint32_t *count_r)
{
	char magic[8];
	uint32_t bom, version;

	get(c, magic, 8);
	GET(c, bom);
	GET(c, version);
	if (c->bad || memcmp(magic, INDEX_MAGIC, 8) != 0 || bom != INDEX_BOM ||
	    version == 0 || version > INDEX_VERSION)
		return "not an index file of this version";
	GET(c, st->uidvalidity);
	GET(c, st->uidnext);
	GET(c, st->first_recent_uid);
	GET(c, *count_r);
	GET(c, st->highestmodseq);
	GET(c, st->cache_id);
	GET(c, st->new_mtime.sec);
	GET(c, st->new_mtime.nsec);
	GET(c, st->cur_mtime.sec);
	GET(c, st->cur_mtime.nsec);
	get(c, st->mailboxid, sizeof(st->mailboxid));
	if (version >= 2)
		GET(c, st->log_id);
	if (c->bad)
		return "truncated";
	if (st->uidvalidity == 0 || st->uidnext == 0 ||
	    st->first_recent_uid > st->uidnext ||
	    *count_r > MDIR_MAX_MESSAGES || *count_r >= st->uidnext ||
	    !id_valid(st->mailboxid, 40))
		return "bad header";
	return get_keywords(c, st);
}

const char *mdir_rec_check(const struct mdir_rec *r, uint32_t uidnext,
			   uint64_t highestmodseq, size_t keyword_count,
			   const unsigned char *name)
{
	if (r->m.uid == 0 || r->m.uid >= uidnext)
		return "UID out of range";
	if (r->m.modseq > highestmodseq ||
	    (r->m.flags & ~MSTORE_F_STORED_MASK) != 0 || r->in_new > 1 ||
	    (keyword_count < 32 && (r->m.keywords >> keyword_count) != 0))
		return "bad message record";
	/* a name starting with '.' could be "..": never a message */
	if (r->name_len == 0 || r->name_len > 255 || r->base_len == 0 ||
	    r->base_len > r->name_len || name[0] == '.' ||
	    memchr(name, '/', r->name_len) != NULL ||
	    memchr(name, '\0', r->name_len) != NULL)
		return "bad file name";
	if (r->m.emailid[0] == '\0' ||
	    memchr(r->m.emailid, '\0', sizeof(r->m.emailid)) == NULL)
		return "bad EMAILID";
	return NULL;
}

void mdir_rec_decode(const unsigned char *p, struct mdir_rec *r)
{
	memcpy(&r->m.uid, p, 4);
	memcpy(&r->m.flags, p + 4, 4);
	memcpy(&r->m.keywords, p + 8, 4);
	memcpy(&r->name_off, p + 12, 4);
	memcpy(&r->name_len, p + 16, 2);
	memcpy(&r->base_len, p + 18, 2);
	r->in_new = p[20];
	memcpy(&r->cache_bytes, p + 24, 4);
	memcpy(&r->m.modseq, p + 28, 8);
	memcpy(&r->m.size, p + 36, 8);
	memcpy(&r->cache_off, p + 44, 8);
	memcpy(&r->m.internaldate, p + 52, 8);
	memcpy(r->m.emailid, p + 60, sizeof(r->m.emailid));
	r->dirty = 0;
}

/* The records: one bounds check for all (the caller's size check), this
 * loop is most of an open. */
static const char *get_recs(struct cursor *c, struct mdir_state *st,
			    uint32_t count, uint32_t names_len)
{
	const unsigned char *names =
	    c->p + c->pos + (size_t)count * MDIR_REC_SIZE;
	uint32_t prev = 0;
	const char *why;

	st->cap = count > 0 ? count : 1;
	st->recs = mem_calloc(st->cap, sizeof(*st->recs));
	for (uint32_t i = 0; i < count; i++) {
		struct mdir_rec *r = &st->recs[i];

		mdir_rec_decode(c->p + c->pos, r);
		c->pos += MDIR_REC_SIZE;
		if (r->m.uid <= prev)
			return "UIDs out of order";
		if ((size_t)r->name_off + r->name_len >= names_len ||
		    names[r->name_off + r->name_len] != '\0')
			return "bad file name";
		why = mdir_rec_check(r, st->uidnext, st->highestmodseq,
				     st->keyword_count, names + r->name_off);
		if (why != NULL)
			return why;
		prev = r->m.uid;
		st->count++;
	}
	str_init(&st->names, names_len + 1);
	str_append(&st->names, names, names_len);
	return NULL;
}

const char *mdir_index_parse(const void *data, size_t len,
			     struct mdir_state *st)
{
	const unsigned char *p = data;
	struct cursor c = {.p = p, .len = len};
	uint32_t count, names_len;
	uint64_t sum;
	const char *why;

	if (len < 8 + 8)
		return "truncated";
	memcpy(&sum, p + len - 8, 8);
	if ((why = get_header(&c, st, &count)) != NULL)
		return why;
	GET(&c, names_len);
	if (c.bad ||
	    c.len - c.pos != (size_t)count * MDIR_REC_SIZE + names_len + 8)
		return "size does not match";
	if (mdir_index_checksum(p, len - 8) != sum)
		return "checksum mismatch";
	if ((why = get_recs(&c, st, count, names_len)) != NULL)
		return why;
	st->disk_uidnext = st->uidnext;
	st->disk_keyword_count = st->keyword_count;
	return NULL;
}

static void meta_line(struct mdir_state *st, const char *line, size_t len,
		      bool *kw_seen)
{
	char buf[256];

	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (strncmp(buf, "mailboxid ", 10) == 0 && id_valid(buf + 10, 40)) {
		memset(st->mailboxid, 0, sizeof(st->mailboxid));
		memcpy(st->mailboxid, buf + 10, strlen(buf + 10));
	} else if (strncmp(buf, "keyword ", 8) == 0 &&
		   mstore_keyword_valid(buf + 8) &&
		   st->keyword_count < MSTORE_KEYWORD_MAX) {
		for (size_t i = 0; i < st->keyword_count; i++)
			if (strcasecmp(st->keywords[i], buf + 8) == 0)
				return;
		st->keywords[st->keyword_count++] = mem_strdup(buf + 8);
		*kw_seen = true;
	}
}

void mdir_meta_read(struct mdir_mailbox *mb)
{
	struct str path, buf;
	const char *err;
	bool kw = false;

	str_init(&path, 0);
	str_init(&buf, 0);
	str_printf(&path, "%s/" MDIR_META, mb->path);
	if (file_read_all(path.data, &buf, META_MAX, &err) > 0) {
		const char *p = buf.data, *end = buf.data + buf.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len =
			    nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

			meta_line(&mb->st, p, len, &kw);
			p += len + 1;
		}
	}
	str_deinit(&path);
	str_deinit(&buf);
}

int mdir_meta_write(struct mdir_mailbox *mb)
{
	struct str path, buf;
	const char *err;
	int r;

	str_init(&path, 0);
	str_init(&buf, 0);
	str_printf(&path, "%s/" MDIR_META, mb->path);
	str_printf(&buf, "mailboxid %s\n", mb->st.mailboxid);
	for (size_t i = 0; i < mb->st.keyword_count; i++)
		str_printf(&buf, "keyword %s\n", mb->st.keywords[i]);
	r = file_write_atomic(path.data, buf.data, buf.len, 0600, &err);
	if (r < 0)
		mstore_error(mb->pub.s, "%s", err);
	str_deinit(&path);
	str_deinit(&buf);
	return r;
}
