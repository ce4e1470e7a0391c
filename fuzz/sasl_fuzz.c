/* fuzz/sasl_fuzz.c: libFuzzer target for the SASL decoding smtpd (and
 * later imapd) runs on client input before any password check
 * (lib/auth_client.c): strict base64, then the PLAIN message split, and
 * the login name to address step (lib/users.c). Checks that whatever
 * decodes re-encodes to the same text and that the PLAIN parts lie inside
 * the message. Any crash, overread or failed check is a bug. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_client.h"
#include "str.h"
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plain(struct str *msg)
{
	struct auth_plain p;
	struct str canon;
	const char *err;

	if (auth_sasl_plain_parse(msg->data, msg->len, &p) < 0)
		return;
	if (p.authcid < msg->data || p.password > msg->data + msg->len ||
	    strlen(p.authcid) == 0 || strlen(p.password) == 0)
		abort();
	str_init(&canon, 64);
	(void)users_canonical(p.authcid, strlen(p.authcid), "example.org",
			      &canon, &err);
	str_deinit(&canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str out, enc;

	str_init(&out, 0);
	str_init(&enc, 0);
	if (auth_base64_decode((const char *)data, size, &out) == 1) {
		auth_base64_encode(out.data, out.len, &enc);
		if (enc.len != size || memcmp(enc.data, data, size) != 0)
			abort();
		check_plain(&out);
	}
	/* The raw bytes as a decoded message too (a PLAIN blob). */
	str_set(&out, data, size);
	check_plain(&out);
	str_deinit(&out);
	str_deinit(&enc);
	return 0;
}
