/* t/unit/dict_filetab.h: checks every file-backed table backend (hash,
 * btree, lmdb) must pass, shared by t/unit/dict_db.c and t/unit/dict_lmdb.c
 * (static functions: included once per test program). */
#ifndef POSTERN_T_DICT_FILETAB_H
#define POSTERN_T_DICT_FILETAB_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "str.h"
#include "tap.h"

struct ft {
	const char *type;   /* "hash" */
	const char *suffix; /* ".db" */
	const struct dict_builder_ops *ops;
	struct str src;	 /* source path (need not exist) */
	struct str file; /* src + suffix */
	struct str spec; /* type:src */
};

static void ft_init(struct ft *t, const char *type, const char *suffix,
		    const char *name)
{
	t->type = type;
	t->suffix = suffix;
	t->ops = dict_type_find(type)->builder;
	str_init(&t->src, 0);
	str_init(&t->file, 0);
	str_init(&t->spec, 0);
	str_printf(&t->src, "%s/%s-%s", tap_tmpdir(), type, name);
	str_printf(&t->file, "%s%s", t->src.data, suffix);
	str_printf(&t->spec, "%s:%s", type, t->src.data);
}

static void ft_deinit(struct ft *t)
{
	str_deinit(&t->src);
	str_deinit(&t->file);
	str_deinit(&t->spec);
}

/* Builds from pairs {k, v, k, v, ..., NULL}; returns commit's result. */
static int ft_build(struct ft *t, int flags, const char *const *kv)
{
	const char *err = NULL;
	struct dict_builder *b = t->ops->begin(t->src.data, flags, &err);

	if (b == NULL) {
		tap_diag("begin: %s", err);
		return -1;
	}
	for (; kv[0] != NULL; kv += 2) {
		if (t->ops->add(b, kv[0], kv[1], &err) < 0) {
			tap_diag("add: %s", err);
			t->ops->abort(b);
			return -1;
		}
	}
	if (t->ops->commit(b, &err) < 0) {
		tap_diag("commit: %s", err);
		return -1;
	}
	return 1;
}

/* Looks key up in a fresh handle: the value, "" for not found, or
 * "ERROR" for an error. */
static const char *ft_get(struct ft *t, const char *key)
{
	static struct str value;
	const char *err;
	struct dict *d = dict_open(t->spec.data, 0, &err);
	int ret;

	if (value.data == NULL)
		str_init(&value, 0);
	if (d == NULL) {
		tap_diag("open: %s", err);
		return "ERROR";
	}
	ret = dict_lookup(d, key, &value, &err);
	dict_close(&d);
	return ret < 0 ? "ERROR" : ret == 0 ? "" : value.data;
}

static int ft_count_fn(void *ctx, const char *key, const char *value)
{
	(*(int *)ctx)++;
	return 0;
}

