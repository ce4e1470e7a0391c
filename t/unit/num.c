/* t/unit/num.c: tests for lib/num.c: the strict decimal parser used for
 * every number read from the network, at 2^31, 2^32, 2^63, 2^64 and their
 * neighbours, with signs, spaces, leading zeros and NUL bytes. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "num.h"
#include "str.h"
#include "tap.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

struct num_case {
	const char *in;
	uint64_t max;
	int ret;
	uint64_t value; /* when ret == 1 */
};

static const struct num_case cases[] = {
    {"0", UINT64_MAX, 1, 0},
    {"1", UINT64_MAX, 1, 1},
    {"007", UINT64_MAX, 1, 7},
    {"00", UINT64_MAX, 1, 0},
    {"", UINT64_MAX, -1, 0},
    {"-1", UINT64_MAX, -1, 0},
    {"-0", UINT64_MAX, -1, 0},
    {"+1", UINT64_MAX, -1, 0},
    {" 1", UINT64_MAX, -1, 0},
    {"1 ", UINT64_MAX, -1, 0},
    {"0x10", UINT64_MAX, -1, 0},
    {"1e3", UINT64_MAX, -1, 0},
    {"1.0", UINT64_MAX, -1, 0},
    {"1,000", UINT64_MAX, -1, 0},
    {"\xd9\xa1", UINT64_MAX, -1, 0}, /* ARABIC-INDIC DIGIT ONE */
    /* 2^31 and neighbours, against INT32_MAX */
    {"2147483647", INT32_MAX, 1, 2147483647},
    {"2147483648", INT32_MAX, 0, 0},
    {"2147483649", INT32_MAX, 0, 0},
    {"-2147483648", INT32_MAX, -1, 0},
    {"2147483648", UINT64_MAX, 1, 2147483648ULL},
    /* 2^32 and neighbours, against UINT32_MAX */
    {"4294967295", UINT32_MAX, 1, 4294967295ULL},
    {"4294967296", UINT32_MAX, 0, 0},
    {"4294967297", UINT32_MAX, 0, 0},
    {"4294967296", UINT64_MAX, 1, 4294967296ULL},
    {"-4294967296", UINT64_MAX, -1, 0},
    /* 2^63 and neighbours, against INT64_MAX */
    {"9223372036854775807", INT64_MAX, 1, 9223372036854775807ULL},
    {"9223372036854775808", INT64_MAX, 0, 0},
    {"9223372036854775809", INT64_MAX, 0, 0},
    {"9223372036854775808", UINT64_MAX, 1, 9223372036854775808ULL},
    {"-9223372036854775808", UINT64_MAX, -1, 0},
    /* 2^64 and neighbours: wrap-around must not happen */
    {"18446744073709551615", UINT64_MAX, 1, UINT64_MAX},
    {"18446744073709551616", UINT64_MAX, 0, 0},
    {"18446744073709551617", UINT64_MAX, 0, 0},
    {"18446744073709551625", UINT64_MAX, 0, 0},
    {"36893488147419103232", UINT64_MAX, 0, 0}, /* 2^65 */
    {"99999999999999999999999999999999", UINT64_MAX, 0, 0},
    {"99999999999999999999999999999999x", UINT64_MAX, -1, 0},
    {"0018446744073709551615", UINT64_MAX, 1, UINT64_MAX},
    /* the limit itself */
    {"100", 100, 1, 100},
    {"101", 100, 0, 0},
    {"0", 0, 1, 0},
    {"1", 0, 0, 0},
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct num_case *c = &cases[i];
		uint64_t v = SENTINEL;
		int ret = num_parse_u64(c->in, strlen(c->in), c->max, &v);

		is_int(ret, c->ret, c->in);
		if (c->ret == 1)
			ok(v == c->value, "%s: value %llu", c->in,
			   (unsigned long long)v);
		else
			ok(v == SENTINEL, "%s: value_r untouched", c->in);
	}
}

static void test_bounds(void)
{
	uint64_t v = SENTINEL;
	struct str zeros;

	/* the length is the truth: no reading past it, NUL is not a digit */
	is_int(num_parse_u64("12345", 2, UINT64_MAX, &v), 1, "prefix of 2");
	ok(v == 12, "prefix value 12");
	is_int(num_parse_u64("1\0002", 3, UINT64_MAX, &v), -1, "NUL inside");
	is_int(num_parse_u64("1", 0, UINT64_MAX, &v), -1, "length 0");

	/* a long run of leading zeros is still a small number */
	str_init(&zeros, 0);
	for (int i = 0; i < 10000; i++)
		str_putc(&zeros, '0');
	str_putc(&zeros, '7');
	v = SENTINEL;
	is_int(num_parse_u64(zeros.data, zeros.len, 10, &v), 1,
	       "10000 leading zeros");
	ok(v == 7, "leading zeros value 7");
	str_deinit(&zeros);
}

static void test_strict(void)
{
	uint64_t v = SENTINEL;

	is_int(num_parse_u64_strict("0", 1, UINT64_MAX, &v), 1, "strict 0");
	ok(v == 0, "strict 0 value");
	is_int(num_parse_u64_strict("10", 2, UINT64_MAX, &v), 1, "strict 10");
	is_int(num_parse_u64_strict("007", 3, UINT64_MAX, &v), -1,
	       "strict refuses leading zero");
	is_int(num_parse_u64_strict("00", 2, UINT64_MAX, &v), -1,
	       "strict refuses 00");
	is_int(num_parse_u64_strict("-1", 2, UINT64_MAX, &v), -1,
	       "strict refuses sign");
	is_int(num_parse_u64_strict("18446744073709551616", 20, UINT64_MAX, &v),
	       0, "strict 2^64 is too big, not a syntax error");
	ok(v == 10, "value_r kept from the last success");
}

int main(void)
{
	test_table();
	test_bounds();
	test_strict();
	return tap_done();
}
