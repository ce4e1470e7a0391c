/* server_internal.h: the state shared by lib/server.c (setup: options,
 * configuration, privileges) and lib/server_loop.c (accepting, status
 * reports to the master, exit decisions). Not for daemons: they use
 * server.h. */
#ifndef POSTERN_SERVER_INTERNAL_H
#define POSTERN_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "event.h"
#include "master_proto.h"
#include "server.h"

struct server_listener {
	struct server *srv;
	int fd;
	bool fifo;
	struct event_io *io;
};

struct server_trigger;

struct server {
	const struct server_ops *ops;
	void *ctx;
	struct event_loop *loop;
	struct conf *conf;

	/* From the command line the master built. */
	const char *program; /* basename of argv[0] */
	const char *config_dir;
	const char *service;
	const char *type;
	unsigned int nlisten;
	long maxproc;
	bool unpriv, chroot, log_stderr, verbose;
	struct conf_setting *overrides;
	size_t noverrides;
	char **args;
	size_t nargs;

	/* Limits from main.cf. */
	unsigned long max_use;
	unsigned int max_idle;	     /* seconds */
	unsigned int daemon_timeout; /* seconds */

	/* Run-time state. */
	struct server_listener listeners[MASTER_LISTEN_MAX];
	struct event_io *status_io;
	struct event_timer *idle_timer;
	struct event_timer *watchdog;
	struct server_trigger *triggers; /* connections still sending */
	unsigned long use_count;
	unsigned int clients;
	bool accepting;	     /* listeners are watched */
	bool reported_avail; /* what the master believes */
	bool master_gone;
	bool stopping;
	bool listeners_closed;
};

/* server_loop.c: registers listeners, status watch, timers. Returns 1 or
 * -1 with *error_r. */
int server_loop_setup(struct server *srv, const char **error_r);
/* Re-evaluates accepting, the status report, the idle timer and whether
 * to exit, after any change of state. */
void server_update(struct server *srv);
/* Frees what server_loop_setup() registered and still open triggers. */
void server_loop_teardown(struct server *srv);

#endif
