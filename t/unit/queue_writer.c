/* t/unit/queue_writer.c: tests for lib/queue_writer.c: a full message
 * through writer and reader, the envelope checks, the size limit, abort,
 * write errors (EFBIG standing in for ENOSPC), the lock that hides a file
 * until commit has returned, the begin/recovery race, maildrop mode. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#include "mem.h"
#include "queue_util.h"

static const char *err;

static void test_full(struct queue_dir *qd)
{
	struct queue_writer *qw;
	struct queue_file *qf;
	const struct queue_envelope *env;
	struct str body, got;
	char id[QUEUE_ID_SIZE], seen[QUEUE_ID_SIZE];
	int f_ok = 1;

	str_init(&body, 0);
	str_init(&got, 0);
	qt_content(&body, 300000, 1);
	is_int(queue_writer_begin(qd, NULL, &qw, &err), 1, "begin");
	memcpy(seen, queue_writer_id(qw), QUEUE_ID_SIZE);
	is_int(qt_mode(qd, QUEUE_INCOMING, seen), 0600, "created 0600 at once");
	is_int(queue_writer_set_sender(qw, "", &err), 1, "null sender");
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		f_ok &= queue_writer_set_field(qw, (enum queue_field)f,
					       queue_field_name(f), &err) == 1;
	ok(f_ok, "every field set");
	is_int(queue_writer_set_ret(qw, QUEUE_RET_FULL, &err), 1, "RET");
	is_int(queue_writer_set_msg_flags(qw, QUEUE_MSG_BINARYMIME, &err), 1,
	       "flags");
	queue_writer_set_arrival(qw, 42);
	is_int(queue_writer_add_rcpt(qw, "a@x", "rfc822;A@X",
				     QUEUE_NOTIFY_DELAY, &err),
	       1, "rcpt 1");
	is_int(queue_writer_add_rcpt(qw, "b@y", NULL, 0, &err), 1, "rcpt 2");
	/* Pieces below, at and above the write block. */
	is_int(queue_writer_write(qw, body.data, 1000, &err), 1, "small piece");
	is_int(queue_writer_write(qw, body.data + 1000, 64 * 1024, &err), 1,
	       "block-sized piece");
	is_int(queue_writer_write(qw, body.data + 1000 + 65536,
				  body.len - 1000 - 65536, &err),
	       1, "large piece");
	is_int((long long)queue_writer_content_size(qw), 300000, "size so far");
	is_int(queue_writer_set_field(qw, QUEUE_FIELD_HELO, "late", &err), -1,
	       "no envelope change after content");
	is_int(queue_writer_commit(&qw, id, &err), 1, "commit");
	ok(qw == NULL, "commit frees the writer");
	is_str(id, seen, "commit returns the ID");
	is_int(qt_mode(qd, QUEUE_INCOMING, id), 0700, "committed: 0700");

	is_int(queue_file_openat(queue_dir_fd(qd, QUEUE_INCOMING, &err), id, 0,
				 &qf, &err),
	       1, "reader opens it");
	env = queue_file_envelope(qf);
	ok(env->sender[0] == '\0' && env->ret == QUEUE_RET_FULL &&
	       env->msg_flags == QUEUE_MSG_BINARYMIME &&
	       env->arrival_usec == 42,
	   "sender, RET, flags, arrival");
	is_str(env->fields[QUEUE_FIELD_SASL_USER], "sasl_username", "a field");
	is_int(env->rcpt_count, 2, "two recipients");
	is_str(env->rcpts[0].orcpt, "rfc822;A@X", "ORCPT");
	ok(env->rcpts[0].notify == QUEUE_NOTIFY_DELAY &&
	       env->rcpts[1].orcpt == NULL &&
	       env->rcpts[1].status == QUEUE_RCPT_PENDING,
	   "notify, no ORCPT, pending");
	qt_read_content(qf, &got);
	ok(got.len == body.len && memcmp(got.data, body.data, body.len) == 0,
	   "300 kB of content byte for byte");
	queue_file_close(&qf);
	str_deinit(&body);
	str_deinit(&got);
}

