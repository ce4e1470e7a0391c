/* imapd.h: the pieces of the IMAP server (the imapd folder) and the
 * session they share. main.c wires the skeleton (lib/server.h, one process
 * serves many sessions on one event loop); session.c owns the connection,
 * the command reader, TLS and the output of long commands (jobs);
 * login.c LOGIN/AUTHENTICATE against the auth daemon without blocking;
 * commands.c the command table and the commands valid in any state;
 * mailboxes.c LIST, CREATE, DELETE, RENAME, SUBSCRIBE, STATUS, APPEND;
 * selected.c SELECT/EXAMINE and the view of the selected mailbox (the
 * untagged EXISTS/EXPUNGE/FETCH updates), CLOSE, EXPUNGE, IDLE;
 * fetch.c FETCH; search.c SEARCH; store.c STORE, COPY, MOVE.
 * See postern-imapd(8). */
#ifndef POSTERN_IMAPD_H
#define POSTERN_IMAPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_async.h"
#include "conf.h"
#include "event.h"
#include "imap_parse.h"
#include "imap_util.h"
#include "iobuf.h"
#include "mstore.h"
#include "server.h"
#include "str.h"
#include "tls.h"

/* Output waiting to be written above which a long command (a job) pauses
 * until the client has read some. */
#define IMAPD_OUTPUT_PAUSE (256 * 1024)
/* Failed logins after which the session is closed. */
#define IMAPD_MAX_BAD_LOGINS 3
/* Protocol errors (BAD replies) after which the session is closed. */
#define IMAPD_MAX_BAD_COMMANDS 20
/* Sessions one process serves before another one is started. */
#define IMAPD_PROCESS_CAPACITY 500

struct imapd_config {
	struct conf *conf;
	const char *hostname;
	struct tls_ctx *tls; /* NULL: no STARTTLS */
	bool tls_wrapper;    /* port 993 */
	bool tls_auth_only;  /* LOGINDISABLED until TLS */
	unsigned login_timeout_ms;
	unsigned idle_timeout_ms;
	size_t max_line;
	uint64_t literal_limit;
	const char *mail_store;
	char *public_root; /* $mail_store/Public */
	char *auth_socket; /* reachable after the privilege drop */
	struct auth_async *auth; /* the auth daemon, for every session */
};

enum imapd_state {
	IMAPD_NOTAUTH,
	IMAPD_AUTH,
	IMAPD_SELECTED,
	IMAPD_LOGOUT,
};

/* What the input side is doing. */
enum imapd_input {
	IMAPD_IN_COMMAND,    /* reading command lines */
	IMAPD_IN_LITERAL,    /* reading the bytes of a literal */
	IMAPD_IN_DISCARD,    /* dropping a refused non-synchronising literal */
	IMAPD_IN_IDLE,	     /* IDLE: waiting for DONE */
	IMAPD_IN_SASL,	     /* AUTHENTICATE: waiting for the response line */
	IMAPD_IN_WAIT,	     /* a command is running (auth, job): no input */
	IMAPD_IN_TLS_REPLY,  /* "OK Begin TLS" being flushed */
	IMAPD_IN_TLS_HANDSHAKE,
	IMAPD_IN_CLOSING, /* last output being flushed, then close */
};

/* A flag change this session made itself (and reported in its own
 * response): the next sync does not report it again. */
struct imapd_own_change {
	uint32_t uid;
	uint64_t modseq;
};

struct session;

/* A long command: run() is called while the output has room; it returns
 * true once it has written its tagged reply (then free() runs). */
struct imapd_job {
	bool (*run)(struct session *s, void *ctx);
	void (*free)(void *ctx);
	void *ctx;
};

struct session {
	struct server *srv;
	const struct imapd_config *cfg;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer;
	struct tls_conn *tls;
	bool tls_active;
	char client_addr[64];

	enum imapd_state state;
	enum imapd_input input;
	struct imap_reader *reader;
	struct imap_parser *parser;
	uint64_t discard_left;
	unsigned bad_commands;
	unsigned bad_logins;
	char *tag; /* the command being served */

