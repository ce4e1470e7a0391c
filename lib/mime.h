/* mime.h: the MIME structure of a message held in memory, and what IMAP
 * asks of it: ENVELOPE, BODY and BODYSTRUCTURE, FETCH BODY[section] and
 * BINARY[section], header values and body text for SEARCH.
 *
 * imapd loads a message in CRLF form and parses it once with mime_parse();
 * the result holds offsets into that buffer, which must outlive it. All
 * sizes and offsets are of the buffer as given (CRLF sizes for imapd). The
 * parser makes one pass over the data (line starts found with memchr),
 * never fails and never loops: malformed input gets the RFC defaults.
 *
 * Choices where the RFCs leave room (all tested in t/unit/mime.c):
 * - A header ends at its blank line (which it includes), at a boundary
 *   delimiter line of an enclosing multipart, or at the end of the data;
 *   a line without a colon in a header is kept as a nameless field.
 * - A boundary delimiter line is "--" boundary followed by nothing but
 *   whitespace ("--" boundary "--" for the close delimiter); the innermost
 *   multipart's boundary is tried first. The CRLF before a delimiter
 *   belongs to the delimiter, not to the part (so a header that runs into
 *   a delimiter line without a blank line ends without its line end),
 *   except where a part's last child ends with that CRLF (an enclosed
 *   message that is all header): the parent keeps it, so that every part
 *   lies inside its parent.
 * - A multipart that cannot be split (no boundary parameter, no delimiter
 *   line in its body, or a depth/part limit reached) gets one child: its
 *   whole body as a header-less text/plain part. So BODYSTRUCTURE is always
 *   valid IMAP and BODY[1] still reaches the text.
 * - A message/rfc822 or message/global part past the depth or part limit
 *   is reported as application/octet-stream (not descended into).
 * - RFC 2231 parameters (name*0, name*1*, name*=charset'lang'...) are
 *   merged and decoded into the plain parameter name, converted to UTF-8,
 *   replacing a plain parameter of the same name: clients that never
 *   heard of RFC 2231 still see the file name.
 * - A text part without a charset parameter is given charset=us-ascii
 *   (RFC 2046 4.1.2), as BODYSTRUCTURE shows it.
 * - Content-Type that does not parse as type "/" subtype gives the default
 *   (text/plain; charset=us-ascii, or message/rfc822 in a digest). */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define MIME_DEFAULT_MAX_DEPTH 32
#define MIME_DEFAULT_MAX_PARTS 2000
/* Hard cap on max_depth whatever the caller asks (the parser recurses). */
#define MIME_MAX_DEPTH_CAP 200

struct mime_limits {
	unsigned max_depth; /* nesting of multipart and message parts */
	size_t max_parts;   /* parts in the whole message */
};

/* A Content-Type or Content-Disposition parameter: name lower-case,
 * value unquoted (RFC 2231 decoded, see above). */
struct mime_param {
	const char *name;
	const char *value;
};

struct mime_part {
	size_t header_offset, header_size; /* the header incl. the blank line */
	size_t body_offset, body_size;
	size_t body_lines;	    /* LF count in the body */
	const char *type, *subtype; /* lower-case */
	struct mime_part *parent;
	/* Array: multipart parts, or for message/rfc822 (and message/global)
	 * one child: the enclosed message's top part. */
	struct mime_part *children;
	size_t child_count;

	/* From the part's header; strings are unfolded (CR LF dropped, outer
	 * whitespace trimmed), NULL when the field is absent. */
	const struct mime_param *params; /* Content-Type parameters */
	size_t param_count;
	const char *encoding; /* Content-Transfer-Encoding token, lower-case;
				 "7bit" when absent */
	const char *id, *description, *md5, *location;
	const char *language;	 /* Content-Language, raw ("en, de") */
	const char *disposition; /* Content-Disposition type, lower-case */
	const struct mime_param *disp_params;
	size_t disp_param_count;
	bool has_content_type; /* false: type, subtype and charset are defaults
				*/
	bool is_message;       /* message/rfc822 or /global with its child */
};

struct mime_message;

/* Parses data[0..len) (CRLF form, but anything is tolerated); data must
 * outlive the result. Never fails. NULL limits = the defaults. */
struct mime_message *mime_parse(const char *data, size_t len,
				const struct mime_limits *limits);
