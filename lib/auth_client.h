/* auth_client.h: the client side of the auth daemon (postern-auth(8)),
 * for smtpd and later imapd and pop3d, and the SASL decoding they share
 * (base64, the PLAIN message of RFC 4616).
 *
 * Protocol "auth" version 1 over $queue_directory/private/auth:
 *   {op="verify", user, password, service, client}
 *       -> {result="ok"|"fail"|"tempfail", user}   (user: canonical)
 *   {op="exists", user} -> {result="yes"|"no"|"tempfail"}
 * A failed verify is answered late (the daemon's per-client delay), so
 * calls have a generous timeout. The connection is made on first use,
 * kept, and made again once when it broke. */
#ifndef POSTERN_AUTH_CLIENT_H
#define POSTERN_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define AUTH_PROTOCOL "auth"
#define AUTH_PROTOCOL_VERSION 1
/* Longest login name accepted (an address is at most 254 bytes). */
#define AUTH_USER_MAX 255
/* Time a verify may take: the longest failure delay plus the hashing. */
#define AUTH_CALL_TIMEOUT_MS 30000

struct auth_client;

/* path: the auth socket (relative to the working directory or absolute);
 * no connection is made yet. */
struct auth_client *auth_client_new(const char *path);
void auth_client_free(struct auth_client **cp);

/* Checks user's password. service ("smtp", "imap") and client (the
 * remote address) are for the daemon's log and its failure delay.
 * Returns 1 ok (*canon_r holds the canonical user), 0 wrong user or
 * password, -1 temporary failure (daemon down, timeout, protocol error;
 * *error_r says what). */
int auth_client_verify(struct auth_client *c, const char *user,
		       const char *password, const char *service,
		       const char *client, struct str *canon_r,
		       const char **error_r);
/* Does the user exist? 1 yes, 0 no, -1 temporary failure. */
int auth_client_exists(struct auth_client *c, const char *user,
		       const char **error_r);

/* ---- SASL helpers (no I/O) */

/* Strict base64 (RFC 4648, padding required, no whitespace): decodes len
 * bytes into out (replaced). Returns 1, or -1 for bad input. */
int auth_base64_decode(const char *in, size_t len, struct str *out);
/* Appends the base64 of len bytes. */
void auth_base64_encode(const void *data, size_t len, struct str *out);

struct auth_plain {
	const char *authzid; /* "" when absent */
	const char *authcid;
	const char *password;
};

/* Splits a decoded PLAIN message "authzid NUL authcid NUL password" in
 * place (buf[len] must be NUL; the NULs inside end the strings). Returns 1, or
 * -1 when it has not exactly two NULs, an empty authcid or password, or parts
 * over AUTH_USER_MAX / USERS_PASSWORD_MAX bytes. */
int auth_sasl_plain_parse(char *buf, size_t len, struct auth_plain *p_r);

#endif
