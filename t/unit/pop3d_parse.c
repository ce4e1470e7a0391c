/* t/unit/pop3d_parse.c: tests for pop3d/parse.c: command line splitting
 * (keywords, arguments, PASS with spaces, NUL and control bytes), message
 * numbers at the edges of 32 and 64 bits, and the RETR/TOP conversion
 * (LF and CRLF input, dot-stuffing, a missing final newline, TOP's line
 * count) fed whole and one byte at a time. */
#include "config.h"

#include <string.h>

#include "parse.h"
#include "tap.h"

static void parse_case(const char *line, size_t len, int want, const char *verb,
		       size_t argc, const char *arg0)
{
	struct pop3_cmd cmd;
	const char *err = NULL;
	int r = pop3_cmd_parse(line, len, &cmd, &err);

	is_int(r, want, line);
	if (r < 0) {
		ok(err != NULL && err[0] != '\0', "error text for %s", line);
		return;
	}
	is_str(cmd.verb, verb, line);
	is_int(cmd.argc, argc, line);
	if (arg0 != NULL && cmd.argc > 0)
		is_mem(cmd.args[0], cmd.arg_lens[0], arg0, strlen(arg0), line);
}

static void test_parse(void)
{
	struct pop3_cmd cmd;
	const char *err;
	static const char pass[] = "PASS  my secret\tpw ";
	static const char nul[] = "USER a\0b";
	static const char nul_pass[] = "PASS a\0b";

	parse_case("STAT", 4, 1, "STAT", 0, NULL);
	parse_case("stat", 4, 1, "STAT", 0, NULL);
	parse_case("top 1 10", 8, 1, "TOP", 2, "1");
	parse_case("LIST  3 ", 8, 1, "LIST", 1, "3");
	parse_case("UIDL 1 2 3", 10, 1, "UIDL", 3, "1");
	parse_case("USER alice@localhost", 20, 1, "USER", 1, "alice@localhost");
	parse_case("", 0, -1, NULL, 0, NULL);
	parse_case("ST", 2, -1, NULL, 0, NULL);
	parse_case("STATS", 5, -1, NULL, 0, NULL);
	parse_case("ST4T", 4, -1, NULL, 0, NULL);
	parse_case(" STAT", 5, -1, NULL, 0, NULL);
	parse_case("STAT\t1", 6, -1, NULL, 0, NULL);
	parse_case("LIST 1\x01", 7, -1, NULL, 0, NULL);
	parse_case("LIST 1\x7f", 7, -1, NULL, 0, NULL);
	parse_case(nul, sizeof(nul) - 1, -1, NULL, 0, NULL);
	parse_case(nul_pass, sizeof(nul_pass) - 1, -1, NULL, 0, NULL);
	parse_case("N\xc3\x96OP", 5, -1, NULL, 0, NULL);

	is_int(pop3_cmd_parse(pass, sizeof(pass) - 1, &cmd, &err), 1,
	       "PASS with spaces and a tab");
	is_mem(cmd.rest, cmd.rest_len, " my secret\tpw ", 14,
	       "PASS keeps the whole rest of the line");
	is_int(pop3_cmd_parse("QUIT", 4, &cmd, &err), 1, "QUIT");
	is_int(cmd.rest_len, 0, "no rest");
	ok(cmd.rest != NULL, "rest is never NULL");
	is_int(pop3_cmd_parse(nul, sizeof(nul) - 1, &cmd, &err), -1, "NUL");
	is_str(err, "NUL in command", "NUL named");
	is_int(pop3_cmd_parse("\0STAT", 5, &cmd, &err), -1, "leading NUL");
	is_str(err, "NUL in command", "leading NUL named");
}