static void ft_check_build(struct ft *t)
{
	static const char *const kv[] = {
	    "Alice@Example.COM", "alice@local", "bob", "b1",
	    "spaced key",	 "v s",		NULL};
	const char *err = NULL;
	struct dict_builder *b;
	struct stat st;
	int fd;

	fd = open(t->src.data, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	close(fd);
	chmod(t->src.data, 0640);
	is_int(ft_build(t, 0, kv), 1, "build commits");
	is_str(ft_get(t, "alice@example.com"), "alice@local",
	       "folded key found");
	is_str(ft_get(t, "ALICE@example.com"), "alice@local",
	       "lookup folds too");
	is_str(ft_get(t, "spaced key"), "v s", "key with a space");
	is_str(ft_get(t, "carol"), "", "missing key not found");
	ok(stat(t->file.data, &st) == 0 && (st.st_mode & 0777) == 0640,
	   "table inherits the source mode (%o)", (unsigned)st.st_mode & 0777);

	b = t->ops->begin(t->src.data, 0, &err);
	is_int(t->ops->add(b, "k", "first", &err), 1, "add new key");
	is_int(t->ops->add(b, "K", "second", &err), 0, "duplicate returns 0");
	is_int(t->ops->add(b, "other", "x", &err), 1, "add after duplicate");
	is_int(t->ops->commit(b, &err), 1, "commit");
	is_str(ft_get(t, "k"), "first", "duplicate keeps the first");

	b = t->ops->begin(t->src.data, DICT_FLAG_DUP_REPLACE, &err);
	t->ops->add(b, "k", "first", &err);
	is_int(t->ops->add(b, "k", "second", &err), 0,
	       "replace: dup returns 0");
	t->ops->commit(b, &err);
	is_str(ft_get(t, "k"), "second", "DUP_REPLACE keeps the last");

	b = t->ops->begin(t->src.data, DICT_FLAG_NO_FOLD, &err);
	t->ops->add(b, "MiXed", "m", &err);
	t->ops->commit(b, &err);
	{
		struct dict *d =
		    dict_open(t->spec.data, DICT_FLAG_NO_FOLD, &err);
		struct str v;

		str_init(&v, 0);
		is_int(dict_lookup(d, "MiXed", &v, &err), 1,
		       "NO_FOLD: exact case");
		is_int(dict_lookup(d, "mixed", &v, &err), 0,
		       "NO_FOLD: other case not found");
		str_deinit(&v);
		dict_close(&d);
	}
}

/* A failed build leaves the old table; readers keep their snapshot. */
static void ft_check_atomic(struct ft *t)
{
	static const char *const v1[] = {"key", "one", NULL};
	static const char *const v2[] = {"key", "two", NULL};
	const char *err = NULL;
	struct dict_builder *b;
	struct dict *old;
	struct str v, tmp;

	str_init(&v, 0);
	str_init(&tmp, 0);
	ft_build(t, 0, v1);
	b = t->ops->begin(t->src.data, 0, &err);
	t->ops->add(b, "key", "aborted", &err);
	t->ops->abort(b);
	is_str(ft_get(t, "key"), "one", "abort keeps the old table");
	str_printf(&tmp, "%s.tmp%ld", t->file.data, (long)getpid());
	ok(access(tmp.data, F_OK) != 0, "abort removes the temporary");

	old = dict_open(t->spec.data, 0, &err);
	ft_build(t, 0, v2);
	is_int(dict_lookup(old, "key", &v, &err), 1, "open reader still works");
	is_str(v.data, "one", "open reader keeps its snapshot");
	is_str(ft_get(t, "key"), "two", "new reader sees the new table");
	ok(access(tmp.data, F_OK) != 0, "commit leaves no temporary");
	dict_close(&old);
	str_deinit(&v);
	str_deinit(&tmp);
}

static void ft_check_iterate_remove(struct ft *t)
{
	static const char *const kv[] = {"a", "1", "b", "2", "c", "3", NULL};
	const char *err = NULL;
	struct dict *d;
	struct str v;
	int n = 0;

	str_init(&v, 0);
	ft_build(t, 0, kv);
	d = dict_open(t->spec.data, DICT_FLAG_WRITE, &err);
	ok(d != NULL, "open for writing");
	is_int(dict_iterate(d, ft_count_fn, &n, &err), 1, "iterate");
	is_int(n, 3, "iterate sees every entry");
	is_int(dict_remove(d, "B", &err), 1, "remove existing (folded)");
	is_int(dict_lookup(d, "b", &v, &err), 0,
	       "removed key gone (same handle)");
	is_str(ft_get(t, "b"), "", "removed key gone (new handle)");
	is_str(ft_get(t, "a"), "1", "other keys stay");
	is_int(dict_remove(d, "zzz", &err), 0, "remove missing returns 0");
	is_int(dict_update(d, "a", "new", &err), 1, "update existing");
	is_int(dict_update(d, "d", "4", &err), 1, "update adds");
	is_str(ft_get(t, "a"), "new", "update visible");
	is_str(ft_get(t, "d"), "4", "added visible");
	n = 0;
	dict_iterate(d, ft_count_fn, &n, &err);
	is_int(n, 3, "entries after remove and update");
	dict_close(&d);
	d = dict_open(t->spec.data, 0, &err);
	is_int(dict_remove(d, "a", &err), -1, "remove needs DICT_FLAG_WRITE");
	dict_close(&d);
	str_deinit(&v);
}

/* Writes len bytes of data at the start of the table file (or truncates it
 * to len when data is NULL). */
static void ft_damage(struct ft *t, const void *data, size_t len)
{
	if (data == NULL) {
		ok(truncate(t->file.data, (off_t)len) == 0, "truncate to %zu",
		   len);
		return;
	}
	{
		int fd = open(t->file.data, O_WRONLY | O_TRUNC);

		ok(fd >= 0 && write(fd, data, len) == (ssize_t)len,
		   "write garbage");
		close(fd);
	}
}

static void ft_expect_open_error(struct ft *t, const char *what,
				 const char *needle)
{
	const char *err = NULL;
	struct dict *d = dict_open(t->spec.data, 0, &err);

	ok(d == NULL, "%s: open fails", what);
	ok(err != NULL && strstr(err, t->file.data) != NULL,
	   "%s: error names the file: %s", what, err ? err : "(null)");
	if (needle != NULL)
		ok(err != NULL && strstr(err, needle) != NULL,
		   "%s: error says %s", what, needle);
	dict_close(&d);
}

/* A table of many pages; returns its size. */
static off_t ft_build_big(struct ft *t)
{
	const char *err;
	struct dict_builder *b = t->ops->begin(t->src.data, 0, &err);
	struct stat st;
	struct str key;

	str_init(&key, 0);
	for (int i = 0; i < 20000; i++) {
		str_clear(&key);
		str_printf(&key, "key%d", i);
		t->ops->add(b, key.data, "some value that takes room", &err);
	}
	t->ops->commit(b, &err);
	str_deinit(&key);
	is_str(ft_get(t, "key19999"), "some value that takes room",
	       "big table built");
	return stat(t->file.data, &st) == 0 ? st.st_size : 0;
}

static void ft_check_corrupt(struct ft *t)
{
	char garbage[8192];
	off_t size;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	ft_build_big(t);
	ft_damage(t, garbage, sizeof(garbage));
	ft_expect_open_error(t, "garbage", NULL);
	ft_damage(t, "", 0);
	ft_expect_open_error(t, "empty file", NULL);

	size = ft_build_big(t);
	ft_damage(t, NULL, (size_t)size / 2);
	ft_expect_open_error(t, "truncated to half", "truncated");
	size = ft_build_big(t);
	ft_damage(t, NULL, (size_t)size - 100);
	ft_expect_open_error(t, "truncated by 100 bytes", NULL);
	ft_build_big(t);
	ft_damage(t, NULL, 100);
	ft_expect_open_error(t, "truncated to 100 bytes", NULL);

	unlink(t->file.data);
	ft_expect_open_error(t, "missing", "No such file");
	mkdir(t->file.data, 0700);
	ft_expect_open_error(t, "directory", NULL);
	rmdir(t->file.data);
}

static void ft_check_all(const char *type, const char *suffix)
{
	struct ft t;

	ft_init(&t, type, suffix, "build");
	ft_check_build(&t);
	ft_deinit(&t);
	ft_init(&t, type, suffix, "atomic");
	ft_check_atomic(&t);
	ft_deinit(&t);
	ft_init(&t, type, suffix, "edit");
	ft_check_iterate_remove(&t);
	ft_deinit(&t);
	ft_init(&t, type, suffix, "corrupt");
	ft_check_corrupt(&t);
	ft_deinit(&t);
}

#endif
