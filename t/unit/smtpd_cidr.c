/* t/unit/smtpd_cidr.c: tests for smtpd/cidr.c (mynetworks): IPv4 and IPv6
 * networks, bracketed forms, host bits, bad masks, IPv4-mapped clients. */
#include "config.h"

#include <stddef.h>

#include "cidr.h"
#include "tap.h"

static struct cidr_list *parse(const char *const *items)
{
	struct cidr_list *l = NULL;
	const char *err;

	if (cidr_list_parse(items, &l, &err) < 0)
		tap_diag("%s", err);
	return l;
}

static void test_match(void)
{
	static const char *const items[] = {
	    "127.0.0.1/32",  "[::1]/128",    "10.0.0.0/8", "192.0.2.128/25",
	    "2001:db8::/32", "198.51.100.7", NULL};
	struct cidr_list *l = parse(items);

	ok(l != NULL, "list parsed");
	ok(cidr_list_match(l, "127.0.0.1"), "127.0.0.1 in");
	ok(!cidr_list_match(l, "127.0.0.2"), "127.0.0.2 not in (not /8)");
	ok(cidr_list_match(l, "::1"), "::1 in");
	ok(!cidr_list_match(l, "::2"), "::2 not in");
	ok(cidr_list_match(l, "10.255.1.1"), "10/8");
	ok(!cidr_list_match(l, "11.0.0.1"), "11.0.0.1 not in");
	ok(cidr_list_match(l, "192.0.2.200"), "/25 upper half");
	ok(!cidr_list_match(l, "192.0.2.127"), "/25 lower half not in");
	ok(cidr_list_match(l, "2001:db8:ffff::1"), "2001:db8::/32");
	ok(!cidr_list_match(l, "2001:db9::1"), "2001:db9:: not in");
	ok(cidr_list_match(l, "198.51.100.7"), "bare address = /32");
	ok(!cidr_list_match(l, "198.51.100.8"), "bare address only");
	ok(cidr_list_match(l, "::ffff:127.0.0.1"), "IPv4-mapped client");
	ok(!cidr_list_match(l, "unknown"), "junk matches nothing");
	ok(!cidr_list_match(l, ""), "empty matches nothing");
	cidr_list_free(&l);
	ok(l == NULL, "freed");
}

static void test_bad(void)
{
	static const char *const bad[] = {
	    "10.1.2.3/8", "1.2.3.4/33", "foo",	    "[::1]/129", "1.2.3.4/-1",
	    "1.2.3.4/",	  "/8",		"1.2.3/24", "[1.2.3.4",	 "::1/1x"};
	static const char *const all[] = {"0.0.0.0/0", NULL};
	struct cidr_list *l = NULL;
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *items[] = {bad[i], NULL};

		is_int(cidr_list_parse(items, &l, &err), -1, bad[i]);
	}
	l = parse(all);
	ok(cidr_list_match(l, "203.0.113.9"), "0/0 matches any IPv4");
	ok(!cidr_list_match(l, "2001:db8::1"), "but no IPv6");
	cidr_list_free(&l);
}

int main(void)
{
	test_match();
	test_bad();
	return tap_done();
}
