/* dict_regexp.c: regexp:/path tables: the pattern table syntax of
 * dict_pattern.h with POSIX regular expressions (regcomp/regexec).
 *
 * Flags (each letter toggles; defaults as Postfix's regexp_table(5)):
 *   i ignore case (on)   x extended syntax (on)   m newline-sensitive (off)
 * POSIX offers no CPU limit on regexec(); the C library's matcher has no
 * catastrophic backtracking except with back-references, so prefer pcre:
 * for tables that match untrusted text with back-references. Keys are
 * never case-folded. */
#include "config.h"

#include <regex.h>
#include <stdbool.h>

#include "dict_backends.h"
#include "dict_pattern.h"
#include "mem.h"

struct regexp_ctx {
	regmatch_t *pm;
	size_t pm_len;
};

struct dict_regexp {
	struct dict d;
	struct dict_pattern_rules *rules;
	struct regexp_ctx ctx;
};

static void *regexp_compile_re(void *ctx, const char *pattern, size_t len,
			       const char *flags, size_t flags_len,
			       size_t *groups_r, struct str *err)
{
	int cflags = REG_EXTENDED | REG_ICASE, ret;
	char msg[256];
	regex_t *re;

	for (size_t i = 0; i < flags_len; i++) {
		switch (flags[i]) {
		case 'i':
			cflags ^= REG_ICASE;
			break;
		case 'x':
			cflags ^= REG_EXTENDED;
			break;
		case 'm':
			cflags ^= REG_NEWLINE;
			break;
		default:
			str_printf(err,
				   "unknown pattern flag '%c' (known: "
				   "i x m)",
				   flags[i]);
			return NULL;
		}
	}
	re = mem_alloc(sizeof(*re));
	ret = regcomp(re, pattern, cflags);
	if (ret != 0) {
		regerror(ret, re, msg, sizeof(msg));
		str_printf(err, "bad regular expression: %s", msg);
		mem_free(re);
		return NULL;
	}
	*groups_r = re->re_nsub;
	return re;
}

static int regexp_match_re(void *ctx, void *re, const char *key, size_t key_len,
			   size_t *caps, size_t ncaps, struct str *err)
{
	struct regexp_ctx *c = ctx;
	char msg[256];
	int ret;

	if (ncaps > c->pm_len) {
		c->pm = mem_realloc(c->pm, size_mul(ncaps, sizeof(*c->pm)));
		c->pm_len = ncaps;
	}
	ret = regexec(re, key, ncaps, ncaps > 0 ? c->pm : NULL, 0);
	if (ret == REG_NOMATCH)
		return 0;
	if (ret != 0) {
		regerror(ret, re, msg, sizeof(msg));
		str_printf(err, "regexec failed: %s", msg);
		return -1;
	}
	for (size_t n = 0; n < ncaps; n++) {
		bool set =
		    c->pm[n].rm_so >= 0 && c->pm[n].rm_eo >= c->pm[n].rm_so;

		caps[2 * n] = set ? (size_t)c->pm[n].rm_so : DICT_PATTERN_UNSET;
		caps[2 * n + 1] =
		    set ? (size_t)c->pm[n].rm_eo : DICT_PATTERN_UNSET;
	}
	return 1;
}

static void regexp_free_re(void *ctx, void *re)
{
	regfree(re);
	mem_free(re);
}

static const struct dict_pattern_engine regexp_engine = {
    .compile = regexp_compile_re,
    .match = regexp_match_re,
    .free = regexp_free_re,
};

static int dict_regexp_lookup(struct dict *d, const char *key,
			      struct str *value_r, const char **error_r)
{
	return dict_pattern_lookup(((struct dict_regexp *)d)->rules, key,
				   value_r, &d->error, error_r);
}

static void dict_regexp_close(struct dict *d)
{
	struct dict_regexp *r = (struct dict_regexp *)d;

	dict_pattern_free(&r->rules);
	mem_free(r->ctx.pm);
	dict_free_common(d);
}

static const struct dict_ops dict_regexp_ops = {
    .lookup = dict_regexp_lookup,
    .close = dict_regexp_close,
};

struct dict *dict_regexp_open(const char *name, int flags, const char **error_r)
{
	struct dict_regexp *r = (struct dict_regexp *)dict_alloc(
	    sizeof(*r), &dict_regexp_ops, "regexp", name, flags);
	struct dict *d = &r->d;

	if (dict_pattern_parse_file(&regexp_engine, &r->ctx, name, &r->rules,
				    error_r) < 0) {
		dict_close(&d);
		return NULL;
	}
	return d;
}

struct dict *dict_regexp_open_buffer(const char *origin, const char *buf,
				     size_t len, int flags,
				     const char **error_r)
{
	struct dict_regexp *r = (struct dict_regexp *)dict_alloc(
	    sizeof(*r), &dict_regexp_ops, "regexp", origin, flags);
	struct dict *d = &r->d;

	if (dict_pattern_parse_buffer(&regexp_engine, &r->ctx, origin, buf, len,
				      &r->rules, error_r) < 0) {
		dict_close(&d);
		return NULL;
	}
	return d;
}
