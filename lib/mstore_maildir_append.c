/* mstore_maildir_append.c: APPEND and COPY into a Maildir++ mailbox. The
 * file is written and fsync'd (APPEND) or hard-linked (COPY) into tmp/
 * first; then, under the destination's lock, renamed into cur/ with its
 * flags (cur/ fsync'd) and given the next UIDs, which one log group makes
 * durable before they are returned. The destination handles stay open in
 * a small per-store cache, so that the next APPEND reads only the log's
 * new groups, not the whole index. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "mstore_internal.h"

#define QUIET_CACHE_MAX 2

/* A message on its way into cur/. */
struct incoming {
	struct mstore_msg m; /* uid and modseq filled in at commit */
	char base[200];
	char *src_path; /* COPY: the source file */
};

/* LF form: the CR of each CRLF goes (a bare CR stays). */
static void to_lf(const char *data, size_t len, struct str *out)
{
	size_t start = 0;

	for (const char *cr = memchr(data, '\r', len); cr != NULL;
	     cr = memchr(cr + 1, '\r', len - (size_t)(cr + 1 - data))) {
		size_t i = (size_t)(cr - data);

		if (i + 1 < len && data[i + 1] == '\n') {
			str_append(out, data + start, i - start);
			start = i + 1;
		}
		if (i + 1 >= len)
			break;
	}
	str_append(out, data + start, len - start);
}

static int write_tmp(struct mstore *s, const char *path, const struct str *body,
		     int64_t mtime)
{
	struct timespec ts[2] = {{0, UTIME_NOW}, {(time_t)mtime, 0}};
	const char *err;
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return mstore_error_sys(s, "create", path);
	r = file_write_all(fd, body->data, body->len, &err);
	if (r < 0)
		mstore_error(s, "%s: %s", path, err);
	else if (fsync(fd) < 0 || futimens(fd, ts) < 0)
		r = mstore_error_sys(s, "fsync", path);
	if (close(fd) < 0 && r > 0)
		r = mstore_error_sys(s, "close", path);
	if (r < 0)
		(void)unlink(path);
	return r;
}

static void tmp_path(struct mdir_mailbox *mb, const char *base, struct str *out)
{
	str_clear(out);
	str_printf(out, "%s/tmp/%s", mb->path, base);
}

/* Under the lock: tmp/ -> cur/, UIDs, the index. On failure the files
 * left in tmp/ are removed. */
static int commit(struct mdir_mailbox *mb, struct incoming *in, size_t count)
{
	struct str from, name, cur;
	const char *err;
	uint64_t modseq;
	size_t done = 0;
	int r;

	if (count == 0)
		return 1;
	str_init(&from, 0);
	str_init(&name, 0);
	str_init(&cur, 0);
	str_printf(&cur, "%s/cur", mb->path);
	if (mdir_lock(mb) < 0) {
		r = -1;
		goto out;
	}
	r = mdir_refresh(mb, 0);
	if (r > 0 && (mb->st.uidnext > UINT32_MAX - count - 1 ||
		      mb->st.count + count > MDIR_MAX_MESSAGES))
		r = mstore_error(mb->pub.s, "%s: too many messages", mb->path);
	modseq = r > 0 ? mdir_modseq_next(mb) : 0;
	for (; r > 0 && done < count; done++) {
		struct incoming *x = &in[done];
		size_t blen = strlen(x->base);

		tmp_path(mb, x->base, &from);
		mdir_name_build(&name, x->base, blen, x->m.flags, x->m.keywords,
				NULL, 0);
		str_clear(&mb->path_buf);
		str_printf(&mb->path_buf, "%s/%s", cur.data, name.data);
		if (rename(from.data, mb->path_buf.data) < 0) {
			r = mstore_error_sys(mb->pub.s, "rename", from.data);
			break;
		}
		struct mdir_rec *rec =
		    mdir_rec_add(&mb->st, name.data, name.len, blen, false);
		rec->m = x->m;
		rec->m.uid = x->m.uid = mb->st.uidnext++;
		rec->m.modseq = modseq;
	}
	/* files already in cur/ get their UIDs even after a failure: a
	 * later scan would give them new ones anyway */
	if (done > 0 && file_fsync_parent(mb->path_buf.data, &err) < 0 && r > 0)
		r = mstore_error(mb->pub.s, "%s", err);
	if (done > 0)
		mdir_cur_changed(mb);
	if (done > 0 && mdir_index_commit(mb) < 0)
		r = -1;
	mdir_unlock(mb);
out:
	for (size_t i = done; i < count; i++) {
		tmp_path(mb, in[i].base, &from);
		(void)unlink(from.data);
	}
	str_deinit(&from);
	str_deinit(&name);
	str_deinit(&cur);
	return r;
}

