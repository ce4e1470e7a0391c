/* t/unit/conf.c: tests for main.cf syntax, $name expansion, warnings, limits
 * and reading files (lib/conf.c, conf_expand.c, conf_lines.c). */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "file.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* From t/unit/conf_capture.c: sends stderr to a file until capture_end(),
 * which returns what was written, lines joined with '|'. */
void capture_start(void);
const char *capture_end(void);

static const char *last_error;

/* Parses text as "main.cf" (warnings allowed); NULL on error. */
static struct conf *parse(const char *text)
{
	last_error = NULL;
	return conf_parse_buffer("main.cf", text, strlen(text), 0, &last_error);
}

/* Parses text that must fail; checks the error contains want. */
static void parse_fails(const char *text, const char *want, const char *name)
{
	struct conf *c;

	capture_start();
	c = parse(text);
	capture_end();
	ok(c == NULL, "%s: rejected", name);
	ok(last_error != NULL && strstr(last_error, want) != NULL,
	   "%s: error \"%s\" contains \"%s\"", name,
	   last_error ? last_error : "(none)", want);
	conf_free(&c);
}

/* The expanded value of name in text ("" when the parse fails). */
static void expands_to(const char *text, const char *name, const char *want)
{
	struct conf *c;
	struct str label;
	const char *v;

	capture_start();
	c = parse(text);
	capture_end();
	v = c ? conf_lookup(c, name) : "(parse failed)";
	/* The text is the test name, on one line. */
	str_init(&label, 64);
	for (const char *p = text; *p != '\0' && label.len < 70; p++)
		str_append_cstr(&label, *p == '\n' ? "\\n" : (char[]){*p, 0});
	str_printf(&label, " -> %s", name);
	is_str(v, want, label.data);
	str_deinit(&label);
	if (c == NULL)
		tap_diag("error: %s", last_error);
	conf_free(&c);
}

static void test_syntax(void)
{
	struct conf *c;
	const char *w;

	expands_to("myorigin=example.com", "myorigin", "example.com");
	expands_to("myorigin \t=\t example.com \t", "myorigin", "example.com");
	expands_to("relayhost =", "relayhost", "");
	expands_to("# comment\n   # indented comment\n\nrelayhost = a\n",
		   "relayhost", "a");
	expands_to("smtpd_banner = hello # not a comment", "smtpd_banner",
		   "hello # not a comment");
	expands_to("mydestination = a,\n  b,\n\tc\n", "mydestination",
		   "a, b, c");
	expands_to("mydestination = a,\n# between\n  b\n", "mydestination",
		   "a, b");
	expands_to("mydestination = a,\n\n  b\n", "mydestination", "a, b");
	expands_to("relayhost = a\r\nmyorigin = b\r\n", "relayhost", "a");
	expands_to("relayhost = a\r\nmyorigin = b\r\n", "myorigin", "b");
	expands_to("relayhost = a", "relayhost", "a"); /* no final newline */

	parse_fails("relayhost = a\nthis line has no equals\n",
		    "main.cf:2: missing '=' after \"this\"", "missing =");
	parse_fails("just_a_name\n", "main.cf:1: missing '='", "name only");
	parse_fails("relay-host = a\n", "main.cf:1: bad parameter name",
		    "bad name");
	parse_fails("= value\n", "main.cf:1: bad parameter name", "no name");
	parse_fails("  relayhost = a\n", "main.cf:1: continuation line",
		    "continuation first");
	capture_start();
	c = conf_parse_buffer("main.cf", "relayhost = a\nb\0c = d\n", 20, 0,
			      &last_error);
	capture_end();
	ok(c == NULL && strstr(last_error, "main.cf:2: NUL byte") != NULL,
	   "NUL byte refused: %s", last_error);
	parse_fails("relayhost = \033[31m\n", "main.cf:1: control character",
		    "escape byte");

	capture_start();
	c = parse("relayhost = a\nrelayhost = b\n");
	w = capture_end();
	is_str(c ? conf_get(c, "relayhost") : NULL, "b",
	       "the last setting wins");
	ok(strstr(w, "main.cf:2: relayhost is set again; this overrides "
		     "line 1") != NULL,
	   "duplicate warned: %s", w);
	conf_free(&c);
}

