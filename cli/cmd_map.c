/* cmd_map.c: `postern map`, postmap(1) for Postern: builds a file table
 * (hash, btree, lmdb) from its source file, and queries, deletes in and
 * dumps any table. Exit codes: 0 ok/found, 1 not found, 2 error.
 *
 * Builds go through the backend's builder (lib/dict.h): the new table is
 * written beside the old one and renamed over it on success, so a failed
 * build (bad source line, full disk) leaves the previous table in use. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "dict.h"
#include "dict_source.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

#define MAP_EXIT_NOTFOUND 1
#define MAP_EXIT_ERROR 2
/* Limits on keys read from standard input (-q -, -d -). */
#define MAP_STDIN_LINE_MAX DICT_SOURCE_LINE_MAX
#define MAP_DELETE_MAX_KEYS 1000000
#define MAP_OUT_BUF (256 * 1024)

struct map_opts {
	int flags;	    /* DICT_FLAG_NO_FOLD, DICT_FLAG_DUP_REPLACE */
	bool warn_dups;	    /* neither -r nor -w */
	const char *query;  /* -q KEY or "-" */
	const char *remove; /* -d KEY or "-" */
	bool dump;	    /* -s */
	bool list_types;    /* -m */
	char *type;	    /* table type */
	const char *path;   /* table name (the source path for builds) */
	char *spec;	    /* "type:path" */
};

/* The one place that decides what a bare path means. Later this becomes
 * default_database_type from main.cf (as Postfix's postmap does). */
static const char *map_default_type(void)
{
	return "hash";
}

static int map_usage(void)
{
	fprintf(stderr, "usage: postern map [-Nfrw] [-q key | -q - | -d key | "
			"-d - | -s | -m] [type:]path\n");
	return MAP_EXIT_ERROR;
}

/* Splits "[type:]path". A colon counts only after a type-like prefix (no
 * '/'), so "./a:b" is a bare path. */
static void map_parse_spec(struct map_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (colon != NULL && colon != arg &&
	    memchr(arg, '/', (size_t)(colon - arg)) == NULL) {
		o->type = mem_strndup(arg, (size_t)(colon - arg));
		o->path = colon + 1;
	} else {
		o->type = mem_strdup(map_default_type());
		o->path = arg;
	}
	{
		struct str s;

		str_init(&s, strlen(o->type) + strlen(o->path) + 1);
		str_printf(&s, "%s:%s", o->type, o->path);
		o->spec = str_steal(&s);
		str_deinit(&s);
	}
}

static int map_parse_args(struct map_opts *o, int argc, char **argv)
{
	int c, modes = 0;

	o->warn_dups = true;
	optind = 1;
	while ((c = getopt(argc, argv, "Nfrwq:d:sm")) != -1) {
		switch (c) {
		case 'N': /* the NUL is always stored (see doc/postern-map.1) */
			break;
		case 'f':
			o->flags |= DICT_FLAG_NO_FOLD;
			break;
		case 'r':
			o->flags |= DICT_FLAG_DUP_REPLACE;
			o->warn_dups = false;
			break;
		case 'w':
			o->flags &= ~DICT_FLAG_DUP_REPLACE;
			o->warn_dups = false;
			break;
		case 'q':
			o->query = optarg, modes++;
			break;
		case 'd':
			o->remove = optarg, modes++;
			break;
		case 's':
			o->dump = true, modes++;
			break;
		case 'm':
			o->list_types = true, modes++;
			break;
		default:
			return -1;
		}
	}
	if (modes > 1 || (!o->list_types && optind != argc - 1) ||
	    (o->list_types && optind != argc))
		return -1;
	if (!o->list_types)
		map_parse_spec(o, argv[optind]);
	return 1;
}

/* ---- reading keys from standard input --------------------------------- */

/* Calls fn for each line of in (without its newline); lines are limited
 * to MAP_STDIN_LINE_MAX bytes. Returns 1, or -1 after reporting. */
