/* t/unit/auth_users.c: tests for lib/users.c: login names to canonical
 * addresses, hashing and verifying (the dummy hash for unknown users),
 * and the table file: load, edit, save (mode 0600), errors with
 * file:line. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "str.h"
#include "tap.h"
#include "users.h"

static void test_canonical(void)
{
	struct str out;
	const char *err;

	str_init(&out, 0);
	is_int(users_canonical("Alice", 5, "Example.org", &out, &err), 1,
	       "bare name");
	is_str(out.data, "alice@example.org", "qualified and lower-cased");
	is_int(users_canonical("Bob@EXAMPLE.NET", 15, "x", &out, &err), 1,
	       "full address");
	is_str(out.data, "bob@example.net", "lower-cased");
	is_int(users_canonical("a b@x.org", 9, "x", &out, &err), -1, "space");
	is_int(users_canonical("a@[192.0.2.1]", 13, "x", &out, &err), -1,
	       "address literal");
	is_int(users_canonical("a\n@x.org", 8, "x", &out, &err), -1, "LF");
	is_int(users_canonical("", 0, "x", &out, &err), -1, "empty");
	is_int(users_canonical("alice", 5, "", &out, &err), -1,
	       "bare name without a default domain");
	str_deinit(&out);
}

static void test_hash(void)
{
	struct str h;
	const char *err;

	str_init(&h, 0);
	is_int(users_password_hash("pw one", &h, &err), 1, "hash");
	ok(strncmp(h.data, "$y$", 3) == 0 || strncmp(h.data, "$6$", 3) == 0,
	   "yescrypt or SHA-512-crypt: %s", h.data);
	is_int(users_password_verify(h.data, "pw one"), 1, "right password");
	is_int(users_password_verify(h.data, "pw two"), 0, "wrong password");
	is_int(users_password_verify(h.data, ""), 0, "empty password");
	is_int(users_password_verify(NULL, "pw one"), 0,
	       "no user: never a match");
	is_int(users_password_verify("*", "pw one"), 0, "locked hash");
	is_int(users_password_verify("", ""), 0, "empty hash");
	str_deinit(&h);
}

static void test_table(void)
{
	struct str path, text;
	struct users *u;
	struct stat st;
	const char *err;

	str_init(&path, 0);
	str_init(&text, 0);
	str_printf(&path, "%s/users", tap_tmpdir());
	is_int(users_load(path.data, &u, &err), 1, "missing file");
	is_int((long long)users_count(u), 0, "is empty");
	users_set(u, "a@x.org", "$6$h1", false, 0);
	users_set(u, "b@x.org", "$6$h2", true, 1000);
	users_set(u, "a@x.org", "$6$h3", false, 0);
	is_int((long long)users_count(u), 2, "replace keeps one entry");
	is_int(users_save(u, path.data, &err), 1, "save");
	users_free(&u);
	ok(u == NULL, "free NULLs the pointer");
	ok(stat(path.data, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "mode 0600");
	is_int(users_load(path.data, &u, &err), 1, "load");
	is_str(users_find(u, "a@x.org")->hash, "$6$h3", "hash replaced");
	is_int((long long)users_find(u, "b@x.org")->quota, 1000, "quota");
	ok(users_find(u, "c@x.org") == NULL, "unknown address");
	is_int(users_delete(u, "a@x.org"), 1, "delete");
	is_int(users_delete(u, "a@x.org"), 0, "delete again");
	is_str(users_at(u, 0)->address, "b@x.org", "the other stays");
	users_free(&u);

	str_set(&text, "# c\nx@y.org $6$a quota=5\nbad@y.org $6$b quota=x\n",
		48);
	file_write_atomic(path.data, text.data, text.len, 0600, &err);
	is_int(users_load(path.data, &u, &err), -1, "bad quota");
	ok(strstr(err, "users:3:") != NULL, "error names file:line: %s", err);
	ok(u == NULL, "nothing returned on error");
	is_str(users_table_path("texthash:/a/b", &err), "/a/b", "table path");
	ok(users_table_path("hash:/a/b", &err) == NULL, "other types refused");
	str_deinit(&path);
	str_deinit(&text);
}

int main(void)
{
	test_canonical();
	test_hash();
	test_table();
	return tap_done();
}
