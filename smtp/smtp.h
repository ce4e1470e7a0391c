/* smtp.h: the SMTP client (postern-smtp(8)), the delivery agent for
 * recipients in other domains. qmgr connects to private/smtp and sends
 * a request (lib/deliver_proto.h): the queue file's descriptor, then the
 * envelope, the next hop and the recipients; the agent replies with one
 * result per recipient, and with reuse=1 waits on the same connection
 * for qmgr's next request (for the same next hop, as qmgr arranges).
 *
 * Data flow: main.c reads the request -> route.c turns the next hop into
 * mail hosts (MX lookup through lib/dns.h, or the [host] as given; LMTP
 * servers on "unix:" and "inet:" next hops), finds its TLS level
 * (policy.c: smtp_tls_policy_maps; TLSA records for dane) and
 * tries their addresses in order, or reuses the SMTP session it kept
 * from the previous request to that next hop (cache.c) -> session.c
 * runs one SMTP session per address over conn.c (blocking I/O with
 * per-stage deadlines, STARTTLS) and data.c (the message, dot-stuffed;
 * for a server without 8BITMIME first scanned and then converted to
 * 7-bit MIME on the fly by lib/mime_7bit.h, or bounced when it cannot
 * be) -> results back to main.c. */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "dict.h"
#include "dns.h"
#include "iobuf.h"
#include "mime_7bit.h"
#include "str.h"
#include "tls.h"

/* Addresses tried per delivery (Postfix: smtp_mx_address_limit 5, plus
 * the plaintext retry of opportunistic TLS). */
#define SMTP_ADDRESS_LIMIT 10
/* Lines and bytes of one server reply. */
#define SMTP_REPLY_LINES 100
#define SMTP_REPLY_LINE_MAX 4096
#define SMTP_REPLY_TEXT_MAX 1024
/* Commands sent before their replies are read (PIPELINING). */
#define SMTP_PIPELINE_GROUP 100

struct smtp_config {
	const char *helo_name;
	const char *self[3]; /* myhostname, helo name: NULL-terminated */
	unsigned port;	     /* smtp_tcp_port */
	/* LMTP (RFC 2033): the service is named "lmtp", so every next hop
	 * is an LMTP server; lmtp_tcp_port; where relative "unix:" paths
	 * start */
	bool lmtp;
	unsigned lmtp_port;
	const char *queue_dir;
	/* seconds, per stage (smtp_*_timeout) */
	unsigned connect_timeout, helo_timeout, mail_timeout, rcpt_timeout;
	unsigned data_init_timeout, data_xfer_timeout, data_done_timeout;
	unsigned quit_timeout, rset_timeout;
	/* connection reuse: idle limit (ms), uses and age (s; 0 = none) */
	unsigned cache_time_ms, reuse_count_limit, reuse_time_limit;
	unsigned max_requests; /* per qmgr connection (max_use) */
	enum tls_level tls_level;
	int tls_loglevel;
	struct tls_ctx *tls;	  /* NULL with level none and no policy maps */
	struct dict **tls_policy; /* smtp_tls_policy_maps, NULL-terminated */
	struct dns_resolver *dns;
	unsigned families; /* DNS_FAMILY_* from inet_protocols */
	unsigned ipc_timeout_ms;
	/* 8-bit mail to a server without 8BITMIME: convert it to 7-bit
	 * (disable_mime_output_conversion = no), else bounce it */
	bool mime_conversion;
};

enum smtp_status {
	SMTP_PENDING, /* not yet decided in this attempt */
	SMTP_SENT,
	SMTP_DEFERRED,
	SMTP_BOUNCED,
};

struct smtp_rcpt {
	int64_t index;
	const char *address;
	const char *orcpt; /* "" when none */
	unsigned notify;   /* QUEUE_NOTIFY_* */
	enum smtp_status status;
	char dsn[16];
	struct str text;
	struct str relay; /* host[addr]:port, or "none" */
	bool accepted;	  /* RCPT got 2xx in the current session */
	bool relayed;	  /* sent to a server that does not speak DSN */
};

