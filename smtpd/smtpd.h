/* smtpd.h: the pieces of the SMTP server daemon (the smtpd folder) and how they
 * share one session. main.c wires the skeleton (lib/server.h); session.c
 * owns the connection, its state and its I/O; commands.c holds the command
 * table and the simple commands; cmd_mail.c MAIL and RCPT; cmd_data.c DATA
 * and BDAT up to the queue; data.c the smuggling-safe content framing;
 * policy.c the restriction lists; received.c the Received: header;
 * cmd_auth.c AUTH (SASL PLAIN and LOGIN, checked by the auth daemon);
 * conn_limit.c the per-client session count shared by all processes.
 * One process serves up to SMTPD_PROCESS_CAPACITY sessions on one event
 * loop: nothing a session does may block the others. The auth daemon is
 * asked without blocking (lib/auth_async.h): the session waits for the
 * answer, reading no input meanwhile, so pipelined commands behind the one
 * that waits run after it, in order. Queue file writes and fsyncs and
 * local table lookups run inline (short local I/O).
 * See postern-smtpd(8). */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "auth_async.h"
#include "auth_client.h"
#include "blocking_pool.h"
#include "cidr.h"
#include "conf.h"
#include "conn_limit.h"
#include "event.h"
#include "iobuf.h"
#include "queue_dir.h"
#include "queue_writer.h"
#include "server.h"
#include "smtp_data.h"
#include "smtp_parse.h"
#include "str.h"
#include "tls.h"

/* Longest command line accepted, whatever line_length_limit says (RFC
 * 5321 asks for at least 512 octets with the CRLF). */
#define SMTPD_CMD_MIN 512
/* The iobuf line limit: DATA lines longer than this are dropped and the
 * message is refused (so memory per session stays bounded). */
#define SMTPD_DATA_LINE_MAX (64 * 1024)
/* Content is handed to the queue writer in blocks of about this size. */
#define SMTPD_WRITE_BLOCK (64 * 1024)
/* Most recipients one RCPT list may hold, whatever the configuration. */
#define SMTPD_RCPT_HARD_MAX 100000
/* Sessions one smtpd process serves before the master starts another.
 * The queue file's fsyncs hold the whole process for a moment, so a busy
 * server should spread its sessions over several processes (whose fsyncs
 * the file system then commits together); 10 keeps an idle session at
 * about a tenth of a process (~110 KiB PSS) and gave the best accept rate
 * in bench/smtp-bench.sh (100: one process for all 20 sessions, 0.85x
 * Postfix; 10: 1.85x). */
#define SMTPD_PROCESS_CAPACITY 10
/* Auth daemon answers one RCPT may need (the address, then without its
 * extension). */
#define SMTPD_KNOWN_MAX 4
/* Returned by the policy when it needs the auth daemon's answer first: the
 * command runs again once the answer is in. */
#define SMTPD_WAIT 2

/* The session states; commands.c's table says which commands each one
 * allows. */
enum smtpd_state {
	SMTPD_INIT,	     /* greeted, no HELO/EHLO yet */
	SMTPD_IDLE,	     /* HELO/EHLO done, no transaction */
	SMTPD_MAIL,	     /* MAIL accepted, no recipient yet */
	SMTPD_RCPT,	     /* at least one recipient */
	SMTPD_DATA,	     /* reading DATA lines */
	SMTPD_BDAT,	     /* reading the bytes of one BDAT chunk */
	SMTPD_CHUNKING,	     /* between BDAT chunks */
	SMTPD_TLS_REPLY,     /* "220 Ready to start TLS" being flushed */
	SMTPD_TLS_HANDSHAKE, /* TLS handshake in progress */
	SMTPD_CLOSING,	     /* last reply being flushed, then close */
	SMTPD_AUTH,	     /* reading a SASL response line (after 334) */
	SMTPD_STATE_COUNT
};

#define SMTPD_STATE_BIT(st) (1u << (st))

