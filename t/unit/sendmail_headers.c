/* t/unit/sendmail_headers.c: tests for cli/sendmail_headers.c: qualifying
 * addresses with $myorigin, RFC 5322 address lists (display names,
 * comments, quotes, groups), and the -t scan with Bcc: removal. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "sendmail_headers.h"
#include "tap.h"

static void qualify_case(const char *in, bool null_ok, int want_r,
			 const char *want)
{
	struct str s;
	const char *err = NULL;
	int r;

	str_init(&s, 0);
	r = sendmail_qualify(in, strlen(in), "example.org", null_ok, &s, &err);
	is_int(r, want_r, in);
	if (r > 0)
		is_str(s.data, want, "  canonical form");
	str_deinit(&s);
}

static void test_qualify(void)
{
	qualify_case("bob", false, 1, "bob@example.org");
	qualify_case("bob@Example.NET", false, 1, "bob@example.net");
	qualify_case("<bob@x.test>", false, 1, "bob@x.test");
	qualify_case("\"b o\"@x.test", false, 1, "\"b o\"@x.test");
	qualify_case("<>", true, 1, "");
	qualify_case("", true, 1, "");
	qualify_case("", false, -1, "");
	qualify_case("a@b@c", false, -1, "");
	qualify_case("a\tb@x.test", false, -1, "");
	qualify_case("a@-bad-.test", false, -1, "");
}

/* The addresses of one list, joined with spaces. */
static int list(const char *value, char *out, size_t size)
{
	struct drop_envelope env = {0};
	const char *err = NULL;
	int r = sendmail_address_list(value, strlen(value), "example.org", &env,
				      &err);

	out[0] = '\0';
	for (size_t i = 0; i < env.rcpt_count; i++) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", i > 0 ? " " : "",
			 env.rcpts[i]);
	}
	drop_envelope_free(&env);
	return r;
}

static void test_lists(void)
{
	char got[512];

	is_int(list(" a@x.test, b@y.test", got, sizeof(got)), 2, "two");
	is_str(got, "a@x.test b@y.test", "  plain list");
	list("\"Doe, John\" <john@x.test>, Jane (the boss, really) "
	     "<jane@y.test>",
	     got, sizeof(got));
	is_str(got, "john@x.test jane@y.test", "display names with commas");
	list("bob (Bob Smith), carol@z.test (C)", got, sizeof(got));
	is_str(got, "bob@example.org carol@z.test", "comments, qualified");
	list("friends: a@x.test, b@x.test;, c@x.test", got, sizeof(got));
	is_str(got, "a@x.test b@x.test c@x.test", "a group");
	is_int(list("undisclosed-recipients:;", got, sizeof(got)), 0,
	       "empty group");
	is_int(list("<a@x.test", got, sizeof(got)), -1, "unclosed bracket");
	is_int(list("a@x.test b@x.test", got, sizeof(got)), -1,
	       "two addresses without a comma");
	is_int(list("\"unterminated", got, sizeof(got)), -1,
	       "unterminated quote");
	is_int(list("(a@x.test", got, sizeof(got)), -1, "unterminated comment");
	is_int(list("x@y.test\\", got, sizeof(got)), -1, "trailing backslash");
}

static void test_scan(void)
{
	static const char head[] = "From: me\r\n"
				   "To: a@x.test,\r\n"
				   "\tb@x.test\r\n"
				   "Bcc: secret@x.test\r\n"
				   "  , hidden@x.test\r\n"
				   "cc: c@x.test\n"
				   "Subject: to: not@x.test\r\n";
	struct drop_envelope env = {0};
	struct str kept;
	const char *err = NULL;

	str_init(&kept, 0);
	is_int(sendmail_header_scan(head, sizeof(head) - 1, true, true,
				    "example.org", &env, &kept, &err),
	       1, "scan");
	is_int(env.rcpt_count, 5, "five recipients");
	if (env.rcpt_count == 5) {
		is_str(env.rcpts[1], "b@x.test", "folded To: line");
		is_str(env.rcpts[3], "hidden@x.test", "folded Bcc: line");
		is_str(env.rcpts[4], "c@x.test", "lower-case cc:, LF line");
	}
	is_str(kept.data,
	       "From: me\r\nTo: a@x.test,\r\n\tb@x.test\r\n"
	       "cc: c@x.test\nSubject: to: not@x.test\r\n",
	       "Bcc: and its continuation removed, the rest as is");
	drop_envelope_free(&env);
	str_clear(&kept);
	is_int(sendmail_header_scan("To: a@@b\r\n", 10, true, true, "o.test",
				    &env, &kept, &err),
	       -1, "bad address is an error");
	ok(err != NULL && strstr(err, "To") != NULL,
	   "error names the field: %s", err ? err : "");
	drop_envelope_free(&env);
	str_clear(&kept);
	is_int(sendmail_header_scan("Bcc: a@x.test\r\n", 15, false, false,
				    "o.test", &env, &kept, &err),
	       1, "without -t");
	ok(env.rcpt_count == 0 && strstr(kept.data, "Bcc") != NULL,
	   "without -t nothing is extracted or removed");
	drop_envelope_free(&env);
	str_deinit(&kept);
	ok(sendmail_is_header_start("X-A: b", 6), "header start");
	ok(!sendmail_is_header_start("hello world", 11), "not a header");
	ok(!sendmail_is_header_start(": x", 3), "empty name");
}

int main(void)
{
	test_qualify();
	test_lists();
	test_scan();
	return tap_done();
}
