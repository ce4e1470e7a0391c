/* t/unit/mime.c: tests for lib/mime*.c: the part tree, ENVELOPE, BODY and
 * BODYSTRUCTURE compared with the exact strings RFC 9051 7.5.2 prescribes,
 * with the sections of each structure; t/unit/mime_section.c has the rest
 * of BODY[section], BINARY and the SEARCH helpers. */
#include "config.h"

#include <string.h>

#include "mime.h"
#include "mime_util.h"
#include "str.h"
#include "tap.h"

static void test_simple(void)
{
	struct msg t;
	struct str body;

	msg_open(&t, "From: Alice <alice@example.org>\n"
		     "To: bob@example.net\n"
		     "Subject: hi\n"
		     "Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
		     "Message-ID: <1@example.org>\n"
		     "\n"
		     "Hello\n"
		     "World\n");
	is_bs(&t, false, PLAIN "14 2)", "simple: BODY");
	is_bs(&t, true, PLAIN "14 2" NOEXT, "simple: BODYSTRUCTURE");
	is_env(&t,
	       "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"hi\" "
	       "((\"Alice\" NIL \"alice\" \"example.org\")) "
	       "((\"Alice\" NIL \"alice\" \"example.org\")) "
	       "((\"Alice\" NIL \"alice\" \"example.org\")) "
	       "((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL "
	       "\"<1@example.org>\")",
	       "simple: ENVELOPE");
	is_section(&t, "TEXT", "Hello\nWorld\n", "simple: TEXT");
	is_section(&t, "1", "Hello\nWorld\n", "simple: 1 is the body");
	is_section(&t, "text", "Hello\nWorld\n",
		   "keywords are case-insensitive");
	is_section(&t, "1.MIME",
		   "From: Alice <alice@example.org>\nTo: bob@example.net\n"
		   "Subject: hi\nDate: Mon, 7 Feb 1994 21:52:25 -0800\n"
		   "Message-ID: <1@example.org>\n\n",
		   "simple: 1.MIME is the message header");
	is_section(&t, "HEADER.FIELDS (Subject FROM)",
		   "From: Alice <alice@example.org>\nSubject: hi\n\n",
		   "HEADER.FIELDS in message order");
	is_section(&t, "2", "", "simple: part 2 does not exist");
	is_section(&t, "1.1", "", "simple: a leaf has no part 1.1");
	is_section(&t, "1.HEADER", "", "HEADER of a non-message part: empty");
	str_init(&body, 0);
	mime_body_text(t.m, &body);
	is_str(body.data, "Hello\r\nWorld\r\n", "simple: body text");
	str_deinit(&body);
	is_header(&t, "subject", 1, "hi");
	is_header(&t, "X-Missing", 0, "");
	msg_close(&t);
}

/* The envelope of RFC 3501 7.4.2's example (RFC 9051's grammar: no space
 * between addresses), and its BODY: 3028 octets in 92 lines. */
