/* t/unit/maildir.c: tests for lib/maildir.c: folder creation, the
 * tmp -> new delivery, idempotency by key (in new/, and in cur/ after an
 * IMAP rename, only when asked), host name encoding, and errors. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "maildir.h"
#include "str.h"
#include "tap.h"

static int writes;

static int write_hello(void *ctx, int fd, const char **error_r)
{
	writes++;
	return file_write_all(fd, ctx, strlen(ctx), error_r);
}

static int write_fail(void *ctx, int fd, const char **error_r)
{
	(void)ctx;
	(void)fd;
	*error_r = "disk on fire";
	return -1;
}

static size_t count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(void)
{
	const char *dir = tap_tmpdir(), *err = NULL;
	struct str box, key, key2, p, q, data;
	struct maildir_delivery d = {.hostname = "mx/a:b",
				     .seconds = 1700000000};
	struct stat st;

	str_init(&box, 0);
	str_init(&key, 0);
	str_init(&key2, 0);
	str_init(&p, 0);
	str_init(&q, 0);
	str_init(&data, 0);
	str_printf(&box, "%s/store/example.org/alice", dir);

	maildir_key("1GA4GC208J00044J", "Alice@Example.org", &key);
	maildir_key("1GA4GC208J00044J", "alice@example.org", &key2);
	is_str(key.data, key2.data, "key ignores case");
	ok(strncmp(key.data, "Q1GA4GC208J00044JR", 18) == 0 && key.len == 34,
	   "key shape: %s", key.data);
	maildir_key("1GA4GC208J00044J", "bob@example.org", &key2);
	ok(strcmp(key.data, key2.data) != 0, "another recipient, another key");

	d.path = box.data;
	d.key = key.data;
	is_int(maildir_deliver(&d, write_hello, "hello\n", &err), 1,
	       "first delivery writes");
	str_printf(&p, "%s/new", box.data);
	is_int((long long)count(p.data), 1, "one file in new/");
	str_clear(&p);
	str_printf(&p, "%s/new/1700000000.%s.mx\\057a\\072b", box.data,
		   key.data);
	ok(stat(p.data, &st) == 0, "name is SECONDS.KEY.HOST, host encoded");
	is_int(st.st_mode & 0777, 0600, "mode 0600");
	is_int(file_read_all(p.data, &data, 0, &err), 1, "read back");
	is_str(data.data, "hello\n", "content");
	str_clear(&q);
	str_printf(&q, "%s/tmp", box.data);
	is_int((long long)count(q.data), 0, "tmp/ is empty afterwards");
	str_clear(&q);
	str_printf(&q, "%s/cur", box.data);
	ok(stat(q.data, &st) == 0 && S_ISDIR(st.st_mode), "cur/ created");

	writes = 0;
	is_int(maildir_deliver(&d, write_hello, "again\n", &err), 0,
	       "a retry finds the copy in new/");
	is_int(writes, 0, "and writes nothing");

	/* IMAP moved it to cur/ with flags. */
	str_clear(&q);
	str_printf(&q, "%s/cur/1700000000.%s.mx\\057a\\072b:2,S", box.data,
		   key.data);
	ok(rename(p.data, q.data) == 0, "move to cur/ with flags");
	d.check_cur = true;
	is_int(maildir_deliver(&d, write_hello, "again\n", &err), 0,
	       "a retry finds the copy in cur/");
	d.check_cur = false;
	is_int(maildir_deliver(&d, write_hello, "again\n", &err), 1,
	       "without check_cur, cur/ is not scanned");
	unlink(p.data);

	d.key = key2.data;
	is_int(maildir_deliver(&d, write_fail, NULL, &err), -1,
	       "a write error fails");
	ok(err != NULL && strstr(err, "disk on fire") != NULL, "error: %s",
	   err);
	str_clear(&q);
	str_printf(&q, "%s/tmp", box.data);
	is_int((long long)count(q.data), 0, "no leftover in tmp/");

	/* A folder that went missing is made again; a stale tmp/ file with
	 * this process's name goes first. */
	str_clear(&p);
	str_printf(&p, "%s/new", box.data);
	str_clear(&q);
	str_printf(&q, "%s/new.old", box.data);
	ok(rename(p.data, q.data) == 0, "new/ moved away");
	d.key = "Q1GA4GC208J00044JR0000000000000001";
	is_int(maildir_deliver(&d, write_hello, "x", &err), 1,
	       "delivered with new/ missing");
	is_int((long long)count(p.data), 1,
	       "new/ made again, with the message");
	str_clear(&q);
	str_printf(&q,
		   "%s/tmp/1700000000.Q1GA4GC208J00044JR0000000000000002."
		   "mx\\057a\\072b.P%ld",
		   box.data, (long)getpid());
	file_write_atomic(q.data, "stale", 5, 0600, &err);
	d.key = "Q1GA4GC208J00044JR0000000000000002";
	is_int(maildir_deliver(&d, write_hello, "fresh\n", &err), 1,
	       "delivered over a stale tmp/ file");
	str_clear(&p);
	str_printf(&p, "%s/new/1700000000.%s.mx\\057a\\072b", box.data, d.key);
	str_clear(&data);
	is_int(file_read_all(p.data, &data, 0, &err), 1, "read back");
	is_str(data.data, "fresh\n", "the new content, not the stale one");
	ok(access(q.data, F_OK) < 0, "the stale tmp/ file is gone");

	str_clear(&q);
	str_printf(&q, "%s/file", dir);
	file_write_atomic(q.data, "x", 1, 0600, &err);
	str_append_cstr(&q, "/box");
	d.path = q.data;
	is_int(maildir_deliver(&d, write_hello, "x", &err), -1,
	       "a file where a folder should be fails");
	ok(err != NULL && strstr(err, "create folder") != NULL, "error: %s",
	   err);

	str_deinit(&box);
	str_deinit(&key);
	str_deinit(&key2);
	str_deinit(&p);
	str_deinit(&q);
	str_deinit(&data);
	return tap_done();
}
