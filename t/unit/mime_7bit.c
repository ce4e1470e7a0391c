/* t/unit/mime_7bit.c: tests for lib/mime_7bit.c, the 8-bit to 7-bit MIME
 * filter of the smtp client: exact output for small cases, and for larger
 * ones that the output is 7-bit, keeps lines short, decodes back to the
 * original (each part's BINARY through lib/mime), and does not depend on
 * how the input is cut into chunks; the cases that must not be converted
 * and why. Messages are written with "\n" and fed in CRLF form unless a
 * test is about bare line ends. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mime.h"
#include "mime_7bit.h"
#include "str.h"
#include "tap.h"

static void crlf(struct str *out, const char *lf)
{
	for (; *lf != '\0'; lf++) {
		if (*lf == '\n')
			str_putc(out, '\r');
		str_putc(out, *lf);
	}
}

/* Converts in (in "\n" notation) and checks the verdict; out gets the
 * result, in the CRLF input form in in_r when given. */
static int conv(const char *lf, bool allow, struct str *out, struct str *in_r,
		const char **why_r)
{
	struct str in;
	int r;

	str_init(&in, 0);
	crlf(&in, lf);
	*why_r = NULL;
	str_clear(out);
	r = mime_7bit_buffer(in.data, in.len, allow, out, why_r);
	if (in_r != NULL)
		str_set(in_r, in.data, in.len);
	str_deinit(&in);
	return r;
}

static void is_conv(const char *lf, const char *want_lf, const char *name)
{
	struct str out, want;
	const char *why;

	str_init(&out, 0);
	str_init(&want, 0);
	crlf(&want, want_lf);
	is_int(conv(lf, false, &out, NULL, &why), 1, name);
	is_str(out.data, want.data, name);
	str_deinit(&out);
	str_deinit(&want);
}

static void is_refused(const char *lf, bool allow, const char *why_part,
		       const char *name)
{
	struct str out;
	const char *why;

	str_init(&out, 0);
	is_int(conv(lf, allow, &out, NULL, &why), -1, name);
	ok(why != NULL && strstr(why, why_part) != NULL, "%s: why (%s)", name,
	   why != NULL ? why : "none");
	is_int(out.len, 0, "no output");
	str_deinit(&out);
}

/* Every byte 7-bit, no NUL, every line at most max bytes. */
static bool seven_bit(const struct str *s, size_t max)
{
	size_t col = 0;

	for (size_t i = 0; i < s->len; i++) {
		unsigned char b = (unsigned char)s->data[i];

		if (b >= 0x80 || b == 0)
			return false;
		col = b == '\n' ? 0 : col + 1;
		if (col > max + 1)
			return false;
	}
	return true;
}

/* BINARY[section] of both messages is the same. */
static void same_part(const struct str *a, const struct str *b,
		      const char *section, const char *name)
{
	struct mime_message *ma = mime_parse(a->data, a->len, NULL);
	struct mime_message *mb = mime_parse(b->data, b->len, NULL);
	struct str da, db;
	const char *error;

	str_init(&da, 0);
	str_init(&db, 0);
	mime_fetch_binary(ma, section, &da, &error);
	mime_fetch_binary(mb, section, &db, &error);
	ok(da.len > 0, "%s: part %s exists", name, section);
	is_mem(db.data, db.len, da.data, da.len, name);
	str_deinit(&da);
	str_deinit(&db);
	mime_message_free(&ma);
	mime_message_free(&mb);
}

/* The converted in, fed in pieces of step bytes (0: byte by byte with
 * a fresh filter per pass). */
static void conv_steps(const struct str *in, size_t step, struct str *out)
{
	struct mime_7bit *f = mime_7bit_new();
	const char *why;
	size_t n = step == 0 ? 1 : step;

	for (size_t i = 0; i < in->len; i += n)
		mime_7bit_scan(f, in->data + i,
			       in->len - i < n ? in->len - i : n);
	mime_7bit_scan_end(f);
	str_clear(out);
	if (mime_7bit_verdict(f, false, &why) == 1) {
		for (size_t i = 0; i < in->len; i += n)
			mime_7bit_convert(f, in->data + i,
					  in->len - i < n ? in->len - i : n,
					  out);
		mime_7bit_convert_end(f, out);
	}
	mime_7bit_free(&f);
	ok(f == NULL, "free clears the pointer");
}

