/* parse.h: the parts of pop3d that only look at bytes, kept apart so that a
 * unit test (t/unit/pop3d_parse.c) and a fuzz target
 * (fuzz/pop3d_cmd_fuzz.c) reach them without a network: splitting a
 * command line (RFC 1939 3, RFC 2449 3), message numbers and counts, and
 * turning a stored message (LF or CRLF line ends) into the body of a RETR
 * or TOP reply (CRLF, dot-stuffed, RFC 1939 3). */
#ifndef POSTERN_POP3D_PARSE_H
#define POSTERN_POP3D_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

/* Keywords are 3 or 4 letters (RFC 2449 3). */
#define POP3_VERB_MIN 3
#define POP3_VERB_MAX 4
/* Most space-separated arguments any command takes (TOP msg n). */
#define POP3_ARGS_MAX 2

struct pop3_cmd {
	char verb[POP3_VERB_MAX + 1]; /* upper-cased, NUL-terminated */
	/* Everything after the space that follows the keyword (PASS takes it
	 * whole, spaces included; RFC 1939 7); "" when none. Points into the
	 * line. */
	const char *rest;
	size_t rest_len;
	/* rest split at runs of spaces; argc counts every argument, also those
	 * beyond POP3_ARGS_MAX (then only the first ones are in args). */
	const char *args[POP3_ARGS_MAX];
	size_t arg_lens[POP3_ARGS_MAX];
	size_t argc;
};

/* Splits line[0..len) (without its CRLF). Returns 1, or -1 with *error_r
 * (static text, fit for the "-ERR" line) for an empty line, a NUL or other
 * control byte outside PASS's argument, or a keyword that is not 3-4
 * ASCII letters followed by a space or the end. */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd_r,
		   const char **error_r);

/* A decimal number (digits only) up to max: 1 with *n_r, 0 when it is
 * larger than max, -1 for anything that is not digits. */
int pop3_parse_number(const char *s, size_t len, uint64_t max, uint64_t *n_r);

/* Turns the stored form of a message into what RETR/TOP send: every line
 * ends in CRLF (an LF not preceded by CR gets one; a lone CR stays data),
 * a line starting with "." gets another one, and TOP stops after the
 * header, the blank line and the first `lines` lines of the body. Feed
 * the message in pieces of any size; the result does not depend on where
 * it is cut. */
struct pop3_msgout {
	bool top;
	uint64_t lines_left; /* TOP: body lines still to send */
	bool in_body;	     /* the blank line after the header was seen */
	size_t line_bytes;   /* bytes of the current line so far */
	bool prev_cr;	     /* the last byte taken was CR */
	bool done;	     /* TOP has sent all it must */
};

void pop3_msgout_init(struct pop3_msgout *o, bool top, uint64_t lines);
/* Appends the converted form of in[0..len) to out; stops early once TOP
 * is done (o->done). Returns the input bytes consumed. */
size_t pop3_msgout_add(struct pop3_msgout *o, const char *in, size_t len,
		       struct str *out);
/* Appends the end: a CRLF when the message did not end with a line end,
 * then ".\r\n". */
void pop3_msgout_finish(struct pop3_msgout *o, struct str *out);

#endif
