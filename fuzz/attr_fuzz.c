/* fuzz/attr_fuzz.c: libFuzzer target for the IPC record decoder
 * (lib/attr.c, lib/attr_io.c). The input is a byte stream from a peer, fed
 * to the incremental decoder in chunks whose size comes from the first
 * byte; every record is exercised with the typed getters, lists recursively,
 * the strict check, the hello check and the dump. The same bytes are also
 * parsed as one record body. Any crash or overread is a bug. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "str.h"

static const char *const names[] = {
    "op", "n", "data", "rcpt", "addr", "protocol", "version", "l", "a", "b"};

static void exercise(struct attr_rec *r, unsigned depth)
{
	const char *s, *err;
	size_t len;
	int64_t v;
	struct attr_list l;
	struct attr_rec item;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)attr_get_int(r, names[i], &v, &err);
		(void)attr_get_int_range(r, names[i], -5, 5, &v, &err);
		if (attr_get_str(r, names[i], &s, &len, &err) == 1 &&
		    s[len] != '\0')
			msg_panic("value not NUL-terminated");
		(void)attr_get_cstr(r, names[i], &s, &err);
		if (attr_get_list(r, names[i], &l, &err) != 1)
			continue;
		if (depth > ATTR_MAX_DEPTH)
			msg_panic("list deeper than the format allows");
		size_t n = 0;
		while (attr_list_next(&l, &item) == 1) {
			exercise(&item, depth + 1);
			n++;
		}
		if (n != attr_list_count(&l))
			msg_panic("list count %zu != items %zu",
				  attr_list_count(&l), n);
	}
	(void)attr_rec_done(r, &err);
}

static void look(struct attr_rec *r)
{
	struct str dump;
	const char *err;

	str_init(&dump, 0);
	attr_rec_dump(r, &dump);
	if (dump.len < 2 || dump.data[0] != '{')
		msg_panic("bad dump");
	str_deinit(&dump);
	exercise(r, 0);
	(void)attr_hello_check(r, "test", 1, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_decoder *d;
	struct attr_rec r;
	const char *err;
	size_t chunk, used;
	enum attr_status st = ATTR_NEED_MORE;

	if (size < 1)
		return 0;
	chunk = data[0] % 16; /* 0: everything at once */
	data++;
	size--;
	if (attr_rec_parse(data, size, &r, &err) == 1)
		look(&r);

	d = attr_decoder_new(4096);
	while (size > 0 && st != ATTR_ERROR) {
		size_t n = chunk == 0 || chunk > size ? size : chunk;

		st = attr_decode(d, data, n, &used, &r, &err);
		if (used > n)
			msg_panic("decoder took %zu of %zu bytes", used, n);
		if (st == ATTR_RECORD)
			look(&r);
		else if (st == ATTR_NEED_MORE && used != n)
			msg_panic("need-more without taking everything");
		data += used;
		size -= used;
	}
	attr_decoder_free(&d);
	return 0;
}
