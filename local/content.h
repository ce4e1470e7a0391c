/* content.h: a queued message as the file, command and pipe deliveries
 * hand it on. The queue keeps the content with lines ending in CRLF; a
 * content stream yields it in the local convention (lines ending in LF),
 * after a prefix the caller composes (an mbox "From " line,
 * Return-Path:, Delivered-To:, ...), optionally quoting lines that start
 * with "From " (mbox) or doubling a leading '.' (pipe's '.' flag), and
 * optionally ending with an empty line. Used by local (file.c, command.c)
 * and by the pipe daemon; the Maildir path (mailbox.c) has its own copy
 * loop because it needs none of these options. */
#ifndef POSTERN_LOCAL_CONTENT_H
#define POSTERN_LOCAL_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "str.h"

#define CONTENT_QUOTE_FROM (1u << 0) /* ">From " for lines "From " */
#define CONTENT_DOT (1u << 1)	     /* ".." for lines starting with "." */
#define CONTENT_BLANK_END (1u << 2)  /* end with "\n\n" (mbox) */

/* Most bytes of the header block content_read_headers() keeps. */
#define CONTENT_HEADERS_MAX (256 * 1024)

struct content_stream {
	int fd; /* the queue file (not owned) */
	uint64_t offset, size, pos;
	unsigned flags;
	struct str prefix; /* emitted first, as is: fill it before reading */
	bool prefix_done, bol, cr, done;
	char hold[5]; /* the start of a line that may turn out "From " */
	size_t hold_len;
	char last; /* last byte emitted, '\n' before any */
};

/* Starts a stream over size bytes at offset in fd. */
void content_init(struct content_stream *s, int fd, uint64_t offset,
		  uint64_t size, unsigned flags);
void content_deinit(struct content_stream *s);
/* Appends the next piece (up to about 64 KiB) to out. Returns 1 when
 * something was appended, 0 at the end (nothing appended), -1 with
 * *error_r (static) when the queue file cannot be read or is shorter than
 * size. */
int content_next(struct content_stream *s, struct str *out,
		 const char **error_r);
/* Reads pieces and writes them to fd until the end. Returns 1 or -1. */
int content_write_fd(struct content_stream *s, int fd, const char **error_r);

/* Reads the header block (up to the empty line, CRLF kept, at most
 * CONTENT_HEADERS_MAX bytes) into out (replaced). Returns 1 or -1. */
int content_read_headers(int fd, uint64_t offset, uint64_t size,
			 struct str *out, const char **error_r);
/* Counts header fields named name in the block h (CRLF lines); with
 * value, only those whose value is value (case-insensitive, blanks around
 * ignored). */
size_t content_header_count(const struct str *h, const char *name,
			    const char *value);

/* Appends an mbox "From " line: "From SENDER Thu Nov 24 18:22:48 1986\n"
 * (local time, C locale), the null sender as MAILER-DAEMON. */
void content_from_line(struct str *out, const char *sender, time_t when);

#endif
