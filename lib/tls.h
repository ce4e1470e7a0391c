/* tls.h: TLS over OpenSSL for smtpd (STARTTLS, port 465), the smtp client
 * and later imapd.
 *
 * A struct tls_ctx holds what is shared by all connections of one role (a
 * certificate and key, CA store, protocol and cipher policy); it is built
 * once at start-up, where a bad file or setting is a clear error naming it.
 * A struct tls_conn is one connection on a non-blocking socket: the
 * handshake is stepped from the event loop (tls_conn_handshake() says
 * which event to wait for), and afterwards tls_iobuf_transport lets
 * lib/iobuf read and write through TLS with no change to the buffering.
 *
 * Policy built in: TLS 1.2 minimum on the server side, no compression, no
 * renegotiation, no session tickets or session cache (each daemon process
 * would hold its own ticket key, so resumption across processes could not
 * work anyway, and forward secrecy is better without long-lived keys;
 * revisit with a shared key manager), ECDHE groups chosen by OpenSSL's
 * defaults (X25519 first), and a TLS 1.2 cipher list limited to forward-
 * secret AEAD and CBC suites (TLS_DEFAULT_SERVER_CIPHERS). Private keys
 * are read without any passphrase prompt: an encrypted key is an error.
 *
 * SIGPIPE: TLS writes use send(MSG_NOSIGNAL) on sockets, as lib/iobuf does,
 * so a peer that vanished gives EPIPE, not a signal.
 *
 * STARTTLS, required order (plaintext sent before the handshake must never
 * be read as if it came through TLS, RFC 3207 and CVE-2011-0411):
 *   server: 1. read the "STARTTLS" line with iobuf_read_line();
 *           2. iobuf_take_input(b, NULL): drop anything pipelined behind
 *              it (it was sent in plaintext; log how much, if any);
 *           3. write "220 2.0.0 Ready to start TLS" and iobuf_flush()
 *              until it returns 1 (the reply must leave in plaintext);
 *           4. tls_conn_server() and tls_conn_handshake() until 1;
 *           5. iobuf_set_transport(b, &tls_iobuf_transport, conn), then
 *              forget all session state (EHLO again, RFC 3207 4.2).
 *   client: send STARTTLS, read the 220; then iobuf_take_input(b, NULL)
 *           must return 0: anything else is plaintext injected by a man in
 *           the middle, so give up on the connection; then steps 4 and 5
 *           with tls_conn_client().
 *   Implicit TLS (port 465): steps 4 and 5 before the greeting.
 * After close_notify from the peer the transport reports end of input
 * (iobuf: IOBUF_EOF) and never reads plaintext that may follow it; after a
 * failed handshake the connection object only reports errors.
 *
 * Errors: functions that make a tls_ctx set *error_r to text valid until
 * the next such call; functions on a tls_conn point *error_r into the
 * connection (valid until its next call). Not thread-safe. */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iobuf.h"

/* The TLS 1.2 cipher list used when a config leaves ciphers NULL. */
#define TLS_DEFAULT_SERVER_CIPHERS                                             \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AES:"       \
	"!aNULL:!eNULL:!MD5:!DSS:!PSK:!SRP:!CAMELLIA:!ARIA"

enum tls_version {
	TLS_VERSION_DEFAULT = 0, /* TLSv1.2 as minimum, newest as maximum */
	TLS_VERSION_1_0,
	TLS_VERSION_1_1,
	TLS_VERSION_1_2,
	TLS_VERSION_1_3,
};

/* Postfix's smtp_tls_security_level values that this module implements. */
enum tls_level {
	TLS_LEVEL_NONE,	   /* no TLS (the caller never starts it) */
	TLS_LEVEL_MAY,	   /* opportunistic: any certificate, plaintext if
			      STARTTLS fails (the caller's choice) */
	TLS_LEVEL_ENCRYPT, /* mandatory TLS, any certificate */
	TLS_LEVEL_VERIFY,  /* chain to a trusted CA and the peer name */
	TLS_LEVEL_DANE,	   /* TLSA records (tls_conn_set_tlsa()) */
};

/* What was learnt about the peer's certificate, as Postfix logs it:
 * "Anonymous", "Untrusted", "Trusted", "Verified" TLS connection. */
