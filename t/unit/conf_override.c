/* t/unit/conf_override.c: tests for per-service overrides, conf_dup(),
 * conf_expand() with a daemon's own variables, and the getters' contract
 * (lib/conf.c, conf_get.c). */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "conf.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* From t/unit/conf_capture.c: sends stderr to a file until capture_end(),
 * which returns what was written, lines joined with '|'. */
void capture_start(void);
const char *capture_end(void);

static struct conf *parse(const char *text)
{
	const char *err;
	struct conf *c;

	capture_start();
	c = conf_parse_buffer("main.cf", text, strlen(text), 0, &err);
	capture_end();
	if (c == NULL)
		tap_diag("parse: %s", err);
	return c;
}

static void test_override(void)
{
	struct conf *c = parse("myhostname = mail.example.com\n"
			       "smtpd_timeout = 300s\n"
			       "banner_extra = hi\n");
	const char *err = NULL, *old_dest;

	old_dest = conf_get(c, "mydestination");
	is_int(conf_override(c, "smtpd_timeout", "10s", &err), 1, "override");
	is_int(conf_get_time(c, "smtpd_timeout"), 10, "override wins");
	ok(!conf_is_default(c, "smtpd_timeout"), "overridden is not default");
	is_int(conf_override(c, "myhostname", "mx.example.org", &err), 1,
	       "override a name others refer to");
	is_str(conf_get(c, "mydestination"),
	       "mx.example.org, localhost.example.org, localhost",
	       "expansion sees the override");
	is_str(conf_get(c, "mydomain"), "example.org",
	       "computed default sees the override");
	is_str(old_dest, "mail.example.com, localhost.example.com, localhost",
	       "a pointer from before stays readable");

	is_int(conf_override(c, "smtpd_timeout", "3x", &err), -1,
	       "bad override refused");
	ok(err && strstr(err, "override: smtpd_timeout: bad time value"),
	   "error names the override: %s", err);
	is_int(conf_get_time(c, "smtpd_timeout"), 10, "old value kept");
	is_int(conf_override(c, "mydomain", "$myhostname", &err), 1,
	       "override referring to another name");
	is_int(conf_override(c, "myhostname", "$mydomain", &err), -1,
	       "override making a loop is refused");
	ok(err && strstr(err, "expansion loop"), "loop error: %s", err);
	is_str(conf_get(c, "myhostname"), "mx.example.org",
	       "configuration unchanged after a refused override");
	is_int(conf_override(c, "bad name", "x", &err), -1, "bad name");
	is_int(conf_override(c, "smtpd_banner", "a\nb", &err), -1,
	       "line break in a value is refused");
	is_int(conf_override(c, "smtpd_banner", " $banner_extra ", &err), 1,
	       "override with a user-defined $name");
	is_str(conf_get(c, "smtpd_banner"), "hi", "blanks trimmed, expanded");
	is_int(conf_override(c, "my_own", "x", &err), 1,
	       "unknown names may be overridden");
	is_str(conf_lookup(c, "my_own"), "x", "and looked up");
	conf_free(&c);
	ok(c == NULL, "conf_free clears the pointer");
}

static void test_override_all(void)
{
	struct conf *c = parse("smtpd_timeout = 300s\n");
	const char *err = NULL;
	struct conf_setting together[] = {
	    {"smtpd_timeout", "$svc_timeout", "master.cf", 7},
	    {"svc_timeout", "42s", "master.cf", 8},
	};
	struct conf_setting bad[] = {
	    {"smtpd_recipient_limit", "5", "master.cf", 9},
	    {"smtpd_tls_auth_only", "perhaps", "master.cf", 10},
	};
	struct conf *copy;

	is_int(conf_override_all(c, together, 2, &err), 1,
	       "settings that refer to each other are applied together");
	is_int(conf_get_time(c, "smtpd_timeout"), 42, "and expand together");
	is_int(conf_override_all(c, bad, 2, &err), -1, "one bad value");
	ok(err && strstr(err, "master.cf:10: smtpd_tls_auth_only: bad boolean"),
	   "error names the file and line of the setting: %s", err);
	is_int(conf_get_int(c, "smtpd_recipient_limit"), 1000,
	       "none of the settings applied");

	copy = conf_dup(c);
	is_int(conf_get_time(copy, "smtpd_timeout"), 42, "dup keeps overrides");
	is_int(conf_override(copy, "smtpd_timeout", "1s", &err), 1,
	       "override the copy");
	is_int(conf_get_time(c, "smtpd_timeout"), 42, "original unchanged");
	conf_free(&copy);
	conf_free(&c);
}

static const char *vars(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "home") == 0)
		return "/home/u";
	if (strcmp(name, "extension") == 0)
		return "ext";
	return NULL;
}

static void test_expand(void)
{
	struct conf *c = parse("recipient_delimiter = +\n");
	struct str out;
	const char *err = NULL;

	str_init(&out, 64);
	is_int(conf_expand(c,
			   "$home/.forward${recipient_delimiter}${extension}",
			   vars, NULL, &out, &err),
	       1, "conf_expand with daemon variables");
	is_str(out.data, "/home/u/.forward+ext", "both kinds of names");
	str_clear(&out);
	is_int(conf_expand(c, "${mail_name} $$", NULL, NULL, &out, &err), 1,
	       "conf_expand without variables");
	is_str(out.data, "Postern $", "expanded");
	is_int(conf_expand(c, "${home", vars, NULL, &out, &err), -1,
	       "syntax error");
	ok(err && strstr(err, "missing '}'"), "error: %s", err);
	str_deinit(&out);
	conf_free(&c);
}

static struct conf *panic_conf;

static void get_unknown(void *arg)
{
	(void)arg;
	conf_get(panic_conf, "no_such_parameter");
}

static void get_wrong_type(void *arg)
{
	(void)arg;
	conf_get_int(panic_conf, "smtpd_timeout");
}

static void test_getters(void)
{
	panic_conf = parse("");
	is_int(tap_run_child(get_unknown, NULL), -SIGABRT,
	       "conf_get of a name not in the table panics");
	is_int(tap_run_child(get_wrong_type, NULL), -SIGABRT,
	       "conf_get_int of a time parameter panics");
	is_str(conf_get(panic_conf, "smtpd_timeout"), "300s",
	       "conf_get works for every type");
	conf_free(&panic_conf);
}

static void test_names(void)
{
	struct conf *c = parse("relayhost = a\nzz_mine = 1\nmyorigin = b\n");
	const char **names = conf_names_set(c);

	is_str(names[0], "myorigin", "names set, sorted (1)");
	is_str(names[1], "relayhost", "names set, sorted (2)");
	is_str(names[2], "zz_mine", "names set include unknown ones");
	ok(names[3] == NULL, "NULL-terminated");
	mem_free(names);
	is_str(conf_raw(c, "zz_mine"), "1", "raw of a user-defined name");
	is_str(conf_raw(c, "nope"), NULL, "raw of an undefined name");
	ok(conf_is_default(c, "smtpd_timeout"), "unset is default");
	ok(!conf_is_default(c, "relayhost"), "set is not default");
	conf_free(&c);
}

int main(void)
{
	test_override();
	test_override_all();
	test_expand();
	test_getters();
	test_names();
	return tap_done();
}
