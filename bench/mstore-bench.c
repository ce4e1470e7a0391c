/* bench/mstore-bench.c: what the mail store costs on a large Maildir++
 * mailbox. Fills a mailbox with N messages (default 10,000), then reports
 * the first open (builds the index: reads every file), the open of the
 * unchanged mailbox (index only, no directory read), the open when cur/
 * changed (index plus a directory read), an idle sync, a sync that picks
 * up one delivery and a flag change (medians of RUNS), 1,000 flag changes
 * in one STORE, STATUS, 1,000 APPENDs into the full mailbox, and N
 * APPENDs into an empty folder in steps of N/10 (equal steps: linear).
 *
 * Usage: mstore-bench [DIR [N]]  (DIR is made and removed when not given) */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "mstore.h"
#include "num.h"

#define RUNS 20

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "mstore-bench: %s: %s\n", what, err);
	exit(1);
}

static void set_old(const char *path)
{
	struct timespec ts[2] = {{time(NULL) - 60, 0}, {time(NULL) - 60, 0}};

	utimensat(AT_FDCWD, path, ts, 0);
}

static void fill(const char *root, unsigned n)
{
	char path[4096], body[2048];
	const char *err;
	int len;

	len = snprintf(body, sizeof(body),
		       "Return-Path: <a@example.org>\nFrom: a@example.org\n"
		       "To: b@example.org\nSubject: bench\n\n");
	memset(body + len, 'x', sizeof(body) - (size_t)len - 2);
	body[sizeof(body) - 2] = '\n';
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/cur/%u.M%uP1.bench:2,%s", root,
			 1600000000u + i, i, i % 3 ? "S" : "");
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 ||
		    file_write_all(fd, body, sizeof(body) - 1, &err) < 0)
			die("write", path);
		close(fd);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double open_once(struct mstore *s)
{
	struct mstore_mailbox *mb;
	const char *err;
	double t = now();

	if (mstore_mailbox_open(s, "INBOX", false, &mb, &err) <= 0)
		die("open", err);
	t = now() - t;
	mstore_mailbox_close(&mb);
	return t;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of RUNS opens; touch_cur: make cur/ look changed each time. */
static double open_median(struct mstore *s, const char *root, bool touch_cur)
{
	double t[RUNS];
	char cur[4096];

	snprintf(cur, sizeof(cur), "%s/cur", root);
	for (int i = 0; i < RUNS; i++) {
		if (touch_cur)
			utimensat(AT_FDCWD, cur, NULL, 0);
		t[i] = open_once(s);
	}
	qsort(t, RUNS, sizeof(t[0]), dbl_cmp);
	return t[RUNS / 2];
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), dbl_cmp);
	return t[n / 2];
}

static void steady_syncs(struct mstore *s, struct mstore_mailbox *mb,
			 const char *root)
{
	double t[RUNS];
	char path[4096];
	const char *err;

	(void)s;
	for (int i = 0; i < RUNS; i++) {
		snprintf(path, sizeof(path), "%s/new/1700000000.Qnew%d.bench",
			 root, i);
		if (file_write_atomic(path, "Subject: new\n\nx\n", 16, 0600,
				      &err) < 0)
			die("write", err);
		t[i] = now();
		if (mstore_mailbox_sync(mb, &err) < 0)
			die("sync", err);
		t[i] = now() - t[i];
	}
	printf("sync with one new message:     %8.3f ms (median)\n",
	       median(t, RUNS) * 1e3);
	for (int i = 0; i < RUNS; i++) {
		uint32_t uid = (uint32_t)(2 + 7 * i);

		t[i] = now();
		if (mstore_store_flags(mb, &uid, 1, MSTORE_FLAGS_ADD,
				       MSTORE_F_FLAGGED, 0, 0, NULL, NULL,
				       &err) < 0)
			die("store", err);
		t[i] = now() - t[i];
		if (mstore_mailbox_sync(mb, &err) < 0)
			die("sync", err);
	}
	printf("flag change (one message):     %8.3f ms (median)\n",
	       median(t, RUNS) * 1e3);
}

