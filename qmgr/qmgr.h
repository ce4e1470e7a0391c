/* qmgr.h: the queue manager (postern-qmgr(8)). One resident process, woken
 * by triggers on public/qmgr (lib/qmgr_trigger.h) and by the master's
 * periodic wakeup; it moves mail incoming -> active, routes each pending
 * recipient (local domains -> the local agent; other domains -> the smtp
 * client, to relayhost or to the domain's MX hosts; transport_maps may
 * say otherwise, route.c), records every result on disk, defers with
 * back-off and removes finished messages.
 *
 * Data flow (oqmgr-like, all on one event loop, nothing blocks):
 *   main.c     takes messages into active/ (at most the active limit)
 *   message.c  opens one, routes its recipients into entries (a batch of
 *              one message's recipients for one destination), records
 *              results, finishes the message when its last entry is done
 *   sched.c    transports (a master.cf service, at most maxproc agents)
 *              and their queues (one destination = transport + next hop,
 *              with a slow-start concurrency window and dead marking);
 *              picks the next entry to hand to an agent, letting small
 *              messages go ahead of big ones (jobs, preemption)
 *   deliver.c  one non-blocking connection to an agent per delivery in
 *              flight; agents that offer it (smtp) keep the connection,
 *              and their SMTP session, for the next entry of the same
 *              destination
 *   status.c, bounce.c  status logs, back-off, notifications
 *   notice.c   notify_classes resource and software: the postmaster hears
 *              of mail held up by a broken agent or a queue file problem */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dict.h"
#include "domains.h"
#include "event.h"
#include "htable.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "server.h"

struct qmgr_transport;
struct qmgr_queue;
struct qmgr_entry;
struct qmgr_msg;
struct qmgr_agent;
struct qmgr_job;

struct qmgr {
	struct server *srv;
	struct event_loop *loop;
	struct conf *conf;
	struct queue_dir *qd;
	struct queue_pool *pool; /* finished files go there (queue_pool.h) */
	struct local_tables *tables;
	struct master_cf *master_cf; /* for each transport's maxproc */
	char *private_dir;	     /* $queue_directory/private */
	const char *relayhost;
	struct dict **transport_maps; /* NULL-terminated, or NULL */
	size_t msg_limit;	      /* messages in memory at once */
	size_t msg_count;
	long long min_backoff, max_backoff, run_delay;
	long long lifetime, bounce_lifetime; /* seconds in the queue */
	long long warn_time;		     /* delay_warning_time, 0 = off */
	unsigned notify_classes;	     /* QMGR_NOTIFY_* */
	long long retry_time; /* transport_retry_time: an agent failed */
	struct qmgr_notice_sent {
		char key[64];
		uint64_t usec;
	} notices[8]; /* recent resource/software notices (notice.c) */
	unsigned notice_next;
	unsigned timeout_ms;
	unsigned idle_ms; /* an idle agent connection is kept this long */
	unsigned init_window, cohort_limit;
	bool run_queued;     /* a qmgr_run() is deferred on the loop */
	bool sched_queued;   /* a qmgr_sched_run() is deferred */
	bool scan_deferred;  /* next run also takes due mail from deferred/ */
	bool force;	     /* next deferred scan ignores back-off times */
	bool more;	     /* the last run stopped at the limit */
	uint64_t start_usec; /* mail that arrived before may be half-done */
	struct event_timer *deferred_timer;
	struct event_timer *busy_timer; /* an agent socket was busy */
	struct qmgr_transport *transports;
	struct htable *queues; /* "transport\001nexthop" -> queue */
	struct qmgr_msg *msgs; /* every message in memory */
};

/* notify_classes bits: which problems the postmaster hears of. */
#define QMGR_NOTIFY_BOUNCE 0x01u
#define QMGR_NOTIFY_2BOUNCE 0x02u
#define QMGR_NOTIFY_DELAY 0x04u
#define QMGR_NOTIFY_RESOURCE 0x08u
#define QMGR_NOTIFY_SOFTWARE 0x10u

/* Why mail was not delivered, for notify_classes resource and software. */
enum qmgr_problem {
	QMGR_PROBLEM_RESOURCE, /* a queue file, an agent that cannot start */
	QMGR_PROBLEM_SOFTWARE, /* an agent crashed or broke the protocol */
};

/* ---- main.c */

/* Asks for a run of the intake (and a deferred scan with deferred). */
void qmgr_wakeup(struct qmgr *q);

/* ---- message.c: one active message */

enum qmgr_status { QMGR_SENT, QMGR_DEFERRED, QMGR_BOUNCED };

