/* attr.h: the one IPC codec: typed name/value records over UNIX stream
 * sockets (the wire format and the rules are in doc/ipc.md).
 *
 * A record is a u32 length and a body of fields, each with a type, a name
 * and a length-prefixed value: INT (int64), STR (bytes, any content) or
 * LIST (nested records, e.g. one per recipient). Records have a maximum
 * size that the receiver checks before buffering the body.
 *
 * Writing: attr_out_init(), attr_put_*() (in any order; each name once),
 * then attr_send_fd() / attr_write_iobuf() / attr_out_finish(). Put
 * functions take names from the program text: an invalid name, a repeated
 * put or unbalanced lists abort (bugs, not input).
 *
 * Reading: a struct attr_decoder turns bytes into records, incrementally
 * (attr_decode(), attr_read_iobuf() for event-driven servers) or blocking
 * with a timeout (attr_recv_fd(), struct attr_client). Each record is
 * fully validated before it is returned; then attr_get_*() fetch fields by
 * name and type, and attr_rec_done() checks that every field was fetched
 * (strict mode: an unknown field is an error). A malformed record is an
 * error return, never a crash, and never costs more memory than the
 * maximum record size.
 *
 * Every server speaks first with a hello record {protocol, version}
 * (attr_hello_put()); clients check it (attr_hello_check()). */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iobuf.h"
#include "str.h"

#define ATTR_DEFAULT_MAX_RECORD ((size_t)1024 * 1024)
/* Hard limits of the format, the same for every peer. */
#define ATTR_MAX_FIELDS 128 /* per record and per list item */
#define ATTR_MAX_DEPTH 4    /* lists inside list items inside ... */
#define ATTR_MAX_NAME 64    /* bytes of a name: [a-z0-9_.-] */

enum attr_type {
	ATTR_TYPE_INT = 1,
	ATTR_TYPE_STR = 2,
	ATTR_TYPE_LIST = 3,
};

enum attr_status {
	ATTR_ERROR = -1,    /* malformed, too large, I/O error: drop the peer */
	ATTR_NEED_MORE = 0, /* no complete record yet */
	ATTR_RECORD = 1,    /* *rec_r holds the next record */
	ATTR_EOF = 2,	    /* the peer closed between records */
};

/* ---- writing */

/* Fields are private; embed it and use the functions. */
struct attr_out {
	struct str buf;
	struct {
		size_t len_at; /* offset of the length word to fill in */
		bool item;     /* an item (fields go here), else a list */
	} open[2 * ATTR_MAX_DEPTH];
	unsigned depth;
	bool finished;
	bool overflow; /* a value over 4 GiB was refused */
	char error[160];
};

/* Starts an empty record. attr_out_deinit() frees the buffer. */
void attr_out_init(struct attr_out *o);
void attr_out_deinit(struct attr_out *o);
/* Starts the next record, reusing the buffer. */
void attr_out_reset(struct attr_out *o);
void attr_put_int(struct attr_out *o, const char *name, int64_t value);
/* A C string (without its NUL). */
void attr_put_str(struct attr_out *o, const char *name, const char *value);
/* Any bytes, including NUL. */
void attr_put_data(struct attr_out *o, const char *name, const void *data,
		   size_t len);
/* A list: attr_list_begin(), then per item attr_item_begin(), puts,
 * attr_item_end(); then attr_list_end(). */
void attr_list_begin(struct attr_out *o, const char *name);
void attr_item_begin(struct attr_out *o);
void attr_item_end(struct attr_out *o);
void attr_list_end(struct attr_out *o);
/* Ends the record and returns its wire bytes (header included), valid
 * until the next put or reset. Returns 1, or -1 if the record is larger
 * than max (0 = only the format's own 4 GiB limit). */
int attr_out_finish(struct attr_out *o, size_t max, const void **data_r,
		    size_t *len_r, const char **error_r);
/* The hello a server sends first: resets o, puts protocol and version. */
void attr_hello_put(struct attr_out *o, const char *protocol, int64_t version);

/* ---- reading */

/* One validated record (or list item): a view into memory owned by the
 * decoder (or by whoever passed the bytes to attr_rec_parse()). It stays
 * valid until the next call that decodes on the same decoder; error texts
 * returned by the getters live inside it. Fields are private. */
struct attr_rec {
	const unsigned char *body;
	size_t len;
	unsigned nfields;
	unsigned depth;
	uint64_t used[(ATTR_MAX_FIELDS + 63) / 64];
	char error[160];
};

struct attr_list {
	const unsigned char *next, *end;
	size_t count;
	unsigned depth;
};

/* Getters return 1 when found; 0 when the record has no such field (with
 * *error_r "missing attribute 'NAME'", so a required field is simply
 * `!= 1`); -1 when it has another type or a bad value. */
int attr_get_int(struct attr_rec *r, const char *name, int64_t *value_r,
		 const char **error_r);
/* Like attr_get_int() but -1 unless min <= value <= max. */
int attr_get_int_range(struct attr_rec *r, const char *name, int64_t min,
		       int64_t max, int64_t *value_r, const char **error_r);
