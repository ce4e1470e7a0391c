/* imap_util.h: the small IMAP value codecs imapd needs around the parser:
 * sequence sets, modified UTF-7 mailbox names, UTF-8 checks, strings in
 * IMAP output (atom / quoted / literal) and IMAP dates. All are pure
 * functions on bounded input; none allocates more than a small multiple of
 * its input. Dates use English month names whatever the process locale. */
#ifndef POSTERN_IMAP_UTIL_H
#define POSTERN_IMAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "str.h"

/* True if a[0..n) and b[0..n) are equal ignoring ASCII case (whatever the
 * locale: "nil" is NIL even under a Turkish locale). */
bool imap_ascii_ieq(const char *a, const char *b, size_t n);

/* ---- Sequence sets: "1:5,7,9:*", "$" (the saved search result). */
struct imap_range {
	uint32_t lo, hi; /* 0 = '*'; normalised lo <= hi after resolve */
};
struct imap_seqset {
	struct imap_range *ranges;
	size_t count;
	bool dollar; /* the set was "$" (count is then 0) */
};

/* Parses s (NUL-terminated): numbers are nz-number (1..4294967295, no
 * leading zero) or '*'; "$" alone sets dollar. Returns 1, or -1 with
 * *error_r for empty parts, 0, overflow or any other byte; *set_r is then
 * empty. Free with imap_seqset_free() either way. */
int imap_seqset_parse(const char *s, struct imap_seqset *set_r,
		      const char **error_r);
/* Replaces '*' (0) by star (the highest MSN or UID; when star == 0, i.e.
 * an empty mailbox, a range with '*' in it matches nothing and is dropped),
 * orders each range, sorts and merges overlapping and adjacent ranges. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t star);
/* After resolve: is n in the set? (binary search) */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
void imap_seqset_free(struct imap_seqset *set);
/* Appends a compact set ("1:3,7") of the given ascending values to out
 * (duplicates are skipped; nothing is appended when count is 0). */
void imap_seqset_format(const uint32_t *values, size_t count, struct str *out);

/* ---- Modified UTF-7 (RFC 3501 5.1.3). Return 1, or -1 for invalid input
 * (bad base64, unnecessary encoding of printable ASCII, bad UTF-16, "&"
 * unescaped, a "-&" null shift, a byte that is not printable ASCII, non-
 * UTF-8 input to the encoder). out is replaced (and left empty on -1). */
int imap_mutf7_to_utf8(const char *in, size_t len, struct str *out);
int imap_utf8_to_mutf7(const char *in, size_t len, struct str *out);
/* True if s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
 * NUL bytes are valid UTF-8; callers that forbid them check separately. */
bool imap_utf8_valid(const char *s, size_t len);

/* ---- Output. imap_append_astring appends s as an atom if it can be one
 * (non-empty, ASTRING-CHARs only, not "NIL"), else as a quoted string if
 * it has no CR/LF/NUL/8-bit and is short (<= 1024 bytes), else as a literal
 * "{n}\r\n...". imap_append_string does the same but never writes an atom;
 * imap_append_nstring writes NIL for s == NULL, else a string. */
#define IMAP_QUOTED_MAX 1024
void imap_append_astring(struct str *out, const char *s, size_t len);
void imap_append_string(struct str *out, const char *s, size_t len);
void imap_append_nstring(struct str *out, const char *s, size_t len);

/* ---- Dates (proleptic Gregorian, years 0000-9999).
 * imap_parse_date: "1-Feb-1994" or "01-Feb-1994" (SEARCH SINCE etc.; month
 * case-insensitive) -> *t_r = the UTC time_t of 00:00:00 UTC on that day
 * (so a multiple of 86400; t / 86400 is the days since the epoch).
 * imap_parse_datetime: "dd-Mon-yyyy hh:mm:ss +hhmm" (day may be " 1" or
 * "1"; zone hours <= 23, minutes <= 59; seconds <= 60) -> *t_r the UTC
 * seconds, *tz_minutes_r the zone in minutes east of UTC.
 * Both return 1, or -1 for bad syntax or an impossible date (30-Feb). */
int imap_parse_date(const char *s, time_t *t_r);
int imap_parse_datetime(const char *s, time_t *t_r, int *tz_minutes_r);
/* Appends "\"dd-Mon-yyyy hh:mm:ss +hhmm\"" (with the quotes, day zero-
 * padded) for t as seen in zone tz_minutes (clamped to +-23:59). */
void imap_format_datetime(time_t t, int tz_minutes, struct str *out);

#endif
