/* pop3d.h: the pieces of the POP3 server (the pop3d folder) and the
 * session they share. main.c wires the skeleton (lib/server.h: one process
 * serves many sessions on one event loop); session.c owns the connection,
 * TLS (STLS and port 995), timeouts and the output of RETR/TOP; commands.c
 * the command table and the short commands; retrieve.c LIST, UIDL, RETR
 * and TOP (long replies, sent as jobs); login.c USER/PASS and AUTH PLAIN
 * against the auth daemon without blocking; maildrop.c the maildrop (the
 * exclusive lock, the snapshot of INBOX, the UPDATE state); parse.c the
 * pure parsing and conversion code (parse.h). See postern-pop3d(8). */
#ifndef POSTERN_POP3D_H
#define POSTERN_POP3D_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_async.h"
#include "conf.h"
#include "event.h"
#include "iobuf.h"
#include "mstore.h"
#include "parse.h"
#include "server.h"
#include "str.h"
#include "tls.h"

/* Output waiting to be written above which RETR/TOP pauses until the
 * client has read some. */
#define POP3D_OUTPUT_PAUSE (256 * 1024)
/* Most output ever pending: a paused message plus a few replies. */
#define POP3D_OUTPUT_MAX (4 * POP3D_OUTPUT_PAUSE)
/* Failed logins after which the session is closed. */
#define POP3D_MAX_BAD_LOGINS 3
/* Protocol errors (unknown commands, bad syntax, overlong lines) after
 * which the session is closed. */
#define POP3D_MAX_BAD_COMMANDS 10
/* Sessions one process serves before another one is started. */
#define POP3D_PROCESS_CAPACITY 500
/* The lock file in the user's mail root that makes a POP3 session's hold
 * on the maildrop exclusive (RFC 1939 4). */
#define POP3D_LOCK_FILE "postern-pop3.lock"

struct pop3d_config {
	struct conf *conf;
	const char *hostname;
	const char *greeting;
	struct tls_ctx *tls; /* NULL: no STLS */
	bool tls_wrapper;    /* port 995 */
	bool tls_auth_only;  /* no USER/PASS/AUTH before TLS */
	unsigned timeout_ms;
	size_t max_line;
	const char *mail_store;
	char *public_root; /* $mail_store/Public */
	char *auth_socket; /* reachable after the privilege drop */
	struct auth_async *auth; /* the auth daemon, for every session */
};

enum pop3d_state {
	POP3D_AUTHORIZATION,
	POP3D_TRANSACTION,
	POP3D_UPDATE,
};

/* What the input side is doing. */
enum pop3d_input {
	POP3D_IN_COMMAND,   /* reading command lines */
	POP3D_IN_SASL,	    /* AUTH: waiting for the response line */
	POP3D_IN_WAIT,	    /* a command is running (auth, RETR): no input */
	POP3D_IN_TLS_REPLY, /* "+OK Begin TLS" being flushed */
	POP3D_IN_TLS_HANDSHAKE,
	POP3D_IN_CLOSING, /* last output being flushed, then close */
};

/* One message of the maildrop as the session saw it at login. */
struct pop3d_msg {
	uint32_t uid;
	uint64_t size; /* octets in CRLF form, before dot-stuffing */
	bool deleted;  /* DELE'd in this session */
	bool retrieved;
};

struct session;

/* A long reply (a listing, a message): run() is called while the output
 * has room and writes a bounded piece; it returns true once the reply is
 * complete (then free() runs). */
struct pop3d_job {
	bool (*run)(struct session *s, void *ctx);
	void (*free)(void *ctx);
	void *ctx;
};

struct session {
	struct server *srv;
	const struct pop3d_config *cfg;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer;
	struct tls_conn *tls;
	bool tls_active;
	char client_addr[64];

	enum pop3d_state state;
	enum pop3d_input input;
	unsigned bad_commands;
	unsigned bad_logins;
	char *user_arg;		 /* USER's argument, waiting for PASS */
	struct auth_async_req *login; /* a PASS/AUTH in progress */
	char *login_user;	      /* its user, for the log */

