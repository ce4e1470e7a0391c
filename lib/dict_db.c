/* dict_db.c: hash: and btree: tables, Berkeley DB files (DB_HASH, DB_BTREE)
 * named NAME.db, built by `postern map` and read by every daemon.
 *
 * No DB environment: each handle has a private cache, and a file is never
 * modified in place (dict_dbfile.h): builds, updates and deletes write a
 * new file and rename it, so readers need neither locks nor a shared
 * cache. A corrupt or truncated file is caught at open (meta page and file
 * size) or reported by Berkeley DB as an error, never as "not found". */
#include "config.h"

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict_backends.h"
#include "dict_dbfile.h"
#include "mem.h"

/* Cache of a reader: lookups touch one or two pages each, and the kernel's
 * page cache holds the file anyway, so a small private cache suffices. */
#define DB_READ_CACHE (128 * 1024)
/* Cache while building: pages are written out when evicted. Inserts are
 * random, so a cache much smaller than the table misses as often as a big
 * one (measured: 1, 4 and 16 MB build a 1M-entry table in the same time);
 * keep it small and the builder's memory stays flat. */
#define DB_BUILD_CACHE (2 * 1024 * 1024)
#define DB_PAGE_SIZE 4096
/* Expected stored bytes per entry, to presize the hash from the source. */
#define DB_HASH_BYTES_PER_ENTRY 48
#define DB_HASH_MAX_NELEM (64u * 1024 * 1024)
/* Entries per bucket: fills a page to about 80 % at that entry size. */
#define DB_HASH_FFACTOR (DB_PAGE_SIZE * 4 / 5 / (DB_HASH_BYTES_PER_ENTRY + 8))

struct dict_db {
	struct dict d;
	DB *db;
	DBTYPE type;
	char *path;	 /* NAME.db */
	int nul;	 /* enum dict_dbfile_nul: stored forms to try */
	struct str kbuf; /* iterate: key without NUL */
	struct str vbuf; /* iterate: value without NUL */
};

struct dict_db_builder {
	struct dict_dbfile_writer w;
	DB *db;
	int flags;
	struct str kbuf;
	struct str error;
};

/* Berkeley DB's own explanation of the last failure (single-threaded). */
static char db_errmsg[512];

static void db_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	snprintf(db_errmsg, sizeof(db_errmsg), "%s", msg);
}

/* Formats "what path: reason (detail)" into err and returns it; detail is
 * Berkeley DB's own message, without the path it repeats. */
