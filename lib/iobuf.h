/* iobuf.h: non-blocking buffered line and raw I/O on one connection.
 *
 * The input side splits what the peer sends into lines with a maximum
 * length, tells CRLF from a bare LF, and can also hand out a fixed number of
 * raw bytes (SMTP BDAT, IMAP literals) from the same buffer. The output side
 * collects replies up to a maximum and writes them when the fd is writable;
 * iobuf_output_backed_up() tells the owner to stop taking input from a peer
 * that does not read its replies.
 *
 * All I/O goes through a struct iobuf_transport (plain fd by default), so
 * that a TLS transport can be slotted in after STARTTLS without touching the
 * buffering. The iobuf does not know the event loop: the owner waits for
 * EVENT_READ after IOBUF_NEED_MORE and for EVENT_WRITE while
 * iobuf_flush() returns 0.
 *
 * Pointers returned by the read functions point into the buffer and go stale
 * at the next call on the same iobuf. */
#ifndef POSTERN_IOBUF_H
#define POSTERN_IOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "str.h"

/* Both functions behave like read(2)/write(2) on a non-blocking fd: they
 * return the bytes moved (> 0), 0 for end of input (read only), or -1 with
 * errno: EAGAIN/EWOULDBLOCK = would block, EINTR = try again, anything else
 * ends the connection. A transport that keeps input out of the fd's sight
 * (TLS records) must hand it all out before reporting EAGAIN, because the
 * owner only waits on the fd. */
struct iobuf_transport {
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
};

struct iobuf_limits {
	size_t max_line;   /* longest line, not counting the CRLF or LF */
	size_t max_output; /* most bytes of output waiting to be written */
};

#define IOBUF_DEFAULT_MAX_LINE 8192
#define IOBUF_DEFAULT_MAX_OUTPUT (1024 * 1024)
/* Largest max_line accepted (a larger one is a configuration bug). */
#define IOBUF_MAX_LINE_LIMIT ((size_t)256 * 1024 * 1024)

enum iobuf_status {
	IOBUF_ERROR = -1,    /* transport error (iobuf_error()); sticky */
	IOBUF_NEED_MORE = 0, /* nothing complete yet: wait for EVENT_READ */
	IOBUF_OK = 1,	     /* a line or raw data is returned */
	IOBUF_TOO_LONG = 2,  /* a line over max_line was read and dropped */
	IOBUF_EOF = 3,	     /* the peer closed; nothing complete is left */
};

enum iobuf_eol {
	IOBUF_EOL_LF = 1,   /* a bare LF */
	IOBUF_EOL_CRLF = 2, /* CR LF */
};

struct iobuf_line {
	const char *data; /* data[len] == '\0'; may contain NUL bytes */
	size_t len;
	enum iobuf_eol eol;
};

struct iobuf;

/* A buffer on a non-blocking fd (not owned: never closed here). limits
 * NULL = the defaults; max_line must be <= IOBUF_MAX_LINE_LIMIT. */
struct iobuf *iobuf_new(int fd, const struct iobuf_limits *limits);
/* The same over transport t with its ctx (t must outlive the iobuf). */
struct iobuf *iobuf_new_transport(const struct iobuf_transport *t, void *ctx,
				  const struct iobuf_limits *limits);
/* Switches transport, e.g. to TLS once the handshake is done. Call
 * iobuf_take_input() first: bytes that arrived in plaintext must not be
 * read as if they came through the new transport. */
void iobuf_set_transport(struct iobuf *b, const struct iobuf_transport *t,
			 void *ctx);
/* Frees everything (pending output is dropped); *bp = NULL. */
void iobuf_free(struct iobuf **bp);

/* Returns the next line, reading from the transport only when no complete
 * line is buffered (so call it again, without waiting, after handling a
 * line: pipelined lines may already be here).
 * IOBUF_OK: *line_r holds the line without its terminator, and which
 *   terminator it had. A CR not followed by LF is part of the line.
 * IOBUF_TOO_LONG: a line with more than max_line bytes ended; it was
 *   dropped whole, reported once, and reading continues after it
 *   (line_r->eol tells how it ended; data is empty).
 * IOBUF_NEED_MORE: wait for EVENT_READ (also returned after discarding a
 *   large amount of an overlong line in one call, to stay fair).
 * IOBUF_EOF: the peer closed; an unterminated last line is not returned
 *   (iobuf_input_pending() counts it).
 * IOBUF_ERROR: see iobuf_error(); complete lines buffered before the
 *   error are still returned first. */
enum iobuf_status iobuf_read_line(struct iobuf *b, struct iobuf_line *line_r);
/* Returns 1..max raw bytes (from the buffer first, then one transport
 * read) in *data_r and *len_r with IOBUF_OK; or IOBUF_NEED_MORE, IOBUF_EOF,
 * IOBUF_ERROR. Bytes after the requested ones stay buffered for the next
 * line. max must be > 0; not allowed while an overlong line is being
 * dropped (a caller bug: it aborts). */
enum iobuf_status iobuf_read_data(struct iobuf *b, size_t max,
				  const void **data_r, size_t *len_r);
/* Bytes received but not yet returned (a partial line counts). */
size_t iobuf_input_pending(const struct iobuf *b);
/* Hands all unread input to out (appended; out must have no max; NULL =
 * drop it) and empties the input buffer, ending any overlong-line discard.
 * Returns the byte count. Used after STARTTLS: plaintext pipelined behind
 * it must never be read as a command. */
size_t iobuf_take_input(struct iobuf *b, struct str *out);

/* Appends output; returns 1, or -1 (nothing appended) if the pending
 * output would exceed max_output: the owner should have stopped at
 * iobuf_output_backed_up(). Nothing is written before iobuf_flush(). */
int iobuf_write(struct iobuf *b, const void *data, size_t len);
int iobuf_printf(struct iobuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes as much pending output as the transport takes. Returns 1 when all
 * is written, 0 when some is left (wait for EVENT_WRITE and flush again),
 * -1 on error (see iobuf_error()). */
int iobuf_flush(struct iobuf *b);
size_t iobuf_output_pending(const struct iobuf *b);
/* True while pending output is at least half of max_output: stop reading
 * (and stop handling buffered lines) until a flush brings it down, then
 * call iobuf_read_line() again before waiting, since lines may be buffered
 * already. */
bool iobuf_output_backed_up(const struct iobuf *b);

/* Text of the last IOBUF_ERROR or flush error; valid until the next call
 * on b. "" when there was none. */
const char *iobuf_error(const struct iobuf *b);

#endif
