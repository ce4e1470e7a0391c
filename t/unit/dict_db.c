/* t/unit/dict_db.c: tests for lib/dict_db.c (hash: and btree:): build,
 * lookup, duplicates, iterate, update/remove by copy and rename, readers'
 * snapshots, corrupt and truncated files, and files stored without the
 * trailing NUL (postmap -n). */
#include "config.h"

#include <db.h>

#include "dict_filetab.h"

/* Writes a table the way `postmap -n` does: keys and values without NUL. */
static void write_raw_db(const char *path, DBTYPE type)
{
	DBT k, v;
	DB *db;

	unlink(path);
	ok(db_create(&db, NULL, 0) == 0 &&
	       db->open(db, NULL, path, NULL, type, DB_CREATE, 0644) == 0,
	   "create raw table");
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = "nonul";
	k.size = 5;
	v.data = "value";
	v.size = 5;
	db->put(db, NULL, &k, &v, 0);
	db->close(db, 0);
}

static void check_raw_and_type(void)
{
	struct ft t;
	const char *err = NULL;
	struct dict *d;

	ft_init(&t, "hash", ".db", "raw");
	write_raw_db(t.file.data, DB_HASH);
	is_str(ft_get(&t, "nonul"), "value", "entry stored without NUL found");
	is_str(ft_get(&t, "NoNul"), "value", "and folded");
	is_str(ft_get(&t, "other"), "", "missing key in a no-NUL table");
	d = dict_open(t.spec.data, DICT_FLAG_WRITE, &err);
	is_int(dict_update(d, "added", "v2", &err), 1, "update a no-NUL table");
	dict_close(&d);
	is_str(ft_get(&t, "added"), "v2", "entry added in the table's form");
	is_str(ft_get(&t, "nonul"), "value", "old entry still found");

	/* a btree file opened as hash: clear error */
	write_raw_db(t.file.data, DB_BTREE);
	d = dict_open(t.spec.data, 0, &err);
	ok(d == NULL && err != NULL && strstr(err, "not a hash table") != NULL,
	   "btree file opened as hash: %s", err ? err : "(null)");
	dict_close(&d);
	ft_deinit(&t);
}

int main(void)
{
	ft_check_all("hash", ".db");
	ft_check_all("btree", ".db");
	check_raw_and_type();
	return tap_done();
}
