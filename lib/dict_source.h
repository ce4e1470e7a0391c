/* dict_source.h: reader of the table source syntax shared by `postern map`
 * (hash, btree, lmdb builds), texthash and aliases, and (one level down,
 * as logical lines) by the pcre and regexp table files.
 *
 * Syntax (as postmap): one entry per logical line, "key whitespace value";
 * a line whose first non-whitespace character is "#" is a comment; blank
 * and whitespace-only lines are skipped; a line that starts with whitespace
 * continues the previous logical line (comment and blank lines in between
 * do not end it): the line break and the whitespace around it become one
 * space. A key may be written in double quotes to hold whitespace or a
 * leading '#' ("a b" value); inside quotes \" is a quote and \\ a
 * backslash, any other backslash is kept as is. The value is the rest of
 * the logical line, trailing whitespace removed. Lines may end in CRLF.
 *
 * The same files may be written as aliases(5) says: "name: value, value",
 * i.e. a ':' that ends the key (unquoted "name:", or "quoted name":) is
 * not part of it. So one reader serves postern map, newaliases and
 * texthash tables whether the file is an aliases file or a postmap-style
 * table, with nothing to tell them apart: no lookup key (address, domain,
 * local part, IP address or network) ends in ':', so no working table
 * changes meaning. A key that must end in ':' is written in quotes
 * ("key:" value). Values are kept as written (the comma list is split by
 * whoever reads aliases: local(8)).
 *
 * Errors, each naming "path:line: " and stopping the parse:
 *   line longer than N bytes   (physical or logical; DICT_SOURCE_LINE_MAX)
 *   NUL byte in line
 *   continuation line without a preceding entry
 *   expected key whitespace value     (a key with no value)
 *   unterminated quoted key / expected whitespace after quoted key /
 *   empty key
 * Memory use is bounded: files are read through a 64 KiB buffer that grows
 * only for long lines, up to the line limit. */
#ifndef POSTERN_DICT_SOURCE_H
#define POSTERN_DICT_SOURCE_H

#include <stddef.h>

#define DICT_SOURCE_LINE_MAX (1024 * 1024)

/* Called for each entry; line is the number of the entry's first line.
 * key and value are NUL-terminated, non-empty and valid only during the
 * call. Returns 0 to go on, -1 to stop (the parse then returns -1 with the
 * callback's *error_r, passed on unchanged). */
typedef int dict_source_fn(void *ctx, const char *key, const char *value,
			   int line, const char **error_r);

/* Streams the file (does not load it whole). Errors read
 * "path:line: message" (or "path: message" for open/read failures) and
 * stay valid until the next call into this module. Returns 1 ok, -1 error. */
int dict_source_parse_file(const char *path, dict_source_fn *fn, void *ctx,
			   const char **error_r);
/* Same over a buffer (which may hold NUL bytes: they are reported); origin
 * names it in errors. */
int dict_source_parse_buffer(const char *origin, const char *buf, size_t len,
			     dict_source_fn *fn, void *ctx,
			     const char **error_r);

/* ---- logical lines, for the pattern table files ---------------------- */

/* Called for each logical line: comments and blank lines dropped,
 * continuations joined, trailing whitespace removed. text is
 * NUL-terminated, len bytes, never empty, and may be modified by the
 * callback; it goes stale after the call. Return as dict_source_fn. */
typedef int dict_source_line_fn(void *ctx, char *text, size_t len, int line,
				const char **error_r);

int dict_source_lines_file(const char *path, dict_source_line_fn *fn, void *ctx,
			   const char **error_r);
int dict_source_lines_buffer(const char *origin, const char *buf, size_t len,
			     dict_source_line_fn *fn, void *ctx,
			     const char **error_r);

/* For tests and fuzzers: parses entries from an open descriptor, reading
 * at most chunk bytes per read(2) (chunk 1 trickles input a byte at a
 * time). The descriptor is not closed. */
int dict_source_parse_fd(const char *origin, int fd, size_t chunk,
			 dict_source_fn *fn, void *ctx, const char **error_r);

#endif
