/* dict_lmdb.c: lmdb: tables, one LMDB file NAME.lmdb (MDB_NOSUBDIR) built
 * by `postern map`, for systems moving off Berkeley DB.
 *
 * Lock file: LMDB normally keeps a reader table in NAME.lmdb-lock so that a
 * writer does not reuse pages that a reader still sees. We never write a
 * live file (dict_dbfile.h: every change builds a new file and renames it
 * over the old one), so no page a reader sees is ever reused: readers open
 * with MDB_RDONLY|MDB_NOLOCK and need no lock file, write access to the
 * directory, or cleanup after a crash; writers also use MDB_NOLOCK on their
 * private temporary and serialize on the flock of dict_dbfile.c.
 *
 * A reader keeps one read transaction for its lifetime: the file it mapped
 * cannot change. LMDB maps the file and trusts its pages, so open checks the
 * meta pages (LMDB does) and that the file holds every page they count (we
 * do), turning a truncated file into an error instead of a SIGBUS. */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "dict_backends.h"
#include "dict_dbfile.h"
#include "mem.h"

/* Address space reserved for a build; grows on MDB_MAP_FULL. Only what is
 * written takes disk space (no MDB_WRITEMAP). */
#define LMDB_MIN_MAP (64ull * 1024 * 1024)
/* Entries per write transaction while building; the batch is kept to be
 * replayed when the map must grow. */
#define LMDB_BATCH_ENTRIES 20000
#define LMDB_BATCH_BYTES (4 * 1024 * 1024)
#define LMDB_MAP_GROW_TRIES 16
/* Readers: see the lock file note atop. */
#define LMDB_READ_FLAGS (MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK)
/* Writers work on a private temporary and sync it themselves. */
#define LMDB_WRITE_FLAGS (MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC)

struct dict_lmdb {
	struct dict d;
	MDB_env *env;
	MDB_txn *txn; /* read transaction held while open */
	MDB_dbi dbi;
	char *path; /* NAME.lmdb */
	int nul;    /* enum dict_dbfile_nul */
	struct str kbuf, vbuf;
};

struct dict_lmdb_builder {
	struct dict_dbfile_writer w;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t mapsize;
	int flags;
	struct str batch; /* key NUL value NUL ... of the open transaction */
	size_t batch_count;
	struct str kbuf;
	struct str error;
};

static const char *lmdb_error(struct str *err, const char *what,
			      const char *path, int code)
{
	str_clear(err);
	str_printf(err, "%s %s: %s", what, path, mdb_strerror(code));
	return err->data;
}

/* See dict_db.c: an error that must outlive the object holding it. */
static const char *lmdb_keep_error(const char *msg)
{
	static struct str kept;

	if (kept.data == NULL)
		str_init(&kept, 128);
	str_set(&kept, msg, strlen(msg));
	return kept.data;
}

static char *lmdb_path(const char *name)
{
	struct str p;
	char *ret;

	str_init(&p, strlen(name) + 5);
	str_printf(&p, "%s.lmdb", name);
	ret = str_steal(&p);
	str_deinit(&p);
	return ret;
}

/* Checks that the file holds every page its meta page counts. */
static int lmdb_check_file(MDB_env *env, const char *path, struct str *err)
{
	MDB_envinfo info;
	MDB_stat st;
	int fd;

	if (mdb_env_get_fd(env, &fd) != 0 || mdb_env_info(env, &info) != 0 ||
	    mdb_env_stat(env, &st) != 0) {
		str_clear(err);
		str_printf(err, "%s: cannot read the meta pages", path);
		return -1;
	}
	return dict_dbfile_check_size(
	    fd, path, ((unsigned long long)info.me_last_pgno + 1) * st.ms_psize,
	    err);
}

