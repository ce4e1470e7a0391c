/* mstore_maildir_mailbox.c: an open Maildir++ mailbox: open, sync into the
 * view, keywords, reading a message, STORE (flags live in the file names'
 * ":2," info and in the index), EXPUNGE and the inotify descriptor. Every
 * change is made under the mailbox lock on an index brought up to date and
 * committed (one log group) before the lock goes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "mstore_internal.h"

int mdir_mailbox_open_mode(struct mstore *s, const char *name,
			   enum mdir_mode mode, struct mdir_mailbox **mb_r)
{
	struct mdir_mailbox *mb;
	char *path, *root;
	int r = mdir_name_path(s, name, &path, &root);

	if (r <= 0)
		return r;
	/* the root (INBOX) exists since mstore_open and may be a symlink;
	 * a folder below it must be a real directory */
	if (strcmp(name, "INBOX") != 0 && !mdir_is_maildir(path)) {
		mem_free(path);
		mem_free(root);
		return 0;
	}
	mb = mem_alloc(sizeof(*mb));
	mb->pub.s = s;
	mb->pub.readonly = mode == MDIR_READONLY;
	mb->path = path;
	mb->root = root;
	mb->mode = mode;
	mb->lock_fd = mb->index_fd = mb->log_fd = mb->cache_fd = -1;
	mb->notify_fd = mb->notify_log_wd = -1;
	str_init(&mb->path_buf, 256);
	str_init(&mb->cache_buf, 0);
	mb->cache_map = NULL;
	mb->commit_lazy = false;
	mb->cache_map_len = 0;
	str_init(&mb->st.names, 0);
	s->mailboxes_open++;
	if (mdir_refresh(mb, MDIR_R_CLAIM) < 0) {
		mdir_mailbox_close(&mb->pub);
		return -1;
	}
	if (mode != MDIR_QUIET)
		mdir_view_build(mb);
	*mb_r = mb;
	return 1;
}

void mdir_mailbox_close(struct mstore_mailbox *pub)
{
	struct mdir_mailbox *mb = mdir_mb(pub);

	/* cache puts not in the index yet: best effort */
	if (mb->pending_count > 0)
		(void)mdir_refresh(mb, 0);
	mdir_cache_close(mb);
	for (size_t i = 0; i < pub->keyword_count; i++)
		mem_free(pub->keywords[i]);
	mem_free(pub->msgs);
	mdir_state_clear(&mb->st);
	mstore_uids_deinit(&mb->claimed);
	mem_free(mb->pending);
	if (mb->lock_fd >= 0)
		close(mb->lock_fd);
	mdir_index_close(mb);
	if (mb->notify_fd >= 0)
		close(mb->notify_fd);
	str_deinit(&mb->path_buf);
	str_deinit(&mb->cache_buf);
	mem_free(mb->path);
	mem_free(mb->root);
	pub->s->mailboxes_open--;
	mem_free(mb);
}

int mdir_mailbox_sync(struct mstore_mailbox *pub)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	uint32_t uidv = pub->status.uidvalidity;

	if (mdir_refresh(mb, MDIR_R_CLAIM) < 0)
		return -1;
	mdir_view_build(mb);
	if (uidv != mb->st.uidvalidity)
		return mstore_error(pub->s,
				    "%s: index was rebuilt, UIDVALIDITY "
				    "changed",
				    mb->path);
	return 1;
}

int mdir_keyword_resolve(struct mdir_mailbox *mb, const char *name)
{
	struct mdir_state *st = &mb->st;
	int idx = -1;

	if (mdir_lock(mb) < 0)
		return -1;
	if (mdir_refresh(mb, 0) > 0) {
		for (size_t i = 0; idx < 0 && i < st->keyword_count; i++)
			if (strcasecmp(st->keywords[i], name) == 0)
				idx = (int)i;
		if (idx < 0 && st->keyword_count < MSTORE_KEYWORD_MAX) {
			st->keywords[st->keyword_count++] = mem_strdup(name);
			idx = (int)st->keyword_count - 1;
			mb->index_dirty = true;
			/* the meta file first: a rebuilt index keeps the
			 * letters' meaning */
			if (mdir_meta_write(mb) < 0 ||
			    mdir_index_commit(mb) < 0)
				idx = -1;
		}
	}
	mdir_unlock(mb);
	return idx;
}

