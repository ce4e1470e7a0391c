/* conf.h: main.cf, the one configuration file of the suite.
 *
 * A struct conf holds the settings of one main.cf plus any per-service
 * overrides (master.cf "-o name=value"), on top of the built-in defaults of
 * the parameter table (conf_params.h). Syntax (doc/postern.cf.5):
 *   name = value          blanks around '=' and at both ends are dropped
 *   # comment             '#' as the first non-blank character of a line
 *     continued           a line starting with blank space continues the
 *                         logical line before it, joined with one space
 *   $name ${name}         the value of another parameter; $$ is a '$'
 *   ${name?text}          text when $name is not empty, else nothing
 *   ${name:text}          text when $name is empty, else nothing
 * Undefined names expand to nothing. Names not in the table are allowed
 * (user-defined, for $name) and get a warning unless something uses them.
 *
 * Every conf handed out has been validated: all table parameters and all
 * names set were expanded and type-checked, so the getters cannot fail.
 * Errors name "file:line: parameter: problem"; the text returned through
 * *error_r stays valid until the next failing call into this module.
 * Warnings go through msg_warn(). */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

struct conf;

/* Limits: one expanded value, all expanded values of one conf, and how deep
 * $name references (and ${name?...} texts) may nest. */
#define CONF_VALUE_MAX (1024 * 1024)
#define CONF_EXPAND_TOTAL_MAX (32 * 1024 * 1024)
#define CONF_DEPTH_MAX 100

/* Flags for conf_parse_buffer(). */
#define CONF_NO_WARN (1u << 0) /* do not log warnings (unknown names, ...) */

/* A setting that overrides main.cf for one service or one command. */
struct conf_setting {
	const char *name;
	const char *value;
	const char
	    *origin; /* for messages ("/etc/postern/master.cf"), or NULL */
	int line;    /* line in origin, or 0 */
};

/* The configuration directory: override (postern -c DIR) when not NULL,
 * else $POSTERN_CONFIG when set and the process is not set-id, else the
 * compiled-in SYSCONFDIR. */
const char *conf_dir(const char *override);

/* Reads and validates the main.cf at path; config_directory defaults to the
 * directory that holds it. NULL on error (missing or unreadable file,
 * syntax error, bad value, expansion loop, limits). */
struct conf *conf_load(const char *path, const char **error_r);
/* conf_load() of DIR/main.cf. */
struct conf *conf_load_dir(const char *dir, const char **error_r);
/* Parses main.cf text from memory; origin names it in messages. An empty
 * buffer gives the built-in defaults. */
struct conf *conf_parse_buffer(const char *origin, const char *buf, size_t len,
			       unsigned int flags, const char **error_r);
/* A copy with the same settings and overrides (validated again). */
struct conf *conf_dup(const struct conf *c);
void conf_free(struct conf **cp);

/* Sets name = value above main.cf (any name; unknown names are not warned
 * about here). All settings are applied, then the whole configuration is
 * validated again, since other values may refer to these; on failure
 * nothing changes and -1 is returned. Pointers returned by the getters
 * before stay valid but may show old values. */
int conf_override(struct conf *c, const char *name, const char *value,
		  const char **error_r);
int conf_override_all(struct conf *c, const struct conf_setting *settings,
		      size_t count, const char **error_r);

/* Getters for table parameters. Asking for a name that is not in the table,
 * or with the wrong type, is a bug and panics. Strings are expanded, owned
 * by c and valid until conf_free(). TIME values are in seconds, SIZE in
 * bytes. conf_get() works for every type (the text as expanded). */
const char *conf_get(struct conf *c, const char *name);
long long conf_get_int(struct conf *c, const char *name);
long long conf_get_time(struct conf *c, const char *name);
/* A TIME parameter in milliseconds, at most a day (the daemons' timeouts
 * and sleeps, for event timers). */
unsigned conf_get_msecs(struct conf *c, const char *name);
long long conf_get_size(struct conf *c, const char *name);
bool conf_get_bool(struct conf *c, const char *name);
/* The items of a LIST parameter, NULL-terminated (see conf_list_split()). */
const char *const *conf_get_list(struct conf *c, const char *name);

/* For any name, table or user-defined: the expanded value, or NULL when the
 * name is neither in the table nor set. */
const char *conf_lookup(struct conf *c, const char *name);
/* The effective value before expansion (main.cf text, override, or the
 * default; computed defaults such as myhostname as computed), or NULL. */
const char *conf_raw(struct conf *c, const char *name);
/* True when name is neither set in main.cf nor overridden. */
bool conf_is_default(struct conf *c, const char *name);
/* The names set in main.cf (not overrides), sorted, NULL-terminated. The
 * array is the caller's (mem_free); the names are c's. */
const char **conf_names_set(struct conf *c);

/* Expands $name references in text into out (appended). lookup, when not
 * NULL, is asked first for each name (a daemon's own variables such as a
 * recipient); it returns NULL for names it does not know, which are then
 * looked up in c. Returns 1, or -1 on syntax errors and limits. */
int conf_expand(struct conf *c, const char *text,
		const char *(*lookup)(void *ctx, const char *name), void *ctx,
		struct str *out, const char **error_r);

#endif
