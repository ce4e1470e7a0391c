/* queue-bench.c: what the durability rule costs. Writes messages through
 * the real queue writer (lib/queue_writer.c) from W parallel processes and
 * reports messages/s and per-message commit latency, with the folder
 * fsync (the rule in DESIGN.md) and without it (file fsync only, as
 * Postfix does). Results and how to read them: bench/queue-bench.md.
 *
 *   queue-bench [-d DIR] [-n MESSAGES] [-s SIZE] [-r RUNS]
 *               [-w WRITERS[,WRITERS...]] [-m full|file-only|both]
 *
 * Each configuration runs RUNS times into one queue under DIR (default
 * the current directory: put it on the file system being measured); the
 * run with the median rate is printed. Latency is begin() to commit()
 * returning; "commit" is commit() alone (trailer write, fchmod, fsyncs).
 * The files are removed at the end. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "queue_dir.h"
#include "queue_writer.h"
#include "str.h"

#define BENCH_MAX_WRITERS 256

struct config {
	const char *dir;
	long messages, size;
	int runs;
	bool no_dir_sync;
	int writers;
};

struct result {
	double rate, median_ms, p99_ms, commit_median_ms, commit_p99_ms, cpu_us;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "queue-bench: %s: %s\n", what, err);
	exit(2);
}

/* Writes one message; returns the seconds spent in commit. */
static double write_one(struct queue_dir *qd, const struct config *c,
			const char *body)
{
	struct queue_writer_settings set = {.no_dir_sync = c->no_dir_sync};
	struct queue_writer *qw;
	const char *err;
	double t0;

	if (queue_writer_begin(qd, &set, &qw, &err) < 0 ||
	    queue_writer_set_sender(qw, "sender@example.org", &err) < 0 ||
	    queue_writer_set_field(qw, QUEUE_FIELD_CLIENT_NAME, "localhost",
				   &err) < 0 ||
	    queue_writer_set_field(qw, QUEUE_FIELD_CLIENT_ADDR, "127.0.0.1",
				   &err) < 0 ||
	    queue_writer_set_field(qw, QUEUE_FIELD_HELO, "client.example",
				   &err) < 0 ||
	    queue_writer_add_rcpt(qw, "rcpt@example.net", NULL, 0, &err) < 0 ||
	    queue_writer_write(qw, body, (size_t)c->size, &err) != 1)
		die("write", err);
	t0 = now_s();
	if (queue_writer_commit(&qw, NULL, &err) < 0)
		die("commit", err);
	return now_s() - t0;
}

/* One writer process: waits for the start signal, writes count messages,
 * sends its latencies (total, then commit; seconds) and its end time up
 * the pipe. */
static void writer(struct queue_dir *qd, const struct config *c, long count,
		   int go_fd, int out_fd, const char *body)
{
	size_t n = 2 * (size_t)count + 1;
	double *lat = mem_calloc(n, sizeof(double));
	char b;

	if (read(go_fd, &b, 1) < 0)
		_exit(3);
	for (long i = 0; i < count; i++) {
		double t0 = now_s();
		lat[count + i] = write_one(qd, c, body);
		lat[i] = now_s() - t0;
	}
	lat[2 * count] = now_s();
	for (size_t off = 0, len = n * sizeof(double); off < len;) {
		ssize_t w = write(out_fd, (char *)lat + off, len - off);
		if (w <= 0)
			_exit(4);
		off += (size_t)w;
	}
	_exit(0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void read_all(int fd, void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = read(fd, (char *)buf + off, len - off);
		if (n <= 0)
			die("read", "short read from a writer");
		off += (size_t)n;
	}
}

static double cpu_children(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		   1e6;
}

static void cleanup(struct queue_dir **qdp, const char *root)
{
	struct queue_id_list list = {0};
	struct str path;
	const char *err;

	if (queue_dir_list(*qdp, QUEUE_INCOMING, &list, &err) > 0)
		for (size_t i = 0; i < list.count; i++)
			queue_dir_remove(*qdp, QUEUE_INCOMING, list.ids[i], 0,
					 &err);
	queue_id_list_free(&list);
	queue_dir_close(qdp);
	str_init(&path, 0);
	for (int q = 0; q < QUEUE_NAME_COUNT; q++) {
		str_clear(&path);
		str_printf(&path, "%s/%s", root,
			   queue_name_str((enum queue_name)q));
		rmdir(path.data);
	}
	rmdir(root);
	str_deinit(&path);
}

static double pct(double *v, long n, int p)
{
	return v[(size_t)n * (size_t)p / 100] * 1e3;
}

static void summarize(double *lat, double *commit, long n, double wall,
		      double cpu, struct result *r)
{
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	qsort(commit, (size_t)n, sizeof(double), cmp_double);
	r->rate = (double)n / wall;
	r->median_ms = pct(lat, n, 50);
	r->p99_ms = pct(lat, n, 99);
	r->commit_median_ms = pct(commit, n, 50);
	r->commit_p99_ms = pct(commit, n, 99);
	r->cpu_us = cpu / (double)n * 1e6;
}

static long share(const struct config *c, int w)
{
	return c->messages / c->writers +
	       (w < c->messages % c->writers ? 1 : 0);
}

/* Runs one configuration once in queue qd. Files stay until the end of
 * the program: deleting them would slow the next run's file creation on
 * an ext4 without a journal (see bench/queue-bench.md). */
static void run_once(const struct config *c, struct queue_dir *qd,
		     const char *body, struct result *r)
{
	double *lat = mem_calloc((size_t)c->messages, sizeof(double));
	double *commit = mem_calloc((size_t)c->messages, sizeof(double));
	double *buf = mem_calloc(2 * (size_t)c->messages + 1, sizeof(double));
	int go[2], out[BENCH_MAX_WRITERS];
	double t_start, t_end = 0, cpu0;
	long done = 0;

	if (pipe(go) < 0)
		die("pipe", strerror(errno));
	for (int w = 0; w < c->writers; w++) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe", strerror(errno));
		if (fork() == 0) {
			close(go[1]);
			close(p[0]);
			writer(qd, c, share(c, w), go[0], p[1], body);
		}
		close(p[1]);
		out[w] = p[0];
	}
	close(go[0]);
	cpu0 = cpu_children();
	t_start = now_s();
	close(go[1]); /* EOF on go: every writer starts */
	for (int w = 0; w < c->writers; w++) {
		long count = share(c, w);
		read_all(out[w], buf, (2 * (size_t)count + 1) * sizeof(double));
		memcpy(lat + done, buf, (size_t)count * sizeof(double));
		memcpy(commit + done, buf + count,
		       (size_t)count * sizeof(double));
		if (buf[2 * count] > t_end)
			t_end = buf[2 * count];
		done += count;
		close(out[w]);
	}
	while (wait(NULL) > 0)
		;
	summarize(lat, commit, c->messages, t_end - t_start,
		  cpu_children() - cpu0, r);
	mem_free(lat);
	mem_free(commit);
	mem_free(buf);
}