static void test_refusals(struct queue_dir *qd)
{
	static const char *const ctl[] = {"a\rb", "a\nb", "a\tb", "\x7f",
					  "\x1b[m"};
	struct queue_writer *qw;
	char id[QUEUE_ID_SIZE];
	int refused = 0;

	queue_writer_begin(qd, NULL, &qw, &err);
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		refused += queue_writer_set_sender(qw, ctl[i], &err) == -1;
		refused += queue_writer_set_field(qw, QUEUE_FIELD_HELO, ctl[i],
						  &err) == -1;
		refused +=
		    queue_writer_add_rcpt(qw, ctl[i], NULL, 0, &err) == -1;
		refused +=
		    queue_writer_add_rcpt(qw, "a@b", ctl[i], 0, &err) == -1;
	}
	is_int(refused, 20, "control characters refused in every value");
	ok(strstr(err, "ORCPT contains a control") != NULL, "%s", err);
	is_int(queue_writer_add_rcpt(qw, "", NULL, 0, &err), -1, "empty rcpt");
	is_int(queue_writer_add_rcpt(qw, "a@b", NULL, 0x05, &err), -1,
	       "NOTIFY=NEVER,FAILURE refused");
	is_int(queue_writer_set_msg_flags(qw, 3, &err), -1, "8BIT+BINARY");
	is_int(queue_writer_set_ret(qw, (enum queue_ret)7, &err), -1, "RET 7");
	is_int(queue_writer_set_field(qw, QUEUE_FIELD_COUNT, "x", &err), -1,
	       "unknown field");
	is_int(queue_writer_write(qw, "x", 1, &err), -1, "no sender yet");
	ok(strstr(err, "no sender") != NULL, "%s", err);
	queue_writer_set_sender(qw, "s@x", &err);
	is_int(queue_writer_set_sender(qw, "t@x", &err), -1, "sender twice");
	is_int(queue_writer_write(qw, "x", 1, &err), -1, "no recipient yet");
	queue_writer_add_rcpt(qw, "a@b", NULL, 0, &err);
	queue_writer_set_field(qw, QUEUE_FIELD_HELO, "h", &err);
	is_int(queue_writer_set_field(qw, QUEUE_FIELD_HELO, "h", &err), -1,
	       "field twice");
	memcpy(id, queue_writer_id(qw), QUEUE_ID_SIZE);
	queue_writer_abort(&qw);
	ok(qw == NULL && qt_mode(qd, QUEUE_INCOMING, id) == -1,
	   "abort removes the file");
	queue_writer_abort(&qw);
	ok(1, "abort is NULL-safe");
}

static void test_size_limit(struct queue_dir *qd)
{
	struct queue_writer_settings set = {.max_content = 1000};
	struct queue_writer *qw;
	char id[QUEUE_ID_SIZE];
	int before = qt_count(qd, QUEUE_INCOMING);

	queue_writer_begin(qd, &set, &qw, &err);
	queue_writer_set_sender(qw, "s@x", &err);
	queue_writer_add_rcpt(qw, "r@x", NULL, 0, &err);
	is_int(queue_writer_write(qw, "0123456789", 10, &err), 1, "under");
	is_int(queue_writer_write(qw, NULL, 0, &err), 1, "empty write");
	char *big = mem_alloc(1000);
	is_int(queue_writer_write(qw, big, 990, &err), 1, "exactly the limit");
	is_int(queue_writer_write(qw, "x", 1, &err), 0, "one byte over: 0");
	ok(strstr(err, "size limit") != NULL, "%s", err);
	is_int(queue_writer_write(qw, "", 0, &err), 0, "stays refused");
	is_int(queue_writer_commit(&qw, id, &err), -1, "commit refused");
	ok(qw == NULL && strstr(err, "size limit"), "%s", err);
	is_int(qt_count(qd, QUEUE_INCOMING), before, "and the file is gone");
	mem_free(big);
}

/* In a child: RLIMIT_FSIZE makes write fail (EFBIG) like a full disk. */
static void write_error_child(void *arg)
{
	struct queue_dir *qd = arg;
	struct rlimit rl = {.rlim_cur = 100000, .rlim_max = 100000};
	struct queue_writer *qw;
	struct str body;
	int r;

	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	str_init(&body, 0);
	qt_content(&body, 200000, 3);
	queue_writer_begin(qd, NULL, &qw, &err);
	queue_writer_set_sender(qw, "s@x", &err);
	queue_writer_add_rcpt(qw, "r@x", NULL, 0, &err);
	r = 0;
	for (size_t off = 0; off < body.len && r >= 0; off += 10000)
		r = queue_writer_write(qw, body.data + off, 10000, &err);
	if (r != -1 || strstr(err, "File too large") == NULL)
		exit(10);
	if (queue_writer_write(qw, "x", 1, &err) != -1)
		exit(11);
	if (queue_writer_commit(&qw, NULL, &err) != -1 || qw != NULL ||
	    strstr(err, "write incoming/") == NULL)
		exit(12);
	exit(qt_count(qd, QUEUE_INCOMING) == 0 ? 0 : 13);
}

static void test_write_error(void)
{
	struct queue_dir *qd = qt_root("q-efbig");

	is_int(tap_run_child(write_error_child, qd), 0,
	       "write error: -1 naming the file, commit -1, file removed");
	queue_dir_close(&qd);
}

static struct queue_dir *hook_qd;
static const char *hook_step;
static int hook_result = 99;