/* The result of one recipient, from an agent or from routing. */
struct qmgr_result {
	size_t index;
	enum qmgr_status status;
	char dsn[16];
	const char *relay;
	const char *text;
	bool relayed;	   /* sent to a server that does not speak DSN */
	unsigned conn_use; /* > 1: the agent reused its connection */
	/* delays (microseconds): in qmgr, connection set-up, transmission */
	uint64_t b_usec, c_usec, d_usec;
};

struct qmgr_msg {
	struct queue_file *qf;
	char id[QUEUE_ID_SIZE];
	bool retry;	       /* a copy may have been delivered before */
	uint64_t active_usec;  /* when it entered active/ */
	unsigned entries;      /* not yet done (+1 while routing) */
	struct qmgr_job *jobs; /* its entries waiting, per transport */
	struct qmgr_msg *prev, *next;
};

/* Opens active/ID, routes its pending recipients into entries on their
 * queues (sched.c), and finishes at once what needs no agent. retry: a
 * copy may already have been delivered. */
void qmgr_message_load(struct qmgr *q, const char *id, bool retry);
/* Records one result on disk (done-mark, bounce/ID + FAILED mark, or
 * defer/ID), then logs it. A failed record leaves it pending. */
void qmgr_record(struct qmgr *q, struct qmgr_msg *m,
		 const struct qmgr_result *res);
/* One entry of m is done: when it was the last, the message is finished
 * (removed, or moved to deferred/) and freed. */
void qmgr_message_entry_done(struct qmgr *q, struct qmgr_msg *m);
/* Postfix's delay format: 2 significant digits, at most 2 decimals,
 * trailing zeros dropped ("0.52", "1.2", "12", "0"). Appends to out. */
void qmgr_delay_format(uint64_t usec, struct str *out);

/* ---- sched.c: transports, destinations, selection */

struct qmgr_entry {
	struct qmgr_msg *msg;
	struct qmgr_queue *queue;
	size_t *idx; /* recipient indexes */
	size_t n, max;
	struct qmgr_entry *prev, *next; /* in the queue's todo list */
	struct qmgr_job *job;		/* while waiting: its message's */
	struct qmgr_entry *job_prev, *job_next;
};

/* The entries of one message waiting for one transport (Postfix's job):
 * the unit of preemption. A job earns one delivery slot per slot_cost
 * entries handed to agents; a later job that needs no more slots than the
 * current one has earned (less discount percent, plus loan) goes first,
 * and those slots are spent. */
struct qmgr_job {
	struct qmgr_msg *msg;
	struct qmgr_transport *transport;
	struct qmgr_entry *todo, *todo_tail; /* via job_prev, job_next */
	size_t waiting;			     /* entries in todo */
	size_t total;			     /* entries ever added */
	size_t selected;		     /* entries handed to agents */
	size_t spent;			     /* slots used by preemption */
	bool preempted;			     /* went ahead of another once */
	struct qmgr_job *prev, *next;	     /* in the transport */
	struct qmgr_job *msg_next;	     /* in the message */
};

/* Adds recipient index of m to the entry of m on the queue of
 * (transport, nexthop) (nexthop NULL for local), starting a new entry
 * when the last one is full. per-recipient queues for transports whose
 * recipient limit is 1 are keyed by rcpt. */
void qmgr_sched_add(struct qmgr *q, struct qmgr_msg *m, const char *transport,
		    const char *nexthop, const char *rcpt, size_t index);
/* Asks for a scheduling round (deferred on the loop). */
void qmgr_sched_wakeup(struct qmgr *q);
/* The outcome of one delivery of entry e (from deliver.c): hop is NULL
 * when the destination worked, else why it failed as a whole (connection
 * refused, ...): negative feedback, possibly a dead destination. Frees
 * e and calls qmgr_message_entry_done(). */
void qmgr_sched_done(struct qmgr *q, struct qmgr_entry *e, const char *hop,
		     const char *hop_dsn);
/* Puts e (taken for a delivery that could not start) back at the head
 * of its queue and asks for a round. */
void qmgr_sched_requeue(struct qmgr *q, struct qmgr_entry *e);
/* An agent of t crashed, broke the protocol or could not be reached:
 * t is unavailable for transport_retry_time. Its queued and new entries
 * are deferred with reason at once, without an attempt each; then it is
 * tried again. Logged; a no-op while t is unavailable already. */
void qmgr_transport_throttle(struct qmgr *q, struct qmgr_transport *t,
			     const char *reason);
/* An agent connection bound to u went away: u may be freed now. */
void qmgr_sched_unbind(struct qmgr *q, struct qmgr_queue *u);
/* Frees every transport and queue (at exit). */
void qmgr_sched_free(struct qmgr *q);

/* ---- deliver.c: agent connections */

