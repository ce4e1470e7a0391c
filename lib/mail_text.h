/* mail_text.h: turning the text of a message into searchable UTF-8.
 *
 * RFC 2047 encoded words, charset conversion (iconv, with fast paths for
 * UTF-8, US-ASCII, ISO-8859-1 and windows-1252), the two transfer encodings
 * (base64, quoted-printable) and a case-insensitive substring search on
 * UTF-8. Used by lib/mime.c (SEARCH text, BINARY) and by imapd's SEARCH.
 *
 * Bytes that are not valid in their declared charset never stop anything:
 * they become U+FFFD, so the output is always valid UTF-8 (except where a
 * function says it copies bytes as they are).
 *
 * Not thread-safe: the charset converter keeps the last iconv handle open
 * so that a SEARCH over thousands of messages opens it once. */
#ifndef POSTERN_MAIL_TEXT_H
#define POSTERN_MAIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* Appends the header value in[0..len) to out as UTF-8: RFC 2047 encoded
 * words ("=?charset?B|Q?text?=") are decoded, whitespace between two
 * adjacent encoded words is dropped, words of the same charset are joined
 * before conversion (so a character split across two words survives), and
 * malformed words are left as they are. CR and LF are dropped (unfolding).
 * Other bytes are kept when they form valid UTF-8; stray 8-bit bytes are
 * read as windows-1252 (what undeclared 8-bit headers nearly always are). */
void mail_text_decode_header(const char *in, size_t len, struct str *out);

/* Converts in[0..len) from charset to UTF-8, appending to out. Returns 1;
 * for an unknown charset returns 0 and appends the input with every
 * non-ASCII byte replaced by U+FFFD. Bytes invalid in the charset become
 * U+FFFD. Charset names are case-insensitive; an RFC 2231 language suffix
 * ("utf-8*en") is ignored. Two deliberate leniencies: "us-ascii" text
 * with 8-bit bytes is read like a header (UTF-8 if valid, else
 * windows-1252), and "iso-8859-1" is read as windows-1252 (its superset
 * in every real mail client). */
int mail_text_to_utf8(const char *charset, const char *in, size_t len,
		      struct str *out);

/* Base64: appends the decoded bytes of in[0..len) to out. Whitespace is
 * skipped. Lenient: other invalid characters are skipped too and a
 * truncated final group gives the bytes it holds. Returns 1 when the input
 * was clean base64, 0 when something had to be skipped or guessed. */
int mail_text_base64_decode(const char *in, size_t len, struct str *out);

/* Quoted-printable: appends the decoded bytes to out. "=XX" (either case)
 * is a byte, "=" at the end of a line is a soft line break, whitespace at
 * the end of a line is dropped, a malformed "=" is kept as it is. Line ends
 * are copied as they are. header_mode: RFC 2047's Q form ('_' = space). */
void mail_text_qp_decode(const char *in, size_t len, bool header_mode,
			 struct str *out);

/* Case-insensitive substring search on UTF-8. Both sides are folded the
 * same way: ASCII, Latin-1 Supplement, Latin Extended-A, the regular runs
 * of Latin Extended-B (Pinyin, Romanian), Latin Extended Additional,
 * Greek (incl. final sigma), Cyrillic (incl. the extended pairs), Armenian
 * and fullwidth Latin letters map to their lower case
 * (Unicode simple case folding; no full folding, so "STRASSE" matches
 * "strasse" but not "straße", and no normalization: precomposed and
 * decomposed accents differ). Invalid UTF-8 bytes compare as themselves.
 * The needle is folded once; searching needs no allocation. A needle is
 * used by one search at a time (it owns the scratch buffer). */
struct mail_text_needle;
struct mail_text_needle *mail_text_needle_new(const char *utf8, size_t len);
void mail_text_needle_free(struct mail_text_needle **np);
/* true if hay[0..len) contains the needle; an empty needle is found in
 * everything. */
bool mail_text_contains(const struct mail_text_needle *n, const char *hay,
			size_t len);
/* Appends the folded form of in[0..len) to out (for callers that compare
 * folded strings themselves, and for tests). */
void mail_text_fold(const char *in, size_t len, struct str *out);

#endif
