/* t/unit/imap_util.c: tests for lib/imap_util.c, lib/imap_parse_mutf7.c
 * and lib/imap_parse_date.c: sequence sets ('*', '$', reversed ranges,
 * 2^32, empty parts, resolve/merge/contains, format), modified UTF-7 round
 * trips and every invalid form, UTF-8 validation, the atom / quoted /
 * literal choice of string output, and dates (invalid days, zones, leap
 * years, before 1970). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imap_util.h"
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

/* ---- sequence sets */

/* Renders a set as "lo-hi lo-hi" ('*' as 0) for comparison. */
static void set_dump(const struct imap_seqset *set, struct str *out)
{
	str_clear(out);
	if (set->dollar)
		str_putc(out, '$');
	for (size_t i = 0; i < set->count; i++)
		str_printf(out, "%s%u-%u", i > 0 ? " " : "",
			   (unsigned)set->ranges[i].lo,
			   (unsigned)set->ranges[i].hi);
}

struct seq_case {
	const char *in;
	const char *parsed; /* NULL: parse fails */
	uint32_t star;
	const char *resolved;
};

static const struct seq_case seq_cases[] = {
    {"1:5,7,9:*", "1-5 7-7 9-0", 12, "1-5 7-7 9-12"},
    {"1", "1-1", 1, "1-1"},
    {"*", "0-0", 7, "7-7"},
    {"*", "0-0", 0, ""},
    {"1:*", "1-0", 0, ""},
    {"1,3", "1-1 3-3", 0, "1-1 3-3"},
    {"*:5", "0-5", 3, "3-5"},
    {"5:3,1,2,10:*", "5-3 1-1 2-2 10-0", 12, "1-5 10-12"},
    {"1:3,4:6", "1-3 4-6", 10, "1-6"},
    {"1:10,5:6,11", "1-10 5-6 11-11", 10, "1-11"},
    {"4294967295,1:4294967295", "4294967295-4294967295 1-4294967295", 1,
     "1-4294967295"},
    {"4294967295,4294967294", "4294967295-4294967295 4294967294-4294967294", 1,
     "4294967294-4294967295"},
    {"7,7,7", "7-7 7-7 7-7", 9, "7-7"},
    {"$", "$", 5, "$"},
    {"", NULL, 0, NULL},
    {",", NULL, 0, NULL},
    {"1,", NULL, 0, NULL},
    {",1", NULL, 0, NULL},
    {"1,,2", NULL, 0, NULL},
    {"0", NULL, 0, NULL},
    {"0:5", NULL, 0, NULL},
    {"01", NULL, 0, NULL},
    {"1:", NULL, 0, NULL},
    {":1", NULL, 0, NULL},
    {"1:2:3", NULL, 0, NULL},
    {"4294967296", NULL, 0, NULL},
    {"1:4294967296", NULL, 0, NULL},
    {"99999999999999999999999", NULL, 0, NULL},
    {"1 ", NULL, 0, NULL},
    {"a", NULL, 0, NULL},
    {"-1", NULL, 0, NULL},
    {"+1", NULL, 0, NULL},
    {"**", NULL, 0, NULL},
    {"$,1", NULL, 0, NULL},
    {"$$", NULL, 0, NULL},
    {"1$", NULL, 0, NULL},
};

static void test_seqset_cases(void)
{
	struct str d;

	str_init(&d, 64);
	for (size_t i = 0; i < sizeof(seq_cases) / sizeof(*seq_cases); i++) {
		const struct seq_case *c = &seq_cases[i];
		struct imap_seqset set;
		const char *err = NULL;
		int ret = imap_seqset_parse(c->in, &set, &err);

		if (c->parsed == NULL) {
			is_int(ret, -1, c->in);
			ok(err != NULL && set.count == 0 && set.ranges == NULL,
			   "'%s' fails with a reason (%s)", c->in, err);
			imap_seqset_free(&set);
			continue;
		}
		is_int(ret, 1, c->in);
		set_dump(&set, &d);
		is_str(d.data, c->parsed, c->in);
		imap_seqset_resolve(&set, c->star);
		set_dump(&set, &d);
		is_str(d.data, c->resolved, c->in);
		imap_seqset_resolve(&set, c->star);
		set_dump(&set, &d);
		is_str(d.data, c->resolved, "resolving twice changes nothing");
		imap_seqset_free(&set);
		ok(set.ranges == NULL && set.count == 0, "freed");
	}
	str_deinit(&d);
}

