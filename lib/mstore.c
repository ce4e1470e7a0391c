/* mstore.c: the generic layer of the mail store (see mstore.h): checks and
 * normalises names, keeps the error text, reads the view arrays, and hands
 * every operation to the backend's struct of operations (Maildir++ for
 * now, mstore_maildir*.c). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "mstore_internal.h"

int mstore_error(struct mstore *s, const char *fmt, ...)
{
	va_list ap;

	str_clear(&s->err);
	va_start(ap, fmt);
	str_vprintf(&s->err, fmt, ap);
	va_end(ap);
	return -1;
}

int mstore_error_sys(struct mstore *s, const char *what, const char *path)
{
	return mstore_error(s, "%s %s: %s", what, path, strerror(errno));
}

void mstore_uids_push(struct mstore_uids *u, uint32_t uid)
{
	if (u->count == u->cap) {
		u->cap = u->cap == 0 ? 16 : size_mul(u->cap, 2);
		u->v = mem_realloc(u->v, size_mul(u->cap, sizeof(*u->v)));
	}
	u->v[u->count++] = uid;
}

void mstore_uids_deinit(struct mstore_uids *u)
{
	mem_free(u->v);
	u->count = u->cap = 0;
}

int mstore_open(const struct mstore_settings *set, struct mstore **s_r,
		const char **error_r)
{
	struct mstore *s;

	if (set->user_root == NULL || set->user_root[0] != '/') {
		*error_r = "mail store: user_root must be an absolute path";
		return -1;
	}
	if (set->public_root != NULL && set->public_root[0] != '/') {
		*error_r = "mail store: public_root must be an absolute path";
		return -1;
	}
	s = mem_alloc(sizeof(*s));
	s->ops = &mstore_maildir_ops;
	s->user_root = mem_strdup(set->user_root);
	s->public_root =
	    set->public_root != NULL ? mem_strdup(set->public_root) : NULL;
	s->hostname =
	    mem_strdup(set->hostname != NULL && *set->hostname ? set->hostname
							       : "localhost");
	str_init(&s->err, 128);
	if (s->ops->init(s) < 0) {
		/* the error text must outlive s: keep it in a static buffer
		 * only for this one failure path */
		static char errbuf[1024];

		str_truncate(&s->err, s->err.len < sizeof(errbuf) - 1
					  ? s->err.len
					  : sizeof(errbuf) - 1);
		memcpy(errbuf, s->err.data, s->err.len + 1);
		*error_r = errbuf;
		mstore_free(&s);
		return -1;
	}
	*s_r = s;
	return 1;
}

void mstore_free(struct mstore **sp)
{
	struct mstore *s = *sp;

	if (s == NULL)
		return;
	if (s->ops->deinit != NULL)
		s->ops->deinit(s);
	if (s->mailboxes_open > 0)
		msg_panic("mstore_free: %u mailboxes still open",
			  s->mailboxes_open);
	*sp = NULL;
	mem_free(s->user_root);
	mem_free(s->public_root);
	mem_free(s->hostname);
	str_deinit(&s->err);
	mem_free(s);
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if (len - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static const char *component_check(const char *c, size_t len, bool first,
				   bool strict)
{
	if (len == 0)
		return "empty hierarchy level in name";
	if ((len == 1 && c[0] == '.') ||
	    (len == 2 && c[0] == '.' && c[1] == '.'))
		return "'.' and '..' are not allowed as names";
	if (first && c[0] == '~')
		return "names starting with '~' are not allowed";
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)c[i];

		if (b < 0x20 || b == 0x7f)
			return "control characters are not allowed in names";
		if (strict && (b == '%' || b == '*'))
			return "'%' and '*' are not allowed in names";
	}
	return NULL;
}