static void test_simple(void)
{
	struct str out;
	const char *why;

	str_init(&out, 0);
	is_int(conv("Subject: x\n\nplain ascii\n", false, &out, NULL, &why), 0,
	       "7-bit message: sent as is");
	is_int(out.len, 0, "7-bit message: no output");
	is_int(conv("Subject: x\nContent-Transfer-Encoding: 8bit\n\nabc\n",
		    false, &out, NULL, &why),
	       0, "labelled 8bit, but 7-bit: sent as is");
	str_deinit(&out);
	is_conv("Subject: x\n\nh\xc3\xa9llo\n",
		"Subject: x\nMIME-Version: 1.0\n"
		"Content-Transfer-Encoding: quoted-printable\n\nh=C3=A9llo\n",
		"8-bit without MIME: MIME-Version and CTE added");
	is_conv("MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"Subject: y\n\ncaf\xc3\xa9 = ok \n\tend\t\n",
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Subject: y\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"caf=C3=A9 =3D ok=20\n\tend=09\n",
		"CTE 8bit replaced, = and trailing blanks encoded");
	is_conv("Content-Transfer-Encoding : 8BIT (comment)\n"
		"content-transfer-encoding: 8bit\n\n\xff\n",
		"MIME-Version: 1.0\n"
		"Content-Transfer-Encoding: quoted-printable\n\n=FF\n",
		"every CTE field goes, names in any case");
	is_conv("Subject: z\n\n\xe9-x\n-- sig\n",
		"Subject: z\nMIME-Version: 1.0\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"=E9-x\n=2D- sig\n",
		"a line starting with - is encoded");
}

#define NESTED                                                                 \
	"From: a@example.org\n"                                                \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: multipart/mixed; boundary=\"outer\"\n"                  \
	"\n"                                                                   \
	"preamble\n"                                                           \
	"--outer\n"                                                            \
	"Content-Type: multipart/alternative; boundary=inner\n"                \
	"\n"                                                                   \
	"--inner\n"                                                            \
	"Content-Type: text/plain; charset=utf-8\n"                            \
	"Content-Transfer-Encoding: 8bit\n"                                    \
	"\n"                                                                   \
	"Gr\xc3\xbc\xc3\x9f"                                                   \
	"e aus K\xc3\xb6ln\n"                                                  \
	"--inner\n"                                                            \
	"Content-Type: text/html; charset=utf-8\n"                             \
	"\n"                                                                   \
	"<p>\xc3\xa9t\xc3\xa9</p>\n"                                           \
	"--inner--\n"                                                          \
	"--outer\n"                                                            \
	"Content-Type: application/octet-stream\n"                             \
	"Content-Transfer-Encoding: base64\n"                                  \
	"\n"                                                                   \
	"AAECAwQFBgcICQ==\n"                                                   \
	"--outer\n"                                                            \
	"Content-Type: text/plain\n"                                           \
	"\n"                                                                   \
	"plain ascii = stays\n"                                                \
	"--outer\n"                                                            \
	"Content-Type: message/rfc822\n"                                       \
	"Content-Transfer-Encoding: 8bit\n"                                    \
	"\n"                                                                   \
	"Subject: inner\n"                                                     \
	"\n"                                                                   \
	"\xc3\xa0 bient\xc3\xb4t\n"                                            \
	"--outer--\n"                                                          \
	"epilogue\n"

static void test_nested(void)
{
	struct str in, out, out2;
	const char *why;
	static const char *const sections[] = {"1.1", "1.2", "2", "3", "4.1"};

	str_init(&in, 0);
	str_init(&out, 0);
	str_init(&out2, 0);
	is_int(conv(NESTED, false, &out, &in, &why), 1, "nested: converted");
	ok(seven_bit(&out, 76), "nested: 7-bit, short lines");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		same_part(&in, &out, sections[i], "nested: decodes back");
	ok(strstr(out.data, "Content-Transfer-Encoding: base64\r\n\r\n"
			    "AAECAwQFBgcICQ==\r\n") != NULL,
	   "nested: base64 part left alone");
	ok(strstr(out.data, "Content-Type: text/plain\r\n\r\n"
			    "plain ascii = stays\r\n") != NULL,
	   "nested: clean 7-bit part left alone");
	ok(strstr(out.data, "Content-Type: text/html; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n"
			    "\r\n<p>=C3=A9t=C3=A9</p>\r\n--inner--") != NULL,
	   "nested: part without CTE encoded");
	ok(strstr(out.data, "Content-Type: message/rfc822\r\n"
			    "Content-Transfer-Encoding: 7bit\r\n\r\n"
			    "Subject: inner\r\n"
			    "MIME-Version: 1.0\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n"
			    "\r\n=C3=A0 bient=C3=B4t\r\n--outer--\r\n"
			    "epilogue\r\n") != NULL,
	   "nested: message/rfc822 relabelled 7bit, converted inside");
	ok(strstr(out.data, "\r\npreamble\r\n--outer\r\n") != NULL,
	   "nested: preamble kept");
	for (size_t step = 0; step < 40; step += 7) {
		conv_steps(&in, step, &out2);
		ok(str_eq_cstr(&out2, out.data),
		   "nested: fed in pieces of %zu bytes, the same", step);
	}
	str_deinit(&in);
	str_deinit(&out);
	str_deinit(&out2);
}

