/* cmd_queue_edit.c: `postern queue delete|requeue|hold|release`, Postfix's
 * postsuper -d, -r, -h and -H: ID ... (as mailq prints them, marks
 * allowed), ALL, or - (IDs on standard input), optionally limited to one
 * queue. Safe while mail flows (doc/queue.md, "After commit"):
 *
 * - Each message is locked (flock LOCK_EX, without waiting) before it is
 *   moved or removed. Writers hold that lock until their commit returns
 *   and qmgr holds a shared one for the whole delivery attempt, so a
 *   message being written or delivered is never touched: in active/ it
 *   is reported as busy (exit 75, try again when the attempt ends);
 *   elsewhere the lock is short-lived (a reader) and is retried.
 * - Moves never replace a file (queue_dir_move) and are fsync'd before
 *   the command reports them; a message that moved meanwhile (qmgr took
 *   it) is looked for again.
 * - Only complete files (the writer's completion mark) are moved; delete
 *   also removes leftovers of dead writers, as qmgr's recovery would.
 *
 * delete also removes the status logs defer/ID and bounce/ID. requeue
 * puts the message into incoming/, where qmgr routes it again at once;
 * hold moves it to hold/, which qmgr never reads; release moves it back
 * to deferred/ with its next attempt due now. qmgr is woken after requeue
 * and release. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_queue.h"
#include "conf.h"
#include "htable.h"
#include "mem.h"
#include "msg.h"
#include "qmgr_trigger.h"

/* A reader's shared lock is retried this often, 50 ms apart. */
#define EDIT_LOCK_TRIES 20

struct edit_op {
	const char *name;
	enum queue_name from[4]; /* default queues, in Postfix's order */
	size_t nfrom;
	unsigned allowed;      /* queues that may be named: bit per queue */
	enum queue_name to;    /* QUEUE_NAME_COUNT: remove */
	const char *done_word; /* per message */
	const char *summary;   /* "Deleted: N messages" */
	char trigger;	       /* qmgr trigger afterwards, or 0 */
};

#define QB(q) (1u << (q))

static const struct edit_op edit_ops[] = {
    {"delete",
     {QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED},
     4,
     QB(QUEUE_HOLD) | QB(QUEUE_INCOMING) | QB(QUEUE_ACTIVE) |
	 QB(QUEUE_DEFERRED) | QB(QUEUE_MAILDROP) | QB(QUEUE_CORRUPT),
     QUEUE_NAME_COUNT,
     "removed",
     "Deleted",
     0},
    {"requeue",
     {QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED},
     4,
     QB(QUEUE_HOLD) | QB(QUEUE_INCOMING) | QB(QUEUE_ACTIVE) |
	 QB(QUEUE_DEFERRED),
     QUEUE_INCOMING,
     "requeued",
     "Requeued",
     QMGR_TRIGGER_WAKEUP},
    {"hold",
     {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED},
     3,
     QB(QUEUE_INCOMING) | QB(QUEUE_ACTIVE) | QB(QUEUE_DEFERRED),
     QUEUE_HOLD,
     "placed on hold",
     "Placed on hold",
     0},
    {"release",
     {QUEUE_HOLD},
     1,
     QB(QUEUE_HOLD),
     QUEUE_DEFERRED,
     "released from hold",
     "Released from hold",
     QMGR_TRIGGER_DEFERRED},
};

enum edit_result {
	ED_DONE,
	ED_NOTFOUND,
	ED_BUSY,       /* in active/ and locked: being delivered */
	ED_LOCKED,     /* locked elsewhere: a reader, try again */
	ED_MOVED,      /* gone from where it was: look again */
	ED_INCOMPLETE, /* no completion mark: not moved */
	ED_ERROR,
};

struct edit_ctx {
	const struct edit_op *op;
	struct queue_dir *qd;
	enum queue_name from[QUEUE_NAME_COUNT];
	size_t nfrom;
	size_t done, notfound, busy, failed;
	int error_exit;
};