static void test_seqset_contains(void)
{
	struct imap_seqset set;
	const char *err;
	static const uint32_t in[] = {1, 2, 5, 9, 10, 12, 20, 4294967295};
	static const uint32_t out[] = {0, 3, 4, 8, 11, 13, 19, 21, 4294967294};

	is_int(imap_seqset_parse("20,4294967295:*,12,9:10,5,2:1", &set, &err),
	       1, "parse");
	imap_seqset_resolve(&set, 4294967295u);
	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++)
		ok(imap_seqset_contains(&set, in[i]), "contains %u",
		   (unsigned)in[i]);
	for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++)
		ok(!imap_seqset_contains(&set, out[i]), "lacks %u",
		   (unsigned)out[i]);
	imap_seqset_free(&set);
	is_int(imap_seqset_parse("*", &set, &err), 1, "parse *");
	imap_seqset_resolve(&set, 0);
	ok(!imap_seqset_contains(&set, 0), "'*' in an empty mailbox: nothing");
	ok(!imap_seqset_contains(&set, 1), "nor 1");
	imap_seqset_free(&set);
}

static void format_case(const uint32_t *v, size_t n, const char *want)
{
	struct str out;

	str_init(&out, 16);
	str_append_cstr(&out, "[");
	imap_seqset_format(v, n, &out);
	is_str(out.data, want, want);
	str_deinit(&out);
}

static void test_seqset_format(void)
{
	static const uint32_t a[] = {1, 2, 3, 7};
	static const uint32_t b[] = {5};
	static const uint32_t c[] = {1, 1, 2, 4, 4, 6, 7, 8};
	static const uint32_t d[] = {4294967294u, 4294967295u};
	static const uint32_t e[] = {3, 5, 7};

	format_case(a, 4, "[1:3,7");
	format_case(b, 1, "[5");
	format_case(a, 0, "[");
	format_case(c, 8, "[1:2,4,6:8");
	format_case(d, 2, "[4294967294:4294967295");
	format_case(e, 3, "[3,5,7");
}

/* ---- modified UTF-7 and UTF-8 */

struct mutf7_case {
	const char *utf8, *mutf7;
};

static const struct mutf7_case round_trips[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"\xc3\xa9t\xc3\xa9", "&AOk-t&AOk-"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"&", "&-"},
    {"a&b&&", "a&-b&-&-"},
    {"\xc3\xa9&", "&AOk-&-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    {"\x01", "&AAE-"},
    {"a\xc3\xa9\xc3\xa9z", "a&AOkA6Q-z"},
    {"Gel\xc3\xb6scht \xe2\x82\xac", "Gel&APY-scht &IKw-"},
};

static void test_mutf7_round_trips(void)
{
	struct str out;

	str_init(&out, 16);
	for (size_t i = 0; i < sizeof(round_trips) / sizeof(*round_trips);
	     i++) {
		const struct mutf7_case *c = &round_trips[i];

		str_set(&out, "junk", 4);
		is_int(imap_utf8_to_mutf7(c->utf8, strlen(c->utf8), &out), 1,
		       nm(c->mutf7));
		is_str(out.data, c->mutf7, "encode replaces out");
		str_set(&out, "junk", 4);
		is_int(imap_mutf7_to_utf8(c->mutf7, strlen(c->mutf7), &out), 1,
		       c->mutf7);
		is_str(out.data, c->utf8, "decode replaces out");
	}
	str_deinit(&out);
}

