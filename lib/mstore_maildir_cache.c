/* mstore_maildir_cache.c: the per-mailbox cache of the Maildir++ store
 * (postern-cache): opaque blobs imapd keeps per (uid, field) so that
 * FETCH ENVELOPE/BODYSTRUCTURE/headers need not open the message.
 *
 * The file is a 16-byte header (magic, a random file id) and append-only
 * records (magic, uid, field, length, offset of the message's previous
 * record; the blob; padding to 8 bytes). The index keeps, per message,
 * the offset of its newest record and the bytes of its chain, and the id
 * of the cache file they point into. Appends happen under the mailbox
 * lock; the new head reaches the index (a CACHE record of the log) with
 * the handle's next commit, at the latest after PENDING_MAX puts or at
 * close. When more
 * than half of the file is dead (expunged messages, replaced blobs) it is
 * rewritten with only the live records and renamed over the old one.
 * Everything read is checked: a damaged cache means "not cached". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "mstore_internal.h"

#define CACHE_MAGIC "PSTCACH1"
#define REC_MAGIC 0x31524350u /* "PCR1" */
#define HDR_SIZE 16
#define REC_HDR 24
#define CHAIN_MAX 16
#define COMPACT_MIN (64 * 1024)
#define CACHE_FILE_MAX ((uint64_t)1 << 30)
#define PENDING_MAX 1000

struct rec_hdr {
	uint32_t magic, uid, field, len;
	uint64_t prev;
};

static size_t rec_size(uint32_t len)
{
	return (REC_HDR + (size_t)len + 7) & ~(size_t)7;
}

/* An empty buffer with room for n bytes and the NUL. */
static void buf_reserve(struct str *b, size_t n)
{
	if (b->cap < n + 1) {
		str_deinit(b);
		str_init(b, n);
	}
	str_clear(b);
}

void mdir_cache_close(struct mdir_mailbox *mb)
{
	if (mb->cache_map != NULL)
		munmap((void *)mb->cache_map, mb->cache_map_len);
	mb->cache_map = NULL;
	mb->cache_map_len = 0;
	if (mb->cache_fd >= 0)
		close(mb->cache_fd);
	mb->cache_fd = -1;
	mb->cache_file_id = 0;
}

/* Opens the cache file whose id the index names; 1, 0 none/other. */
static int cache_open(struct mdir_mailbox *mb)
{
	char hdr[HDR_SIZE];
	uint64_t id;
	int fd;

	if (mb->st.cache_id == 0)
		return 0;
	if (mb->cache_fd >= 0 && mb->cache_file_id == mb->st.cache_id)
		return 1;
	mdir_cache_close(mb);
	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/" MDIR_CACHE, mb->path);
	fd = open(mb->path_buf.data, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (pread(fd, hdr, HDR_SIZE, 0) != HDR_SIZE ||
	    memcmp(hdr, CACHE_MAGIC, 8) != 0) {
		close(fd);
		return 0;
	}
	memcpy(&id, hdr + 8, 8);
	if (id != mb->st.cache_id) {
		close(fd);
		return 0;
	}
	mb->cache_fd = fd;
	mb->cache_file_id = id;
	return 1;
}

/* Reads and checks the record header at off. */
static bool hdr_read(int fd, uint64_t off, uint64_t size, uint32_t uid,
		     struct rec_hdr *h)
{
	if (off < HDR_SIZE || off % 8 != 0 || off + REC_HDR > size ||
	    pread(fd, h, REC_HDR, (off_t)off) != REC_HDR)
		return false;
	return h->magic == REC_MAGIC && h->uid == uid &&
	       h->field < MSTORE_CACHE_FIELD_COUNT &&
	       h->len <= MSTORE_CACHE_BLOB_MAX &&
	       off + REC_HDR + h->len <= size && h->prev < off;
}

/* Maps the cache file far enough to read up to need bytes; false when
 * the file is shorter or cannot be mapped. */
static bool map_cover(struct mdir_mailbox *mb, uint64_t need)
{
	struct stat st;
	void *p;

	if (need <= mb->cache_map_len)
		return true;
	if (fstat(mb->cache_fd, &st) < 0 || (uint64_t)st.st_size < need ||
	    (uint64_t)st.st_size > CACHE_FILE_MAX)
		return false;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, mb->cache_fd,
		 0);
	if (p == MAP_FAILED)
		return false;
	if (mb->cache_map != NULL)
		munmap((void *)mb->cache_map, mb->cache_map_len);
	mb->cache_map = p;
	mb->cache_map_len = (size_t)st.st_size;
	return true;
}