/* Settings read once per process from main.cf (plus -o overrides). */
/* A host name and its final dot fit (RFC 1035: 253 + 1). */
#define SMTPD_NAME_MAX 256

enum smtpd_name_status {
	SMTPD_NAME_OK,
	SMTPD_NAME_UNKNOWN,  /* no such name, or it does not confirm */
	SMTPD_NAME_TEMPFAIL, /* the DNS did not answer */
};

struct smtpd_config {
	struct conf *conf;
	const char *myhostname;
	const char *banner;
	uint64_t message_size_limit; /* 0 = none */
	size_t cmd_max;
	unsigned timeout_ms;
	long recipient_limit;
	long soft_error_limit, hard_error_limit, junk_limit;
	unsigned error_sleep_ms;
	bool helo_required;
	bool vrfy_disabled;		      /* disable_vrfy_command */
	bool forbid_bare_lf;		      /* smtpd_forbid_bare_newline */
	struct cidr_list *bare_lf_exclusions; /* ..._newline_exclusions */
	/* smtpd_client_connection_count_limit (0 = none), the clients it
	 * does not apply to, and the lock folder (-1: not enforced). */
	unsigned conn_limit;
	struct cidr_list *limit_exceptions;
	int conn_dir_fd;
	bool tls_wrapper;
	bool tls_required;   /* smtpd_tls_security_level = encrypt */
	struct tls_ctx *tls; /* NULL: no STARTTLS offered */
	struct cidr_list *mynetworks;
	struct queue_dir *queue;
	struct queue_pool *queue_pool; /* files qmgr is done with */
	struct blocking_pool *commit_pool;   /* the queue files' fsyncs */
	struct blocking_pool *peername_pool; /* NULL: no name lookups */
	/* AUTH (cmd_auth.c). */
	bool sasl_enabled;	 /* smtpd_sasl_auth_enable */
	bool tls_auth_only;	 /* smtpd_tls_auth_only */
	bool auth_required;	 /* nothing is accepted without AUTH */
	struct auth_async *auth; /* the auth daemon (AUTH, recipients) */
};

/* One recipient of the transaction, as accepted. */
struct smtpd_rcpt {
	char *address; /* canonical form */
	char *orcpt;   /* "rfc822;xtext" or NULL */
	unsigned notify;
};

struct session {
	struct server *srv;
	const struct smtpd_config *cfg;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer;
	struct event_timer *pause_timer; /* error sleep */
	enum smtpd_state state;
	bool paused; /* error sleep in progress: no input handled */

	/* Client facts. */
	char client_addr[64];
	char client_port[8];
	/* From peername.c: the forward-confirmed name and the PTR name, or
	 * "unknown"; why they are not known. */
	char client_name[SMTPD_NAME_MAX];
	char reverse_name[SMTPD_NAME_MAX];
	enum smtpd_name_status name_status, reverse_status;
	struct smtpd_peername *peername; /* lookup under way: no input */
	char *helo_name;
	bool esmtp;
	bool bare_lf_ok; /* this client may end lines with a bare LF */
	struct conn_slot *conn_slot; /* our session slot, or NULL */
	struct tls_conn *tls;
	bool tls_active;

	/* Counters. */
	long errors;
	long junk;

	/* Transaction. */
	char *sender;	    /* canonical form; "" for <> */
	unsigned msg_flags; /* QUEUE_MSG_* */
	enum queue_ret ret;
	char *envid;
	uint64_t declared_size;
	struct smtpd_rcpt *rcpts;
	size_t rcpt_count, rcpt_cap;
	struct queue_writer *qw;
	struct smtpd_commit *commit; /* fsyncs under way: no input read */
	struct smtpd_data data;
	struct str content; /* content waiting for the writer */
	uint64_t bdat_left; /* bytes of the current chunk still to read */
	bool bdat_last;
	bool bdat_failed; /* a chunk failed: refuse the rest of them */
	char *bdat_error; /* the reply repeated for each later chunk */
	bool write_failed;

