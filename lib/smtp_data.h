/* smtp_data.h: the framing of message content on the server side of SMTP
 * and LMTP (smtpd, lmtpd), kept free of I/O so that unit tests and a fuzz
 * target drive exactly the code the daemons run.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): lines come from lib/iobuf, which tells a
 * CRLF ending from a bare LF and leaves a CR that is not followed by LF
 * inside the line. The end of data is ONLY a line "." ended by CRLF that
 * follows a CRLF (or starts the data). A bare LF or a bare CR anywhere in
 * the content, and a NUL byte, mark the message as bad: reading goes on
 * until the real end of data (so no byte is ever taken for a command), and
 * the message is refused then; smtpd turns a bare LF into "521 bad client"
 * and closes at once (smtpd_forbid_bare_newline = yes). With bare_lf_ok
 * set (smtpd_forbid_bare_newline = no, or an excluded client), a bare LF
 * is a line end and is stored as CRLF, but the end of data still needs
 * CRLF "." CRLF after a CRLF, so nothing can be smuggled either way.
 * Leading dots are removed per 4.5.2 (at the start of data and after a
 * CRLF).
 *
 * BDAT (RFC 3030): chunks are raw bytes with no dot-stuffing; the same
 * checks (bare CR, bare LF, NUL, size) apply across chunk boundaries; with
 * bare_lf_ok a bare LF is stored as CRLF. */
#ifndef POSTERN_SMTPD_DATA_H
#define POSTERN_SMTPD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iobuf.h"
#include "str.h"

/* Why a message is refused (bits; DATA_F_NONE = good so far). */
#define DATA_F_BARE_LF 0x01u
#define DATA_F_BARE_CR 0x02u
#define DATA_F_NUL 0x04u
#define DATA_F_TOO_BIG 0x08u
#define DATA_F_LINE_TOO_LONG 0x10u

struct smtpd_data {
	uint64_t max;	 /* most content bytes; 0 = no limit */
	uint64_t size;	 /* content bytes seen (counted even when bad) */
	unsigned flags;	 /* DATA_F_* */
	bool after_crlf; /* DATA: the previous line ended with CRLF */
	bool pending_cr; /* BDAT: the last chunk ended with a CR */
	bool bare_lf_ok; /* a bare LF is a line end, stored as CRLF */
};

/* Starts a message of at most max bytes (0 = unlimited); bare LF refused
 * (set bare_lf_ok after this call to accept it). */
void smtpd_data_init(struct smtpd_data *d, uint64_t max);

/* DATA: one line from iobuf_read_line() (data without terminator, and
 * how it ended). Appends the unstuffed line and CRLF to out while the
 * message is still good (never more than max bytes). Returns 1 when this
 * line was the end of data (nothing appended), else 0. */
int smtpd_data_line(struct smtpd_data *d, const char *line, size_t len,
		    enum iobuf_eol eol, struct str *out);
/* DATA: iobuf dropped an overlong line (IOBUF_TOO_LONG) that ended with
 * eol: the message is refused. */
void smtpd_data_line_dropped(struct smtpd_data *d, enum iobuf_eol eol);

/* BDAT: len raw bytes of a chunk; appended to out while the message is
 * good. */
void smtpd_data_chunk(struct smtpd_data *d, const char *data, size_t len,
		      struct str *out);
/* BDAT LAST: a CR at the very end of the message is a bare CR. */
void smtpd_data_chunk_end(struct smtpd_data *d);

/* The reply for a refused message (code, enhanced status and text, no
 * CRLF), or NULL when flags is 0. Static text. */
const char *smtpd_data_error_reply(unsigned flags);

#endif
