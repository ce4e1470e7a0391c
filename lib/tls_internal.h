/* tls_internal.h: what lib/tls.c (contexts, certificates) shares with
 * lib/tls_conn.c (connections, handshake, transport). Not an API. */
#ifndef POSTERN_TLS_INTERNAL_H
#define POSTERN_TLS_INTERNAL_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "tls.h"

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
};

/* Appends "reason" of the oldest queued OpenSSL error (or fallback when
 * the queue is empty) to buf, then clears the queue. */
void tls_openssl_reason(char *buf, size_t size, const char *fallback);

#endif
