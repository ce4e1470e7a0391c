/* t/unit/tls_side.h: the event-loop driver that t/unit/tls.c uses to run
 * both ends of a TLS connection through lib/iobuf (t/unit/tls_side.c). */
#ifndef POSTERN_T_TLS_SIDE_H
#define POSTERN_T_TLS_SIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "iobuf.h"
#include "str.h"
#include "tls.h"

enum side_state { S_HANDSHAKE, S_RUN, S_DONE, S_FAILED };

/* One end: handshake, then send `send` (and `bulk` numbered lines of 100
 * octets), read `want_lines` lines (checked against the numbered lines
 * when bulk_in), then done. A failure shuts the socket down so that the
 * other end ends too. */
struct side {
	struct event_loop *loop;
	struct tls_conn *c;
	int fd;
	struct event_io *io;
	struct iobuf *b;
	enum side_state state;
	const char *send;    /* written once the handshake is done */
	unsigned want_lines; /* lines to read before done */
	unsigned lines;
	struct str got;		/* the lines read (bulk lines excepted) */
	size_t bulk, bulk_sent; /* lines to send in bulk */
	bool bulk_in;		/* lines read are bulk lines to check */
	size_t bulk_bad;
	bool timed_out;
	char error[512];
	struct side *peer;
};

/* A non-blocking AF_UNIX socketpair (aborts on failure). */
void tls_test_pair(int fds[2]);
/* strstr() that takes NULL text. */
bool tls_test_has(const char *text, const char *part);

/* Registers s on loop for fd; s then owns c and fd (side_deinit() frees
 * and closes them). */
void side_init(struct side *s, struct event_loop *loop, struct tls_conn *c,
	       int fd, const char *send, unsigned want_lines);
void side_deinit(struct side *s);
/* Runs a's loop until a and b (NULL: a alone) are done or failed, or 10 s
 * pass. Returns false on the timeout. */
bool side_run_loop(struct side *a, struct side *b);

#endif
