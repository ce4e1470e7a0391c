/* mime_int.h: what the files of the MIME module (mime.c, mime_param.c,
 * mime_addr.c, mime_imap.c, mime_section.c) share; not an API for other
 * modules. */
#ifndef POSTERN_MIME_INT_H
#define POSTERN_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mime.h"
#include "str.h"

struct mime_chunk;

struct mime_message {
	const char *data;
	size_t len;
	struct mime_part *root;
	size_t part_count;
	struct mime_chunk *chunks; /* the arena all parts and strings live in */
};

/* Zeroed memory that lives as long as m. */
void *mime_alloc(struct mime_message *m, size_t size);
/* A NUL-terminated copy of s[0..len) in m's arena. */
char *mime_strndup(struct mime_message *m, const char *s, size_t len);

/* One header field: name (without the colon and the whitespace before
 * it), value (after the colon, with folding line ends, without the final
 * line end) and raw (the whole field with its continuation lines and its
 * final line end). A line without a colon is a field with an empty value
 * whose name is the whole line. */
struct mime_field {
	const char *name, *value, *raw;
	size_t name_len, value_len, raw_len;
};

/* Steps through the fields of hdr[0..len) from *pos (start at 0): true
 * with *f filled, false at the blank line ending the header or at len. */
bool mime_field_next(const char *hdr, size_t len, size_t *pos,
		     struct mime_field *f);
/* Case-insensitive test of the field name. */
bool mime_field_is(const struct mime_field *f, const char *name);
/* Appends value unfolded: CR and LF dropped, leading and trailing
 * whitespace trimmed. */
void mime_unfold(const char *value, size_t len, struct str *out);

/* Parses the Content-Type (want_subtype) or Content-Disposition value
 * (already unfolded) into a lower-case type (and subtype) and parameters
 * in m's arena. Returns 1, or 0 when the value is not usable. */
struct mime_value {
	const char *type, *subtype;
	struct mime_param *params;
	size_t param_count;
};
int mime_value_parse(struct mime_message *m, const char *s, size_t len,
		     bool want_subtype, struct mime_value *v);

/* IMAP strings: quoted when possible, a literal when the text has 8-bit
 * bytes, CR or LF; NUL bytes are dropped. nstring: NULL gives NIL. */
void mime_imap_string(struct str *out, const char *s, size_t len);
void mime_imap_nstring(struct str *out, const char *s);

/* Writes an address-list header value (raw, may be folded) as an IMAP
 * address list "(" 1*address ")", or NIL when it holds no address;
 * returns the number of address structures written. */
size_t mime_addr_write(const char *value, size_t len, struct str *out);

/* The part that section numbers nums[0..count) name (RFC 9051 6.4.5), or
 * NULL if there is none. count 0 = the root. */
const struct mime_part *mime_part_by_numbers(const struct mime_message *m,
					     const unsigned *nums,
					     size_t count);

#endif
