/* t/unit/pickup_content.c: tests for pickup/content.c: the CRLF-only
 * check (bare CR, bare LF, NUL, split across pieces) and the header scan
 * that decides which headers pickup adds and where the header ends. */
#include "config.h"

#include <string.h>

#include "content.h"
#include "tap.h"

static int check(const char *s, size_t len, size_t piece)
{
	struct pickup_crlf c;
	const char *err;

	pickup_crlf_init(&c);
	for (size_t i = 0; i < len; i += piece)
		if (pickup_crlf_check(
			&c, s + i, len - i < piece ? len - i : piece, &err) < 0)
			return -1;
	return pickup_crlf_finish(&c, &err);
}

static void test_crlf(void)
{
	static const struct {
		const char *s;
		int want;
		const char *name;
	} cases[] = {
	    {"a\r\nb\r\n", 1, "CRLF lines"}, {"", 1, "empty"},
	    {"a\nb\r\n", -1, "bare LF"},     {"a\rb\r\n", -1, "bare CR"},
	    {"a\r\nb", -1, "no final CRLF"}, {"a\r", -1, "ends in CR"},
	    {"\r\n\r\n", 1, "empty lines"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].s);
		is_int(check(cases[i].s, len, 1), cases[i].want, cases[i].name);
		is_int(check(cases[i].s, len, 64), cases[i].want,
		       "  ... in one piece");
	}
	is_int(check("a\0\r\n", 4, 64), -1, "NUL");
}

static void test_headers(void)
{
	struct pickup_headers h;
	static const char full[] = "From: a@x\r\nDate: today\r\n"
				   "Message-Id: <1@x>\r\nX: y\r\n z\r\n"
				   "\r\nbody\r\n";
	static const char none[] = "hi\r\n";
	static const char nobody[] = "Subject: s\r\n";
	static const char cont[] = " folded\r\nx\r\n";
	static const char partial[] = "Subject: s\r\nX-Long: abc";

	pickup_headers_scan(full, sizeof(full) - 1, &h);
	ok(h.has_from && h.has_date && h.has_message_id,
	   "From, Date, Message-ID (any case) found");
	ok(h.blank_line && !h.needs_blank, "ends with the empty line");
	is_int(h.end, strstr(full, "\r\n\r\n") + 2 - full, "end offset");
	pickup_headers_scan(none, sizeof(none) - 1, &h);
	ok(!h.has_from && !h.has_date && !h.has_message_id, "no headers");
	ok(h.needs_blank && h.end == 0, "body at once: needs an empty line");
	pickup_headers_scan(nobody, sizeof(nobody) - 1, &h);
	ok(!h.needs_blank && h.end == sizeof(nobody) - 1,
	   "header only, no body");
	pickup_headers_scan(cont, sizeof(cont) - 1, &h);
	ok(h.needs_blank && h.end == 0, "a leading continuation is body");
	pickup_headers_scan(partial, sizeof(partial) - 1, &h);
	is_int(h.end, 12, "a cut-off line is not part of the header");
	pickup_headers_scan("Date : x\r\n\r\n", 12, &h);
	ok(!h.has_date && h.needs_blank, "\"Date :\" is no header field");
}

int main(void)
{
	test_crlf();
	test_headers();
	return tap_done();
}