static void base_set(struct incoming *x, const char *hostname)
{
	struct str b;

	str_init(&b, 64);
	mdir_base_new(&b, hostname);
	if (b.len >= sizeof(x->base))
		str_truncate(&b, sizeof(x->base) - 1);
	memcpy(x->base, b.data, b.len + 1);
	str_deinit(&b);
}

static uint32_t keywords_resolve(struct mdir_mailbox *mb,
				 const char *const *names, size_t count)
{
	uint32_t bits = 0;

	for (size_t i = 0; i < count; i++) {
		int idx = mstore_keyword_valid(names[i])
			      ? mdir_keyword_resolve(mb, names[i])
			      : -1;

		if (idx >= 0)
			bits |= 1u << idx;
	}
	return bits;
}

int mdir_append(struct mstore *s, const char *name,
		const struct mstore_append_req *req, uint32_t *uidvalidity_r,
		uint32_t *uid_r)
{
	struct mdir_mailbox *mb;
	struct incoming x = {0};
	struct str body, path;
	bool cr = false;
	int r = mdir_quiet_get(s, name, &mb);

	if (r <= 0)
		return r;
	str_init(&body, req->len);
	str_init(&path, 0);
	to_lf(req->data, req->len, &body);
	x.m.flags = req->flags;
	x.m.keywords = keywords_resolve(mb, req->keywords, req->keyword_count);
	x.m.size = mdir_crlf_size(body.data, body.len, &cr);
	x.m.internaldate =
	    req->internaldate > 0 ? req->internaldate : (int64_t)time(NULL);
	base_set(&x, s->hostname);
	mdir_emailid(x.base, strlen(x.base), x.m.emailid);
	tmp_path(mb, x.base, &path);
	r = write_tmp(s, path.data, &body, x.m.internaldate);
	if (r > 0)
		r = commit(mb, &x, 1);
	if (r > 0) {
		*uidvalidity_r = mb->st.uidvalidity;
		*uid_r = x.m.uid;
	}
	str_deinit(&body);
	str_deinit(&path);
	mdir_quiet_put(mb);
	return r;
}

/* The source files and data of the uids; -1 when one is gone. */
static int copy_collect(struct mdir_mailbox *src, const uint32_t *uids,
			size_t count, struct incoming *in)
{
	for (size_t i = 0; i < count; i++) {
		long idx = mdir_rec_find(&src->st, uids[i]);

		if (idx < 0 && mdir_refresh(src, MDIR_R_SCAN) < 0)
			return -1;
		if (idx < 0)
			idx = mdir_rec_find(&src->st, uids[i]);
		if (idx < 0)
			return mstore_error(src->pub.s, "some of the messages "
							"no longer exist");
		in[i].m = src->st.recs[idx].m;
		in[i].src_path =
		    mem_strdup(mdir_msg_path(src, &src->st.recs[idx]));
	}
	return 1;
}

/* A copy of the content where a hard link is not possible. */
static int copy_content(struct mstore *s, const char *from, const char *to,
			int64_t mtime)
{
	struct str body;
	const char *err;
	int r;

	str_init(&body, 0);
	r = file_read_all(from, &body, MSTORE_MSG_MAX, &err);
	if (r < 0)
		mstore_error(s, "%s", err);
	else
		r = write_tmp(s, to, &body, mtime);
	str_deinit(&body);
	return r;
}

static int copy_link(struct mdir_mailbox *src, struct mdir_mailbox *dst,
		     struct incoming *x)
{
	struct str to;
	int r = 1;

	str_init(&to, 0);
	tmp_path(dst, x->base, &to);
	if (link(x->src_path, to.data) < 0 && errno == ENOENT) {
		/* renamed by a flag change meanwhile */
		long idx;

		if (mdir_refresh(src, MDIR_R_SCAN) < 0)
			r = -1;
		else if ((idx = mdir_rec_find(&src->st, x->m.uid)) < 0)
			r = mstore_error(src->pub.s, "some of the messages no "
						     "longer exist");
		else {
			mem_free(x->src_path);
			x->src_path =
			    mem_strdup(mdir_msg_path(src, &src->st.recs[idx]));
		}
	}
	if (r > 0 && access(to.data, F_OK) < 0 &&
	    link(x->src_path, to.data) < 0) {
		if (errno == EXDEV || errno == EPERM || errno == EMLINK)
			r = copy_content(src->pub.s, x->src_path, to.data,
					 x->m.internaldate);
		else
			r = mstore_error_sys(src->pub.s, "link", x->src_path);
	}
	str_deinit(&to);
	return r;
}

