/* cmd_queue.h: the parts of `postern queue` (cli/cmd_queue*.c) and what the
 * mailq of cli/sendmail_mailq.c shares with it: the listing in Postfix's
 * mailq layout or as JSON Lines, the per-recipient reasons kept in the
 * status logs defer/ID and bounce/ID, and the text helpers both use.
 *
 * Everything here reads the queue folders directly, so it needs read
 * access to them (root, $mail_owner, or the owner of an instance). */
#ifndef POSTERN_CMD_QUEUE_H
#define POSTERN_CMD_QUEUE_H

#include <stdbool.h>
#include <time.h>

#include "queue_dir.h"
#include "str.h"

struct conf;

/* sysexits(3) codes of the queue commands (and of mailq). */
#define QCMD_EX_OK 0
#define QCMD_EX_USAGE 64       /* bad arguments, an invalid queue ID */
#define QCMD_EX_NOINPUT 66     /* a named message is not in the queue */
#define QCMD_EX_UNAVAILABLE 69 /* queue unreadable, qmgr not reachable */
#define QCMD_EX_SOFTWARE 70    /* a message file that cannot be read */
#define QCMD_EX_IOERR 74       /* writing the output failed */
#define QCMD_EX_TEMPFAIL 75    /* a message is busy (being delivered) */
#define QCMD_EX_NOPERM 77      /* no permission to read the queue */

/* The exit code for an errno from opening or scanning the queue. */
int qcmd_exit_code(int err);

/* A queue ID from the command line or standard input into id_r. The
 * marks that mailq appends ('*', '!', '#') are dropped, so IDs can be
 * copied from a listing. Returns 1, or 0 when arg is not a queue ID. */
int qcmd_parse_id(const char *arg, char id_r[QUEUE_ID_SIZE]);

/* ---- subcommands: argv[0] is the subcommand's name ---- */

/* Prints why (if not NULL) and the usage; returns QCMD_EX_USAGE. */
int qcmd_usage(const char *why);
/* show [-e] [-h] [-b] ID (cmd_queue_show.c). */
int qcmd_show_main(struct conf *c, int argc, char **argv);
/* delete, requeue, hold, release (cmd_queue_edit.c). */
int qcmd_edit_main(struct conf *c, int argc, char **argv);

/* ---- listing (cmd_queue_list.c) ---- */

enum qcmd_list_format {
	QCMD_LIST_MAILQ, /* Postfix's long-ID mailq layout */
	QCMD_LIST_JSON,	 /* Postfix's postqueue -j: one object per line */
};

/* Prints every message in maildrop/, active/, incoming/, deferred/ and
 * hold/ (Postfix's order) to standard output; errors go to stderr as
 * "prog: ...". Messages that are not complete yet, vanish meanwhile or
 * are unreadable as queue files are left out, as showq does. Returns the
 * exit code (QCMD_EX_*); a closed pipe on stdout is not an error. */
int qcmd_list(struct conf *c, enum qcmd_list_format fmt, const char *prog);

/* ---- status logs (cmd_queue_util.c) ---- */

/* The latest result per recipient address in one status log. qmgr
 * appends a block per attempt ("recipient=", "status=", "action=",
 * "reason=" lines, blocks separated by an empty line), so a recipient
 * tried several times has several blocks: the last one wins. */
struct qcmd_reasons;

/* Reads log/ID (log is QUEUE_DEFER or QUEUE_BOUNCE). A missing log gives
 * an empty set. Lines are cut at QCMD_REASON_LINE_MAX bytes and at most
 * QCMD_REASON_LOG_MAX bytes are read. Returns 1 with *r_r, or -1 with
 * *error_r (static until the next call). */
#define QCMD_REASON_LINE_MAX 4096
#define QCMD_REASON_LOG_MAX (64 * 1024 * 1024)
int qcmd_reasons_load(struct queue_dir *qd, enum queue_name log, const char *id,
		      struct qcmd_reasons **r_r, const char **error_r);
/* The reason text for address (never NULL when found) and, when status_r
 * is not NULL, its DSN status ("" if none). Returns NULL when the log has
 * no entry for it. Pointers live until qcmd_reasons_free. */
const char *qcmd_reasons_get(const struct qcmd_reasons *r, const char *address,
			     const char **status_r);
void qcmd_reasons_free(struct qcmd_reasons **rp);

/* ---- text ---- */

/* asctime(3) without the year: "Thu Nov  6 09:40:01" (19 characters), in
 * local time and always in English (the mailq layout is parsed by
 * scripts). buf must hold 20 bytes. */
void qcmd_time_str(time_t t, char *buf);
/* The same with " 2026" appended (24 characters); buf: 32 bytes. */
void qcmd_time_str_year(time_t t, char *buf);
/* Appends text with every control character, DEL and byte that is not
 * part of valid UTF-8 replaced by '?' (Postfix's printable()). */
void qcmd_put_printable(struct str *out, const char *text);
/* Appends text as the inside of a JSON string: '"' and '\' escaped,
 * control characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as '?'. */
void qcmd_put_json(struct str *out, const char *text);
/* Writes all of s to stdout. Returns 1, 0 when the reader went away
 * (EPIPE), or -1 (errno set). */
int qcmd_write_stdout(const struct str *s);

#endif
