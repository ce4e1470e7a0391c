/* mime_7bit.h: turning 8-bit mail into 7-bit MIME for a server that does
 * not announce 8BITMIME (RFC 6152 3: the client converts, or returns the
 * message undelivered). The smtp client (postern-smtp(8)) uses it when the
 * peer's EHLO lacks 8BITMIME; it is a streaming filter in two passes over
 * the same bytes, because whether a message can be converted is only known
 * at its end, and a clean bounce must come before DATA:
 *
 *   f = mime_7bit_new();
 *   mime_7bit_scan(f, ...) for every chunk;  mime_7bit_scan_end(f);
 *   switch (mime_7bit_verdict(f, smtputf8, &why)) { 0: send as is;
 *   -1: bounce (why); 1: mime_7bit_convert(f, chunk, out) for every chunk
 *   of the same bytes, then mime_7bit_convert_end(f, out) }
 *
 * What the conversion does (RFC 2045, 2046):
 * - A leaf part whose Content-Transfer-Encoding is 8bit, 7bit or absent
 *   and whose body has 8-bit bytes, NUL bytes or lines over 998 bytes is
 *   encoded quoted-printable: its Content-Transfer-Encoding fields are
 *   replaced by "quoted-printable" (a message header without MIME-Version
 *   gets "MIME-Version: 1.0"); encoded lines are at most 76 bytes, a line
 *   end becomes CRLF, a bare CR "=0D", and a "-" that starts an encoded
 *   line "=2D" (so no line can pass for a boundary). Such a part with a
 *   clean body, declared 8bit, is only relabelled "7bit".
 * - multipart parts and message/rfc822 (message/global) are descended into;
 *   their own 8bit or binary label becomes "7bit".
 * - Everything else passes byte for byte: other parts (base64 ones
 *   included) and all header fields but Content-Transfer-Encoding.
 * What cannot be converted (the verdict says why, for the DSN): 8-bit
 *   bytes in a header (unless the peer takes SMTPUTF8), 8-bit content
 *   inside multipart/signed or multipart/encrypted (the signature would
 *   break), in a part labelled binary, base64, quoted-printable or an
 *   unknown encoding, in a preamble or epilogue (also: a multipart whose
 *   boundary never shows up), in a multipart without a boundary or nested
 *   deeper than MIME_7BIT_MAX_DEPTH, or in a message of more than
 *   MIME_7BIT_MAX_ENTITIES parts.
 *
 * Limits: the filter buffers at most one header field
 * (MIME_7BIT_FIELD_MAX; a longer field passes as it is, uninterpreted,
 * and makes the message unconvertible when it is a Content-* field that
 * matters) and MIME_7BIT_LINE_MAX bytes of a body line (longer lines are
 * handled in pieces; only a shorter line can be a boundary), plus one
 * byte per part for the plan. Boundaries and header-ending rules are
 * those of lib/mime.h. */
#ifndef POSTERN_MIME_7BIT_H
#define POSTERN_MIME_7BIT_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define MIME_7BIT_LINE_MAX 8192
#define MIME_7BIT_FIELD_MAX 65536
#define MIME_7BIT_MAX_DEPTH 32
#define MIME_7BIT_MAX_ENTITIES 10000
/* RFC 2046 5.1.1 says 70; a little slack for sloppy senders */
#define MIME_7BIT_BOUNDARY_MAX 200
/* Encoded lines of quoted-printable, soft break included (RFC 2045 6.7) */
#define MIME_7BIT_QP_LINE 76

struct mime_7bit;

struct mime_7bit *mime_7bit_new(void);
void mime_7bit_free(struct mime_7bit **fp);

/* Pass 1: feed the message (content as queued, CRLF or LF lines) in
 * chunks of any size, then end it. */
void mime_7bit_scan(struct mime_7bit *f, const void *data, size_t len);
void mime_7bit_scan_end(struct mime_7bit *f);
/* After mime_7bit_scan_end(): 0 when the message is 7-bit already (send
 * it as it is), 1 when it has 8-bit content that pass 2 makes 7-bit, -1
 * when it has 8-bit content that cannot be converted (*error_r: why, a
 * static string). allow_8bit_headers: the peer takes SMTPUTF8, so 8-bit
 * header bytes may stay (then 0 if the bodies are 7-bit). May be asked
 * again with another allow_8bit_headers. */
int mime_7bit_verdict(const struct mime_7bit *f, bool allow_8bit_headers,
		      const char **error_r);

/* Pass 2 (after a verdict of 1): feed exactly the bytes of pass 1 again;
 * the converted content is appended to out (in the queued form: dots not
 * stuffed; line ends of passed-through parts as they were). The first
 * call starts the pass; mime_7bit_convert_end() ends it, after which pass
 * 2 may run again (another delivery attempt). */
void mime_7bit_convert(struct mime_7bit *f, const void *data, size_t len,
		       struct str *out);
void mime_7bit_convert_end(struct mime_7bit *f, struct str *out);

/* Both passes over a message in memory, for tests: returns the verdict
 * and, when it is 1, appends the converted message to out. */
int mime_7bit_buffer(const char *data, size_t len, bool allow_8bit_headers,
		     struct str *out, const char **error_r);

#endif
