/* mail_text.c: charsets, transfer encodings and RFC 2047 words to UTF-8
 * (see mail_text.h). The case folding and needle search live in
 * mail_text_fold.c. */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "mail_text.h"
#include "mail_text_int.h"

#define CHARSET_NAME_MAX 64

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* windows-1252 0x80..0x9F; 0 = undefined there. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,	    0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,	    0x017D, 0,
    0,	    0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,	    0x017E, 0x0178,
};

size_t mail_utf8_decode(const char *s, size_t n, uint32_t *cp_r)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, min;
	size_t len;

	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return len;
}

size_t mail_utf8_encode(uint32_t cp, char *buf)
{
	unsigned char *b = (unsigned char *)buf;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | (cp >> 18));
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static void append_cp(struct str *out, uint32_t cp)
{
	char buf[4];

	str_append(out, buf, mail_utf8_encode(cp, buf));
}

static void append_cp1252(struct str *out, unsigned char c)
{
	uint32_t cp = c;

	if (c >= 0x80 && c <= 0x9f)
		cp = cp1252_high[c - 0x80];
	if (cp == 0)
		str_append(out, replacement, 3);
	else
		append_cp(out, cp);
}

/* Copies runs of ASCII and valid UTF-8; each other byte goes through
 * bad(), which appends its replacement. */
static void append_utf8_or(struct str *out, const char *in, size_t len,
			   bool drop_crlf, bool latin_fallback)
{
	size_t i = 0, run = 0;
	uint32_t cp;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		size_t n;

		if (c < 0x80 && !(drop_crlf && (c == '\r' || c == '\n'))) {
			i++;
			continue;
		}
		n = c < 0x80 ? 0 : mail_utf8_decode(in + i, len - i, &cp);
		if (n > 0) {
			i += n;
			continue;
		}
		str_append(out, in + run, i - run);
		if (c >= 0x80 && latin_fallback)
			append_cp1252(out, c);
		else if (c >= 0x80)
			str_append(out, replacement, 3);
		run = ++i;
	}
	str_append(out, in + run, len - run);
}

void mail_text_append_raw(const char *in, size_t len, struct str *out)
{
	append_utf8_or(out, in, len, true, true);
}

static void append_cp1252_text(const char *in, size_t len, struct str *out)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)in[i] < 0x80)
			continue;
		str_append(out, in + run, i - run);
		append_cp1252(out, (unsigned char)in[i]);
		run = i + 1;
	}
	str_append(out, in + run, len - run);
}

static void append_ascii_only(const char *in, size_t len, struct str *out)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)in[i] < 0x80)
			continue;
		str_append(out, in + run, i - run);
		str_append(out, replacement, 3);
		run = i + 1;
	}
	str_append(out, in + run, len - run);
}

/* The last charset iconv was opened for: a SEARCH converts thousands of
 * parts, nearly all in one or two charsets, and iconv_open is slow. */
static struct {
	char name[CHARSET_NAME_MAX + 1];
	iconv_t cd;
	bool open;
	bool unknown; /* iconv_open failed for name */
} conv_cache;

static bool charset_is(const char *cs, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(cs, name, len) == 0;
}

static iconv_t conv_get(const char *cs, size_t len)
{
	if (conv_cache.name[0] != '\0' && charset_is(cs, len, conv_cache.name))
		return conv_cache.unknown ? (iconv_t)-1 : conv_cache.cd;
	if (conv_cache.open)
		iconv_close(conv_cache.cd);
	memcpy(conv_cache.name, cs, len);
	conv_cache.name[len] = '\0';
	conv_cache.cd = iconv_open("UTF-8", conv_cache.name);
	conv_cache.open = conv_cache.cd != (iconv_t)-1;
	conv_cache.unknown = !conv_cache.open;
	return conv_cache.cd;
}

