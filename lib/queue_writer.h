/* queue_writer.h: the one way a message enters the queue. smtpd and pickup
 * write incoming/, postdrop writes maildrop/; nothing else creates queue
 * files. doc/queue.md has the protocol as a state table.
 *
 *   queue_writer_begin()     creates QUEUEDIR/incoming/ID (mode 0600, no
 *                            execute bit = incomplete) and locks it
 *   queue_writer_set_*(),    the envelope, kept in memory
 *   queue_writer_add_rcpt()
 *   queue_writer_write()...  content, streamed (written in large blocks;
 *                            the envelope goes out with the first block)
 *   queue_writer_commit()    trailer, owner-execute bit, fsync(file),
 *                            fsync(folder): returns 1 only when the message
 *                            survives any crash; only then may smtpd say 250
 *   queue_writer_abort()     removes the file
 * A writer killed at any step leaves no file or an incomplete one, which
 * queue_recover() removes once its lock is gone. Not thread-safe, but for
 * queue_writer_commit_sync() (below). */
#ifndef POSTERN_QUEUE_WRITER_H
#define POSTERN_QUEUE_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue_dir.h"
#include "queue_file.h"

struct queue_writer;
struct queue_pool;

struct queue_writer_settings {
	enum queue_name queue; /* QUEUE_INCOMING (the default, 0) or
				  QUEUE_MAILDROP */
	uint64_t max_content;  /* message_size_limit in bytes; 0 = none */
	mode_t mode;	       /* permissions at commit, plus u+x; 0 = 0600 */
	bool no_dir_sync;      /* benchmarks only: skips the folder fsync and
				  so breaks the durability rule */
	struct queue_pool *pool; /* reuse pooled files (queue_pool.h) for
				    incoming/; NULL: always create */
};

/* Creates and locks the file (set may be NULL for the defaults). The
 * arrival time defaults to now. Returns 1 or -1. */
int queue_writer_begin(struct queue_dir *qd,
		       const struct queue_writer_settings *set,
		       struct queue_writer **qw_r, const char **error_r);
/* The message's queue ID, valid until commit or abort. */
const char *queue_writer_id(const struct queue_writer *qw);

/* Envelope setters: each value is checked (no control characters, at most
 * QUEUE_VALUE_MAX bytes) and copied. They fail once content has been
 * written, and a field can be set only once. Return 1 or -1. */
int queue_writer_set_sender(struct queue_writer *qw, const char *sender,
			    const char **error_r);
int queue_writer_set_field(struct queue_writer *qw, enum queue_field field,
			   const char *value, const char **error_r);
int queue_writer_set_ret(struct queue_writer *qw, enum queue_ret ret,
			 const char **error_r);
int queue_writer_set_msg_flags(struct queue_writer *qw, unsigned flags,
			       const char **error_r);
void queue_writer_set_arrival(struct queue_writer *qw, uint64_t usec);
/* orcpt may be NULL; notify is QUEUE_NOTIFY_* or 0. */
int queue_writer_add_rcpt(struct queue_writer *qw, const char *address,
			  const char *orcpt, unsigned notify,
			  const char **error_r);

/* Appends content (the message as received, dot-unstuffed, CRLF lines;
 * the writer does not look at it). The first call writes the envelope,
 * which needs a sender and a recipient. Returns 1, 0 when the content
 * would exceed max_content (nothing more is accepted; answer 552 and
 * abort), or -1 on an error (ENOSPC, EIO...: answer 4xx and abort). */
int queue_writer_write(struct queue_writer *qw, const void *data, size_t len,
		       const char **error_r);
/* Content bytes accepted so far. */
uint64_t queue_writer_content_size(const struct queue_writer *qw);

/* Makes the message durable and frees the writer (*qwp = NULL). Returns 1
 * with the ID in id_r (may be NULL), or -1 with *error_r after removing
 * the file: then the message was not accepted. */
int queue_writer_commit(struct queue_writer **qwp, char id_r[QUEUE_ID_SIZE],
			const char **error_r);
/* queue_writer_commit() in three steps, for a caller that runs the fsyncs
 * in a worker thread (lib/blocking_pool.h) while its event loop goes on:
 *   _prepare()  the trailer and the completion mark; 1, or -1 with
 *               *error_r after removing the file (*qwp = NULL)
 *   _sync()     the fsyncs; may run in another thread, with no other call
 *               on qw meanwhile (writers syncing at once share the
 *               folder's fsyncs)
 *   _finish()   as the end of commit: 1 with the ID, or -1 with *error_r
 *               and the file removed; frees the writer either way.
 * The message is accepted only when _finish() returns 1. */
int queue_writer_commit_prepare(struct queue_writer **qwp,
				const char **error_r);
void queue_writer_commit_sync(struct queue_writer *qw);
int queue_writer_commit_finish(struct queue_writer **qwp,
			       char id_r[QUEUE_ID_SIZE], const char **error_r);
/* Removes the file and frees the writer; NULL-safe. */
void queue_writer_abort(struct queue_writer **qwp);

/* Test seam: when set, called at each step of the protocol with the step's
 * name from doc/queue.md ("opened", "created", "content", "written",
 * "marked", "file-synced", "dir-synced"), so that a test can kill the
 * writer there. */
extern void (*queue_writer_test_hook)(const char *step);

#endif