/* Starts delivering e over an idle connection of its queue, or a new
 * one. Returns 1 (started), 0 when the agent socket is busy (the entry
 * stays with the caller; try again soon), -1 never: failures defer the
 * entry's recipients and complete it through qmgr_sched_done(). */
int qmgr_agent_start(struct qmgr *q, struct qmgr_entry *e);
/* Connections to agents of transport t, busy or idle. */
unsigned qmgr_agent_count(const struct qmgr_transport *t);
/* Makes room for one more delivery to queue u of t at t's limit: true
 * when u has an idle connection of its own, or when an idle one of
 * another queue was closed; false when every connection is busy. */
bool qmgr_agent_make_room(struct qmgr *q, struct qmgr_transport *t,
			  const struct qmgr_queue *u);
/* Closes every connection of t (at exit); busy ones defer nothing: the
 * recipients stay pending in the queue file. */
void qmgr_agent_close_all(struct qmgr *q, struct qmgr_transport *t);

/* The parts of a transport and a queue deliver.c needs. */
struct qmgr_transport {
	char *name;
	unsigned proc_limit; /* agent connections at most */
	unsigned dest_limit; /* per destination */
	unsigned rcpt_limit; /* recipients per entry */
	unsigned conns;	     /* open agent connections (busy or idle) */
	bool unavailable;    /* throttled: see qmgr_transport_throttle */
	char *unavail_reason;
	struct event_timer *retry; /* ends the throttle */
	struct qmgr_agent *agents; /* all of them */
	struct qmgr_queue *queues, *queues_tail;
	struct qmgr_job *jobs, *jobs_tail; /* in arrival order */
	struct qmgr_job *current;	   /* last served; may be preempted */
	unsigned slot_cost, slot_loan, slot_discount, min_slots;
	struct qmgr_transport *next;
};

struct qmgr_queue {
	struct qmgr_transport *transport;
	char *key;
	char *nexthop; /* sent to the agent; NULL for local */
	unsigned window, busy, revive_window;
	unsigned agents; /* agent connections bound to it (busy or idle) */
	double success, fail_cohorts;
	bool dead;
	char dead_dsn[16];
	char *dead_reason;
	struct event_timer *revive;
	struct qmgr_entry *todo, *todo_tail;
	struct qmgr_queue *prev, *next; /* in its transport */
};

/* ---- route.c */

/* What routing decided for one recipient. */
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

/* ---- status.c */

/* Appends a result to log (bounce/ID: failed recipients, and delivered
 * ones that asked NOTIFY=SUCCESS; defer/ID: deferred ones) and fsyncs
 * it. action: "failed", "delayed", "delivered", "relayed". Returns 1 or
 * -1 with *error_r. */
int qmgr_status_append(struct qmgr *q, const char *id, enum queue_name log,
		       const char *rcpt, const char *action,
		       const struct qmgr_result *res, const char **error_r);
/* Moves active/ID to deferred/ with the next attempt time as mtime. */
void qmgr_defer_message(struct qmgr *q, const char *id, uint64_t arrival_usec);

/* ---- bounce.c */

/* Sends a delivery status notification for the failed recipients in
 * bounce/ID to the sender (never for the null sender; a postmaster copy
 * of the headers per notify_classes), and a success notification for
 * the recipients logged as delivered with NOTIFY=SUCCESS; then removes
 * the logs. Returns 1, or -1 when it must be tried again (the message
 * stays). */
int qmgr_bounce_flush(struct qmgr *q, struct queue_file *qf,
		      const char **error_r);
/* Queues message text (len bytes, a whole message) from the null sender
 * to rcpt and wakes qmgr up for it. Returns 1 with its ID, or -1. */
int qmgr_bounce_queue(struct qmgr *q, const char *rcpt, const char *text,
		      size_t len, char id_r[QUEUE_ID_SIZE],
		      const char **error_r);
/* The delay warning (action=delayed) for the recipients in defer/ID
 * that asked for it (NOTIFY=DELAY, or no NOTIFY), once per message: sets
 * QUEUE_STATE_WARNED. Returns 1, 0 when nothing was due, -1 error. */
int qmgr_bounce_warn(struct qmgr *q, struct queue_file *qf,
		     const char **error_r);

/* ---- notice.c */

/* Tells the postmaster (error_notice_recipient) that mail was not
 * delivered because of a problem of class cls, when notify_classes lists
 * it: what happened (problem), and for which message (id, sender; NULL
 * when unknown). At most one notice per key (e.g. the transport) per
 * transport_retry_time, so that a broken agent does not flood the
 * postmaster. Failures are logged. */
void qmgr_notice(struct qmgr *q, enum qmgr_problem cls, const char *key,
		 const char *id, const char *sender, const char *problem);

#endif
