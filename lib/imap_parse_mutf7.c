/* imap_parse_mutf7.c: modified UTF-7 mailbox names (RFC 3501 5.1.3) and
 * UTF-8 validation (see imap_util.h). imapd keeps mailbox names in UTF-8
 * and converts at the protocol edge; the decoder accepts only the one
 * canonical encoding of each name, so two different wire names can never
 * reach the same mailbox. */
#include "config.h"

#include "imap_util.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool printable_ascii(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Decodes one UTF-8 sequence at s; returns its length, or -1 when it is
 * invalid (truncated, overlong, a surrogate, above U+10FFFF). */
static int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return -1;
	if (len < (size_t)n)
		return -1;
	cp = s[0] & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	return n;
}

bool imap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		int n = utf8_decode(u + i, len - i, &cp);

		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

static void utf8_put(struct str *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	str_append(out, b, n);
}

/* Takes one UTF-16 unit of a shifted run; *high holds a pending high
 * surrogate (0 if none). */
static int utf16_unit(uint32_t unit, uint32_t *high, struct str *out)
{
	uint32_t cp;

	if (*high != 0) {
		if (unit < 0xdc00 || unit > 0xdfff)
			return -1;
		cp = 0x10000 + ((*high - 0xd800) << 10) + (unit - 0xdc00);
		*high = 0;
	} else if (unit >= 0xd800 && unit <= 0xdbff) {
		*high = unit;
		return 1;
	} else if (unit >= 0xdc00 && unit <= 0xdfff) {
		return -1;
	} else {
		cp = unit;
	}
	/* printable ASCII must represent itself; NUL is no name character */
	if ((cp >= 0x20 && cp <= 0x7e) || cp == 0)
		return -1;
	utf8_put(out, cp);
	return 1;
}

/* Decodes the base64 run after "&" at in[*pos] up to and including "-". */
static int mutf7_run(const char *in, size_t len, size_t *pos, struct str *out)
{
	uint32_t acc = 0, high = 0;
	unsigned bits = 0;
	size_t i;

	for (i = *pos; i < len && in[i] != '-'; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = ((acc << 6) | (uint32_t)v) & 0x3fffff;
		bits += 6;
		if (bits >= 16) {
			bits -= 16;
			if (utf16_unit((acc >> bits) & 0xffff, &high, out) < 0)
				return -1;
		}
	}
	/* an explicit "-" ends the run; left-over bits are padding: fewer
	 * than 6, all zero, and no surrogate may be left half done */
	if (i == len || i == *pos || bits >= 6 ||
	    (acc & ((1u << bits) - 1)) != 0 || high != 0)
		return -1;
	*pos = i + 1;
	return 1;
}

int imap_mutf7_to_utf8(const char *in, size_t len, struct str *out)
{
	bool after_run = false;

	str_clear(out);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];

		if (!printable_ascii(c))
			goto bad;
		if (c != '&') {
			str_putc(out, c);
			i++;
		} else if (i + 1 < len && in[i + 1] == '-') {
			str_putc(out, '&');
			i += 2;
		} else {
			/* "-&" right after a run is a null shift: the two runs
			 * must have been one */
			i++;
			if (after_run || mutf7_run(in, len, &i, out) < 0)
				goto bad;
			after_run = true;
			continue;
		}
		after_run = false;
	}
	return 1;
bad:
	str_clear(out);
	return -1;
}

static void b64_put_unit(struct str *out, uint32_t unit, uint32_t *acc,
			 unsigned *bits)
{
	*acc = ((*acc << 16) | unit) & 0x3fffff;
	*bits += 16;
	while (*bits >= 6) {
		*bits -= 6;
		str_putc(out, b64_chars[(*acc >> *bits) & 63]);
	}
}

/* Encodes the non-printable run starting at in[*pos] as "&...-". */
static int mutf7_encode_run(const char *in, size_t len, size_t *pos,
			    struct str *out)
{
	const unsigned char *u = (const unsigned char *)in;
	uint32_t acc = 0, cp;
	unsigned bits = 0;
	size_t i = *pos;

	str_putc(out, '&');
	while (i < len && !printable_ascii(u[i])) {
		int n = utf8_decode(u + i, len - i, &cp);

		if (n < 0 || cp == 0)
			return -1;
		i += (size_t)n;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			b64_put_unit(out, 0xd800 | (cp >> 10), &acc, &bits);
			b64_put_unit(out, 0xdc00 | (cp & 0x3ff), &acc, &bits);
		} else {
			b64_put_unit(out, cp, &acc, &bits);
		}
	}
	if (bits > 0)
		str_putc(out, b64_chars[(acc << (6 - bits)) & 63]);
	str_putc(out, '-');
	*pos = i;
	return 1;
}

int imap_utf8_to_mutf7(const char *in, size_t len, struct str *out)
{
	str_clear(out);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];

		if (c == '&') {
			str_append(out, "&-", 2);
			i++;
		} else if (printable_ascii(c)) {
			str_putc(out, c);
			i++;
		} else if (mutf7_encode_run(in, len, &i, out) < 0) {
			str_clear(out);
			return -1;
		}
	}
	return 1;
}
