/* t/unit/queue_dir.c: tests for lib/queue_dir.c: folder creation and
 * modes, sorted scans that skip foreign names, moves that never replace,
 * remove, find, and recovery (dead writers' files removed, live writers'
 * files kept, active/ requeued, clashes left alone). */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "queue_util.h"

static const char *err;

static void test_create(void)
{
	struct queue_dir *qd = NULL;
	struct str path;
	struct stat st;
	int wrong = 0;

	umask(022);
	str_init(&path, 0);
	str_printf(&path, "%s/created", tap_tmpdir());
	is_int(queue_dir_create(path.data, &err), 1, "create");
	is_int(queue_dir_create(path.data, &err), 1, "create again is fine");
	for (int q = 0; q < QUEUE_NAME_COUNT; q++) {
		str_clear(&path);
		str_printf(&path, "%s/created/%s", tap_tmpdir(),
			   queue_name_str((enum queue_name)q));
		wrong += stat(path.data, &st) < 0 ||
			 (st.st_mode & 07777) !=
			     (q == QUEUE_MAILDROP ? 0730u : 0700u);
	}
	is_int(wrong, 0, "every folder with its mode despite umask 022");
	str_clear(&path);
	str_printf(&path, "%s/missing", tap_tmpdir());
	is_int(queue_dir_open(path.data, &qd, &err), -1, "open a missing root");
	ok(qd == NULL && strstr(err, "missing"), "%s", err);
	str_deinit(&path);
}

static void test_names(void)
{
	enum queue_name q;

	is_str(queue_name_str(QUEUE_DEFERRED), "deferred", "name");
	ok(queue_name_parse("hold", &q) == 1 && q == QUEUE_HOLD, "parse");
	is_int(queue_name_parse("Hold", &q), 0, "unknown name");
}

/* A file named id in queue q with the given mode and no content. */
static void touch(struct queue_dir *qd, enum queue_name q, const char *name,
		  mode_t mode)
{
	int fd =
	    openat(queue_dir_fd(qd, q, &err), name, O_CREAT | O_WRONLY, mode);

	fchmod(fd, mode);
	close(fd);
}

static void test_list_move(struct queue_dir *qd)
{
	struct queue_id_list list = {0};
	char ids[3][QUEUE_ID_SIZE], old[QUEUE_ID_SIZE];
	enum queue_name q;

	for (int i = 0; i < 3; i++)
		qt_write(qd, "x\r\n", 3, ids[i]);
	queue_id_make(1, 1, old);
	touch(qd, QUEUE_INCOMING, old, 0700);
	touch(qd, QUEUE_INCOMING, "junk", 0600);
	touch(qd, QUEUE_INCOMING, "0000000000000000.tmp", 0600);
	touch(qd, QUEUE_INCOMING, "000000000000000a", 0600);
	is_int(queue_dir_list(qd, QUEUE_INCOMING, &list, &err), 1, "list");
	is_int(list.count, 4, "four IDs");
	is_int(list.skipped, 3, "three foreign names skipped");
	ok(list.count == 4 && strcmp(list.ids[0], old) == 0 &&
	       strcmp(list.ids[1], ids[0]) == 0 &&
	       strcmp(list.ids[3], ids[2]) == 0,
	   "sorted by arrival");

	is_int(
	    queue_dir_move(qd, ids[0], QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err),
	    1, "move");
	is_int(
	    queue_dir_move(qd, ids[0], QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err),
	    0, "move again: not there");
	touch(qd, QUEUE_DEFERRED, ids[1], 0700);
	is_int(
	    queue_dir_move(qd, ids[1], QUEUE_INCOMING, QUEUE_DEFERRED, 0, &err),
	    -1, "move onto an existing file");
	ok(errno == EEXIST && qt_mode(qd, QUEUE_INCOMING, ids[1]) == 0700,
	   "EEXIST, and the source stays: %s", err);
	is_int(queue_dir_move(qd, ids[2], QUEUE_INCOMING, QUEUE_HOLD,
			      QUEUE_MOVE_SYNC, &err),
	       1, "durable move");
	ok(queue_dir_find(qd, ids[2], &q, &err) == 1 && q == QUEUE_HOLD,
	   "find: hold");
	ok(queue_dir_find(qd, ids[0], &q, &err) == 1 && q == QUEUE_ACTIVE,
	   "find: active");
	is_int(queue_dir_find(qd, "0000000000000001", &q, &err), 0,
	       "find: nowhere");
	is_int(queue_dir_find(qd, "../incoming/x", &q, &err), 0,
	       "find: not an ID");
	is_int(queue_dir_move(qd, "../../etc/passwd", QUEUE_INCOMING,
			      QUEUE_HOLD, 0, &err),
	       -1, "move refuses a path");
	is_int(
	    queue_dir_remove(qd, QUEUE_DEFERRED, ids[1], QUEUE_MOVE_SYNC, &err),
	    1, "remove");
	is_int(queue_dir_remove(qd, QUEUE_DEFERRED, ids[1], 0, &err), 0,
	       "remove again: absent");
	is_int(queue_dir_remove(qd, QUEUE_DEFERRED, "x/y", 0, &err), -1,
	       "remove refuses a path");
	queue_id_list_free(&list);
}

