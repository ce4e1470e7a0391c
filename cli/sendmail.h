/* sendmail.h: the parts of the sendmail command: its options
 * (sendmail_args.c) and reading the message from standard input into the
 * stream for postdrop (sendmail_input.c). */
#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sendmail_stream.h"
#include "str.h"

enum sm_mode {
	SM_SUBMIT,     /* -bm, the default */
	SM_MAILQ,      /* -bp, or run as mailq */
	SM_NEWALIASES, /* -bi, -I, or run as newaliases */
	SM_FLUSH,      /* -q... */
	SM_SMTP,       /* -bs */
};

struct sm_opts {
	enum sm_mode mode;
	const char *config;    /* -C DIR / -c DIR, or NULL */
	const char *sender;    /* -f / -r, or NULL */
	const char *full_name; /* -F */
	const char *envid;     /* -V, already xtext */
	unsigned notify;       /* -N, QUEUE_NOTIFY_* */
	unsigned ret;	       /* -R, enum queue_ret */
	bool extract;	       /* -t */
	bool ignore_dots;      /* -i, -oi */
	const char **rcpts;    /* the command line's (mem_free the array) */
	size_t rcpt_count;
};

/* Parses argv (argv[0]'s base name picks mailq/newaliases). Returns 1, or
 * -1 with *error_r for a usage error. */
int sm_parse_args(int argc, char **argv, struct sm_opts *o,
		  const char **error_r);
/* -N value: "never" or a list of success, failure, delay. 1 or -1. */
int sm_parse_notify(const char *s, unsigned *notify_r);

/* mailq: prints the queue (sendmail_mailq.c). Returns the exit code. */
struct conf;
int sm_mailq(struct conf *c);

/* -bs: an SMTP session on standard input and output; each message goes
 * through postdrop (sendmail_smtp.c). Returns the exit code (0 once the
 * client quit or its input ended). */
int sm_smtp(struct conf *c, const char *dir);

/* newaliases, -bi, -I: builds each file-based table (hash:, btree:,
 * lmdb:, or a bare path: $default_database_type) of alias_database with
 * `$command_directory/postern -c dir map` (sendmail_aliases.c). Returns
 * the exit code. */
int sm_newaliases(struct conf *c, const char *dir);

/* Starts $command_directory/postdrop -c dir (with -q when flush) with its
 * standard input on a pipe. Returns the pipe's write end with *pid_r, or
 * -1 (errno). */
int sm_postdrop_start(struct conf *c, const char *dir, bool flush,
		      pid_t *pid_r);
/* Waits for postdrop; its exit code becomes ours (a signal is
 * DROP_EX_SOFTWARE, reported on stderr). */
int sm_postdrop_wait(pid_t pid);

/* Standard input, read in pieces of at most SM_LINE_MAX bytes. */
#define SM_LINE_MAX 65536
struct sm_input {
	int fd;
	bool ignore_dots;
	bool eof, done; /* end of file; end of the message (EOF or ".") */
	bool at_bol;	/* the next piece starts a line */
	struct str buf; /* read, not yet consumed */
};
void sm_input_init(struct sm_input *in, bool ignore_dots);
void sm_input_deinit(struct sm_input *in);
/* Reads the header section (stopping at the empty line, a line that is
 * not a header field, SM_HEAD_MAX bytes, or the end) and appends it to
 * out; with -t adds the To/Cc/Bcc recipients to env and leaves Bcc out.
 * Returns 1, or -1 with *error_r. */
int sm_read_head(struct sm_input *in, const struct sm_opts *o,
		 const char *origin, struct drop_envelope *env, struct str *out,
		 const char **error_r);
/* Writes the envelope, out (the header read so far) and the rest of the
 * input as content records to fd, then the end record. -1 with *error_r
 * when writing or reading fails. */
int sm_send(struct sm_input *in, const struct drop_envelope *env,
	    struct str *out, int fd, const char **error_r);

#endif
