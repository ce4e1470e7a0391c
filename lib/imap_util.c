/* imap_util.c: IMAP sequence sets and strings in IMAP output (see
 * imap_util.h). Sequence sets come straight from clients: parsing is
 * linear, memory is bounded by the input length, and resolving sorts and
 * merges so that lookups are a binary search however the client wrote it. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imap_util.h"
#include "mem.h"
#include "num.h"

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool imap_ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* seq-number = nz-number / "*"; '*' is stored as 0. */
static int seqnum_parse(const char *s, size_t len, uint32_t *n_r,
			const char **error_r)
{
	uint64_t v;
	int ret;

	if (len == 0) {
		*error_r = "Empty part in sequence set";
		return -1;
	}
	if (len == 1 && s[0] == '*') {
		*n_r = 0;
		return 1;
	}
	ret = num_parse_u64_strict(s, len, UINT32_MAX, &v);
	if (ret == 0) {
		*error_r = "Sequence number out of range";
		return -1;
	}
	if (ret < 0 || v == 0) {
		*error_r = "Invalid sequence number";
		return -1;
	}
	*n_r = (uint32_t)v;
	return 1;
}

/* One "n" or "n:m" part. */
static int seqpart_parse(const char *s, size_t len, struct imap_range *r,
			 const char **error_r)
{
	const char *colon = memchr(s, ':', len);

	if (colon == NULL) {
		if (seqnum_parse(s, len, &r->lo, error_r) < 0)
			return -1;
		r->hi = r->lo;
		return 1;
	}
	if (seqnum_parse(s, (size_t)(colon - s), &r->lo, error_r) < 0 ||
	    seqnum_parse(colon + 1, len - (size_t)(colon - s) - 1, &r->hi,
			 error_r) < 0)
		return -1;
	return 1;
}

int imap_seqset_parse(const char *s, struct imap_seqset *set_r,
		      const char **error_r)
{
	size_t parts = 1, len = strlen(s);

	memset(set_r, 0, sizeof(*set_r));
	if (len == 1 && s[0] == '$') {
		set_r->dollar = true;
		return 1;
	}
	if (len == 0) {
		*error_r = "Empty sequence set";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		parts += s[i] == ',';
	set_r->ranges = mem_calloc(parts, sizeof(*set_r->ranges));
	for (const char *p = s, *end = s + len; p <= end; p++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t plen =
		    comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);

		if (seqpart_parse(p, plen, &set_r->ranges[set_r->count],
				  error_r) < 0) {
			imap_seqset_free(set_r);
			return -1;
		}
		set_r->count++;
		p += plen;
	}
	return 1;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t star)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct imap_range r = set->ranges[i];

		if (star == 0 && (r.lo == 0 || r.hi == 0))
			continue; /* '*' in an empty mailbox: nothing */
		r.lo = r.lo == 0 ? star : r.lo;
		r.hi = r.hi == 0 ? star : r.hi;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		set->ranges[n++] = r;
	}
	set->count = n;
	if (n == 0)
		return;
	qsort(set->ranges, n, sizeof(*set->ranges), range_cmp);
	n = 0;
	for (size_t i = 1; i < set->count; i++) {
		struct imap_range *cur = &set->ranges[n];
		const struct imap_range *next = &set->ranges[i];

		/* merge overlapping or adjacent ranges (hi + 1 may wrap) */
		if (cur->hi == UINT32_MAX || next->lo <= cur->hi + 1) {
			if (next->hi > cur->hi)
				cur->hi = next->hi;
		} else {
			set->ranges[++n] = *next;
		}
	}
	set->count = n + 1;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct imap_range *r = &set->ranges[mid];

		if (n < r->lo)
			hi = mid;
		else if (n > r->hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void imap_seqset_free(struct imap_seqset *set)
{
	mem_free(set->ranges);
	set->count = 0;
	set->dollar = false;
}

void imap_seqset_format(const uint32_t *values, size_t count, struct str *out)
{
	size_t i = 0;

	while (i < count) {
		uint32_t lo = values[i], hi = lo;
		const char *sep = i > 0 ? "," : "";

		while (++i < count && (values[i] == hi || values[i] == hi + 1))
			hi = values[i];
		if (lo == hi)
			str_printf(out, "%s%" PRIu32, sep, lo);
		else
			str_printf(out, "%s%" PRIu32 ":%" PRIu32, sep, lo, hi);
	}
}

/* ASTRING-CHAR: ATOM-CHAR or "]". */
static bool astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\", c) == NULL;
}

static bool can_be_atom(const char *s, size_t len)
{
	if (len == 0 || (len == 3 && imap_ascii_ieq(s, "NIL", 3)))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!astring_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool can_be_quoted(const char *s, size_t len)
{
	if (len > IMAP_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return false;
	}
	return true;
}

void imap_append_string(struct str *out, const char *s, size_t len)
{
	if (!can_be_quoted(s, len)) {
		str_printf(out, "{%zu}\r\n", len);
		str_append(out, s, len);
		return;
	}
	str_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			str_putc(out, '\\');
		str_putc(out, s[i]);
	}
	str_putc(out, '"');
}

void imap_append_astring(struct str *out, const char *s, size_t len)
{
	if (can_be_atom(s, len))
		str_append(out, s, len);
	else
		imap_append_string(out, s, len);
}

void imap_append_nstring(struct str *out, const char *s, size_t len)
{
	if (s == NULL)
		str_append(out, "NIL", 3);
	else
		imap_append_string(out, s, len);
}
