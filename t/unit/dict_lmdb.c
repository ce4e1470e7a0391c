/* t/unit/dict_lmdb.c: tests for lib/dict_lmdb.c: build, lookup,
 * duplicates, iterate, update/remove by copy and rename, readers'
 * snapshots, corrupt and truncated files (an error, never SIGBUS), no lock
 * file next to the table, and a build that outgrows the first map size. */
#include "config.h"

#include "dict_filetab.h"

static void check_lock_file_and_growth(void)
{
	static const char *const kv[] = {"a", "1", NULL};
	struct ft t;
	struct str lock, value;
	const char *err;
	struct dict_builder *b;
	int fd;

	ft_init(&t, "lmdb", ".lmdb", "grow");
	str_init(&lock, 0);
	str_init(&value, 0);
	str_printf(&lock, "%s-lock", t.file.data);
	ft_build(&t, 0, kv);
	is_str(ft_get(&t, "a"), "1", "small table");
	ok(access(lock.data, F_OK) != 0, "no lock file is created");

	/* a source of 1 MB gets a 64 MB map; 300,000 entries of 300 bytes
	 * need more than that, so the builder must grow the map */
	fd = open(t.src.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && ftruncate(fd, 1024 * 1024) == 0, "1 MB source");
	close(fd);
	b = t.ops->begin(t.src.data, 0, &err);
	str_set(&value, "", 0);
	while (value.len < 300)
		str_append_cstr(&value, "0123456789");
	for (int i = 0; i < 300000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "key%07d", (i * 7919) % 300000);
		if (t.ops->add(b, key, value.data, &err) != 1) {
			ok(0, "add %d: %s", i, err);
			break;
		}
	}
	is_int(t.ops->commit(b, &err), 1,
	       "commit of a table larger than the map");
	is_str(ft_get(&t, "key0299999"), value.data, "last key found");
	is_str(ft_get(&t, "key0000000"), value.data, "first key found");
	str_deinit(&lock);
	str_deinit(&value);
	ft_deinit(&t);
}

static void check_long_key(void)
{
	struct ft t;
	struct str key;
	const char *err = NULL;
	struct dict_builder *b;

	ft_init(&t, "lmdb", ".lmdb", "longkey");
	str_init(&key, 0);
	while (key.len < 600)
		str_append_cstr(&key, "k");
	b = t.ops->begin(t.src.data, 0, &err);
	is_int(t.ops->add(b, key.data, "v", &err), -1,
	       "key over 511 bytes fails");
	ok(err != NULL && strstr(err, "511") != NULL,
	   "error names the limit: %s", err ? err : "(null)");
	t.ops->abort(b);
	str_deinit(&key);
	ft_deinit(&t);
}

int main(void)
{
	ft_check_all("lmdb", ".lmdb");
	check_lock_file_and_growth();
	check_long_key();
	return tap_done();
}