static void test_numbers(void)
{
	static const struct {
		const char *in;
		uint64_t max;
		int ret;
		uint64_t n;
	} cases[] = {
	    {"1", UINT32_MAX, 1, 1},
	    {"0", UINT32_MAX, 1, 0},
	    {"007", UINT32_MAX, 1, 7},
	    {"4294967295", UINT32_MAX, 1, 4294967295u},
	    {"4294967296", UINT32_MAX, 0, 0},
	    {"18446744073709551615", UINT64_MAX, 1, UINT64_MAX},
	    {"18446744073709551616", UINT64_MAX, 0, 0},
	    {"99999999999999999999999999999", UINT64_MAX, 0, 0},
	    {"", UINT32_MAX, -1, 0},
	    {"-1", UINT32_MAX, -1, 0},
	    {"+1", UINT32_MAX, -1, 0},
	    {"1x", UINT32_MAX, -1, 0},
	    {"0x10", UINT32_MAX, -1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		uint64_t n = 12345;
		int r = pop3_parse_number(cases[i].in, strlen(cases[i].in),
					  cases[i].max, &n);

		is_int(r, cases[i].ret, cases[i].in);
		if (r == 1)
			ok(n == cases[i].n, "value of %s", cases[i].in);
	}
}

/* The conversion fed whole, and one byte at a time: both must give want. */
static void convert_case(const char *in, bool top, uint64_t lines,
			 const char *want, const char *name)
{
	struct pop3_msgout o;
	struct str out;
	size_t len = strlen(in), used = 0;

	str_init(&out, 64);
	pop3_msgout_init(&o, top, lines);
	used = pop3_msgout_add(&o, in, len, &out);
	pop3_msgout_finish(&o, &out);
	is_mem(out.data, out.len, want, strlen(want), name);
	ok(used == len || (top && o.done), "%s: input consumed", name);

	str_clear(&out);
	pop3_msgout_init(&o, top, lines);
	for (size_t i = 0; i < len && !o.done; i++)
		pop3_msgout_add(&o, in + i, 1, &out);
	pop3_msgout_finish(&o, &out);
	is_mem(out.data, out.len, want, strlen(want), name);
	str_deinit(&out);
}

static void test_convert(void)
{
	convert_case("Subject: x\n\nbody\n", false, 0,
		     "Subject: x\r\n\r\nbody\r\n.\r\n", "LF to CRLF");
	convert_case("Subject: x\r\n\r\nbody\r\n", false, 0,
		     "Subject: x\r\n\r\nbody\r\n.\r\n", "CRLF kept");
	convert_case("A: b\n\n.\n..x\n.", false, 0,
		     "A: b\r\n\r\n..\r\n...x\r\n..\r\n.\r\n",
		     "dot-stuffing, also on a last line without newline");
	convert_case("A: b\n\nno newline", false, 0,
		     "A: b\r\n\r\nno newline\r\n.\r\n", "final CRLF added");
	convert_case("A: b\n\nx\ry\n", false, 0, "A: b\r\n\r\nx\ry\r\n.\r\n",
		     "lone CR stays data");
	convert_case("A: b\n\nends in CR\r", false, 0,
		     "A: b\r\n\r\nends in CR\r\n.\r\n", "a final CR gets LF");
	convert_case("", false, 0, ".\r\n", "empty message");
	convert_case("A: b\nC: d\n\n1\n2\n3\n", true, 0,
		     "A: b\r\nC: d\r\n\r\n.\r\n", "TOP 0: header only");
	convert_case("A: b\nC: d\n\n1\n2\n3\n", true, 2,
		     "A: b\r\nC: d\r\n\r\n1\r\n2\r\n.\r\n", "TOP 2");
	convert_case("A: b\r\n\r\n1\r\n.2\r\n3\r\n", true, 2,
		     "A: b\r\n\r\n1\r\n..2\r\n.\r\n", "TOP 2, CRLF, stuffed");
	convert_case("A: b\n\n1\n", true, 99, "A: b\r\n\r\n1\r\n.\r\n",
		     "TOP past the end");
	convert_case("A: b\nC: d\n", true, 5, "A: b\r\nC: d\r\n.\r\n",
		     "TOP without a body");
	convert_case("A: b\n\r\n1\n2\n", true, 1, "A: b\r\n\r\n1\r\n.\r\n",
		     "TOP: a CRLF blank line after LF lines");
}

int main(void)
{
	test_parse();
	test_numbers();
	test_convert();
	return tap_done();
}
