/* server.h: the daemon skeleton. Every daemon the master runs is a small
 * main() that fills a struct server_ops and calls server_main(); the
 * skeleton speaks the master protocol (master_proto.h), loads main.cf with
 * the service's -o overrides, drops privileges, accepts connections and
 * decides when the process has served enough and exits.
 *
 * Three kinds of service:
 *   SERVER_SINGLE   one client at a time per process (smtpd-like): while a
 *                   client is served the process does not accept, and
 *                   tells the master it is busy, so that the master starts
 *                   another process for the next client.
 *   SERVER_MULTI    many clients per process on one event loop
 *                   (imapd/qmgr-like): busy while it has any client, or,
 *                   with ops->multi_capacity, only once it serves that
 *                   many (it keeps accepting until then), so that one
 *                   process holds many idle sessions.
 *   SERVER_TRIGGER  no sessions: each connection (or fifo write) carries a
 *                   few bytes, e.g. the master's wakeup byte; ops->trigger
 *                   gets them once the writer closed.
 *
 * Order of events in server_main():
 *   1. options and descriptors from the master checked (a daemon run by
 *      hand, without them, exits with a clear message);
 *   2. main.cf loaded, -o overrides applied, logging set up as
 *      "$syslog_name/PROGRAM";
 *   3. ops->pre_init: still root when the master is (open secrets here,
 *      such as a TLS key readable only by root);
 *   4. privileges dropped: mail_owner when master.cf says unpriv, a chroot
 *      into queue_directory when it says chroot (privs.h);
 *   5. ops->post_init, then the event loop: accept, serve, repeat.
 * The event loop (server_loop()) exists from step 3 on. The working
 * directory is queue_directory (the master's), which is also "/" after a
 * chroot. SIGPIPE is ignored.
 * The process exits (server_main returns 0) after max_use clients, after
 * max_idle seconds without one (not SERVER_RESIDENT services), or when the
 * master goes away or retires the service on reload; a client being served
 * is never dropped for any of these. A callback stuck for daemon_timeout
 * seconds kills the process (SIGALRM), and the master starts a fresh one.
 * Setup errors are fatal (msg_fatal): the master logs the exit and
 * throttles the service. */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "event.h"

enum server_kind {
	SERVER_SINGLE,
	SERVER_MULTI,
	SERVER_TRIGGER,
};

/* ops->flags */
#define SERVER_RESIDENT (1u << 0) /* never exit for max_use or max_idle */
#define SERVER_SOLITARY (1u << 1) /* refuse to run unless maxproc is 1 */

/* Most bytes one trigger delivers (one read of a trigger connection). */
#define SERVER_TRIGGER_MAX 1024

struct server;

struct server_ops {
	enum server_kind kind;
	unsigned int flags;
	/* MULTI: clients one process takes before it counts as busy (0: the
	 * first client makes it busy). */
	unsigned int multi_capacity;
	/* Optional; return 1, or -1 with *error_r for a fatal error. */
	int (*pre_init)(struct server *srv, const char **error_r);
	int (*post_init)(struct server *srv, const char **error_r);
	/* SINGLE and MULTI: a new client on fd (non-blocking, close-on-exec).
	 * The callback owns fd: it closes it when the session ends and then
	 * calls server_client_done(), either before returning (a blocking
	 * session) or later from the event loop. */
	void (*client)(struct server *srv, int fd);
	/* TRIGGER: bytes a writer sent, as one read got them (len <=
	 * SERVER_TRIGGER_MAX); a writer may keep its connection and send
	 * more later. */
	void (*trigger)(struct server *srv, const char *data, size_t len);
	/* Optional: called once before a normal exit. */
	void (*pre_exit)(struct server *srv);
};

/* Runs the daemon; returns the exit code for main(). ctx is for the
 * callbacks (server_ctx()). */
int server_main(int argc, char **argv, const struct server_ops *ops, void *ctx);

/* One session ended (its fd is closed): counts toward max_use, and for a
 * SINGLE service makes the process accept again. */
void server_client_done(struct server *srv);
/* Asks the process to exit once its current clients are done (e.g. a
 * lookup table changed on disk). */
void server_stop(struct server *srv);

void *server_ctx(const struct server *srv);
struct event_loop *server_loop(const struct server *srv);
/* main.cf with this service's overrides; valid until exit. */
struct conf *server_conf(const struct server *srv);
/* The master.cf service name ("smtp", "127.0.0.1:10025", "qmgr"). */
const char *server_service(const struct server *srv);
/* The master.cf arguments after the command (NULL-terminated). */
char *const *server_args(const struct server *srv, size_t *count_r);
/* Clients accepted so far by this process. */
unsigned long server_use_count(const struct server *srv);

#endif
