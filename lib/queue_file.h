/* queue_file.h: the queue file format (encode and strict decode), the
 * reader that delivery agents, qmgr, pickup and the queue CLI use, and the
 * in-place marks made after commit. doc/queue.md has the full protocol.
 *
 * Layout of a queue file, version 1 (integers little-endian):
 *   header    32 bytes: "POSTERNQ", u16 version, u8 state flags (patched in
 *             place), u8 zero, u32 envelope length E, 16-byte queue ID
 *   envelope  E bytes of records: u8 type, u16 length, value; the last
 *             record is 'M' with length 0 (content follows)
 *   content   the message, C bytes, stored as received (CRLF lines)
 *   trailer   16 bytes: "QEND", u32 zero, u64 C
 * A file is complete when its owner-execute bit is set (the writer sets it
 * just before its fsync) and its size is exactly 32 + E + C + 16.
 *
 * Every envelope value is length-prefixed, and also free of control
 * characters (0x00-0x1f, 0x7f: CR, LF, NUL, TAB, ...) because values end
 * up in headers and log lines: the encoder and the decoder both refuse
 * them. Values are otherwise opaque (UTF-8 allowed). */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue_id.h"
#include "str.h"

#define QUEUE_FILE_VERSION 1
#define QUEUE_HEADER_SIZE 32
#define QUEUE_TRAILER_SIZE 16
#define QUEUE_VALUE_MAX 2048		      /* bytes per envelope value */
#define QUEUE_RCPT_MAX 100000		      /* recipients per message */
#define QUEUE_ENVELOPE_MAX (16 * 1024 * 1024) /* bytes of envelope records */

/* Optional string fields of the envelope (client facts for Received:,
 * logs and policy; DSN ENVID). */
enum queue_field {
	QUEUE_FIELD_ENVID,	 /* DSN ENVID, as received (xtext) */
	QUEUE_FIELD_CLIENT_NAME, /* verified reverse name or "unknown" */
	QUEUE_FIELD_CLIENT_ADDR, /* IP address, no brackets */
	QUEUE_FIELD_CLIENT_PORT, /* decimal */
	QUEUE_FIELD_HELO,	 /* HELO/EHLO argument */
	QUEUE_FIELD_PROTOCOL,	 /* SMTP, ESMTP, ESMTPS, ESMTPSA, UTF8SMTP... */
	QUEUE_FIELD_TLS_PROTOCOL, /* e.g. TLSv1.3 */
	QUEUE_FIELD_TLS_CIPHER,	  /* e.g. TLS_AES_256_GCM_SHA384 */
	QUEUE_FIELD_TLS_BITS,	  /* e.g. 256/256 */
	QUEUE_FIELD_TLS_PEER,	  /* verified client certificate subject */
	QUEUE_FIELD_SASL_METHOD,  /* PLAIN, LOGIN, ... */
	QUEUE_FIELD_SASL_USER,	  /* authenticated user */
	QUEUE_FIELD_LOCAL_USER,	  /* login of a local (sendmail) submitter */
	QUEUE_FIELD_FULL_NAME,	  /* sendmail -F */
	QUEUE_FIELD_COUNT
};

/* DSN RET (RFC 3461). */
enum queue_ret { QUEUE_RET_NONE, QUEUE_RET_FULL, QUEUE_RET_HDRS };

/* DSN NOTIFY bits per recipient; 0 = not given (the default applies).
 * NEVER excludes the others. */
#define QUEUE_NOTIFY_NEVER 0x01u
#define QUEUE_NOTIFY_SUCCESS 0x02u
#define QUEUE_NOTIFY_FAILURE 0x04u
#define QUEUE_NOTIFY_DELAY 0x08u

/* Message flags fixed at commit. 8BITMIME and BINARYMIME exclude each other
 * (neither = 7BIT or not declared). */
#define QUEUE_MSG_8BITMIME 0x01u
#define QUEUE_MSG_BINARYMIME 0x02u
#define QUEUE_MSG_SMTPUTF8 0x04u

/* Message state flags, patched in place after commit. */
#define QUEUE_STATE_WARNED 0x01u /* delay warning sent */
#define QUEUE_STATE_EXPIRE 0x02u /* forced to expire (queue CLI) */

/* Per-recipient done-mark, one byte patched in place. The reasons (reply
 * text, DSN status) live in the per-message logs bounce/ID and defer/ID. */
enum queue_rcpt_status {
	QUEUE_RCPT_PENDING = 'R', /* still to deliver */
	QUEUE_RCPT_DONE = 'D',	  /* delivered (or expanded): never again */
	QUEUE_RCPT_FAILED = 'F',  /* failed for good; in bounce/ID */
};

