/* master_cf_fuzz.c: libFuzzer target for the master.cf parser
 * (lib/master_cf.c), checked against the built-in main.cf defaults, and the
 * -o settings of every service applied to a copy of them. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "master_cf.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf *base;
	struct master_cf *m;
	const char *error;

	msg_set_level(MSG_ERROR);
	if (base == NULL)
		base =
		    conf_parse_buffer("main.cf", "", 0, CONF_NO_WARN, &error);
	m = master_cf_parse_buffer("fuzz.cf", (const char *)data, size, base,
				   MASTER_CF_NO_WARN, &error);
	if (m == NULL)
		return 0;
	for (size_t i = 0; i < m->count && i < 8; i++) {
		struct conf *c = conf_dup(base);
		if (master_service_apply(&m->services[i], c, &error) < 0)
			__builtin_trap(); /* the parser checked these */
		conf_free(&c);
	}
	master_cf_free(&m);
	return 0;
}