enum tls_peer {
	TLS_PEER_NONE,	    /* no certificate (a client without one) */
	TLS_PEER_UNTRUSTED, /* a certificate that did not verify */
	TLS_PEER_TRUSTED,   /* chain verified, name not matched */
	TLS_PEER_VERIFIED,  /* chain and name verified, or DANE matched */
};

struct tls_server_config {
	const char *cert_file;	      /* PEM: certificate, then its chain */
	const char *key_file;	      /* PEM private key (may be cert_file) */
	const char *ciphers;	      /* TLS <= 1.2 list; NULL = the default */
	const char *ciphersuites;     /* TLS 1.3 list; NULL = OpenSSL's */
	enum tls_version min_version; /* below TLSv1.2 is refused */
	enum tls_version max_version; /* DEFAULT = newest */
};

struct tls_client_config {
	const char *ca_file; /* PEM CAs; both NULL = the system store */
	const char *ca_path; /* hashed directory of CAs */
	const char *cert_file, *key_file; /* optional client certificate */
	const char *ciphers;		  /* NULL = OpenSSL's default */
	const char *ciphersuites;	  /* NULL = OpenSSL's default */
	/* DEFAULT = TLSv1.2; an older minimum is allowed here (Postfix lets
	 * opportunistic clients talk to old servers) but then needs a
	 * cipher list with "@SECLEVEL=0" on OpenSSL 3. */
	enum tls_version min_version;
	enum tls_version max_version;
};

struct tls_ctx;
struct tls_conn;

/* DANE TLSA record (RFC 6698): usage, selector, matching type, data. */
struct tls_tlsa {
	uint8_t usage, selector, mtype;
	const unsigned char *data;
	size_t len;
};

/* "none", "may", "encrypt", "verify", "dane" (and Postfix's "secure" as
 * verify). Returns 1, or -1 for an unknown name. */
int tls_level_parse(const char *name, enum tls_level *level_r);
/* "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3". Returns 1 or -1. */
int tls_version_parse(const char *name, enum tls_version *version_r);

/* Server context: loads cert_file and key_file (errors name the file:
 * missing, unreadable, no certificate or key in it, encrypted key, key
 * that does not match the certificate) and applies the policy above.
 * Returns NULL with *error_r on failure. */
struct tls_ctx *tls_server_ctx_new(const struct tls_server_config *cfg,
				   const char **error_r);
/* Client context: CA store (ca_file/ca_path, else the system default),
 * optional client certificate, versions and ciphers. */
struct tls_ctx *tls_client_ctx_new(const struct tls_client_config *cfg,
				   const char **error_r);
/* Frees the context; connections made from it must be freed first. */
void tls_ctx_free(struct tls_ctx **ctxp);

struct conf;
/* The server context of a daemon from PREFIX_tls_cert_file,
 * PREFIX_tls_key_file and PREFIX_tls_wrappermode (imapd, pop3d): *ctx_r
 * stays NULL without a certificate (no STARTTLS), which is an error only
 * in wrapper mode. Returns 1, or -1 with *error_r. */
int tls_server_ctx_from_conf(struct conf *conf, const char *prefix,
			     bool *wrapper_r, struct tls_ctx **ctx_r,
			     const char **error_r);

/* A server-side connection on fd (non-blocking, not owned: never closed
 * here). The fd must carry nothing but TLS from now on. */
struct tls_conn *tls_conn_server(struct tls_ctx *ctx, int fd,
				 const char **error_r);
/* A client-side connection on fd. peer_name is sent as SNI (unless it is
 * an IP address) and, with TLS_LEVEL_VERIFY, must match the certificate
 * (no partial wildcards); it is required for VERIFY and may be NULL
 * otherwise. MAY and ENCRYPT complete the handshake whatever the
 * certificate, and tls_conn_peer() tells what it was. Level NONE is a
 * caller bug (NULL with an error). */
struct tls_conn *tls_conn_client(struct tls_ctx *ctx, int fd,
				 enum tls_level level, const char *peer_name,
				 const char **error_r);
/* DANE (client, level DANE, before the handshake): base_domain is the
 * TLSA base name (the MX host name) used for name checks of usages 0/1.
 * Returns 1 when at least one record is usable, 0 when none is (RFC 7672
 * 2.2: the caller then falls back to level ENCRYPT on a new connection),
 * -1 on error. Records with unknown parameters are skipped, not errors. */