static void test_refused(void)
{
	struct str out;
	const char *why;

	is_refused("Subject: caf\xc3\xa9\n\nbody\n", false, "header",
		   "8-bit header");
	str_init(&out, 0);
	is_int(conv("Subject: caf\xc3\xa9\n\nbody\n", true, &out, NULL, &why),
	       0, "8-bit header, SMTPUTF8 peer, 7-bit body: as is");
	is_int(
	    conv("Subject: caf\xc3\xa9\n\nbody \xe9\n", true, &out, NULL, &why),
	    1, "8-bit header, SMTPUTF8 peer, 8-bit body: converted");
	ok(strstr(out.data, "Subject: caf\xc3\xa9\r\n") != NULL &&
	       strstr(out.data, "body =E9\r\n") != NULL,
	   "the header stays, the body is encoded");
	str_deinit(&out);
	is_refused("Content-Type: multipart/signed; boundary=s;"
		   " protocol=\"application/pgp-signature\"\n\n"
		   "--s\nContent-Type: text/plain\n\nsign\xc3\xa9\n"
		   "--s\nContent-Type: application/pgp-signature\n\nsig\n"
		   "--s--\n",
		   false, "signed", "8-bit inside multipart/signed");
	is_refused("Content-Type: multipart/encrypted; boundary=s\n\n"
		   "--s\n\n\xe9\n--s--\n",
		   false, "signed or encrypted",
		   "8-bit inside multipart/encrypted");
	is_refused("Content-Transfer-Encoding: binary\n\n\xe9\x00\n", false,
		   "binary", "binary part");
	is_refused("Content-Transfer-Encoding: base64\n\nAAAA\xe9\n", false,
		   "base64", "8-bit in a base64 part");
	is_refused("Content-Transfer-Encoding: x-uuencode\n\n\xe9\n", false,
		   "unknown", "8-bit in an unknown encoding");
	is_refused("Content-Type: multipart/mixed\n\n--x\n\n\xe9\n--x--\n",
		   false, "boundary", "multipart without boundary parameter");
	is_refused("Content-Type: multipart/mixed; boundary=nowhere\n\n"
		   "--x\n\n\xe9\n--x--\n",
		   false, "boundary never appears", "boundary never appears");
	is_refused("Content-Type: multipart/mixed; boundary=b\n\n"
		   "pre\xe9mble\n--b\n\nx\n--b--\n",
		   false, "preamble", "8-bit preamble");
	is_refused("Content-Type: multipart/mixed; boundary=b\n\n"
		   "--b\n\nx\n--b--\nepi\xe9logue\n",
		   false, "epilogue", "8-bit epilogue");
}

static void test_signed_kept(void)
{
	struct str in, out, want;
	const char *why;

	str_init(&in, 0);
	str_init(&out, 0);
	str_init(&want, 0);
	is_int(conv("Content-Type: multipart/mixed; boundary=m\n\n"
		    "--m\nContent-Type: text/plain\n\n\xe9t\xe9\n--m\n"
		    "Content-Type: multipart/signed; boundary=s\n\n"
		    "--s\nContent-Type: text/plain\n"
		    "Content-Transfer-Encoding: 8bit\n\nsigned text\n"
		    "--s\nContent-Type: application/pgp-signature\n\nsig\n"
		    "--s--\n--m--\n",
		    false, &out, &in, &why),
	       1, "7-bit signed part beside an 8-bit one: converted");
	crlf(&want, "--s\nContent-Type: text/plain\n"
		    "Content-Transfer-Encoding: 8bit\n\nsigned text\n"
		    "--s\nContent-Type: application/pgp-signature\n\nsig\n"
		    "--s--\n--m--\n");
	ok(strstr(out.data, want.data) != NULL,
	   "the signed part is left byte for byte (its 8bit label too)");
	same_part(&in, &out, "1", "signed beside: 8-bit part decodes back");
	str_deinit(&in);
	str_deinit(&out);
	str_deinit(&want);
}

