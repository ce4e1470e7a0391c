/* fuzz/pop3d_cmd_fuzz.c: libFuzzer target for pop3d/parse.c: the command
 * line splitter and message numbers on the input as a line, and the
 * RETR/TOP conversion on the input as a message. Beyond "no crash" it
 * checks: a keyword is 3-4 upper-case letters; arguments lie inside the
 * line and hold no space; the conversion gives the same bytes whether fed
 * whole or in pieces, never has a bare LF, never a line starting with a
 * single "." except the terminator, and ends with ".\r\n". */
#include "config.h"

#include <string.h>

#include "msg.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cmd(const char *line, size_t size)
{
	struct pop3_cmd cmd;
	const char *err;
	uint64_t n;

	if (pop3_cmd_parse(line, size, &cmd, &err) < 0)
		return;
	if (strlen(cmd.verb) < POP3_VERB_MIN ||
	    strlen(cmd.verb) > POP3_VERB_MAX)
		msg_panic("bad keyword length");
	for (const char *v = cmd.verb; *v != '\0'; v++)
		if (*v < 'A' || *v > 'Z')
			msg_panic("keyword with a non-letter");
	if (cmd.rest_len > 0 &&
	    (cmd.rest < line || cmd.rest + cmd.rest_len != line + size))
		msg_panic("rest outside the line");
	for (size_t i = 0; i < cmd.argc && i < POP3_ARGS_MAX; i++) {
		if (cmd.args[i] < cmd.rest ||
		    cmd.args[i] + cmd.arg_lens[i] > cmd.rest + cmd.rest_len ||
		    cmd.arg_lens[i] == 0 ||
		    memchr(cmd.args[i], ' ', cmd.arg_lens[i]) != NULL)
			msg_panic("bad argument");
		(void)pop3_parse_number(cmd.args[i], cmd.arg_lens[i],
					UINT32_MAX, &n);
	}
}

static void convert(const char *in, size_t len, size_t piece, bool top,
		    uint64_t lines, struct str *out)
{
	struct pop3_msgout o;
	size_t pos = 0;

	pop3_msgout_init(&o, top, lines);
	while (pos < len && !o.done) {
		size_t n = len - pos < piece ? len - pos : piece;

		pos += pop3_msgout_add(&o, in + pos, n, out);
	}
	pop3_msgout_finish(&o, out);
}

static void check_output(const struct str *out)
{
	const char *p = out->data;
	size_t len = out->len;

	if (len < 3 || memcmp(p + len - 3, ".\r\n", 3) != 0 ||
	    (len > 3 && p[len - 4] != '\n'))
		msg_panic("no terminator");
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			msg_panic("bare LF in the output");
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '.' &&
		    i + 3 != len && (i + 1 >= len || p[i + 1] != '.'))
			msg_panic("unstuffed dot at %zu", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct str whole, pieces;
	bool top = size > 0 && (data[0] & 1);
	uint64_t lines = size > 1 ? data[1] % 8 : 0;
	size_t piece = size > 2 ? (size_t)(data[2] % 7) + 1 : 1;

	check_cmd(in, size);
	str_init(&whole, size * 2 + 8);
	str_init(&pieces, size * 2 + 8);
	convert(in, size, size > 0 ? size : 1, top, lines, &whole);
	convert(in, size, piece, top, lines, &pieces);
	if (whole.len != pieces.len ||
	    memcmp(whole.data, pieces.data, whole.len) != 0)
		msg_panic("output depends on how the input is cut");
	check_output(&whole);
	str_deinit(&whole);
	str_deinit(&pieces);
	return 0;
}
