/* t/unit/auth_sasl.c: tests for the SASL helpers of lib/auth_client.c:
 * strict base64 both ways and the PLAIN message split. */
#include "config.h"

#include <string.h>

#include "auth_client.h"
#include "str.h"
#include "tap.h"
#include "users.h"

static void test_base64(void)
{
	struct str out, enc;
	static const char *const bad[] = {
	    "A",    "AB",    "ABC", "AB=C", "A===", "====", "AB==CD==",
	    "AB C", "AB\nC", "QQ=", "QR==", "QUJ=", "!!!!", "AB=="};

	str_init(&out, 0);
	str_init(&enc, 0);
	is_int(auth_base64_decode("", 0, &out), 1, "empty input decodes");
	is_int((long long)out.len, 0, "to nothing");
	is_int(auth_base64_decode("AGFsaWNlAHB3", 12, &out), 1, "PLAIN blob");
	is_mem(out.data, out.len, "\0alice\0pw", 9, "decoded with NULs");
	is_int(auth_base64_decode("QQ==", 4, &out), 1, "two pads");
	is_mem(out.data, out.len, "A", 1, "one byte");
	is_int(auth_base64_decode("QUI=", 4, &out), 1, "one pad");
	is_mem(out.data, out.len, "AB", 2, "two bytes");
	/* "AB==" leaves non-zero bits after the data: not canonical. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(auth_base64_decode(bad[i], strlen(bad[i]), &out) == -1,
		   "bad base64 refused (#%zu)", i);
	for (size_t n = 0; n < 7; n++) {
		str_clear(&enc);
		auth_base64_encode("abcdefg", n, &enc);
		ok(auth_base64_decode(enc.data, enc.len, &out) == 1 &&
		       out.len == n && memcmp(out.data, "abcdefg", n) == 0,
		   "round trip of %zu bytes (%s)", n, enc.data);
	}
	str_deinit(&out);
	str_deinit(&enc);
}

static int plain(const char *msg, size_t len, struct auth_plain *p)
{
	static char buf[8192];

	memcpy(buf, msg, len);
	buf[len] = '\0';
	return auth_sasl_plain_parse(buf, len, p);
}

static void test_plain(void)
{
	struct auth_plain p;
	char big[AUTH_USER_MAX + 20];

	is_int(plain("\0alice\0pw", 9, &p), 1, "PLAIN without authzid");
	is_str(p.authzid, "", "empty authzid");
	is_str(p.authcid, "alice", "authcid");
	is_str(p.password, "pw", "password");
	is_int(plain("bob\0alice\0pw", 12, &p), 1, "PLAIN with authzid");
	is_str(p.authzid, "bob", "authzid");
	is_int(plain("alice\0pw", 8, &p), -1, "one NUL only");
	is_int(plain("\0alice\0pw\0", 10, &p), -1, "three NULs");
	is_int(plain("\0\0pw", 4, &p), -1, "empty authcid");
	is_int(plain("\0alice\0", 7, &p), -1, "empty password");
	is_int(plain("", 0, &p), -1, "empty message");
	memset(big, 'a', sizeof(big));
	big[0] = '\0';
	big[AUTH_USER_MAX + 2] = '\0';
	is_int(plain(big, sizeof(big), &p), -1, "authcid over the limit");
}

int main(void)
{
	test_base64();
	test_plain();
	return tap_done();
}
