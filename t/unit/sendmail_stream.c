/* t/unit/sendmail_stream.c: tests for cli/sendmail_stream.c: the envelope
 * round trip, every truncation needing more input, hostile records refused,
 * content record heads, and the line-end filter fed a byte at a time. */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "queue_file.h"
#include "sendmail_stream.h"
#include "tap.h"

static void make_env(struct drop_envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->sender = mem_strdup("alice@example.org");
	env->full_name = mem_strdup("Alice \"A\" Liddell");
	env->envid = mem_strdup("QQ+2B1");
	env->notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	env->ret = QUEUE_RET_HDRS;
	drop_envelope_add_rcpt(env, "bob@example.net");
	drop_envelope_add_rcpt(env, "carol@example.com");
}

static void test_round_trip(void)
{
	struct drop_envelope env, got;
	struct str s;
	const char *err = NULL;
	size_t used = 0;
	int r;

	make_env(&env);
	str_init(&s, 0);
	is_int(drop_envelope_encode(&env, &s, &err), 1, "encode");
	str_append(&s, "C", 1);
	r = drop_envelope_parse(s.data, s.len, &got, &used, &err);
	is_int(r, 1, "parse");
	is_int(used, s.len - 1, "consumed the envelope only");
	is_str(got.sender, "alice@example.org", "sender");
	is_str(got.full_name, "Alice \"A\" Liddell", "full name");
	is_str(got.envid, "QQ+2B1", "envid");
	is_int(got.notify, 10, "notify");
	is_int(got.ret, QUEUE_RET_HDRS, "ret");
	is_int(got.rcpt_count, 2, "two recipients");
	is_str(got.rcpts[1], "carol@example.com", "second recipient");
	drop_envelope_free(&got);
	for (size_t n = 0; n < s.len - 1; n++) {
		r = drop_envelope_parse(s.data, n, &got, &used, &err);
		drop_envelope_free(&got);
		if (r != 0) {
			ok(false, "truncation at %zu: got %d", n, r);
			break;
		}
	}
	ok(true, "every truncation asks for more");
	str_deinit(&s);
	drop_envelope_free(&env);
}

static int parse_bytes(const char *data, size_t len, const char **err)
{
	struct drop_envelope env;
	size_t used;
	int r = drop_envelope_parse(data, len, &env, &used, err);

	drop_envelope_free(&env);
	return r;
}

#define REC(t, l) t "\0\0\0" l
static void test_hostile(void)
{
	const char *err = NULL;
	static const char bad_magic[] = "PDROP2\n";
	static const char dup_sender[] =
	    DROP_MAGIC REC("S", "\1") "a" REC("S", "\1") "b";
	static const char ctl[] = DROP_MAGIC REC("S", "\3") "a\nb";
	static const char no_rcpt[] = DROP_MAGIC REC("S", "\0") REC("M", "\0");
	static const char unknown[] = DROP_MAGIC REC("Z", "\0");
	static const char bad_notify[] = DROP_MAGIC REC("N", "\1") "\x03";
	static const char big[] = DROP_MAGIC "R\0\1\0\0";
	static const char empty_rcpt[] =
	    DROP_MAGIC REC("S", "\0") REC("R", "\0");
	static const char end_len[] =
	    DROP_MAGIC REC("S", "\0") REC("R", "\1") "x" REC("M", "\1") "y";

	is_int(parse_bytes(bad_magic, sizeof(bad_magic) - 1, &err), -1,
	       "bad magic");
	is_int(parse_bytes("X", 1, &err), -1, "bad magic, early");
	is_int(parse_bytes(dup_sender, sizeof(dup_sender) - 1, &err), -1,
	       "duplicate sender");
	is_int(parse_bytes(ctl, sizeof(ctl) - 1, &err), -1,
	       "LF inside a value");
	is_int(parse_bytes(no_rcpt, sizeof(no_rcpt) - 1, &err), -1,
	       "no recipient");
	is_int(parse_bytes(unknown, sizeof(unknown) - 1, &err), -1,
	       "unknown record");
	is_int(parse_bytes(bad_notify, sizeof(bad_notify) - 1, &err), -1,
	       "NEVER with others");
	is_int(parse_bytes(big, sizeof(big) - 1, &err), -1,
	       "length over the limit, before reading it");
	is_int(parse_bytes(empty_rcpt, sizeof(empty_rcpt) - 1, &err), -1,
	       "empty recipient");
	is_int(parse_bytes(end_len, sizeof(end_len) - 1, &err), -1,
	       "end record with a length");
}

static void test_chunks(void)
{
	size_t len = 9;
	bool end = true;
	const char *err;
	struct str s;

	str_init(&s, 0);
	drop_record_head(&s, 'C', 300);
	is_int(drop_chunk_head(s.data, &len, &end, &err), 1, "C head");
	ok(len == 300 && !end, "C length 300");
	str_clear(&s);
	drop_record_head(&s, 'E', 0);
	is_int(drop_chunk_head(s.data, &len, &end, &err), 1, "E head");
	ok(end, "E ends");
	str_clear(&s);
	drop_record_head(&s, 'C', DROP_CHUNK_MAX + 1);
	is_int(drop_chunk_head(s.data, &len, &end, &err), -1, "chunk too big");
	str_clear(&s);
	drop_record_head(&s, 'S', 1);
	is_int(drop_chunk_head(s.data, &len, &end, &err), -1, "not content");
	str_deinit(&s);
}

static void crlf_case(const char *in, const char *want, const char *name)
{
	struct drop_crlf f;
	struct str whole, bytes;
	const char *err;

	str_init(&whole, 0);
	str_init(&bytes, 0);
	drop_crlf_init(&f);
	drop_crlf_feed(&f, in, strlen(in), &whole, &err);
	drop_crlf_finish(&f, &whole);
	is_str(whole.data, want, name);
	drop_crlf_init(&f);
	for (size_t i = 0; in[i] != '\0'; i++)
		drop_crlf_feed(&f, in + i, 1, &bytes, &err);
	drop_crlf_finish(&f, &bytes);
	is_str(bytes.data, want, "  ... a byte at a time");
	str_deinit(&whole);
	str_deinit(&bytes);
}

static void test_crlf(void)
{
	struct drop_crlf f;
	struct str s;
	const char *err = NULL;

	crlf_case("a\nb\n", "a\r\nb\r\n", "LF to CRLF");
	crlf_case("a\r\nb\r\n", "a\r\nb\r\n", "CRLF kept");
	crlf_case("a\rb", "a\r\nb\r\n", "bare CR becomes a line end");
	crlf_case("a\r\r\n", "a\r\n\r\n", "CR CR LF");
	crlf_case("last", "last\r\n", "unterminated last line ended");
	crlf_case("", "", "empty stays empty");
	crlf_case("\n.\n", "\r\n.\r\n", "a lone dot is content here");
	str_init(&s, 0);
	drop_crlf_init(&f);
	is_int(drop_crlf_feed(&f, "a\0b", 3, &s, &err), -1, "NUL refused");
	str_deinit(&s);
}

int main(void)
{
	test_round_trip();
	test_hostile();
	test_chunks();
	test_crlf();
	return tap_done();
}
