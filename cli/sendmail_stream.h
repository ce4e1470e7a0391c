/* sendmail_stream.h: the stream sendmail writes to postdrop's standard
 * input, and the line-end filter postdrop runs the content through.
 *
 * The stream is the envelope, then the content:
 *   "PDROP1\n"                       magic and version
 *   records: u8 type, u32 length (big-endian), value
 *     'S' sender (exactly 1; "" = the null sender)
 *     'R' recipient (1..DROP_RCPT_MAX)
 *     'F' full name (0-1), 'V' DSN ENVID (0-1)
 *     'N' DSN NOTIFY bits, 1 byte (0-1)  'T' DSN RET, 1 byte (0-1)
 *     'M' end of the envelope, length 0
 *   content records: 'C' with up to DROP_CHUNK_MAX bytes of the message
 *     as given to sendmail, then 'E' with length 0 (the input is complete:
 *     a sendmail killed half-way never leaves half a message queued)
 * postdrop is setgid and its caller is not trusted: every length is checked
 * before it is used, every value must pass queue_value_check() (no control
 * characters), and anything unexpected is refused, never guessed at. */
#ifndef POSTERN_SENDMAIL_STREAM_H
#define POSTERN_SENDMAIL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

#define DROP_MAGIC "PDROP1\n"
#define DROP_MAGIC_LEN 7
#define DROP_RCPT_MAX 10000
#define DROP_CHUNK_MAX 65536
#define DROP_RECORD_HEAD 5 /* type + u32 length */

struct drop_envelope {
	char *sender;
	char *full_name; /* NULL when not given */
	char *envid;	 /* NULL when not given */
	unsigned notify; /* QUEUE_NOTIFY_* or 0 */
	unsigned ret;	 /* enum queue_ret */
	char **rcpts;
	size_t rcpt_count, rcpt_cap;
};

void drop_envelope_free(struct drop_envelope *env);
/* Adds a recipient (copied). */
void drop_envelope_add_rcpt(struct drop_envelope *env, const char *rcpt);

/* Appends the magic and the envelope records of env to out. Returns 1, or
 * -1 with *error_r when a value is invalid (control character, too long)
 * or there is no recipient. */
int drop_envelope_encode(const struct drop_envelope *env, struct str *out,
			 const char **error_r);
/* Parses the start of data[0..len). Returns 1 with env filled and
 * *consumed_r the envelope's size (the content follows), 0 when more input
 * is needed, -1 with *error_r for a malformed envelope. env is cleared
 * first; the caller frees it with drop_envelope_free() in every case. */
int drop_envelope_parse(const void *data, size_t len, struct drop_envelope *env,
			size_t *consumed_r, const char **error_r);

/* Appends the head of one record (type, length) to out. */
void drop_record_head(struct str *out, char type, size_t len);
/* Decodes a content record head (5 bytes): 1 with *len_r and *end_r, or -1
 * with *error_r when the type is not 'C' or 'E' or the length is out of
 * range. */
int drop_chunk_head(const void *head, size_t *len_r, bool *end_r,
		    const char **error_r);

/* The line-end filter: turns LF and CR LF line ends into CR LF and a CR
 * that is not followed by LF into CR LF too, so the queue never holds a
 * bare CR or LF (doc/queue.md). A NUL byte is an error. Feed it the content
 * in pieces, then call drop_crlf_finish(), which ends an unterminated last
 * line. */
struct drop_crlf {
	bool pending_cr; /* the last byte seen was a CR */
	bool at_bol;	 /* output is at the start of a line */
};
void drop_crlf_init(struct drop_crlf *f);
/* Appends the converted bytes to out. Returns 1, or -1 on a NUL byte. */
int drop_crlf_feed(struct drop_crlf *f, const void *data, size_t len,
		   struct str *out, const char **error_r);
void drop_crlf_finish(struct drop_crlf *f, struct str *out);

/* sysexits(3) codes used by sendmail and postdrop. */
#define DROP_EX_USAGE 64
#define DROP_EX_DATAERR 65
#define DROP_EX_NOUSER 67
#define DROP_EX_UNAVAILABLE 69
#define DROP_EX_SOFTWARE 70
#define DROP_EX_OSERR 71
#define DROP_EX_CANTCREAT 73
#define DROP_EX_IOERR 74
#define DROP_EX_TEMPFAIL 75
#define DROP_EX_NOPERM 77
#define DROP_EX_CONFIG 78

#endif
