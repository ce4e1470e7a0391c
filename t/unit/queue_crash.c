/* t/unit/queue_crash.c: the state table of doc/queue.md, step by step. A
 * child writes a message and is killed with SIGKILL at one step of the
 * protocol; the parent then checks what a reader sees before recovery,
 * runs queue_recover() as qmgr does at start, and checks the outcome:
 * discarded before the completion mark, kept (and intact) from it on. */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "queue_util.h"

#define BODY_LEN 200000

struct step {
	const char *name; /* a writer hook step, or an API-level one */
	bool kept;	  /* after recovery */
};

static const struct step steps[] = {
    {"opened", false},	      /* created, not locked yet */
    {"created", false},	      /* created and locked, empty */
    {"begun", false},	      /* envelope given, nothing written */
    {"content", false},	      /* first 64 KiB block written */
    {"mid-content", false},   /* half the content passed to the writer */
    {"before-commit", false}, /* all content passed, no commit call */
    {"written", false},	      /* trailer written, no completion mark */
    {"marked", true},	      /* u+x set, not fsync'd */
    {"file-synced", true},    /* file fsync'd, folder not */
    {"dir-synced", true},     /* both fsync'd, not closed */
    {"committed", true},      /* commit returned 1 (250 would go out) */
};

static const char *err;
static const char *kill_at;
static struct str body;

static void die_at(const char *step)
{
	if (strcmp(step, kill_at) == 0)
		raise(SIGKILL);
}

static void writer_child(void *arg)
{
	struct queue_writer *qw;
	size_t half = BODY_LEN / 2;

	queue_writer_test_hook = die_at;
	if (queue_writer_begin(arg, NULL, &qw, &err) < 0 ||
	    queue_writer_set_sender(qw, "s@example.org", &err) < 0 ||
	    queue_writer_add_rcpt(qw, "a@example.net", NULL, 0, &err) < 0 ||
	    queue_writer_add_rcpt(qw, "b@example.net", NULL, 0, &err) < 0)
		_exit(2);
	die_at("begun");
	for (size_t off = 0; off < half; off += 10000)
		if (queue_writer_write(qw, body.data + off, 10000, &err) != 1)
			_exit(3);
	die_at("mid-content");
	if (queue_writer_write(qw, body.data + half, BODY_LEN - half, &err) !=
	    1)
		_exit(4);
	die_at("before-commit");
	if (queue_writer_commit(&qw, NULL, &err) != 1)
		_exit(5);
	die_at("committed");
	_exit(0);
}

/* Opens the only file in incoming/: the reader's verdict. */
static int read_verdict(struct queue_dir *qd, struct str *content)
{
	struct queue_id_list list = {0};
	struct queue_file *qf = NULL;
	int r = -2;

	queue_dir_list(qd, QUEUE_INCOMING, &list, &err);
	if (list.count == 1)
		r = queue_file_openat(queue_dir_fd(qd, QUEUE_INCOMING, &err),
				      list.ids[0], 0, &qf, &err);
	if (r == 1 && content != NULL &&
	    (qt_read_content(qf, content) < 0 ||
	     queue_file_envelope(qf)->rcpt_count != 2))
		r = -3;
	queue_file_close(&qf);
	queue_id_list_free(&list);
	return r;
}

static void run_step(const struct step *s)
{
	struct queue_dir *qd = qt_root(s->name);
	struct queue_recover_stats st;
	struct str content;

	str_init(&content, 0);
	kill_at = s->name;
	is_int(tap_run_child(writer_child, qd), -SIGKILL,
	       "writer killed at step");
	tap_diag("step %s", s->name);
	is_int(qt_count(qd, QUEUE_INCOMING), 1, "one file in incoming/");
	is_int(read_verdict(qd, NULL), s->kept ? 1 : 0,
	       s->kept ? "readers see a complete message"
		       : "readers see 'not ready', never a partial message");
	is_int(queue_recover(qd, &st, &err), 1, "recovery runs");
	is_int(st.discarded, s->kept ? 0 : 1, "discarded count");
	is_int(st.busy, 0, "no live writer left");
	is_int(qt_count(qd, QUEUE_INCOMING), s->kept ? 1 : 0,
	       s->kept ? "message kept" : "incomplete file removed");
	if (s->kept) {
		is_int(read_verdict(qd, &content), 1, "kept message reads");
		ok(content.len == body.len &&
		       memcmp(content.data, body.data, body.len) == 0,
		   "content intact");
	}
	queue_dir_close(&qd);
	str_deinit(&content);
}

int main(void)
{
	str_init(&body, 0);
	qt_content(&body, BODY_LEN, 5);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run_step(&steps[i]);
	str_deinit(&body);
	return tap_done();
}