static void conv_run(iconv_t cd, const char *in, size_t len, struct str *out)
{
	char buf[4096], *inp = (char *)in, *outp; /* iconv's API is not const */
	size_t inleft = len, outleft;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (inleft > 0) {
		outp = buf;
		outleft = sizeof(buf);
		if (iconv(cd, &inp, &inleft, &outp, &outleft) == (size_t)-1 &&
		    errno != E2BIG) {
			str_append(out, buf, (size_t)(outp - buf));
			str_append(out, replacement, 3);
			if (errno != EILSEQ)
				break; /* truncated sequence at the end */
			inp++; /* skip the byte the charset cannot read */
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
			continue;
		}
		str_append(out, buf, (size_t)(outp - buf));
	}
	outp = buf;
	outleft = sizeof(buf);
	iconv(cd, NULL, NULL, &outp, &outleft); /* the final shift state */
	str_append(out, buf, (size_t)(outp - buf));
}

/* Charset names are short and made of a known alphabet; anything else is
 * not handed to iconv_open. */
static bool charset_name_ok(const char *cs, size_t len)
{
	if (len == 0 || len > CHARSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = cs[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-_.:+()", c) != NULL))
			return false;
	}
	return true;
}

int mail_text_to_utf8(const char *charset, const char *in, size_t len,
		      struct str *out)
{
	size_t cslen = strcspn(charset, "*");
	iconv_t cd;

	while (cslen > 0 &&
	       (charset[cslen - 1] == ' ' || charset[cslen - 1] == '\t'))
		cslen--;
	if (charset_is(charset, cslen, "utf-8") ||
	    charset_is(charset, cslen, "utf8")) {
		append_utf8_or(out, in, len, false, false);
		return 1;
	}
	if (cslen == 0 || charset_is(charset, cslen, "us-ascii") ||
	    charset_is(charset, cslen, "ascii")) {
		append_utf8_or(out, in, len, false, true);
		return 1;
	}
	if (charset_is(charset, cslen, "iso-8859-1") ||
	    charset_is(charset, cslen, "latin1") ||
	    charset_is(charset, cslen, "windows-1252") ||
	    charset_is(charset, cslen, "cp1252")) {
		append_cp1252_text(in, len, out);
		return 1;
	}
	if (!charset_name_ok(charset, cslen) ||
	    (cd = conv_get(charset, cslen)) == (iconv_t)-1) {
		append_ascii_only(in, len, out);
		return 0;
	}
	conv_run(cd, in, len, out);
	return 1;
}

static const signed char b64_value[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,
    ['G'] = 7,	['H'] = 8,  ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not in the alphabet */

int mail_text_base64_decode(const char *in, size_t len, struct str *out)
{
	unsigned char buf[3072];
	size_t nbuf = 0;
	uint32_t acc = 0;
	unsigned nchars = 0; /* characters of the current 4-char group */
	bool clean = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = b64_value[c] - 1;

		if (v < 0) {
			if (c == '=') {
				/* "=" closes the group; data may follow
				 * (concatenated encodings) */
				if (nchars < 2)
					clean = clean && nchars == 0 && i > 0 &&
						in[i - 1] == '=';
				acc = 0;
				nchars = 0;
			} else if (c != ' ' && c != '\t' && c != '\r' &&
				   c != '\n') {
				clean = false;
			}
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		nchars++;
		/* 2, 3 and 4 characters complete bytes 1, 2 and 3 */
		if (nchars >= 2)
			buf[nbuf++] =
			    (unsigned char)(acc >> (2 * (4 - nchars)));
		if (nchars == 4) {
			acc = 0;
			nchars = 0;
		}
		if (nbuf > sizeof(buf) - 4) {
			str_append(out, buf, nbuf);
			nbuf = 0;
		}
	}
	str_append(out, buf, nbuf);
	return clean && nchars == 0 ? 1 : 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* For a '=' at in[i]: the index after a soft line break, or 0 if it is
 * not one ("=" + optional trailing whitespace + line end or end of text). */
static size_t qp_soft_break(const char *in, size_t len, size_t i)
{
	size_t j = i + 1;

	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j == len)
		return j;
	if (in[j] == '\n')
		return j + 1;
	if (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n')
		return j + 2;
	if (in[j] == '\r' && j + 1 == len)
		return j + 1;
	return 0;
}

/* Whitespace run at in[i]: its end if a line end (or the text end)
 * follows, else 0 (the run is kept). */
static size_t qp_trailing_space(const char *in, size_t len, size_t i)
{
	size_t j = i;

	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j == len || in[j] == '\n' ||
	    (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n'))
		return j;
	return 0;
}

void mail_text_qp_decode(const char *in, size_t len, bool header_mode,
			 struct str *out)
{
	char buf[4096];
	size_t nbuf = 0, i = 0, j;

	while (i < len) {
		char c = in[i];
		int hi, lo;

		if (nbuf > sizeof(buf) - 2) {
			str_append(out, buf, nbuf);
			nbuf = 0;
		}
		if (c == '=' && (j = qp_soft_break(in, len, i)) != 0) {
			i = j;
		} else if (c == '=' && i + 2 < len &&
			   (hi = hex_value(in[i + 1])) >= 0 &&
			   (lo = hex_value(in[i + 2])) >= 0) {
			buf[nbuf++] = (char)(hi * 16 + lo);
			i += 3;
		} else if ((c == ' ' || c == '\t') &&
			   (j = qp_trailing_space(in, len, i)) != 0) {
			i = j;
		} else {
			buf[nbuf++] = header_mode && c == '_' ? ' ' : c;
			i++;
		}
	}
	str_append(out, buf, nbuf);
}

/* An RFC 2047 encoded word found in a header. */
struct encoded_word {
	const char *charset, *text;
	size_t charset_len, text_len;
	size_t end; /* index after "?=" */
	char enc;   /* 'b' or 'q' */
};

static bool ew_char(char c)
{
	return c > ' ' && c < 0x7f && c != '?';
}

/* At in[i] == '=': parses "=?charset?enc?text?=" into w. */
static bool ew_parse(const char *in, size_t len, size_t i,
		     struct encoded_word *w)
{
	size_t j = i + 2, start = j;

	if (i + 1 >= len || in[i + 1] != '?')
		return false;
	while (j < len && ew_char(in[j]))
		j++;
	if (j + 2 >= len || in[j] != '?' || j == start ||
	    j - start > CHARSET_NAME_MAX || in[j + 2] != '?')
		return false;
	w->charset = in + start;
	w->charset_len = j - start;
	w->enc = (char)(in[j + 1] | 0x20);
	if (w->enc != 'b' && w->enc != 'q')
		return false;
	start = j += 3;
	while (j < len && ew_char(in[j]))
		j++;
	if (j + 1 >= len || in[j] != '?' || in[j + 1] != '=')
		return false;
	w->text = in + start;
	w->text_len = j - start;
	w->end = j + 2;
	return true;
}

static bool all_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* Decoded bytes of consecutive encoded words in one charset. */
struct ew_pending {
	struct str bytes;
	char charset[CHARSET_NAME_MAX + 1];
};

static void ew_flush(struct ew_pending *p, struct str *out)
{
	if (p->bytes.len > 0)
		mail_text_to_utf8(p->charset, p->bytes.data, p->bytes.len, out);
	str_clear(&p->bytes);
}

static void ew_add(struct ew_pending *p, const struct encoded_word *w,
		   struct str *out)
{
	if (p->bytes.len > 0 &&
	    !charset_is(w->charset, w->charset_len, p->charset))
		ew_flush(p, out);
	memcpy(p->charset, w->charset, w->charset_len);
	p->charset[w->charset_len] = '\0';
	if (w->enc == 'b')
		mail_text_base64_decode(w->text, w->text_len, &p->bytes);
	else
		mail_text_qp_decode(w->text, w->text_len, true, &p->bytes);
}

void mail_text_decode_header(const char *in, size_t len, struct str *out)
{
	struct ew_pending pending;
	struct encoded_word w;
	size_t i = 0, run = 0;
	bool after_word = false;
	const char *eq;

	str_init(&pending.bytes, 0);
	while (i < len && (eq = memchr(in + i, '=', len - i)) != NULL) {
		i = (size_t)(eq - in);
		if (!ew_parse(in, len, i, &w)) {
			i++;
			continue;
		}
		/* only whitespace between two words: it is not text */
		if (!after_word || !all_space(in + run, i - run)) {
			ew_flush(&pending, out);
			mail_text_append_raw(in + run, i - run, out);
		}
		ew_add(&pending, &w, out);
		i = run = w.end;
		after_word = true;
	}
	ew_flush(&pending, out);
	mail_text_append_raw(in + run, len - run, out);
	str_deinit(&pending.bytes);
}
