/* commit.c: the end of an accepted message. The queue file's fsyncs (file,
 * then folder) run in a worker thread of the process's blocking_pool, so
 * that the other sessions of the process go on meanwhile and commit
 * together (writers syncing at once share the folder's fsync); the session
 * reads no input until its "250 Ok: queued as ID" or 451 is sent. A session
 * that ends meanwhile leaves the commit to finish alone: the message was
 * complete, so it is kept (as it would be had the 250 been lost). */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "msg.h"
#include "smtpd.h"

/* Worker threads per process: fsyncs in flight at once. They start only
 * when commits overlap. */
#define SMTPD_COMMIT_THREADS 8

/* Set while the process exits: sessions are no longer answered. */
static bool commit_exiting;

struct smtpd_commit {
	const struct smtpd_config *cfg;
	struct session *s; /* NULL once the session ended */
	struct queue_writer *qw;
	char *sender;
	size_t rcpt_count;
	uint64_t size;
	char id[QUEUE_ID_SIZE];
};

static void commit_work(void *ctx)
{
	struct smtpd_commit *c = ctx;

	queue_writer_commit_sync(c->qw);
}

/* resume: called from the loop (the pool's report), not from inside the
 * session's own input handling. */
static void commit_end(struct smtpd_commit *c, bool resume)
{
	struct session *s = commit_exiting ? NULL : c->s;
	const char *err;
	int r;

	msg_set_queue_id(c->id);
	r = queue_writer_commit_finish(&c->qw, NULL, &err);
	if (r == 1) {
		msg_info("from=<%s>, size=%llu, nrcpt=%zu (queued)", c->sender,
			 (unsigned long long)c->size, c->rcpt_count);
		smtpd_wake_qmgr(c->cfg, c->id);
	} else {
		msg_warn("queue file commit: %s", err);
	}
	msg_set_queue_id(NULL);
	if (s != NULL) {
		s->commit = NULL;
		smtpd_session_enter(s);
		if (r == 1)
			smtpd_reply(s, "250 2.0.0 Ok: queued as %s", c->id);
		else
			smtpd_reply(s, "451 4.3.0 Error: queue file write "
				       "error");
		if (resume)
			smtpd_session_resume(s);
	}
	mem_free(c->sender);
	mem_free(c);
}

static void commit_done(void *ctx)
{
	commit_end(ctx, true);
}

void smtpd_commit_start(struct session *s)
{
	struct smtpd_commit *c;
	const char *err;

	if (queue_writer_commit_prepare(&s->qw, &err) < 0) {
		msg_warn("queue file commit: %s", err);
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		return;
	}
	c = mem_alloc(sizeof(*c));
	c->cfg = s->cfg;
	c->s = s;
	c->qw = s->qw;
	s->qw = NULL;
	memcpy(c->id, queue_writer_id(c->qw), QUEUE_ID_SIZE);
	c->sender = mem_strdup(s->sender);
	c->rcpt_count = s->rcpt_count;
	c->size = queue_writer_content_size(c->qw);
	s->commit = c;
	if (s->cfg->commit_pool == NULL ||
	    blocking_pool_run(s->cfg->commit_pool, commit_work, commit_done, c,
			      &err) < 0) {
		/* No thread: the fsyncs hold this process, as they must. */
		commit_work(c);
		commit_end(c, false);
	}
}

int smtpd_commit_init(struct smtpd_config *cfg, struct event_loop *loop,
		      const char **error_r)
{
	cfg->commit_pool =
	    blocking_pool_new(loop, SMTPD_COMMIT_THREADS, error_r);
	return cfg->commit_pool != NULL ? 1 : -1;
}

void smtpd_commit_deinit(struct smtpd_config *cfg)
{
	commit_exiting = true;
	blocking_pool_free(&cfg->commit_pool);
}

bool smtpd_commit_pending(const struct session *s)
{
	return s->commit != NULL;
}

void smtpd_commit_detach(struct session *s)
{
	if (s->commit != NULL)
		s->commit->s = NULL;
	s->commit = NULL;
}
