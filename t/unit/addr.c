/* t/unit/addr.c: tests for lib/addr.c and lib/addr_path.c: a table of
 * valid and hostile SMTP paths (percent hack, bang paths, source routes,
 * quoted local parts, double '@', unqualified, IP literals, look-alike and
 * IDN domains, NUL and control characters, bad UTF-8) with the exact error,
 * canonical form and flags each must give; limits at and around 64, 63 and
 * 256 octets; ESMTP parameters and their limits; numeric parameter values;
 * the canonical form parsing back to itself; reply mapping; xtext. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "num.h"
#include "str.h"
#include "tap.h"

#define M ADDR_PATH_MAIL
#define R ADDR_PATH_RCPT
#define U8 ADDR_PARSE_SMTPUTF8

/* Short names so that the table stays readable. */
#define F_NULL ADDR_F_NULL
#define F_PM ADDR_F_POSTMASTER
#define F_UNQ ADDR_F_UNQUALIFIED
#define F_Q ADDR_F_QUOTED
#define F_LONG ADDR_F_LOCAL_LONG
#define F_U8L ADDR_F_UTF8_LOCAL
#define F_U8D ADDR_F_UTF8_DOMAIN
#define F_ACE ADDR_F_ACE_DOMAIN
#define F_IP ADDR_F_IP_LITERAL
#define F_NUM ADDR_F_NUMERIC_DOMAIN
#define F_DOT ADDR_F_TRAILING_DOT
#define F_ROUTE ADDR_F_SOURCE_ROUTE
#define F_PCT ADDR_F_PERCENT
#define F_BANG ADDR_F_BANG
#define F_AT ADDR_F_LOCAL_AT

#define E_OK ADDR_ERR_NONE
#define E_SYN ADDR_ERR_SYNTAX
#define E_BRK ADDR_ERR_NO_BRACKETS
#define E_NULL ADDR_ERR_NULL_RCPT
#define E_UNQ ADDR_ERR_UNQUALIFIED
#define E_CTL ADDR_ERR_CONTROL
#define E_LONG ADDR_ERR_PATH_TOO_LONG
#define E_DOM ADDR_ERR_BAD_DOMAIN
#define E_DLONG ADDR_ERR_DOMAIN_TOO_LONG
#define E_LIT ADDR_ERR_BAD_LITERAL
#define E_8BIT ADDR_ERR_NON_ASCII
#define E_UTF8 ADDR_ERR_BAD_UTF8
#define E_PSYN ADDR_ERR_PARAM_SYNTAX
#define E_PMANY ADDR_ERR_PARAM_TOO_MANY
#define E_PLONG ADDR_ERR_PARAM_TOO_LONG
#define E_PDUP ADDR_ERR_PARAM_DUPLICATE

/* relay: 'R' = must be refused for relay on the domain alone (scrutiny),
 * '-' = plain. */
struct path_case {
	const char *in;
	enum addr_path_kind kind;
	unsigned pflags;
	enum addr_error err;
	const char *canon;  /* when err == E_OK */
	const char *domain; /* when err == E_OK */
	unsigned flags;	    /* exact */
	char relay;
};