	/* Logged in. */
	char *user;
	struct mstore *store;
	bool utf8_enabled;     /* ENABLE UTF8=ACCEPT */
	bool condstore;	       /* ENABLE CONDSTORE or a CONDSTORE use */
	bool rev2;	       /* ENABLE IMAP4rev2 */
	struct auth_async_req *login; /* a LOGIN/AUTHENTICATE in progress */
	char *login_user;	      /* its login name, for the log */

	/* Selected. */
	struct mstore_mailbox *mb;
	char *mailbox;
	bool readonly;
	/* The client's view: the UIDs in message sequence number order
	 * (index + 1). Flags are read from the store (shared by every
	 * session of the process); a UID the store no longer has is an
	 * expunge not yet announced. So a session costs 4 bytes per
	 * message, whatever the mailbox holds. */
	uint32_t *view;
	size_t view_count, view_cap;
	uint64_t view_modseq; /* changes up to this one were reported */
	struct imapd_own_change *own;
	size_t own_count, own_cap;
	uint32_t view_recent;
	/* \Recent belongs to one session (RFC 3501): the UIDs this one
	 * claimed, first to last (new mail arrives in UID order). */
	uint32_t recent_lo, recent_hi;
	uint32_t *searchres; /* SEARCH RETURN (SAVE): uids for "$" */
	size_t searchres_count;
	struct shared_user *shared_user; /* shared.c: the user's store */
	struct shared_box *shared_box;	 /* shared.c: the selected mailbox */

	struct imapd_job job;
	bool job_running;
	bool idle_done_pending;
	struct str scratch;
};

/* ---- session.c ---- */
void imapd_session_start(struct server *srv, const struct imapd_config *cfg,
			 int fd);