int mdir_keyword_add(struct mstore_mailbox *pub, const char *name)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	int idx = mdir_keyword_resolve(mb, name);

	for (size_t i = pub->keyword_count; i < mb->st.keyword_count; i++)
		pub->keywords[i] = mem_strdup(mb->st.keywords[i]);
	if (mb->st.keyword_count > pub->keyword_count)
		pub->keyword_count = mb->st.keyword_count;
	return idx;
}

static int read_file(struct mstore *s, int fd, const char *path,
		     struct str *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mstore_error_sys(s, "fstat", path);
	if ((uint64_t)st.st_size > MSTORE_MSG_MAX)
		return mstore_error(s, "%s: message too large", path);
	str_truncate(out, 0);
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mstore_error_sys(s, "read", path);
		if (n == 0)
			return 1;
		if (out->len + (size_t)n > MSTORE_MSG_MAX)
			return mstore_error(s, "%s: message too large", path);
		str_append(out, buf, (size_t)n);
	}
}

int mdir_msg_read(struct mstore_mailbox *pub, uint32_t uid, struct str *out)
{
	struct mdir_mailbox *mb = mdir_mb(pub);

	for (int attempt = 0; attempt < 3; attempt++) {
		long idx = mdir_rec_find(&mb->st, uid);
		int fd, r;

		if (idx >= 0) {
			const char *path = mdir_msg_path(mb, &mb->st.recs[idx]);

			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0) {
				r = read_file(pub->s, fd, path, out);
				close(fd);
				return r;
			}
			if (errno != ENOENT)
				return mstore_error_sys(pub->s, "open", path);
		}
		/* renamed by a flag change elsewhere (logged), by other
		 * software (read the directories), or gone */
		if (attempt < 2 &&
		    mdir_refresh(mb, attempt == 0 ? 0 : MDIR_R_SCAN) < 0)
			return -1;
	}
	return 0;
}

/* What one STORE batch needs while it renames: the change asked for (its
 * modseq once it changed a message), the cur/ directory held open
 * (renameat() then walks no path: the walks were a tenth of the kernel's
 * time), one name buffer for every message, and where the last uid was
 * found (the uids come sorted, so the next one is usually the next
 * record). */
struct store_batch {
	struct mdir_flag_op op;
	uint64_t unchangedsince;
	struct mstore_uids *failed;
	int cur_fd;
	struct str name;
	size_t next;
};

/* Renames the file to carry flags/keywords and notes the change in the
 * state's pending flag operation (logged as one record): 1, 0 file gone,
 * -1 error. */
static int rec_set_flags(struct mdir_mailbox *mb, struct store_batch *b,
			 struct mdir_rec *r, uint32_t flags, uint32_t keywords)
{
	struct mdir_state *st = &mb->st;
	const char *name = mdir_rec_name(st, r);
	int from_fd = b->cur_fd;

	mdir_name_build(&b->name, name, r->base_len, flags, keywords, name,
			r->name_len);
	if (r->in_new) {
		/* rare: a writer moves new/ to cur/ at each refresh */
		name = mdir_msg_path(mb, r);
		from_fd = AT_FDCWD;
	}
	if (renameat(from_fd, name, b->cur_fd, b->name.data) < 0)
		return errno == ENOENT ? 0
				       : mstore_error_sys(mb->pub.s, "rename",
							  mdir_msg_path(mb, r));
	if (b->op.modseq == 0)
		b->op.modseq = mdir_modseq_next(mb);
	/* the same outcome as the log's replay of the operation */
	mdir_rec_set_flags(st, r, flags, keywords, b->op.modseq, &b->name);
	/* a refresh in between (a rescan) may have committed and cleared
	 * the pending operation: it is set again every time */
	st->op.mode = b->op.mode;
	st->op.flags = b->op.flags;
	st->op.keywords = b->op.keywords;
	st->op.modseq = b->op.modseq;
	mstore_uids_push(&st->op.uids, r->m.uid);
	mb->index_dirty = true;
	return 1;
}

/* uid's record: the one after the last found when it matches, else by
 * binary search. -1 when uid is not there. */
static long batch_find(const struct mdir_state *st, struct store_batch *b,
		       uint32_t uid)
{
	long idx;

	if (b->next < st->count && st->recs[b->next].m.uid == uid)
		idx = (long)b->next;
	else
		idx = mdir_rec_find(st, uid);
	if (idx >= 0)
		b->next = (size_t)idx + 1;
	return idx;
}