/* A writer that dies (exits) after writing part of its content. */
static void dead_writer(void *arg)
{
	struct queue_writer *qw;

	queue_writer_begin(arg, NULL, &qw, &err);
	queue_writer_set_sender(qw, "s@x", &err);
	queue_writer_add_rcpt(qw, "r@x", NULL, 0, &err);
	queue_writer_write(qw, "partial", 7, &err);
	_exit(0);
}

static void test_recover(void)
{
	struct queue_dir *qd = qt_root("q-recover");
	struct queue_recover_stats st;
	struct queue_writer *live;
	struct queue_file *qf;
	char keep[QUEUE_ID_SIZE], a1[QUEUE_ID_SIZE], a2[QUEUE_ID_SIZE],
	    clash[QUEUE_ID_SIZE], live_id[QUEUE_ID_SIZE], done[QUEUE_ID_SIZE];

	qt_write(qd, "keep\r\n", 6, keep);
	qt_write(qd, "a1\r\n", 4, a1);
	qt_write(qd, "a2\r\n", 4, a2);
	qt_write(qd, "clash\r\n", 7, clash);
	queue_dir_move(qd, a1, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err);
	queue_dir_move(qd, a2, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err);
	/* qmgr was done with it (mark taken off) when it died */
	qt_write(qd, "done\r\n", 6, done);
	queue_dir_move(qd, done, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err);
	ok(fchmodat(queue_dir_fd(qd, QUEUE_ACTIVE, &err), done, 0600, 0) == 0,
	   "a finished file in active/ (no mark)");
	ok(linkat(queue_dir_fd(qd, QUEUE_INCOMING, &err), clash,
		  queue_dir_fd(qd, QUEUE_ACTIVE, &err), clash, 0) == 0,
	   "the same ID in active/ and incoming/");
	is_int(tap_run_child(dead_writer, qd), 0, "a writer died mid-content");
	queue_writer_begin(qd, NULL, &live, &err);
	memcpy(live_id, queue_writer_id(live), QUEUE_ID_SIZE);
	queue_writer_set_sender(live, "s@x", &err);
	queue_writer_add_rcpt(live, "r@x", NULL, 0, &err);
	queue_writer_write(live, "in progress", 11, &err);
	touch(qd, QUEUE_INCOMING, "README", 0600);
	is_int(qt_count(qd, QUEUE_INCOMING), 5,
	       "before: 5 entries in incoming");

	is_int(queue_recover(qd, &st, &err), 1, "recover");
	is_int(st.discarded, 2,
	       "the dead writer's file and the finished one are discarded");
	ok(qt_mode(qd, QUEUE_ACTIVE, done) < 0 &&
	       qt_mode(qd, QUEUE_INCOMING, done) < 0,
	   "the finished one is gone");
	is_int(st.busy, 1, "the live writer's file is kept");
	is_int(st.requeued, 3, "three files back from active");
	is_int(st.conflicts, 1, "a clash is left in active");
	is_int(qt_count(qd, QUEUE_INCOMING), 6,
	       "after: keep, clash, live, README, a1, a2");
	ok(qt_mode(qd, QUEUE_INCOMING, a1) == 0700 &&
	       qt_mode(qd, QUEUE_INCOMING, a2) == 0700 &&
	       qt_mode(qd, QUEUE_ACTIVE, clash) == 0700 &&
	       qt_mode(qd, QUEUE_INCOMING, "README") == 0600,
	   "requeued where expected; foreign names untouched");
	is_int(queue_writer_commit(&live, NULL, &err), 1,
	       "the live writer commits after recovery");
	is_int(queue_file_openat(queue_dir_fd(qd, QUEUE_INCOMING, &err),
				 live_id, 0, &qf, &err),
	       1, "and its message reads back");
	queue_file_close(&qf);

	memset(&st, 0, sizeof(st));
	touch(qd, QUEUE_MAILDROP, "0000000000000002", 0600);
	touch(qd, QUEUE_MAILDROP, "0000000000000003", 0744);
	is_int(queue_recover_incomplete(qd, QUEUE_MAILDROP, &st, &err), 1,
	       "recover maildrop");
	ok(st.discarded == 1 &&
	       qt_mode(qd, QUEUE_MAILDROP, "0000000000000002") == -1 &&
	       qt_mode(qd, QUEUE_MAILDROP, "0000000000000003") == 0744,
	   "unmarked maildrop file removed, marked one kept");
	queue_dir_close(&qd);
	ok(qd == NULL, "close clears the pointer");
}

int main(void)
{
	struct queue_dir *qd;

	test_create();
	test_names();
	qd = qt_root("q");
	test_list_move(qd);
	queue_dir_close(&qd);
	test_recover();
	return tap_done();
}
