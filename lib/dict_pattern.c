/* dict_pattern.c: parser and matcher for pattern table files (see
 * dict_pattern.h), shared by the pcre: and regexp: backends.
 *
 * A table is a flat array of rules; an "if" rule stores the index just
 * past its "endif", so a lookup is one loop with jumps, no recursion, and
 * "endif" leaves no rule behind. Result templates are checked once at
 * open time by the same scanner that expands them at lookup time. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "dict_pattern.h"
#include "dict_source.h"
#include "mem.h"

struct pattern_rule {
	void *re;
	char *result; /* NULL for an if rule */
	size_t skip;  /* if rule: index of the first rule after its endif */
	size_t ncaps; /* groups the result uses: highest $N + 1, or 0 */
	int line;
	bool negate;
};

struct dict_pattern_rules {
	const struct dict_pattern_engine *eng;
	void *ctx;
	char *origin;
	struct pattern_rule *rules;
	size_t count, cap;
	size_t *caps; /* scratch offsets, 2 per group, for the widest rule */
	size_t max_ncaps;
};

struct pattern_parse {
	struct dict_pattern_rules *r;
	const char *origin;
	int line;
	size_t open_ifs[DICT_PATTERN_NEST_MAX]; /* rule indexes of open ifs */
	int open_lines[DICT_PATTERN_NEST_MAX];
	size_t depth;
	struct str pattern; /* NUL-terminated copy for the engine */
	struct str err;
};

/* The pieces of "!/pattern/flags" as found in a line. */
struct pattern_text {
	const char *re, *flags;
	size_t re_len, flags_len;
	bool negate;
};

static struct str pattern_error;

