/* t/unit/imap_parse.c: tests for lib/imap_parse_reader.c (the command
 * reader: sync and non-sync literals, literal8, literals holding CRLF and
 * NUL, every TOO_BIG limit, tags) and lib/imap_parse.c (the argument tree:
 * every argument type, nesting, FETCH atoms, quoting, bad input with its
 * reason, depth and count limits, random bytes). */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imap_parse.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* A test name safe for TAP: control and 8-bit bytes as \xNN. */
static const char *nm(const char *s)
{
	static char bufs[4][256];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = 0;

	for (; *s != '\0' && n + 5 < sizeof(bufs[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(b + n, 5, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	b[n] = '\0';
	return b;
}

/* ---- reader */

static void test_reader_plain(void)
{
	struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
	uint64_t need = 99;
	bool sync = false;
	const char *err = NULL, *cmd;
	size_t len;

	is_str(imap_reader_tag(r), "*", "no tag before any line");
	is_int(imap_reader_line(r, "A1 NOOP", 7, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "plain line completes");
	cmd = imap_reader_command(r, &len);
	is_mem(cmd, len, "A1 NOOP", 7, "command is the line");
	is_str(imap_reader_tag(r), "A1", "tag of plain line");
	is_int(need, 0, "need 0 for a complete command");
	is_int(imap_reader_line(r, "b2 CAPABILITY", 13, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "next line starts a new command");
	cmd = imap_reader_command(r, &len);
	is_mem(cmd, len, "b2 CAPABILITY", 13, "old command forgotten");
	is_str(imap_reader_tag(r), "b2", "new tag");
	imap_reader_reset(r);
	is_str(imap_reader_tag(r), "*", "reset forgets the tag");
	imap_reader_free(&r);
	ok(r == NULL, "free NULLs the pointer");
	imap_reader_free(&r);
}

static void test_reader_literals(void)
{
	struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
	static const char want[] = "A1 LOGIN {3}\r\nbob {6+}\r\nsecret";
	static const char want2[] = "A2 APPEND x ~{7}\r\na\r\n\0b\r\n {0}\r\n)";
	uint64_t need = 0;
	bool sync = false;
	const char *err = NULL, *cmd;
	size_t len;

	is_int(imap_reader_line(r, "A1 LOGIN {3}", 12, &need, &sync, &err),
	       IMAP_READ_LITERAL, "{3} asks for a literal");
	is_int(need, 3, "3 bytes needed");
	ok(sync, "{3} is synchronizing");
	is_str(imap_reader_tag(r), "A1", "tag known during the literal");
	is_int(imap_reader_literal_left(r), 3, "3 owed");
	imap_reader_literal(r, "bob", 3);
	is_int(imap_reader_literal_left(r), 0, "none owed");
	is_int(imap_reader_line(r, " {6+}", 5, &need, &sync, &err),
	       IMAP_READ_LITERAL, "{6+} asks for a literal");
	ok(!sync, "{6+} is non-synchronizing");
	imap_reader_literal(r, "se", 2);
	is_int(imap_reader_literal_left(r), 4, "4 owed after 2");
	imap_reader_literal(r, "cret", 4);
	is_int(imap_reader_line(r, "", 0, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "empty line ends the command");
	cmd = imap_reader_command(r, &len);
	is_mem(cmd, len, want, sizeof(want) - 1,
	       "lines joined by CRLF, literals inline");

	/* literal8 with CRLF and NUL inside, then a zero-length literal */
	is_int(imap_reader_line(r, "A2 APPEND x ~{7}", 16, &need, &sync, &err),
	       IMAP_READ_LITERAL, "~{7} asks for a literal");
	is_int(need, 7, "7 bytes");
	imap_reader_literal(r, "a\r\n\0b\r\n", 7);
	is_int(imap_reader_line(r, " {0}", 4, &need, &sync, &err),
	       IMAP_READ_LITERAL, "{0} is a literal too");
	is_int(need, 0, "of 0 bytes");
	ok(sync, "{0} still wants a continuation");
	is_int(imap_reader_line(r, ")", 1, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "done");
	cmd = imap_reader_command(r, &len);
	is_mem(cmd, len, want2, sizeof(want2) - 1,
	       "CRLF and NUL kept in the literal");
	is_int(imap_reader_line(r, "A3 X ~{5+}", 10, &need, &sync, &err),
	       IMAP_READ_LITERAL, "~{5+}");
	ok(!sync && need == 5, "~{5+} is non-sync, 5 bytes");
	imap_reader_reset(r);
	is_int(imap_reader_literal_left(r), 0, "reset forgets the literal");
	imap_reader_free(&r);
}

/* A command far bigger than the kept buffer, then a small one. */
static void test_reader_big_then_small(void)
{
	struct imap_reader *r = imap_reader_new(1000, 1 << 20, 2 << 20);
	uint64_t need;
	bool sync;
	const char *err, *cmd;
	size_t len;
	char *big = mem_alloc(200000);

	memset(big, 'x', 200000);
	is_int(
	    imap_reader_line(r, "A1 APPEND x {200000}", 20, &need, &sync, &err),
	    IMAP_READ_LITERAL, "200000-byte literal");
	for (size_t i = 0; i < 200000; i += 1000)
		imap_reader_literal(r, big + i, 1000);
	is_int(imap_reader_line(r, "", 0, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "big command complete");
	cmd = imap_reader_command(r, &len);
	is_int(len, 22 + 200000, "big command length");
	ok(memcmp(cmd + 22, big, 200000) == 0, "literal bytes intact");
	is_int(imap_reader_line(r, "A2 NOOP", 7, &need, &sync, &err),
	       IMAP_READ_COMPLETE, "small command after it");
	cmd = imap_reader_command(r, &len);
	is_mem(cmd, len, "A2 NOOP", 7, "small command intact");
	mem_free(big);
	imap_reader_free(&r);
}

static void not_literal(const char *line, const char *name)
{
	struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
	uint64_t need;
	bool sync;
	const char *err;

	is_int(imap_reader_line(r, line, strlen(line), &need, &sync, &err),
	       IMAP_READ_COMPLETE, name);
	imap_reader_free(&r);
}

static void test_reader_not_literals(void)
{
	not_literal("A1 LOGIN \"a {3}\"", "{3} inside a quoted string");
	not_literal("A1 LOGIN \"a {3}", "{3} in an unterminated quote");
	not_literal("A1 LOGIN \"a\\\" {3}", "{3} after an escaped quote");
	not_literal("A1 X {}", "{} is no literal");
	not_literal("A1 X {+}", "{+} is no literal");
	not_literal("A1 X {-1}", "{-1} is no literal");
	not_literal("A1 X { 1}", "{ 1} is no literal");
	not_literal("A1 X 3}", "3} is no literal");
	not_literal("}", "a lone }");
	not_literal("A1 X {3}}", "{3}} is no literal");
}

struct big_case {
	const char *line;
	size_t max_command;
	uint64_t max_literal, max_total, nonsync_max;
	bool sync;
	const char *name;
};

static const struct big_case big_cases[] = {
    {"A1 APPEND x {11}", 100, 10, 1000, UINT64_MAX, true, "literal > max"},
    {"A1 APPEND x {11+}", 100, 10, 1000, UINT64_MAX, false,
     "non-sync literal > max"},
    {"A1 APPEND x ~{11}", 100, 10, 1000, UINT64_MAX, true, "literal8 > max"},
    {"A1 APPEND x {99999999999999999999}", 100, UINT64_MAX, UINT64_MAX,
     UINT64_MAX, true, "literal size beyond 64 bits"},
    {"A1 APPEND x {18446744073709551615}", 100, UINT64_MAX, UINT64_MAX,
     UINT64_MAX, true, "literal of 2^64-1 against max_total"},
    {"A1 APPEND x {100}", 100, 1000, 110, UINT64_MAX, true,
     "literal over the total"},
    {"A1 APPEND x {5000+}", 100, 10000, 100000, 4096, false,
     "LITERAL- limit on a non-sync literal"},
    {"A1 LOGIN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20, 1000, 1000, UINT64_MAX,
     true, "overlong command line"},
    {"A1 LOGIN aaaaaaaaaaaaaaaaaaaaaa {5+}", 20, 1000, 1000, UINT64_MAX, false,
     "overlong line with a non-sync literal"},
};

static void test_reader_too_big(void)
{
	for (size_t i = 0; i < sizeof(big_cases) / sizeof(*big_cases); i++) {
		const struct big_case *c = &big_cases[i];
		struct imap_reader *r = imap_reader_new(
		    c->max_command, c->max_literal, c->max_total);
		uint64_t need;
		bool sync = !c->sync;
		const char *err = NULL, *cmd;
		size_t len;

		imap_reader_set_nonsync_max(r, c->nonsync_max);
		is_int(imap_reader_line(r, c->line, strlen(c->line), &need,
					&sync, &err),
		       IMAP_READ_TOO_BIG, c->name);
		is_int(sync, c->sync, c->name);
		ok(err != NULL, "%s: reason %s", c->name, err);
		is_str(imap_reader_tag(r), "A1", c->name);
		is_int(imap_reader_literal_left(r), 0, c->name);
		is_int(imap_reader_line(r, "A2 NOOP", 7, &need, &sync, &err),
		       IMAP_READ_COMPLETE, "reader usable after TOO_BIG");
		cmd = imap_reader_command(r, &len);
		is_mem(cmd, len, "A2 NOOP", 7, "only the new command");
		imap_reader_free(&r);
	}
}

/* Limits that trip on a later line of the command. */
static void test_reader_too_big_later(void)
{
	struct imap_reader *r = imap_reader_new(40, 10, 30);
	uint64_t need;
	bool sync;
	const char *err;

	is_int(imap_reader_line(r, "A1 X {10}", 9, &need, &sync, &err),
	       IMAP_READ_LITERAL, "first literal fits");
	imap_reader_literal(r, "0123456789", 10);
	is_int(imap_reader_line(r, " {10}", 5, &need, &sync, &err),
	       IMAP_READ_TOO_BIG, "second literal over the total");
	ok(sync, "sync literal: no bytes follow");
	is_str(imap_reader_tag(r), "A1", "tag of the dropped command");
	is_int(imap_reader_line(r, "A2 X {1}", 8, &need, &sync, &err),
	       IMAP_READ_LITERAL, "new command");
	imap_reader_literal(r, "x", 1);
	is_int(imap_reader_line(r, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 36,
				&need, &sync, &err),
	       IMAP_READ_TOO_BIG, "lines add up over max_command");
	imap_reader_free(&r);
}

struct tag_case {
	const char *line, *tag;
};

static void test_reader_tags(void)
{
	static const struct tag_case cases[] = {
	    {"A1 NOOP", "A1"},		 {"A1", "A1"},
	    {"a.b-c]d NOOP", "a.b-c]d"}, {"", "*"},
	    {" A1 NOOP", "*"},		 {"(A1 NOOP", "*"},
	    {"A+1 NOOP", "*"},		 {"A*1 NOOP", "*"},
	    {"A\"1 NOOP", "*"},		 {"A\x01 NOOP", "*"},
	    {"T\xc3\xa9 NOOP", "*"},	 {"{5}", "*"},
	};
	char longtag[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
		uint64_t need;
		bool sync;
		const char *err;

		imap_reader_line(r, cases[i].line, strlen(cases[i].line), &need,
				 &sync, &err);
		is_str(imap_reader_tag(r), cases[i].tag, nm(cases[i].line));
		imap_reader_free(&r);
	}
	memset(longtag, 'x', sizeof(longtag));
	{
		struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
		uint64_t need;
		bool sync;
		const char *err;

		imap_reader_line(r, longtag, 129, &need, &sync, &err);
		is_str(imap_reader_tag(r), "*", "129-byte tag not echoed");
		imap_reader_line(r, longtag, 128, &need, &sync, &err);
		is_int(strlen(imap_reader_tag(r)), 128, "128-byte tag kept");
		imap_reader_free(&r);
	}
}

static void line_while_literal_owed(void *arg)
{
	struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
	uint64_t need;
	bool sync;
	const char *err;

	(void)arg;
	imap_reader_line(r, "A1 X {3}", 8, &need, &sync, &err);
	imap_reader_line(r, "A2 NOOP", 7, &need, &sync, &err);
}

static void too_much_literal(void *arg)
{
	struct imap_reader *r = imap_reader_new(1000, 1000, 10000);
	uint64_t need;
	bool sync;
	const char *err;

	(void)arg;
	imap_reader_line(r, "A1 X {3}", 8, &need, &sync, &err);
	imap_reader_literal(r, "abcd", 4);
}

static void test_reader_bugs(void)
{
	is_int(tap_run_child(line_while_literal_owed, NULL), -SIGABRT,
	       "a line while literal bytes are owed panics");
	is_int(tap_run_child(too_much_literal, NULL), -SIGABRT,
	       "more literal bytes than owed panics");
}

/* ---- parser */

static void dump_args(const struct imap_arg *args, size_t count,
		      struct str *out);

static void dump_arg(const struct imap_arg *a, struct str *out)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		str_append(out, "a:", 2);
		break;
	case IMAP_ARG_QUOTED:
		str_append(out, "q:", 2);
		break;
	case IMAP_ARG_LITERAL:
		str_append_cstr(out, a->literal8 ? "l8:" : "l:");
		break;
	case IMAP_ARG_NIL:
		str_append(out, "nil:", 4);
		break;
	case IMAP_ARG_LIST:
		str_putc(out, '(');
		dump_args(a->list, a->count, out);
		str_putc(out, ')');
		return;
	}
	ok(a->str[a->len] == '\0', "string NUL-terminated");
	str_append(out, a->str, a->len);
}

static void dump_args(const struct imap_arg *args, size_t count,
		      struct str *out)
{
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			str_putc(out, ' ');
		dump_arg(&args[i], out);
	}
}

struct parse_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *tag, *name, *dump;
};

static const struct parse_case good[] = {
    {"A1 NOOP", 0, "A1", "NOOP", ""},
    {"A1  noop  ", 0, "A1", "noop", ""},
    {"a002 LOGIN bob \"se\\\"c\\\\ret\"", 0, "a002", "LOGIN",
     "a:bob q:se\"c\\ret"},
    {"A1 LOGIN \"\" \"\"", 0, "A1", "LOGIN", "q: q:"},
    {"A1 LOGIN \"caf\xc3\xa9\" \"a\tb\"", 0, "A1", "LOGIN",
     "q:caf\xc3\xa9 q:a\tb"},
    {"A3 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> "
     "BINARY[1.2] BODY[])",
     0, "A3", "FETCH",
     "a:1:* (a:FLAGS a:BODY.PEEK[HEADER.FIELDS (From To)]<0.100> "
     "a:BINARY[1.2] a:BODY[])"},
    {"A3 UID FETCH 1,3:5 BODY[HEADER.FIELDS.NOT (\"X]Y\" Subject)]", 0, "A3",
     "UID", "a:FETCH a:1,3:5 a:BODY[HEADER.FIELDS.NOT (\"X]Y\" Subject)]"},
    {"A3 FETCH $ (BODY[1.MIME]<5>)", 0, "A3", "FETCH",
     "a:$ (a:BODY[1.MIME]<5>)"},
    {"A4 STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)", 0, "A4", "STORE",
     "a:1 a:+FLAGS.SILENT (a:\\Seen a:\\Deleted a:$Junk)"},
    {"A5 LIST \"\" %/foo*", 0, "A5", "LIST", "q: a:%/foo*"},
    {"A6 SELECT foo[bar", 0, "A6", "SELECT", "a:foo[bar"},
    {"A6 SELECT foo[bar]", 0, "A6", "SELECT", "a:foo[bar]"},
    {"A6 SELECT a[b c[d]", 0, "A6", "SELECT", "a:a[b a:c[d]"},
    {"A7 APPEND INBOX (\\Seen) {5}\r\nhello", 0, "A7", "APPEND",
     "a:INBOX (a:\\Seen) l:hello"},
    {"A7 APPEND INBOX {5+}\r\nhe\r\no", 0, "A7", "APPEND", "a:INBOX l:he\r\no"},
    {"A7 LOGIN {3}\r\nbob {0}\r\n", 0, "A7", "LOGIN", "l:bob l:"},
    {"A7 X {3}\r\n(x)", 0, "A7", "X", "l:(x)"},
    {"A8 X nil NIL Nil NILS \"NIL\"", 0, "A8", "X",
     "nil:nil nil:NIL nil:Nil a:NILS q:NIL"},
    {"A9 X ((a) (b (c))) () (())", 0, "A9", "X", "((a:a) (a:b (a:c))) () (())"},
    {"A9 X (a)(b) ( a  b )", 0, "A9", "X", "(a:a) (a:b) (a:a a:b)"},
    {"A9 X (\"a\" {1}\r\nb)", 0, "A9", "X", "(q:a l:b)"},
    {"A10 X ~foo ~ \\", 0, "A10", "X", "a:~foo a:~ a:\\"},
    {"A11 CATENATE (TEXT {3}\r\nabc URL \"/x\")", 0, "A11", "CATENATE",
     "(a:TEXT l:abc a:URL q:/x)"},
    {"]x NOOP", 0, "]x", "NOOP", ""},
};

static void parse_good(struct imap_parser *p, const struct parse_case *c)
{
	struct imap_command cmd;
	const char *err = NULL;
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	struct str d;
	int ret = imap_parse_command(p, c->in, len, &cmd, &err);

	is_int(ret, 1, nm(c->in));
	if (ret != 1) {
		tap_diag("error: %s", err);
		return;
	}
	is_str(cmd.tag, c->tag, nm(c->in));
	is_str(cmd.name, c->name, nm(c->in));
	str_init(&d, 64);
	dump_args(cmd.args, cmd.count, &d);
	is_str(d.data, c->dump, nm(c->in));
	str_deinit(&d);
}

static void test_parse_good(void)
{
	struct imap_parser *p = imap_parser_new();
	struct imap_command cmd;
	const char *err = NULL;
	static const char lit8[] = "A1 APPEND INBOX ~{3}\r\na\0b";

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		parse_good(p, &good[i]);
	is_int(imap_parse_command(p, lit8, sizeof(lit8) - 1, &cmd, &err), 1,
	       "literal8 with a NUL");
	is_int(cmd.count, 2, "2 args");
	ok(cmd.args[1].type == IMAP_ARG_LITERAL && cmd.args[1].literal8,
	   "literal8 flagged");
	is_mem(cmd.args[1].str, cmd.args[1].len, "a\0b", 3, "NUL kept");
	imap_parser_free(&p);
	ok(p == NULL, "free NULLs the pointer");
	imap_parser_free(&p);
}

struct bad_case {
	const char *in;
	size_t len;
	const char *tag, *error;
};

static const struct bad_case bad[] = {
    {"", 0, "*", "Empty command"},
    {" A1 NOOP", 0, "*", "Invalid tag"},
    {"(A1 NOOP", 0, "*", "Invalid tag"},
    {"A+1 NOOP", 0, "*", "Invalid tag"},
    {"A\x01 NOOP", 0, "*", "Invalid tag"},
    {"A1", 0, "A1", "Missing command name"},
    {"A1 ", 0, "A1", "Missing command name"},
    {"A1 (NOOP", 0, "A1", "Invalid command name"},
    {"A1 NO(OP", 0, "A1", "Invalid command name"},
    {"A1 N\xc3\x96OP", 0, "A1", "Invalid command name"},
    {"A1 X (a b", 0, "A1", "Missing )"},
    {"A1 X ((a)", 0, "A1", "Missing )"},
    {"A1 X a)", 0, "A1", "Unexpected )"},
    {"A1 X (a))", 0, "A1", "Unexpected )"},
    {"A1 X \"abc", 0, "A1", "Unterminated quoted string"},
    {"A1 X \"abc\\", 0, "A1", "Unterminated quoted string"},
    {"A1 X \"a\\nb\"", 0, "A1", "Invalid \\ escape in quoted string"},
    {"A1 X \"a\r\nb\"", 0, "A1", "CR, LF or NUL in quoted string"},
    {"A1 X \"a\0b\"", 10, "A1", "CR, LF or NUL in quoted string"},
    {"A1 X \"a\"\"b\"", 0, "A1", "Missing space between arguments"},
    {"A1 X \"a\"b", 0, "A1", "Missing space between arguments"},
    {"A1 X {5}\r\nabc", 0, "A1", "Literal length mismatch"},
    {"A1 X {3}\r\nabcd", 0, "A1", "Missing space between arguments"},
    {"A1 X {3}\r\nab)c", 0, "A1", "Missing space between arguments"},
    {"A1 X {3}abc", 0, "A1", "Literal not followed by CRLF"},
    {"A1 X {3}\nabc", 0, "A1", "Literal not followed by CRLF"},
    {"A1 X {3}", 0, "A1", "Literal not followed by CRLF"},
    {"A1 X {x}\r\n", 0, "A1", "Invalid literal size"},
    {"A1 X {}\r\n", 0, "A1", "Invalid literal size"},
    {"A1 X {3\r\nabc", 0, "A1", "Invalid literal size"},
    {"A1 X {99999999999999999999}\r\nabc", 0, "A1", "Literal length mismatch"},
    {"A1 X {3}\r\na\0b", 13, "A1",
     "NUL in a literal (only literal8 may hold one)"},
    {"A1 X a\"b", 0, "A1", "Invalid character in atom"},
    {"A1 X a{3}\r\nabc", 0, "A1", "Invalid character in atom"},
    {"A1 X caf\xc3\xa9", 0, "A1", "8-bit character in atom"},
    {"A1 X \xff", 0, "A1", "8-bit character in atom"},
    {"A1 X a\x01z", 0, "A1", "Control character in command"},
    {"A1 X a\0z", 8, "A1", "Control character in command"},
    {"A1 X a\r\nA2 NOOP", 0, "A1", "CR or LF outside a literal"},
    {"A1 X ]", 0, "A1", "Unexpected ]"},
    {"A1 X a]b", 0, "A1", "Unexpected ]"},
    {"A1 X a\\b", 0, "A1", "Invalid character in atom"},
    {"A1 X BODY[]x", 0, "A1", "Invalid character in atom"},
    {"A1 X BODY[]<1.2", 0, "A1", "Invalid <partial> after ]"},
    {"A1 X BODY[]<>", 0, "A1", "Invalid <partial> after ]"},
    {"A1 X BODY[]<a>", 0, "A1", "Invalid <partial> after ]"},
    {"A1 X BODY[1]<1>(", 0, "A1", "Invalid character in atom"},
};

static void test_parse_bad(void)
{
	struct imap_parser *p = imap_parser_new();

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const struct bad_case *c = &bad[i];
		struct imap_command cmd;
		const char *err = NULL;
		size_t len = c->len != 0 ? c->len : strlen(c->in);

		is_int(imap_parse_command(p, c->in, len, &cmd, &err), -1,
		       nm(c->in));
		is_str(cmd.tag, c->tag, nm(c->in));
		is_str(err, c->error, nm(c->in));
	}
	imap_parser_free(&p);
}

/* n nested lists around an atom. */
static void nested(struct str *s, size_t n)
{
	str_clear(s);
	str_append_cstr(s, "A1 X ");
	for (size_t i = 0; i < n; i++)
		str_putc(s, '(');
	str_putc(s, 'a');
	for (size_t i = 0; i < n; i++)
		str_putc(s, ')');
}

static void test_parse_limits(void)
{
	struct imap_parser *p = imap_parser_new();
	struct imap_command cmd;
	const char *err = NULL;
	struct str s;
	const struct imap_arg *a;
	size_t depth = 0;

	str_init(&s, 1024);
	nested(&s, IMAP_PARSE_MAX_DEPTH);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), 1,
	       "32 nested lists");
	for (a = &cmd.args[0]; a->type == IMAP_ARG_LIST; a = &a->list[0])
		depth++;
	is_int(depth, IMAP_PARSE_MAX_DEPTH, "all 32 levels in the tree");
	is_str(a->str, "a", "innermost atom");
	nested(&s, IMAP_PARSE_MAX_DEPTH + 1);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), -1,
	       "33 nested lists");
	is_str(err, "Lists nested too deeply", "depth reason");
	nested(&s, 100000);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), -1,
	       "100000 nested lists fail without deep recursion");

	str_clear(&s);
	str_append_cstr(&s, "A1 X");
	for (size_t i = 0; i < IMAP_PARSE_MAX_ARGS; i++)
		str_append(&s, " a", 2);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), 1,
	       "100000 arguments");
	is_int(cmd.count, IMAP_PARSE_MAX_ARGS, "all there");
	str_append(&s, " a", 2);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), -1,
	       "100001 arguments");
	is_str(err, "Too many arguments", "count reason");
	str_clear(&s);
	str_append_cstr(&s, "A1 X ");
	for (size_t i = 0; i < IMAP_PARSE_MAX_ARGS / 2; i++)
		str_append(&s, "(a)", 3);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), 1,
	       "50000 lists of one: 100000 arguments");
	str_append(&s, "(a)", 3);
	is_int(imap_parse_command(p, s.data, s.len, &cmd, &err), -1,
	       "lists and their members both count");
	is_int(imap_parse_command(p, "A2 NOOP", 7, &cmd, &err), 1,
	       "parser reusable after limits");
	is_str(cmd.tag, "A2", "tag after reuse");
	str_deinit(&s);
	imap_parser_free(&p);
}

