/* t/unit/mail_text.c: tests for lib/mail_text.c and lib/mail_text_fold.c:
 * RFC 2047 words, charsets, base64, quoted-printable and the folded
 * substring search. */
#include "config.h"

#include <string.h>

#include "mail_text.h"
#include "str.h"
#include "tap.h"

static void is_hdr(const char *in, const char *want, const char *name)
{
	struct str out;

	str_init(&out, 0);
	mail_text_decode_header(in, strlen(in), &out);
	is_str(out.data, want, name);
	str_deinit(&out);
}

static void is_conv(const char *cs, const char *in, int ret, const char *want)
{
	struct str out;

	str_init(&out, 0);
	is_int(mail_text_to_utf8(cs, in, strlen(in), &out), ret, cs);
	is_str(out.data, want, cs);
	str_deinit(&out);
}

static void is_b64(const char *in, int ret, const char *want, size_t wlen,
		   const char *name)
{
	struct str out;

	str_init(&out, 0);
	is_int(mail_text_base64_decode(in, strlen(in), &out), ret, name);
	is_mem(out.data, out.len, want, wlen, name);
	str_deinit(&out);
}

static void is_qp(const char *in, bool hdr, const char *want, const char *name)
{
	struct str out;

	str_init(&out, 0);
	mail_text_qp_decode(in, strlen(in), hdr, &out);
	is_str(out.data, want, name);
	str_deinit(&out);
}

static bool found(const char *needle, const char *hay, size_t hay_len)
{
	struct mail_text_needle *n =
	    mail_text_needle_new(needle, strlen(needle));
	bool r = mail_text_contains(n, hay, hay_len);

	mail_text_needle_free(&n);
	return r && n == NULL;
}

static void test_headers(void)
{
	is_hdr("=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9", "Q word");
	is_hdr("=?ISO-8859-1?B?Y2Fm6Q==?=", "caf\xc3\xa9", "B word, latin-1");
	is_hdr("=?utf-8?Q?a_b?=", "a b", "underscore is a space");
	is_hdr("=?utf-8?q?a?= =?utf-8?q?b?=", "ab", "adjacent words joined");
	is_hdr("=?utf-8?q?a?=\r\n\t=?utf-8?b?Yg==?=", "ab",
	       "folded adjacent words joined");
	is_hdr("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b",
	       "text between words kept");
	is_hdr("Re: =?utf-8?q?caf=C3?= =?utf-8?q?=A9?= ok",
	       "Re: caf\xc3\xa9 ok", "a character split across two words");
	is_hdr("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xc3\xa9\xc3\xa9",
	       "adjacent words in two charsets");
	is_hdr("=?utf-8*en?q?hi?=", "hi", "RFC 2231 language suffix");
	is_hdr("=?utf-8?x?abc?=", "=?utf-8?x?abc?=", "unknown encoding left");
	is_hdr(
	    "=?utf-8?q?a b?=", "=?utf-8?q?a b?=", "space inside: left alone");
	is_hdr("=?utf-8?q?abc", "=?utf-8?q?abc", "unterminated word left");
	is_hdr("=??q?abc?=", "=??q?abc?=", "empty charset left alone");
	is_hdr("a=?b", "a=?b", "stray =? kept");
	is_hdr("=?x-unknown?q?caf=E9?=", "caf\xef\xbf\xbd",
	       "unknown charset: U+FFFD");
	is_hdr("plain\r\n text", "plain text", "unfolded");
	is_hdr("caf\xe9", "caf\xc3\xa9", "raw latin-1 byte");
	is_hdr("caf\xc3\xa9", "caf\xc3\xa9", "raw UTF-8 kept");
	is_hdr("\x93q\x94 \x81", "\xe2\x80\x9cq\xe2\x80\x9d \xef\xbf\xbd",
	       "raw windows-1252 (0x81 undefined)");
}