static const struct path_case cases[] = {
    /* plain forms */
    {"<user@example.com>", R, 0, E_OK, "user@example.com", "example.com", 0,
     '-'},
    {"<User@EXAMPLE.Com>", R, 0, E_OK, "User@example.com", "example.com", 0,
     '-'},
    {"<first.last@x.org>", M, 0, E_OK, "first.last@x.org", "x.org", 0, '-'},
    {"<user+tag@x.org>", R, 0, E_OK, "user+tag@x.org", "x.org", 0, '-'},
    {"<#$&'*+-/=?^_`{|}~@x.org>", R, 0, E_OK, "#$&'*+-/=?^_`{|}~@x.org",
     "x.org", 0, '-'},
    {"<user@localhost>", R, 0, E_OK, "user@localhost", "localhost", 0, '-'},
    {"<user@a-b.c0.example>", R, 0, E_OK, "user@a-b.c0.example",
     "a-b.c0.example", 0, '-'},
    {" <user@example.com>", M, 0, E_OK, "user@example.com", "example.com", 0,
     '-'},
    {"   <user@example.com>", R, 0, E_OK, "user@example.com", "example.com", 0,
     '-'},
    {"<>", M, 0, E_OK, "", "", F_NULL, '-'},
    {"<>", R, 0, E_NULL, NULL, NULL, 0, 0},
    {"<Postmaster>", R, 0, E_OK, "Postmaster", "", F_PM | F_UNQ, 'R'},
    {"<POSTMASTER>", R, 0, E_OK, "POSTMASTER", "", F_PM | F_UNQ, 'R'},
    {"<postmaster>", M, 0, E_UNQ, NULL, NULL, 0, 0},
    {"<user>", R, 0, E_UNQ, NULL, NULL, 0, 0},
    {"<postmasterx>", R, 0, E_UNQ, NULL, NULL, 0, 0},
    /* brackets and overall syntax */
    {"user@example.com", M, 0, E_BRK, NULL, NULL, 0, 0},
    {"", M, 0, E_SYN, NULL, NULL, 0, 0},
    {"   ", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<user@example.com", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<<user@example.com>>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<user@example.com>junk", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<user @example.com>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<a@b.example> <c@d.example>", R, 0, E_PSYN, NULL, NULL, 0, 0},
    /* dot-strings */
    {"<.first@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<first.@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<fi..rst@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<(comment)user@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    /* quoted local parts: unquoted when possible, flagged when not */
    {"<\"john\"@example.com>", R, 0, E_OK, "john@example.com", "example.com", 0,
     '-'},
    {"<\"jo\\hn\"@example.com>", R, 0, E_OK, "john@example.com", "example.com",
     0, '-'},
    {"<\"john doe\"@example.com>", R, 0, E_OK, "\"john doe\"@example.com",
     "example.com", F_Q, 'R'},
    {"<\"jo\\\"hn\"@x.org>", R, 0, E_OK, "\"jo\\\"hn\"@x.org", "x.org", F_Q,
     'R'},
    {"<\"back\\\\slash\"@x.org>", R, 0, E_OK, "\"back\\\\slash\"@x.org",
     "x.org", F_Q, 'R'},
    {"<\"fi..rst\"@x.org>", R, 0, E_OK, "\"fi..rst\"@x.org", "x.org", F_Q, 'R'},
    {"<\"\"@x.org>", R, 0, E_OK, "\"\"@x.org", "x.org", F_Q, 'R'},
    {"<\"a>b\"@x.org> SIZE=1", M, 0, E_OK, "\"a>b\"@x.org", "x.org", F_Q, 'R'},
    {"<\"unterminated@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<\"a\"b@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<a\"b\"@x.org>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<\"a\\\x01\"@x.org>", R, 0, E_CTL, NULL, NULL, 0, 0},
    /* relay tricks */
    {"<user%other.example@ours.example>", R, 0, E_OK,
     "user%other.example@ours.example", "ours.example", F_PCT, 'R'},
    {"<\"user%other.example\"@ours.example>", R, 0, E_OK,
     "user%other.example@ours.example", "ours.example", F_PCT, 'R'},
    {"<host!user@ours.example>", R, 0, E_OK, "host!user@ours.example",
     "ours.example", F_BANG, 'R'},
    {"<\"host!user\"@ours.example>", R, 0, E_OK, "host!user@ours.example",
     "ours.example", F_BANG, 'R'},
    {"<user@other.example@ours.example>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@@ours.example>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<\"user@other.example\"@ours.example>", R, 0, E_OK,
     "\"user@other.example\"@ours.example", "ours.example", F_Q | F_AT, 'R'},
    {"<\"user\\@other\"@ours.example>", R, 0, E_OK,
     "\"user@other\"@ours.example", "ours.example", F_Q | F_AT, 'R'},
    {"<@a.example,@b.example:user@d.example>", R, 0, E_OK, "user@d.example",
     "d.example", F_ROUTE, 'R'},
    {"<@ours.example:user@other.example>", R, 0, E_OK, "user@other.example",
     "other.example", F_ROUTE, 'R'},
    {"<@[192.0.2.1],@[IPv6:2001:db8::1]:user@d.example>", R, 0, E_OK,
     "user@d.example", "d.example", F_ROUTE, 'R'},
    {"<@a.example>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<@a.example,user@d.example>", R, 0, E_SYN, NULL, NULL, 0, 0},
    {"<@a..example:user@d.example>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<@:user@d.example>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<@a.example:>", R, 0, E_SYN, NULL, NULL, 0, 0},
    /* address literals */
    {"<user@[192.0.2.1]>", R, 0, E_OK, "user@[192.0.2.1]", "[192.0.2.1]", F_IP,
     'R'},
    {"<user@[IPv6:2001:DB8:0:0:0:0:0:1]>", R, 0, E_OK,
     "user@[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]", F_IP, 'R'},
    {"<user@[ipv6:::1]>", R, 0, E_OK, "user@[IPv6:::1]", "[IPv6:::1]", F_IP,
     'R'},
    {"<user@[IPv6:::ffff:192.0.2.1]>", R, 0, E_OK,
     "user@[IPv6:::ffff:192.0.2.1]", "[IPv6:::ffff:192.0.2.1]", F_IP, 'R'},
    {"<user@[192.0.2.01]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[192.0.2]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[300.0.2.1]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[0x7f.0.0.1]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[2130706433]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[IPv6:2001:db8::1%eth0]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[IPv6:192.0.2.1]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[tag:content]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[]>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1].example>", R, 0, E_LIT, NULL, NULL, 0, 0},
    {"<user@192.0.2.1>", R, 0, E_OK, "user@192.0.2.1", "192.0.2.1", F_NUM, 'R'},
    {"<user@example.123>", R, 0, E_OK, "user@example.123", "example.123", F_NUM,
     'R'},
    {"<user@123.example>", R, 0, E_OK, "user@123.example", "123.example", 0,
     '-'},
    /* domain syntax */
    {"<user@example.com.>", R, 0, E_OK, "user@example.com", "example.com",
     F_DOT, '-'},
    {"<user@example.com..>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@.>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@.example.com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@example..com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@-example.com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@example-.com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@ex_ample.com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@exa mple.com>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@example.com:25>", R, 0, E_DOM, NULL, NULL, 0, 0},
    {"<user@>", R, 0, E_DOM, NULL, NULL, 0, 0},
    /* IDN and look-alikes */
    {"<user@xn--bcher-kva.example>", R, 0, E_OK, "user@xn--bcher-kva.example",
     "xn--bcher-kva.example", F_ACE, 'R'},
    {"<user@XN--bcher-kva.example>", R, 0, E_OK, "user@xn--bcher-kva.example",
     "xn--bcher-kva.example", F_ACE, 'R'},
    {"<user@b\xc3\xbc"
     "cher.example>",
     R, 0, E_8BIT, NULL, NULL, 0, 0},
    {"<user@b\xc3\xbc"
     "cher.example>",
     R, U8, E_OK,
     "user@b\xc3\xbc"
     "cher.example",
     "b\xc3\xbc"
     "cher.example",
     F_U8D, 'R'},
    {"<user@B\xc3\x9c"
     "CHER.Example>",
     R, U8, E_OK,
     "user@b\xc3\x9c"
     "cher.example",
     "b\xc3\x9c"
     "cher.example",
     F_U8D, 'R'},
    {"<user@ex\xd0\xb0mple.com>", R, U8, E_OK, "user@ex\xd0\xb0mple.com",
     "ex\xd0\xb0mple.com", F_U8D, 'R'}, /* Cyrillic a */
    {"<user@example\xe3\x80\x82"
     "com>",
     R, U8, E_DOM, NULL, NULL, 0, 0}, /* ideographic full stop */
    {"<user@example\xef\xbc\x8e"
     "com>",
     R, U8, E_DOM, NULL, NULL, 0, 0}, /* fullwidth full stop */
    {"<\xc3\xbcser@example.com>", M, 0, E_8BIT, NULL, NULL, 0, 0},
    {"<\xc3\xbcser@example.com> SMTPUTF8", M, 0, E_OK,
     "\xc3\xbcser@example.com", "example.com", F_U8L, '-'},
    {"<\xc3\xbcser@example.com> SMTPUTF8", R, 0, E_8BIT, NULL, NULL, 0, 0},
    {"<\"\xc3\xbc ser\"@example.com>", R, U8, E_OK,
     "\"\xc3\xbc ser\"@example.com", "example.com", F_U8L | F_Q, 'R'},
    /* invalid UTF-8, also under SMTPUTF8 */
    {"<\xc0\xafuser@x.org>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<\xe0\x80\xafuser@x.org>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<\xed\xa0\x80user@x.org>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<\xf4\x90\x80\x80user@x.org>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<\xffuser@x.org>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<user@x.org\xc3>", R, U8, E_UTF8, NULL, NULL, 0, 0},
    {"<us\xc2\x85"
     "er@x.org>",
     R, U8, E_CTL, NULL, NULL, 0, 0}, /* C1 control NEL */
    /* control characters anywhere */
    {"<user@exa\rmple.com>", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"<user@example.com>\r", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"<user@example.com>\n", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"<us\ter@x.org>", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"<user@x.org>\tSIZE=1", M, 0, E_CTL, NULL, NULL, 0, 0},
    {"<user\x7f@x.org>", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"<user\x1b[31m@x.org>", R, 0, E_CTL, NULL, NULL, 0, 0},
    {"user\r\nRCPT TO:<x@y>", R, 0, E_CTL, NULL, NULL, 0, 0},
    /* parameters */
    {"<user@x.org> SIZE=1000", M, 0, E_OK, "user@x.org", "x.org", 0, '-'},
    {"<user@x.org>  BODY=8BITMIME   SMTPUTF8  ", M, 0, E_OK, "user@x.org",
     "x.org", 0, '-'},
    {"<user@x.org> SIZE=", M, 0, E_PSYN, NULL, NULL, 0, 0},
    {"<user@x.org> =1000", M, 0, E_PSYN, NULL, NULL, 0, 0},
    {"<user@x.org> -SIZE=1", M, 0, E_PSYN, NULL, NULL, 0, 0},
    {"<user@x.org> SI_ZE=1", M, 0, E_PSYN, NULL, NULL, 0, 0},
    {"<user@x.org> SIZE=1=2", M, 0, E_PSYN, NULL, NULL, 0, 0},
    {"<user@x.org> SIZE=1 size=2", M, 0, E_PDUP, NULL, NULL, 0, 0},
    {"<user@x.org> NOTIFY=NEVER NOTIFY=NEVER", R, 0, E_PDUP, NULL, NULL, 0, 0},
    {"<bad..x@x.org> SIZE=", M, 0, E_SYN, NULL, NULL, 0, 0},
    {"<user@x.org> ENVID=\xc3\xbc", M, 0, E_8BIT, NULL, NULL, 0, 0},
    {"<user@x.org> SMTPUTF8 ENVID=\xc3\xbc", M, 0, E_OK, "user@x.org", "x.org",
     0, '-'},
};

static void check_case(const struct path_case *c, struct addr_path *p)
{
	enum addr_error err = (enum addr_error) - 1;
	int ret = addr_path_parse(c->in, strlen(c->in), c->kind, c->pflags,
				  NULL, p, &err);
	char name[200];

	snprintf(name, sizeof(name), "%s %.120s",
		 c->kind == M ? "MAIL" : "RCPT", c->in);
	is_int(err, c->err, name);
	is_int(ret, c->err == E_OK ? 1 : -1, "  return value");
	if (c->err != E_OK) {
		ok(p->addr.canon.len == 0 && p->nparams == 0 &&
		       p->addr.flags == 0,
		   "  nothing left behind on error");
		return;
	}
	is_str(p->addr.canon.data, c->canon, "  canonical form");
	is_str(p->addr.domain.data, c->domain, "  routing domain");
	ok(p->addr.flags == c->flags, "  flags 0x%x, want 0x%x", p->addr.flags,
	   c->flags);
	ok(addr_needs_relay_scrutiny(&p->addr) == (c->relay == 'R'),
	   "  relay scrutiny %s", c->relay == 'R' ? "required" : "not needed");
}

/* Parsing the canonical form as a bare mailbox must give it back, with
 * the same domain and local part: one address, one spelling. */
static void check_round_trip(const struct path_case *c,
			     const struct addr_path *p)
{
	struct addr a;
	enum addr_error err;
	unsigned pflags = ADDR_PARSE_SMTPUTF8 | ADDR_PARSE_UNQUALIFIED_OK;

	if (c->err != E_OK || (p->addr.flags & F_NULL))
		return;
	addr_init(&a);
	is_int(
	    addr_parse(p->addr.canon.data, p->addr.canon.len, pflags, &a, &err),
	    1, "  canonical form parses again");
	is_str(a.canon.data, p->addr.canon.data, "  ... to itself");
	is_mem(a.local.data, a.local.len, p->addr.local.data, p->addr.local.len,
	       "  ... same local part");
	is_str(a.domain.data, p->addr.domain.data, "  ... same domain");
	addr_deinit(&a);
}

static void test_table(void)
{
	struct addr_path p;

	addr_path_init(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i], &p);
		check_round_trip(&cases[i], &p);
	}
	addr_path_deinit(&p);
	ok(sizeof(cases) / sizeof(cases[0]) >= 60, "%zu table cases",
	   sizeof(cases) / sizeof(cases[0]));
}

