/* dict_pcre.c: pcre:/path tables: the pattern table syntax of
 * dict_pattern.h with PCRE2 regular expressions.
 *
 * Flags (each letter toggles; defaults as Postfix's pcre_table(5)):
 *   i caseless (on)   m multiline (off)   s dotall (on)   x extended (off)
 *   A anchored (off)  E dollar-endonly (off)   U ungreedy (off)
 *   X accepted and ignored (PCRE2 always rejects unknown escapes).
 * Patterns work on bytes (no UTF mode). Every match runs under a match
 * context with match, depth and heap limits, so that a pathological
 * pattern and key cost milliseconds, not minutes: hitting a limit is a
 * lookup error (-1), never "not found". Keys are never case-folded. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>

#include "dict_backends.h"
#include "dict_pattern.h"
#include "mem.h"
#include "msg.h"

/* Backtracking steps, nested backtracking frames and KiB of heap that one
 * match may use; generous for mail headers and addresses, small enough to
 * stop catastrophic backtracking in a few milliseconds. */
#define PCRE_MATCH_LIMIT 1000000
#define PCRE_DEPTH_LIMIT 10000
#define PCRE_HEAP_LIMIT_KIB (20 * 1024)

struct pcre_ctx {
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	size_t md_pairs;
};

struct dict_pcre {
	struct dict d;
	struct dict_pattern_rules *rules;
	struct pcre_ctx ctx;
};

static const struct {
	char letter;
	uint32_t option;
} pcre_flags[] = {
    {'i', PCRE2_CASELESS}, {'m', PCRE2_MULTILINE},
    {'s', PCRE2_DOTALL},   {'x', PCRE2_EXTENDED},
    {'A', PCRE2_ANCHORED}, {'E', PCRE2_DOLLAR_ENDONLY},
    {'U', PCRE2_UNGREEDY}, {'X', 0},
};

static int pcre_options(const char *flags, size_t flags_len, uint32_t *opts,
			struct str *err)
{
	for (size_t i = 0; i < flags_len; i++) {
		size_t f = 0;

		while (f < sizeof(pcre_flags) / sizeof(pcre_flags[0]) &&
		       pcre_flags[f].letter != flags[i])
			f++;
		if (f == sizeof(pcre_flags) / sizeof(pcre_flags[0])) {
			str_printf(err,
				   "unknown pattern flag '%c' (known: "
				   "i m s x A E U X)",
				   flags[i]);
			return -1;
		}
		*opts ^= pcre_flags[f].option;
	}
	return 0;
}

/* Appends "what: PCRE2's message for code" to err. */
static void pcre_error_text(int code, const char *what, struct str *err)
{
	PCRE2_UCHAR msg[256];

	if (pcre2_get_error_message(code, msg, sizeof(msg)) ==
	    PCRE2_ERROR_BADDATA)
		str_printf(err, "%s: error %d", what, code);
	else
		str_printf(err, "%s: %s", what, (const char *)msg);
}

static void *pcre_compile_re(void *ctx, const char *pattern, size_t len,
			     const char *flags, size_t flags_len,
			     size_t *groups_r, struct str *err)
{
	uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL, groups = 0;
	PCRE2_SIZE offset;
	pcre2_code *code;
	int errcode;

	if (pcre_options(flags, flags_len, &opts, err) < 0)
		return NULL;
	code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &errcode, &offset,
			     NULL);
	if (code == NULL) {
		pcre_error_text(errcode, "bad regular expression", err);
		str_printf(err, " at offset %zu", (size_t)offset);
		return NULL;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
	*groups_r = groups;
	return code;
}

/* Makes sure the shared match data has room for ncaps groups. */
static void pcre_reserve(struct pcre_ctx *c, size_t ncaps)
{
	if (c->md != NULL && c->md_pairs >= ncaps)
		return;
	pcre2_match_data_free(c->md);
	c->md_pairs = ncaps < 10 ? 10 : ncaps;
	c->md = pcre2_match_data_create((uint32_t)c->md_pairs, NULL);
	if (c->md == NULL)
		msg_fatal("pcre: out of memory for match data");
}

static int pcre_match_re(void *ctx, void *re, const char *key, size_t key_len,
			 size_t *caps, size_t ncaps, struct str *err)
{
	struct pcre_ctx *c = ctx;
	PCRE2_SIZE *ov;
	int rc;

	pcre_reserve(c, ncaps);
	rc = pcre2_match(re, (PCRE2_SPTR)key, key_len, 0, 0, c->md, c->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		pcre_error_text(rc, "pcre match failed", err);
		return -1;
	}
	/* rc is the highest group that matched + 1 (0: all pairs used) */
	ov = pcre2_get_ovector_pointer(c->md);
	for (size_t n = 0; n < ncaps; n++) {
		bool set = (rc == 0 || n < (size_t)rc) &&
			   ov[2 * n] != PCRE2_UNSET &&
			   ov[2 * n + 1] >= ov[2 * n];

		caps[2 * n] = set ? ov[2 * n] : DICT_PATTERN_UNSET;
		caps[2 * n + 1] = set ? ov[2 * n + 1] : DICT_PATTERN_UNSET;
	}
	return 1;
}

static void pcre_free_re(void *ctx, void *re)
{
	pcre2_code_free(re);
}

static const struct dict_pattern_engine pcre_engine = {
    .compile = pcre_compile_re,
    .match = pcre_match_re,
    .free = pcre_free_re,
};

static int dict_pcre_lookup(struct dict *d, const char *key,
			    struct str *value_r, const char **error_r)
{
	return dict_pattern_lookup(((struct dict_pcre *)d)->rules, key, value_r,
				   &d->error, error_r);
}

static void dict_pcre_close(struct dict *d)
{
	struct dict_pcre *p = (struct dict_pcre *)d;

	dict_pattern_free(&p->rules);
	pcre2_match_data_free(p->ctx.md);
	pcre2_match_context_free(p->ctx.mctx);
	dict_free_common(d);
}

static const struct dict_ops dict_pcre_ops = {
    .lookup = dict_pcre_lookup,
    .close = dict_pcre_close,
};

static struct dict_pcre *dict_pcre_new(const char *name, int flags)
{
	struct dict_pcre *p = (struct dict_pcre *)dict_alloc(
	    sizeof(*p), &dict_pcre_ops, "pcre", name, flags);

	p->ctx.mctx = pcre2_match_context_create(NULL);
	if (p->ctx.mctx == NULL)
		msg_fatal("pcre: out of memory for a match context");
	pcre2_set_match_limit(p->ctx.mctx, PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(p->ctx.mctx, PCRE_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->ctx.mctx, PCRE_HEAP_LIMIT_KIB);
	return p;
}

struct dict *dict_pcre_open(const char *name, int flags, const char **error_r)
{
	struct dict_pcre *p = dict_pcre_new(name, flags);
	struct dict *d = &p->d;

	if (dict_pattern_parse_file(&pcre_engine, &p->ctx, name, &p->rules,
				    error_r) < 0) {
		dict_close(&d);
		return NULL;
	}
	return d;
}

struct dict *dict_pcre_open_buffer(const char *origin, const char *buf,
				   size_t len, int flags, const char **error_r)
{
	struct dict_pcre *p = dict_pcre_new(origin, flags);
	struct dict *d = &p->d;

	if (dict_pattern_parse_buffer(&pcre_engine, &p->ctx, origin, buf, len,
				      &p->rules, error_r) < 0) {
		dict_close(&d);
		return NULL;
	}
	return d;
}
