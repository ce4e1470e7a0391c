/* conf_internal.h: helpers shared by the configuration modules (conf.c,
 * conf_value.c, conf_lines.c, conf_edit.c, master_cf.c); not an API for
 * other parts of the suite. */
#ifndef POSTERN_CONF_INTERNAL_H
#define POSTERN_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "conf_params.h"
#include "str.h"

/* The longest logical line of main.cf or master.cf, continuation lines
 * included, and the biggest file we read. */
#define CONF_LINE_MAX (64 * 1024)
#define CONF_FILE_MAX (16 * 1024 * 1024)
/* The longest parameter name. */
#define CONF_NAME_MAX 256

/* Appends text (n bytes) to out in double quotes, control characters shown
 * as '?' and cut after 80 bytes, for error messages. */
void conf_quote(struct str *out, const char *text, size_t n);

/* Splits buf into logical lines with the rules main.cf and master.cf share:
 * blank lines and lines whose first non-blank is '#' are skipped; a line
 * that starts with blank space continues the logical line before it (joined
 * with one space, leading and trailing blanks dropped); a trailing CR is
 * ignored. Calls fn(ctx, line, len, lineno) for each logical line (NUL-
 * terminated, lineno of its first physical line); fn returns -1 with
 * *error_r set to stop. Returns 1, or -1 with *error_r "origin:line: ..."
 * for NUL or other control bytes, an over-long line, or a continuation line
 * with nothing to continue. The error text lives until the next call. */
int conf_lines_parse(const char *origin, const char *buf, size_t len,
		     int (*fn)(void *ctx, const char *line, size_t len,
			       int lineno, const char **error_r),
		     void *ctx, const char **error_r);

/* Reads a whole config file (up to CONF_FILE_MAX bytes) into out. */
int conf_read_file(const char *path, struct str *out, const char **error_r);

/* ---- struct conf (conf.c, conf_expand.c) ---- */

enum conf_src {
	CONF_SRC_DEFAULT,  /* not set: the table default applies */
	CONF_SRC_FILE,	   /* set in main.cf */
	CONF_SRC_OVERRIDE, /* conf_override() */
};

struct conf_entry {
	struct conf_entry *next; /* hash chain */
	char *name;
	const struct conf_param *param; /* NULL: user-defined */
	char *value;			/* raw text; NULL when not set */
	enum conf_src src;
	char *origin; /* where value came from, for messages */
	int line;
	/* Caches, dropped by conf_cache_clear(). */
	char *def;	 /* computed default (CONF_DYN_*) */
	char *expanded;	 /* NULL = not expanded yet */
	char **list;	 /* CONF_LIST items */
	long long num;	 /* INT/TIME/SIZE/BOOL value */
	bool checked;	 /* expanded value passed conf_param_check() */
	bool expanding;	 /* on the expansion stack (loop detection) */
	bool referenced; /* some $name used it */
};

#define CONF_BUCKETS 512

struct conf {
	struct conf_entry *buckets[CONF_BUCKETS];
	struct conf_entry **order; /* entries in creation order */
	size_t count, cap;
	char *file;	  /* main.cf path or buffer origin */
	char *config_dir; /* default of config_directory */
	unsigned int flags;
	long long level; /* compatibility_level in effect */
	/* Expansion state. */
	struct conf_entry *stack[CONF_DEPTH_MAX + 2];
	int sp;
	int nest;
	size_t expanded_total;
	bool warn; /* log undefined $names while validating */
	/* Cached strings given out before a conf_cache_clear(). */
	char **retired;
	size_t retired_count, retired_cap;
	char ***retired_lists;
	size_t retired_lists_count, retired_lists_cap;
};

/* The entry of name, or NULL. */
struct conf_entry *conf_entry_find(struct conf *c, const char *name);
/* The entry of name, created when missing (user-defined when not in the
 * table). */
struct conf_entry *conf_entry_get(struct conf *c, const char *name);
/* Drops every cached expansion (after a value changed). */
void conf_cache_clear(struct conf *c);
/* Appends "file:line: name: " for e (its origin and line, or "main.cf:
 * name (default value): " for a default); nothing when e is NULL. */
void conf_where(const struct conf *c, const struct conf_entry *e,
		struct str *out);
/* Sets the module error conf_where(e) + fmt and returns -1. */
int conf_fail(struct conf *c, const struct conf_entry *e, const char **error_r,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* conf_expand.c: fills e->expanded. */
int conf_entry_expand(struct conf *c, struct conf_entry *e,
		      const char **error_r);
/* Expands and checks every table parameter and every set name. */
int conf_validate(struct conf *c, bool warn, const char **error_r);
/* The host's name as the system reports it (FQDN when it can). */
const char *conf_system_hostname(void);

#endif
