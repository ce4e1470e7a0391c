/* deliver_proto.h: the qmgr -> delivery agent protocol (doc/postern-qmgr.8
 * has the records). One delivery per request, on private/local, private/smtp
 * or private/<transport>:
 *
 *   agent: hello {protocol="delivery", version=1}
 *   qmgr:  one byte carrying the queue file's descriptor (SCM_RIGHTS), so
 *          that the agent reads the content without any right on the queue
 *          folders (local runs as mail_store_owner, not mail_owner)
 *   qmgr:  request {queue_id, sender, arrival, offset, size, retry,
 *                   rcpts=[{index, address, orcpt}]}
 *   agent: reply {rcpts=[{index, status, dsn, text[, relayed]}]}, status
 *          one of "sent", "deferred", "bounced"; optional fields: hop,
 *          hop_dsn (the destination failed as a whole), setup_usec,
 *          xfer_usec (the c and d of delays=), conn_use, and reuse=1: the
 *          agent keeps its connection (e.g. an SMTP session) and takes
 *          the next request on the same socket, which again starts with
 *          the descriptor pass
 *
 * The agent never marks the queue file: qmgr records every result on disk
 * (queue_file_mark) before it forgets it. */
#ifndef POSTERN_DELIVER_PROTO_H
#define POSTERN_DELIVER_PROTO_H

#include <sys/types.h>

#define DELIVER_PROTOCOL "delivery"
#define DELIVER_VERSION 1
/* Recipients in one request (qmgr sends at most this many). */
#define DELIVER_RCPT_MAX 1000

/* Sends fd over the UNIX socket sock with a one-byte message. timeout_ms
 * bounds the wait for room in the socket. Returns 1 or -1 with *error_r
 * (static until the next call). */
int deliver_fd_send(int sock, int fd, int timeout_ms, const char **error_r);
/* One try of the same: sendmsg() with flags (MSG_DONTWAIT for an event
 * loop), EINTR retried. Returns sendmsg()'s result (1 when sent), errno
 * set. */
ssize_t deliver_fd_sendmsg(int sock, int fd, int flags);
/* Receives the byte and the descriptor sent by deliver_fd_send() into
 * *fd_r (close-on-exec). Returns 1, or -1 (timeout, closed, no
 * descriptor attached). */
int deliver_fd_recv(int sock, int *fd_r, int timeout_ms, const char **error_r);

#endif
