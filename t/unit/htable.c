/* t/unit/htable.c: tests for lib/htable.c: insert/find/remove, growth,
 * removal inside probe runs, iteration, and the keyed hash. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "mem.h"
#include "tap.h"

static int freed;

static void count_free(void *value)
{
	freed++;
	mem_free(value);
}

static void test_basic(void)
{
	struct htable *t = htable_new(0);
	void *v = NULL;
	int one = 1, two = 2;

	is_int(htable_count(t), 0, "new table is empty");
	is_int(htable_find(t, "a", &v), 0, "find in empty table");
	is_int(htable_insert(t, "a", &one), 1, "insert");
	is_int(htable_insert(t, "a", &two), 0, "duplicate insert refused");
	is_int(htable_find(t, "a", &v), 1, "find");
	ok(v == &one, "duplicate kept the first value");
	is_int(htable_insert(t, "", &two), 1, "empty key is a key");
	is_int(htable_find(t, "", &v), 1, "find empty key");
	ok(v == &two, "empty key value");
	is_int(htable_find(t, "A", NULL), 0, "keys are case-sensitive");
	is_int(htable_remove(t, "a", &v), 1, "remove");
	ok(v == &one, "remove hands back the value");
	is_int(htable_remove(t, "a", NULL), 0, "remove twice");
	is_int(htable_count(t), 1, "count after remove");
	htable_free(&t, NULL);
	ok(t == NULL, "free NULLs the pointer");
	htable_free(&t, NULL);
}

/* Many keys: growth, removal of every other key (which moves entries back
 * inside probe runs), and iteration seeing each remaining key once. */
static void test_many(void)
{
	enum { N = 20000 };
	struct htable *t = htable_new(N);
	struct htable_iter it;
	char key[32];
	const char *k;
	void *v;
	int bad = 0, seen = 0;

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		if (htable_insert(t, key, mem_strdup(key)) != 1)
			bad++;
	}
	is_int(bad, 0, "20000 distinct inserts");
	is_int(htable_count(t), N, "count");
	for (int i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key-%d", i);
		if (htable_remove(t, key, &v) != 1)
			bad++;
		else
			mem_free(v);
	}
	is_int(bad, 0, "every other key removed");
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		v = NULL;
		if (htable_find(t, key, &v) != (i % 2) ||
		    (v != NULL && strcmp(v, key) != 0))
			bad++;
	}
	is_int(bad, 0, "odd keys found with their values, even keys gone");
	htable_iter_init(&it);
	while (htable_next(t, &it, &k, &v)) {
		seen++;
		if (strcmp(k, v) != 0)
			bad++;
	}
	is_int(seen, N / 2, "iteration visits every entry once");
	is_int(bad, 0, "iteration pairs keys with values");
	freed = 0;
	htable_free(&t, count_free);
	is_int(freed, N / 2, "free calls free_value on each value");
}

static void test_hash(void)
{
	unsigned long long a = htable_hash("abc", 3), b = htable_hash("abc", 3);

	ok(a == b, "hash is stable within a process");
	ok(htable_hash("abc", 3) != htable_hash("abd", 3), "hash differs");
	ok(htable_hash("", 0) != htable_hash("\0", 1), "length is hashed");
}

int main(void)
{
	test_basic();
	test_many();
	test_hash();
	return tap_done();
}
