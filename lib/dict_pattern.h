/* dict_pattern.h: the file syntax and search order shared by the pattern
 * tables pcre: (dict_pcre.c) and regexp: (dict_regexp.c), which plug in
 * their regular expression engine through struct dict_pattern_engine.
 *
 * File syntax (Postfix's pcre_table(5)/regexp_table(5)), one rule per
 * logical line (comments, blank lines and continuations as in
 * dict_source.h):
 *   /pattern/flags result      result when pattern matches the key
 *   !/pattern/flags result     result when pattern does not match
 *   if /pattern/flags          the rules up to the matching endif are
 *   if !/pattern/flags         tried only when the key matches (or, with
 *   endif                      !, does not); if..endif nest
 * The delimiter may be any ASCII punctuation character except backslash;
 * inside the pattern a backslash escapes the delimiter (and is passed on
 * to the engine). The flags are letters toggling the engine's options.
 * The result may use $1..$N, ${N} or $(N) for the text captured by group
 * N ($0: the whole match; a group that did not take part is empty) and
 * $$ for a '$'; a run of digits after '$' is one number. Rules are tried
 * in order; the first hit wins.
 *
 * Errors at open, each "path:line: ...": a bad pattern or flag, a missing
 * result, text after an if pattern or endif, endif without if, if without
 * endif, nesting deeper than DICT_PATTERN_NEST_MAX, a bad '$', a group
 * number beyond the pattern's groups, and $N in a negated rule. */
#ifndef POSTERN_DICT_PATTERN_H
#define POSTERN_DICT_PATTERN_H

#include <stddef.h>

#include "dict.h"
#include "str.h"

#define DICT_PATTERN_NEST_MAX 100
/* Largest result after substitution; a longer one is a lookup error. */
#define DICT_PATTERN_RESULT_MAX (64 * 1024)
/* Largest group number a result may name. */
#define DICT_PATTERN_GROUP_MAX 65535
/* Offset of a group that did not take part in the match. */
#define DICT_PATTERN_UNSET ((size_t)-1)

struct dict_pattern_engine {
	/* Compiles pattern (len bytes, NUL-terminated) with the flag letters
	 * flags[0..flags_len). Returns the compiled handle and its number of
	 * capture groups in *groups_r, or NULL with the reason in err. */
	void *(*compile)(void *ctx, const char *pattern, size_t len,
			 const char *flags, size_t flags_len, size_t *groups_r,
			 struct str *err);
	/* Matches key (key_len bytes, NUL-terminated). Returns 1 match, 0 no
	 * match, -1 error (reason in err: e.g. a CPU limit hit). On 1 with
	 * ncaps > 0, sets caps[2n], caps[2n + 1] to the start and end of
	 * group n for n < ncaps (DICT_PATTERN_UNSET if it did not match). */
	int (*match)(void *ctx, void *re, const char *key, size_t key_len,
		     size_t *caps, size_t ncaps, struct str *err);
	void (*free)(void *ctx, void *re);
};

struct dict_pattern_rules;

/* Reads a table file (or buffer, origin naming it) into *rules_r. ctx is
 * handed to every engine call and must outlive the rules. Returns 1, or
 * -1 with *error_r valid until the next parse. */
int dict_pattern_parse_file(const struct dict_pattern_engine *eng, void *ctx,
			    const char *path,
			    struct dict_pattern_rules **rules_r,
			    const char **error_r);
int dict_pattern_parse_buffer(const struct dict_pattern_engine *eng, void *ctx,
			      const char *origin, const char *buf, size_t len,
			      struct dict_pattern_rules **rules_r,
			      const char **error_r);
/* Searches the rules for key. Returns 1 with the substituted result in
 * value_r, 0 when no rule hits, -1 when the engine failed or the result
 * grew past DICT_PATTERN_RESULT_MAX (message in errbuf, *error_r). */
int dict_pattern_lookup(struct dict_pattern_rules *rules, const char *key,
			struct str *value_r, struct str *errbuf,
			const char **error_r);
size_t dict_pattern_count(const struct dict_pattern_rules *rules);
void dict_pattern_free(struct dict_pattern_rules **rulesp);

/* pcre and regexp tables over a buffer instead of a file, for tests and
 * fuzzers (dict_pcre.c, dict_regexp.c). */
struct dict *dict_pcre_open_buffer(const char *origin, const char *buf,
				   size_t len, int flags, const char **error_r);
struct dict *dict_regexp_open_buffer(const char *origin, const char *buf,
				     size_t len, int flags,
				     const char **error_r);

#endif
