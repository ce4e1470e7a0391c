/* fuzz/maildrop_fuzz.c: libFuzzer target for the local submission path's
 * parsers of less trusted input. The first byte picks one:
 *   0  postdrop's standard input (cli/sendmail_stream.c): the envelope
 *      parser, then content records through the line-end filter. Checks: an
 *      accepted envelope encodes again to the same bytes, and the filtered
 *      content always passes pickup's CRLF check (no bare CR or LF).
 *   1  a maildrop file's content as pickup reads it (pickup/content.c):
 *      the CRLF check and the header scan. Checks: end and the flags are
 *      consistent with the data.
 *   2  sendmail -t's header scan (cli/sendmail_headers.c). Checks: every
 *      address found is non-empty and printable; the kept header is never
 *      longer than the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "sendmail_headers.h"
#include "sendmail_stream.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
	struct drop_envelope env;
	struct drop_crlf f;
	struct pickup_crlf pc;
	struct str again, out;
	const char *err;
	size_t used = 0, pos;
	bool end = false;

	if (drop_envelope_parse(data, size, &env, &used, &err) <= 0) {
		drop_envelope_free(&env);
		return;
	}
	str_init(&again, 0);
	check(drop_envelope_encode(&env, &again, &err) == 1);
	/* Canonical order may differ from the input's; parse it again. */
	{
		struct drop_envelope env2;
		size_t used2;
		check(drop_envelope_parse(again.data, again.len, &env2, &used2,
					  &err) == 1);
		check(used2 == again.len);
		check(strcmp(env.sender, env2.sender) == 0);
		check(env.rcpt_count == env2.rcpt_count);
		drop_envelope_free(&env2);
	}
	str_deinit(&again);
	drop_envelope_free(&env);
	drop_crlf_init(&f);
	pickup_crlf_init(&pc);
	str_init(&out, 0);
	for (pos = used; !end && size - pos >= DROP_RECORD_HEAD;) {
		size_t len;
		if (drop_chunk_head(data + pos, &len, &end, &err) < 0)
			break;
		pos += DROP_RECORD_HEAD;
		if (size - pos < len)
			break;
		str_clear(&out);
		if (drop_crlf_feed(&f, data + pos, len, &out, &err) < 0)
			break;
		pos += len;
		if (end)
			drop_crlf_finish(&f, &out);
		check(pickup_crlf_check(&pc, out.data, out.len, &err) == 1);
		if (end)
			check(pickup_crlf_finish(&pc, &err) == 1);
	}
	str_deinit(&out);
}

static void fuzz_content(const uint8_t *data, size_t size)
{
	struct pickup_crlf c;
	struct pickup_headers h;
	const char *err;

	pickup_crlf_init(&c);
	(void)pickup_crlf_check(&c, data, size, &err);
	pickup_headers_scan((const char *)data, size, &h);
	check(h.end <= size);
	check(!(h.blank_line && h.needs_blank));
	check(h.end == 0 || data[h.end - 1] == '\n');
}

static void fuzz_headers(const uint8_t *data, size_t size)
{
	struct drop_envelope env = {0};
	struct str kept;
	const char *err;

	str_init(&kept, 0);
	if (sendmail_header_scan((const char *)data, size, true, true,
				 "example.org", &env, &kept, &err) > 0) {
		check(kept.len <= size);
		for (size_t i = 0; i < env.rcpt_count; i++) {
			check(env.rcpts[i][0] != '\0');
			for (const char *p = env.rcpts[i]; *p != '\0'; p++)
				check((unsigned char)*p >= 0x20 && *p != 0x7f);
		}
	}
	drop_envelope_free(&env);
	str_deinit(&kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_stream(data + 1, size - 1);
		break;
	case 1:
		fuzz_content(data + 1, size - 1);
		break;
	default:
		fuzz_headers(data + 1, size - 1);
		break;
	}
	return 0;
}