static int map_read_lines(FILE *in, int (*fn)(void *ctx, const char *line),
			  void *ctx)
{
	char buf[65536];
	struct str line;
	long lineno = 0;
	int ret = 1;
	size_t n;

	str_init(&line, 256);
	line.max = MAP_STDIN_LINE_MAX;
	while (ret > 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		const char *p = buf, *end = buf + n, *nl;

		while (ret > 0 && p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (str_append(&line, p,
				       (size_t)((nl ? nl : end) - p)) < 0) {
				msg_error(
				    "standard input:%ld: line longer than "
				    "%d bytes",
				    lineno + 1, MAP_STDIN_LINE_MAX);
				ret = -1;
				break;
			}
			if (nl == NULL)
				break;
			lineno++;
			ret = fn(ctx, line.data);
			str_clear(&line);
			p = nl + 1;
		}
	}
	if (ret > 0 && ferror(in)) {
		msg_error("read standard input: %s", strerror(errno));
		ret = -1;
	}
	if (ret > 0 && line.len > 0)
		ret = fn(ctx, line.data);
	str_deinit(&line);
	return ret;
}

/* ---- -q --------------------------------------------------------------- */

struct map_query {
	struct dict *d;
	struct str value;
	int found;
};

static int map_query_line(void *ctx, const char *key)
{
	struct map_query *q = ctx;
	const char *err;
	int ret = dict_lookup(q->d, key, &q->value, &err);

	if (ret < 0) {
		msg_error("%s", err);
		return -1;
	}
	if (ret > 0) {
		q->found = 1;
		fputs(key, stdout);
		putchar('\t');
		fputs(q->value.data, stdout);
		putchar('\n');
	}
	return 1;
}

static int map_finish_output(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("write standard output: %s", strerror(errno));
		return MAP_EXIT_ERROR;
	}
	return code;
}

static int map_query(struct map_opts *o)
{
	struct map_query q;
	const char *err;
	int ret;

	memset(&q, 0, sizeof(q));
	if ((q.d = dict_open(o->spec, o->flags, &err)) == NULL) {
		msg_error("%s", err);
		return MAP_EXIT_ERROR;
	}
	str_init(&q.value, 256);
	if (strcmp(o->query, "-") == 0) {
		ret = map_read_lines(stdin, map_query_line, &q);
	} else {
		ret = dict_lookup(q.d, o->query, &q.value, &err);
		if (ret < 0)
			msg_error("%s", err);
		else if (ret > 0)
			printf("%s\n", q.value.data);
		q.found = ret > 0;
	}
	str_deinit(&q.value);
	dict_close(&q.d);
	if (ret < 0)
		return MAP_EXIT_ERROR;
	return map_finish_output(q.found ? 0 : MAP_EXIT_NOTFOUND);
}

/* ---- -s --------------------------------------------------------------- */

/* Writes a key so that the source syntax reads it back: in double quotes
 * with \" and \\ when it holds whitespace, quotes, or starts with '#'. */
static void map_put_key(const char *key)
{
	if (key[0] != '\0' && key[0] != '#' &&
	    strpbrk(key, " \t\"\\") == NULL) {
		fputs(key, stdout);
		return;
	}
	putchar('"');
	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	putchar('"');
}

static int map_dump_entry(void *ctx, const char *key, const char *value)
{
	map_put_key(key);
	putchar('\t');
	fputs(value, stdout);
	putchar('\n');
	return ferror(stdout) ? 1 : 0;
}

static int map_dump(struct map_opts *o)
{
	const char *err;
	struct dict *d = dict_open(o->spec, o->flags, &err);
	int ret;

	if (d == NULL) {
		msg_error("%s", err);
		return MAP_EXIT_ERROR;
	}
	ret = dict_iterate(d, map_dump_entry, NULL, &err);
	if (ret < 0)
		msg_error("%s", err);
	dict_close(&d);
	return ret < 0 ? MAP_EXIT_ERROR : map_finish_output(0);
}