static void test_mutf7_invalid(void)
{
	static const char *const bad_mutf7[] = {
	    "&",	   /* unterminated shift */
	    "&AOk",	   /* no explicit '-' */
	    "a&AOkt",	   /* no explicit '-' before ASCII */
	    "&AGE-",	   /* 'a' encoded */
	    "&ACY-",	   /* '&' encoded */
	    "&ACA-",	   /* space encoded */
	    "&AOk-&AOk-",  /* null shift: runs must merge */
	    "&Jjo!-",	   /* '!' is no base64 */
	    "&/wA-",	   /* '/' is not modified base64 */
	    "&AOk=-",	   /* no padding in modified base64 */
	    "&2D0-",	   /* lone high surrogate */
	    "&3gA-",	   /* lone low surrogate */
	    "&2D3YPQ-",	   /* high surrogate twice */
	    "&AOkA-",	   /* a whole spare base64 character */
	    "&AOl-",	   /* non-zero padding bits */
	    "&A-",	   /* 6 bits: no character */
	    "&AAA-",	   /* U+0000 */
	    "a\x01z",	   /* control character */
	    "caf\xc3\xa9", /* raw 8-bit */
	    "a\tb",	   /* tab */
	};
	struct str out;

	str_init(&out, 16);
	for (size_t i = 0; i < sizeof(bad_mutf7) / sizeof(*bad_mutf7); i++) {
		str_set(&out, "junk", 4);
		is_int(imap_mutf7_to_utf8(bad_mutf7[i], strlen(bad_mutf7[i]),
					  &out),
		       -1, nm(bad_mutf7[i]));
		is_int(out.len, 0, "out left empty");
	}
	is_int(imap_mutf7_to_utf8("a\0b", 3, &out), -1, "NUL byte");
	{
		static const char *const bad_utf8[] = {
		    "\xc3",		/* truncated */
		    "a\xc3z",		/* truncated inside */
		    "\xc0\xaf",		/* overlong '/' */
		    "\xe0\x80\xaf",	/* overlong '/' */
		    "\xed\xa0\x80",	/* surrogate */
		    "\xf4\x90\x80\x80", /* above U+10FFFF */
		    "\xf8\x88\x80\x80\x80",
		    "\x80",
		    "\xff",
		};

		for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(*bad_utf8);
		     i++) {
			is_int(imap_utf8_to_mutf7(bad_utf8[i],
						  strlen(bad_utf8[i]), &out),
			       -1, "encoder refuses bad UTF-8");
			is_int(out.len, 0, "out left empty");
		}
	}
	is_int(imap_utf8_to_mutf7("a\0b", 3, &out), -1, "encoder refuses NUL");
	str_deinit(&out);
}