static int cmp_rate(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return x->rate < y->rate ? -1 : x->rate > y->rate;
}

static void run_config(const struct config *c, struct queue_dir *qd,
		       const char *body)
{
	struct result *res = mem_calloc((size_t)c->runs, sizeof(*res));
	const struct result *m;

	for (int i = 0; i < c->runs; i++)
		run_once(c, qd, body, &res[i]);
	qsort(res, (size_t)c->runs, sizeof(*res), cmp_rate);
	m = &res[c->runs / 2];
	printf("| %s | %d | %ld | %.0f | %.2f | %.2f | %.3f | %.3f | %.0f |\n",
	       c->no_dir_sync ? "file fsync only" : "file + folder fsync",
	       c->writers, c->messages, m->rate, m->median_ms, m->p99_ms,
	       m->commit_median_ms, m->commit_p99_ms, m->cpu_us);
	fflush(stdout);
	mem_free(res);
}

static void usage(void)
{
	fprintf(stderr, "usage: queue-bench [-d DIR] [-n MESSAGES] [-s SIZE] "
			"[-r RUNS] [-w N[,N...]] [-m full|file-only|both]\n");
	exit(64);
}

/* Every mode and writer count asked for, as rows of one table. */
static void run_all(struct config *c, struct queue_dir *qd, const char *body,
		    const char *writers, const char *mode)
{
	printf("| mode | writers | messages | msg/s | median ms | p99 ms | "
	       "commit median ms | commit p99 ms | CPU us/msg |\n"
	       "|---|---|---|---|---|---|---|---|---|\n");
	for (int m = 0; m < 2; m++) {
		if ((m == 0 && strcmp(mode, "full") == 0) ||
		    (m == 1 && strcmp(mode, "file-only") == 0))
			continue;
		c->no_dir_sync = m == 0;
		for (const char *w = writers; *w != '\0';) {
			c->writers = atoi(w);
			if (c->writers < 1 || c->writers > BENCH_MAX_WRITERS ||
			    c->writers > c->messages)
				usage();
			run_config(c, qd, body);
			w += strcspn(w, ",");
			w += *w == ',';
		}
	}
}

int main(int argc, char **argv)
{
	struct config c = {
	    .dir = ".", .messages = 2000, .size = 4096, .runs = 3};
	const char *writers = "1,20", *mode = "both", *err;
	struct queue_dir *qd;
	struct str body, root;
	int opt;

	while ((opt = getopt(argc, argv, "d:n:s:r:w:m:")) != -1) {
		switch (opt) {
		case 'd':
			c.dir = optarg;
			break;
		case 'n':
			c.messages = atol(optarg);
			break;
		case 's':
			c.size = atol(optarg);
			break;
		case 'r':
			c.runs = atoi(optarg);
			break;
		case 'w':
			writers = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		default:
			usage();
		}
	}
	if (c.messages < 1 || c.size < 0 || c.runs < 1 ||
	    (strcmp(mode, "full") != 0 && strcmp(mode, "file-only") != 0 &&
	     strcmp(mode, "both") != 0))
		usage();
	str_init(&root, 0);
	str_printf(&root, "%s/queue-bench.%ld", c.dir, (long)getpid());
	if (queue_dir_create(root.data, &err) < 0 ||
	    queue_dir_open(root.data, &qd, &err) < 0)
		die(root.data, err);
	str_init(&body, (size_t)c.size);
	while (body.len < (size_t)c.size)
		str_append_cstr(&body,
				"The quick brown fox jumps over the "
				"lazy dog, again and again and again.\r\n");
	str_truncate(&body, (size_t)c.size);
	run_all(&c, qd, body.data, writers, mode);
	cleanup(&qd, root.data);
	str_deinit(&root);
	str_deinit(&body);
	return 0;
}