/* ---- -d --------------------------------------------------------------- */

/* Keys to delete with -d -, sorted for bsearch. */
struct map_keyset {
	char **keys;
	size_t count, cap;
	bool fold;
};

static int map_keyset_add(void *ctx, const char *line)
{
	struct map_keyset *ks = ctx;
	struct str k;

	if (ks->count >= MAP_DELETE_MAX_KEYS) {
		msg_error("standard input: more than %d keys to delete",
			  MAP_DELETE_MAX_KEYS);
		return -1;
	}
	if (ks->count == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 64;
		ks->keys =
		    mem_realloc(ks->keys, size_mul(ks->cap, sizeof(char *)));
	}
	str_init(&k, strlen(line));
	str_append_cstr(&k, line);
	if (ks->fold)
		str_lower(&k);
	ks->keys[ks->count++] = str_steal(&k);
	str_deinit(&k);
	return 1;
}

static int map_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct map_rewrite {
	const struct dict_builder_ops *ops;
	struct dict_builder *b;
	struct map_keyset *ks;
	long deleted;
	const char *err;
};

static int map_rewrite_entry(void *ctx, const char *key, const char *value)
{
	struct map_rewrite *rw = ctx;

	if (bsearch(&key, rw->ks->keys, rw->ks->count, sizeof(char *),
		    map_strcmp) != NULL) {
		rw->deleted++;
		return 0;
	}
	return rw->ops->add(rw->b, key, value, &rw->err) < 0 ? 1 : 0;
}

/* -d -: one rewrite of the table without the keys read from stdin, through
 * the builder (so the same copy+rename as a build; the builder's lock is
 * taken before the old table is read, so no concurrent change is lost). */
static int map_delete_many(struct map_opts *o, const struct dict_type *type)
{
	struct map_keyset ks;
	struct map_rewrite rw;
	struct dict *d = NULL;
	int code = MAP_EXIT_ERROR;

	memset(&ks, 0, sizeof(ks));
	memset(&rw, 0, sizeof(rw));
	ks.fold = type->fixed_keys && !(o->flags & DICT_FLAG_NO_FOLD);
	if (map_read_lines(stdin, map_keyset_add, &ks) < 0)
		goto out;
	qsort(ks.keys, ks.count, sizeof(char *), map_strcmp);
	rw.ops = type->builder;
	rw.ks = &ks;
	/* stored keys are already folded (or not): keep them as they are */
	if ((rw.b = rw.ops->begin(o->path, DICT_FLAG_NO_FOLD, &rw.err)) ==
		NULL ||
	    (d = dict_open(o->spec, DICT_FLAG_NO_FOLD, &rw.err)) == NULL ||
	    dict_iterate(d, map_rewrite_entry, &rw, &rw.err) < 0 ||
	    rw.err != NULL) {
		msg_error("%s", rw.err);
		goto out;
	}
	if (rw.deleted == 0) {
		code = MAP_EXIT_NOTFOUND;
	} else if (rw.ops->commit(rw.b, &rw.err) < 0) {
		rw.b = NULL;
		msg_error("%s", rw.err);
		goto out;
	} else {
		code = 0;
	}
	if (code != 0)
		rw.ops->abort(rw.b);
	rw.b = NULL;
out:
	if (rw.b != NULL)
		rw.ops->abort(rw.b);
	dict_close(&d);
	for (size_t i = 0; i < ks.count; i++)
		mem_free(ks.keys[i]);
	mem_free(ks.keys);
	return code;
}

static int map_delete(struct map_opts *o)
{
	const struct dict_type *type = dict_type_find(o->type);
	const char *err;
	struct dict *d;
	int ret;

	if (type != NULL && type->builder != NULL &&
	    strcmp(o->remove, "-") == 0)
		return map_delete_many(o, type);
	if ((d = dict_open(o->spec, o->flags | DICT_FLAG_WRITE, &err)) ==
	    NULL) {
		msg_error("%s", err);
		return MAP_EXIT_ERROR;
	}
	ret = dict_remove(d, o->remove, &err);
	if (ret < 0)
		msg_error("%s: %s", o->spec, err);
	dict_close(&d);
	return ret < 0 ? MAP_EXIT_ERROR : ret == 0 ? MAP_EXIT_NOTFOUND : 0;
}