static void test_arg_helpers(void)
{
	struct imap_parser *p = imap_parser_new();
	struct imap_command cmd;
	const char *err = NULL, *v;
	size_t len = 99;
	static const char in[] = "A1 X fetch \"Fetch\" {5}\r\nFETCH NIL () "
				 "{6}\r\nFETCHX ~{5}\r\nF\0TCH";

	is_int(imap_parse_command(p, in, sizeof(in) - 1, &cmd, &err), 1,
	       "helper input parses");
	is_int(cmd.count, 7, "7 args");
	ok(imap_arg_is(&cmd.args[0], "FETCH"), "atom is ci");
	ok(imap_arg_is(&cmd.args[1], "fetch"), "quoted is ci");
	ok(imap_arg_is(&cmd.args[2], "FETCH"), "literal is");
	ok(imap_arg_is(&cmd.args[3], "nil"), "NIL is nil");
	ok(!imap_arg_is(&cmd.args[4], ""), "a list is no word");
	ok(!imap_arg_is(&cmd.args[5], "FETCH"), "longer literal is not");
	ok(!imap_arg_is(&cmd.args[6], "FETCH"), "NUL does not match");
	ok(!imap_arg_is(&cmd.args[0], "FETC"), "prefix is not equal");
	v = imap_arg_astring(&cmd.args[1], &len);
	is_mem(v, len, "Fetch", 5, "astring of quoted");
	ok(imap_arg_astring(&cmd.args[3], &len) == NULL, "NIL: no astring");
	ok(imap_arg_astring(&cmd.args[4], &len) == NULL, "list: no astring");
	v = imap_arg_astring_nil(&cmd.args[3], &len);
	is_mem(v, len, "NIL", 3, "astring_nil of NIL");
	ok(imap_arg_astring_nil(&cmd.args[4], &len) == NULL,
	   "astring_nil of a list");
	v = imap_arg_astring(&cmd.args[6], &len);
	is_mem(v, len, "F\0TCH", 5, "astring of literal8 keeps the NUL");
	imap_parser_free(&p);
}

