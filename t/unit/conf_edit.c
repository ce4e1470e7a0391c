/* t/unit/conf_edit.c: tests for in-place main.cf edits (lib/conf_edit.c):
 * what is kept byte for byte, what is replaced or removed, and that a bad
 * edit leaves the file alone. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_edit.h"
#include "file.h"
#include "str.h"
#include "tap.h"

static void edits_to(const char *text, const struct conf_edit *edits, size_t n,
		     const char *want, const char *name)
{
	struct str out;
	const char *err = NULL;

	str_init(&out, 256);
	if (conf_edit_text(text, strlen(text), edits, n, &out, &err) < 0)
		tap_diag("edit failed: %s", err);
	is_str(out.data, want, name);
	str_deinit(&out);
}

static void test_text(void)
{
	const char *base = "# top comment\n"
			   "relayhost = old\n"
			   "myorigin_extra = keep\n"
			   "mydestination = a,\n"
			   "    b,\n"
			   "# inside\n"
			   "\tc\n"
			   "\n"
			   "myorigin=x\n";
	struct conf_edit relay = {"relayhost", "[new]:25"};
	struct conf_edit dest = {"mydestination", "d"};
	struct conf_edit origin = {"myorigin", "y"};
	struct conf_edit fresh = {"smtpd_timeout", " 5m "};
	struct conf_edit empty = {"relayhost", ""};
	struct conf_edit rm_dest = {"mydestination", NULL};
	struct conf_edit rm_none = {"nothing_set", NULL};
	struct conf_edit twice[] = {{"relayhost", "first"},
				    {"relayhost", "second"}};

	edits_to(base, &relay, 1,
		 "# top comment\nrelayhost = [new]:25\nmyorigin_extra = keep\n"
		 "mydestination = a,\n    b,\n# inside\n\tc\n\nmyorigin=x\n",
		 "replace one line, keep everything else");
	edits_to(base, &dest, 1,
		 "# top comment\nrelayhost = old\nmyorigin_extra = keep\n"
		 "mydestination = d\n# inside\n\nmyorigin=x\n",
		 "replace a continued line, comments kept");
	edits_to(base, &origin, 1,
		 "# top comment\nrelayhost = old\nmyorigin_extra = keep\n"
		 "mydestination = a,\n    b,\n# inside\n\tc\n\nmyorigin = y\n",
		 "name=value without blanks matched, prefix names not");
	edits_to(base, &fresh, 1,
		 "# top comment\nrelayhost = old\nmyorigin_extra = keep\n"
		 "mydestination = a,\n    b,\n# inside\n\tc\n\nmyorigin=x\n"
		 "smtpd_timeout = 5m\n",
		 "a new name is appended, value trimmed");
	edits_to("relayhost = a", &fresh, 1,
		 "relayhost = a\nsmtpd_timeout = 5m\n",
		 "a missing final newline is added first");
	edits_to("relayhost = a\n", &empty, 1, "relayhost =\n", "empty value");
	edits_to(base, &rm_dest, 1,
		 "# top comment\nrelayhost = old\nmyorigin_extra = keep\n"
		 "# inside\n\nmyorigin=x\n",
		 "remove a continued line");
	edits_to(base, &rm_none, 1, base, "removing an unset name: no change");
	edits_to("relayhost = a\nx = 1\nrelayhost = b\n", &relay, 1,
		 "relayhost = [new]:25\nx = 1\n",
		 "later duplicates go, so the edit takes effect");
	edits_to("relayhost = a\n", twice, 2, "relayhost = second\n",
		 "the last edit of a name counts");
	edits_to("", twice, 2, "relayhost = second\n",
		 "appending: the last edit of a name counts");
}

static void test_bad(void)
{
	struct str out;
	const char *err = NULL;
	struct conf_edit newline = {"relayhost", "a\nmynetworks = 0/0"};
	struct conf_edit badname = {"relay host", "a"};

	str_init(&out, 64);
	is_int(conf_edit_text("", 0, &newline, 1, &out, &err), -1,
	       "a value with a line break is refused");
	ok(err && strstr(err, "relayhost"), "error: %s", err);
	is_int(conf_edit_text("", 0, &badname, 1, &out, &err), -1,
	       "a bad name is refused");
	str_deinit(&out);
}

static void test_file(void)
{
	const char *dir = tap_tmpdir(), *err = NULL;
	struct str path, link, data;
	struct stat st;
	struct conf_edit good = {"smtpd_timeout", "5m"};
	struct conf_edit bad = {"smtpd_timeout", "3x"};
	const char *orig = "# mine\nrelayhost = a\n";

	str_init(&path, 64);
	str_init(&link, 64);
	str_init(&data, 64);
	str_printf(&path, "%s/main.cf", dir);
	str_printf(&link, "%s/link.cf", dir);
	file_write_atomic(path.data, orig, strlen(orig), 0640, &err);

	is_int(conf_edit_file(path.data, &bad, 1, &err), -1, "bad value");
	ok(err && strstr(err, "bad time value") && strstr(err, "not changed"),
	   "error says why and that nothing changed: %s", err);
	file_read_all(path.data, &data, 0, &err);
	is_str(data.data, orig, "file unchanged after a bad edit");

	is_int(conf_edit_file(path.data, &good, 1, &err), 1, "good edit");
	str_clear(&data);
	file_read_all(path.data, &data, 0, &err);
	is_str(data.data, "# mine\nrelayhost = a\nsmtpd_timeout = 5m\n",
	       "file edited");
	stat(path.data, &st);
	is_int(st.st_mode & 0777, 0640, "mode kept");

	ok(symlink(path.data, link.data) == 0, "make symlink");
	good.value = "7m";
	is_int(conf_edit_file(link.data, &good, 1, &err), 1, "edit by link");
	ok(lstat(link.data, &st) == 0 && S_ISLNK(st.st_mode),
	   "the link is still a link");
	str_clear(&data);
	file_read_all(path.data, &data, 0, &err);
	ok(strstr(data.data, "smtpd_timeout = 7m") != NULL,
	   "its target was edited");

	unlink(path.data);
	unlink(link.data);
	is_int(conf_edit_file(path.data, &good, 1, &err), 1,
	       "a missing main.cf is created");
	str_clear(&data);
	file_read_all(path.data, &data, 0, &err);
	is_str(data.data, "smtpd_timeout = 7m\n", "with the one setting");

	str_clear(&path);
	str_printf(&path, "%s/no/such/dir/main.cf", dir);
	is_int(conf_edit_file(path.data, &good, 1, &err), -1,
	       "a missing directory is an error");
	str_deinit(&path);
	str_deinit(&link);
	str_deinit(&data);
}

int main(void)
{
	test_text();
	test_bad();
	test_file();
	return tap_done();
}