static void test_utf8_valid(void)
{
	ok(imap_utf8_valid("", 0), "empty");
	ok(imap_utf8_valid("abc", 3), "ASCII");
	ok(imap_utf8_valid("a\0b", 3), "NUL is UTF-8");
	ok(imap_utf8_valid("\xc2\x80\xdf\xbf", 4), "2-byte bounds");
	ok(imap_utf8_valid("\xe0\xa0\x80\xef\xbf\xbf", 6), "3-byte bounds");
	ok(imap_utf8_valid("\xed\x9f\xbf\xee\x80\x80", 6), "around surrogates");
	ok(imap_utf8_valid("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8),
	   "4-byte bounds");
	ok(!imap_utf8_valid("\xc1\xbf", 2), "overlong 2-byte");
	ok(!imap_utf8_valid("\xe0\x9f\xbf", 3), "overlong 3-byte");
	ok(!imap_utf8_valid("\xf0\x8f\xbf\xbf", 4), "overlong 4-byte");
	ok(!imap_utf8_valid("\xed\xa0\x80", 3), "high surrogate");
	ok(!imap_utf8_valid("\xed\xbf\xbf", 3), "low surrogate");
	ok(!imap_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
	ok(!imap_utf8_valid("\xf5\x80\x80\x80", 4), "F5 lead byte");
	ok(!imap_utf8_valid("\xe2\x82", 2), "truncated");
	ok(!imap_utf8_valid("\xe2\x82\xac", 2), "cut by len");
	ok(!imap_utf8_valid("\xe2\x28\xac", 3), "bad continuation");
	ok(!imap_utf8_valid("\xbf", 1), "lone continuation");
}

/* ---- output */

struct out_case {
	const char *in;
	size_t len; /* 0: strlen */
	const char *astring, *string;
};

static const struct out_case out_cases[] = {
    {"INBOX", 0, "INBOX", "\"INBOX\""},
    {"", 0, "\"\"", "\"\""},
    {"NIL", 0, "\"NIL\"", "\"NIL\""},
    {"nil", 0, "\"nil\"", "\"nil\""},
    {"NILS", 0, "NILS", "\"NILS\""},
    {"a]b", 0, "a]b", "\"a]b\""},
    {"a b", 0, "\"a b\"", "\"a b\""},
    {"a\"b", 0, "\"a\\\"b\"", "\"a\\\"b\""},
    {"a\\b", 0, "\"a\\\\b\"", "\"a\\\\b\""},
    {"\\Seen", 0, "\"\\\\Seen\"", "\"\\\\Seen\""},
    {"a*", 0, "\"a*\"", "\"a*\""},
    {"a%", 0, "\"a%\"", "\"a%\""},
    {"(a)", 0, "\"(a)\"", "\"(a)\""},
    {"{1}", 0, "\"{1}\"", "\"{1}\""},
    {"a\tb", 0, "\"a\tb\"", "\"a\tb\""},
    {"caf\xc3\xa9", 0, "{5}\r\ncaf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"},
    {"a\r\nb", 0, "{4}\r\na\r\nb", "{4}\r\na\r\nb"},
    {"a\rb", 0, "{3}\r\na\rb", "{3}\r\na\rb"},
    {"a\0b", 3, "{3}\r\na\0b", "{3}\r\na\0b"},
};

static void test_output(void)
{
	struct str out, want;

	str_init(&out, 16);
	str_init(&want, 16);
	for (size_t i = 0; i < sizeof(out_cases) / sizeof(*out_cases); i++) {
		const struct out_case *c = &out_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->in);
		size_t alen = strlen(c->astring), slen = strlen(c->string);

		/* literals with NUL: the expected text has it too */
		if (c->len != 0)
			alen = slen = 5 + c->len;
		str_set(&out, "* ", 2);
		imap_append_astring(&out, c->in, len);
		str_set(&want, "* ", 2);
		str_append(&want, c->astring, alen);
		is_mem(out.data, out.len, want.data, want.len, nm(c->astring));
		str_set(&out, "* ", 2);
		imap_append_string(&out, c->in, len);
		str_set(&want, "* ", 2);
		str_append(&want, c->string, slen);
		is_mem(out.data, out.len, want.data, want.len, nm(c->string));
		str_clear(&out);
		imap_append_nstring(&out, c->in, len);
		is_mem(out.data, out.len, c->string, slen, "nstring = string");
	}
	str_clear(&out);
	imap_append_nstring(&out, NULL, 0);
	is_str(out.data, "NIL", "nstring NULL is NIL");

	/* the 1024-byte boundary of quoted strings */
	str_clear(&want);
	for (int i = 0; i < 1023; i++)
		str_putc(&want, 'x');
	str_putc(&want, ' ');
	str_clear(&out);
	imap_append_astring(&out, want.data, want.len);
	is_int(out.len, 1026, "1024 bytes: quoted");
	ok(out.data[0] == '"', "starts with a quote");
	str_putc(&want, 'y');
	str_clear(&out);
	imap_append_astring(&out, want.data, want.len);
	is_int(out.len, 1025 + 8, "1025 bytes: literal");
	ok(memcmp(out.data, "{1025}\r\n", 8) == 0, "literal header");
	str_deinit(&out);
	str_deinit(&want);
}

/* ---- dates */

struct date_case {
	const char *in;
	int ret;
	long long t;
};

static const struct date_case date_cases[] = {
    {"1-Feb-1994", 1, 760060800},
    {"01-Feb-1994", 1, 760060800},
    {"01-fEB-1994", 1, 760060800},
    {"1-Jan-1970", 1, 0},
    {"31-Dec-1969", 1, -86400},
    {"1-Jan-0001", 1, -62135596800LL},
    {"31-Dec-9999", 1, 253402214400LL},
    {"29-Feb-2024", 1, 1709164800},
    {"29-Feb-2000", 1, 951782400},
    {"29-Feb-1900", -1, 0},
    {"29-Feb-1993", -1, 0},
    {"28-Feb-1993", 1, 730857600},
    {"31-Apr-2020", -1, 0},
    {"30-Apr-2020", 1, 1588204800},
    {"31-Dec-2020", 1, 1609372800},
    {"0-Jan-2020", -1, 0},
    {"00-Jan-2020", -1, 0},
    {"32-Jan-2020", -1, 0},
    {"123-Jan-2020", -1, 0},
    {"1-Foo-2020", -1, 0},
    {"1-Janu-2020", -1, 0},
    {"1-Ja-2020", -1, 0},
    {"1-Jan-20", -1, 0},
    {"1-Jan-20200", -1, 0},
    {"1-Jan-2020 ", -1, 0},
    {" 1-Jan-2020", -1, 0},
    {"1 Jan 2020", -1, 0},
    {"1-Jan", -1, 0},
    {"", -1, 0},
    {"+1-Jan-2020", -1, 0},
};

static void test_date(void)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(*date_cases); i++) {
		const struct date_case *c = &date_cases[i];
		time_t t = 42;
		int ret = imap_parse_date(c->in, &t);

		is_int(ret, c->ret, c->in);
		if (c->ret == 1)
			is_int(t, c->t, c->in);
		else
			is_int(t, 42, "untouched on error");
	}
}

struct datetime_case {
	const char *in;
	int ret;
	long long t;
	int tz;
};