	/* Logged in (TRANSACTION). */
	char *user;
	struct mstore *store;
	struct mstore_mailbox *mb;
	int lock_fd;
	uint32_t uidvalidity;
	struct pop3d_msg *msgs;
	size_t msg_count;
	uint64_t retr_count, retr_bytes;

	struct pop3d_job job; /* a long reply in progress */
	bool job_running;
	struct str scratch;
};

/* ---- session.c ---- */
void pop3d_session_start(struct server *srv, const struct pop3d_config *cfg,
			 int fd);
/* Output helpers: whole lines, "\r\n" appended. */
void pop3d_printf(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pop3d_write(struct session *s, const void *data, size_t len);
/* "-ERR text"; counts toward the error limit when bad is true (a protocol
 * error rather than a refused request). */
void pop3d_err(struct session *s, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends text (a whole reply line, may be NULL) and ends the session once
 * it is written. */
void pop3d_close_after(struct session *s, const char *text);
/* Resumes input after an asynchronous step (login) finished. */
void pop3d_resume(struct session *s);
/* STLS: the +OK is queued; the handshake follows once it is written. */
void pop3d_start_tls_after_reply(struct session *s);
/* Makes the client's input SASL response lines or commands. */
void pop3d_set_input(struct session *s, enum pop3d_input in);
/* Starts a job; the session reads no more commands until it has ended. */
void pop3d_job_start(struct session *s, const struct pop3d_job *job);
/* Output pending is over POP3D_OUTPUT_PAUSE: a job should return. */
bool pop3d_output_full(const struct session *s);

/* ---- commands.c ---- */
/* Runs one command line. */
void pop3d_command(struct session *s, const char *line, size_t len);
/* A message number argument: 1 with the index into s->msgs, or -1 after
 * an -ERR reply (syntax, no such message, deleted). */
int pop3d_msg_arg(struct session *s, const char *arg, size_t len,
		  size_t *idx_r);

/* ---- retrieve.c ---- */
void pop3d_cmd_list(struct session *s, const struct pop3_cmd *cmd);
void pop3d_cmd_uidl(struct session *s, const struct pop3_cmd *cmd);
void pop3d_cmd_retr(struct session *s, const struct pop3_cmd *cmd);
void pop3d_cmd_top(struct session *s, const struct pop3_cmd *cmd);

/* ---- login.c ---- */
void pop3d_cmd_user(struct session *s, const struct pop3_cmd *cmd);
void pop3d_cmd_pass(struct session *s, const struct pop3_cmd *cmd);
void pop3d_cmd_auth(struct session *s, const struct pop3_cmd *cmd);
/* A response line to AUTH's continuation. */
void pop3d_sasl_input(struct session *s, const char *line, size_t len);
void pop3d_login_abort(struct session *s);
/* May USER/PASS/AUTH be used now (TLS active or not required)? */
bool pop3d_login_allowed(const struct session *s);

/* ---- maildrop.c ---- */
/* Opens the user's store, locks the maildrop and takes the snapshot of
 * INBOX. 1 ok (state TRANSACTION), 0 locked by another POP3 session, -1
 * error (*error_r for the log). */
int pop3d_maildrop_open(struct session *s, const char *canon,
			const char **error_r);
/* The UPDATE state: marks retrieved messages \Seen and expunges the
 * deleted ones. 1 ok, -1 error (*error_r). *deleted_r: messages removed. */
int pop3d_maildrop_update(struct session *s, size_t *deleted_r,
			  const char **error_r);
/* Releases the mailbox, the lock and the store (no UPDATE). */
void pop3d_maildrop_close(struct session *s);
/* Reads message idx (LF form) into out: 1, 0 removed meanwhile, -1. */
int pop3d_maildrop_read(struct session *s, size_t idx, struct str *out,
			const char **error_r);

#endif