	/* AUTH. */
	char *auth_user;	 /* canonical authenticated user, or NULL */
	const char *auth_method; /* "PLAIN"/"LOGIN": exchanging or done */
	char *sasl_login_user; /* LOGIN: the user name, awaiting the password */

	/* Waiting for the auth daemon: no input is handled meanwhile. */
	struct auth_async_req *auth_req;
	char *rcpt_retry; /* the RCPT argument to run again with the answer */
	struct smtpd_known {
		char *user;
		int result;	  /* 1 yes, 0 no, -1 temporary failure */
	} known[SMTPD_KNOWN_MAX]; /* answers for the RCPT being checked */
	size_t known_count;
};

/* ---- session.c ---- */
/* Starts a session on fd (SERVER_MULTI client callback). */
void smtpd_session_start(struct server *srv, const struct smtpd_config *cfg,
			 int fd);
/* For a callback that resumes s (an auth daemon answer): the log lines
 * that follow carry s's queue ID, as the process serves many sessions. */
void smtpd_session_enter(struct session *s);
/* Handles the input that waited (after the answer s waited for came in)
 * and flushes the replies. s may be gone afterwards. */
void smtpd_session_resume(struct session *s);
/* The client's name is known: logs the connection, then the greeting (or
 * the wrapper-mode TLS handshake), and sends it. s may be gone
 * afterwards. */
void smtpd_session_begin(struct session *s);
/* Moves to state st, logging the transition at debug level. */
void smtpd_enter_state(struct session *s, enum smtpd_state st);
const char *smtpd_state_name(enum smtpd_state st);
/* Drops the transaction (RSET, EHLO, end of DATA, STARTTLS). */
void smtpd_transaction_reset(struct session *s);
/* Counts a client error; past the soft limit the next command waits
 * smtpd_error_sleep_time, at the hard limit the session ends with 421.
 * Returns true when the session is ending. */
bool smtpd_count_error(struct session *s);
/* Schedules the end of the session after reply (a full line with code,
 * status and text, no CRLF) is flushed. */
void smtpd_close_after(struct session *s, const char *reply);
/* Starts the TLS handshake once "220 Ready" is flushed (STARTTLS). */
void smtpd_start_tls_after_reply(struct session *s);
/* A bare LF from a client that may not send one: "521 5.5.2 ... bare
 * <LF> received", logged, and the session ends (smuggling defence). */
void smtpd_bare_lf_close(struct session *s);

/* ---- reply.c ---- */
/* Writes one reply line "CODE TEXT\r\n" (text: "5.5.1 Error: ..."). */
void smtpd_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, and counts it as a client error (4xx/5xx answers to bad
 * commands). */
