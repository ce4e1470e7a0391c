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

/* Renames the file to carry flags/keywords: 1, 0 file gone, -1 error. */
static int rec_set_flags(struct mdir_mailbox *mb, struct mdir_rec *r,
			 uint32_t flags, uint32_t keywords)
{
	struct str from, to;
	const char *name = mdir_rec_name(&mb->st, r);
	int ret = 1;

	str_init(&from, 0);
	str_init(&to, 0);
	str_append_cstr(&from, mdir_msg_path(mb, r));
	mdir_name_build(&to, name, r->base_len, flags, keywords, name,
			r->name_len);
	str_clear(&mb->path_buf);
	str_printf(&mb->path_buf, "%s/cur/%s", mb->path, to.data);
	if (rename(from.data, mb->path_buf.data) < 0)
		ret = errno == ENOENT
			  ? 0
			  : mstore_error_sys(mb->pub.s, "rename", from.data);
	if (ret > 0) {
		mdir_rec_rename(&mb->st, r, to.data, to.len, false);
		r->m.flags = flags;
		r->m.keywords = keywords;
	}
	str_deinit(&from);
	str_deinit(&to);
	return ret;
}

static void new_flags(const struct mdir_rec *r, enum mstore_flag_mode mode,
		      uint32_t flags, uint32_t kw, uint32_t *f_r, uint32_t *k_r)
{
	switch (mode) {
	case MSTORE_FLAGS_SET:
		*f_r = flags, *k_r = kw;
		break;
	case MSTORE_FLAGS_ADD:
		*f_r = r->m.flags | flags, *k_r = r->m.keywords | kw;
		break;
	default:
		*f_r = r->m.flags & ~flags, *k_r = r->m.keywords & ~kw;
		break;
	}
}

/* One message of a STORE, retried once after a rescan when its file was
 * renamed meanwhile. 1 changed, 0 unchanged/failed/gone, -1 error. */
static int store_one(struct mdir_mailbox *mb, uint32_t uid,
		     enum mstore_flag_mode mode, uint32_t flags, uint32_t kw,
		     uint64_t unchangedsince, struct mstore_uids *failed,
		     uint64_t *modseq)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		long idx = mdir_rec_find(&mb->st, uid);
		struct mdir_rec *r;
		uint32_t nf, nk;
		int ret;

		if (idx < 0)
			return 0;
		r = &mb->st.recs[idx];
		if (unchangedsince != 0 && r->m.modseq > unchangedsince) {
			mstore_uids_push(failed, uid);
			return 0;
		}
		new_flags(r, mode, flags, kw, &nf, &nk);
		if (nf == r->m.flags && nk == r->m.keywords)
			return 0;
		ret = rec_set_flags(mb, r, nf, nk);
		if (ret > 0) {
			if (*modseq == 0)
				*modseq = mdir_modseq_next(mb);
			r->m.modseq = *modseq;
			mb->index_dirty = true;
		}
		if (ret != 0)
			return ret;
		if (mdir_refresh(mb, MDIR_R_SCAN) < 0)
			return -1;
	}
	return 0;
}

/* The view's entries for uids take the disk state's flags and modseq. */
static void view_update(struct mdir_mailbox *mb, const uint32_t *uids,
			size_t count)
{
	struct mstore_mailbox *v = &mb->pub;

	for (size_t i = 0; i < count; i++) {
		long vi = mstore_find(v, uids[i]);
		long si = mdir_rec_find(&mb->st, uids[i]);

		if (vi < 0 || si < 0)
			continue;
		v->msgs[vi].flags = (v->msgs[vi].flags & MSTORE_F_RECENT) |
				    mb->st.recs[si].m.flags;
		v->msgs[vi].keywords = mb->st.recs[si].m.keywords;
		v->msgs[vi].modseq = mb->st.recs[si].m.modseq;
	}
	mstore_view_count(v);
}

int mdir_store_flags(struct mstore_mailbox *pub, const uint32_t *uids,
		     size_t count, enum mstore_flag_mode mode, uint32_t flags,
		     uint32_t keywords, uint64_t unchangedsince,
		     struct mstore_uids *failed)
{
	struct mdir_mailbox *mb = mdir_mb(pub);
	uint64_t modseq = 0;
	int r;

	if (mdir_lock(mb) < 0)
		return -1;
	r = mdir_refresh(mb, 0);
	if (mb->st.keyword_count < 32)
		keywords &= (1u << mb->st.keyword_count) - 1;
	for (size_t i = 0; r > 0 && i < count; i++)
		if (store_one(mb, uids[i], mode, flags, keywords,
			      unchangedsince, failed, &modseq) < 0)
			r = -1;
	/* the whole batch: one log group; flag changes alone are not
	 * fdatasync'd (see mdir_index_commit) */
	if (modseq != 0)
		mdir_cur_changed(mb);
	mb->commit_lazy = true;
	if (mdir_index_commit(mb) < 0)
		r = -1;
	mb->commit_lazy = false;
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