static void test_unknown(void)
{
	struct conf *c;
	const char *w;

	capture_start();
	c = parse("foo = bar\nmy_extra = x\nmyorigin = $my_extra\n");
	w = capture_end();
	ok(c != NULL, "unknown names are not an error");
	ok(strstr(w, "main.cf:1: unknown parameter foo") != NULL,
	   "unknown name warned: %s", w);
	ok(strstr(w, "my_extra") == NULL, "a name that is used is not warned");
	is_str(conf_lookup(c, "foo"), "bar", "unknown name has its value");
	is_str(conf_get(c, "myorigin"), "x", "user-defined name expands");
	is_str(conf_lookup(c, "nothing_here"), NULL, "undefined name is NULL");
	conf_free(&c);

	capture_start();
	c = conf_parse_buffer("main.cf", "foo = bar\n", 10, CONF_NO_WARN,
			      &last_error);
	w = capture_end();
	is_str(w, "", "CONF_NO_WARN keeps quiet");
	conf_free(&c);

	capture_start();
	c = parse("myorigin = a$nope.b\n");
	w = capture_end();
	is_str(c ? conf_get(c, "myorigin") : NULL, "a.b",
	       "undefined $name expands to nothing");
	ok(strstr(w, "main.cf:1: myorigin: undefined parameter $nope") != NULL,
	   "undefined name warned: %s", w);
	conf_free(&c);
}

static void test_expansion(void)
{
	expands_to("a = 1\nmyorigin = $a", "myorigin", "1");
	expands_to("a = 1\nmyorigin = x${a}y", "myorigin", "x1y");
	expands_to("myorigin = $$a $$$$", "myorigin", "$a $$");
	expands_to("myorigin = cost $", "myorigin", "cost $");
	expands_to("myorigin = a$-b", "myorigin", "a$-b");
	expands_to("a = $b\nb = $c\nc = deep\nmyorigin = <$a>", "myorigin",
		   "<deep>");
	expands_to("myorigin = $c\nc = later", "myorigin", "later");
	expands_to("a = x\nmyorigin = ${a?set}", "myorigin", "set");
	expands_to("a =\nmyorigin = ${a?set}", "myorigin", "");
	expands_to("a =\nmyorigin = ${a:unset}", "myorigin", "unset");
	expands_to("a = x\nmyorigin = ${a:unset}", "myorigin", "");
	expands_to("myorigin = ${undefined_x:none}", "myorigin", "none");
	expands_to("a = x\nb = y\nmyorigin = ${a?[$b ${b?{nested}}]}",
		   "myorigin", "[y {nested}]");
	expands_to("myhostname = h.example\nmyorigin = $mydomain", "myorigin",
		   "example");

	parse_fails("a = $b\nb = $a\nmyorigin = $a",
		    "expansion loop: $a -> $b -> $a", "loop of two");
	parse_fails("a = $b\nb = $a\n", "main.cf:2: b: expansion loop",
		    "loop names file, line, parameter");
	parse_fails("myorigin = $myorigin",
		    "main.cf:1: myorigin: expansion loop", "self reference");
	parse_fails("myorigin = ${x?$myorigin}\nx = 1", "expansion loop",
		    "loop through a condition");
	parse_fails("mydomain = $myhostname\nmyhostname = $mydomain",
		    "expansion loop", "loop between table parameters");
	parse_fails("myorigin = ${a", "main.cf:1: myorigin: missing '}'",
		    "missing brace");
	parse_fails("myorigin = ${a b}", "bad parameter reference",
		    "blank in reference");
	parse_fails("myorigin = ${}", "bad parameter reference",
		    "empty reference");
}

static void test_limits(void)
{
	struct str text;
	int i;

	/* A chain deeper than CONF_DEPTH_MAX. */
	str_init(&text, 4096);
	for (i = 0; i < CONF_DEPTH_MAX + 10; i++)
		str_printf(&text, "p%d = $p%d\n", i, i + 1);
	str_printf(&text, "p%d = end\n", i);
	parse_fails(text.data, "nested more than 100 deep", "depth limit");

	/* A chain of CONF_DEPTH_MAX / 2 is fine. */
	str_clear(&text);
	for (i = 0; i < CONF_DEPTH_MAX / 2; i++)
		str_printf(&text, "p%d = $p%d\n", i, i + 1);
	str_printf(&text, "p%d = end\nmyorigin = $p0\n", i);
	expands_to(text.data, "myorigin", "end");

	/* One value beyond CONF_VALUE_MAX: 2000 copies of 1000 bytes. */
	str_clear(&text);
	str_append_cstr(&text, "b = ");
	for (i = 0; i < 1000; i++)
		str_putc(&text, 'x');
	str_append_cstr(&text, "\nmyorigin = ");
	for (i = 0; i < 2000; i++)
		str_append_cstr(&text, "$b");
	parse_fails(text.data, "expanded value is longer than 1048576 bytes",
		    "value size limit");

	/* Many values under the limit but over the total. */
	str_clear(&text);
	str_append_cstr(&text, "b = ");
	for (i = 0; i < 1000; i++)
		str_putc(&text, 'x');
	str_append_cstr(&text, "\nc =");
	for (i = 0; i < 1000; i++)
		str_append_cstr(&text, " $b");
	for (i = 0; i < 40; i++)
		str_printf(&text, "\nd%d = $c", i);
	parse_fails(text.data, "all expanded values together are longer",
		    "total size limit");

	/* A physical line over CONF_LINE_MAX, and a logical one. */
	str_clear(&text);
	str_append_cstr(&text, "relayhost = a\nmyorigin = ");
	for (i = 0; i < 70000; i++)
		str_putc(&text, 'y');
	parse_fails(text.data, "main.cf:2: line is longer than 65536 bytes",
		    "line length limit");
	str_clear(&text);
	str_append_cstr(&text, "relayhost = a\nmyorigin = a\n");
	for (i = 0; i < 3000; i++)
		str_append_cstr(&text, " continued continued continued\n");
	parse_fails(text.data, "main.cf:2: logical line is longer than",
		    "logical line length limit");
	str_deinit(&text);
}