static void steady(struct mstore *s, const char *root)
{
	struct mstore_mailbox *mb;
	struct mstore_status st;
	uint32_t uids[1000];
	const char *err;
	double t;

	if (mstore_mailbox_open(s, "INBOX", false, &mb, &err) <= 0)
		die("open", err);
	t = now();
	mstore_mailbox_sync(mb, &err);
	printf("idle sync:                     %8.3f ms\n", (now() - t) * 1e3);
	steady_syncs(s, mb, root);
	for (uint32_t i = 0; i < 1000; i++)
		uids[i] = 3000 + i;
	t = now();
	if (mstore_store_flags(mb, uids, 1000, MSTORE_FLAGS_ADD,
			       MSTORE_F_ANSWERED, 0, 0, NULL, NULL, &err) < 0)
		die("store", err);
	printf("flag change (1,000 in one):    %8.3f ms\n", (now() - t) * 1e3);
	t = now();
	if (mstore_mailbox_sync(mb, &err) < 0)
		die("sync", err);
	printf("sync after that (same handle): %8.3f ms\n", (now() - t) * 1e3);
	mstore_mailbox_close(&mb);
	t = now();
	for (int i = 0; i < RUNS; i++)
		if (mstore_status(s, "INBOX", &st, &err) < 0)
			die("status", err);
	printf("STATUS (mean of %d):           %8.3f ms\n", RUNS,
	       (now() - t) * 1e3 / RUNS);
}

/* What one small append and fdatasync costs here: the floor under every
 * change the store makes durable. */
static void fsync_baseline(const char *dir)
{
	char path[4096], buf[200] = {0};
	double t[RUNS];
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open", path);
	for (int i = 0; i < RUNS; i++) {
		t[i] = now();
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    fdatasync(fd) < 0)
			die("fdatasync", path);
		t[i] = now() - t[i];
	}
	close(fd);
	unlink(path);
	printf("append + fdatasync (baseline): %8.3f ms (median)\n",
	       median(t, RUNS) * 1e3);
}

static const char msg[] = "From: a@example.org\r\nTo: b@example.org\r\n"
			  "Subject: appended\r\n\r\nbody\r\n";

/* n APPENDs into name; returns seconds. */
static double appends(struct mstore *s, const char *name, unsigned n)
{
	uint32_t uidv, uid;
	const char *err;
	double t = now();

	for (unsigned i = 0; i < n; i++)
		if (mstore_append(s, name, msg, sizeof(msg) - 1, 0, NULL, 0, 0,
				  &uidv, &uid, &err) <= 0)
			die("append", err);
	return now() - t;
}

static void append_rates(struct mstore *s, unsigned n)
{
	unsigned step = n >= 10 ? n / 10 : 1;
	const char *err;
	double t;

	t = appends(s, "INBOX", 1000);
	printf("1,000 APPENDs into INBOX:      %8.3f s (%.3f ms each)\n", t, t);
	if (mstore_create(s, "Fill", &err) < 0)
		die("create", err);
	printf("APPENDs into an empty folder, per step of %u:\n", step);
	for (unsigned done = 0; done < n; done += step) {
		t = appends(s, "Fill", step);
		printf("  %6u..%-6u %8.3f s (%.3f ms each)\n", done + 1,
		       done + step, t, t * 1e3 / step);
	}
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/mstore-bench.XXXXXX", root[1024], sub[2048];
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl), *err;
	struct mstore_settings set = {.hostname = "bench"};
	uint64_t n = 10000;
	struct mstore *s;
	double t;

	if (dir == NULL || (argc > 2 && num_parse_u64(argv[2], strlen(argv[2]),
						      10000000, &n) <= 0))
		die("usage", "mstore-bench [DIR [N]]");
	snprintf(root, sizeof(root), "%s/user", dir);
	set.user_root = root;
	if (mstore_open(&set, &s, &err) < 0)
		die("open store", err);
	fill(root, (unsigned)n);
	snprintf(sub, sizeof(sub), "%s/cur", root);
	set_old(sub);
	snprintf(sub, sizeof(sub), "%s/new", root);
	set_old(sub);
	printf("messages:                      %8llu\n", (unsigned long long)n);
	fsync_baseline(dir);
	t = open_once(s);
	printf("first open (builds the index): %8.3f ms\n", t * 1e3);
	printf("open, unchanged (median):      %8.3f ms\n",
	       open_median(s, root, false) * 1e3);
	printf("open, cur/ changed (median):   %8.3f ms\n",
	       open_median(s, root, true) * 1e3);
	snprintf(sub, sizeof(sub), "%s/cur", root);
	set_old(sub);
	steady(s, root);
	append_rates(s, (unsigned)n);
	mstore_free(&s);
	if (argc <= 1)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