/* While commit runs, readers must not see the file yet. */
static void hook_try_read(const char *step)
{
	struct queue_id_list list = {0};
	struct queue_file *qf = NULL;

	if (strcmp(step, hook_step) != 0)
		return;
	queue_dir_list(hook_qd, QUEUE_INCOMING, &list, &err);
	if (list.count == 1)
		hook_result = queue_file_openat(
		    queue_dir_fd(hook_qd, QUEUE_INCOMING, &err), list.ids[0], 0,
		    &qf, &err);
	queue_file_close(&qf);
	queue_id_list_free(&list);
}

static void test_hidden_until_commit(void)
{
	static const char *const steps[] = {"created", "written", "marked",
					    "file-synced", "dir-synced"};
	char id[QUEUE_ID_SIZE];

	hook_qd = qt_root("q-hidden");
	queue_writer_test_hook = hook_try_read;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		hook_step = steps[i];
		hook_result = 99;
		qt_write(hook_qd, "hello\r\n", 7, id);
		is_int(hook_result, 0,
		       "a reader gets 'not ready' at each step");
		queue_dir_remove(hook_qd, QUEUE_INCOMING, id, 0, &err);
	}
	queue_writer_test_hook = NULL;
	queue_dir_close(&hook_qd);
}

/* Recovery strikes between the writer's open and its lock: the writer
 * notices (its file was unlinked) and starts over under a new ID. */
static char race_first[QUEUE_ID_SIZE];

static void hook_recover(const char *step)
{
	struct queue_recover_stats st = {0};
	struct queue_id_list list = {0};

	if (strcmp(step, "opened") != 0 || race_first[0] != '\0')
		return;
	queue_dir_list(hook_qd, QUEUE_INCOMING, &list, &err);
	if (list.count == 1)
		memcpy(race_first, list.ids[0], QUEUE_ID_SIZE);
	queue_id_list_free(&list);
	queue_recover_incomplete(hook_qd, QUEUE_INCOMING, &st, &err);
}

static void test_begin_race(void)
{
	struct queue_file *qf;
	char id[QUEUE_ID_SIZE];

	hook_qd = qt_root("q-race");
	queue_writer_test_hook = hook_recover;
	is_int(qt_write(hook_qd, "x\r\n", 3, id), 1,
	       "message committed despite recovery at 'opened'");
	queue_writer_test_hook = NULL;
	ok(race_first[0] != '\0' && strcmp(race_first, id) != 0,
	   "first ID %s lost to recovery, message is %s", race_first, id);
	is_int(qt_count(hook_qd, QUEUE_INCOMING), 1,
	       "only the message remains");
	is_int(queue_file_openat(queue_dir_fd(hook_qd, QUEUE_INCOMING, &err),
				 id, 0, &qf, &err),
	       1, "and it reads back");
	queue_file_close(&qf);
	queue_dir_close(&hook_qd);
}

static void test_modes(void)
{
	struct queue_dir *qd = qt_root("q-modes");
	struct queue_writer_settings set = {.queue = QUEUE_MAILDROP,
					    .mode = 0644};
	struct queue_writer *qw, *qw2;
	char id[QUEUE_ID_SIZE];

	queue_writer_begin(qd, &set, &qw, &err);
	is_int(queue_writer_begin(qd, &set, &qw2, &err), 1, "second writer");
	ok(strcmp(queue_writer_id(qw), queue_writer_id(qw2)) < 0,
	   "two writers, two IDs in order");
	queue_writer_abort(&qw2);
	queue_writer_set_sender(qw, "u@localhost", &err);
	queue_writer_set_field(qw, QUEUE_FIELD_LOCAL_USER, "u", &err);
	queue_writer_add_rcpt(qw, "r@x", NULL, 0, &err);
	is_int(queue_writer_commit(&qw, id, &err), 1,
	       "empty content commits (envelope written at commit)");
	is_int(qt_mode(qd, QUEUE_MAILDROP, id), 0744, "maildrop: mode + u+x");
	set.queue = QUEUE_INCOMING;
	set.no_dir_sync = true;
	queue_writer_begin(qd, &set, &qw, &err);
	queue_writer_set_sender(qw, "u@localhost", &err);
	queue_writer_add_rcpt(qw, "r@x", NULL, 0, &err);
	is_int(queue_writer_commit(&qw, id, &err), 1, "no_dir_sync commits");
	is_int(qt_mode(qd, QUEUE_INCOMING, id), 0744, "complete");
	queue_dir_close(&qd);
}

int main(void)
{
	struct queue_dir *qd = qt_root("q");

	test_full(qd);
	test_refusals(qd);
	test_size_limit(qd);
	queue_dir_close(&qd);
	test_write_error();
	test_hidden_until_commit();
	test_begin_race();
	test_modes();
	return tap_done();
}