int mstore_name_normalize(const char *name, bool strict, struct str *out,
			  const char **error_r)
{
	size_t len = strlen(name), start = 0;
	const char *why;

	if (len == 0) {
		*error_r = "empty name";
		return -1;
	}
	if (len > MSTORE_NAME_MAX) {
		*error_r = "name too long";
		return -1;
	}
	if (!utf8_valid((const unsigned char *)name, len)) {
		*error_r = "name is not valid UTF-8";
		return -1;
	}
	str_clear(out);
	while (start <= len) {
		const char *slash = memchr(name + start, '/', len - start);
		size_t end = slash != NULL ? (size_t)(slash - name) : len;

		why = component_check(name + start, end - start, start == 0,
				      strict);
		if (why != NULL) {
			*error_r = why;
			return -1;
		}
		if (start == 0 && end == 5 &&
		    strncasecmp(name, "INBOX", 5) == 0)
			str_append_cstr(out, "INBOX");
		else
			str_append(out, name + start, end - start);
		if (slash == NULL)
			break;
		str_putc(out, '/');
		start = end + 1;
	}
	return 1;
}

int mstore_name_check(const char *name, const char **error_r)
{
	struct str n;
	int r;

	str_init(&n, 64);
	r = mstore_name_normalize(name, true, &n, error_r);
	str_deinit(&n);
	return r;
}

bool mstore_keyword_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MSTORE_KEYWORD_LEN_MAX || name[0] == '\\')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

void mstore_folders_free(struct mstore_folder *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		mem_free(list[i].name);
	mem_free(list);
}

int mstore_list(struct mstore *s, struct mstore_folder **list_r,
		size_t *count_r, const char **error_r)
{
	*list_r = NULL;
	*count_r = 0;
	if (s->ops->list(s, list_r, count_r) < 0) {
		*error_r = s->err.data;
		return -1;
	}
	return 1;
}

/* Runs a by-name operation with the normalised name. */
typedef int name_op_fn(struct mstore *s, const char *name, void *ctx);

static int with_name(struct mstore *s, const char *name, bool strict,
		     name_op_fn *fn, void *ctx, const char **error_r)
{
	struct str n;
	int r;

	str_init(&n, 64);
	r = mstore_name_normalize(name, strict, &n, error_r);
	if (r > 0) {
		r = fn(s, n.data, ctx);
		if (r < 0)
			*error_r = s->err.data;
	}
	str_deinit(&n);
	return r;
}

static int op_create(struct mstore *s, const char *name, void *ctx)
{
	(void)ctx;
	return s->ops->create(s, name);
}

static int op_remove(struct mstore *s, const char *name, void *ctx)
{
	(void)ctx;
	return s->ops->remove(s, name);
}

static int op_subscribe(struct mstore *s, const char *name, void *ctx)
{
	return s->ops->subscribe(s, name, *(bool *)ctx);
}

static int op_status(struct mstore *s, const char *name, void *ctx)
{
	return s->ops->status(s, name, ctx);
}

int mstore_create(struct mstore *s, const char *name, const char **error_r)
{
	return with_name(s, name, true, op_create, NULL, error_r);
}

int mstore_delete(struct mstore *s, const char *name, const char **error_r)
{
	return with_name(s, name, false, op_remove, NULL, error_r);
}

int mstore_subscribe(struct mstore *s, const char *name, bool on,
		     const char **error_r)
{
	return with_name(s, name, false, op_subscribe, &on, error_r);
}

int mstore_status(struct mstore *s, const char *name, struct mstore_status *st,
		  const char **error_r)
{
	memset(st, 0, sizeof(*st));
	return with_name(s, name, false, op_status, st, error_r);
}

int mstore_rename(struct mstore *s, const char *from, const char *to,
		  const char **error_r)
{
	struct str f, t;
	int r;

	str_init(&f, 64);
	str_init(&t, 64);
	r = mstore_name_normalize(from, false, &f, error_r);
	if (r > 0)
		r = mstore_name_normalize(to, true, &t, error_r);
	if (r > 0) {
		r = s->ops->rename(s, f.data, t.data);
		if (r < 0)
			*error_r = s->err.data;
	}
	str_deinit(&f);
	str_deinit(&t);
	return r;
}