static void test_charsets(void)
{
	struct str out;

	is_conv("iso-8859-1", "\xe9t\xe9", 1, "\xc3\xa9t\xc3\xa9");
	is_conv("windows-1252", "\x80 \x9f", 1, "\xe2\x82\xac \xc5\xb8");
	is_conv("UTF-8",
		"a\xff"
		"b\xc3",
		1,
		"a\xef\xbf\xbd"
		"b\xef\xbf\xbd");
	is_conv("utf-8", "\xed\xa0\x80", 1,
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	is_conv("us-ascii", "caf\xe9", 1, "caf\xc3\xa9");
	is_conv("koi8-r", "\xf0\xf2\xe9\xf7\xe5\xf4", 1,
		"\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2");
	is_conv("ISO-8859-15", "\xa4", 1, "\xe2\x82\xac");
	is_conv("shift_jis", "\x82\xa0\x82", 1, "\xe3\x81\x82\xef\xbf\xbd");
	is_conv("x-no-such-charset", "caf\xe9", 0, "caf\xef\xbf\xbd");
	is_conv("bad charset!", "ok", 0, "ok");
	/* the cached converter must not leak state between calls */
	is_conv("koi8-r", "\xf0", 1, "\xd0\x9f");
	str_init(&out, 0);
	is_int(mail_text_to_utf8("utf-16le", "a\0b\0", 4, &out), 1, "utf-16le");
	is_str(out.data, "ab", "utf-16le text");
	str_deinit(&out);
}

static void test_encodings(void)
{
	is_b64("aGVsbG8=", 1, "hello", 5, "base64");
	is_b64("aGVs\r\nbG8=\r\n", 1, "hello", 5, "base64 over lines");
	is_b64("aGVsbA==", 1, "hell", 4, "base64 with ==");
	is_b64("aGVs!bG8=", 0, "hello", 5, "invalid character skipped");
	is_b64("aGVsbG8", 0, "hello", 5, "missing padding");
	is_b64("aGVsbA==aGk=", 1, "hellhi", 6, "concatenated encodings");
	is_b64("a", 0, "", 0, "a lone character");
	is_b64("", 1, "", 0, "empty");
	is_b64("=", 0, "", 0, "a lone =");

	is_qp("a=3Db", false, "a=b", "qp: =XX");
	is_qp("caf=c3=a9", false, "caf\xc3\xa9", "qp: lower-case hex");
	is_qp("abc=\r\ndef", false, "abcdef", "qp: soft line break");
	is_qp("abc= \t\r\ndef=\nghi=", false, "abcdefghi",
	      "qp: soft breaks with padding, bare LF, at the end");
	is_qp("abc  \r\nd \t", false, "abc\r\nd", "qp: trailing space dropped");
	is_qp("a b", false, "a b", "qp: inner space kept");
	is_qp("=ZZ=4", false, "=ZZ=4", "qp: malformed = kept");
	is_qp("a_b=5F", true, "a b_", "qp: header mode");
	is_qp("a_b", false, "a_b", "qp: body mode keeps _");
}

static void test_search(void)
{
	struct str hay, folded;
	size_t at;

	ok(found("STRASSE", "die strasse", 11), "ASCII folding");
	ok(!found("STRASSE",
		  "die stra\xc3\x9f"
		  "e",
		  11),
	   "no full folding: sharp s is not ss");
	ok(found("\xc3\x89T\xc3\x89", "un \xc3\xa9t\xc3\xa9 chaud", 14),
	   "ETE with accents vs ete");
	ok(found("\xc3\xa9t\xc3\xa9", "UN \xc3\x89T\xc3\x89", 8),
	   "lower-case needle, upper-case hay");
	ok(found("\xce\xbf\xce\xb4\xce\xbf\xcf\x82",
		 "\xce\x9f\xce\x94\xce\x9f\xce\xa3", 8),
	   "Greek, with final sigma");
	ok(found("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2",
		 "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 12),
	   "Cyrillic");
	ok(found("\xc8\x99", "\xc8\x98", 2), "Romanian s-comma");
	ok(found("k", "\xe2\x84\xaa", 3), "Kelvin sign");
	ok(!found("abc", "ab", 2), "hay shorter than the needle");
	ok(!found("xyz", "abc xy z", 8), "not found");
	ok(found("", "anything", 8), "empty needle");
	ok(found("b",
		 "a\xff"
		 "B",
		 3),
	   "invalid UTF-8 in the hay");

	str_init(&hay, 200000);
	for (size_t i = 0; i < 200000; i++)
		str_putc(&hay, 'x');
	at = 65536 - 3;
	memcpy(hay.data + at, "NeEdLe", 6);
	ok(found("needle", hay.data, hay.len), "match across a chunk boundary");
	memcpy(hay.data + at, "xxxxxx", 6);
	memcpy(hay.data + hay.len - 6, "\xc3\x89t\xc3\x89!", 6);
	ok(found("\xc3\xa9t\xc3\xa9!", hay.data, hay.len),
	   "match at the end of a long hay");
	ok(!found("needle", hay.data, hay.len), "no match in a long hay");
	str_deinit(&hay);

	str_init(&folded, 0);
	mail_text_fold("\xc3\x80\xc3\x89\xc3\x8e Ab \xe1\xba\x9e", 13, &folded);
	is_str(folded.data, "\xc3\xa0\xc3\xa9\xc3\xae ab \xc3\x9f",
	       "mail_text_fold");
	str_deinit(&folded);
}

int main(void)
{
	test_headers();
	test_charsets();
	test_encodings();
	test_search();
	return tap_done();
}