void smtpd_reply_error(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- commands.c ---- */
/* Handles one command line (without its CRLF). */
void smtpd_command(struct session *s, const char *line, size_t len);

/* ---- cmd_mail.c ---- */
void smtpd_cmd_mail(struct session *s, const char *arg, size_t len);
void smtpd_cmd_rcpt(struct session *s, const char *arg, size_t len);

/* ---- cmd_data.c ---- */
void smtpd_cmd_data(struct session *s, const char *arg, size_t len);
void smtpd_cmd_bdat(struct session *s, const char *arg, size_t len);
/* One DATA line (state SMTPD_DATA); too_long: the line was dropped. */
void smtpd_data_input(struct session *s, const struct iobuf_line *line,
		      bool too_long);
/* Raw bytes of a BDAT chunk (state SMTPD_BDAT). */
void smtpd_bdat_input(struct session *s, const void *data, size_t len);
/* Placeholder for the qmgr wake-up: see cmd_data.c. */
void smtpd_wake_qmgr(const struct smtpd_config *cfg, const char *queue_id);

/* ---- commit.c ---- */
/* The pool of fsync threads (post_init) and its end (pre_exit: commits
 * under way finish, their sessions are not answered). */
int smtpd_commit_init(struct smtpd_config *cfg, struct event_loop *loop,
		      const char **error_r);
void smtpd_commit_deinit(struct smtpd_config *cfg);
/* Commits s->qw (taken from the session): 250 or 451 is sent once the
 * fsyncs are done, then the session resumes; until then
 * smtpd_commit_pending() is true. */
void smtpd_commit_start(struct session *s);
bool smtpd_commit_pending(const struct session *s);
/* The session ends: its commit finishes without it. */
void smtpd_commit_detach(struct session *s);

/* ---- peername.c ---- */
/* The lookup threads (post_init; none with smtpd_peername_lookup = no)
 * and their end (pre_exit). */
int smtpd_peername_init(struct smtpd_config *cfg, struct event_loop *loop,
			const char **error_r);
void smtpd_peername_deinit(struct smtpd_config *cfg);
/* Finds the client's names, then calls smtpd_session_begin() (at once
 * when there is nothing to look up). */
void smtpd_peername_start(struct session *s);
/* The session ends: its lookup's answer is dropped. */
void smtpd_peername_detach(struct session *s);

/* ---- policy.c ---- */
/* Opens the tables the restrictions name (post_init). Returns 1 or -1. */
int smtpd_policy_init(const struct smtpd_config *cfg, const char **error_r);
/* Runs every restriction list for one recipient (smtpd_delay_reject:
 * client, helo and sender restrictions are evaluated here too). Returns 1
 * to accept, 0 with the reply line (no CRLF) in reply_r, or SMTPD_WAIT
 * when an answer of the auth daemon was asked for (s->auth_req): run it
 * again once the answer is in (s->known). */
int smtpd_policy_rcpt(struct session *s, const struct addr *rcpt,
		      struct str *reply_r);
/* True when domain is one of ours (mydestination). */
bool smtpd_policy_local_domain(const struct smtpd_config *cfg,
			       const char *domain);

/* ---- cmd_auth.c ---- */
/* Reads the AUTH settings and makes the auth client (post_init). */
int smtpd_auth_init(struct smtpd_config *cfg, struct event_loop *loop,
		    const char **error_r);
void smtpd_auth_deinit(struct smtpd_config *cfg);
/* True when EHLO should advertise AUTH now. */
bool smtpd_auth_offered(const struct session *s);
void smtpd_cmd_auth(struct session *s, const char *arg, size_t len);
/* One SASL response line (state SMTPD_AUTH); too_long: it was longer
 * than the line limit and has been dropped. */
void smtpd_auth_input(struct session *s, const char *line, size_t len,
		      bool too_long);
/* Forgets the authentication (session end, STARTTLS). */
void smtpd_auth_reset(struct session *s);
/* Is a recipient one of the users? Asks the auth daemon (the users
 * table holds password hashes, which smtpd never reads): the address,
 * then without its recipient_delimiter extension. 1 yes, 0 no, -1
 * temporary failure (from s->known), or SMTPD_WAIT: a question is on its
 * way (s->auth_req); when the answer is in, the pending RCPT command
 * (s->rcpt_retry) runs again and finds it in s->known. */
int smtpd_auth_rcpt_exists(struct session *s, const struct addr *a,
			   const char *delim);
/* Forgets the answers kept for one RCPT. */
void smtpd_auth_known_clear(struct session *s);
/* MAIL FROM check for an authenticated client: 1 when the user may use
 * sender, else 0 with the reply line in reply_r. */
int smtpd_auth_sender_owned(struct session *s, const char *sender,
			    struct str *reply_r);

/* ---- cmd_etrn.c ---- */
/* ETRN (RFC 1985): makes the domain's deferred mail due now. */
void smtpd_cmd_etrn(struct session *s, const char *arg, size_t len);

/* ---- received.c ---- */
/* Appends the Received: header (folded, CRLF lines) for the message. */
void smtpd_received_header(const struct session *s, const char *queue_id,
			   struct str *out);

#endif
