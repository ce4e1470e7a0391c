/* tls_conn.c: one TLS connection on a non-blocking socket: the handshake
 * stepped by the event loop, the iobuf transport, close_notify, the
 * summary for logs and Received: headers, and the peer verdict (see
 * tls.h). OpenSSL talks to the fd through a small BIO of our own that uses
 * send(MSG_NOSIGNAL)/recv and remembers errno, so that a vanished peer is
 * an error and not SIGPIPE, and error texts can say what the system said. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "event.h"
#include "mem.h"
#include "str.h"
#include "tls_internal.h"

struct tls_conn {
	SSL *ssl;
	int fd;
	int sys_errno; /* errno of the last failed BIO call */
	bool server;
	bool done;   /* handshake complete */
	bool failed; /* sticky: no more TLS I/O */
	bool dane;   /* TLSA records were added */
	enum tls_level level;
	unsigned read_want, write_want; /* EVENT_* a blocked call needs */
	char *peer_name;		/* client: SNI and name to verify */
	enum tls_peer peer;
	char peer_detail[128];
	char summary[160];
	char error[512];
};

static int conn_fail(struct tls_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records an error text in c and returns -1. */
static int conn_fail(struct tls_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the socket BIO */

static BIO_METHOD *sock_method;
/* Why a connection could not be made (no connection to hold the text). */
static char conn_errbuf[512];

static int sock_bio_write(BIO *b, const char *buf, int len)
{
	struct tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(c->fd, buf, (size_t)len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		c->sys_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
	}
	return (int)n;
}

static int sock_bio_read(BIO *b, char *buf, int len)
{
	struct tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = recv(c->fd, buf, (size_t)len, 0);
		if (n < 0 && errno == ENOTSOCK)
			n = read(c->fd, buf, (size_t)len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		c->sys_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
	}
	return (int)n;
}

static long sock_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO *sock_bio_new(struct tls_conn *c)
{
	BIO *b;

	if (sock_method == NULL) {
		sock_method =
		    BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				 "postern socket");
		if (sock_method == NULL ||
		    !BIO_meth_set_write(sock_method, sock_bio_write) ||
		    !BIO_meth_set_read(sock_method, sock_bio_read) ||
		    !BIO_meth_set_ctrl(sock_method, sock_bio_ctrl)) {
			BIO_meth_free(sock_method);
			sock_method = NULL;
			return NULL;
		}
	}
	b = BIO_new(sock_method);
	if (b != NULL) {
		BIO_set_data(b, c);
		BIO_set_init(b, 1);
	}
	return b;
}

/* ---- errors */

/* Describes a failed SSL call (SSL_get_error() value e) into c->error
 * as "what: reason", adding the certificate verdict when that was the
 * cause; marks c failed. */
static void conn_ssl_fail(struct tls_conn *c, const char *what, int e)
{
	char reason[256];
	long verify = SSL_get_verify_result(c->ssl);

	c->failed = true;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		snprintf(reason, sizeof(reason), "%s",
			 c->sys_errno != 0 ? strerror(c->sys_errno)
					   : "connection closed by peer");
	} else {
		tls_openssl_reason(reason, sizeof(reason), "protocol error");
	}
	if (verify != X509_V_OK && strstr(reason, "certificate verify") != NULL)
		conn_fail(c, "%s: %s: %s", what, reason,
			  X509_verify_cert_error_string(verify));
	else
		conn_fail(c, "%s: %s", what, reason);
	ERR_clear_error();
}

/* ---- setup */

static struct tls_conn *conn_new(struct tls_ctx *ctx, int fd, bool server,
				 const char **error_r)
{
	struct tls_conn *c = mem_alloc(sizeof(*c));
	BIO *bio;

	c->fd = fd;
	c->server = server;
	ERR_clear_error();
	c->ssl = SSL_new(ctx->ssl_ctx);
	bio = c->ssl != NULL ? sock_bio_new(c) : NULL;
	if (bio == NULL) {
		char reason[256];

		tls_openssl_reason(reason, sizeof(reason), "out of memory");
		snprintf(conn_errbuf, sizeof(conn_errbuf),
			 "cannot create a TLS connection: %s", reason);
		*error_r = conn_errbuf;
		SSL_free(c->ssl);
		mem_free(c);
		return NULL;
	}
	SSL_set_bio(c->ssl, bio, bio);
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	return c;
}

struct tls_conn *tls_conn_server(struct tls_ctx *ctx, int fd,
				 const char **error_r)
{
	if (!ctx->server) {
		*error_r = "tls_conn_server() with a client context";
		return NULL;
	}
	return conn_new(ctx, fd, true, error_r);
}

/* Sets SNI (not for IP addresses, RFC 6066 3) and, for VERIFY, the name
 * that the certificate must match. */