int mdir_cache_get(struct mstore_mailbox *pub, uint32_t uid,
		   enum mstore_cache_field f, const char **data_r,
		   size_t *len_r)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	long idx = mdir_rec_find(&mb->st, uid);
	struct rec_hdr h;
	uint64_t off;

	if (idx < 0 || (off = mb->st.recs[idx].cache_off) == 0 ||
	    cache_open(mb) <= 0)
		return 0;
	for (int hops = 0; off != 0 && hops < CHAIN_MAX; hops++) {
		if (off < HDR_SIZE || off % 8 != 0 || !map_cover(mb, off + REC_HDR))
			return 0;
		memcpy(&h, mb->cache_map + off, REC_HDR);
		if (h.magic != REC_MAGIC || h.uid != uid ||
		    h.field >= MSTORE_CACHE_FIELD_COUNT ||
		    h.len > MSTORE_CACHE_BLOB_MAX || h.prev >= off ||
		    !map_cover(mb, off + REC_HDR + h.len))
			return 0;
		if (h.field == (uint32_t)f) {
			*data_r = (const char *)mb->cache_map + off + REC_HDR;
			*len_r = h.len;
			return 1;
		}
		off = h.prev;
	}
	return 0;
}

/* A fresh cache file with a new id (under the lock). */
static int cache_create(struct mdir_mailbox *mb, const char *path)
{
	char hdr[HDR_SIZE], hex[17];
	uint64_t id = 0;
	int fd;

	while (id == 0) {
		mdir_random_hex(hex, 16);
		for (int i = 0; i < 16; i++)
			id = id * 16 + (uint64_t)(hex[i] <= '9'
						      ? hex[i] - '0'
						      : hex[i] - 'a' + 10);
	}
	memcpy(hdr, CACHE_MAGIC, 8);
	memcpy(hdr + 8, &id, 8);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -1;
	if (pwrite(fd, hdr, HDR_SIZE, 0) != HDR_SIZE) {
		close(fd);
		return -1;
	}
	mdir_cache_close(mb);
	mb->cache_fd = fd;
	mb->cache_file_id = id;
	return 1;
}

/* Starts a new cache file: every head in the index pointed into the old
 * one, so they all go (a new base); written now so that other processes
 * do not start yet another. */
static int cache_start(struct mdir_mailbox *mb)
{
	struct str tmp;
	int r;

	/* A new inode, renamed into place: other processes may have the
	 * old file mapped, which must never shrink under them. */
	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/" MDIR_CACHE, mb->path);
	str_init(&tmp, 0);
	str_printf(&tmp, "%s.new.%ld", mb->path_buf.data, (long)getpid());
	r = cache_create(mb, tmp.data);
	if (r >= 0 && rename(tmp.data, mb->path_buf.data) < 0) {
		(void)unlink(tmp.data);
		mdir_cache_close(mb);
		r = -1;
	}
	str_deinit(&tmp);
	if (r < 0)
		return -1;
	mb->st.cache_id = mb->cache_file_id;
	for (size_t i = 0; i < mb->st.count; i++) {
		mb->st.recs[i].cache_off = 0;
		mb->st.recs[i].cache_bytes = 0;
	}
	mb->pending_count = 0;
	mb->index_dirty = true;
	mb->need_base = true;
	return mdir_index_commit(mb);
}

static int append_rec(int fd, uint64_t off, const struct rec_hdr *h,
		      const void *data)
{
	struct str buf;
	int r;

	str_init(&buf, rec_size(h->len));
	str_append(&buf, h, REC_HDR);
	str_append(&buf, data, h->len);
	while (buf.len % 8 != 0)
		str_putc(&buf, '\0');
	r = pwrite(fd, buf.data, buf.len, (off_t)off) == (ssize_t)buf.len ? 1
									  : -1;
	str_deinit(&buf);
	return r;
}

static void pending_add(struct mdir_mailbox *mb, uint32_t uid, uint64_t off,
			uint32_t bytes)
{
	if (mb->pending_count == mb->pending_cap) {
		mb->pending_cap =
		    mb->pending_cap == 0 ? 16 : mb->pending_cap * 2;
		mb->pending =
		    mem_realloc(mb->pending, size_mul(mb->pending_cap,
						      sizeof(*mb->pending)));
	}
	mb->pending[mb->pending_count++] =
	    (struct mdir_pending){uid, bytes, off};
}

static int put_locked(struct mdir_mailbox *mb, uint32_t uid,
		      enum mstore_cache_field f, const void *data, size_t len)
{
	uint32_t old_uidv = 0;
	bool corrupt;
	struct rec_hdr h;
	struct stat st;
	struct mdir_rec *r;
	uint64_t off;
	long idx;

	/* the file may have been compacted: follow the current index */
	if (mdir_index_refresh(mb, &old_uidv, &corrupt) <= 0)
		return -1;
	if (cache_open(mb) <= 0 && cache_start(mb) < 0)
		return -1;
	idx = mdir_rec_find(&mb->st, uid);
	if (idx < 0 || fstat(mb->cache_fd, &st) < 0 ||
	    (uint64_t)st.st_size > CACHE_FILE_MAX)
		return -1;
	r = &mb->st.recs[idx];
	off = ((uint64_t)st.st_size + 7) & ~(uint64_t)7;
	h = (struct rec_hdr){REC_MAGIC, uid, (uint32_t)f, (uint32_t)len,
			     r->cache_off};
	if (append_rec(mb->cache_fd, off, &h, data) < 0)
		return -1;
	r->cache_off = off;
	r->cache_bytes += (uint32_t)rec_size((uint32_t)len);
	pending_add(mb, uid, off, r->cache_bytes);
	if (mb->pending_count >= PENDING_MAX)
		return mdir_index_commit(mb);
	return 1;
}