static const struct datetime_case datetime_cases[] = {
    {"17-Jul-1996 02:44:25 -0700", 1, 837596665, -420},
    {"17-Jul-1996 09:44:25 +0000", 1, 837596665, 0},
    {"17-Jul-1996 09:44:25 -0000", 1, 837596665, 0},
    {" 1-Jan-2000 00:00:00 +0000", 1, 946684800, 0},
    {"1-Jan-2000 00:00:00 +0000", 1, 946684800, 0},
    {"01-Jan-2000 05:30:00 +0530", 1, 946684800, 330},
    {"31-Dec-1999 23:59:59 -2359", 1, 946684800 - 1 + 86340, -1439},
    {"01-Jan-2000 23:59:59 +2359", 1, 946684800 + 86399 - 86340, 1439},
    {"31-Dec-2016 23:59:60 +0000", 1, 1483228800, 0},
    {"29-Feb-2024 12:00:00 +0100", 1, 1709164800 + 11 * 3600, 60},
    {"29-Feb-2023 12:00:00 +0100", -1, 0, 0},
    {"31-Jun-1996 00:00:00 +0000", -1, 0, 0},
    {"17-Jul-1996 24:00:00 +0000", -1, 0, 0},
    {"17-Jul-1996 02:60:00 +0000", -1, 0, 0},
    {"17-Jul-1996 02:44:61 +0000", -1, 0, 0},
    {"17-Jul-1996 02:44:25 +2400", -1, 0, 0},
    {"17-Jul-1996 02:44:25 +0060", -1, 0, 0},
    {"17-Jul-1996 02:44:25 0700", -1, 0, 0},
    {"17-Jul-1996 02:44:25 -07:00", -1, 0, 0},
    {"17-Jul-1996 02:44:25 -070", -1, 0, 0},
    {"17-Jul-1996 02:44:25 -07000", -1, 0, 0},
    {"17-Jul-1996 02:44:25 GMT", -1, 0, 0},
    {"17-Jul-1996 02:44:25", -1, 0, 0},
    {"17-Jul-1996 02:44:25 -0700 ", -1, 0, 0},
    {"17-Jul-1996 2:44:25 -0700", -1, 0, 0},
    {"17-Jul-1996  02:44:25 -0700", -1, 0, 0},
    {"17-Jul-96 02:44:25 -0700", -1, 0, 0},
    {"  1-Jan-2000 00:00:00 +0000", -1, 0, 0},
    {"", -1, 0, 0},
};

static void test_datetime(void)
{
	for (size_t i = 0; i < sizeof(datetime_cases) / sizeof(*datetime_cases);
	     i++) {
		const struct datetime_case *c = &datetime_cases[i];
		time_t t = 42;
		int tz = 42;
		int ret = imap_parse_datetime(c->in, &t, &tz);

		is_int(ret, c->ret, c->in);
		if (c->ret != 1)
			continue;
		is_int(t, c->t, c->in);
		is_int(tz, c->tz, c->in);
	}
}

static void format_dt(time_t t, int tz, const char *want)
{
	struct str out;
	time_t t2 = 0;
	int tz2 = 0;

	str_init(&out, 32);
	imap_format_datetime(t, tz, &out);
	is_str(out.data, want, want);
	/* what we write we can read back (without the quotes) */
	if (out.len > 2 && tz >= -1439 && tz <= 1439) {
		out.data[out.len - 1] = '\0';
		is_int(imap_parse_datetime(out.data + 1, &t2, &tz2), 1, want);
		is_int(t2, t, "round trip time");
		is_int(tz2, tz, "round trip zone");
	}
	str_deinit(&out);
}

static void test_format_datetime(void)
{
	format_dt(837596665, -420, "\"17-Jul-1996 02:44:25 -0700\"");
	format_dt(837596665, 0, "\"17-Jul-1996 09:44:25 +0000\"");
	format_dt(946684800, 330, "\"01-Jan-2000 05:30:00 +0530\"");
	format_dt(946684800, -1, "\"31-Dec-1999 23:59:00 -0001\"");
	format_dt(-1, 0, "\"31-Dec-1969 23:59:59 +0000\"");
	format_dt(1709164800 + 86399, 0, "\"29-Feb-2024 23:59:59 +0000\"");
	format_dt(-62135596800LL, 0, "\"01-Jan-0001 00:00:00 +0000\"");
	format_dt(0, 5000, "\"01-Jan-1970 23:59:00 +2359\"");
	format_dt(0, -5000, "\"31-Dec-1969 00:01:00 -2359\"");
}

int main(void)
{
	test_seqset_cases();
	test_seqset_contains();
	test_seqset_format();
	test_mutf7_round_trips();
	test_mutf7_invalid();
	test_utf8_valid();
	test_output();
	test_date();
	test_datetime();
	test_format_datetime();
	return tap_done();
}