/* The message being delivered (request from qmgr). */
struct smtp_msg {
	const char *queue_id;
	const char *sender;
	const char *envid; /* "" when none */
	int ret;	   /* enum queue_ret */
	unsigned flags;	   /* QUEUE_MSG_* */
	int fd;		   /* the queue file, read-only */
	uint64_t offset, size;
	const char *nexthop;
	/* how the next hop is spoken to (route.c): LMTP or SMTP, and the
	 * TLS level (smtp_tls_security_level or smtp_tls_policy_maps) */
	bool lmtp;
	enum tls_level tls_level;
	char tls_match[256];	/* verify: the name to check ("" = MX host,
				   "nexthop" = the next-hop domain) */
	char nexthop_host[256]; /* the next hop's domain or host */
	struct smtp_rcpt *rcpts;
	size_t rcpt_count;
	/* for qmgr: when the transaction began (0: never), how often the
	 * connection was used, why the next hop failed as a whole */
	uint64_t start_usec, xfer_start_usec;
	unsigned conn_use;
	bool hop_failed;
	char hop_dsn[16];
	struct str hop;
	/* pass 1 of the 7-bit conversion, made once for the first server
	 * without 8BITMIME (data.c); NULL before */
	struct mime_7bit *mime;
};

/* What EHLO said. */
struct smtp_features {
	bool esmtp, pipelining, starttls, eightbit, smtputf8, dsn, has_size;
	uint64_t size_limit;
};

/* One connection to a mail host. */
struct smtp_conn {
	int fd;
	struct iobuf *io;
	struct tls_conn *tls;
	char relay[320]; /* "host[addr]:port" ("host[path]" for a UNIX
			    socket), for logs and results */
	char peer[300];	 /* "host[addr]", for reply texts */
	bool lmtp;	 /* LHLO, and one reply per recipient after DATA */
	/* level dane: the TLSA records of this host (borrowed, for
	 * smtp_conn_starttls() only) */
	const struct tls_tlsa *tlsa;
	size_t tlsa_count;
	int code;	  /* of the last reply */
	struct str reply; /* the last reply, lines joined by a blank */
	char error[512];  /* the last I/O error text */
	struct smtp_features feat;
	bool kept;	     /* the session ended with RSET, not QUIT */
	unsigned uses;	     /* transactions so far */
	long long opened_ms; /* monotonic */
};

/* Microseconds, wall clock (for delays=). */
uint64_t smtp_now_usec(void);

