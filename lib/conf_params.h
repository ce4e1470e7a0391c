/* conf_params.h: the one table of every main.cf parameter, and the checks
 * that turn a parameter's text into a typed value.
 *
 * Each parameter has a name (Postfix's where the meaning is the same), a
 * type, a built-in default (which may reference other parameters with
 * $name), optional per-compatibility-level defaults, and a range for the
 * numeric types. lib/conf.c reads values through this table; `postern conf`
 * lists it. The table is static data: entries never change at run time. */
#ifndef POSTERN_CONF_PARAMS_H
#define POSTERN_CONF_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

enum conf_type {
	CONF_STR,  /* any text (or one of choices when set) */
	CONF_INT,  /* decimal integer, optional '-' */
	CONF_BOOL, /* yes or no (either case) */
	CONF_TIME, /* N[s|m|h|d|w]; the value is in seconds */
	CONF_SIZE, /* N bytes, never negative */
	CONF_LIST, /* items separated by commas and/or whitespace */
};

/* Defaults that are not constant text, computed by lib/conf.c. */
enum conf_dynamic {
	CONF_DYN_NONE,
	CONF_DYN_HOSTNAME,   /* the host's FQDN */
	CONF_DYN_DOMAIN,     /* $myhostname minus its first label */
	CONF_DYN_CONFIG_DIR, /* the directory the main.cf came from */
};

/* Flags. */
#define CONF_PARAM_RAW                                                         \
	(1u << 0) /* value is not $-expanded at load: the                      \
		   * daemon expands it later with its own                      \
		   * variables (conf_expand) */

/* One step of a default that changes with compatibility_level: the value
 * applies when compatibility_level >= level. Lists end with {0, NULL} and
 * are sorted by ascending level. */
struct conf_level_default {
	int level;
	const char *value;
};

struct conf_param {
	const char *name;
	enum conf_type type;
	const char *def; /* default at compatibility level 1 */
	const struct conf_level_default *level_defs; /* or NULL */
	long long min, max; /* INT, TIME (seconds), SIZE */
	char unit;	    /* TIME: unit of a bare number (s m h d w) */
	const char *const *choices; /* STR/LIST: allowed words, or NULL */
	enum conf_dynamic dynamic;
	unsigned int flags;
};

/* The highest compatibility_level this release knows. The built-in level is
 * 1 and stays 1 forever: a site that never sets compatibility_level never
 * gets newer defaults silently. */
#define CONF_COMPAT_LEVEL_MAX 1

/* Looks a parameter up by exact name; NULL when unknown. */
const struct conf_param *conf_param_find(const char *name);
/* Number of parameters, and the i-th in name order (for listing). */
size_t conf_param_count(void);
const struct conf_param *conf_param_at(size_t i);
/* The raw default text of p at the given compatibility level (before
 * $-expansion; NULL for CONF_DYN_* defaults, which lib/conf.c computes). */
const char *conf_param_default(const struct conf_param *p, long long level);

/* Checks an expanded value against p's type, range and choices. On success
 * returns 1 and, for INT/TIME/SIZE/BOOL, sets *num_r (seconds for TIME, 1/0
 * for BOOL). On failure returns -1 with *error_r describing the problem
 * without file or line ("bad time value \"3x\" ..."); the text stays valid
 * until the next call. */
int conf_param_check(const struct conf_param *p, const char *value,
		     long long *num_r, const char **error_r);

/* Splits a list value into items: separators are commas and whitespace,
 * except inside { } (so "inline:{ a=b, c=d }" is one item). Returns 1 with
 * *items_r a NULL-terminated array the caller frees with conf_list_free(),
 * or -1 on unbalanced braces. */
int conf_list_split(const char *value, char ***items_r, const char **error_r);
void conf_list_free(char ***items);

/* True for the characters of a parameter name: [A-Za-z0-9_]. */
bool conf_name_char(int c);

/* The built-in table, in source order (lib/conf_value.c indexes it). */
const struct conf_param *conf_params_builtin(size_t *count_r);
/* For unit tests only: replaces the parameter table (NULL restores the
 * built-in one). The table needs no particular order. */
void conf_params_set_table(const struct conf_param *table, size_t count);

#endif
