/* num.c: strict decimal parsing for network input (see num.h). */
#include "config.h"

#include <stdbool.h>

#include "num.h"

static int num_parse(const char *str, size_t len, uint64_t max, bool strict,
		     uint64_t *value_r)
{
	uint64_t value = 0;
	bool over = false;

	if (len == 0)
		return -1;
	if (strict && len > 1 && str[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned digit = (unsigned char)str[i] - (unsigned)'0';

		if (digit > 9)
			return -1;
		/* keep scanning after an overflow: a later non-digit still
		 * makes the whole thing a syntax error */
		if (over || value > (UINT64_MAX - digit) / 10) {
			over = true;
			continue;
		}
		value = value * 10 + digit;
	}
	if (over || value > max)
		return 0;
	*value_r = value;
	return 1;
}

int num_parse_u64(const char *str, size_t len, uint64_t max, uint64_t *value_r)
{
	return num_parse(str, len, max, false, value_r);
}

int num_parse_u64_strict(const char *str, size_t len, uint64_t max,
			 uint64_t *value_r)
{
	return num_parse(str, len, max, true, value_r);
}