/* Embedded NUL, CR and LF need explicit lengths. */
static void test_binary(void)
{
	static const struct {
		const char *in;
		size_t len;
	} bins[] = {
	    {"<user\0@x.org>", 13},	   {"<user@x.org\0>", 13},
	    {"<user@x.org>\0 SIZE=1", 20}, {"<user@x.org> SIZE=1\0", 20},
	    {"\0<user@x.org>", 13},	   {"<\"us\0er\"@x.org>", 15},
	};
	struct addr_path p;
	struct addr a;
	enum addr_error err;

	addr_path_init(&p);
	addr_init(&a);
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		is_int(addr_path_parse(bins[i].in, bins[i].len, R, U8, NULL, &p,
				       &err),
		       -1, "NUL refused");
		is_int(err, E_CTL, "  as a control character");
	}
	is_int(addr_parse("user\0@x.org", 11, 0, &a, &err), -1,
	       "bare mailbox with NUL");
	is_int(err, E_CTL, "  as a control character");
	/* the length is the truth: what follows it is not looked at */
	is_int(addr_path_parse("<user@x.org>\r\n", 12, R, 0, NULL, &p, &err), 1,
	       "length stops before CRLF");
	addr_deinit(&a);
	addr_path_deinit(&p);
}

static void repeat(struct str *s, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		str_putc(s, c);
}