/* Learns the stored form from the first entry (see dict_db.c). */
static int lmdb_learn_nul(struct dict_lmdb *dl, const char **error_r)
{
	MDB_cursor *c;
	MDB_val k, v;
	int ret;

	dl->nul = DICT_DBFILE_WITH_NUL | DICT_DBFILE_WITHOUT_NUL;
	if ((ret = mdb_cursor_open(dl->txn, dl->dbi, &c)) != 0) {
		*error_r = lmdb_error(&dl->d.error, "read", dl->path, ret);
		return -1;
	}
	ret = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	mdb_cursor_close(c);
	if (ret == MDB_NOTFOUND)
		return 1;
	if (ret != 0) {
		*error_r = lmdb_error(&dl->d.error, "read", dl->path, ret);
		return -1;
	}
	if (k.mv_size > 0 && ((const char *)k.mv_data)[k.mv_size - 1] == '\0')
		dl->nul = DICT_DBFILE_WITH_NUL;
	else
		dl->nul = DICT_DBFILE_WITHOUT_NUL;
	return 1;
}

static void lmdb_close_handle(struct dict_lmdb *dl)
{
	if (dl->txn != NULL)
		mdb_txn_abort(dl->txn);
	if (dl->env != NULL)
		mdb_env_close(dl->env);
	dl->txn = NULL;
	dl->env = NULL;
}

/* Opens dl->path read-only (see the lock file note atop). */
static int lmdb_open_handle(struct dict_lmdb *dl, const char **error_r)
{
	struct str *err = &dl->d.error;
	unsigned long long size;
	int ret;

	/* LMDB reports a missing, empty or odd file obscurely: check first */
	if (dict_dbfile_check_path(dl->path, &size, err) < 0) {
		*error_r = err->data;
		return -1;
	}
	if ((ret = mdb_env_create(&dl->env)) == 0)
		ret = mdb_env_open(dl->env, dl->path, LMDB_READ_FLAGS, 0);
	if (ret != 0) {
		*error_r = lmdb_error(
		    err, ret == MDB_INVALID ? "open corrupt" : "open", dl->path,
		    ret);
		lmdb_close_handle(dl);
		return -1;
	}
	if (lmdb_check_file(dl->env, dl->path, err) < 0) {
		*error_r = err->data;
		lmdb_close_handle(dl);
		return -1;
	}
	if ((ret = mdb_txn_begin(dl->env, NULL, MDB_RDONLY, &dl->txn)) != 0 ||
	    (ret = mdb_dbi_open(dl->txn, NULL, 0, &dl->dbi)) != 0) {
		*error_r = lmdb_error(err, "read", dl->path, ret);
		lmdb_close_handle(dl);
		return -1;
	}
	if (lmdb_learn_nul(dl, error_r) < 0) {
		lmdb_close_handle(dl);
		return -1;
	}
	return 1;
}

static int lmdb_get(struct dict_lmdb *dl, const char *key, size_t klen,
		    struct str *value_r, const char **error_r)
{
	MDB_val k, v;
	int ret;

	k.mv_data = (void *)key;
	k.mv_size = klen;
	ret = mdb_get(dl->txn, dl->dbi, &k, &v);
	if (ret == MDB_NOTFOUND)
		return 0;
	if (ret != 0) {
		*error_r = lmdb_error(&dl->d.error, "lookup in", dl->path, ret);
		return -1;
	}
	dict_dbfile_unstore(value_r, v.mv_data, v.mv_size);
	return 1;
}

static int dict_lmdb_lookup(struct dict *d, const char *key,
			    struct str *value_r, const char **error_r)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)d;
	size_t len = strlen(key);
	size_t max = (size_t)mdb_env_get_maxkeysize(dl->env);
	int ret = 0;

	/* a key LMDB cannot store cannot be there */
	if ((dl->nul & DICT_DBFILE_WITH_NUL) && len + 1 <= max)
		ret = lmdb_get(dl, key, len + 1, value_r, error_r);
	if (ret == 0 && (dl->nul & DICT_DBFILE_WITHOUT_NUL) && len > 0 &&
	    len <= max)
		ret = lmdb_get(dl, key, len, value_r, error_r);
	return ret;
}