/* Random and mutated input: the reader and the parser must not crash,
 * and a parse that fails must say why. */
static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void test_random(void)
{
	static const char alphabet[] = "A1 ()[]<>{}~+\"\\\r\n\0x*%.:NIL59$";
	struct imap_parser *p = imap_parser_new();
	size_t failures = 0, reasons = 0;
	char buf[64];

	for (int i = 0; i < 20000; i++) {
		size_t n = rnd() % sizeof(buf);
		struct imap_command cmd;
		const char *err = NULL;

		memcpy(buf, "A1 X ", 5);
		for (size_t j = 5; j < n; j++)
			buf[j] = i % 2 == 0
				     ? alphabet[rnd() % (sizeof(alphabet) - 1)]
				     : (char)rnd();
		if (imap_parse_command(p, buf, n < 5 ? 5 : n, &cmd, &err) < 0) {
			failures++;
			reasons +=
			    err != NULL && *err != '\0' && cmd.tag != NULL;
		}
	}
	ok(failures > 0, "some random input fails (%zu)", failures);
	is_int(reasons, failures, "every failure has a reason and a tag");
	imap_parser_free(&p);
}

int main(void)
{
	test_reader_plain();
	test_reader_literals();
	test_reader_big_then_small();
	test_reader_not_literals();
	test_reader_too_big();
	test_reader_too_big_later();
	test_reader_tags();
	test_reader_bugs();
	test_parse_good();
	test_parse_bad();
	test_parse_limits();
	test_arg_helpers();
	test_random();
	return tap_done();
}