void mime_message_free(struct mime_message **mp);
const struct mime_part *mime_root(const struct mime_message *m);
const char *mime_data(const struct mime_message *m, size_t *len_r);
/* Parts in the tree (root, children and synthesized parts). */
size_t mime_part_count(const struct mime_message *m);
/* The value of a Content-Type parameter (name lower-case), or NULL. A
 * text part without a charset parameter has charset=us-ascii added (RFC
 * 2046 4.1.2), so "charset" is always there for text parts. */
const char *mime_part_param(const struct mime_part *p, const char *name);

/* IMAP writers: append the parenthesized IMAP form to out. Strings with
 * 8-bit bytes, CR or LF are sent as literals ({n} CRLF bytes), which
 * IMAP4rev1 and IMAP4rev2 clients both read; NUL bytes are dropped. */
/* ENVELOPE of the top header (RFC 9051 7.5.2). Date, Subject, In-Reply-To
 * and Message-ID are the raw unfolded values (not RFC 2047 decoded); when
 * Sender or Reply-To is absent or has no address, From's list is used. */
void mime_imap_envelope(const struct mime_message *m, struct str *out);
/* extended=false: FETCH BODY; true: FETCH BODYSTRUCTURE with every
 * extension field (md5, disposition, language, location for one part;
 * parameters, disposition, language, location for multipart; Content-MD5
 * is the field's value, or NIL). Type, subtype and parameter names are
 * written lower-case, the encoding upper-case ("7BIT" when absent or not
 * a token); a missing multipart part is never written (see above). The
 * result includes the outer parentheses. */
void mime_imap_bodystructure(const struct mime_message *m, bool extended,
			     struct str *out);

/* FETCH BODY[section]: section is the text between the brackets as sent,
 * e.g. "", "HEADER", "TEXT", "1", "1.2.MIME", "2.HEADER.FIELDS (From To)",
 * "HEADER.FIELDS.NOT (Received)" (keywords and field names case-
 * insensitive; names may be atoms, quoted strings or literals). Appends
 * the section's bytes to out. HEADER.FIELDS gives the matching field lines
 * (with their continuation lines) in message order plus a final CRLF.
 * Numbers: for a single-part message (or message/rfc822 part) "1" is its
 * body; HEADER, TEXT and HEADER.FIELDS after numbers need a message/rfc822
 * part. A part that does not exist gives an empty result. Returns 1, or
 * -1 with *error_r for a syntax error in section (-> BAD). */
int mime_fetch_section(const struct mime_message *m, const char *section,
		       struct str *out, const char **error_r);
/* Same, but a result that is a plain byte range of the message (BODY[],
 * BODY[TEXT], BODY[1], BODY[1.HEADER], BODY[1.MIME]...) sets
 * *offset_r and *size_r and returns 2 without copying (a nonexistent part:
 * 2 with size 0). HEADER.FIELDS[.NOT] returns 1 with the result in out. */
int mime_section_range(const struct mime_message *m, const char *section,
		       struct str *out, size_t *offset_r, size_t *size_r,
		       const char **error_r);
/* BINARY[section] (RFC 3516): section is "" or part numbers ("1.2"). The
 * part's body with its Content-Transfer-Encoding undone (base64 and
 * quoted-printable leniently; 7bit, 8bit and binary as they are); "" is
 * the whole message as it is. Returns 1 (a nonexistent part: empty), 0
 * when the encoding is unknown (-> NO [UNKNOWN-CTE]), -1 with *error_r for
 * a bad section. BINARY.SIZE: the same call, the caller measures. */
int mime_fetch_binary(const struct mime_message *m, const char *section,
		      struct str *out, const char **error_r);

/* SEARCH support */
/* The value(s) of header field name (case-insensitive) in the top header,
 * all occurrences joined by " ", unfolded, RFC 2047 decoded to UTF-8 and
 * appended to out. Returns 1, or 0 if there is no such field. */
int mime_header_get(const struct mime_message *m, const char *name,
		    struct str *out);
/* Same on a raw header block (e.g. a cached header); it ends at its blank
 * line or at len. */
int mime_header_block_get(const char *hdr, size_t len, const char *name,
			  struct str *out);
/* The text for SEARCH BODY/TEXT: every text part, and the header of
 * every message/rfc822 part, transfer-decoded and converted to UTF-8
 * (undecodable bytes -> U+FFFD), parts separated by "\n", appended to
 * out. Stops after MIME_BODY_TEXT_MAX bytes. */
#define MIME_BODY_TEXT_MAX (16 * 1024 * 1024)
void mime_body_text(const struct mime_message *m, struct str *out);

#endif