/* "<" local "@" domain ">" with a local part of llen octets and a domain
 * of labels making dlen octets. */
static void build_path(struct str *s, size_t llen, size_t dlen)
{
	str_clear(s);
	str_putc(s, '<');
	repeat(s, 'l', llen);
	str_putc(s, '@');
	while (dlen > 0) {
		size_t n = dlen > 63 ? 63 : dlen;

		if (dlen - n == 1)
			n--; /* never leave a lone dot */
		repeat(s, 'd', n);
		dlen -= n;
		if (dlen > 0) {
			str_putc(s, '.');
			dlen--;
		}
	}
	str_putc(s, '>');
}

static int parse_str(const struct str *s, enum addr_error *err,
		     struct addr_path *p)
{
	return addr_path_parse(s->data, s->len, R, 0, NULL, p, err);
}

static void test_lengths(void)
{
	struct addr_path p;
	struct str s;
	enum addr_error err;

	addr_path_init(&p);
	str_init(&s, 300);

	build_path(&s, 64, 20);
	is_int(parse_str(&s, &err, &p), 1, "local part of 64");
	ok(!(p.addr.flags & F_LONG), "  not flagged");
	build_path(&s, 65, 20);
	is_int(parse_str(&s, &err, &p), 1, "local part of 65 accepted");
	ok(p.addr.flags & F_LONG, "  flagged long");

	build_path(&s, 64, 256 - 64 - 3);
	is_int(s.len, 256, "path of 256 octets built");
	is_int(parse_str(&s, &err, &p), 1, "path of 256 accepted");
	build_path(&s, 64, 256 - 64 - 3 + 1);
	is_int(parse_str(&s, &err, &p), -1, "path of 257 refused");
	is_int(err, E_LONG, "  as too long");
	build_path(&s, 3000, 20);
	is_int(parse_str(&s, &err, &p), -1, "path of 3000 refused");
	is_int(err, E_LONG, "  as too long");
	str_deinit(&s);
	addr_path_deinit(&p);
}