static int client_names(struct tls_conn *c, const char *name)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, name, ip) == 1 ||
		     inet_pton(AF_INET6, name, ip) == 1;

	if (!is_ip && SSL_set_tlsext_host_name(c->ssl, name) != 1)
		return conn_fail(c, "bad TLS server name \"%s\"", name);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (c->level != TLS_LEVEL_VERIFY)
		return 1;
	if ((is_ip && X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1) ||
	    (!is_ip && X509_VERIFY_PARAM_set1_host(param, name, 0) != 1))
		return conn_fail(c, "bad TLS peer name \"%s\"", name);
	return 1;
}

struct tls_conn *tls_conn_client(struct tls_ctx *ctx, int fd,
				 enum tls_level level, const char *peer_name,
				 const char **error_r)
{
	struct tls_conn *c;

	if (ctx->server || level == TLS_LEVEL_NONE ||
	    (level == TLS_LEVEL_VERIFY && peer_name == NULL)) {
		*error_r = ctx->server
			       ? "tls_conn_client() with a server context"
			   : level == TLS_LEVEL_NONE
			       ? "TLS level none: no TLS connection to make"
			       : "TLS level verify needs a peer name";
		return NULL;
	}
	c = conn_new(ctx, fd, false, error_r);
	if (c == NULL)
		return NULL;
	c->level = level;
	SSL_set_verify(c->ssl,
		       level == TLS_LEVEL_VERIFY || level == TLS_LEVEL_DANE
			   ? SSL_VERIFY_PEER
			   : SSL_VERIFY_NONE,
		       NULL);
	if (peer_name != NULL) {
		c->peer_name = mem_strdup(peer_name);
		if (client_names(c, peer_name) < 0) {
			snprintf(conn_errbuf, sizeof(conn_errbuf), "%s",
				 c->error);
			*error_r = conn_errbuf;
			tls_conn_free(&c);
			return NULL;
		}
	}
	return c;
}

int tls_conn_set_tlsa(struct tls_conn *c, const char *base_domain,
		      const struct tls_tlsa *records, size_t count,
		      const char **error_r)
{
	int usable = 0;

	if (c->server || c->done || c->failed || c->level != TLS_LEVEL_DANE) {
		*error_r = "TLSA records need a fresh client connection at "
			   "level dane";
		return -1;
	}
	ERR_clear_error();
	if (!c->dane && SSL_dane_enable(c->ssl, base_domain) <= 0) {
		conn_ssl_fail(c, "DANE", SSL_ERROR_SSL);
		*error_r = c->error;
		return -1;
	}
	/* RFC 7672 3.1.1: a DANE-EE(3) match needs no name in the
	 * certificate (OpenSSL checks it by default) */
	if (!c->dane)
		SSL_dane_set_flags(c->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	c->dane = true;
	for (size_t i = 0; i < count; i++) {
		const struct tls_tlsa *r = &records[i];
		int ret = SSL_dane_tlsa_add(c->ssl, r->usage, r->selector,
					    r->mtype, r->data, r->len);

		if (ret > 0)
			usable++;
		else if (ret < 0)
			ERR_clear_error(); /* malformed record: skipped */
	}
	return usable > 0 ? 1 : 0;
}

/* ---- handshake */

/* Fills in the summary and the peer verdict once the handshake is done. */
static void conn_finish(struct tls_conn *c)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
	X509 *cert = SSL_get_peer_certificate(c->ssl);
	long verify = SSL_get_verify_result(c->ssl);
	int alg_bits = 0, bits = SSL_CIPHER_get_bits(cipher, &alg_bits);

	snprintf(c->summary, sizeof(c->summary),
		 "%s with cipher %s (%d/%d bits)", SSL_get_version(c->ssl),
		 SSL_CIPHER_get_name(cipher), bits, alg_bits);
	c->peer_detail[0] = '\0';
	if (cert == NULL) {
		c->peer = TLS_PEER_NONE;
	} else if (verify != X509_V_OK) {
		c->peer = TLS_PEER_UNTRUSTED;
		snprintf(c->peer_detail, sizeof(c->peer_detail), "%s",
			 X509_verify_cert_error_string(verify));
	} else if (c->dane &&
		   SSL_get0_dane_authority(c->ssl, NULL, NULL) >= 0) {
		c->peer = TLS_PEER_VERIFIED;
		snprintf(c->peer_detail, sizeof(c->peer_detail), "dane");
	} else if (c->peer_name != NULL &&
		   X509_check_host(cert, c->peer_name, 0,
				   X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
				   NULL) == 1) {
		c->peer = TLS_PEER_VERIFIED;
		snprintf(c->peer_detail, sizeof(c->peer_detail), "%s",
			 c->peer_name);
	} else {
		c->peer = TLS_PEER_TRUSTED;
	}
	X509_free(cert);
}