static int dict_lmdb_iterate(struct dict *d,
			     int (*fn)(void *ctx, const char *key,
				       const char *value),
			     void *ctx, const char **error_r)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)d;
	MDB_cursor *c;
	MDB_val k, v;
	int ret;

	if ((ret = mdb_cursor_open(dl->txn, dl->dbi, &c)) != 0) {
		*error_r = lmdb_error(&dl->d.error, "read", dl->path, ret);
		return -1;
	}
	while ((ret = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		dict_dbfile_unstore(&dl->kbuf, k.mv_data, k.mv_size);
		dict_dbfile_unstore(&dl->vbuf, v.mv_data, v.mv_size);
		if (fn(ctx, dl->kbuf.data, dl->vbuf.data) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (ret != 0 && ret != MDB_NOTFOUND) {
		*error_r = lmdb_error(&dl->d.error, "read", dl->path, ret);
		return -1;
	}
	return 1;
}

/* Puts one entry; 0 when the key exists and overwrite is false. Key too
 * long for LMDB is an error naming the limit. */
static int lmdb_store(MDB_txn *txn, MDB_dbi dbi, const char *key,
		      const char *value, bool nul, bool overwrite,
		      struct str *err, const char *path)
{
	MDB_val k, v;
	int ret;

	k.mv_data = (void *)key;
	k.mv_size = strlen(key) + nul;
	v.mv_data = (void *)value;
	v.mv_size = strlen(value) + nul;
	if (k.mv_size == 0 ||
	    k.mv_size > (size_t)mdb_env_get_maxkeysize(mdb_txn_env(txn))) {
		str_clear(err);
		str_printf(err,
			   "%s: key of %zu bytes: lmdb keys must be 1 to "
			   "%d bytes",
			   path, k.mv_size,
			   mdb_env_get_maxkeysize(mdb_txn_env(txn)));
		return -1;
	}
	ret = mdb_put(txn, dbi, &k, &v, overwrite ? 0 : MDB_NOOVERWRITE);
	if (ret == MDB_KEYEXIST)
		return 0;
	if (ret != 0) {
		lmdb_error(err, "write", path, ret);
		return ret == MDB_MAP_FULL ? -2 : -1;
	}
	return 1;
}

/* Deletes both stored forms of key; 1 if one was there. */
static int lmdb_delete(MDB_txn *txn, MDB_dbi dbi, const char *key,
		       struct str *err, const char *path)
{
	size_t max = (size_t)mdb_env_get_maxkeysize(mdb_txn_env(txn));
	int found = 0;

	for (size_t extra = 0; extra < 2; extra++) {
		MDB_val k;
		int ret;

		k.mv_data = (void *)key;
		k.mv_size = strlen(key) + extra;
		if (k.mv_size == 0 || k.mv_size > max)
			continue;
		ret = mdb_del(txn, dbi, &k, NULL);
		if (ret == 0)
			found = 1;
		else if (ret != MDB_NOTFOUND) {
			lmdb_error(err, "delete in", path, ret);
			return ret == MDB_MAP_FULL ? -2 : -1;
		}
	}
	return found;
}

/* One change in one transaction on the open copy; -2: the map is full. */
static int lmdb_modify_txn(struct dict_lmdb *dl, MDB_env *env, const char *tmp,
			   const char *key, const char *value)
{
	bool nul = dl->nul != DICT_DBFILE_WITHOUT_NUL;
	MDB_txn *txn;
	MDB_dbi dbi;
	int ret;

	if ((ret = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (ret = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
		if (ret != 0 && ret != MDB_MAP_FULL)
			lmdb_error(&dl->d.error, "write", tmp, ret);
		return ret == MDB_MAP_FULL ? -2 : -1;
	}
	if (value == NULL)
		ret = lmdb_delete(txn, dbi, key, &dl->d.error, tmp);
	else
		ret = lmdb_store(txn, dbi, key, value, nul, true, &dl->d.error,
				 tmp);
	if (ret <= 0) {
		mdb_txn_abort(txn);
		return ret;
	}
	if ((ret = mdb_txn_commit(txn)) != 0) {
		lmdb_error(&dl->d.error, "write", tmp, ret);
		return ret == MDB_MAP_FULL ? -2 : -1;
	}
	return 1;
}

/* Edits the copy tmp: 1 changed, 0 key not there, -1 error. */
static int lmdb_modify_tmp(struct dict_lmdb *dl, const char *tmp,
			   const char *key, const char *value)
{
	struct stat st;
	MDB_env *env = NULL;
	size_t map;
	int ret, sret;

	if (stat(tmp, &st) < 0) {
		str_clear(&dl->d.error);
		str_printf(&dl->d.error, "stat %s: %s", tmp, strerror(errno));
		return -1;
	}
	map = (size_t)st.st_size * 2 + LMDB_MIN_MAP;
	if ((ret = mdb_env_create(&env)) != 0 ||
	    (ret = mdb_env_set_mapsize(env, map)) != 0 ||
	    (ret = mdb_env_open(env, tmp, LMDB_WRITE_FLAGS, 0600)) != 0) {
		lmdb_error(&dl->d.error, "open", tmp, ret);
		mdb_env_close(env);
		return -1;
	}
	for (int i = 0; i < LMDB_MAP_GROW_TRIES; i++) {
		ret = lmdb_modify_txn(dl, env, tmp, key, value);
		if (ret != -2)
			break;
		map *= 2;
		if (mdb_env_set_mapsize(env, map) != 0)
			break;
	}
	if (ret < -1)
		ret = -1;
	if (ret > 0 && (sret = mdb_env_sync(env, 1)) != 0) {
		lmdb_error(&dl->d.error, "fsync", tmp, sret);
		ret = -1;
	}
	mdb_env_close(env);
	return ret;
}

struct lmdb_change {
	struct dict_lmdb *dl;
	const char *key;
	const char *value;
};

static int lmdb_apply(void *ctx, const char *tmp)
{
	struct lmdb_change *c = ctx;

	return lmdb_modify_tmp(c->dl, tmp, c->key, c->value);
}

/* Applies one change to a copy and publishes it (see dict_db.c). */
static int lmdb_modify(struct dict_lmdb *dl, const char *key, const char *value,
		       const char **error_r)
{
	struct lmdb_change c = {dl, key, value};
	struct dict_lmdb old;
	int ret;

	ret = dict_dbfile_modify(dl->path, lmdb_apply, &c, &dl->d.error,
				 error_r);
	if (ret <= 0)
		return ret;
	old = *dl;
	dl->env = NULL;
	dl->txn = NULL;
	if (lmdb_open_handle(dl, error_r) < 0) {
		/* keep serving the old snapshot */
		dl->env = old.env;
		dl->txn = old.txn;
		dl->dbi = old.dbi;
		dl->nul = old.nul;
		return -1;
	}
	lmdb_close_handle(&old);
	return ret;
}

static int dict_lmdb_update(struct dict *d, const char *key, const char *value,
			    const char **error_r)
{
	return lmdb_modify((struct dict_lmdb *)d, key, value, error_r);
}

static int dict_lmdb_remove(struct dict *d, const char *key,
			    const char **error_r)
{
	return lmdb_modify((struct dict_lmdb *)d, key, NULL, error_r);
}

static void dict_lmdb_close(struct dict *d)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)d;

	lmdb_close_handle(dl);
	mem_free(dl->path);
	str_deinit(&dl->kbuf);
	str_deinit(&dl->vbuf);
	dict_free_common(d);
}

static const struct dict_ops dict_lmdb_ops = {
    .lookup = dict_lmdb_lookup,
    .update = dict_lmdb_update,
    .remove = dict_lmdb_remove,
    .iterate = dict_lmdb_iterate,
    .close = dict_lmdb_close,
};

struct dict *dict_lmdb_open(const char *name, int flags, const char **error_r)
{
	struct dict_lmdb *dl;

	dl = (struct dict_lmdb *)dict_alloc(sizeof(*dl), &dict_lmdb_ops, "lmdb",
					    name, flags);
	dl->path = lmdb_path(name);
	str_init(&dl->kbuf, 64);
	str_init(&dl->vbuf, 64);
	if (lmdb_open_handle(dl, error_r) < 0) {
		*error_r = lmdb_keep_error(*error_r);
		dict_lmdb_close(&dl->d);
		return NULL;
	}
	return &dl->d;
}

/* ---- builder ---------------------------------------------------------- */

static void lmdb_builder_free(struct dict_lmdb_builder *b)
{
	if (b->txn != NULL)
		mdb_txn_abort(b->txn);
	if (b->env != NULL)
		mdb_env_close(b->env);
	dict_dbfile_writer_free(&b->w);
	str_deinit(&b->batch);
	str_deinit(&b->kbuf);
	str_deinit(&b->error);
	mem_free(b);
}

static int lmdb_builder_txn(struct dict_lmdb_builder *b)
{
	int ret;

	if ((ret = mdb_txn_begin(b->env, NULL, 0, &b->txn)) != 0 ||
	    (ret = mdb_dbi_open(b->txn, NULL, 0, &b->dbi)) != 0) {
		lmdb_error(&b->error, "write", b->w.tmp, ret);
		if (b->txn != NULL)
			mdb_txn_abort(b->txn);
		b->txn = NULL;
		return -1;
	}
	return 1;
}

/* Stores one entry in the open transaction: 1 added, 0 duplicate (kept
 * or replaced per DICT_FLAG_DUP_REPLACE), -2 map full, -1 error. */
static int lmdb_builder_put(struct dict_lmdb_builder *b, const char *key,
			    const char *value)
{
	int ret;

	ret = lmdb_store(b->txn, b->dbi, key, value, true, false, &b->error,
			 b->w.tmp);
	if (ret == 0 && (b->flags & DICT_FLAG_DUP_REPLACE)) {
		ret = lmdb_store(b->txn, b->dbi, key, value, true, true,
				 &b->error, b->w.tmp);
		if (ret > 0)
			ret = 0;
	}
	return ret;
}

/* The map is full: drop the transaction, double the map, and replay the
 * batch of entries that the transaction held. */
static int lmdb_builder_grow(struct dict_lmdb_builder *b)
{
	for (int i = 0; i < LMDB_MAP_GROW_TRIES; i++) {
		const char *p = b->batch.data, *end = p + b->batch.len;
		int ret = 1;

		mdb_txn_abort(b->txn);
		b->txn = NULL;
		b->mapsize *= 2;
		if ((ret = mdb_env_set_mapsize(b->env, b->mapsize)) != 0) {
			lmdb_error(&b->error, "grow map of", b->w.tmp, ret);
			return -1;
		}
		if (lmdb_builder_txn(b) < 0)
			return -1;
		while (p < end && ret >= 0) {
			const char *value = p + strlen(p) + 1;

			ret = lmdb_builder_put(b, p, value);
			p = value + strlen(value) + 1;
		}
		if (ret != -2)
			return ret < 0 ? -1 : 1;
	}
	return -1;
}

static int lmdb_builder_commit_txn(struct dict_lmdb_builder *b)
{
	int ret;

	for (int i = 0; i < LMDB_MAP_GROW_TRIES; i++) {
		ret = mdb_txn_commit(b->txn);
		b->txn = NULL;
		if (ret == 0) {
			str_clear(&b->batch);
			b->batch_count = 0;
			return 1;
		}
		if (ret != MDB_MAP_FULL) {
			lmdb_error(&b->error, "write", b->w.tmp, ret);
			return -1;
		}
		/* the commit's own pages did not fit: replay into a bigger map
		 */
		if (lmdb_builder_txn(b) < 0 || lmdb_builder_grow(b) < 0)
			return -1;
	}
	return -1;
}

static int lmdb_builder_add(struct dict_builder *builder, const char *key,
			    const char *value, const char **error_r)
{
	struct dict_lmdb_builder *b = (struct dict_lmdb_builder *)builder;
	int ret;

	key = dict_dbfile_fold(&b->kbuf, key, b->flags);
	ret = lmdb_builder_put(b, key, value);
	if (ret == -2 && lmdb_builder_grow(b) > 0)
		ret = lmdb_builder_put(b, key, value);
	if (ret < 0) {
		*error_r = b->error.data;
		return -1;
	}
	str_append(&b->batch, key, strlen(key) + 1);
	str_append(&b->batch, value, strlen(value) + 1);
	if (++b->batch_count >= LMDB_BATCH_ENTRIES ||
	    b->batch.len >= LMDB_BATCH_BYTES) {
		if (lmdb_builder_commit_txn(b) < 0 || lmdb_builder_txn(b) < 0) {
			*error_r = b->error.data;
			return -1;
		}
	}
	return ret;
}

static struct dict_builder *lmdb_builder_begin(const char *source, int flags,
					       const char **error_r)
{
	struct dict_lmdb_builder *b = mem_alloc(sizeof(*b));
	char *path = lmdb_path(source);
	struct stat st;
	const char *err;
	int ret;

	b->flags = flags;
	str_init(&b->batch, 4096);
	str_init(&b->kbuf, 64);
	str_init(&b->error, 128);
	ret = dict_dbfile_writer_begin(&b->w, path, source, &err);
	mem_free(path);
	if (ret < 0) {
		*error_r = lmdb_keep_error(err);
		lmdb_builder_free(b);
		return NULL;
	}
	b->mapsize = LMDB_MIN_MAP;
	if (stat(source, &st) == 0 && (size_t)st.st_size * 4 > b->mapsize)
		b->mapsize = (size_t)st.st_size * 4;
	if ((ret = mdb_env_create(&b->env)) != 0 ||
	    (ret = mdb_env_set_mapsize(b->env, b->mapsize)) != 0 ||
	    (ret = mdb_env_open(b->env, b->w.tmp, LMDB_WRITE_FLAGS, 0600)) !=
		0) {
		lmdb_error(&b->error, "create", b->w.tmp, ret);
		goto fail;
	}
	if (lmdb_builder_txn(b) < 0)
		goto fail;
	return (struct dict_builder *)b;
fail:
	*error_r = lmdb_keep_error(b->error.data);
	dict_dbfile_writer_abort(&b->w);
	lmdb_builder_free(b);
	return NULL;
}

static int lmdb_builder_commit(struct dict_builder *builder,
			       const char **error_r)
{
	struct dict_lmdb_builder *b = (struct dict_lmdb_builder *)builder;
	const char *err = NULL;
	int ret;

	if (lmdb_builder_commit_txn(b) < 0) {
		err = b->error.data;
	} else if ((ret = mdb_env_sync(b->env, 1)) != 0) {
		err = lmdb_error(&b->error, "fsync", b->w.tmp, ret);
	} else {
		mdb_env_close(b->env);
		b->env = NULL;
		if (dict_dbfile_writer_commit(&b->w, &err) > 0)
			err = NULL;
	}
	if (err != NULL) {
		*error_r = lmdb_keep_error(err);
		dict_dbfile_writer_abort(&b->w);
	}
	lmdb_builder_free(b);
	return err == NULL ? 1 : -1;
}

static void lmdb_builder_abort(struct dict_builder *builder)
{
	struct dict_lmdb_builder *b = (struct dict_lmdb_builder *)builder;

	dict_dbfile_writer_abort(&b->w);
	lmdb_builder_free(b);
}

const struct dict_builder_ops dict_lmdb_builder = {
    .begin = lmdb_builder_begin,
    .add = lmdb_builder_add,
    .commit = lmdb_builder_commit,
    .abort = lmdb_builder_abort,
};
