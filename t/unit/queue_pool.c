/* t/unit/queue_pool.c: tests for lib/queue_pool.c: a finished file goes
 * into the pool without its completion mark, the writer's next message
 * reuses it (same inode, cut to its own size, read back whole), an empty
 * pool means a created file, a pooled file with a second name or a mark
 * is never overwritten, and a full pool or a large file means removal. */
#include "config.h"

#include <errno.h>

#include "queue_id.h"
#include "queue_pool.h"
#include "queue_util.h"

static const char *err;

/* Writes content through a writer that may reuse pooled files. */
static int write_pooled(struct queue_dir *qd, struct queue_pool *pool,
			const struct str *content, char id_r[QUEUE_ID_SIZE])
{
	struct queue_writer_settings set = {.pool = pool};
	struct queue_writer *qw;

	if (queue_writer_begin(qd, &set, &qw, &err) < 0)
		return -1;
	if (queue_writer_set_sender(qw, "s@example.org", &err) < 0 ||
	    queue_writer_add_rcpt(qw, "r@example.net", NULL, 0, &err) < 0 ||
	    queue_writer_write(qw, content->data, content->len, &err) <= 0) {
		queue_writer_abort(&qw);
		return -1;
	}
	return queue_writer_commit(&qw, id_r, &err);
}

/* A committed message moved to active/ and finished into the pool;
 * returns its inode. */
static ino_t finish_into_pool(struct queue_dir *qd, struct queue_pool *pool,
			      size_t size, char id[QUEUE_ID_SIZE])
{
	struct str body;
	struct stat st;
	int fd;

	str_init(&body, 0);
	qt_content(&body, size, 3);
	if (qt_write(qd, body.data, body.len, id) < 0 ||
	    queue_dir_move(qd, id, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err) <= 0)
		return 0;
	fd = openat(queue_dir_fd(qd, QUEUE_ACTIVE, &err), id, O_RDONLY);
	fstat(fd, &st);
	ok(queue_pool_put(pool, QUEUE_ACTIVE, id, &err) == 1,
	   "put: %zu-byte message into the pool", size);
	close(fd);
	str_deinit(&body);
	return st.st_ino;
}

static int pool_dir(struct queue_dir *qd)
{
	return openat(queue_dir_fd(qd, QUEUE_INCOMING, &err), QUEUE_POOL_DIR,
		      O_RDONLY | O_DIRECTORY);
}

static int pooled_count(struct queue_dir *qd)
{
	int fd = pool_dir(qd), n = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += queue_id_valid(de->d_name);
	closedir(d);
	return n;
}

static void test_reuse(void)
{
	struct queue_dir *qd = qt_root("reuse");
	struct queue_pool *pool = queue_pool_new(qd);
	char old[QUEUE_ID_SIZE], id[QUEUE_ID_SIZE];
	struct queue_file *qf;
	struct str body, got;
	struct stat st;
	ino_t ino;
	int pfd;

	str_init(&body, 0);
	str_init(&got, 0);
	ino = finish_into_pool(qd, pool, 30000, old);
	is_int(qt_mode(qd, QUEUE_ACTIVE, old), -1, "gone from active/");
	pfd = pool_dir(qd);
	ok(pfd >= 0 && fstatat(pfd, old, &st, 0) == 0 &&
	       (st.st_mode & 07777) == 0600,
	   "in incoming/%s, mode 0600 (no completion mark)", QUEUE_POOL_DIR);
	close(pfd);

	qt_content(&body, 500, 9);
	is_int(write_pooled(qd, pool, &body, id), 1, "a writer with the pool");
	is_int(pooled_count(qd), 0, "took the pooled file");
	ok(fstatat(queue_dir_fd(qd, QUEUE_INCOMING, &err), id, &st, 0) == 0 &&
	       st.st_ino == ino,
	   "the same inode, under the new ID");
	is_int(qt_mode(qd, QUEUE_INCOMING, id), 0700, "committed: 0700");
	is_int(queue_file_openat(queue_dir_fd(qd, QUEUE_INCOMING, &err), id, 0,
				 &qf, &err),
	       1, "the reader accepts it (cut to its own size)");
	qt_read_content(qf, &got);
	ok(got.len == body.len && memcmp(got.data, body.data, body.len) == 0,
	   "content read back");
	ok(st.st_size < 2000, "no old bytes left (%lld bytes)",
	   (long long)st.st_size);
	queue_file_close(&qf);

	is_int(write_pooled(qd, pool, &body, id), 1, "empty pool: created");
	ok(fstatat(queue_dir_fd(qd, QUEUE_INCOMING, &err), id, &st, 0) == 0 &&
	       st.st_ino != ino,
	   "a new file");
	qt_content(&body, QUEUE_POOL_FILE_MAX + 1, 2);
	if (qt_write(qd, body.data, body.len, old) > 0 &&
	    queue_dir_move(qd, old, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err) > 0)
		is_int(queue_pool_put(pool, QUEUE_ACTIVE, old, &err), 1,
		       "put of a large message");
	is_int(qt_mode(qd, QUEUE_ACTIVE, old), -1, "gone from active/");
	is_int(pooled_count(qd), 0, "removed, not pooled");
	is_int(queue_pool_put(pool, QUEUE_ACTIVE, "1AAAAAAAAAAAAAAA", &err), 0,
	       "put of a message that is not there: 0");
	queue_pool_free(&pool);
	ok(pool == NULL, "free clears the handle");
	queue_dir_close(&qd);
	str_deinit(&body);
	str_deinit(&got);
}