/* Sets res of every pending recipient. */
void smtp_rcpts_set(struct smtp_msg *msg, enum smtp_status status,
		    const char *dsn, const char *relay, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sets one recipient's result. */
void smtp_rcpt_set(struct smtp_rcpt *r, enum smtp_status status,
		   const char *dsn, const char *relay, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Delivers msg to its next hop: every recipient ends up SENT, DEFERRED
 * or BOUNCED (route.c). */
/* Notes that the next hop failed as a whole (every address refused, a
 * DNS failure): msg->hop_*. */
void smtp_hop_fail(struct smtp_msg *msg, const char *dsn, const char *text);
void smtp_deliver(const struct smtp_config *cfg, struct smtp_msg *msg);

/* What one session (session.c) left behind. */
enum smtp_session_end {
	SMTP_SESSION_DONE,     /* every recipient has its result */
	SMTP_SESSION_NEXT,     /* failed before any recipient was tried:
				  try the next address (reason in text) */
	SMTP_SESSION_NEXT_TLS, /* the TLS handshake failed (level may):
				  the same address may be tried in plain */
};

/* Runs one SMTP session on the open connection c for every pending
 * recipient of msg. tls_level: what this session may or must do.
 * peer_name: the host name for certificate checks. On SMTP_SESSION_NEXT*
 * *fail_dsn_r and fail_text say why (a 5xx dsn when the server refused
 * us for good). */
enum smtp_session_end smtp_session(const struct smtp_config *cfg,
				   struct smtp_conn *c, struct smtp_msg *msg,
				   enum tls_level tls_level,
				   const char *peer_name, char *fail_dsn,
				   struct str *fail_text, bool keep);
/* keep: after the transaction, RSET instead of QUIT; c->kept says
 * whether the server took it (the session may then be used again). */
/* Runs one more transaction on a kept session. SMTP_SESSION_NEXT when
 * it failed before any recipient was answered (a fresh connection may
 * do better). */
enum smtp_session_end smtp_session_again(const struct smtp_config *cfg,
					 struct smtp_conn *c,
					 struct smtp_msg *msg, char *fail_dsn,
					 struct str *fail_text, bool keep);

/* ---- policy.c: smtp_tls_policy_maps */

/* Opens the tables of specs into cfg->tls_policy. Returns 1 or -1. */
int smtp_tls_policy_open(struct smtp_config *cfg, const char *const *specs,
			 const char **error_r);
void smtp_tls_policy_close(struct smtp_config *cfg);
/* Parses a policy value "level [name=value ...]": the level, and match=
 * into match (else ""). Returns 1, or -1 with *error_r. */
int smtp_tls_policy_parse(const char *value, enum tls_level *level_r,
			  char *match, size_t match_size, const char **error_r);
/* Looks up the policy of the next hop (host, whether MX are looked up,
 * port; defport: the default port, where "[host]" also matches) and sets
 * msg->tls_level and msg->tls_match when a table has one. Returns 1, or
 * -1 (logged) when the lookup failed or the entry is bad. */
int smtp_tls_policy(const struct smtp_config *cfg, struct smtp_msg *msg,
		    const char *host, bool mx, unsigned port, unsigned defport);

/* ---- cache.c: the session kept between requests */

/* Delivers msg over the kept session when it belongs to msg's next hop
 * and is still usable. Returns true when that settled every recipient;
 * false when msg must go the usual way (the session, if any, is gone). */
bool smtp_cache_deliver(const struct smtp_config *cfg, struct smtp_msg *msg);
/* Keeps c (c->kept) for nexthop; closes a session kept before. */
void smtp_cache_put(const struct smtp_config *cfg, struct smtp_conn *c,
		    const char *nexthop);
/* Ends the kept session (QUIT) at the end of qmgr's connection. */
void smtp_cache_close(const struct smtp_config *cfg);

/* ---- conn.c: blocking I/O with deadlines over lib/iobuf */

/* Connects to ss:port (port set here) within timeout seconds; ss may
 * also be an AF_UNIX address (port unused). Returns 1, or -1 with
 * c->error ("connect to host[addr]:port: Connection refused"). */
int smtp_conn_open(struct smtp_conn *c, const char *host,
		   const struct sockaddr_storage *ss, unsigned port,
		   unsigned timeout);
void smtp_conn_close(struct smtp_conn *c);
/* Queues a command line (CRLF added). */
void smtp_conn_put(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes all queued output within timeout seconds. what: the stage for
 * the error text ("sending MAIL FROM"). Returns 1 or -1 (c->error). */
int smtp_conn_flush(struct smtp_conn *c, unsigned timeout, const char *what);
/* Reads one whole reply (c->code, c->reply). Returns 1 or -1 (c->error:
 * timeout, lost connection, malformed reply). */
int smtp_conn_reply(struct smtp_conn *c, unsigned timeout, const char *what);
/* The TLS handshake after "220" to STARTTLS. Level DANE checks the peer
 * against c->tlsa (RFC 7672: when none of them is usable, the session
 * goes on as level ENCRYPT). Returns 1 or -1. */
int smtp_conn_starttls(struct smtp_conn *c, struct tls_ctx *ctx,
		       enum tls_level level, const char *peer_name,
		       unsigned timeout);
/* Streams the message content, dot-stuffed, with the final "." line
 * (data.c); to_7bit: converted by msg->mime (after a verdict of 1).
 * Returns 1 or -1 (c->error). */
int smtp_data_send(struct smtp_conn *c, const struct smtp_msg *msg,
		   bool to_7bit, unsigned timeout);
/* Scans the message for 8-bit content (pass 1 of lib/mime_7bit.h) into
 * msg->mime, unless done already. Returns 1, or -1 with *error_r (a
 * static buffer) when the queue file cannot be read. */
int smtp_data_scan(struct smtp_msg *msg, const char **error_r);

#endif