int tls_conn_set_tlsa(struct tls_conn *c, const char *base_domain,
		      const struct tls_tlsa *records, size_t count,
		      const char **error_r);

/* One step of the handshake. Returns 1 when it is complete; 0 when it
 * must wait: *events_r is EVENT_READ or EVENT_WRITE (lib/event.h), call
 * again when the fd is ready; -1 when it failed (*error_r says why, e.g.
 * "TLS handshake failed: unsupported protocol" or "... certificate verify
 * failed: hostname mismatch"). The caller bounds the time it allows. */
int tls_conn_handshake(struct tls_conn *c, unsigned *events_r,
		       const char **error_r);
struct event_io;
/* tls_conn_handshake() for a session on an event loop: 1 when complete
 * (buf then reads and writes through TLS), 0 when it waits (io now asks
 * for the events the handshake needs), -1 with *error_r when it failed
 * (end the session). */
int tls_conn_handshake_io(struct tls_conn *c, struct event_io *io,
			  struct iobuf *buf, const char **error_r);

/* The transport for iobuf_new_transport()/iobuf_set_transport(), with the
 * struct tls_conn as its ctx, once the handshake is complete (before, and
 * after an error, it fails with EPROTO). Reads return 0 after the peer's
 * close_notify and fail (ECONNRESET) on an unexpected EOF: a TCP close
 * without close_notify could be a truncation attack, and SMTP ends its
 * sessions with QUIT anyway. Other failures set EPROTO, with the details in
 * tls_conn_error(). */
extern const struct iobuf_transport tls_iobuf_transport;
/* What the last blocked read or write needs (EVENT_READ and/or
 * EVENT_WRITE): a TLS read can need the fd writable and a write readable.
 * Wait for these in addition to the usual events. */
unsigned tls_conn_events(const struct tls_conn *c);
/* True when OpenSSL holds input not yet returned by a read. The fd may
 * then never become readable again for it: before waiting for EVENT_READ
 * after IOBUF_NEED_MORE (e.g. when iobuf_read_line() paused while
 * discarding an overlong line), check this and read again instead. */
bool tls_conn_pending(const struct tls_conn *c);

/* Sends close_notify (without waiting for the peer's). Returns 1 when it
 * is sent (or there is no TLS session to close), 0 with *events_r to wait
 * for, -1 on error. Flush iobuf output first. */
int tls_conn_shutdown(struct tls_conn *c, unsigned *events_r,
		      const char **error_r);
/* Frees the connection (the fd stays open); *cp = NULL; NULL is a no-op. */
void tls_conn_free(struct tls_conn **cp);

/* After the handshake: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
 * (256/256 bits)", for logs and Received: headers; "" before. */
const char *tls_conn_summary(const struct tls_conn *c);
/* After the handshake: the peer certificate verdict, and in *detail_r
 * (when not NULL) a short reason for UNTRUSTED ("self-signed certificate",
 * "certificate has expired"), "dane" or the matched name for VERIFIED, ""
 * otherwise. */
enum tls_peer tls_conn_peer(const struct tls_conn *c, const char **detail_r);
/* "Anonymous", "Untrusted", "Trusted", "Verified". */
const char *tls_peer_text(enum tls_peer peer);
/* The last error on c ("" when none). */
const char *tls_conn_error(const struct tls_conn *c);

/* Writes a new EC (P-256) private key to key_path (mode 0600, atomically)
 * and a self-signed X.509 v3 certificate for common_name (also its
 * subjectAltName: DNS, or IP for an address) valid for days (1..36500)
 * to cert_path (mode 0644); CA:FALSE, so it can be its own trust anchor in
 * a CA file but can sign nothing. For `postern init` and tests. Returns 1, or
 * -1 with *error_r. */
int tls_make_self_signed(const char *cert_path, const char *key_path,
			 const char *common_name, unsigned days,
			 const char **error_r);
/* The same for several names: names[0] is the subject, and every name of
 * the NULL-terminated list goes into subjectAltName (an instance's
 * certificate covers its host name, localhost and 127.0.0.1). */
int tls_make_self_signed_names(const char *cert_path, const char *key_path,
			       const char *const *names, unsigned days,
			       const char **error_r);

#endif