struct queue_rcpt {
	const char *address; /* internal form; never empty */
	const char *orcpt;   /* DSN ORCPT "type;xtext", or NULL */
	unsigned notify;     /* QUEUE_NOTIFY_* */
	enum queue_rcpt_status status;
};

/* The envelope. For the encoder the caller owns every pointer; from the
 * reader everything lives inside the struct queue_file. */
struct queue_envelope {
	char id[QUEUE_ID_SIZE];
	uint64_t arrival_usec; /* microseconds since the epoch */
	const char *sender;    /* "" for the null sender <> */
	const char *fields[QUEUE_FIELD_COUNT]; /* NULL when absent */
	enum queue_ret ret;
	unsigned msg_flags; /* QUEUE_MSG_* */
	unsigned state;	    /* QUEUE_STATE_* */
	size_t rcpt_count;
	struct queue_rcpt *rcpts;
};

/* "envid", "client_name", ... (for show, JSON and errors). */
const char *queue_field_name(enum queue_field field);

/* Checks one value: 1, or -1 with *error_r naming what when it holds a
 * control character or is longer than QUEUE_VALUE_MAX. */
int queue_value_check(const char *what, const char *value, size_t len,
		      const char **error_r);

/* Validates env (values, limits, at least one recipient) and appends the
 * header and the envelope records to out. Returns 1 or -1 with *error_r. */
int queue_file_encode(const struct queue_envelope *env, struct str *out,
		      const char **error_r);
/* Appends the trailer of a content of content_size bytes. */
void queue_file_encode_trailer(uint64_t content_size, struct str *out);

/* ---- reading ---- */

struct queue_file;

#define QUEUE_OPEN_WRITE 0x01u /* open read-write, for the marks below */

/* Opens, checks and parses the queue file name in dirfd (or path). name
 * must be the queue ID the header carries. Takes a shared flock that
 * lasts until close (the writer holds an exclusive one until its commit
 * has returned). Returns:
 *   1  ok: *qf_r is open, the content can be streamed from its fd;
 *   0  not ready: no completion mark yet, or still locked by its writer
 *      (*error_r says which); try again later, never move it to corrupt/;
 *  -1  error with *error_r. errno is EBADMSG when the file itself is bad
 *      (move it to corrupt/), ENOENT when it is gone (someone moved it),
 *      anything else for an environment problem (retry later). */
int queue_file_openat(int dirfd, const char *name, unsigned flags,
		      struct queue_file **qf_r, const char **error_r);
int queue_file_open(const char *path, unsigned flags, struct queue_file **qf_r,
		    const char **error_r);
/* Parses a whole file image held in memory (tests, fuzzing, tools): the
 * same checks except the mode bit and lock; the result has no fd, and
 * queue_file_content_read() reads from data, which must outlive it. name
 * may be NULL (then the ID is not compared). Returns 1 or -1 (EBADMSG). */
int queue_file_parse_image(const void *data, size_t size, const char *name,
			   struct queue_file **qf_r, const char **error_r);
void queue_file_close(struct queue_file **qfp);

/* The parsed envelope; valid until close. Recipient statuses follow the
 * marks made through this handle. */
const struct queue_envelope *queue_file_envelope(const struct queue_file *qf);
/* Where the content starts in the file, and its size in bytes. */
uint64_t queue_file_content_offset(const struct queue_file *qf);
uint64_t queue_file_content_size(const struct queue_file *qf);
/* The open fd (read-only unless QUEUE_OPEN_WRITE), -1 for an image. */
int queue_file_fd(const struct queue_file *qf);
/* Reads up to len content bytes from content position pos: returns the
 * count, 0 at the end of the content, -1 on error (a file shorter than its
 * trailer says is an error, not an early end). */
ssize_t queue_file_content_read(struct queue_file *qf, uint64_t pos, void *buf,
				size_t len, const char **error_r);

/* Flips recipient rcpt from PENDING to status (DONE or FAILED) on disk
 * (one pwrite, no sync: call queue_file_sync after a batch). Marking with
 * the status it already has is a no-op; any other change is refused.
 * Returns 1 or -1. Needs QUEUE_OPEN_WRITE. */
int queue_file_mark(struct queue_file *qf, size_t rcpt,
		    enum queue_rcpt_status status, const char **error_r);
/* queue_file_mark(DONE) + queue_file_sync: the result of one delivery is
 * on disk before the caller forgets it. */
int queue_file_mark_done(struct queue_file *qf, size_t rcpt,
			 const char **error_r);
/* Sets state bits (QUEUE_STATE_*) in place; no sync. */
int queue_file_set_state(struct queue_file *qf, unsigned bits,
			 const char **error_r);
/* fdatasync: makes the marks above durable. */
int queue_file_sync(struct queue_file *qf, const char **error_r);

#endif