static void test_rfc_example(void)
{
	struct msg t;
	struct str m;

	str_init(&m, 4096);
	str_append_cstr(&m, "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
			    "From: Terry Gray <gray@cac.washington.edu>\n"
			    "Subject: IMAP4rev1 WG mtg summary and minutes\n"
			    "To: imap@cac.washington.edu\n"
			    "cc: minutes@CNRI.Reston.VA.US, "
			    "John Klensin <KLENSIN@MIT.EDU>\n"
			    "Message-Id: <B27397-0100000@cac.washington.edu>\n"
			    "MIME-Version: 1.0\n"
			    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\n");
	for (int i = 0; i < 91; i++)
		str_append_cstr(&m, "0123456789012345678901234567890\n");
	str_append_cstr(&m, "01234567890123456789012\n");
	msg_open(&t, m.data);
	is_env(&t,
	       "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	       "\"IMAP4rev1 WG mtg summary and minutes\" "
	       "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	       "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	       "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	       "((NIL NIL \"imap\" \"cac.washington.edu\")) "
	       "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	       "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	       "\"<B27397-0100000@cac.washington.edu>\")",
	       "RFC 3501 example: ENVELOPE");
	is_bs(&t, false,
	      "(\"text\" \"plain\" (\"charset\" \"US-ASCII\") NIL NIL \"7BIT\" "
	      "3028 92)",
	      "RFC 3501 example: BODY");
	msg_close(&t);
	str_deinit(&m);
}

static void test_no_header(void)
{
	struct msg t;

	msg_open(&t, "\nJust a body\n");
	is_bs(&t, true, PLAIN "13 1" NOEXT, "empty header: BODYSTRUCTURE");
	is_env(&t, NIL_ENV, "empty header: all NIL");
	is_section(&t, "HEADER", "\n",
		   "empty header: HEADER is the blank line");
	is_section(&t, "TEXT", "Just a body\n", "empty header: TEXT");
	msg_close(&t);

	msg_open(&t, "Hello world");
	is_bs(&t, false, PLAIN "0 0)", "no blank line: all header, no body");
	is_section(&t, "HEADER", "Hello world", "no blank line: HEADER");
	is_section(&t, "TEXT", "", "no blank line: TEXT empty");
	msg_close(&t);

	msg_open(&t, "");
	is_bs(&t, false, PLAIN "0 0)", "empty message");
	is_env(&t, NIL_ENV, "empty message: all NIL");
	is_section(&t, "", "", "empty message: BODY[]");
	msg_close(&t);
}

static void test_text_fields(void)
{
	struct msg t;

	msg_open(&t, "Subject: qp\n"
		     "Content-Transfer-Encoding: Quoted-Printable\n"
		     "\n"
		     "caf=C3=A9\n");
	is_bs(&t, false,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"QUOTED-PRINTABLE\" 11 1)",
	      "no Content-Type: defaults, encoding kept");
	is_binary(&t, "1", 1, "caf\xc3\xa9\r\n", 7, "BINARY[1] undoes qp");
	is_binary(&t, "", 1, t.data.data, t.data.len, "BINARY[] as it is");
	msg_close(&t);

	msg_open(&t, "Content-Type: text/plain; charset=\"UTF-8\"; "
		     "format=flowed;\n delsp=yes (a comment)\n"
		     "Content-ID: <c1@x>\n"
		     "Content-Description: the text\n"
		     "Content-Language: en, de\n"
		     "Content-Location: http://example.org/a.txt\n"
		     "Content-MD5: Q2hlY2s=\n"
		     "Content-Transfer-Encoding: ?bad\n"
		     "\n"
		     "line one \n"
		     "line two\n");
	is_bs(
	    &t, true,
	    "(\"text\" \"plain\" (\"charset\" \"UTF-8\" \"format\" \"flowed\" "
	    "\"delsp\" \"yes\") \"<c1@x>\" \"the text\" \"7BIT\" 21 2 "
	    "\"Q2hlY2s=\" NIL (\"en\" \"de\") \"http://example.org/a.txt\")",
	    "charset, format=flowed and every extension field");
	msg_close(&t);

	msg_open(&t, "Content-Type: text\n\nx\n");
	is_bs(&t, false, PLAIN "3 1)", "unusable Content-Type: the default");
	msg_close(&t);
}

static const char mixed_msg[] =
    "From: a@example.org\n"
    "Subject: parts\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"==outer==\"\n"
    "\n"
    "This is a preamble.\n"
    "--==outer==\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "plain\n"
    "--inner\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<b>html</b>\n"
    "--inner--\n"
    "--==outer==\n"
    "Content-Type: application/pdf; name=\"rates.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment;\n"
    " filename*=utf-8''%E2%82%AC%20rates.pdf\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--==outer==\n"
    "Content-Type: text/plain; name*0=\"long\"; name*1=\"name.txt\"\n"
    "Content-Disposition: inline; filename*0*=iso-8859-1''caf%E9;\n"
    "\tfilename*1=\".txt\"; filename=\"plain.txt\"\n"
    "\n"
    "x\n"
    "--==outer==--\n"
    "This is the epilogue.\n";

#define UTF8_TEXT                                                              \
	"(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" "
#define UTF8_HTML "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" "
#define PDF                                                                    \
	"(\"application\" \"pdf\" (\"name\" \"rates.pdf\") NIL NIL "           \
	"\"BASE64\" 12"
#define LONG_NAME                                                              \
	"(\"text\" \"plain\" (\"name\" \"longname.txt\" \"charset\" "          \
	"\"us-ascii\") NIL NIL \"7BIT\" 1 0"

static void test_mixed(void)
{
	struct msg t;
	struct str body;

	msg_open(&t, mixed_msg);
	is_bs(&t, true,
	      "((" UTF8_TEXT "5 0" NOEXT UTF8_HTML "11 0" NOEXT
	      " \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)" PDF
	      " NIL (\"attachment\" (\"filename\" {13}\r\n\xe2\x82\xac "
	      "rates.pdf)) NIL NIL)" LONG_NAME " NIL (\"inline\" (\"filename\" "
	      "{9}\r\ncaf\xc3\xa9.txt)) NIL NIL) \"mixed\" (\"boundary\" "
	      "\"==outer==\") NIL NIL NIL)",
	      "mixed: BODYSTRUCTURE (nested alternative, RFC 2231 names)");
	is_bs(&t, false,
	      "((" UTF8_TEXT "5 0)" UTF8_HTML "11 0) \"alternative\")" PDF
	      ")" LONG_NAME ") \"mixed\")",
	      "mixed: BODY");
	is_int(mime_part_count(t.m), 6, "mixed: six parts");
	is_section(&t, "1.1", "plain", "mixed: 1.1");
	is_section(&t, "1.2", "<b>html</b>", "mixed: 1.2");
	is_section(&t, "1.2.MIME", "Content-Type: text/html; charset=utf-8\n\n",
		   "mixed: 1.2.MIME");
	is_section(&t, "1",
		   "--inner\nContent-Type: text/plain; charset=utf-8\n\nplain\n"
		   "--inner\nContent-Type: text/html; charset=utf-8\n\n"
		   "<b>html</b>\n--inner--",
		   "mixed: 1 is the whole inner multipart body");
	is_section(&t, "2", "JVBERi0xLjQK", "mixed: 2 as it is");
	is_binary(&t, "2", 1, "%PDF-1.4\n", 9, "mixed: BINARY[2] decoded");
	is_binary(&t, "1.1", 1, "plain", 5, "mixed: BINARY of 7bit");
	is_section(&t, "4", "", "mixed: no part 4");
	is_section(&t, "1.3", "", "mixed: no part 1.3");
	is_section(&t, "2.1", "", "mixed: a leaf has no 2.1");
	str_init(&body, 0);
	str_append_cstr(&body, "prefix:");
	mime_body_text(t.m, &body);
	is_str(body.data, "prefix:plain\n<b>html</b>\nx",
	       "mixed: body text of the text parts, appended");
	str_deinit(&body);
	msg_close(&t);
}

static void test_digest(void)
{
	struct msg t;

	msg_open(&t, "Content-Type: multipart/digest; boundary=d\n"
		     "\n"
		     "--d\n"
		     "\n"
		     "From: one@example.org\n"
		     "Subject: first\n"
		     "\n"
		     "one\n"
		     "--d\n"
		     "Content-Type: text/plain\n"
		     "\n"
		     "not a message\n"
		     "--d--\n");
	is_bs(&t, true,
	      "((\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 44 (NIL \"first\" "
	      "((NIL NIL \"one\" \"example.org\")) "
	      "((NIL NIL \"one\" \"example.org\")) "
	      "((NIL NIL \"one\" \"example.org\")) NIL NIL NIL NIL NIL) " PLAIN
	      "3 0" NOEXT " 3 NIL NIL NIL NIL)" PLAIN "13 0" NOEXT
	      " \"digest\" (\"boundary\" \"d\") NIL NIL NIL)",
	      "digest: parts default to message/rfc822");
	is_section(&t, "1", "From: one@example.org\nSubject: first\n\none",
		   "digest: 1 is the enclosed message");
	is_section(&t, "1.HEADER", "From: one@example.org\nSubject: first\n\n",
		   "digest: 1.HEADER");
	is_section(&t, "1.TEXT", "one", "digest: 1.TEXT");
	is_section(&t, "1.1", "one", "digest: 1.1 is the single part's body");
	is_section(&t, "1.MIME", "\n", "digest: 1.MIME is the empty header");
	is_section(&t, "1.HEADER.FIELDS (subject)", "Subject: first\n\n",
		   "digest: 1.HEADER.FIELDS");
	is_section(&t, "2.HEADER", "", "digest: 2 is no message");
	msg_close(&t);
}

static const char rfc822_msg[] =
    "From: outer@example.org\n"
    "To: x@example.org\n"
    "Subject: fwd\n"
    "Content-Type: multipart/mixed; boundary=b1\n"
    "\n"
    "--b1\n"
    "Content-Type: text/plain\n"
    "\n"
    "see attached\n"
    "--b1\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: \"Inner, Person\" <inner@example.org>\n"
    "To: undisclosed-recipients:;\n"
    "Subject: =?utf-8?q?caf=C3=A9?=\n"
    "Content-Type: multipart/alternative; boundary=b2\n"
    "\n"
    "--b2\n"
    "\n"
    "text\n"
    "--b2--\n"
    "\n"
    "--b1--\n";

#define INNER "((\"Inner, Person\" NIL \"inner\" \"example.org\"))"
#define INNER_ENV                                                              \
	"(NIL \"=?utf-8?q?caf=C3=A9?=\" " INNER " " INNER " " INNER            \
	" ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "        \
	"NIL NIL NIL NIL)"

static void test_rfc822(void)
{
	struct msg t;
	struct str body;

	msg_open(&t, rfc822_msg);
	is_bs(&t, true,
	      "(" PLAIN "12 0" NOEXT "(\"message\" \"rfc822\" NIL NIL NIL "
	      "\"7BIT\" 179 " INNER_ENV " (" PLAIN "4 0" NOEXT
	      " \"alternative\" (\"boundary\" \"b2\") NIL NIL NIL) 9 NIL NIL "
	      "NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)",
	      "rfc822: ENVELOPE, BODYSTRUCTURE and lines of the attachment");
	is_bs(&t, false,
	      "(" PLAIN "12 0)(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" "
	      "179 " INNER_ENV " (" PLAIN "4 0) \"alternative\") 9) \"mixed\")",
	      "rfc822: BODY");
	is_env(&t,
	       "(NIL \"fwd\" ((NIL NIL \"outer\" \"example.org\")) "
	       "((NIL NIL \"outer\" \"example.org\")) "
	       "((NIL NIL \"outer\" \"example.org\")) "
	       "((NIL NIL \"x\" \"example.org\")) NIL NIL NIL NIL)",
	       "rfc822: top ENVELOPE");
	is_section(&t, "2.HEADER",
		   "From: \"Inner, Person\" <inner@example.org>\n"
		   "To: undisclosed-recipients:;\n"
		   "Subject: =?utf-8?q?caf=C3=A9?=\n"
		   "Content-Type: multipart/alternative; boundary=b2\n\n",
		   "rfc822: 2.HEADER");
	is_section(&t, "2.TEXT", "--b2\n\ntext\n--b2--\n", "rfc822: 2.TEXT");
	is_section(&t, "2.1", "text", "rfc822: 2.1 is the inner first part");
	is_section(&t, "2.1.MIME", "\n", "rfc822: 2.1.MIME");
	is_section(&t, "2.2", "", "rfc822: no 2.2");
	is_section(&t, "2.HEADER.FIELDS.NOT (From To Content-Type)",
		   "Subject: =?utf-8?q?caf=C3=A9?=\n\n", "rfc822: FIELDS.NOT");
	str_init(&body, 0);
	mime_body_text(t.m, &body);
	is_str(body.data,
	       "see attached\nFrom: \"Inner, Person\" <inner@example.org>\n"
	       "To: undisclosed-recipients:;\nSubject: caf\xc3\xa9\n"
	       "Content-Type: multipart/alternative; boundary=b2\n\ntext",
	       "body text has the enclosed header, decoded");
	str_deinit(&body);
	msg_close(&t);
}

static void test_broken_multipart(void)
{
	struct msg t;

	msg_open(&t, "Content-Type: multipart/mixed; boundary=x\n\n"
		     "--x\nContent-Type: text/plain\n\nfirst\n"
		     "--x\n\nsecond\n");
	is_bs(&t, true,
	      "(" PLAIN "5 0" NOEXT PLAIN "8 1" NOEXT
	      " \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)",
	      "missing final boundary: the last part ends at the end");
	is_section(&t, "2", "second\n", "missing final boundary: 2");
	msg_close(&t);

	msg_open(&t, "Content-Type: multipart/mixed\n\nhello\n");
	is_bs(&t, true, "(" PLAIN "7 1" NOEXT " \"mixed\" NIL NIL NIL NIL)",
	      "no boundary parameter: one text part");
	is_section(&t, "1", "hello\n", "no boundary parameter: 1 is the body");
	msg_close(&t);

	msg_open(&t, "Content-Type: multipart/mixed; boundary=zz\n\n"
		     "no parts here\n");
	is_bs(&t, true,
	      "(" PLAIN "15 1" NOEXT
	      " \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)",
	      "boundary never found: one text part");
	msg_close(&t);

	/* "--b-in" starts like outer "--b": the inner one must win */
	msg_open(&t, "Content-Type: multipart/mixed; boundary=b\n\n"
		     "--b\n"
		     "Content-Type: multipart/mixed; boundary=b-in\n\n"
		     "--b-in\n\none\n"
		     "--b-in\n\ntwo\n"
		     "--b-in--\n"
		     "--b\n\nthree\n"
		     "--b--\n");
	is_bs(&t, false,
	      "((" PLAIN "3 0)" PLAIN "3 0) \"mixed\")" PLAIN "5 0) \"mixed\")",
	      "boundary that prefixes another");
	is_section(&t, "1.2", "two", "prefix boundaries: 1.2");
	is_section(&t, "2", "three", "prefix boundaries: 2");
	msg_close(&t);
}

/* Headers that end at a delimiter line, and bodies that are empty. */
static void test_empty_bodies(void)
{
	struct msg t;

	msg_open(&t, "Content-Type: multipart/mixed; boundary=b\n\n"
		     "--b\nContent-Type: message/rfc822\n"
		     "--b\nContent-Type: text/plain\n"
		     "--b--\n");
	is_bs(&t, false,
	      "((\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 0 " NIL_ENV
	      " " PLAIN "0 0) 0)" PLAIN "0 0) \"mixed\")",
	      "header without a blank line");
	is_section(&t, "2.MIME", "Content-Type: text/plain",
		   "the delimiter's line end is not the header's");
	is_section(&t, "1.HEADER", "", "empty enclosed message");
	msg_close(&t);

	msg_open(&t, "Content-Type: multipart/digest; boundary=d\n\n"
		     "--d\n\nSubject: x\n\n--d--\n");
	is_bs(&t, false,
	      "((\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 14 (NIL \"x\" NIL "
	      "NIL NIL NIL NIL NIL NIL NIL) " PLAIN "0 0) 2) \"digest\")",
	      "a message that ends with its header keeps the blank line");
	is_section(&t, "1", "Subject: x\n\n", "so its section 1 does too");
	msg_close(&t);
}

static void test_addresses(void)
{
	struct msg t;

	msg_open(&t, "To: A Group: a@example.org, \"Bee\" <b@example.org>;, "
		     "c@example.org\n"
		     "Cc: Empty:;\n"
		     "Subject: g\n\nx\n");
	is_env(&t,
	       "(NIL \"g\" NIL NIL NIL ((NIL NIL \"A Group\" NIL)"
	       "(NIL NIL \"a\" \"example.org\")(\"Bee\" NIL \"b\" "
	       "\"example.org\")(NIL NIL NIL NIL)(NIL NIL \"c\" "
	       "\"example.org\")) ((NIL NIL \"Empty\" NIL)(NIL NIL NIL NIL)) "
	       "NIL NIL NIL)",
	       "groups, and no From: NIL for from, sender and reply-to");
	msg_close(&t);

	msg_open(&t, "From: (comment) John (middle) Smith\n"
		     " <@relay.example,@r2.example:john@example.org>\n"
		     "Sender: \n"
		     "Reply-To: jane@example.org (Jane Doe)\n"
		     "To: \"john doe\"@example.org, foo, <>, John Q. Public "
		     "<jqp@example.org>\n"
		     "Cc: \"Smith, J\\\"r\" <js@example.org>\n"
		     "Bcc: a@b c@d, ,x@y\n"
		     "In-Reply-To: <0@x>\n"
		     "Date:\n\n");
	is_env(&t,
	       "(\"\" NIL ((\"John Smith\" \"@relay.example,@r2.example\" "
	       "\"john\" \"example.org\")) ((\"John Smith\" "
	       "\"@relay.example,@r2.example\" \"john\" \"example.org\")) "
	       "((\"Jane Doe\" NIL \"jane\" \"example.org\")) "
	       "((NIL NIL \"\\\"john doe\\\"\" \"example.org\")"
	       "(NIL NIL \"foo\" \"\")(NIL NIL \"\" \"\")"
	       "(\"John Q. Public\" NIL \"jqp\" \"example.org\")) "
	       "((\"Smith, J\\\"r\" NIL \"js\" \"example.org\")) "
	       "((NIL NIL \"a\" \"b\")(NIL NIL \"x\" \"y\")) \"<0@x>\" NIL)",
	       "route, comments as names, empty Sender, quoting, garbage");
	msg_close(&t);
}

static void test_8bit(void)
{
	struct msg t;

	msg_open(&t, "Subject: caf\xc3\xa9\n"
		     "From: J\xc3\xb6rg <j@example.org>\n"
		     "To: =?utf-8?q?J=C3=B6rg?= <j@example.org>\n\nx\n");
	is_env(&t,
	       "(NIL {5}\r\ncaf\xc3\xa9 "
	       "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"example.org\")) "
	       "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"example.org\")) "
	       "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"example.org\")) "
	       "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"example.org\")) "
	       "NIL NIL NIL NIL)",
	       "8-bit headers become literals; encoded words stay raw");
	is_header(&t, "SUBJECT", 1, "caf\xc3\xa9");
	is_header(&t, "to", 1, "J\xc3\xb6rg <j@example.org>");
	msg_close(&t);

	msg_open(&t, "Subject: caf\xe9\n\n");
	is_header(&t, "subject", 1, "caf\xc3\xa9");
	msg_close(&t);
}

static void test_nul_lf_cr(void)
{
	static const char nul_msg[] = "Subject: a\0b\r\n\r\nbo\0dy\r\n";
	static const char lf_msg[] =
	    "Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n"
	    "pre\n--b\n\npart one\n--b--\n";
	static const char cr_msg[] = "Subject: x\r\r\nContent-Type: "
				     "multipart/mixed; boundary=\"\"\r\n\r\n"
				     "--\r\n--\r";
	struct msg t;
	struct str out;
	const char *error;

	msg_open_raw(&t, nul_msg, sizeof(nul_msg) - 1, NULL);
	is_env(&t, "(NIL \"ab\" NIL NIL NIL NIL NIL NIL NIL NIL)",
	       "NUL dropped from envelope strings");
	is_bs(&t, false, PLAIN "7 1)", "NUL counts in the size");
	str_init(&out, 0);
	is_int(mime_fetch_section(t.m, "TEXT", &out, &error), 1, "NUL TEXT");
	is_mem(out.data, out.len, "bo\0dy\r\n", 7, "NUL kept in TEXT");
	msg_close(&t);

	msg_open_raw(&t, lf_msg, sizeof(lf_msg) - 1, NULL);
	is_bs(&t, false, "(" PLAIN "8 0) \"mixed\")", "bare LF message");
	str_clear(&out);
	is_int(mime_fetch_section(t.m, "HEADER.FIELDS (subject)", &out, &error),
	       1, "bare LF FIELDS");
	is_str(out.data, "Subject: lf\n\r\n",
	       "bare LF fields kept as they are");
	str_clear(&out);
	mime_fetch_section(t.m, "1", &out, &error);
	is_str(out.data, "part one", "bare LF part 1");
	msg_close(&t);

	msg_open_raw(&t, cr_msg, sizeof(cr_msg) - 1, NULL);
	is_bs(&t, true,
	      "(" PLAIN "7 1" NOEXT
	      " \"mixed\" (\"boundary\" \"\") NIL NIL NIL)",
	      "bare CR and an empty boundary");
	str_deinit(&out);
	msg_close(&t);
}

static void test_depth_limits(void)
{
	struct mime_limits depth2 = {2, 2000}, depth1 = {1, 2000};
	struct msg t;
	struct str m;

	str_init(&m, 0);
	crlf(&m, "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
		 "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		 "Content-Type: multipart/mixed; boundary=c\n\n--c\n\ndeep\n"
		 "--c--\n--b--\n--a--\n");
	msg_open_raw(&t, m.data, m.len, &depth2);
	is_bs(&t, false, "(((" PLAIN "18 3) \"mixed\") \"mixed\") \"mixed\")",
	      "past max_depth a multipart is one opaque part");
	msg_close(&t);

	str_clear(&m);
	crlf(&m, "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
		 "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n"
		 "--a--\n");
	msg_open_raw(&t, m.data, m.len, &depth1);
	is_bs(&t, false,
	      "((\"application\" \"octet-stream\" NIL NIL NIL \"7BIT\" 19) "
	      "\"mixed\")",
	      "past max_depth a message is application/octet-stream");
	msg_close(&t);

	str_clear(&m);
	for (int i = 0; i < 300; i++)
		str_append_cstr(&m, "Content-Type: message/rfc822\r\n\r\n");
	msg_open_raw(&t, m.data, m.len, NULL);
	is_int(mime_part_count(t.m), MIME_DEFAULT_MAX_DEPTH + 1,
	       "nested messages stop at the default depth");
	msg_close(&t);
	str_deinit(&m);
}

static void test_part_limits(void)
{
	struct mime_limits parts3 = {32, 3};
	struct msg t;
	struct str m;

	str_init(&m, 0);
	crlf(&m, "Content-Type: multipart/mixed; boundary=a\n"
		 "\n--a\n\n1\n--a\n\n2\n--a\n\n3\n--a\n\n4\n--a--\n");
	msg_open_raw(&t, m.data, m.len, &parts3);
	is_bs(&t, false, "(" PLAIN "1 0)" PLAIN "1 0) \"mixed\")",
	      "max_parts stops adding parts");
	is_int(mime_part_count(t.m), 3, "max_parts: three parts");
	is_section(&t, "3", "", "max_parts: no part 3");
	msg_close(&t);

	str_clear(&m);
	str_append_cstr(&m,
			"Content-Type: multipart/mixed; boundary=a\r\n\r\n");
	for (int i = 0; i < 5000; i++)
		str_append_cstr(&m, "--a\r\n\r\nx\r\n");
	msg_open_raw(&t, m.data, m.len, NULL);
	is_int(mime_part_count(t.m), MIME_DEFAULT_MAX_PARTS,
	       "parts stop at the default limit");
	msg_close(&t);
	str_deinit(&m);
}

int main(void)
{
	test_simple();
	test_rfc_example();
	test_no_header();
	test_text_fields();
	test_mixed();
	test_digest();
	test_rfc822();
	test_broken_multipart();
	test_empty_bodies();
	test_addresses();
	test_8bit();
	test_nul_lf_cr();
	test_depth_limits();
	test_part_limits();
	return tap_done();
}
