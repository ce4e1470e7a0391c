/* parse.c: pop3d's byte-level code (see parse.h): command lines, numbers,
 * and the conversion of a stored message into a RETR/TOP reply body. No
 * I/O, no state outside the caller's structs. */
#include "config.h"

#include <string.h>

#include "num.h"
#include "parse.h"

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* PASS's argument may hold any byte but NUL (it goes to the auth daemon
 * in a length-prefixed field); everything else is printable text. */
static int check_bytes(const char *p, size_t len, bool any,
		       const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == 0 || (!any && (c < 0x20 || c == 0x7f))) {
			*error_r = c == 0 ? "NUL in command"
					  : "Invalid character in command";
			return -1;
		}
	}
	return 1;
}

static void split_args(struct pop3_cmd *cmd)
{
	size_t i = 0, start;

	while (i < cmd->rest_len) {
		while (i < cmd->rest_len && cmd->rest[i] == ' ')
			i++;
		if (i == cmd->rest_len)
			break;
		start = i;
		while (i < cmd->rest_len && cmd->rest[i] != ' ')
			i++;
		if (cmd->argc < POP3_ARGS_MAX) {
			cmd->args[cmd->argc] = cmd->rest + start;
			cmd->arg_lens[cmd->argc] = i - start;
		}
		cmd->argc++;
	}
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd_r,
		   const char **error_r)
{
	size_t v = 0;

	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->rest = "";
	if (len == 0) {
		*error_r = "Empty command";
		return -1;
	}
	while (v < len && v <= POP3_VERB_MAX && is_letter(line[v]))
		v++;
	if (v < POP3_VERB_MIN || v > POP3_VERB_MAX ||
	    (v < len && line[v] != ' ')) {
		*error_r = memchr(line, '\0', len) != NULL ? "NUL in command"
							   : "Unknown command";
		return -1;
	}
	for (size_t i = 0; i < v; i++)
		cmd_r->verb[i] = upper(line[i]);
	cmd_r->verb[v] = '\0';
	if (v < len) {
		cmd_r->rest = line + v + 1;
		cmd_r->rest_len = len - v - 1;
	}
	if (check_bytes(cmd_r->rest, cmd_r->rest_len,
			strcmp(cmd_r->verb, "PASS") == 0, error_r) < 0)
		return -1;
	split_args(cmd_r);
	return 1;
}

int pop3_parse_number(const char *s, size_t len, uint64_t max, uint64_t *n_r)
{
	return num_parse_u64(s, len, max, n_r);
}

void pop3_msgout_init(struct pop3_msgout *o, bool top, uint64_t lines)
{
	memset(o, 0, sizeof(*o));
	o->top = top;
	o->lines_left = lines;
}

/* A line end was taken: counts it for TOP. */
static void msgout_line_done(struct pop3_msgout *o, bool empty)
{
	if (!o->top)
		return;
	if (o->in_body) {
		if (--o->lines_left == 0)
			o->done = true;
	} else if (empty) {
		o->in_body = true;
		if (o->lines_left == 0)
			o->done = true;
	}
}

size_t pop3_msgout_add(struct pop3_msgout *o, const char *in, size_t len,
		       struct str *out)
{
	size_t i = 0;

	while (i < len && !o->done) {
		const char *lf = memchr(in + i, '\n', len - i);
		size_t end = lf != NULL ? (size_t)(lf - in) : len;
		bool empty;

		if (end > i) {
			if (o->line_bytes == 0 && in[i] == '.')
				str_append(out, ".", 1);
			str_append(out, in + i, end - i);
			/* Only 0, 1 and "more" matter; saturate. */
			o->line_bytes = o->line_bytes + (end - i) > 2
					    ? 2
					    : o->line_bytes + (end - i);
			o->prev_cr = in[end - 1] == '\r';
		}
		if (lf == NULL)
			return len;
		empty =
		    o->line_bytes == 0 || (o->line_bytes == 1 && o->prev_cr);
		str_append(out, o->prev_cr ? "\n" : "\r\n", o->prev_cr ? 1 : 2);
		o->line_bytes = 0;
		o->prev_cr = false;
		i = end + 1;
		msgout_line_done(o, empty);
	}
	return i;
}

void pop3_msgout_finish(struct pop3_msgout *o, struct str *out)
{
	if (o->line_bytes > 0)
		str_append(out, o->prev_cr ? "\n" : "\r\n", o->prev_cr ? 1 : 2);
	o->line_bytes = 0;
	o->prev_cr = false;
	str_append(out, ".\r\n", 3);
}
