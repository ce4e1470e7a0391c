/* t/unit/smtpd_parse.c: tests for lib/smtp_parse.c: command verb splitting,
 * NOTIFY and ORCPT values, and BDAT counts at 2^31, 2^32, 2^63, 2^64 and
 * their neighbours, with signs, spaces and leading zeros. */
#include "config.h"

#include <string.h>

#include "queue_file.h"
#include "smtp_parse.h"
#include "tap.h"

static void split_case(const char *line, size_t want_verb, const char *want_arg)
{
	const char *arg = NULL;
	size_t alen = 0;
	size_t v = smtpd_command_split(line, strlen(line), &arg, &alen);

	is_int(v, want_verb, line);
	if (v > 0 && want_arg != NULL)
		tap_is_mem(arg, alen, want_arg, strlen(want_arg), __FILE__,
			   __LINE__, line);
}

static void test_split(void)
{
	split_case("NOOP", 4, "");
	split_case("noop", 4, "");
	split_case("MAIL FROM:<a@b>", 4, "FROM:<a@b>");
	split_case("MAIL  FROM:<a@b>", 4, " FROM:<a@b>");
	split_case("STARTTLS", 8, "");
	split_case("MAIL:FROM", 0, NULL);
	split_case("", 0, NULL);
	split_case(" NOOP", 0, NULL);
	split_case("NO0P", 0, NULL);
	split_case("ABCDEFGHIJKLMNOP", 0, NULL);
	split_case("ABCDEFGHIJKLMNO", 15, "");
	split_case("N\xc3\x96OP", 0, NULL);
}

static void test_notify(void)
{
	static const struct {
		const char *in;
		int ret;
		unsigned bits;
	} cases[] = {
	    {"NEVER", 1, QUEUE_NOTIFY_NEVER},
	    {"success", 1, QUEUE_NOTIFY_SUCCESS},
	    {"SUCCESS,FAILURE,DELAY", 1,
	     QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY},
	    {"NEVER,SUCCESS", -1, 0},
	    {"SUCCESS,SUCCESS", -1, 0},
	    {"", -1, 0},
	    {",", -1, 0},
	    {"SUCCESS,", -1, 0},
	    {"SOMETIMES", -1, 0},
	    {"SUCCESS FAILURE", -1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		unsigned bits = 0xdead;
		int r = smtpd_parse_notify(cases[i].in, &bits);

		is_int(r, cases[i].ret, cases[i].in);
		if (r == 1)
			is_int(bits, cases[i].bits, cases[i].in);
	}
}

static void test_orcpt(void)
{
	is_int(smtpd_check_orcpt("rfc822;a+40b.example"), 1, "ORCPT ok");
	is_int(smtpd_check_orcpt("x-local;abc"), 1, "ORCPT other type");
	is_int(smtpd_check_orcpt("rfc822"), -1, "ORCPT without ;");
	is_int(smtpd_check_orcpt(";abc"), -1, "ORCPT without type");
	is_int(smtpd_check_orcpt("rfc822;"), -1, "ORCPT empty address");
	is_int(smtpd_check_orcpt("rfc 822;a"), -1, "ORCPT space in type");
	is_int(smtpd_check_orcpt("rfc822;a+0Ab"), -1,
	       "ORCPT decoded control character");
	is_int(smtpd_check_orcpt("rfc822;a+zz"), -1, "ORCPT bad xtext");
}

static void bdat_case(const char *arg, int want, uint64_t want_size,
		      bool want_last)
{
	uint64_t size = 12345;
	bool last = false;
	int r = smtpd_parse_bdat(arg, strlen(arg), &size, &last);

	is_int(r, want, arg);
	if (r == 1 && want == 1) {
		ok(size == want_size, "%s: size", arg);
		ok(last == want_last, "%s: LAST", arg);
	}
}

static void test_bdat(void)
{
	bdat_case("0", 1, 0, false);
	bdat_case("0 LAST", 1, 0, true);
	bdat_case("10 last", 1, 10, true);
	bdat_case("007", 1, 7, false);
	bdat_case("2147483647", 1, 2147483647ULL, false);
	bdat_case("2147483648", 1, 2147483648ULL, false);
	bdat_case("4294967295", 1, 4294967295ULL, false);
	bdat_case("4294967296", 1, 4294967296ULL, false);
	bdat_case("9223372036854775807", 1, 9223372036854775807ULL, false);
	bdat_case("9223372036854775808", 1, 9223372036854775808ULL, false);
	bdat_case("18446744073709551615", 1, UINT64_MAX, false);
	bdat_case("18446744073709551616", 0, 0, false);
	bdat_case("99999999999999999999999999", 0, 0, false);
	bdat_case("-1", -1, 0, false);
	bdat_case("+1", -1, 0, false);
	bdat_case("", -1, 0, false);
	bdat_case(" 1", -1, 0, false);
	bdat_case("1 ", -1, 0, false);
	bdat_case("1  LAST", -1, 0, false);
	bdat_case("1 LAST ", -1, 0, false);
	bdat_case("1 LASTX", -1, 0, false);
	bdat_case("1 FIRST", -1, 0, false);
	bdat_case("0x10", -1, 0, false);
}

int main(void)
{
	test_split();
	test_notify();
	test_orcpt();
	test_bdat();
	return tap_done();
}
