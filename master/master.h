/* master.h: the master supervisor's shared state, between its small files:
 *   main.c     start-up, signals, stop
 *   config.c   services from main.cf + master.cf; (re)load and reload diff
 *   listen.c   opening and closing listening sockets, the reload pool
 *   spawn.c    fork+exec of daemons, reaping, throttling
 *   avail.c    status reports of the daemons; listening on demand
 *   wakeup.c   wakeup timers of trigger services
 *   status.c   the status socket that `postern status` talks to
 *   notify.c   start-up result for `postern start` and systemd
 * The master is one process with one event loop; nothing here is shared
 * with the daemons except the descriptors of master_proto.h. */
#ifndef POSTERN_MASTER_MASTER_H
#define POSTERN_MASTER_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "event.h"
#include "htable.h"
#include "master_cf.h"
#include "master_proto.h"

/* Wait for children on stop before SIGKILL, and after it. */
#define MASTER_STOP_GRACE_MS 5000
#define MASTER_KILL_GRACE_MS 2000
/* First throttle delay; it doubles up to service_throttle_time. */
#define MASTER_THROTTLE_FIRST_MS 1000
/* A daemon that exits by itself within this time without serving anyone
 * did not start properly. */
#define MASTER_QUICK_EXIT_MS 250
#define MASTER_LISTEN_BACKLOG 1024
/* "reached its process limit" is logged at most this often. */
#define MASTER_LIMIT_WARN_MS (300 * 1000)

/* One listening socket (or fifo). Listeners outlive services on reload
 * when the new configuration has the same endpoint. */
struct mlistener {
	char *key;  /* "inet:127.0.0.1:25", "unix:/path", "fifo:/path" */
	char *path; /* unix/fifo: the file to remove when closed, else NULL */
	int fd;
	struct event_io *io;
	struct mservice *svc;
};

enum mservice_state {
	SVC_READY,	 /* listening, processes started on demand */
	SVC_MISSING,	 /* the daemon program does not exist */
	SVC_FAILED,	 /* a listener could not be opened */
	SVC_UNSUPPORTED, /* a service type this master does not run */
};

struct mchild;

struct mservice {
	struct master *m;
	char *label;			 /* "name/type" for logs */
	const struct master_service *cf; /* in m->mcf */
	char *path;			 /* $daemon_directory/command */
	char **argv;			 /* for execve */
	enum mservice_state state;
	char *problem; /* why not SVC_READY */

	struct mlistener *listeners[MASTER_LISTEN_MAX];
	unsigned int nlisten;
	bool listening;

	int status_rd, status_wr; /* the status pipe */
	struct event_io *status_io;

	unsigned int total, avail; /* processes, and how many are idle */
	struct mchild *children;
	unsigned long restarts; /* abnormal exits */
	bool used;		/* some process served a client */
	uint64_t limit_warned;	/* when "process limit" was last logged */

	bool throttled;
	unsigned int throttle_level;
	uint64_t throttle_until;
	struct event_timer *throttle_timer;
	struct event_timer *wakeup_timer;

	struct mservice *next;
};

struct mchild {
	pid_t pid;
	struct mservice *svc; /* NULL once the service was retired */
	bool avail;
	bool used;
	uint64_t started; /* event_loop_now() at fork */
	struct mchild *next, **prevp;
};

struct master {
	struct event_loop *loop;
	char *config_dir;
	struct conf *conf;
	struct master_cf *mcf;
	struct mservice *services;
	struct htable *children; /* decimal pid -> struct mchild */
	int devnull;
	int lock_fd;
	char *pid_path;
	bool foreground;
	bool log_stderr; /* daemons log to stderr too (-e) */
	bool verbose;
	bool stopping;
	unsigned long generation; /* configurations loaded so far */
	char *reload_error;	  /* why the last reload failed, or NULL */
	time_t started;
	struct mstatus *status;
	struct event_timer *stop_timer;
};

/* config.c */
/* Loads main.cf and master.cf from m->config_dir. */
int master_config_read(struct master *m, struct conf **conf_r,
		       struct master_cf **mcf_r, const char **error_r);
/* Replaces the running services with those of conf/mcf (taking ownership
 * of both). Unchanged endpoints keep their sockets; old processes finish
 * their clients and exit. With initial, a listener that cannot be opened
 * is fatal; later it only disables its service. */
void master_config_apply(struct master *m, struct conf *conf,
			 struct master_cf *mcf, bool initial);
void master_services_free(struct master *m);

/* listen.c */
/* The endpoint keys of a service (one per inet address). Returns the
 * count, or -1 with *error_r. keys are the caller's (mem_free each). */
int master_listen_keys(struct master *m, const struct master_service *cf,
		       char **keys, const char **error_r);
struct mlistener *master_listener_open(struct master *m, const char *key,
				       const char **error_r);
void master_listener_close(struct mlistener **lp);

/* spawn.c */
void master_spawn(struct mservice *svc);
void master_reap(struct master *m);
void master_throttle(struct mservice *svc, const char *why);
/* Sends sig to every child. */
void master_kill_all(struct master *m, int sig);
/* Detaches the children of a retired service. */
void master_children_orphan(struct mservice *svc);

/* avail.c */
int master_status_pipe_open(struct mservice *svc, const char **error_r);
void master_status_pipe_close(struct mservice *svc);
/* Watches the listeners exactly when a new process may be needed. */
void master_avail_update(struct mservice *svc);
void master_listener_ready(struct event_io *io, int fd, unsigned events,
			   void *ctx);

/* wakeup.c */
void master_wakeup_start(struct mservice *svc);
void master_wakeup_stop(struct mservice *svc);

/* status.c */
int master_status_open(struct master *m, const char **error_r);
void master_status_close(struct master *m);

/* notify.c */
/* Tells `postern start` (the descriptor of -w, or -1) and systemd
 * ($NOTIFY_SOCKET) that the master is ready. */
void master_notify_ready(int ready_fd);
/* A systemd state line: "RELOADING=1", "READY=1", "STOPPING=1". */
void master_notify_systemd(const char *state);

#endif
