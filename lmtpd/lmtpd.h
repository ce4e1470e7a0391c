/* lmtpd.h: the pieces of the LMTP server (the lmtpd folder) and how they
 * share one session. lmtpd takes mail from another MTA over LMTP (RFC
 * 2033) on a UNIX socket or TCP and delivers it straight into the users'
 * Maildir++ mailboxes, with one reply per recipient after the content.
 * main.c wires the skeleton (lib/server.h, one client per process);
 * session.c owns the connection, its state and its I/O; commands.c holds
 * the command table, LHLO, MAIL, RCPT and the simple commands; cmd_data.c
 * DATA and BDAT into a spool file (framing by lib/smtp_data.c); deliver.c the
 * per-recipient Maildir delivery and its reply. See postern-lmtpd(8). */
#ifndef POSTERN_LMTPD_H
#define POSTERN_LMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_client.h"
#include "conf.h"
#include "event.h"
#include "iobuf.h"
#include "queue_id.h"
#include "server.h"
#include "smtp_data.h"
#include "str.h"

/* Longest command line accepted, whatever line_length_limit says. */
#define LMTPD_CMD_MIN 512
/* Content lines longer than this are dropped and the message refused. */
#define LMTPD_DATA_LINE_MAX (64 * 1024)
/* Content goes to the spool file in blocks of about this size. */
#define LMTPD_WRITE_BLOCK (64 * 1024)
/* Most recipients of one transaction, whatever the configuration. */
#define LMTPD_RCPT_HARD_MAX 10000
/* Errors (4xx/5xx answers to bad commands) before the session ends. */
#define LMTPD_ERROR_LIMIT 50

/* The session states; commands.c's table says which commands each one
 * allows. */
enum lmtpd_state {
	LMTPD_INIT,	/* greeted, no LHLO yet */
	LMTPD_IDLE,	/* LHLO done, no transaction */
	LMTPD_MAIL,	/* MAIL accepted, no recipient yet */
	LMTPD_RCPT,	/* at least one recipient */
	LMTPD_DATA,	/* reading DATA lines */
	LMTPD_BDAT,	/* reading the bytes of one BDAT chunk */
	LMTPD_CHUNKING, /* between BDAT chunks */
	LMTPD_CLOSING,	/* last reply being flushed, then close */
	LMTPD_STATE_COUNT
};

#define LMTPD_STATE_BIT(st) (1u << (st))

/* Settings read once per process from main.cf (plus -o overrides). */
struct lmtpd_config {
	struct conf *conf;
	const char *myhostname;
	const char *mail_name;
	const char *mail_store;	     /* absolute */
	const char *temp_directory;  /* lmtpd_temp_directory */
	const char *delimiter;	     /* recipient_delimiter */
	uint64_t message_size_limit; /* 0 = none */
	uint64_t mailbox_size_limit; /* Maildir++ quota; 0 = none */
	bool quota_bounce;	     /* mailbox_quota_action = bounce */
	size_t cmd_max;
	unsigned timeout_ms;
	long recipient_limit;
	struct auth_client *auth; /* which users exist */
};

/* One accepted recipient. */
struct lmtpd_rcpt {
	char *address; /* as given (canonical form) */
	char *mailbox; /* the user it reaches: lower-case user@domain */
};

struct session {
	struct server *srv;
	const struct lmtpd_config *cfg;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer;
	enum lmtpd_state state;

	/* Client facts. */
	char client_addr[64];
	char client_name[16];
	bool client_unix; /* over the UNIX socket */
	char *helo_name;
	long errors;

	/* Transaction. */
	char *sender; /* canonical; "" for <> */
	bool smtputf8;
	struct lmtpd_rcpt *rcpts;
	size_t rcpt_count, rcpt_cap;
	char queue_id[QUEUE_ID_SIZE]; /* names the transaction: "" = none */
	struct smtpd_data data;
	struct str content; /* converted content not yet in the spool */
	int spool_fd;	    /* kept across transactions; -1 = none yet */
	uint64_t spool_size;
	bool spool_failed;
	uint64_t bdat_left;
	bool bdat_last;
};

/* ---- session.c ---- */
/* Starts a session on fd (SERVER_SINGLE client callback). */
void lmtpd_session_start(struct server *srv, const struct lmtpd_config *cfg,
			 int fd);
/* Moves to state st, logging the transition at debug level. */
void lmtpd_enter_state(struct session *s, enum lmtpd_state st);
const char *lmtpd_state_name(enum lmtpd_state st);
/* Drops the transaction (RSET, LHLO, MAIL, end of data). */
void lmtpd_transaction_reset(struct session *s);
/* Schedules the end of the session after reply (a full line with code,
 * status and text, no CRLF) is flushed. */
void lmtpd_close_after(struct session *s, const char *reply);
/* A bare LF where only CRLF may end a line: "521 5.5.2", logged, and the
 * session ends (nothing of the transaction is delivered). */
void lmtpd_bare_lf_close(struct session *s);

/* ---- commands.c ---- */
/* Writes one reply line "CODE TEXT\r\n". */
void lmtpd_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, counted as a client error; at LMTPD_ERROR_LIMIT the session
 * ends with 421 after this reply. */
void lmtpd_reply_error(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Handles one command line (without its CRLF). */
void lmtpd_command(struct session *s, const char *line, size_t len);

/* ---- cmd_data.c ---- */
void lmtpd_cmd_data(struct session *s, const char *arg, size_t len);
void lmtpd_cmd_bdat(struct session *s, const char *arg, size_t len);
/* One DATA line (state LMTPD_DATA); too_long: the line was dropped. */
void lmtpd_data_input(struct session *s, const struct iobuf_line *line,
		      bool too_long);
/* Raw bytes of a BDAT chunk (state LMTPD_BDAT). */
void lmtpd_bdat_input(struct session *s, const void *data, size_t len);
/* Closes the spool file (session end). */
void lmtpd_spool_close(struct session *s);

/* ---- deliver.c ---- */
/* Is address (canonical user@domain) a user? Asks the auth daemon for the
 * address, then without its recipient_delimiter extension. Returns 1 with
 * the user's mailbox name (lower case) in mailbox_r, 0 no such user, -1
 * temporary failure (logged). */
int lmtpd_rcpt_lookup(const struct lmtpd_config *cfg, const char *address,
		      struct str *mailbox_r);
/* The end of the content: delivers the spooled message (spool_size bytes,
 * lines ending in LF) to every recipient and writes one reply per
 * recipient, in RCPT order. refusal: NULL, or the reply every recipient
 * gets instead (message refused or spool failed). */
void lmtpd_deliver_all(struct session *s, const char *refusal);

#endif
