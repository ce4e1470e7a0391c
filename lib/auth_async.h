/* auth_async.h: the client side of the auth daemon (protocol in
 * auth_client.h) for event-driven daemons that serve many sessions in one
 * process (smtpd; imapd and pop3d could switch to it). A request never
 * blocks the process: the session that asked waits for its callback, the
 * others go on.
 *
 * "exists" requests share one connection, pipelined (the daemon answers
 * them at once, in order), made when one is asked and kept until it has
 * been idle for two seconds. Each "verify" gets a connection of its
 * own, because the daemon holds a failure reply back (its per-client
 * delay) and no later reply on that connection could pass it. Every
 * request is bounded by the timeout given to auth_async_new().
 *
 * The callback runs exactly once per request that was not cancelled, and
 * always from the event loop, never from inside the call that started the
 * request. */
#ifndef POSTERN_AUTH_ASYNC_H
#define POSTERN_AUTH_ASYNC_H

#include "event.h"

struct auth_async;
struct auth_async_req;

/* result: 1 ok (verify) or yes (exists), 0 wrong password / unknown user
 * or no, -1 temporary failure (error says why: daemon down, timeout,
 * protocol error). canon: the canonical user after a verify with result
 * 1, else NULL. Both strings are valid only during the call. The request
 * handle is already gone when the callback runs. */
typedef void auth_async_cb(int result, const char *canon, const char *error,
			   void *ctx);

/* path: the auth socket (relative to the working directory or absolute);
 * timeout_ms (> 0) bounds each request. Nothing is connected yet. */
struct auth_async *auth_async_new(struct event_loop *loop, const char *path,
				  unsigned timeout_ms);
/* Closes every connection; pending requests are dropped without their
 * callbacks. *ap = NULL; NULL is fine. */
void auth_async_free(struct auth_async **ap);

/* Checks user's password (service "smtp"/"imap" and client address for
 * the daemon's log and failure delay). The password is copied into the
 * request and wiped from our memory once it has been handed to the
 * socket (or the request ends). Returns the handle (for cancelling). */
struct auth_async_req *auth_async_verify(struct auth_async *a, const char *user,
					 const char *password,
					 const char *service,
					 const char *client, auth_async_cb *cb,
					 void *ctx);
/* Does user exist? */
struct auth_async_req *auth_async_exists(struct auth_async *a, const char *user,
					 auth_async_cb *cb, void *ctx);
/* The callback will not run (e.g. the session ended). *reqp = NULL;
 * NULL is fine. Must not be called for a request whose callback already
 * ran. */
void auth_async_cancel(struct auth_async_req **reqp);

#endif