static inline bool pattern_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int __attribute__((format(printf, 2, 3)))
pattern_fail(struct pattern_parse *pp, const char *fmt, ...)
{
	va_list ap;

	if (pattern_error.data == NULL)
		str_init(&pattern_error, 128);
	str_clear(&pattern_error);
	str_printf(&pattern_error, "%s:%d: ", pp->origin, pp->line);
	va_start(ap, fmt);
	str_vprintf(&pattern_error, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends n bytes to a result, keeping it under the result limit. */
static int tmpl_put(struct str *out, const char *p, size_t n)
{
	if (n > DICT_PATTERN_RESULT_MAX - out->len)
		return -1;
	return str_append(out, p, n);
}

/* Reads the group number after '$' at *pp (digits, "{digits}" or
 * "(digits)"); returns it, or -1 with *problem_r. */
static long tmpl_group(const char **pp, const char **problem_r)
{
	const char *p = *pp;
	char close = 0;
	long n = 0;
	int digits = 0;

	if (*p == '{' || *p == '(') {
		close = *p == '{' ? '}' : ')';
		p++;
	}
	while (*p >= '0' && *p <= '9' && digits < 6) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || (close != 0 && *p != close)) {
		*problem_r = "bad '$' in result: use $N, ${N} or $(N) for a "
			     "group and $$ for a '$'";
		return -1;
	}
	if (n > DICT_PATTERN_GROUP_MAX) {
		*problem_r = "group number in result is too large";
		return -1;
	}
	*pp = p + (close != 0);
	return n;
}

/* Scans a result template. With out == NULL only checks it and reports
 * the highest group + 1 in *ncaps_r; else appends the expansion for key
 * and caps to out. Returns 0, or -1 with *problem_r. */
static int tmpl_scan(const char *t, const char *key, const size_t *caps,
		     struct str *out, size_t *ncaps_r, const char **problem_r)
{
	size_t ncaps = 0;

	for (;;) {
		const char *dollar = strchr(t, '$');
		long n;

		if (out != NULL &&
		    tmpl_put(out, t,
			     dollar ? (size_t)(dollar - t) : strlen(t)) < 0)
			goto too_long;
		if (dollar == NULL)
			break;
		t = dollar + 1;
		if (*t == '$') {
			if (out != NULL && tmpl_put(out, "$", 1) < 0)
				goto too_long;
			t++;
			continue;
		}
		if ((n = tmpl_group(&t, problem_r)) < 0)
			return -1;
		if ((size_t)n + 1 > ncaps)
			ncaps = (size_t)n + 1;
		if (out != NULL && caps[2 * n] != DICT_PATTERN_UNSET &&
		    tmpl_put(out, key + caps[2 * n],
			     caps[2 * n + 1] - caps[2 * n]) < 0)
			goto too_long;
	}
	if (ncaps_r != NULL)
		*ncaps_r = ncaps;
	return 0;
too_long:
	*problem_r = "result longer than the limit after substitution";
	return -1;
}

/* Splits "!/pattern/flags" at *pp; leaves *pp after the flags. */
static int pattern_get(struct pattern_parse *pp, const char **textp,
		       struct pattern_text *pt)
{
	const char *p = *textp;
	char delim;

	pt->negate = *p == '!';
	if (pt->negate)
		while (pattern_is_ws(*++p))
			;
	delim = *p;
	if (delim < '!' || delim > '~' || delim == '\\' ||
	    (delim >= '0' && delim <= '9') || (delim >= 'A' && delim <= 'Z') ||
	    (delim >= 'a' && delim <= 'z'))
		return pattern_fail(pp, "expected /pattern/: the delimiter "
					"must be a punctuation character");
	pt->re = ++p;
	while (*p != '\0' && *p != delim)
		p += (p[0] == '\\' && p[1] != '\0') ? 2 : 1;
	if (*p == '\0')
		return pattern_fail(pp, "missing closing '%c' after pattern",
				    delim);
	pt->re_len = (size_t)(p - pt->re);
	pt->flags = ++p;
	while (*p != '\0' && !pattern_is_ws(*p))
		p++;
	pt->flags_len = (size_t)(p - pt->flags);
	*textp = p;
	return 0;
}

/* Compiles the pattern and appends a rule for it. */
static int pattern_add(struct pattern_parse *pp, const struct pattern_text *pt,
		       const char *result, size_t ncaps)
{
	struct dict_pattern_rules *r = pp->r;
	struct pattern_rule *rule;
	size_t groups = 0;
	void *re;

	str_set(&pp->pattern, pt->re, pt->re_len);
	str_clear(&pp->err);
	re = r->eng->compile(r->ctx, pp->pattern.data, pp->pattern.len,
			     pt->flags, pt->flags_len, &groups, &pp->err);
	if (re == NULL)
		return pattern_fail(pp, "%s", pp->err.data);
	if (ncaps > groups + 1) {
		r->eng->free(r->ctx, re);
		return pattern_fail(pp,
				    "result uses $%zu but the pattern has "
				    "%zu group%s",
				    ncaps - 1, groups, groups == 1 ? "" : "s");
	}
	if (r->count == r->cap) {
		r->cap = r->cap == 0 ? 16 : size_mul(r->cap, 2);
		r->rules =
		    mem_realloc(r->rules, size_mul(r->cap, sizeof(*rule)));
	}
	rule = &r->rules[r->count++];
	memset(rule, 0, sizeof(*rule));
	rule->re = re;
	rule->result = result != NULL ? mem_strdup(result) : NULL;
	rule->ncaps = pt->negate ? 0 : ncaps;
	rule->negate = pt->negate;
	rule->line = pp->line;
	if (rule->ncaps > r->max_ncaps)
		r->max_ncaps = rule->ncaps;
	return 0;
}

/* "if [!]/pattern/flags" (p just after the keyword and its blank). */
static int pattern_if(struct pattern_parse *pp, const char *p)
{
	struct pattern_text pt;

	while (pattern_is_ws(*p))
		p++;
	if (pattern_get(pp, &p, &pt) < 0)
		return -1;
	if (*p != '\0')
		return pattern_fail(pp, "unexpected text after if pattern");
	if (pp->depth == DICT_PATTERN_NEST_MAX)
		return pattern_fail(pp, "if nested deeper than %d levels",
				    DICT_PATTERN_NEST_MAX);
	if (pattern_add(pp, &pt, NULL, 0) < 0)
		return -1;
	pp->open_ifs[pp->depth] = pp->r->count - 1;
	pp->open_lines[pp->depth++] = pp->line;
	return 0;
}

static int pattern_endif(struct pattern_parse *pp, const char *p)
{
	if (*p != '\0')
		return pattern_fail(pp, "unexpected text after endif");
	if (pp->depth == 0)
		return pattern_fail(pp, "endif without if");
	pp->r->rules[pp->open_ifs[--pp->depth]].skip = pp->r->count;
	return 0;
}

/* "[!]/pattern/flags result" */
static int pattern_match_rule(struct pattern_parse *pp, const char *p)
{
	const char *problem = NULL;
	struct pattern_text pt;
	size_t ncaps = 0;

	if (pattern_get(pp, &p, &pt) < 0)
		return -1;
	while (pattern_is_ws(*p))
		p++;
	if (*p == '\0')
		return pattern_fail(pp, "missing result after pattern");
	if (tmpl_scan(p, NULL, NULL, NULL, &ncaps, &problem) < 0)
		return pattern_fail(pp, "%s", problem);
	if (pt.negate && ncaps > 0)
		return pattern_fail(pp,
				    "$%zu in the result of a negated "
				    "pattern (nothing was captured)",
				    ncaps - 1);
	return pattern_add(pp, &pt, p, ncaps);
}

/* True when text starts with keyword (any case) followed by a blank or
 * the end; sets *rest_r past it. */
static bool pattern_keyword(const char *text, const char *keyword,
			    const char **rest_r)
{
	size_t n = strlen(keyword);

	if (strncasecmp(text, keyword, n) != 0 ||
	    (text[n] != '\0' && !pattern_is_ws(text[n])))
		return false;
	*rest_r = text + n;
	while (pattern_is_ws(**rest_r))
		(*rest_r)++;
	return true;
}

/* One logical line of the table (a dict_source_line_fn). */
static int pattern_line(void *ctx, char *text, size_t len, int line,
			const char **error_r)
{
	struct pattern_parse *pp = ctx;
	const char *rest;
	int ret;

	pp->line = line;
	if (pattern_keyword(text, "if", &rest))
		ret = pattern_if(pp, rest);
	else if (pattern_keyword(text, "endif", &rest))
		ret = pattern_endif(pp, rest);
	else
		ret = pattern_match_rule(pp, text);
	if (ret < 0)
		*error_r = pattern_error.data;
	return ret;
}

typedef int pattern_reader(void *arg, struct pattern_parse *pp,
			   const char **error_r);

static int pattern_parse_run(const struct dict_pattern_engine *eng, void *ctx,
			     const char *origin, pattern_reader *read,
			     void *arg, struct dict_pattern_rules **rules_r,
			     const char **error_r)
{
	struct pattern_parse pp = {.origin = origin};
	struct dict_pattern_rules *r = mem_alloc(sizeof(*r));
	int ret;

	r->eng = eng;
	r->ctx = ctx;
	r->origin = mem_strdup(origin);
	pp.r = r;
	str_init(&pp.pattern, 256);
	str_init(&pp.err, 128);
	ret = read(arg, &pp, error_r);
	if (ret > 0 && pp.depth > 0) {
		pp.line = pp.open_lines[pp.depth - 1];
		ret = pattern_fail(&pp, "if without endif");
		*error_r = pattern_error.data;
	}
	str_deinit(&pp.pattern);
	str_deinit(&pp.err);
	if (ret < 0) {
		dict_pattern_free(&r);
		return -1;
	}
	r->caps = mem_calloc(size_add(r->max_ncaps, 1), 2 * sizeof(size_t));
	*rules_r = r;
	return 1;
}

static int pattern_read_file(void *arg, struct pattern_parse *pp,
			     const char **error_r)
{
	return dict_source_lines_file(arg, pattern_line, pp, error_r);
}

struct pattern_buf {
	const char *buf;
	size_t len;
};

static int pattern_read_buffer(void *arg, struct pattern_parse *pp,
			       const char **error_r)
{
	const struct pattern_buf *b = arg;

	return dict_source_lines_buffer(pp->origin, b->buf, b->len,
					pattern_line, pp, error_r);
}

int dict_pattern_parse_file(const struct dict_pattern_engine *eng, void *ctx,
			    const char *path,
			    struct dict_pattern_rules **rules_r,
			    const char **error_r)
{
	return pattern_parse_run(eng, ctx, path, pattern_read_file,
				 (void *)path, rules_r, error_r);
}

int dict_pattern_parse_buffer(const struct dict_pattern_engine *eng, void *ctx,
			      const char *origin, const char *buf, size_t len,
			      struct dict_pattern_rules **rules_r,
			      const char **error_r)
{
	struct pattern_buf b = {.buf = buf, .len = len};

	return pattern_parse_run(eng, ctx, origin, pattern_read_buffer, &b,
				 rules_r, error_r);
}

int dict_pattern_lookup(struct dict_pattern_rules *r, const char *key,
			struct str *value_r, struct str *errbuf,
			const char **error_r)
{
	size_t key_len = strlen(key), i = 0;
	const char *problem = NULL;

	while (i < r->count) {
		const struct pattern_rule *rule = &r->rules[i];
		int ret;

		str_clear(errbuf);
		ret = r->eng->match(r->ctx, rule->re, key, key_len, r->caps,
				    rule->ncaps, errbuf);
		if (ret < 0) {
			char *reason = str_steal(errbuf);

			str_printf(errbuf, "%s:%d: %s", r->origin, rule->line,
				   reason);
			mem_free(reason);
			*error_r = errbuf->data;
			return -1;
		}
		if (rule->result == NULL) {
			i = (ret == 1) != rule->negate ? i + 1 : rule->skip;
			continue;
		}
		if ((ret == 1) != rule->negate) {
			str_clear(value_r);
			if (tmpl_scan(rule->result, key, r->caps, value_r, NULL,
				      &problem) == 0)
				return 1;
			str_clear(errbuf);
			str_printf(errbuf, "%s:%d: %s (%d bytes)", r->origin,
				   rule->line, problem,
				   DICT_PATTERN_RESULT_MAX);
			*error_r = errbuf->data;
			return -1;
		}
		i++;
	}
	return 0;
}

size_t dict_pattern_count(const struct dict_pattern_rules *r)
{
	return r->count;
}

void dict_pattern_free(struct dict_pattern_rules **rulesp)
{
	struct dict_pattern_rules *r = *rulesp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++) {
		r->eng->free(r->ctx, r->rules[i].re);
		mem_free(r->rules[i].result);
	}
	mem_free(r->rules);
	mem_free(r->caps);
	mem_free(r->origin);
	mem_free(*rulesp);
}
