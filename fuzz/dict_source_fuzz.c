/* fuzz/dict_source_fuzz.c: libFuzzer target for the table source parser
 * (lib/dict_source.c). Parses the input as a buffer and again through a
 * file read in 7-byte chunks; both must give the same entries and the same
 * error, and every entry must obey the syntax's invariants. */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dict_source.h"
#include "msg.h"
#include "str.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int collect(void *ctx, const char *key, const char *value, int line,
		   const char **error_r)
{
	size_t vlen = strlen(value);

	if (*key == '\0' || *value == '\0' || is_ws(*value) ||
	    is_ws(value[vlen - 1]) || line <= 0)
		msg_panic("entry breaks the syntax: line %d key \"%s\"", line,
			  key);
	str_printf(ctx, "%d\n%s\n%s\n", line, key, value);
	return 0;
}

static void parse_fd(struct str *out, const uint8_t *data, size_t size)
{
	const char *error = NULL;
	int fd = memfd_create("dict_source_fuzz", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (dict_source_parse_fd("fuzz", fd, 7, collect, out, &error) < 0)
		str_printf(out, "ERR %s", error);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str a, b;
	const char *error = NULL;

	str_init(&a, 0);
	str_init(&b, 0);
	if (dict_source_parse_buffer("fuzz", (const char *)data, size, collect,
				     &a, &error) < 0)
		str_printf(&a, "ERR %s", error);
	parse_fd(&b, data, size);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		msg_panic("buffer and streamed parses differ");
	str_deinit(&a);
	str_deinit(&b);
	return 0;
}