static void write_file(const char *path, const char *data, size_t len)
{
	const char *err;

	if (file_write_atomic(path, data, len, 0644, &err) < 0)
		tap_diag("write %s: %s", path, err);
}

/* Child: drops to nobody and expects "Permission denied" (exit 0). */
static void load_as_nobody(void *arg)
{
	const char *err = NULL;
	struct conf *c;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(3);
	c = conf_load(arg, &err);
	_exit(c == NULL && strstr(err, "Permission denied") ? 0 : 1);
}

static void test_files(void)
{
	const char *dir = tap_tmpdir();
	struct str path, big;
	struct conf *c;
	const char *err = NULL;

	str_init(&path, 64);
	str_printf(&path, "%s/main.cf", dir);
	write_file(path.data, "relayhost = [mx.example]\n", 25);
	c = conf_load(path.data, &err);
	ok(c != NULL, "load a file");
	is_str(c ? conf_get(c, "relayhost") : NULL, "[mx.example]", "value");
	is_str(c ? conf_get(c, "config_directory") : NULL, dir,
	       "config_directory defaults to the file's directory");
	ok(c && strstr(conf_get(c, "users_table"), dir) != NULL,
	   "users_table is under config_directory");
	conf_free(&c);
	c = conf_load_dir(dir, &err);
	ok(c != NULL, "conf_load_dir reads DIR/main.cf");
	conf_free(&c);

	write_file(path.data, "relayhost = a\nsmtpd_timeout = 3x\n", 33);
	c = conf_load(path.data, &err);
	ok(c == NULL && strstr(err, path.data) && strstr(err, ":2: "),
	   "errors name the file and line: %s", err);

	str_init(&big, 11 * 1024 * 1024);
	str_append_cstr(&big, "myorigin = ");
	while (big.len < 10 * 1024 * 1024)
		str_append_cstr(&big, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	write_file(path.data, big.data, big.len);
	c = conf_load(path.data, &err);
	ok(c == NULL && strstr(err, ":1: line is longer than"),
	   "a 10 MB line is refused: %.100s", err);
	str_deinit(&big);

	static const char junk[] = "\x7f"
				   "ELF\x02\x01\x01\0\0\0junk";
	write_file(path.data, junk, sizeof(junk) - 1);
	c = conf_load(path.data, &err);
	ok(c == NULL && strstr(err, path.data) && strstr(err, ":1: "),
	   "binary junk is refused: %s", err);

	unlink(path.data);
	c = conf_load(path.data, &err);
	ok(c == NULL && strstr(err, path.data) && strstr(err, "No such file"),
	   "missing file: %s", err);
	c = conf_load(dir, &err);
	ok(c == NULL && strstr(err, "not a regular file"), "directory: %s",
	   err);
	write_file(path.data, "relayhost = a\n", 14);
	chmod(path.data, 0);
	if (geteuid() == 0) {
		/* root reads mode 000 files: load it as nobody in a child */
		chmod(dir, 0755);
		is_int(tap_run_child(load_as_nobody, path.data), 0,
		       "unreadable file (as nobody) is refused");
	} else {
		c = conf_load(path.data, &err);
		ok(c == NULL && strstr(err, "Permission denied"),
		   "unreadable file: %s", err);
	}
	str_deinit(&path);
}

static void test_conf_dir(void)
{
	unsetenv("POSTERN_CONFIG");
	is_str(conf_dir("/x"), "/x", "conf_dir: the override wins");
	is_str(conf_dir(NULL), SYSCONFDIR, "conf_dir: built-in default");
	setenv("POSTERN_CONFIG", "/from/env", 1);
	is_str(conf_dir(NULL), "/from/env", "conf_dir: $POSTERN_CONFIG");
	is_str(conf_dir("/x"), "/x", "conf_dir: override beats environment");
	setenv("POSTERN_CONFIG", "", 1);
	is_str(conf_dir(NULL), SYSCONFDIR, "conf_dir: empty variable ignored");
	unsetenv("POSTERN_CONFIG");
}

int main(void)
{
	test_syntax();
	test_unknown();
	test_expansion();
	test_limits();
	test_files();
	test_conf_dir();
	return tap_done();
}