static const char *db_error(struct str *err, const char *what, const char *path,
			    int code)
{
	char detail[sizeof(db_errmsg)];
	const char *p = strstr(db_errmsg, path);

	if (p != NULL && strncmp(p + strlen(path), ": ", 2) == 0)
		snprintf(detail, sizeof(detail), "%.*s%s", (int)(p - db_errmsg),
			 db_errmsg, p + strlen(path) + 2);
	else
		snprintf(detail, sizeof(detail), "%s", db_errmsg);
	str_clear(err);
	str_printf(err, "%s %s: %s%s%s%s", what, path, db_strerror(code),
		   detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
	db_errmsg[0] = '\0';
	return err->data;
}

/* Copies an error that must outlive the object holding it (a failed open
 * or builder frees itself); valid until the next such error. */
static const char *db_keep_error(const char *msg)
{
	static struct str kept;

	if (kept.data == NULL)
		str_init(&kept, 128);
	str_set(&kept, msg, strlen(msg));
	return kept.data;
}

static const char *db_type_name(DBTYPE type)
{
	return type == DB_HASH ? "hash" : "btree";
}

static int db_create_handle(DB **db_r, u_int32_t cache, struct str *err,
			    const char *path)
{
	int ret;

	db_errmsg[0] = '\0';
	if ((ret = db_create(db_r, NULL, 0)) != 0) {
		db_error(err, "create handle for", path, ret);
		return -1;
	}
	(*db_r)->set_errcall(*db_r, db_errcall);
	if ((ret = (*db_r)->set_cachesize(*db_r, 0, cache, 1)) != 0) {
		db_error(err, "set cache size for", path, ret);
		(*db_r)->close(*db_r, DB_NOSYNC);
		*db_r = NULL;
		return -1;
	}
	return 1;
}

static uint32_t db_u32(const unsigned char *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? __builtin_bswap32(v) : v;
}

/* Checks the file before Berkeley DB reads it: the meta page header
 * (fields of Berkeley DB's DBMETA: magic at 12, page size at 20, last page
 * number at 32) must name the expected type, and the file must hold every
 * page, so that a truncated file is a clear error and never a wild read. */
static int db_check_file(const char *path, DBTYPE type, struct str *err)
{
	unsigned char meta[36];
	unsigned long long size, pages;
	uint32_t magic, pagesize;
	bool swap;
	int fd;
	ssize_t n;

	if (dict_dbfile_check_path(path, &size, err) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		str_printf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	n = pread(fd, meta, sizeof(meta), 0);
	magic = n == (ssize_t)sizeof(meta) ? db_u32(meta + 12, false) : 0;
	swap = magic != DB_HASHMAGIC && magic != DB_BTREEMAGIC;
	magic = n == (ssize_t)sizeof(meta) ? db_u32(meta + 12, swap) : 0;
	pagesize = db_u32(meta + 20, swap);
	pages = (unsigned long long)db_u32(meta + 32, swap) + 1;
	if (magic != DB_HASHMAGIC && magic != DB_BTREEMAGIC) {
		str_printf(err, "open %s: not a Berkeley DB hash or btree file",
			   path);
	} else if ((magic == DB_HASHMAGIC) != (type == DB_HASH)) {
		str_printf(err, "open %s: not a %s table (it is a %s table)",
			   path, db_type_name(type),
			   db_type_name(type == DB_HASH ? DB_BTREE : DB_HASH));
	} else if (pagesize < 512 || pagesize > 65536 ||
		   (pagesize & (pagesize - 1)) != 0 || size % pagesize != 0) {
		str_printf(err,
			   "%s: file is truncated or corrupt (%llu bytes, "
			   "page size %u): rebuild it with postern map",
			   path, size, pagesize);
	} else {
		int ret =
		    dict_dbfile_check_size(fd, path, pages * pagesize, err);

		close(fd);
		return ret;
	}
	close(fd);
	return -1;
}

/* Learns whether this file stores keys with their NUL from its first
 * entry (one file holds one form), so that a lookup costs one get. */
static int db_learn_nul(struct dict_db *dd, DB *db, const char **error_r)
{
	DBT k, v;
	DBC *c;
	int ret;

	dd->nul = DICT_DBFILE_WITH_NUL | DICT_DBFILE_WITHOUT_NUL;
	if ((ret = db->cursor(db, NULL, &c, 0)) != 0) {
		*error_r = db_error(&dd->d.error, "read", dd->path, ret);
		return -1;
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	ret = c->get(c, &k, &v, DB_FIRST);
	c->close(c);
	if (ret == DB_NOTFOUND)
		return 1;
	if (ret != 0) {
		*error_r = db_error(&dd->d.error, "read", dd->path, ret);
		return -1;
	}
	if (k.size > 0 && ((const char *)k.data)[k.size - 1] == '\0')
		dd->nul = DICT_DBFILE_WITH_NUL;
	else
		dd->nul = DICT_DBFILE_WITHOUT_NUL;
	return 1;
}

/* Opens dd->path read-only and checks it; sets dd->db only on success. */
static int db_open_handle(struct dict_db *dd, const char **error_r)
{
	struct str *err = &dd->d.error;
	DB *db;
	int ret;

	if (db_check_file(dd->path, dd->type, err) < 0 ||
	    db_create_handle(&db, DB_READ_CACHE, err, dd->path) < 0) {
		*error_r = err->data;
		return -1;
	}
	ret = db->open(db, NULL, dd->path, NULL, dd->type, DB_RDONLY, 0);
	if (ret != 0) {
		*error_r = db_error(err, "open", dd->path, ret);
		db->close(db, DB_NOSYNC);
		return -1;
	}
	if (db_learn_nul(dd, db, error_r) < 0) {
		db->close(db, DB_NOSYNC);
		return -1;
	}
	dd->db = db;
	return 1;
}

static int db_get(struct dict_db *dd, const char *key, size_t klen,
		  struct str *value_r, const char **error_r)
{
	DBT k, v;
	int ret;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = dd->db->get(dd->db, NULL, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0) {
		*error_r = db_error(&dd->d.error, "lookup in", dd->path, ret);
		return -1;
	}
	dict_dbfile_unstore(value_r, v.data, v.size);
	return 1;
}

static int dict_db_lookup(struct dict *d, const char *key, struct str *value_r,
			  const char **error_r)
{
	struct dict_db *dd = (struct dict_db *)d;
	size_t len = strlen(key);
	int ret = 0;

	if (len >= UINT32_MAX)
		return 0;
	if (dd->nul & DICT_DBFILE_WITH_NUL)
		ret = db_get(dd, key, len + 1, value_r, error_r);
	if (ret == 0 && (dd->nul & DICT_DBFILE_WITHOUT_NUL))
		ret = db_get(dd, key, len, value_r, error_r);
	return ret;
}

static int dict_db_iterate(struct dict *d,
			   int (*fn)(void *ctx, const char *key,
				     const char *value),
			   void *ctx, const char **error_r)
{
	struct dict_db *dd = (struct dict_db *)d;
	DBT k, v;
	DBC *c;
	int ret;

	if ((ret = dd->db->cursor(dd->db, NULL, &c, 0)) != 0) {
		*error_r = db_error(&dd->d.error, "read", dd->path, ret);
		return -1;
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		dict_dbfile_unstore(&dd->kbuf, k.data, k.size);
		dict_dbfile_unstore(&dd->vbuf, v.data, v.size);
		if (fn(ctx, dd->kbuf.data, dd->vbuf.data) != 0)
			break;
	}
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND) {
		*error_r = db_error(&dd->d.error, "read", dd->path, ret);
		return -1;
	}
	return 1;
}

/* Stores key/value in the form the file uses; with overwrite false an
 * existing key is kept and 0 returned. */
static int db_store(DB *db, const char *key, const char *value, bool nul,
		    bool overwrite, struct str *err, const char *path)
{
	DBT k, v;
	int ret;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)(strlen(key) + nul);
	v.data = (void *)value;
	v.size = (u_int32_t)(strlen(value) + nul);
	ret = db->put(db, NULL, &k, &v, overwrite ? 0 : DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST)
		return 0;
	if (ret != 0) {
		db_error(err, "write", path, ret);
		return -1;
	}
	return 1;
}

/* Deletes both stored forms of key; returns 1 if one was there. */
static int db_delete(DB *db, const char *key, struct str *err, const char *path)
{
	int found = 0;

	for (size_t extra = 0; extra < 2; extra++) {
		DBT k;
		int ret;

		memset(&k, 0, sizeof(k));
		k.data = (void *)key;
		k.size = (u_int32_t)(strlen(key) + extra);
		ret = db->del(db, NULL, &k, 0);
		if (ret == 0)
			found = 1;
		else if (ret != DB_NOTFOUND) {
			db_error(err, "delete in", path, ret);
			return -1;
		}
	}
	return found;
}

/* Edits the copy tmp: returns 1 changed, 0 key not there, -1 error. */
static int db_modify_tmp(struct dict_db *dd, const char *tmp, const char *key,
			 const char *value)
{
	struct str *err = &dd->d.error;
	bool nul = dd->nul != DICT_DBFILE_WITHOUT_NUL;
	DB *db;
	int ret, cret;

	if (db_create_handle(&db, DB_BUILD_CACHE, err, tmp) < 0)
		return -1;
	if ((ret = db->open(db, NULL, tmp, NULL, dd->type, 0, 0)) != 0) {
		db_error(err, "open", tmp, ret);
		db->close(db, DB_NOSYNC);
		return -1;
	}
	if (value == NULL)
		ret = db_delete(db, key, err, tmp);
	else
		ret = db_store(db, key, value, nul, true, err, tmp);
	cret = db->close(db, ret > 0 ? 0 : DB_NOSYNC);
	if (cret != 0 && ret > 0) {
		db_error(err, "write", tmp, cret);
		return -1;
	}
	return ret;
}

struct db_change {
	struct dict_db *dd;
	const char *key;
	const char *value;
};

static int db_apply(void *ctx, const char *tmp)
{
	struct db_change *c = ctx;

	return db_modify_tmp(c->dd, tmp, c->key, c->value);
}

/* Applies one change to a copy of the live file and publishes the copy
 * (dict_dbfile.h): O(table size) per change, but readers never see a file
 * being modified. value NULL deletes. Then reopens the new file. */
static int db_modify(struct dict_db *dd, const char *key, const char *value,
		     const char **error_r)
{
	struct db_change c = {dd, key, value};
	DB *old;
	int ret;

	ret = dict_dbfile_modify(dd->path, db_apply, &c, &dd->d.error, error_r);
	if (ret <= 0)
		return ret;
	old = dd->db;
	if (db_open_handle(dd, error_r) < 0) {
		dd->db = old; /* keep serving the old snapshot */
		return -1;
	}
	old->close(old, DB_NOSYNC);
	return ret;
}

static int dict_db_update(struct dict *d, const char *key, const char *value,
			  const char **error_r)
{
	return db_modify((struct dict_db *)d, key, value, error_r);
}

static int dict_db_remove(struct dict *d, const char *key, const char **error_r)
{
	return db_modify((struct dict_db *)d, key, NULL, error_r);
}

static void dict_db_close(struct dict *d)
{
	struct dict_db *dd = (struct dict_db *)d;

	if (dd->db != NULL)
		dd->db->close(dd->db, DB_NOSYNC);
	mem_free(dd->path);
	str_deinit(&dd->kbuf);
	str_deinit(&dd->vbuf);
	dict_free_common(d);
}

static const struct dict_ops dict_db_ops = {
    .lookup = dict_db_lookup,
    .update = dict_db_update,
    .remove = dict_db_remove,
    .iterate = dict_db_iterate,
    .close = dict_db_close,
};

static char *db_path(const char *name)
{
	struct str p;
	char *ret;

	str_init(&p, strlen(name) + 3);
	str_printf(&p, "%s.db", name);
	ret = str_steal(&p);
	str_deinit(&p);
	return ret;
}

static struct dict *db_open(const char *name, DBTYPE type, int flags,
			    const char **error_r)
{
	struct dict_db *dd;

	dd = (struct dict_db *)dict_alloc(sizeof(*dd), &dict_db_ops,
					  db_type_name(type), name, flags);
	dd->type = type;
	dd->path = db_path(name);
	str_init(&dd->kbuf, 64);
	str_init(&dd->vbuf, 64);
	if (db_open_handle(dd, error_r) < 0) {
		*error_r = db_keep_error(*error_r);
		dict_db_close(&dd->d);
		return NULL;
	}
	return &dd->d;
}

struct dict *dict_hash_open(const char *name, int flags, const char **error_r)
{
	return db_open(name, DB_HASH, flags, error_r);
}

struct dict *dict_btree_open(const char *name, int flags, const char **error_r)
{
	return db_open(name, DB_BTREE, flags, error_r);
}

/* ---- builder ---------------------------------------------------------- */

/* Presizes the hash from the source size, so that it does not grow by
 * splitting buckets while filling; a wrong guess costs only speed. */
static void db_presize(DB *db, const char *source)
{
	struct stat st;
	unsigned long long n;

	if (source == NULL || stat(source, &st) < 0 || st.st_size <= 0)
		return;
	n = (unsigned long long)st.st_size / DB_HASH_BYTES_PER_ENTRY;
	if (n > DB_HASH_MAX_NELEM)
		n = DB_HASH_MAX_NELEM;
	if (n == 0)
		return;
	/* Berkeley DB uses the element count only with a fill factor */
	(void)db->set_h_ffactor(db, DB_HASH_FFACTOR);
	(void)db->set_h_nelem(db, (u_int32_t)n);
}

static void db_builder_free(struct dict_db_builder *b)
{
	dict_dbfile_writer_free(&b->w);
	str_deinit(&b->kbuf);
	str_deinit(&b->error);
	mem_free(b);
}

static struct dict_db_builder *db_builder_begin(const char *source, DBTYPE type,
						int flags, const char **error_r)
{
	struct dict_db_builder *b = mem_alloc(sizeof(*b));
	char *path = db_path(source);
	const char *err;
	int ret;

	b->flags = flags;
	str_init(&b->kbuf, 64);
	str_init(&b->error, 128);
	ret = dict_dbfile_writer_begin(&b->w, path, source, &err);
	mem_free(path);
	if (ret < 0) {
		*error_r = db_keep_error(err);
		db_builder_free(b);
		return NULL;
	}
	if (db_create_handle(&b->db, DB_BUILD_CACHE, &b->error, b->w.tmp) < 0)
		goto fail;
	(void)b->db->set_pagesize(b->db, DB_PAGE_SIZE);
	if (type == DB_HASH)
		db_presize(b->db, source);
	ret = b->db->open(b->db, NULL, b->w.tmp, NULL, type,
			  DB_CREATE | DB_EXCL, 0600);
	if (ret == 0)
		return b;
	db_error(&b->error, "create", b->w.tmp, ret);
	b->db->close(b->db, DB_NOSYNC);
fail:
	*error_r = db_keep_error(b->error.data);
	dict_dbfile_writer_abort(&b->w);
	db_builder_free(b);
	return NULL;
}

static int db_builder_add(struct dict_builder *builder, const char *key,
			  const char *value, const char **error_r)
{
	struct dict_db_builder *b = (struct dict_db_builder *)builder;
	int ret;

	key = dict_dbfile_fold(&b->kbuf, key, b->flags);
	ret = db_store(b->db, key, value, true, false, &b->error, b->w.tmp);
	if (ret == 0 && (b->flags & DICT_FLAG_DUP_REPLACE))
		ret = db_store(b->db, key, value, true, true, &b->error,
			       b->w.tmp) < 0
			  ? -1
			  : 0;
	if (ret < 0)
		*error_r = b->error.data;
	return ret;
}

static int db_builder_commit(struct dict_builder *builder, const char **error_r)
{
	struct dict_db_builder *b = (struct dict_db_builder *)builder;
	const char *err = NULL;
	int ret;

	/* close() writes every cached page to the temporary */
	ret = b->db->close(b->db, 0);
	b->db = NULL;
	if (ret != 0) {
		err = db_error(&b->error, "write", b->w.tmp, ret);
		dict_dbfile_writer_abort(&b->w);
	} else if (dict_dbfile_writer_commit(&b->w, &err) < 0) {
		ret = -1;
	}
	if (err != NULL)
		*error_r = db_keep_error(err);
	db_builder_free(b);
	return ret == 0 ? 1 : -1;
}

static void db_builder_abort(struct dict_builder *builder)
{
	struct dict_db_builder *b = (struct dict_db_builder *)builder;

	if (b->db != NULL)
		b->db->close(b->db, DB_NOSYNC);
	dict_dbfile_writer_abort(&b->w);
	db_builder_free(b);
}

static struct dict_builder *db_hash_begin(const char *path, int flags,
					  const char **error_r)
{
	return (struct dict_builder *)db_builder_begin(path, DB_HASH, flags,
						       error_r);
}

static struct dict_builder *db_btree_begin(const char *path, int flags,
					   const char **error_r)
{
	return (struct dict_builder *)db_builder_begin(path, DB_BTREE, flags,
						       error_r);
}

const struct dict_builder_ops dict_hash_builder = {
    .begin = db_hash_begin,
    .add = db_builder_add,
    .commit = db_builder_commit,
    .abort = db_builder_abort,
};

const struct dict_builder_ops dict_btree_builder = {
    .begin = db_btree_begin,
    .add = db_builder_add,
    .commit = db_builder_commit,
    .abort = db_builder_abort,
};