/* A pooled file that has another name (a crash in the middle of a rename
 * can leave one) or a completion mark is left alone. */
static void test_refused(void)
{
	struct queue_dir *qd = qt_root("refused");
	struct queue_pool *pool = queue_pool_new(qd);
	char old[QUEUE_ID_SIZE], id[QUEUE_ID_SIZE];
	struct str body;
	struct stat st;
	ino_t ino;
	int pfd, held;

	str_init(&body, 0);
	ino = finish_into_pool(qd, pool, 3000, old);
	pfd = pool_dir(qd);
	ok(linkat(pfd, old, queue_dir_fd(qd, QUEUE_HOLD, &err), old, 0) == 0,
	   "a second name for the pooled file (hold/)");
	qt_content(&body, 200, 5);
	is_int(write_pooled(qd, pool, &body, id), 1,
	       "the writer still gets a file");
	ok(fstatat(queue_dir_fd(qd, QUEUE_INCOMING, &err), id, &st, 0) == 0 &&
	       st.st_ino != ino,
	   "not the one with two names");
	ok(fstatat(queue_dir_fd(qd, QUEUE_HOLD, &err), old, &st, 0) == 0 &&
	       st.st_size > 3000 && st.st_nlink == 1,
	   "whose other name keeps it whole");
	is_int(pooled_count(qd), 0, "and it left the pool");

	(void)finish_into_pool(qd, pool, 3000, old);
	ok(fchmodat(pfd, old, 0700, 0) == 0, "a pooled file with the mark");
	held = openat(pfd, old, O_RDONLY);
	is_int(write_pooled(qd, pool, &body, id), 1, "the writer gets a file");
	ok(held >= 0 && fstat(held, &st) == 0 && st.st_size > 3000 &&
	       (st.st_mode & 07777) == 0700,
	   "the marked one was not written to");
	if (held >= 0)
		close(held);
	/* A pool of nothing but bad files costs one of them, not the
	 * message. */
	for (int i = 0; i < 15; i++) {
		int fd;

		queue_id_new(old);
		fd = openat(pfd, old, O_WRONLY | O_CREAT | O_EXCL, 0700);
		if (fd >= 0)
			close(fd);
	}
	queue_pool_free(&pool);
	pool = queue_pool_new(qd);
	is_int(write_pooled(qd, pool, &body, id), 1,
	       "15 marked files in the pool: the message is still taken");
	is_int(pooled_count(qd), 14, "after one refusal the writer creates");
	close(pfd);
	queue_pool_free(&pool);
	queue_dir_close(&qd);
	str_deinit(&body);
}

static void test_full(void)
{
	struct queue_dir *qd = qt_root("full");
	struct queue_pool *pool = queue_pool_new(qd);
	char id[QUEUE_ID_SIZE], fill[QUEUE_ID_SIZE];
	struct str body;
	int pfd, fd, made = 0;

	str_init(&body, 0);
	(void)finish_into_pool(qd, pool, 100, id);
	pfd = pool_dir(qd);
	for (int i = 1; i < QUEUE_POOL_MAX; i++) {
		queue_id_new(fill);
		fd = openat(pfd, fill, O_WRONLY | O_CREAT | O_EXCL, 0600);
		made += fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	is_int(made, QUEUE_POOL_MAX - 1, "the pool filled up");
	queue_pool_free(&pool);
	pool = queue_pool_new(qd); /* counts the pool again */
	qt_content(&body, 100, 1);
	if (qt_write(qd, body.data, body.len, id) > 0 &&
	    queue_dir_move(qd, id, QUEUE_INCOMING, QUEUE_ACTIVE, 0, &err) > 0) {
		fd = openat(queue_dir_fd(qd, QUEUE_ACTIVE, &err), id, O_RDONLY);
		is_int(queue_pool_put(pool, QUEUE_ACTIVE, id, &err), 1,
		       "put into a full pool");
		close(fd);
	}
	is_int(qt_mode(qd, QUEUE_ACTIVE, id), -1, "gone from active/");
	ok(faccessat(pfd, id, F_OK, 0) < 0 && errno == ENOENT,
	   "removed, not pooled");
	is_int(pooled_count(qd), QUEUE_POOL_MAX, "the pool did not grow");
	close(pfd);
	queue_pool_free(&pool);
	queue_dir_close(&qd);
	str_deinit(&body);
}

int main(void)
{
	test_reuse();
	test_refused();
	test_full();
	return tap_done();
}
