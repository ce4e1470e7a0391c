/* t/unit/mime_section.c: tests for lib/mime_section.c: BODY[section]
 * ranges and HEADER.FIELDS[.NOT] with its syntax, BINARY[section], header
 * values and the body text SEARCH reads (more section cases ride along
 * with the structures in t/unit/mime.c). */
#include "config.h"

#include <string.h>

#include "mime.h"
#include "mime_util.h"
#include "str.h"
#include "tap.h"

static void test_preamble_epilogue(void)
{
	struct msg t;
	size_t off, size;
	struct str out;
	const char *error;
	const char *first = "This is a preamble.\r\n--o\r\n";
	const char *last = "--o--\r\nThis is the epilogue.\r\n";

	msg_open(&t, "Subject: parts\n"
		     "Content-Type: multipart/mixed; boundary=o\n\n"
		     "This is a preamble.\n--o\n\nx\n--o--\n"
		     "This is the epilogue.\n");
	str_init(&out, 0);
	is_int(mime_section_range(t.m, "TEXT", &out, &off, &size, &error), 2,
	       "TEXT is a range");
	ok(size == strlen(first) + 5 + strlen(last) &&
	       memcmp(t.data.data + off, first, strlen(first)) == 0 &&
	       memcmp(t.data.data + off + size - strlen(last), last,
		      strlen(last)) == 0,
	   "TEXT runs from the preamble to the end of the epilogue");
	is_int(off + size, t.data.len, "TEXT ends with the message");
	is_int(mime_section_range(t.m, "", &out, &off, &size, &error), 2,
	       "BODY[] is a range");
	ok(off == 0 && size == t.data.len, "BODY[] is the whole message");
	is_int(mime_section_range(t.m, "HEADER.FIELDS (Subject)", &out, &off,
				  &size, &error),
	       1, "HEADER.FIELDS is copied");
	is_str(out.data, "Subject: parts\r\n\r\n", "HEADER.FIELDS result");
	str_deinit(&out);
	msg_close(&t);
}

static void test_body_text(void)
{
	struct msg t;
	struct str body, big;

	msg_open(&t, "Content-Type: multipart/mixed; boundary=b\n\n"
		     "--b\nContent-Type: text/plain; charset=iso-8859-1\n"
		     "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n"
		     "--b\nContent-Type: text/html; charset=utf-8\n"
		     "Content-Transfer-Encoding: base64\n\nPGI+w6k8L2I+\n"
		     "--b\nContent-Type: image/png\n\nnot text\n"
		     "--b\nContent-Type: text/plain; charset=x-none\n\nt\xe9\n"
		     "--b--\n");
	str_init(&body, 0);
	mime_body_text(t.m, &body);
	is_str(body.data, "caf\xc3\xa9\n<b>\xc3\xa9</b>\nt\xef\xbf\xbd",
	       "body text: decoded and converted, images skipped");
	msg_close(&t);

	/* 17 MiB of "\xc3\xa9a": cut at 16 MiB, before a split character */
	str_init(&big, 18 << 20);
	str_append_cstr(&big,
			"Content-Type: text/plain; charset=utf-8\r\n\r\n");
	while (big.len < (17 << 20))
		str_append(&big,
			   "\xc3\xa9"
			   "a",
			   3);
	msg_open_raw(&t, big.data, big.len, NULL);
	str_clear(&body);
	mime_body_text(t.m, &body);
	is_int(body.len, MIME_BODY_TEXT_MAX - 1, "body text stops at 16 MiB");
	ok(memcmp(body.data + body.len - 3,
		  "\xc3\xa9"
		  "a",
		  3) == 0,
	   "and ends with a whole character");
	msg_close(&t);
	str_deinit(&big);
	str_deinit(&body);
}

static void test_header_fields(void)
{
	struct msg t;

	msg_open(&t, "Subject: a\n b\n"
		     "X-Foo: 1\n"
		     "Received: r1\n\tcont\n"
		     "received : r2\n"
		     "NoColonLine\n"
		     "\n"
		     "body\n");
	is_section(&t, "HEADER.FIELDS (Subject X-Foo)",
		   "Subject: a\n b\nX-Foo: 1\n\n",
		   "FIELDS with a continuation line");
	is_section(&t, "HEADER.FIELDS.NOT (Received)",
		   "Subject: a\n b\nX-Foo: 1\nNoColonLine\n\n",
		   "FIELDS.NOT drops every Received");
	is_section(&t, "HEADER.FIELDS (\"RECEIVED\")",
		   "Received: r1\n\tcont\nreceived : r2\n\n",
		   "quoted field name, all occurrences");
	is_section(&t, "header.fields ({5}\r\nX-FOO)", "X-Foo: 1\n\n",
		   "literal field name");
	is_section(&t, "HEADER.FIELDS (Nope)", "\n", "no match: just CRLF");
	is_header(&t, "subject", 1, "a b");
	is_header(&t, "received", 1, "r1\tcont r2");
	is_bad_section(&t, "HEADER.FIELDS");
	is_bad_section(&t, "HEADER.FIELDS ()");
	is_bad_section(&t, "HEADER.FIELDS (a");
	is_bad_section(&t, "HEADER.FIELDS (a) x");
	is_bad_section(&t, "HEADER.FIELDS ({9}\r\nab)");
	is_bad_section(&t, "0");
	is_bad_section(&t, "1.");
	is_bad_section(&t, "1.0");
	is_bad_section(&t, "MIME");
	is_bad_section(&t, "1.FOO");
	is_bad_section(&t, "1HEADER");
	is_bad_section(&t, "TEXT x");
	is_bad_section(&t, "99999999999");
	is_header(&t, "X-Foo", 1, "1");
	ok(mime_header_block_get("A: 1\r\nB: 2\r\n\r\nA: 3\r\n", 20, "a",
				 &t.data) == 1 &&
	       strcmp(t.data.data + t.data.len - 1, "1") == 0,
	   "header block stops at the blank line");
	msg_close(&t);
}

static void test_binary(void)
{
	struct msg t;

	msg_open(&t, "Content-Type: multipart/mixed; boundary=q\n\n"
		     "--q\nContent-Transfer-Encoding: base64\n\n"
		     "JVBE!!Ri0x\nLjQK\n"
		     "--q\nContent-Transfer-Encoding: x-uuencode\n\nbegin\n"
		     "--q\nContent-Transfer-Encoding: quoted-printable\n\n"
		     "a=3Db=\nc\n"
		     "--q--\n");
	is_binary(&t, "1", 1, "%PDF-1.4\n", 9,
		  "broken base64 decoded leniently");
	is_binary(&t, "2", 0, "", 0, "unknown encoding: 0");
	is_binary(&t, "3", 1, "a=bc", 4, "qp with a soft line break");
	is_binary(&t, "9", 1, "", 0, "BINARY of a missing part: empty");
	is_binary(&t, "1.MIME", -1, "", 0, "BINARY[1.MIME] is bad");
	is_binary(&t, "HEADER", -1, "", 0, "BINARY[HEADER] is bad");
	msg_close(&t);
}

int main(void)
{
	test_preamble_epilogue();
	test_header_fields();
	test_binary();
	test_body_text();
	return tap_done();
}