static void edit_warn(const char *id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void edit_warn(const char *id, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "postern queue: %s: ", id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Which of the queues searched holds id: 1 with *q_r, 0, or -1. */
static int edit_locate(struct edit_ctx *e, const char *id, enum queue_name *q_r)
{
	struct stat st;
	const char *err;

	for (size_t i = 0; i < e->nfrom; i++) {
		int dfd = queue_dir_fd(e->qd, e->from[i], &err);

		if (dfd < 0) {
			edit_warn(id, "%s", err);
			return -1;
		}
		if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			*q_r = e->from[i];
			return 1;
		}
		if (errno != ENOENT) {
			edit_warn(id, "stat: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The change itself, with the message locked through fd. */
static enum edit_result edit_apply(struct edit_ctx *e, const char *id,
				   enum queue_name q, int dfd, int fd)
{
	const struct edit_op *op = e->op;
	const char *err;
	int r;

	if (op->to == QUEUE_NAME_COUNT) {
		if (unlinkat(dfd, id, 0) < 0) {
			if (errno == ENOENT)
				return ED_MOVED;
			edit_warn(id, "remove: %s", strerror(errno));
			return ED_ERROR;
		}
		if (queue_dir_sync(e->qd, q, &err) < 0)
			edit_warn(id, "%s", err);
		(void)queue_dir_remove(e->qd, QUEUE_DEFER, id, 0, &err);
		(void)queue_dir_remove(e->qd, QUEUE_BOUNCE, id, 0, &err);
		return ED_DONE;
	}
	if (q == op->to)
		return ED_DONE; /* requeue of a message in incoming/ */
	/* deferred/: the mtime is the next attempt; released mail is due. */
	if (op->to == QUEUE_DEFERRED && futimens(fd, NULL) < 0)
		edit_warn(id, "set the next attempt time: %s", strerror(errno));
	r = queue_dir_move(e->qd, id, q, op->to, QUEUE_MOVE_SYNC, &err);
	if (r == 0)
		return ED_MOVED;
	if (r < 0) {
		edit_warn(id, "%s", err);
		return ED_ERROR;
	}
	return ED_DONE;
}

static enum edit_result edit_locked(struct edit_ctx *e, const char *id,
				    enum queue_name q)
{
	const char *err;
	int dfd = queue_dir_fd(e->qd, q, &err), fd;
	enum edit_result res;
	struct stat st;

	if (dfd < 0) {
		edit_warn(id, "%s", err);
		return ED_ERROR;
	}
	fd = openat(dfd, id,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return ED_MOVED;
		edit_warn(id, "open: %s", strerror(errno));
		return ED_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		res = errno != EWOULDBLOCK ? ED_ERROR
		      : q == QUEUE_ACTIVE  ? ED_BUSY
					   : ED_LOCKED;
		if (res == ED_ERROR)
			edit_warn(id, "lock: %s", strerror(errno));
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		edit_warn(id, "%s", "not a regular file: left alone");
		res = ED_ERROR;
	} else if (st.st_nlink == 0) {
		res = ED_MOVED; /* removed after our open */
	} else if (e->op->to != QUEUE_NAME_COUNT &&
		   (st.st_mode & S_IXUSR) == 0) {
		res = ED_INCOMPLETE;
	} else {
		res = edit_apply(e, id, q, dfd, fd);
	}
	close(fd);
	return res;
}

static void edit_one(struct edit_ctx *e, const char *id)
{
	static const struct timespec pause = {0, 50 * 1000 * 1000};
	enum edit_result res = ED_LOCKED;
	enum queue_name q = QUEUE_INCOMING;

	for (int tries = 0;
	     tries < EDIT_LOCK_TRIES && (res == ED_LOCKED || res == ED_MOVED);
	     tries++) {
		int r = edit_locate(e, id, &q);

		if (r <= 0) {
			res = r == 0 ? ED_NOTFOUND : ED_ERROR;
			break;
		}
		if (res == ED_LOCKED && tries > 0)
			nanosleep(&pause, NULL);
		res = edit_locked(e, id, q);
	}
	switch (res) {
	case ED_DONE:
		e->done++;
		fprintf(stderr, "postern queue: %s: %s\n", id,
			e->op->done_word);
		break;
	case ED_NOTFOUND:
		e->notfound++;
		edit_warn(id, "%s", "not in the queue");
		break;
	case ED_BUSY:
		e->busy++;
		edit_warn(id, "%s",
			  "being delivered (active/): try again when the "
			  "delivery attempt ends");
		break;
	case ED_LOCKED:
	case ED_MOVED:
		e->busy++;
		edit_warn(id, "%s", "busy (locked or moving): try again");
		break;
	case ED_INCOMPLETE:
		e->failed++;
		edit_warn(id, "%s", "not a complete message: left alone");
		break;
	case ED_ERROR:
		e->failed++;
		break;
	}
}

/* ALL: every message in the queues, each once (one may move from one
 * queue to another while they are listed). */
static void edit_all(struct edit_ctx *e)
{
	struct queue_id_list list = {0};
	struct htable *seen = htable_new(0);
	const char *err;

	for (size_t i = 0; i < e->nfrom; i++) {
		if (queue_dir_list(e->qd, e->from[i], &list, &err) < 0) {
			fprintf(stderr, "postern queue: %s\n", err);
			e->error_exit = qcmd_exit_code(errno);
			continue;
		}
		for (size_t k = 0; k < list.count; k++)
			if (htable_insert(seen, list.ids[k], NULL) == 1)
				edit_one(e, list.ids[k]);
	}
	queue_id_list_free(&list);
	htable_free(&seen, NULL);
}

/* "-": IDs one per line on standard input. */
static void edit_stdin(struct edit_ctx *e)
{
	char line[256], id[QUEUE_ID_SIZE];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\n");
		bool whole = line[n] == '\n' || feof(stdin);
		char *p = line + strspn(line, " \t");

		line[n] = '\0';
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
				 line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!whole) { /* too long: skip the rest of the line */
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
		}
		if (*p == '\0')
			continue;
		if (!whole || qcmd_parse_id(p, id) == 0) {
			char shown[48];

			e->notfound++;
			fprintf(stderr,
				"postern queue: invalid queue ID on standard "
				"input: \"%s\"\n",
				msg_safe(shown, sizeof(shown), p, strlen(p)));
			continue;
		}
		edit_one(e, id);
	}
}

/* Parses [ID ... | ALL | -] [QUEUE] into e and *mode_r ('A' ALL, '-'
 * stdin, 'I' IDs from argv[1..*nids_r]). Returns 1 or an exit code < 0. */
static int edit_parse(struct edit_ctx *e, int argc, char **argv, int *mode_r,
		      int *nids_r)
{
	const struct edit_op *op = e->op;
	enum queue_name q;
	char id[QUEUE_ID_SIZE];

	if (argc >= 3 && queue_name_parse(argv[argc - 1], &q) == 1) {
		if (!(op->allowed & QB(q))) {
			fprintf(stderr, "postern queue: %s: not from %s/\n",
				op->name, queue_name_str(q));
			return -QCMD_EX_USAGE;
		}
		e->from[0] = q;
		e->nfrom = 1;
		argc--;
	} else {
		memcpy(e->from, op->from, op->nfrom * sizeof(op->from[0]));
		e->nfrom = op->nfrom;
	}
	if (argc < 2)
		return -qcmd_usage(NULL);
	*nids_r = argc - 1;
	*mode_r = 'I';
	if (argc == 2 && strcmp(argv[1], "ALL") == 0)
		*mode_r = 'A';
	else if (argc == 2 && strcmp(argv[1], "-") == 0)
		*mode_r = '-';
	else
		for (int i = 1; i < argc; i++)
			if (qcmd_parse_id(argv[i], id) == 0)
				return -qcmd_usage("invalid queue ID (ALL "
						   "must be upper case)");
	return 1;
}

static int edit_finish(struct edit_ctx *e, struct conf *c)
{
	const char *err;

	fprintf(stderr, "postern queue: %s: %zu message%s\n", e->op->summary,
		e->done, e->done == 1 ? "" : "s");
	if (e->op->trigger != 0 && e->done > 0 &&
	    qmgr_trigger(conf_get(c, "queue_directory"), e->op->trigger, &err) <
		0)
		fprintf(stderr,
			"postern queue: qmgr not reachable (%s): the mail "
			"moves on when it runs\n",
			err);
	if (e->error_exit != 0)
		return e->error_exit;
	if (e->failed > 0)
		return QCMD_EX_SOFTWARE;
	if (e->busy > 0)
		return QCMD_EX_TEMPFAIL;
	return e->notfound > 0 ? QCMD_EX_NOINPUT : QCMD_EX_OK;
}

int qcmd_edit_main(struct conf *c, int argc, char **argv)
{
	struct edit_ctx e = {.op = NULL};
	const char *err;
	int mode = 0, nids = 0, r;
	char id[QUEUE_ID_SIZE];

	for (size_t i = 0; i < sizeof(edit_ops) / sizeof(edit_ops[0]); i++)
		if (strcmp(argv[0], edit_ops[i].name) == 0)
			e.op = &edit_ops[i];
	if (e.op == NULL)
		return qcmd_usage("unknown subcommand");
	r = edit_parse(&e, argc, argv, &mode, &nids);
	if (r < 0)
		return -r;
	if (queue_dir_open(conf_get(c, "queue_directory"), &e.qd, &err) < 0) {
		fprintf(stderr, "postern queue: %s\n", err);
		return qcmd_exit_code(errno);
	}
	if (mode == 'A')
		edit_all(&e);
	else if (mode == '-')
		edit_stdin(&e);
	else
		for (int i = 1; i <= nids; i++)
			if (qcmd_parse_id(argv[i], id) == 1)
				edit_one(&e, id);
	queue_dir_close(&e.qd);
	return edit_finish(&e, c);
}