int mdir_cache_put(struct mstore_mailbox *pub, uint32_t uid,
		   enum mstore_cache_field f, const void *data, size_t len)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	int r;

	if (mdir_rec_find(&mb->st, uid) < 0 || mdir_lock(mb) < 0)
		return -1;
	r = put_locked(mb, uid, f, data, len);
	mdir_unlock(mb);
	return r;
}

void mdir_cache_apply_pending(struct mdir_mailbox *mb)
{
	if (mb->st.cache_id != mb->cache_file_id) {
		mb->pending_count = 0; /* the file they point into is gone */
		return;
	}
	for (size_t i = 0; i < mb->pending_count; i++) {
		long idx = mdir_rec_find(&mb->st, mb->pending[i].uid);

		if (idx >= 0) {
			mb->st.recs[idx].cache_off = mb->pending[i].off;
			mb->st.recs[idx].cache_bytes = mb->pending[i].bytes;
		}
	}
}

/* Copies the newest record of each field of r into fd at *end. */
static int compact_rec(struct mdir_mailbox *mb, int fd, uint64_t size,
		       struct mdir_rec *r, uint64_t *end, struct str *blob)
{
	bool seen[MSTORE_CACHE_FIELD_COUNT] = {false};
	uint64_t off = r->cache_off, head = 0;
	uint32_t bytes = 0;
	struct rec_hdr h;

	for (int hops = 0; off != 0 && hops < CHAIN_MAX; hops++) {
		if (!hdr_read(mb->cache_fd, off, size, r->m.uid, &h))
			break;
		uint64_t prev = h.prev;
		if (!seen[h.field]) {
			seen[h.field] = true;
			buf_reserve(blob, h.len);
			if (pread(mb->cache_fd, blob->data, h.len,
				  (off_t)(off + REC_HDR)) != (ssize_t)h.len)
				break;
			h.prev = head;
			if (append_rec(fd, *end, &h, blob->data) < 0)
				return -1;
			head = *end;
			bytes += (uint32_t)rec_size(h.len);
			*end += rec_size(h.len);
		}
		off = prev;
	}
	r->cache_off = head;
	r->cache_bytes = bytes;
	return 1;
}

bool mdir_cache_maybe_compact(struct mdir_mailbox *mb)
{
	struct str tmp, path, blob;
	struct mdir_rec *old;
	uint64_t live = 0, end = HDR_SIZE;
	struct stat st;
	int old_fd, r = 1;

	if (cache_open(mb) <= 0 || fstat(mb->cache_fd, &st) < 0 ||
	    st.st_size < COMPACT_MIN)
		return false;
	for (size_t i = 0; i < mb->st.count; i++)
		live += mb->st.recs[i].cache_bytes;
	if ((uint64_t)st.st_size - HDR_SIZE <= 2 * live)
		return false;
	str_init(&tmp, 0);
	str_init(&path, 0);
	str_init(&blob, 0);
	str_printf(&tmp, "%s/" MDIR_CACHE ".tmp", mb->path);
	str_printf(&path, "%s/" MDIR_CACHE, mb->path);
	old_fd = mb->cache_fd;
	old = mem_alloc(size_mul(mb->st.count + 1, sizeof(*old)));
	memcpy(old, mb->st.recs, mb->st.count * sizeof(*old));
	mb->cache_fd = -1; /* cache_create must not close the old one */
	if (cache_create(mb, tmp.data) < 0)
		r = -1;
	for (size_t i = 0; r > 0 && i < mb->st.count; i++) {
		int new_fd = mb->cache_fd;

		if (mb->st.recs[i].cache_off == 0)
			continue;
		mb->cache_fd = old_fd;
		r = compact_rec(mb, new_fd, (uint64_t)st.st_size,
				&mb->st.recs[i], &end, &blob);
		mb->cache_fd = new_fd;
	}
	if (r > 0 && rename(tmp.data, path.data) < 0)
		r = -1;
	if (r > 0) {
		close(old_fd);
		mb->st.cache_id = mb->cache_file_id;
		mb->pending_count = 0;
	} else {
		/* keep the old file and heads */
		(void)unlink(tmp.data);
		if (mb->cache_fd >= 0)
			close(mb->cache_fd);
		mb->cache_fd = old_fd;
		mb->cache_file_id = mb->st.cache_id;
		memcpy(mb->st.recs, old, mb->st.count * sizeof(*old));
	}
	mem_free(old);
	str_deinit(&tmp);
	str_deinit(&path);
	str_deinit(&blob);
	return r > 0;
}