/* One message of a STORE, retried once after a rescan when its file was
 * renamed meanwhile. 1 changed, 0 unchanged/failed/gone, -1 error. */
static int store_one(struct mdir_mailbox *mb, struct store_batch *b,
		     uint32_t uid)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		long idx = batch_find(&mb->st, b, uid);
		struct mdir_rec *r;
		uint32_t nf, nk;
		int ret;

		if (idx < 0)
			return 0;
		r = &mb->st.recs[idx];
		if (b->unchangedsince != 0 && r->m.modseq > b->unchangedsince) {
			mstore_uids_push(b->failed, uid);
			return 0;
		}
		if (!mdir_op_flags(&b->op, r, &nf, &nk))
			return 0; /* the name would not change either */
		ret = rec_set_flags(mb, b, r, nf, nk);
		if (ret != 0)
			return ret;
		if (mdir_refresh(mb, MDIR_R_SCAN) < 0)
			return -1;
	}
	return 0;
}

/* The view's entries for uids take the disk state's flags and modseq.
 * The uids usually come sorted, as both arrays are: each is looked for
 * right after the last one found first. */
static void view_update(struct mdir_mailbox *mb, const uint32_t *uids,
			size_t count)
{
	struct mstore_mailbox *v = &mb->pub;
	struct store_batch hint = {0};
	size_t vi = 0;

	for (size_t i = 0; i < count; i++) {
		long si = batch_find(&mb->st, &hint, uids[i]);

		if (vi >= v->count || v->msgs[vi].uid != uids[i]) {
			long k = mstore_find(v, uids[i]);

			vi = k < 0 ? v->count : (size_t)k;
		}
		if (vi == v->count || si < 0)
			continue;
		v->msgs[vi].flags = (v->msgs[vi].flags & MSTORE_F_RECENT) |
				    mb->st.recs[si].m.flags;
		v->msgs[vi].keywords = mb->st.recs[si].m.keywords;
		v->msgs[vi].modseq = mb->st.recs[si].m.modseq;
		vi++;
	}
	mstore_view_count(v);
}

static int cur_open(struct mdir_mailbox *mb)
{
	int fd;

	str_clear(&mb->path_buf);
	str_append_cstr(&mb->path_buf, mb->path);
	str_append_cstr(&mb->path_buf, "/cur");
	fd = open(mb->path_buf.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mstore_error_sys(mb->pub.s, "open", mb->path_buf.data);
	return fd;
}

int mdir_store_flags(struct mstore_mailbox *pub, const uint32_t *uids,
		     size_t count, enum mstore_flag_mode mode, uint32_t flags,
		     uint32_t keywords, uint64_t unchangedsince,
		     struct mstore_uids *failed)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	struct store_batch b = {.op = {.mode = mode, .flags = flags},
				.unchangedsince = unchangedsince,
				.failed = failed};
	int r;

	if (mdir_lock(mb) < 0)
		return -1;
	r = mdir_refresh(mb, 0);
	if (mb->st.keyword_count < 32)
		keywords &= (1u << mb->st.keyword_count) - 1;
	b.op.keywords = keywords;
	b.cur_fd = r > 0 && count > 0 ? cur_open(mb) : -1;
	if (b.cur_fd < 0 && count > 0)
		r = -1;
	str_init(&b.name, 256);
	for (size_t i = 0; r > 0 && i < count; i++)
		if (store_one(mb, &b, uids[i]) < 0)
			r = -1;
	str_deinit(&b.name);
	if (b.cur_fd >= 0)
		close(b.cur_fd);
	mdir_names_trim(&mb->st);
	/* the whole batch: one log group; flag changes alone are not
	 * fdatasync'd (see mdir_index_commit) */
	if (b.op.modseq != 0)
		mdir_cur_changed(mb);
	mb->commit_lazy = true;
	if (mdir_index_commit(mb) < 0)
		r = -1;
	mb->commit_lazy = false;
	/* after a failed commit the handle reloads; nothing stays pending */
	mb->st.op.uids.count = 0;
	mdir_unlock(mb);
	view_update(mb, uids, count);
	return r;
}

