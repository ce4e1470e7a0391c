/* conf_fuzz.c: libFuzzer target for the main.cf parser and $name expansion
 * (lib/conf*.c): parses the input, reads every table parameter with its
 * typed getter, expands every name set, and runs an in-place edit over the
 * same text. Nothing may crash, leak or run away, whatever the input. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "conf_edit.h"
#include "conf_params.h"
#include "mem.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(struct conf *c)
{
	const char **names;

	for (size_t i = 0; i < conf_param_count(); i++) {
		const struct conf_param *p = conf_param_at(i);
		conf_get(c, p->name);
		conf_raw(c, p->name);
		switch (p->type) {
		case CONF_INT:
			conf_get_int(c, p->name);
			break;
		case CONF_TIME:
			conf_get_time(c, p->name);
			break;
		case CONF_SIZE:
			conf_get_size(c, p->name);
			break;
		case CONF_BOOL:
			conf_get_bool(c, p->name);
			break;
		case CONF_LIST:
			conf_get_list(c, p->name);
			break;
		case CONF_STR:
			break;
		}
	}
	names = conf_names_set(c);
	for (size_t i = 0; names[i] != NULL; i++)
		conf_lookup(c, names[i]);
	mem_free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *error;
	struct conf_edit edits[] = {{"myhostname", "fuzz.example"},
				    {"relayhost", NULL}};
	struct conf *c;
	struct str out;

	msg_set_level(MSG_ERROR);
	c = conf_parse_buffer("fuzz.cf", text, size, CONF_NO_WARN, &error);
	if (c != NULL) {
		read_all(c);
		if (conf_override(c, "mydomain", "$myhostname", &error) > 0)
			conf_get(c, "mydestination");
		conf_free(&c);
	}
	str_init(&out, size + 64);
	if (conf_edit_text(text, size, edits, 2, &out, &error) > 0) {
		c = conf_parse_buffer("fuzz.cf", out.data, out.len,
				      CONF_NO_WARN, &error);
		conf_free(&c);
	}
	str_deinit(&out);
	return 0;
}
