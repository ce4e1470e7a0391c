/* mail_text_fold.c: case folding of UTF-8 and the folded substring search
 * that IMAP SEARCH runs over every message (see mail_text.h). The hay is
 * folded in chunks into the needle's scratch buffer and searched with
 * memmem, so a search is linear, allocation-free and fast on ASCII. */
#include "config.h"

#include <string.h>

#include "mail_text.h"
#include "mail_text_int.h"
#include "mem.h"

#define FOLD_CHUNK 65536

struct mail_text_needle {
	char *folded;
	size_t len;
	char *scratch; /* FOLD_CHUNK + len bytes */
};

/* Pairs "upper, lower" at even/odd code points: the even (or odd) one
 * folds to its successor. */
static uint32_t fold_pair(uint32_t c, bool upper_even)
{
	return ((c & 1) == 0) == upper_even ? c + 1 : c;
}

static uint32_t fold_latin(uint32_t c)
{
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c == 0xb5)
		return 0x3bc; /* micro sign: Greek mu */
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14a && c <= 0x177))
		return fold_pair(c, true);
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return fold_pair(c, false);
	if (c == 0x130)
		return 'i';
	if (c == 0x178)
		return 0xff;
	if (c == 0x17f)
		return 's';
	/* Latin Extended-B: only its regular runs (Pinyin, Romanian) */
	if (c == 0x1c4 || c == 0x1c7 || c == 0x1ca || c == 0x1f1)
		return c + 2;
	if (c == 0x1f2)
		return 0x1f3;
	if (c == 0x1c5 || c == 0x1c8 || c == 0x1cb ||
	    (c >= 0x1cd && c <= 0x1dc))
		return fold_pair(c, false);
	if ((c >= 0x1de && c <= 0x1ef) || (c >= 0x1f4 && c <= 0x1f5) ||
	    (c >= 0x1f8 && c <= 0x21f) || (c >= 0x222 && c <= 0x233))
		return fold_pair(c, true);
	return c;
}

static uint32_t fold_greek(uint32_t c)
{
	if ((c >= 0x391 && c <= 0x3a1) || (c >= 0x3a3 && c <= 0x3ab))
		return c + 32;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c == 0x3c2)
		return 0x3c3; /* final sigma */
	if ((c >= 0x370 && c <= 0x373) || c == 0x376 ||
	    (c >= 0x3d8 && c <= 0x3ef))
		return fold_pair(c, true);
	return c;
}

static uint32_t fold_cyrillic(uint32_t c)
{
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) ||
	    (c >= 0x4d0 && c <= 0x52f))
		return fold_pair(c, true);
	if (c == 0x4c0)
		return 0x4cf;
	if (c >= 0x4c1 && c <= 0x4ce)
		return fold_pair(c, false);
	return c;
}

/* Simple case folding of one non-ASCII code point. Every mapping here
 * gives a UTF-8 form no longer than the original's, which the chunked
 * search relies on only for speed (fold_buf checks room anyway). */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x250)
		return fold_latin(c);
	if (c >= 0x370 && c < 0x400)
		return fold_greek(c);
	if (c >= 0x400 && c < 0x530)
		return fold_cyrillic(c);
	if (c >= 0x531 && c <= 0x556)
		return c + 48; /* Armenian */
	if ((c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return fold_pair(c, true);
	if (c == 0x1e9e)
		return 0xdf; /* capital sharp s */
	if (c >= 0xff21 && c <= 0xff3a)
		return c + 32; /* fullwidth Latin */
	if (c == 0x212a)
		return 'k'; /* Kelvin sign */
	if (c == 0x212b)
		return 0xe5; /* Angstrom sign */
	if (c == 0x2126)
		return 0x3c9; /* Ohm sign */
	return c;
}

/* Folds in[0..len) into out[0..cap), stopping before a character that
 * does not fit; returns the bytes written and sets *used_r to the bytes
 * of in consumed. */
static size_t fold_buf(const char *in, size_t len, char *out, size_t cap,
		       size_t *used_r)
{
	size_t i = 0, o = 0;

	while (i < len && o < cap) {
		size_t run = len - i < cap - o ? len - i : cap - o, k;
		char tmp[4];
		uint32_t cp;
		size_t n, m;

		/* the common case, a run of ASCII, in a tight loop */
		for (k = 0; k < run && (unsigned char)in[i + k] < 0x80; k++) {
			unsigned c = (unsigned char)in[i + k];

			out[o + k] = (char)(c + ((c - 'A' < 26u) << 5));
		}
		i += k;
		o += k;
		if (k == run)
			continue;
		n = mail_utf8_decode(in + i, len - i, &cp);
		if (n == 0) {
			out[o++] = in[i++];
			continue;
		}
		m = mail_utf8_encode(fold_cp(cp), tmp);
		if (o + m > cap)
			break;
		memcpy(out + o, tmp, m);
		o += m;
		i += n;
	}
	*used_r = i;
	return o;
}

void mail_text_fold(const char *in, size_t len, struct str *out)
{
	char buf[4096];
	size_t pos = 0, used, n;

	while (pos < len) {
		n = fold_buf(in + pos, len - pos, buf, sizeof(buf), &used);
		str_append(out, buf, n);
		pos += used;
	}
}

struct mail_text_needle *mail_text_needle_new(const char *utf8, size_t len)
{
	struct mail_text_needle *n = mem_alloc(sizeof(*n));
	struct str folded;

	str_init(&folded, len);
	mail_text_fold(utf8, len, &folded);
	n->len = folded.len;
	n->folded = str_steal(&folded);
	n->scratch = mem_alloc(size_add(FOLD_CHUNK, n->len));
	return n;
}

void mail_text_needle_free(struct mail_text_needle **np)
{
	struct mail_text_needle *n = *np;

	if (n == NULL)
		return;
	mem_free(n->folded);
	mem_free(n->scratch);
	mem_free(*np);
}

bool mail_text_contains(const struct mail_text_needle *n, const char *hay,
			size_t len)
{
	size_t pos = 0, keep = 0, used, total;

	if (n->len == 0)
		return true;
	if (len < n->len) /* folding never makes the hay longer */
		return false;
	while (pos < len) {
		total = keep + fold_buf(hay + pos, len - pos, n->scratch + keep,
					FOLD_CHUNK, &used);
		if (total >= n->len &&
		    memmem(n->scratch, total, n->folded, n->len) != NULL)
			return true;
		/* a match may straddle chunks: carry the tail over */
		keep = total < n->len - 1 ? total : n->len - 1;
		memmove(n->scratch, n->scratch + total - keep, keep);
		pos += used;
	}
	return false;
}