/* Unlinks uid's file (after a rescan if it was renamed meanwhile). */
static int unlink_one(struct mdir_mailbox *mb, uint32_t uid)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		long idx = mdir_rec_find(&mb->st, uid);
		const char *path;

		if (idx < 0)
			return 1;
		path = mdir_msg_path(mb, &mb->st.recs[idx]);
		if (unlink(path) == 0)
			return 1;
		if (errno != ENOENT)
			return mstore_error_sys(mb->pub.s, "unlink", path);
		if (attempt == 0 && mdir_refresh(mb, MDIR_R_SCAN) < 0)
			return -1;
	}
	return 1;
}

static void expunge_candidates(struct mdir_mailbox *mb, const uint32_t *uids,
			       size_t count, struct mstore_uids *out)
{
	const struct mstore_mailbox *v = &mb->pub;

	if (uids != NULL) {
		for (size_t i = 0; i < count; i++)
			if (mstore_find(v, uids[i]) >= 0)
				mstore_uids_push(out, uids[i]);
		return;
	}
	for (size_t i = 0; i < v->count; i++) {
		long si = mdir_rec_find(&mb->st, v->msgs[i].uid);

		if (si >= 0 && (mb->st.recs[si].m.flags & MSTORE_F_DELETED))
			mstore_uids_push(out, v->msgs[i].uid);
	}
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void view_remove(struct mstore_mailbox *v,
			const struct mstore_uids *gone)
{
	size_t j = 0, k = 0;

	for (size_t i = 0; i < v->count; i++) {
		while (k < gone->count && gone->v[k] < v->msgs[i].uid)
			k++;
		if (k < gone->count && gone->v[k] == v->msgs[i].uid)
			continue;
		v->msgs[j++] = v->msgs[i];
	}
	v->count = j;
	mstore_view_count(v);
}

int mdir_expunge(struct mstore_mailbox *pub, const uint32_t *uids, size_t count,
		 struct mstore_uids *expunged)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	int r;

	if (mdir_lock(mb) < 0)
		return -1;
	r = mdir_refresh(mb, 0);
	if (r > 0)
		expunge_candidates(mb, uids, count, expunged);
	if (expunged->count > 1)
		qsort(expunged->v, expunged->count, sizeof(*expunged->v),
		      uid_cmp);
	for (size_t i = 0; r > 0 && i < expunged->count; i++)
		if (unlink_one(mb, expunged->v[i]) < 0) {
			expunged->count = i; /* removed so far */
			r = -1;
		}
	for (size_t i = 0; i < expunged->count; i++) {
		long si = mdir_rec_find(&mb->st, expunged->v[i]);

		if (si >= 0)
			mdir_rec_expunge(&mb->st, &mb->st.recs[si]);
	}
	if (expunged->count > 0) {
		(void)mdir_modseq_next(mb);
		mdir_state_compact(&mb->st);
		mdir_cur_changed(mb);
		if (mdir_index_commit(mb) < 0)
			r = -1;
	}
	mdir_unlock(mb);
	view_remove(pub, expunged);
	return r;
}

/* The log grows in place: watch the file itself (again after each
 * compaction, which replaces it). */
static void notify_log_watch(struct mdir_mailbox *mb)
{
	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/" MDIR_LOG, mb->path);
	mb->notify_log_wd =
	    inotify_add_watch(mb->notify_fd, mb->path_buf.data, IN_MODIFY);
}

int mdir_notify_fd(struct mstore_mailbox *pub)
{
	static const uint32_t files =
	    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
	struct mdir_mailbox *mb = mdir_mb(pub);
	struct str p;
	int fd;

	if (mb->notify_fd >= 0)
		return mb->notify_fd;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -1;
	str_init(&p, 0);
	str_printf(&p, "%s/new", mb->path);
	if (inotify_add_watch(fd, p.data, files) < 0)
		goto fail;
	str_clear(&p);
	str_printf(&p, "%s/cur", mb->path);
	if (inotify_add_watch(fd, p.data, files) < 0)
		goto fail;
	/* the base and the log are replaced by renames */
	if (inotify_add_watch(fd, mb->path, IN_MOVED_TO) < 0)
		goto fail;
	str_deinit(&p);
	mb->notify_fd = fd;
	notify_log_watch(mb);
	return fd;
fail:
	str_deinit(&p);
	close(fd);
	return -1;
}

void mdir_notify_drain(struct mstore_mailbox *pub)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	if (mb->notify_fd < 0)
		return;
	while (read(mb->notify_fd, buf, sizeof(buf)) > 0)
		;
	notify_log_watch(mb);
}