/* Output helpers: whole lines, "\r\n" appended. */
void imapd_printf(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void imapd_write(struct session *s, const void *data, size_t len);
/* "<tag> OK|NO|BAD text" for the current command; BAD counts toward the
 * error limit. */
void imapd_tagged(struct session *s, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts a job for the current command; the session reads no more
 * commands until it has ended. */
void imapd_job_start(struct session *s, const struct imapd_job *job);
/* Output pending is over IMAPD_OUTPUT_PAUSE: a job should return. */
bool imapd_output_full(const struct session *s);
/* Sends "* BYE text" and ends the session once it is written. */
void imapd_close_after(struct session *s, const char *text);
/* Resumes input after an asynchronous step (login) finished. */
void imapd_resume(struct session *s);
/* STARTTLS: the tagged OK is out; the handshake follows. */
void imapd_start_tls_after_reply(struct session *s);
/* The continuation request "+ text". */
void imapd_continue(struct session *s, const char *text);
/* Makes the client's input an IDLE wait or a SASL response (input modes
 * of imapd_input); IMAPD_IN_COMMAND returns to commands. */
void imapd_set_input(struct session *s, enum imapd_input in);
/* The selected mailbox may have changed (shared.c calls it): a session
 * in IDLE reports at once, the others at their next command. */
void imapd_session_notify(struct session *s);

/* ---- shared.c ---- */
/* The user's store, shared by the user's sessions in this process:
 * sets s->store. 1, or -1 with *error_r. */
int imapd_store_get(struct session *s, const char *user,
		    const struct mstore_settings *set, const char **error_r);
void imapd_store_put(struct session *s);
/* Opens (or joins) the mailbox: sets s->mb; 1, 0 no such mailbox, -1. */
int imapd_box_open(struct session *s, const char *name, bool readonly,
		   const char **error_r);
void imapd_box_close(struct session *s);
/* IDLE starts: makes sure the mailbox's changes are pushed (the watch is
 * made on first use). */
void imapd_box_idle(struct session *s);
/* The highest UID some session of this process has claimed as \Recent
 * in the selected mailbox (read and raised by selected.c). */
uint32_t *imapd_box_recent_mark(struct session *s);

/* ---- commands.c ---- */
/* Runs one parsed command. */
void imapd_command(struct session *s, struct imap_command *cmd);
/* Writes the CAPABILITY list (without "* CAPABILITY" or CRLF). */
void imapd_capabilities(struct session *s, struct str *out);
/* The end of every command in the selected state: reports changes
 * (expunges only when allowed), then the tagged reply. */
void imapd_done(struct session *s, bool allow_expunge, const char *status,
		const char *text);

/* ---- login.c ---- */
void imapd_cmd_login(struct session *s, struct imap_command *cmd);
void imapd_cmd_authenticate(struct session *s, struct imap_command *cmd);
/* A response line to AUTHENTICATE's continuation. */
void imapd_sasl_input(struct session *s, const char *line, size_t len);
void imapd_login_abort(struct session *s);

/* ---- mailboxes.c ---- */
void imapd_cmd_list(struct session *s, struct imap_command *cmd, bool lsub);
void imapd_cmd_create(struct session *s, struct imap_command *cmd);
void imapd_cmd_delete(struct session *s, struct imap_command *cmd);
void imapd_cmd_rename(struct session *s, struct imap_command *cmd);
void imapd_cmd_subscribe(struct session *s, struct imap_command *cmd,
			 bool on);
void imapd_cmd_status(struct session *s, struct imap_command *cmd);
void imapd_cmd_append(struct session *s, struct imap_command *cmd);
void imapd_cmd_namespace(struct session *s, struct imap_command *cmd);
/* A mailbox argument (astring, modified UTF-7 or UTF-8 after ENABLE
 * UTF8=ACCEPT) to the store's UTF-8 name; 1, or -1 with a reply sent. */
int imapd_mailbox_arg(struct session *s, const struct imap_arg *a,
		      struct str *name);
/* Appends the protocol form of a store name (mailbox-name syntax). */
void imapd_mailbox_out(struct session *s, const char *name, struct str *out);

/* ---- selected.c ---- */
void imapd_cmd_select(struct session *s, struct imap_command *cmd,
		      bool readonly);
void imapd_cmd_close(struct session *s, struct imap_command *cmd,
		     bool expunge);
void imapd_cmd_expunge(struct session *s, struct imap_command *cmd, bool uid);
void imapd_cmd_idle(struct session *s, struct imap_command *cmd);
void imapd_idle_input(struct session *s, const char *line, size_t len);
/* The store's record of view index i, or NULL when it was expunged
 * (not yet announced). */
const struct mstore_msg *imapd_view_msg(struct session *s, size_t i);
/* Notes that this session changed uid's flags itself (after the store
 * call), so that the next sync does not report it again. */
void imapd_own_change(struct session *s, uint32_t uid);
/* Syncs with the store and reports changes to the client. */
void imapd_sync(struct session *s, bool allow_expunge);
void imapd_unselect(struct session *s);
/* m's flags as this session reports them (\Recent only where it
 * claimed the message). */
uint32_t imapd_msg_flags(const struct session *s, const struct mstore_msg *m);
/* Appends "(\Seen $Foo ...)" */
void imapd_flags_out(struct session *s, uint32_t flags, uint32_t keywords,
		     struct str *out);
/* Parses a flag list (or one flag) into flags and keyword bits (keywords
 * created when create); 1, or -1 with *error_r. */
int imapd_flags_parse(struct session *s, const struct imap_arg *a,
		      bool create, uint32_t *flags_r, uint32_t *keywords_r,
		      const char **error_r);
/* A sequence set argument to sorted view indexes (uid: UIDs), into
 * *idx_r (caller frees); 1, or -1 with *error_r. */
int imapd_seqset_indexes(struct session *s, const char *set, bool uid,
			 size_t **idx_r, size_t *count_r,
			 const char **error_r);

/* ---- fetch.c, search.c, store.c ---- */
void imapd_cmd_fetch(struct session *s, struct imap_command *cmd, bool uid);
void imapd_cmd_search(struct session *s, struct imap_command *cmd, bool uid);
void imapd_cmd_store(struct session *s, struct imap_command *cmd, bool uid);
void imapd_cmd_copy(struct session *s, struct imap_command *cmd, bool uid,
		    bool move);
/* Loads a message (CRLF form) for fetch/search: 1, 0 expunged, -1. */
int imapd_load_message(struct session *s, uint32_t uid, struct str *out,
		       const char **error_r);

#endif
