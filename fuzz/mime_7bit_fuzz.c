/* fuzz/mime_7bit_fuzz.c: libFuzzer target for the 8-bit to 7-bit MIME
 * filter (lib/mime_7bit.c). The first byte picks how the rest (a message)
 * is cut into chunks and whether 8-bit headers are allowed. Beyond "no
 * crash, no leak, no hang" it checks the promises of mime_7bit.h: a
 * verdict of 1 gives output without 8-bit bytes (or 8-bit only where
 * headers may keep them), the output does not depend on the chunks, and
 * the output of a conversion is itself 7-bit (verdict 0) when headers
 * were not allowed to stay 8-bit. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "mime_7bit.h"
#include "msg.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *s, size_t len, size_t step, bool allow,
	       struct str *out)
{
	struct mime_7bit *f = mime_7bit_new();
	const char *why = NULL;
	int r;

	for (size_t i = 0; i < len; i += step)
		mime_7bit_scan(f, s + i, len - i < step ? len - i : step);
	mime_7bit_scan_end(f);
	r = mime_7bit_verdict(f, allow, &why);
	if (r < 0 && (why == NULL || *why == '\0'))
		msg_panic("refused without a reason");
	if (r == 1) {
		for (size_t i = 0; i < len; i += step)
			mime_7bit_convert(f, s + i,
					  len - i < step ? len - i : step, out);
		mime_7bit_convert_end(f, out);
	}
	mime_7bit_free(&f);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	struct str a, b, c;
	size_t len, step;
	bool allow;
	int r, r2;

	if (size < 1)
		return 0;
	len = size - 1;
	step = (size_t)(data[0] >> 1) + 1;
	allow = (data[0] & 1) != 0;
	str_init(&a, 0);
	str_init(&b, 0);
	str_init(&c, 0);
	r = mime_7bit_buffer(s, len, allow, &a, &(const char *){NULL});
	r2 = run(s, len, step, allow, &b);
	if (r != r2 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		msg_panic("the output depends on the chunks");
	if (r == 1 && !allow) {
		for (size_t i = 0; i < a.len; i++)
			if ((unsigned char)a.data[i] >= 0x80)
				msg_panic("8-bit byte in the output at %zu", i);
		if (run(a.data, a.len, 4096, false, &c) != 0)
			msg_panic("the converted message is not 7-bit");
	}
	str_deinit(&a);
	str_deinit(&b);
	str_deinit(&c);
	return 0;
}