static void test_structure(void)
{
	struct str in, out;
	const char *why;

	str_init(&in, 0);
	str_init(&out, 0);
	/* the last part runs to the end: no close delimiter */
	is_int(conv("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n"
		    "\xe9\n--b\n\nlast \xe9",
		    false, &out, &in, &why),
	       1, "missing close delimiter: converted");
	ok(strstr(out.data, "\r\n--b\r\nContent-Transfer-Encoding: "
			    "quoted-printable\r\n\r\nlast =E9") != NULL &&
	       out.data[out.len - 1] == '9',
	   "the last part ends where the message does");
	same_part(&in, &out, "2", "missing close: decodes back");
	/* an inner multipart left open by the outer boundary */
	is_int(conv("Content-Type: multipart/mixed; boundary=o\n\n--o\n"
		    "Content-Type: multipart/mixed; boundary=i\n\n--i\n\n"
		    "\xe9\n--o\n\n\xe8\n--o--\n",
		    false, &out, &in, &why),
	       1, "inner multipart not closed: converted");
	same_part(&in, &out, "1.1", "inner not closed: part 1.1");
	same_part(&in, &out, "2", "inner not closed: part 2");
	/* digest: parts are message/rfc822 by default */
	is_int(conv("Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
		    "Subject: one\n\n\xe9t\xe9\n--d--\n",
		    false, &out, &in, &why),
	       1, "digest: converted");
	ok(strstr(out.data, "--d\r\n\r\nSubject: one\r\nMIME-Version: 1.0\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n"
			    "\r\n=E9t=E9\r\n--d--") != NULL,
	   "digest: the enclosed message is converted");
	/* a part that is all header, ended by a boundary */
	is_int(conv("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		    "Content-Type: text/plain\n--b\n\n\xe9\n--b--\n",
		    false, &out, &in, &why),
	       1, "part without body: converted");
	ok(strstr(out.data, "--b\r\nContent-Type: text/plain\r\n--b\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n"
			    "\r\n=E9\r\n--b--") != NULL,
	   "part without body: kept, the next one encoded");
	/* relabelled: a clean part labelled 8bit in an 8-bit message */
	is_int(conv("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		    "Content-Transfer-Encoding: 8bit\n\nclean\n--b\n\n\xe9\n"
		    "--b--\n",
		    false, &out, &in, &why),
	       1, "relabel: converted");
	ok(strstr(out.data, "--b\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
			    "clean\r\n") != NULL,
	   "a clean part labelled 8bit becomes 7bit");
	str_deinit(&in);
	str_deinit(&out);
}

static void test_line_ends(void)
{
	struct str out;
	const char *why;
	static const char in[] = "Subject: x\n\nbare\xe9 \nlf\rcr\r\nend \t";

	str_init(&out, 0);
	is_int(mime_7bit_buffer(in, sizeof(in) - 1, false, &out, &why), 1,
	       "bare LF and CR: converted");
	is_str(out.data,
	       "Subject: x\nMIME-Version: 1.0\r\n"
	       "Content-Transfer-Encoding: quoted-printable\r\n\n"
	       "bare=E9=20\r\nlf=0Dcr\r\nend =09",
	       "header line ends kept; body: CRLF, bare CR =0D, trailing "
	       "blanks at the end encoded");
	str_clear(&out);
	is_int(mime_7bit_buffer("\n\xe9", 2, false, &out, &why), 1,
	       "empty header");
	is_str(out.data,
	       "MIME-Version: 1.0\r\n"
	       "Content-Transfer-Encoding: quoted-printable\r\n\n=E9",
	       "empty header: fields added before the blank line");
	str_clear(&out);
	is_int(mime_7bit_buffer("\r\na\0"
				"b\r\n",
				7, false, &out, &why),
	       1, "a NUL byte: converted");
	is_str(out.data,
	       "MIME-Version: 1.0\r\n"
	       "Content-Transfer-Encoding: quoted-printable\r\n\r\na=00b\r\n",
	       "a NUL byte: encoded");
	str_clear(&out);
	is_int(mime_7bit_buffer("Subject: x\r\n\r\n\r", 15, false, &out, &why),
	       0, "a lone CR at the end: 7-bit");
	str_deinit(&out);
}

