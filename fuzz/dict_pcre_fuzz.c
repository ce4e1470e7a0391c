/* fuzz/dict_pcre_fuzz.c: libFuzzer target for the pattern table file
 * parser (lib/dict_pattern.c with the PCRE2 engine of lib/dict_pcre.c).
 * Opens the input as a pcre: table; when it opens and is small, looks up
 * a few keys (including one that makes bad patterns backtrack), which
 * exercises if/endif jumps, negation, substitution and the match limits. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dict.h"
#include "dict_pattern.h"
#include "msg.h"
#include "str.h"

/* Lookups cost up to one match limit per rule: keep the rule count (and so
 * the time per input) small. */
#define FUZZ_LOOKUP_MAX_INPUT 1024

static const char *const fuzz_keys[] = {
    "",
    "a",
    "User+Ext@Example.COM",
    "postmaster@example.com",
    "aaaaaaaaaaaaaaaaaaaaaaaab",
    "line one\nline two",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *error = NULL;
	struct dict *d;
	struct str value;

	msg_set_level(MSG_ERROR);
	d = dict_pcre_open_buffer("fuzz", (const char *)data, size, 0, &error);
	if (d == NULL) {
		if (error == NULL || strncmp(error, "fuzz:", 5) != 0)
			msg_panic("open failed without a located error");
		return 0;
	}
	if (size <= FUZZ_LOOKUP_MAX_INPUT) {
		str_init(&value, 0);
		for (size_t i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]);
		     i++) {
			int ret = dict_lookup(d, fuzz_keys[i], &value, &error);

			if (ret == 1 && value.len > DICT_PATTERN_RESULT_MAX)
				msg_panic("result over the limit");
			if (ret < 0 && strncmp(error, "fuzz:", 5) != 0)
				msg_panic("lookup error without a location");
		}
		str_deinit(&value);
	}
	dict_close(&d);
	return 0;
}
