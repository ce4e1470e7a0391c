/* qmgr.h: the queue manager (postern-qmgr(8)). One resident process, woken
 * by triggers on public/qmgr (lib/qmgr_trigger.h) and by the master's
 * periodic wakeup; it moves mail incoming -> active, routes each pending
 * recipient (local domains -> the local agent; other domains -> the smtp
 * client, to relayhost or to the domain's MX hosts; transport_maps may
 * say otherwise, route.c), records every result on disk, defers with
 * back-off and removes finished messages.
 *
 * The core is deliberately simple: one message at a time, one connection
 * per message and next hop (its recipients in requests of at most
 * DELIVER_BATCH); a slow remote server holds up the queue meanwhile. */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dict.h"
#include "domains.h"
#include "event.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "server.h"

/* Recipients per request to the local agent. */
#define DELIVER_BATCH 100

struct qmgr {
	struct server *srv;
	struct conf *conf;
	struct queue_dir *qd;
	struct local_tables *tables;
	char *private_dir; /* $queue_directory/private: agent sockets */
	const char *relayhost;
	struct dict **transport_maps; /* NULL-terminated, or NULL */
	long long active_limit;
	long long min_backoff, max_backoff, run_delay;
	long long lifetime, bounce_lifetime; /* seconds in the queue */
	unsigned timeout_ms;
	bool run_queued;     /* a qmgr_run() is deferred on the loop */
	bool scan_deferred;  /* next run also takes due mail from deferred/ */
	bool force;	     /* next deferred scan ignores back-off times */
	uint64_t start_usec; /* mail that arrived before may be half-done */
	struct event_timer *deferred_timer;
};

/* The result of one recipient, from an agent or from routing. */
enum qmgr_status { QMGR_SENT, QMGR_DEFERRED, QMGR_BOUNCED };

struct qmgr_result {
	size_t index;
	enum qmgr_status status;
	char dsn[16];
	const char *relay;
	const char *text;
};

/* Runs one message now in active/ to completion of this attempt: delivers
 * what can be, records results, then removes the file or moves it to
 * deferred/ (message.c). retry: a copy may already have been delivered. */
void qmgr_message_run(struct qmgr *q, const char *id, bool retry);

/* Where recipients go: the agent (the socket private/TRANSPORT) and, for
 * smtp, the next hop ("domain", "[host]:port"); NULL for local. */
struct qmgr_route {
	const char *transport;
	const char *nexthop;
};

/* What routing decided for one recipient (route.c). */
enum qmgr_dest_kind {
	QMGR_DEST_LOCAL,   /* the local agent */
	QMGR_DEST_SMTP,	   /* an smtp client (transport) to nexthop */
	QMGR_DEST_ERROR,   /* transport_maps "error:TEXT": bounce */
	QMGR_DEST_DISCARD, /* transport_maps "discard:": sent nowhere */
	QMGR_DEST_DEFER,   /* the table failed, or an unknown transport */
};

struct qmgr_dest {
	enum qmgr_dest_kind kind;
	struct str transport; /* SMTP: the service, "smtp" or a clone */
	struct str nexthop;   /* SMTP: "domain" or "[host]:port", lower case */
	struct str text;      /* ERROR, DISCARD, DEFER: the reason */
};

/* Routes address: transport_maps (address, domain, ".parent" domains,
 * "*"), else local domains to local, else smtp to relayhost or the
 * address's domain. dest's strings must be initialised. */
void qmgr_route(struct qmgr *q, const char *address, struct qmgr_dest *dest);
/* Opens transport_maps (q->transport_maps). Returns 1, or -1 with
 * *error_r for a table that cannot be opened. */
int qmgr_transport_maps_open(struct qmgr *q, const char *const *specs,
			     const char **error_r);
void qmgr_transport_maps_close(struct qmgr *q);

/* Sends recipients (indexes, at most DELIVER_BATCH) of qf to the agent
 * of route and fills results[0..count) (deliver.c); texts and relays
 * stay valid until the next call. On an IPC failure every one is
 * deferred with the reason. */
void qmgr_deliver(struct qmgr *q, struct queue_file *qf,
		  const struct qmgr_route *route, const size_t *indexes,
		  size_t count, bool retry, struct qmgr_result *results);

/* Appends a result to bounce/ID or defer/ID and fsyncs it (status.c).
 * Returns 1 or -1 with *error_r. */
int qmgr_status_append(struct qmgr *q, const char *id, enum queue_name log,
		       const char *rcpt, const struct qmgr_result *res,
		       const char **error_r);
/* Moves active/ID to deferred/ with the next attempt time as mtime. */
void qmgr_defer_message(struct qmgr *q, const char *id, uint64_t arrival_usec);
/* Sends a delivery status notification for the failed recipients in
 * bounce/ID to the sender (never for the null sender), then removes the
 * log. Returns 1, or -1 when it must be tried again (the message stays). */
int qmgr_bounce_flush(struct qmgr *q, struct queue_file *qf,
		      const char **error_r);

#endif