/* ---- build ------------------------------------------------------------ */

struct map_build {
	const struct dict_builder_ops *ops;
	struct dict_builder *b;
	const char *path;
	bool warn_dups;
	struct str err;
};

static int map_build_entry(void *ctx, const char *key, const char *value,
			   int line, const char **error_r)
{
	struct map_build *mb = ctx;
	const char *err;
	int ret = mb->ops->add(mb->b, key, value, &err);

	if (ret < 0) {
		str_clear(&mb->err);
		str_printf(&mb->err, "%s:%d: %s", mb->path, line, err);
		*error_r = mb->err.data;
		return -1;
	}
	if (ret == 0 && mb->warn_dups) {
		char safe[256];

		msg_warn("%s:%d: duplicate entry: %s", mb->path, line,
			 msg_safe(safe, sizeof(safe), key, strlen(key)));
	}
	return 0;
}

/* Checks the source before any work: a clear error for a missing file or
 * a directory, with the old table untouched. */
static int map_check_source(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		msg_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		msg_error("%s: not a regular file", path);
		return -1;
	}
	return 1;
}

static int map_build(struct map_opts *o, const struct dict_type *type)
{
	struct map_build mb;
	sigset_t block, saved;
	const char *err;
	int ret;

	if (type->builder == NULL) {
		msg_error("%s: table type \"%s\" is not built by postern map "
			  "(query it with -q)",
			  o->path, o->type);
		return MAP_EXIT_ERROR;
	}
	if (map_check_source(o->path) < 0)
		return MAP_EXIT_ERROR;
	memset(&mb, 0, sizeof(mb));
	mb.ops = type->builder;
	mb.path = o->path;
	mb.warn_dups = o->warn_dups;
	str_init(&mb.err, 128);
	/* As postmap: signals wait until the temporary is committed or
	 * removed, so an interrupted build leaves no stray file. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if ((mb.b = mb.ops->begin(o->path, o->flags, &err)) == NULL) {
		ret = -1;
	} else if ((ret = dict_source_parse_file(o->path, map_build_entry, &mb,
						 &err)) < 0) {
		mb.ops->abort(mb.b);
	} else {
		ret = mb.ops->commit(mb.b, &err);
	}
	if (ret < 0)
		msg_error("%s", err);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	str_deinit(&mb.err);
	return ret < 0 ? MAP_EXIT_ERROR : 0;
}

static int map_list_types(void)
{
	for (const char *const *n = dict_type_names(); *n != NULL; n++)
		printf("%s\n", *n);
	return map_finish_output(0);
}

int cmd_map_main(int argc, char **argv)
{
	struct map_opts o;
	const struct dict_type *type;
	int code;

	msg_set_fatal_exit(MAP_EXIT_ERROR);
	memset(&o, 0, sizeof(o));
	if (map_parse_args(&o, argc, argv) < 0)
		return map_usage();
	if (o.list_types)
		return map_list_types();
	setvbuf(stdout, NULL, _IOFBF, MAP_OUT_BUF);
	if ((type = dict_type_find(o.type)) == NULL) {
		msg_error("unsupported table type \"%s\" in \"%s\"", o.type,
			  o.spec);
		code = MAP_EXIT_ERROR;
	} else if (o.query != NULL) {
		code = map_query(&o);
	} else if (o.remove != NULL) {
		code = map_delete(&o);
	} else if (o.dump) {
		code = map_dump(&o);
	} else {
		code = map_build(&o, type);
	}
	mem_free(o.type);
	mem_free(o.spec);
	return code;
}