/* Any bytes; (*value_r)[*len_r] == '\0' but NULs may occur before. */
int attr_get_str(struct attr_rec *r, const char *name, const char **value_r,
		 size_t *len_r, const char **error_r);
/* A value usable as a C string: -1 if it contains a NUL byte. */
int attr_get_cstr(struct attr_rec *r, const char *name, const char **value_r,
		  const char **error_r);
int attr_get_list(struct attr_rec *r, const char *name,
		  struct attr_list *list_r, const char **error_r);
size_t attr_list_count(const struct attr_list *l);
/* Next item as a record with its own getters and attr_rec_done().
 * Returns 1, or 0 after the last item. */
int attr_list_next(struct attr_list *l, struct attr_rec *item_r);
/* Strict check once all expected fields were fetched: 1 when every field
 * of r was, else -1 naming the first unexpected one. */
int attr_rec_done(struct attr_rec *r, const char **error_r);
/* Appends a readable rendering, e.g. {op="stat", id=7, rcpt=[{a="x"}]}
 * (bytes outside printable ASCII as \xHH), for logs and debugging. */
void attr_rec_dump(const struct attr_rec *r, struct str *out);
/* Validates a record body (without the length header) held by the caller,
 * for tests and tools. Returns 1 or -1 with *error_r (static until the
 * next call). */
int attr_rec_parse(const void *body, size_t len, struct attr_rec *rec_r,
		   const char **error_r);
/* Client side of the hello: 1 when rec is {protocol, version} with the
 * expected values, else -1 with an error that says what the peer sent. */
int attr_hello_check(struct attr_rec *rec, const char *protocol,
		     int64_t version, const char **error_r);

/* ---- decoding a byte stream */

struct attr_decoder;

/* max_record: the largest body accepted (0 = ATTR_DEFAULT_MAX_RECORD). */
struct attr_decoder *attr_decoder_new(size_t max_record);
void attr_decoder_set_max(struct attr_decoder *d, size_t max_record);
void attr_decoder_free(struct attr_decoder **dp);
/* Feeds up to len bytes; *used_r says how many were taken (it stops at the
 * end of a record, so call again with the rest). Returns ATTR_RECORD,
 * ATTR_NEED_MORE (all taken) or ATTR_ERROR (with *error_r, valid while d
 * lives; the decoder stays failed). */
enum attr_status attr_decode(struct attr_decoder *d, const void *data,
			     size_t len, size_t *used_r, struct attr_rec *rec_r,
			     const char **error_r);
/* How many more bytes complete the current length header or record
 * (>= 1): read no more than this to leave the next record in the
 * socket or iobuf. */
size_t attr_decoder_want(const struct attr_decoder *d);
/* True between records (nothing of a record received yet). */
bool attr_decoder_idle(const struct attr_decoder *d);

/* For event-driven servers: decodes from b until a record is complete or
 * b would block. Returns ATTR_RECORD, ATTR_NEED_MORE (wait for
 * EVENT_READ), ATTR_EOF (peer closed between records) or ATTR_ERROR
 * (malformed, too large, closed mid-record, read error). */
enum attr_status attr_read_iobuf(struct iobuf *b, struct attr_decoder *d,
				 struct attr_rec *rec_r, const char **error_r);
/* Finishes o and appends it to b's output (then iobuf_flush()). Returns 1,
 * or -1 if b's output limit would be exceeded. */
int attr_write_iobuf(struct iobuf *b, struct attr_out *o, const char **error_r);

/* ---- blocking helpers (CLI and simple clients) */

/* timeout_ms bounds the whole call (<= 0: no limit). The fd should be
 * non-blocking, so that a stuck peer cannot hold a write past it. */
int attr_send_fd(int fd, struct attr_out *o, int timeout_ms,
		 const char **error_r);
/* Returns 1 with a record, 0 when the peer closed between records, -1 on
 * error or timeout. Reads no byte past the record. */
int attr_recv_fd(int fd, struct attr_decoder *d, int timeout_ms,
		 struct attr_rec *rec_r, const char **error_r);

struct attr_client;

/* Connects to the UNIX socket at path, reads the server's hello and checks
 * protocol and version. timeout_ms applies to each later send and receive
 * too. Returns 1, or -1 with *error_r (static until the next connect). */
int attr_client_connect(const char *path, const char *protocol, int64_t version,
			int timeout_ms, struct attr_client **client_r,
			const char **error_r);
/* Largest reply accepted (default ATTR_DEFAULT_MAX_RECORD). */
void attr_client_set_max(struct attr_client *c, size_t max_record);
int attr_client_send(struct attr_client *c, struct attr_out *request,
		     const char **error_r);
/* 1 with a record, 0 when the server closed between records, -1 error. */
int attr_client_recv(struct attr_client *c, struct attr_rec *reply_r,
		     const char **error_r);
/* Send, then receive one reply (a close is an error here). The reply
 * stays valid until the next call on c. */
int attr_client_call(struct attr_client *c, struct attr_out *request,
		     struct attr_rec *reply_r, const char **error_r);
int attr_client_fd(const struct attr_client *c);
/* Closes the connection; *cp = NULL. */
void attr_client_free(struct attr_client **cp);

#endif