static void test_label_lengths(void)
{
	struct addr_path p;
	struct str s;
	enum addr_error err;

	addr_path_init(&p);
	str_init(&s, 300);
	str_set(&s, "<u@", 3);
	repeat(&s, 'a', 63);
	str_append_cstr(&s, ".example>");
	is_int(parse_str(&s, &err, &p), 1, "label of 63");
	str_set(&s, "<u@", 3);
	repeat(&s, 'a', 64);
	str_append_cstr(&s, ".example>");
	is_int(parse_str(&s, &err, &p), -1, "label of 64");
	is_int(err, E_DLONG, "  as domain too long");

	/* 63 code points of two octets each: a U-label counts characters */
	str_set(&s, "<u@", 3);
	for (int i = 0; i < 63; i++)
		str_append_cstr(&s, "\xc3\xbc");
	str_append_cstr(&s, ".example>");
	is_int(addr_path_parse(s.data, s.len, R, U8, NULL, &p, &err), 1,
	       "U-label of 63 code points");
	str_truncate(&s, s.len - 9);
	str_append_cstr(&s, "\xc3\xbc.example>");
	is_int(addr_path_parse(s.data, s.len, R, U8, NULL, &p, &err), -1,
	       "U-label of 64 code points");

	str_clear(&s);
	repeat(&s, 'l', 64);
	str_putc(&s, '@');
	repeat(&s, 'd', 189);
	is_int(addr_parse(s.data, s.len, 0, &p.addr, &err), -1,
	       "bare mailbox of 254 with a label of 189");
	is_int(err, E_DLONG, "  refused for the label");
	str_putc(&s, 'd');
	is_int(addr_parse(s.data, s.len, 0, &p.addr, &err), -1,
	       "bare mailbox of 255");
	is_int(err, E_LONG, "  refused as too long");
	str_deinit(&s);
	addr_path_deinit(&p);
}

