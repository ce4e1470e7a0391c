/* content.h: what pickup checks and reads in a maildrop file's content
 * before it copies it into incoming/: the line ends (CRLF only: postdrop
 * converted them, but maildrop files are less trusted than the queue), and
 * which of the headers a submission must carry are present. Pure functions
 * over buffers, so that unit tests and fuzz/maildrop_fuzz.c drive them. */
#ifndef POSTERN_PICKUP_CONTENT_H
#define POSTERN_PICKUP_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

/* Line-end checker, fed the content in pieces. */
struct pickup_crlf {
	bool after_cr; /* the last byte was CR */
	bool at_bol;   /* the next byte starts a line */
	bool started;
};
void pickup_crlf_init(struct pickup_crlf *c);
/* Returns 1, or -1 with *error_r on a bare CR, a bare LF or a NUL. */
int pickup_crlf_check(struct pickup_crlf *c, const void *data, size_t len,
		      const char **error_r);
/* At the end: -1 when the content does not end with CRLF (and is not
 * empty). */
int pickup_crlf_finish(const struct pickup_crlf *c, const char **error_r);

/* The header section of data[0..len) (CRLF lines). */
struct pickup_headers {
	size_t end;	  /* where the header section ends (before the
			     empty line, or before the first line that is
			     not a header field) */
	bool blank_line;  /* an empty line follows at end */
	bool needs_blank; /* a line that is no header field follows at
			     end: the header needs an empty line there */
	bool has_date, has_message_id, has_from;
};
/* Scans data, the start of the content (up to the reader's limit). When
 * the header section does not end within data, end is the last complete
 * line's end and the rest is treated as body. Never fails. */
void pickup_headers_scan(const char *data, size_t len,
			 struct pickup_headers *h);

#endif