/* Keyword bits of the source mapped to the destination's. */
static void copy_keywords(struct mdir_mailbox *src, struct mdir_mailbox *dst,
			  struct incoming *in, size_t count)
{
	int map[MSTORE_KEYWORD_MAX];
	uint32_t used = 0;

	for (size_t i = 0; i < count; i++)
		used |= in[i].m.keywords;
	for (size_t k = 0; k < MSTORE_KEYWORD_MAX; k++)
		map[k] = (used & (1u << k)) && k < src->st.keyword_count
			     ? mdir_keyword_resolve(dst, src->st.keywords[k])
			     : -1;
	for (size_t i = 0; i < count; i++) {
		uint32_t bits = 0;

		for (size_t k = 0; k < MSTORE_KEYWORD_MAX; k++)
			if ((in[i].m.keywords & (1u << k)) && map[k] >= 0)
				bits |= 1u << map[k];
		in[i].m.keywords = bits;
	}
}

int mdir_copy(struct mstore_mailbox *pub, const uint32_t *uids, size_t count,
	      const char *dest, uint32_t *uidvalidity_r,
	      struct mstore_uids *new_uids)
{
	struct mdir_mailbox *src = mdir_mb(pub), *dst;
	struct incoming *in;
	size_t linked = 0;
	struct str p;
	int r = mdir_quiet_get(pub->s, dest, &dst);

	if (r <= 0)
		return r;
	in = mem_calloc(count + 1, sizeof(*in));
	r = copy_collect(src, uids, count, in);
	if (r > 0)
		copy_keywords(src, dst, in, count);
	for (; r > 0 && linked < count; linked++) {
		base_set(&in[linked], pub->s->hostname);
		r = copy_link(src, dst, &in[linked]);
	}
	if (r > 0)
		r = commit(dst, in, count);
	str_init(&p, 0);
	for (size_t i = 0; r < 0 && i + 1 < linked; i++) {
		tmp_path(dst, in[i].base, &p);
		(void)unlink(p.data);
	}
	str_deinit(&p);
	if (r > 0) {
		*uidvalidity_r = dst->st.uidvalidity;
		for (size_t i = 0; i < count; i++)
			mstore_uids_push(new_uids, in[i].m.uid);
	}
	for (size_t i = 0; i < count; i++)
		mem_free(in[i].src_path);
	mem_free(in);
	mdir_quiet_put(dst);
	return r;
}

/* The store's cached QUIET handles, most recently used first. */
struct quiet_cache {
	struct mdir_mailbox *first;
};

int mdir_quiet_get(struct mstore *s, const char *name,
		   struct mdir_mailbox **mb_r)
{
	struct quiet_cache *qc = s->backend;
	struct mdir_mailbox **pp, *mb = NULL;
	char *path;
	int r = mdir_name_path(s, name, &path, NULL);

	if (r <= 0)
		return r;
	for (pp = qc != NULL ? &qc->first : NULL; pp != NULL && *pp != NULL;
	     pp = &(*pp)->next_quiet)
		if (strcmp((*pp)->path, path) == 0) {
			mb = *pp;
			*pp = mb->next_quiet;
			mb->next_quiet = NULL;
			break;
		}
	/* deleted meanwhile (by another process): not through the cache */
	if (mb != NULL && strcmp(name, "INBOX") != 0 && !mdir_is_maildir(path))
		mdir_mailbox_close(&mb->pub), mb = NULL, r = 0;
	mem_free(path);
	if (r <= 0)
		return r;
	if (mb == NULL)
		return mdir_mailbox_open_mode(s, name, MDIR_QUIET, mb_r);
	if (mdir_refresh(mb, 0) < 0) {
		mdir_mailbox_close(&mb->pub);
		return -1;
	}
	*mb_r = mb;
	return 1;
}

void mdir_quiet_put(struct mdir_mailbox *mb)
{
	struct mstore *s = mb->pub.s;
	struct quiet_cache *qc = s->backend;
	struct mdir_mailbox *m;
	size_t n = 1;

	if (qc == NULL)
		s->backend = qc = mem_alloc(sizeof(*qc));
	mb->next_quiet = qc->first;
	qc->first = mb;
	for (m = mb; m->next_quiet != NULL && n < QUIET_CACHE_MAX; n++)
		m = m->next_quiet;
	if (m->next_quiet != NULL) {
		struct mdir_mailbox *old = m->next_quiet;

		m->next_quiet = NULL;
		mdir_mailbox_close(&old->pub);
	}
}

void mdir_quiet_flush(struct mstore *s)
{
	struct quiet_cache *qc = s->backend;

	while (qc != NULL && qc->first != NULL) {
		struct mdir_mailbox *mb = qc->first;

		qc->first = mb->next_quiet;
		mdir_mailbox_close(&mb->pub);
	}
}
