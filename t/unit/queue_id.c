/* t/unit/queue_id.c: tests for lib/queue_id.c: format, strict validation,
 * time decoding, string order = time order, and uniqueness of 2 processes
 * x 100,000 IDs made as fast as possible. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "queue_id.h"
#include "str.h"
#include "tap.h"

#define PER_PROC 100000

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_format(void)
{
	char id[QUEUE_ID_SIZE], id2[QUEUE_ID_SIZE];
	uint64_t t0 = now_usec(), t;

	queue_id_new(id);
	is_int(strlen(id), QUEUE_ID_LEN, "ID has 16 characters");
	ok(queue_id_valid(id), "new ID is valid: %s", id);
	ok(strspn(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == QUEUE_ID_LEN,
	   "only the base-32 alphabet");
	is_int(queue_id_time(id, &t), 1, "time decodes");
	ok(t >= t0 && t < t0 + 2000000, "time is now (%llu vs %llu)",
	   (unsigned long long)t, (unsigned long long)t0);
	queue_id_new(id2);
	ok(strcmp(id, id2) < 0, "next ID sorts after: %s < %s", id, id2);

	queue_id_make(1234567890123456ull, 4194303, id);
	is_int(queue_id_time(id, &t), 1, "made ID decodes");
	is_int((long long)t, 1234567890123456ll, "time round trip");
	queue_id_make((1ull << 55) - 1, (1u << 25) - 1, id);
	is_str(id, "ZZZZZZZZZZZZZZZZ", "largest ID");
	queue_id_make(0, 0, id);
	is_str(id, "0000000000000000", "smallest ID");
}

static void test_valid(void)
{
	static const char *const bad[] = {
	    "",
	    "000000000000000",
	    "00000000000000000",
	    "000000000000000a",
	    "000000000000000I",
	    "000000000000000L",
	    "000000000000000O",
	    "000000000000000U",
	    "00000000000000/0",
	    "..0000000000000",
	    "0000000000000000\n",
	    " 000000000000000",
	    "00000000.0000000",
	    "000000000000000-",
	};

	ok(!queue_id_valid(NULL), "NULL is not an ID");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!queue_id_valid(bad[i]), "rejects \"%s\"", bad[i]);
	ok(queue_id_valid("0123456789ABCDEF"), "accepts digits and letters");
	ok(queue_id_valid_mem("GHJKMNPQRSTVWXYZ", 16), "accepts the rest");
	ok(!queue_id_valid_mem("GHJKMNPQRSTVWXYZ", 15), "length counts");
	uint64_t t;
	is_int(queue_id_time("bad", &t), -1, "time of a bad ID fails");
}

/* Every adjacent pair of times, including digit/letter boundaries, keeps
 * its order as strings. */
static void test_order(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
	int bad = 0;

	for (uint64_t v = 0; v < 40000; v++) {
		queue_id_make(v, 7, a);
		queue_id_make(v + 1, 3, b);
		if (strcmp(a, b) >= 0)
			bad++;
	}
	for (uint64_t v = 1700000000000000ull; v < 1700000000040000ull; v++) {
		queue_id_make(v, 99999, a);
		queue_id_make(v + 1, 0, b);
		if (strcmp(a, b) >= 0)
			bad++;
	}
	is_int(bad, 0, "string order equals time order");
}

static void make_ids(void *arg)
{
	FILE *f = fopen(arg, "w");
	char id[QUEUE_ID_SIZE];

	if (f == NULL)
		exit(2);
	for (int i = 0; i < PER_PROC; i++) {
		queue_id_new(id);
		fwrite(id, 1, QUEUE_ID_LEN, f);
	}
	exit(fclose(f) == 0 ? 0 : 3);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, QUEUE_ID_LEN);
}

/* Reads one child's IDs into all (at offset) and checks they increase. */
static void check_child(const char *path, char *all, size_t offset, uint64_t t0,
			uint64_t t1)
{
	FILE *f = fopen(path, "r");
	size_t n =
	    f ? fread(all + offset, 1, (size_t)PER_PROC * QUEUE_ID_LEN, f) : 0;
	int unordered = 0, invalid = 0, late = 0;
	uint64_t t;

	if (f)
		fclose(f);
	is_int(n, (long long)PER_PROC * QUEUE_ID_LEN, "child wrote its IDs");
	for (size_t i = 0; i < PER_PROC; i++) {
		char id[QUEUE_ID_SIZE];
		memcpy(id, all + offset + i * QUEUE_ID_LEN, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (queue_id_time(id, &t) < 0) {
			invalid++;
			continue;
		}
		/* Up to one microsecond borrowed per ID ahead of the clock. */
		if (t < t0 || t > t1 + PER_PROC)
			late++;
		if (i > 0 && memcmp(all + offset + (i - 1) * QUEUE_ID_LEN, id,
				    QUEUE_ID_LEN) >= 0)
			unordered++;
	}
	is_int(invalid, 0, "every ID valid");
	is_int(unordered, 0, "each process's IDs strictly increase");
	is_int(late, 0, "times lie between start and end");
}

static void test_unique(void)
{
	const char *dir = tap_tmpdir();
	struct str p1, p2;
	char *all = mem_alloc((size_t)2 * PER_PROC * QUEUE_ID_LEN);
	uint64_t t0 = now_usec(), t1;
	pid_t c1, c2;
	int s1, s2, dups = 0;

	str_init(&p1, 0);
	str_init(&p2, 0);
	str_printf(&p1, "%s/ids1", dir);
	str_printf(&p2, "%s/ids2", dir);
	if ((c1 = fork()) == 0)
		make_ids(p1.data);
	if ((c2 = fork()) == 0)
		make_ids(p2.data);
	waitpid(c1, &s1, 0);
	waitpid(c2, &s2, 0);
	t1 = now_usec();
	ok(WIFEXITED(s1) && WEXITSTATUS(s1) == 0 && WIFEXITED(s2) &&
	       WEXITSTATUS(s2) == 0,
	   "both children made their IDs");
	check_child(p1.data, all, 0, t0, t1);
	check_child(p2.data, all, (size_t)PER_PROC * QUEUE_ID_LEN, t0, t1);
	qsort(all, (size_t)2 * PER_PROC, QUEUE_ID_LEN, cmp_id);
	for (size_t i = 1; i < (size_t)2 * PER_PROC; i++)
		if (memcmp(all + (i - 1) * QUEUE_ID_LEN, all + i * QUEUE_ID_LEN,
			   QUEUE_ID_LEN) == 0)
			dups++;
	is_int(dups, 0, "200,000 IDs from 2 processes are all distinct");
	mem_free(all);
	str_deinit(&p1);
	str_deinit(&p2);
}

int main(void)
{
	test_format();
	test_valid();
	test_order();
	test_unique();
	return tap_done();
}
