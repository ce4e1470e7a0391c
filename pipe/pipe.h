/* pipe.h: the pipe delivery agent (postern-pipe(8)): hands a message to
 * an external program, for gateways to networks that are not SMTP,
 * mailing-list managers and filters. A master.cf service runs it with
 * Postfix's pipe(8) attributes:
 *
 *   gw  unix  -  n  n  -  -  pipe
 *     flags=FR user=gw size=10000000 argv=/usr/bin/gw -f ${sender} ${recipient}
 *
 * and transport_maps routes a domain to it ("example.net gw:"). qmgr
 * speaks the delivery protocol of the smtp agent to it (lib/deliver_proto.h
 * plus nexthop and the DSN fields); the program gets the message on its
 * standard input and never passes through a shell: argv= is split at
 * blanks by master.cf and each ${name} expands inside one argument. */
#ifndef POSTERN_PIPE_H
#define POSTERN_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "str.h"

/* flags= letters */
#define PIPE_FLAG_B (1u << 0)	    /* blank line at the end */
#define PIPE_FLAG_D (1u << 1)	    /* Delivered-To: recipient */
#define PIPE_FLAG_F (1u << 2)	    /* "From sender date" line */
#define PIPE_FLAG_O (1u << 3)	    /* X-Original-To: recipient */
#define PIPE_FLAG_R (1u << 4)	    /* Return-Path: <sender> */
#define PIPE_FLAG_LOWER_H (1u << 5) /* h: domains folded to lower case */
#define PIPE_FLAG_LOWER_U (1u << 6) /* u: local parts folded */
#define PIPE_FLAG_QUOTE (1u << 7)   /* q: local parts quoted as RFC 5322 */
#define PIPE_FLAG_DOT (1u << 8)	    /* .: lines starting with "." doubled */
#define PIPE_FLAG_FROM (1u << 9)    /* >: lines "From " quoted ">From " */

/* Arguments of one program run at most. */
#define PIPE_ARGV_MAX 4096

struct pipe_config {
	unsigned flags;
	const char *user;	 /* user=, or NULL */
	const char *const *argv; /* argv= and what follows (the template) */
	size_t argc;
	uint64_t size_limit;	 /* size=, 0 = none */
	const char *null_sender; /* null_sender=, default MAILER-DAEMON */
	unsigned time_limit;	 /* command_time_limit */
	unsigned ipc_timeout_ms;
	const char *service; /* the master.cf service name: relay= */
	const char *delimiter;
};

enum pipe_status { PIPE_SENT, PIPE_DEFERRED, PIPE_BOUNCED };

struct pipe_rcpt {
	int64_t index;
	const char *address, *orcpt;
	enum pipe_status status;
	char dsn[16];
	struct str text;
	bool done;
};

struct pipe_msg {
	const char *queue_id, *sender, *nexthop;
	int fd;
	uint64_t offset, size;
	struct pipe_rcpt *rcpts;
	size_t rcpt_count;
	struct str headers; /* for the Delivered-To: loop check (flag D) */
};

/* Reads the master.cf arguments into cfg (pointing into args). Returns 1
 * or -1 with *error_r (static) naming the bad attribute. */
int pipe_args_parse(char *const *args, size_t count, struct pipe_config *cfg,
		    const char **error_r);

/* Builds the program's arguments for the recipients rcpts[0..n) of msg
 * into out (strings owned by out's caller via pipe_argv_free()). An
 * argument with a per-recipient macro (recipient, original_recipient,
 * user, extension, mailbox, domain) is repeated for each recipient.
 * Returns 1; 0 with *error_r when an expanded argument would start with
 * '-' (an option the template did not write) or hold a control
 * character, or the result would have more than PIPE_ARGV_MAX arguments:
 * these recipients must bounce. */
struct pipe_argv {
	char **v;
	size_t n, cap;
};
int pipe_argv_build(const struct pipe_config *cfg, const struct pipe_msg *msg,
		    struct pipe_rcpt *const *rcpts, size_t n,
		    struct pipe_argv *out, const char **error_r);
void pipe_argv_free(struct pipe_argv *a);
/* Checks a template argument: 1, or -1 with *error_r for an unknown
 * ${name} or a "$" that starts no name. */
int pipe_template_check(const char *arg, const char **error_r);

/* Delivers msg to every recipient and sets each one's result. */
void pipe_deliver(const struct pipe_config *cfg, struct pipe_msg *msg);

#endif