struct open_ctx {
	bool readonly;
	struct mstore_mailbox **mb_r;
};

static int op_open(struct mstore *s, const char *name, void *ctx)
{
	struct open_ctx *o = ctx;

	return s->ops->mailbox_open(s, name, o->readonly, o->mb_r);
}

int mstore_mailbox_open(struct mstore *s, const char *name, bool readonly,
			struct mstore_mailbox **mb_r, const char **error_r)
{
	struct open_ctx o = {.readonly = readonly, .mb_r = mb_r};

	*mb_r = NULL;
	return with_name(s, name, false, op_open, &o, error_r);
}

void mstore_mailbox_close(struct mstore_mailbox **mbp)
{
	struct mstore_mailbox *mb = *mbp;

	if (mb == NULL)
		return;
	*mbp = NULL;
	mb->s->ops->mailbox_close(mb);
}

int mstore_mailbox_sync(struct mstore_mailbox *mb, const char **error_r)
{
	if (mb->s->ops->mailbox_sync(mb) < 0) {
		*error_r = mb->s->err.data;
		return -1;
	}
	return 1;
}

const struct mstore_msg *mstore_messages(const struct mstore_mailbox *mb,
					 size_t *count_r)
{
	*count_r = mb->count;
	return mb->msgs;
}

long mstore_msgs_find(const struct mstore_msg *msgs, size_t count, uint32_t uid)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (msgs[mid].uid == uid)
			return (long)mid;
		if (msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

long mstore_find(const struct mstore_mailbox *mb, uint32_t uid)
{
	return mstore_msgs_find(mb->msgs, mb->count, uid);
}

void mstore_view_count(struct mstore_mailbox *mb)
{
	struct mstore_status *st = &mb->status;

	st->messages = (uint32_t)mb->count;
	st->recent = st->unseen = st->deleted = 0;
	st->size = 0;
	for (size_t i = 0; i < mb->count; i++) {
		const struct mstore_msg *m = &mb->msgs[i];

		st->recent += (m->flags & MSTORE_F_RECENT) != 0;
		st->unseen += (m->flags & MSTORE_F_SEEN) == 0;
		st->deleted += (m->flags & MSTORE_F_DELETED) != 0;
		st->size += m->size;
	}
}

void mstore_mailbox_status(const struct mstore_mailbox *mb,
			   struct mstore_status *st)
{
	*st = mb->status;
}

const char *const *mstore_keywords(const struct mstore_mailbox *mb,
				   size_t *count_r)
{
	*count_r = mb->keyword_count;
	return (const char *const *)mb->keywords;
}

int mstore_keyword_index(struct mstore_mailbox *mb, const char *name,
			 bool create)
{
	if (!mstore_keyword_valid(name))
		return -1;
	for (size_t i = 0; i < mb->keyword_count; i++)
		if (strcasecmp(mb->keywords[i], name) == 0)
			return (int)i;
	if (!create)
		return -1;
	return mb->s->ops->keyword_add(mb, name);
}

int mstore_msg_read(struct mstore_mailbox *mb, uint32_t uid, struct str *out,
		    const char **error_r)
{
	int r;

	str_clear(out);
	r = mb->s->ops->msg_read(mb, uid, out);
	if (r < 0)
		*error_r = mb->s->err.data;
	return r;
}

int mstore_store_flags(struct mstore_mailbox *mb, const uint32_t *uids,
		       size_t count, enum mstore_flag_mode mode, uint32_t flags,
		       uint32_t keywords, uint64_t unchangedsince,
		       uint32_t **failed_r, size_t *failed_count_r,
		       const char **error_r)
{
	struct mstore_uids failed = {0};
	int r;

	if (mb->readonly) {
		*error_r = "mailbox is read-only";
		return -1;
	}
	flags &= MSTORE_F_STORED_MASK;
	r = mb->s->ops->store_flags(mb, uids, count, mode, flags, keywords,
				    unchangedsince, &failed);
	if (r < 0)
		*error_r = mb->s->err.data;
	if (failed_r != NULL) {
		*failed_r = failed.v;
		*failed_count_r = failed.count;
	} else {
		mstore_uids_deinit(&failed);
	}
	return r;
}

int mstore_expunge(struct mstore_mailbox *mb, const uint32_t *uids,
		   size_t count, uint32_t **expunged_r,
		   size_t *expunged_count_r, const char **error_r)
{
	struct mstore_uids gone = {0};
	int r;

	if (mb->readonly) {
		*error_r = "mailbox is read-only";
		return -1;
	}
	r = mb->s->ops->expunge(mb, uids, count, &gone);
	if (r < 0)
		*error_r = mb->s->err.data;
	*expunged_r = gone.v;
	*expunged_count_r = gone.count;
	return r;
}

struct append_ctx {
	const struct mstore_append_req *req;
	uint32_t *uidvalidity_r, *uid_r;
};

static int op_append(struct mstore *s, const char *name, void *ctx)
{
	struct append_ctx *a = ctx;

	return s->ops->append(s, name, a->req, a->uidvalidity_r, a->uid_r);
}

int mstore_append(struct mstore *s, const char *name, const void *data,
		  size_t len, uint32_t flags, const char *const *keywords,
		  size_t keyword_count, int64_t internaldate,
		  uint32_t *uidvalidity_r, uint32_t *uid_r,
		  const char **error_r)
{
	struct mstore_append_req req = {
	    .data = data,
	    .len = len,
	    .flags = flags & MSTORE_F_STORED_MASK,
	    .keywords = keywords,
	    .keyword_count = keyword_count,
	    .internaldate = internaldate,
	};
	struct append_ctx a = {&req, uidvalidity_r, uid_r};

	if (len > MSTORE_MSG_MAX) {
		*error_r = "message too large";
		return -1;
	}
	return with_name(s, name, false, op_append, &a, error_r);
}

int mstore_copy(struct mstore_mailbox *src, const uint32_t *uids, size_t count,
		const char *dest, uint32_t *uidvalidity_r,
		uint32_t **new_uids_r, const char **error_r)
{
	struct mstore_uids nu = {0};
	struct str n;
	int r;

	*new_uids_r = NULL;
	str_init(&n, 64);
	r = mstore_name_normalize(dest, false, &n, error_r);
	if (r > 0) {
		r = src->s->ops->copy(src, uids, count, n.data, uidvalidity_r,
				      &nu);
		if (r < 0)
			*error_r = src->s->err.data;
	}
	str_deinit(&n);
	if (r > 0)
		*new_uids_r = nu.v;
	else
		mstore_uids_deinit(&nu);
	return r;
}

int mstore_cache_get(struct mstore_mailbox *mb, uint32_t uid,
		     enum mstore_cache_field f, const char **data_r,
		     size_t *len_r)
{
	if ((unsigned)f >= MSTORE_CACHE_FIELD_COUNT)
		return 0;
	return mb->s->ops->cache_get(mb, uid, f, data_r, len_r);
}

int mstore_cache_put(struct mstore_mailbox *mb, uint32_t uid,
		     enum mstore_cache_field f, const void *data, size_t len)
{
	if ((unsigned)f >= MSTORE_CACHE_FIELD_COUNT ||
	    len > MSTORE_CACHE_BLOB_MAX)
		return -1;
	return mb->s->ops->cache_put(mb, uid, f, data, len);
}

int mstore_notify_fd(struct mstore_mailbox *mb)
{
	return mb->s->ops->notify_fd(mb);
}

void mstore_notify_drain(struct mstore_mailbox *mb)
{
	mb->s->ops->notify_drain(mb);
}