static void test_long_lines(void)
{
	struct str in, out, body;
	const char *why;
	bool soft_dash = true;

	str_init(&in, 0);
	str_init(&out, 0);
	str_init(&body, 0);
	/* 3000 8-bit bytes, a 20000-byte ASCII line (more than the
	 * filter's line buffer), CR LF across the buffer's end */
	str_append_cstr(&in, "Content-Type: multipart/mixed; boundary=b\r\n"
			     "\r\n--b\r\n\r\n");
	for (int i = 0; i < 1000; i++)
		str_append_cstr(&in, "\xc3\xa9-");
	str_append_cstr(&in, "\r\n");
	for (int i = 0; i < 20000; i++)
		str_putc(&in, i % 77 == 0 ? ' ' : 'a' + i % 26);
	str_append_cstr(&in, "\r\n");
	for (int i = 0; i < MIME_7BIT_LINE_MAX - 1; i++)
		str_putc(&in, 'c');
	str_append_cstr(&in, "\r\n--b\r\n\r\n");
	for (int i = 0; i < 1500; i++)
		str_putc(&in, '-');
	str_append_cstr(&in, "\r\n--b--\r\n");
	is_int(mime_7bit_buffer(in.data, in.len, false, &out, &why), 1,
	       "long lines: converted");
	ok(seven_bit(&out, 76), "long lines: every line at most 76 bytes");
	same_part(&in, &out, "1", "long lines: part 1 decodes back");
	same_part(&in, &out, "2", "long 7-bit line: encoded, decodes back");
	for (const char *p = out.data; (p = strstr(p, "=\r\n-")) != NULL; p++)
		soft_dash = false;
	ok(soft_dash, "no encoded line starts with a dash");
	for (size_t step = 1; step < 9000; step = step * 3 + 1) {
		conv_steps(&in, step, &body);
		ok(str_eq_cstr(&body, out.data),
		   "long lines in pieces of %zu: the same", step);
	}
	str_deinit(&in);
	str_deinit(&out);
	str_deinit(&body);
}

static void test_limits(void)
{
	struct str in, out;
	const char *why;

	str_init(&in, 0);
	str_init(&out, 0);
	for (int i = 0; i < MIME_7BIT_MAX_DEPTH + 2; i++)
		str_printf(&in,
			   "Content-Type: multipart/mixed; boundary=b%d\r\n"
			   "\r\n--b%d\r\n",
			   i, i);
	str_append_cstr(&in, "\r\n\xe9\r\n");
	is_int(mime_7bit_buffer(in.data, in.len, false, &out, &why), -1,
	       "too deep: refused");
	ok(why != NULL && strstr(why, "too deep") != NULL, "too deep: why");
	str_set(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n", 45);
	for (int i = 0; i < MIME_7BIT_MAX_ENTITIES; i++)
		str_append_cstr(&in, "--b\r\n\r\nx\r\n");
	str_append_cstr(&in, "--b\r\n\r\n\xe9\r\n");
	is_int(mime_7bit_buffer(in.data, in.len, false, &out, &why), -1,
	       "too many parts: refused");
	ok(why != NULL && strstr(why, "too many") != NULL, "too many: why");
	/* a Content-Type longer than a field may be: not interpreted */
	str_set(&in, "Content-Type: text/plain; x=", 28);
	for (int i = 0; i < MIME_7BIT_FIELD_MAX; i++)
		str_putc(&in, 'x');
	str_append_cstr(&in, "\r\n\r\n\xe9\r\n");
	is_int(mime_7bit_buffer(in.data, in.len, false, &out, &why), -1,
	       "huge Content-Type: refused");
	/* any other long field passes as it is */
	str_set(&in, "X-Long: ", 8);
	for (int i = 0; i < MIME_7BIT_FIELD_MAX; i++)
		str_append_cstr(&in, i % 60 == 59 ? "\r\n x" : "x");
	str_append_cstr(&in, "\r\nSubject: s\r\n\r\n\xe9\r\n");
	str_clear(&out);
	is_int(mime_7bit_buffer(in.data, in.len, false, &out, &why), 1,
	       "huge other field: converted");
	ok(out.len > in.len && memcmp(out.data, in.data, in.len - 5) == 0,
	   "huge other field: passed as it is");
	str_deinit(&in);
	str_deinit(&out);
}

int main(void)
{
	test_simple();
	test_nested();
	test_refused();
	test_signed_kept();
	test_structure();
	test_line_ends();
	test_long_lines();
	test_limits();
	return tap_done();
}