static void test_params(void)
{
	struct addr_path p;
	struct str s;
	enum addr_error err;
	const struct addr_param *par;

	addr_path_init(&p);
	str_init(&s, 0);
	is_int(addr_path_parse("<a@b.example> body=8BITMIME SMTPUTF8 "
			       "Size=12",
			       44, M, 0, NULL, &p, &err),
	       1, "three parameters");
	is_int(p.nparams, 3, "  counted");
	is_str(p.params[0].keyword, "BODY", "  keyword upper-cased");
	is_str(p.params[0].value, "8BITMIME", "  value as sent");
	ok(p.params[1].value == NULL, "  SMTPUTF8 has no value");
	par = addr_path_param(&p, "size");
	ok(par != NULL && strcmp(par->value, "12") == 0,
	   "  found case-insensitively");
	ok(addr_path_param(&p, "RET") == NULL, "  absent keyword: NULL");
	str_deinit(&s);
	addr_path_deinit(&p);
}

static void test_param_limits(void)
{
	struct addr_path p;
	struct str s;
	enum addr_error err;
	struct addr_limits lim = {2, 8, 10};

	addr_path_init(&p);
	str_init(&s, 0);

	is_int(addr_path_parse("<a@b.example> A B", 17, M, 0, &lim, &p, &err),
	       1, "limit of 2 parameters: 2");
	is_int(addr_path_parse("<a@b.example> A B C", 19, M, 0, &lim, &p, &err),
	       -1, "limit of 2 parameters: 3");
	is_int(err, E_PMANY, "  too many");
	is_int(addr_path_parse("<a@b.example> KEYWORD8=0123456789", 33, M, 0,
			       &lim, &p, &err),
	       1, "keyword and value at their limits");
	is_int(addr_path_parse("<a@b.example> KEYWORD89=0", 25, M, 0, &lim, &p,
			       &err),
	       -1, "keyword over its limit");
	is_int(err, E_PLONG, "  too long");
	is_int(addr_path_parse("<a@b.example> K=0123456789A", 27, M, 0, &lim,
			       &p, &err),
	       -1, "value over its limit");
	is_int(err, E_PLONG, "  too long");

	/* defaults: 10 parameters, values of 500 octets */
	str_set(&s, "<a@b.example>", 13);
	for (int i = 0; i < 10; i++)
		str_printf(&s, " P%d=x", i);
	is_int(addr_path_parse(s.data, s.len, M, 0, NULL, &p, &err), 1,
	       "10 parameters by default");
	str_append_cstr(&s, " P10");
	is_int(addr_path_parse(s.data, s.len, M, 0, NULL, &p, &err), -1,
	       "11 parameters by default");
	is_int(err, E_PMANY, "  too many");
	str_set(&s, "<a@b.example> ENVID=", 20);
	repeat(&s, 'x', 500);
	is_int(addr_path_parse(s.data, s.len, M, 0, NULL, &p, &err), 1,
	       "ENVID of 500");
	str_putc(&s, 'x');
	is_int(addr_path_parse(s.data, s.len, M, 0, NULL, &p, &err), -1,
	       "ENVID of 501");
	is_int(err, E_PLONG, "  too long");
	/* a hostile limit is clamped to the array */
	lim.max_params = 1000;
	str_set(&s, "<a@b.example>", 13);
	for (int i = 0; i < ADDR_MAX_PARAMS + 1; i++)
		str_printf(&s, " P%d", i);
	is_int(addr_path_parse(s.data, s.len, M, 0, &lim, &p, &err), -1,
	       "max_params clamped to ADDR_MAX_PARAMS");
	str_deinit(&s);
	addr_path_deinit(&p);
}