int tls_conn_handshake(struct tls_conn *c, unsigned *events_r,
		       const char **error_r)
{
	int ret, e;

	*events_r = 0;
	if (c->failed) {
		*error_r = c->error;
		return -1;
	}
	if (c->done)
		return 1;
	ERR_clear_error();
	c->sys_errno = 0;
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->done = true;
		conn_finish(c);
		return 1;
	}
	e = SSL_get_error(c->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*events_r = e == SSL_ERROR_WANT_READ ? EVENT_READ : EVENT_WRITE;
		return 0;
	}
	conn_ssl_fail(c, "TLS handshake failed", e);
	*error_r = c->error;
	return -1;
}

int tls_conn_handshake_io(struct tls_conn *c, struct event_io *io,
			  struct iobuf *buf, const char **error_r)
{
	unsigned events;
	int r = tls_conn_handshake(c, &events, error_r);

	if (r == 0 && event_io_modify(io, events, error_r) < 0)
		return -1;
	if (r == 1)
		iobuf_set_transport(buf, &tls_iobuf_transport, c);
	return r;
}

/* ---- the transport */

/* Maps a failed SSL_read/SSL_write to errno and the want flags. */
static ssize_t io_result(struct tls_conn *c, int ret, unsigned *want,
			 const char *what)
{
	int e = SSL_get_error(c->ssl, ret);

	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		return 0; /* close_notify: the end, whatever follows */
	case SSL_ERROR_WANT_READ:
		*want = EVENT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = EVENT_WRITE;
		errno = EAGAIN;
		return -1;
	default:
		conn_ssl_fail(c, what, e);
		errno = e == SSL_ERROR_SYSCALL && c->sys_errno != 0
			    ? c->sys_errno
			    : EPROTO;
		if (strstr(c->error, "unexpected eof") != NULL ||
		    (e == SSL_ERROR_SYSCALL && c->sys_errno == 0))
			errno = ECONNRESET;
		return -1;
	}
}

static ssize_t tls_read(void *ctx, void *buf, size_t len)
{
	struct tls_conn *c = ctx;
	int ret;

	if (!c->done || c->failed) {
		errno = EPROTO;
		return -1;
	}
	c->read_want = 0;
	c->sys_errno = 0;
	ERR_clear_error();
	ret = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (ret > 0)
		return ret;
	return io_result(c, ret, &c->read_want, "TLS read");
}

static ssize_t tls_write(void *ctx, const void *buf, size_t len)
{
	struct tls_conn *c = ctx;
	int ret;

	if (!c->done || c->failed) {
		errno = EPROTO;
		return -1;
	}
	c->write_want = 0;
	c->sys_errno = 0;
	ERR_clear_error();
	ret = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (ret > 0)
		return ret;
	ret = (int)io_result(c, ret, &c->write_want, "TLS write");
	if (ret == 0) {
		errno = EPIPE; /* writing after the peer's close_notify */
		return -1;
	}
	return ret;
}

const struct iobuf_transport tls_iobuf_transport = {tls_read, tls_write};

unsigned tls_conn_events(const struct tls_conn *c)
{
	return c->read_want | c->write_want;
}

bool tls_conn_pending(const struct tls_conn *c)
{
	return c->done && !c->failed && SSL_has_pending(c->ssl) == 1;
}

/* ---- the end */

int tls_conn_shutdown(struct tls_conn *c, unsigned *events_r,
		      const char **error_r)
{
	int ret, e;

	*events_r = 0;
	if (!c->done || c->failed)
		return 1; /* no session to close: the caller just closes */
	ERR_clear_error();
	c->sys_errno = 0;
	ret = SSL_shutdown(c->ssl);
	if (ret >= 0)
		return 1; /* 0: ours is sent, the peer's is not awaited */
	e = SSL_get_error(c->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*events_r = e == SSL_ERROR_WANT_READ ? EVENT_READ : EVENT_WRITE;
		return 0;
	}
	conn_ssl_fail(c, "TLS shutdown failed", e);
	*error_r = c->error;
	return -1;
}

void tls_conn_free(struct tls_conn **cp)
{
	struct tls_conn *c = *cp;

	if (c == NULL)
		return;
	SSL_free(c->ssl);
	mem_free(c->peer_name);
	mem_free(c);
	*cp = NULL;
}

/* ---- reports */

const char *tls_conn_summary(const struct tls_conn *c)
{
	return c->done ? c->summary : "";
}

enum tls_peer tls_conn_peer(const struct tls_conn *c, const char **detail_r)
{
	if (detail_r != NULL)
		*detail_r = c->done ? c->peer_detail : "";
	return c->done ? c->peer : TLS_PEER_NONE;
}

const char *tls_peer_text(enum tls_peer peer)
{
	static const char *const texts[] = {
	    [TLS_PEER_NONE] = "Anonymous",
	    [TLS_PEER_UNTRUSTED] = "Untrusted",
	    [TLS_PEER_TRUSTED] = "Trusted",
	    [TLS_PEER_VERIFIED] = "Verified",
	};

	return (size_t)peer < sizeof(texts) / sizeof(texts[0]) ? texts[peer]
							       : "Unknown";
}

const char *tls_conn_error(const struct tls_conn *c)
{
	return c->error;
}