/* SIZE= values go through num_parse_u64(): the path parser keeps them as
 * text, the number parser decides. */
static void test_size_values(void)
{
	static const struct {
		const char *value;
		int ret;
	} sizes[] = {
	    {"0", 1},
	    {"2147483647", 1},
	    {"2147483648", 1},
	    {"4294967295", 1},
	    {"4294967296", 1},
	    {"9223372036854775807", 1},
	    {"9223372036854775808", 1},
	    {"18446744073709551615", 1},
	    {"18446744073709551616", 0},
	    {"18446744073709551617", 0},
	    {"99999999999999999999999", 0},
	    {"-1", -1},
	    {"-2147483648", -1},
	    {"+100", -1},
	    {"0010", 1},
	    {"1k", -1},
	};
	struct addr_path p;
	struct str s;
	enum addr_error err;

	addr_path_init(&p);
	str_init(&s, 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const struct addr_param *par;
		uint64_t v = 0;

		str_clear(&s);
		str_printf(&s, "<a@b.example> SIZE=%s", sizes[i].value);
		is_int(addr_path_parse(s.data, s.len, M, 0, NULL, &p, &err), 1,
		       s.data);
		par = addr_path_param(&p, "SIZE");
		ok(par != NULL && strcmp(par->value, sizes[i].value) == 0,
		   "  value kept as text");
		is_int(num_parse_u64(par->value, strlen(par->value), UINT64_MAX,
				     &v),
		       sizes[i].ret, "  num_parse_u64 verdict");
	}
	str_deinit(&s);
	addr_path_deinit(&p);
}

static void test_bare(void)
{
	struct addr a;
	enum addr_error err;

	addr_init(&a);
	is_int(addr_parse("user@Example.COM", 16, 0, &a, &err), 1,
	       "bare mailbox");
	is_str(a.canon.data, "user@example.com", "  canonical");
	is_str(a.local.data, "user", "  local part");
	is_int(addr_parse("<user@example.com>", 18, 0, &a, &err), -1,
	       "brackets are not part of a bare mailbox");
	is_int(addr_parse("user", 4, 0, &a, &err), -1, "unqualified refused");
	is_int(err, E_UNQ, "  as unqualified");
	is_int(addr_parse("Postmaster", 10, 0, &a, &err), -1,
	       "Postmaster without a domain is only for RCPT");
	is_int(addr_parse("user", 4, ADDR_PARSE_UNQUALIFIED_OK, &a, &err), 1,
	       "unqualified allowed on request");
	ok(a.flags == F_UNQ, "  flagged unqualified");
	is_str(a.canon.data, "user", "  canonical is the local part");
	ok(addr_needs_relay_scrutiny(&a), "  never relayed as is");
	is_int(addr_parse("\"a b\"", 5, ADDR_PARSE_UNQUALIFIED_OK, &a, &err), 1,
	       "quoted unqualified");
	is_str(a.local.data, "a b", "  decoded local part");
	is_int(addr_parse("", 0, 0, &a, &err), -1, "empty mailbox");
	is_int(err, E_SYN, "  syntax error");
	is_int(addr_parse("us er@x.org", 11, 0, &a, &err), -1,
	       "space in a bare local part");
	ok(a.canon.len == 0 && a.flags == 0, "  cleared on error");
	addr_deinit(&a);
}

static void test_replies(void)
{
	const char *status;

	is_int(addr_error_reply(E_SYN, M, &status), 501, "syntax MAIL code");
	is_str(status, "5.1.7", "  status");
	is_str(addr_error_text(E_SYN, M), "Bad sender address syntax",
	       "  text");
	is_int(addr_error_reply(E_SYN, R, &status), 501, "syntax RCPT code");
	is_str(status, "5.1.3", "  status");
	is_str(addr_error_text(E_SYN, R), "Bad recipient address syntax",
	       "  text");
	is_int(addr_error_reply(E_BRK, M, &status), 501, "no brackets");
	is_str(status, "5.5.4", "  status");
	is_int(addr_error_reply(E_CTL, R, &status), 501, "control character");
	is_str(status, "5.5.2", "  status");
	is_int(addr_error_reply(E_LONG, R, &status), 501, "path too long");
	is_str(status, "5.5.2", "  status");
	is_str(addr_error_text(E_LONG, R), "Path too long", "  text");
	is_int(addr_error_reply(E_8BIT, R, &status), 553, "non-ASCII");
	is_str(status, "5.6.7", "  status");
	is_int(addr_error_reply(E_PDUP, M, &status), 555, "parameter error");
	is_str(status, "5.5.4", "  status");
	is_int(addr_error_reply(E_DOM, R, &status), 501, "domain error RCPT");
	is_str(status, "5.1.3", "  status");
	is_int(addr_error_reply(E_NULL, R, &status), 501, "null recipient");
	is_str(status, "5.1.3", "  status");
	for (int e = E_SYN; e <= E_PDUP; e++) {
		int code = addr_error_reply((enum addr_error)e, R, &status);

		ok(code >= 500 && code < 600 && status[0] == '5' &&
		       addr_error_text((enum addr_error)e, R)[0] != '\0',
		   "error %d maps to a 5xx reply with a text", e);
	}
	is_int(addr_error_reply((enum addr_error)999, R, &status), 501,
	       "unknown error value is a syntax error");
}

static void test_reasons(void)
{
	struct addr_path p;
	enum addr_error err;

	addr_path_init(&p);
	addr_path_parse("<a%b@c.example>", 15, R, 0, NULL, &p, &err);
	is_str(addr_relay_scrutiny_reason(&p.addr),
	       "percent hack in local part", "percent reason");
	addr_path_parse("<@x.example:a!b@c.example>", 26, R, 0, NULL, &p, &err);
	is_str(addr_relay_scrutiny_reason(&p.addr), "source route",
	       "source route named first");
	addr_path_parse("<a@c.example>", 13, R, 0, NULL, &p, &err);
	ok(addr_relay_scrutiny_reason(&p.addr) == NULL, "plain: no reason");
	addr_path_deinit(&p);
}

static void test_xtext(void)
{
	struct str out;
	const char *error;

	str_init(&out, 0);
	is_int(addr_xtext_decode("rfc822;user+40example.com", 25, &out, &error),
	       1, "xtext decode");
	is_str(out.data, "rfc822;user@example.com", "  +40 is @");
	str_clear(&out);
	is_int(addr_xtext_decode("a+2Bb+3d", 8, &out, &error), 1,
	       "lower-case hex tolerated");
	is_str(out.data, "a+b=", "  decoded");
	static const char *const bad[] = {"a+4",      "a+",	"+ZZ", "a=b",
					  "a b",      "+0D+0A", "+00", "+7F",
					  "\xc3\xbc", "+1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		str_clear(&out);
		is_int(addr_xtext_decode(bad[i], strlen(bad[i]), &out, &error),
		       -1, bad[i]);
	}
	str_clear(&out);
	addr_xtext_encode("a+b=c d\xff\r", 9, &out);
	is_str(out.data, "a+2Bb+3Dc+20d+FF+0D", "xtext encode");
	str_clear(&out);
	addr_xtext_encode("plain;x@y", 9, &out);
	is_str(out.data, "plain;x@y", "  printable kept");
	str_deinit(&out);
}

static void test_utf8(void)
{
	ok(addr_utf8_valid("abc", 3), "ASCII");
	ok(addr_utf8_valid("\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 9),
	   "2, 3 and 4 octets");
	ok(addr_utf8_valid("\xf4\x8f\xbf\xbf", 4), "U+10FFFF");
	ok(!addr_utf8_valid("\xf4\x90\x80\x80", 4), "U+110000");
	ok(!addr_utf8_valid("\xc1\xbf", 2), "overlong 2");
	ok(!addr_utf8_valid("\xe0\x9f\xbf", 3), "overlong 3");
	ok(!addr_utf8_valid("\xf0\x8f\xbf\xbf", 4), "overlong 4");
	ok(!addr_utf8_valid("\xed\xbf\xbf", 3), "surrogate");
	ok(!addr_utf8_valid("\x80", 1), "lone continuation");
	ok(!addr_utf8_valid("\xe2\x82", 2), "cut short");
	ok(!addr_utf8_valid("\xe2\x28\xa1", 3), "bad continuation");
	ok(!addr_utf8_valid("\xfe", 1), "0xFE");
}

int main(void)
{
	test_table();
	test_binary();
	test_lengths();
	test_label_lengths();
	test_params();
	test_param_limits();
	test_size_values();
	test_bare();
	test_replies();
	test_reasons();
	test_xtext();
	test_utf8();
	return tap_done();
}
