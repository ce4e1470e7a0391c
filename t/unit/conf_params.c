/* t/unit/conf_params.c: tests for the parameter table and the typed checks
 * (lib/conf_params.c, conf_value.c): units, ranges, choices, lists,
 * defaults, and defaults that depend on compatibility_level. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_internal.h"
#include "conf_params.h"
#include "tap.h"

/* From t/unit/conf_capture.c: sends stderr to a file until capture_end(),
 * which returns what was written, lines joined with '|'. */
void capture_start(void);
const char *capture_end(void);

static const char *last_error;

static struct conf *parse(const char *text)
{
	struct conf *c;

	capture_start();
	c = conf_parse_buffer("main.cf", text, strlen(text), 0, &last_error);
	capture_end();
	return c;
}

static void value_fails(const char *text, const char *want)
{
	struct conf *c = parse(text);
	char label[80];

	snprintf(label, sizeof(label), "%s", text);
	for (char *p = label; *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';
	ok(c == NULL && last_error && strstr(last_error, want),
	   "%s: refused with \"%s\" (%s)", label, want,
	   c ? "accepted" : last_error);
	conf_free(&c);
}

static void test_table(void)
{
	size_t n = conf_param_count();
	bool sorted = true, typed = true;

	ok(n > 100, "the table has %zu parameters", n);
	for (size_t i = 1; i < n; i++)
		if (strcmp(conf_param_at(i - 1)->name,
			   conf_param_at(i)->name) >= 0)
			sorted = false;
	ok(sorted, "conf_param_at() is in name order without duplicates");
	for (size_t i = 0; i < n; i++) {
		const struct conf_param *p = conf_param_at(i);
		if ((p->type == CONF_INT || p->type == CONF_TIME ||
		     p->type == CONF_SIZE) &&
		    p->min > p->max)
			typed = false;
		if (p->def == NULL && p->dynamic == CONF_DYN_NONE)
			typed = false;
	}
	ok(typed, "every parameter has a default and a sane range");
	ok(conf_param_find("myhostname") != NULL, "find a parameter");
	ok(conf_param_find("no_such_parameter") == NULL, "unknown is NULL");
	ok(conf_param_find("myhostnam") == NULL, "no prefix matches");
}

static void test_defaults(void)
{
	struct conf *c = parse("");

	ok(c != NULL, "built-in defaults are valid: %s", c ? "" : last_error);
	if (c == NULL)
		return;
	is_int(conf_get_int(c, "compatibility_level"), 1, "level 1 by default");
	ok(conf_is_default(c, "compatibility_level"), "and it is a default");
	ok(strchr(conf_get(c, "myhostname"), '.') != NULL,
	   "myhostname is fully qualified: %s", conf_get(c, "myhostname"));
	is_str(conf_raw(c, "mydestination"),
	       "$myhostname, localhost.$mydomain, localhost",
	       "raw default keeps $names");
	ok(strncmp(conf_get(c, "mydestination"), conf_get(c, "myhostname"),
		   strlen(conf_get(c, "myhostname"))) == 0,
	   "mydestination expands $myhostname");
	is_str(conf_get(c, "mynetworks"), "127.0.0.1/32 [::1]/128",
	       "mynetworks is loopback");
	is_int(conf_get_size(c, "message_size_limit"), 10240000, "size");
	is_int(conf_get_time(c, "maximal_queue_lifetime"), 5 * 86400,
	       "5d in seconds");
	is_int(conf_get_time(c, "imapd_idle_timeout"), 1800, "30m");
	ok(!conf_get_bool(c, "smtpd_sasl_auth_enable"), "bool no");
	ok(conf_get_bool(c, "smtpd_delay_reject"), "bool yes");
	is_int(conf_get_int(c, "default_process_limit"), 100, "int");
	is_str(conf_get(c, "config_directory"), SYSCONFDIR,
	       "config_directory of a buffer is SYSCONFDIR");
	is_str(conf_get(c, "alias_maps"), "hash:/etc/aliases",
	       "alias_maps follows default_database_type");
	conf_free(&c);

	c = parse("myhostname = mail.example.com\n"
		  "smtpd_tls_cert_file = /c.pem\n");
	is_str(conf_get(c, "mydomain"), "example.com", "mydomain from host");
	is_str(conf_get(c, "imapd_tls_cert_file"), "/c.pem",
	       "imapd certificate defaults to smtpd's");
	is_str(conf_get(c, "imapd_tls_key_file"), "/c.pem",
	       "imapd key defaults to smtpd's key, itself the certificate");
	conf_free(&c);
	c = parse("myhostname = bare\n");
	is_str(conf_get(c, "mydomain"), "localdomain", "no dot: localdomain");
	conf_free(&c);
	if (strchr(conf_system_hostname(), '.') == NULL) {
		c = parse("mydomain = example.org\n");
		ok(strstr(conf_get(c, "myhostname"), ".example.org") != NULL,
		   "short host name + $mydomain: %s",
		   conf_get(c, "myhostname"));
		conf_free(&c);
	} else {
		ok(1, "# SKIP the host name is already fully qualified");
	}
}

static void test_types(void)
{
	struct conf *c = parse("smtpd_timeout = 2m\n"
			       "maximal_queue_lifetime = 2\n"
			       "delay_warning_time = 3\n"
			       "ipc_timeout = 1w\n"
			       "bounce_queue_lifetime = 36h\n"
			       "soft_bounce = YES\n"
			       "message_size_limit = 0\n"
			       "notify_classes = bounce delay,resource\n"
			       "virtual_alias_maps = inline:{ a=b, c=d },"
			       " hash:/x\n");

	ok(c != NULL, "typed values parse: %s", c ? "" : last_error);
	if (c == NULL)
		return;
	is_int(conf_get_time(c, "smtpd_timeout"), 120, "2m");
	is_int(conf_get_time(c, "maximal_queue_lifetime"), 2 * 86400,
	       "bare number in the parameter's unit (d)");
	is_int(conf_get_time(c, "delay_warning_time"), 3 * 3600, "unit h");
	is_int(conf_get_time(c, "ipc_timeout"), 7 * 86400, "1w");
	is_int(conf_get_time(c, "bounce_queue_lifetime"), 36 * 3600, "36h");
	ok(conf_get_bool(c, "soft_bounce"), "YES is yes");
	is_int(conf_get_size(c, "message_size_limit"), 0, "size 0");
	is_str(conf_get(c, "smtpd_timeout"), "2m", "conf_get: text");
	const char *const *l = conf_get_list(c, "virtual_alias_maps");
	is_str(l[0], "inline:{ a=b, c=d }", "braces keep an item together");
	is_str(l[1], "hash:/x", "second item");
	ok(l[2] == NULL, "list ends with NULL");
	l = conf_get_list(c, "notify_classes");
	is_str(l[2], "resource", "commas and blanks both separate");
	l = conf_get_list(c, "relay_domains");
	ok(l[0] == NULL, "empty list");
	conf_free(&c);

	value_fails("smtpd_timeout = 3x", "main.cf:1: smtpd_timeout: bad time "
					  "value \"3x\"");
	value_fails("smtpd_timeout = m", "bad time value");
	value_fails("smtpd_timeout = 5ms", "bad time value");
	value_fails("smtpd_timeout = -5", "bad time value");
	value_fails("smtpd_timeout = 0", "out of range");
	value_fails("maximal_queue_lifetime = 101d", "allowed: 0s to 8640000s");
	value_fails("message_size_limit = -5", "main.cf:1: message_size_limit: "
					       "bad size value \"-5\"");
	value_fails("message_size_limit = 10k", "bad size value");
	value_fails("message_size_limit = 99999999999999999999999",
		    "bad size value");
	value_fails("smtpd_recipient_limit = 1.5", "bad integer value");
	value_fails("smtpd_recipient_limit = 0", "out of range");
	value_fails("smtp_tcp_port = 65536", "out of range");
	value_fails("soft_bounce = maybe",
		    "main.cf:1: soft_bounce: bad boolean "
		    "value \"maybe\"");
	value_fails("inet_protocols = ipv5", "bad value \"ipv5\"");
	value_fails("smtpd_tls_security_level = always",
		    "expected one of: (empty) none may encrypt");
	value_fails("notify_classes = bounce, nonsense", "\"nonsense\"");
	value_fails("virtual_alias_maps = inline:{ a=b", "missing '}'");
	value_fails("virtual_alias_maps = a}", "unexpected '}'");
	value_fails("foo = 3x\nsmtpd_timeout = $foo",
		    "main.cf:2: smtpd_timeout: bad time value \"3x\"");
	value_fails("compatibility_level = 2", "out of range");
	value_fails("compatibility_level = $x", "plain number");
}

/* A table of our own: compatibility levels up to 3, a parameter whose
 * default changes at levels 2 and 3, one that follows it, a RAW one. */
static const struct conf_level_default tp_levels[] = {
    {2, "two"}, {3, "three $tq"}, {0, NULL}};
static const struct conf_param level_table[] = {
    {.name = "tp", .type = CONF_STR, .def = "one", .level_defs = tp_levels},
    {.name = "tq", .type = CONF_STR, .def = "q"},
    {.name = "tfollow", .type = CONF_STR, .def = "<$tp>"},
    {.name = "traw",
     .type = CONF_STR,
     .def = "$tp ${x?y}",
     .flags = CONF_PARAM_RAW},
    {.name = "compatibility_level",
     .type = CONF_INT,
     .def = "1",
     .min = 1,
     .max = 3},
};

static void test_levels(void)
{
	const struct conf_param *p;
	struct conf *c;

	conf_params_set_table(level_table, 5);
	p = conf_param_find("tp");
	is_str(conf_param_default(p, 1), "one", "level 1 default");
	is_str(conf_param_default(p, 2), "two", "level 2 default");
	is_str(conf_param_default(p, 9), "three $tq", "the highest step");
	ok(conf_param_find("myhostname") == NULL, "test table in use");

	c = parse("");
	is_str(conf_get(c, "tp"), "one", "unset level means 1");
	is_str(conf_get(c, "tfollow"), "<one>", "references follow");
	is_str(conf_get(c, "traw"), "$tp ${x?y}", "RAW is not expanded");
	conf_free(&c);
	c = parse("compatibility_level = 2");
	is_str(conf_get(c, "tp"), "two", "level 2 picks the level 2 default");
	is_str(conf_get(c, "tfollow"), "<two>", "and references see it");
	is_str(conf_raw(c, "tp"), "two", "raw default of the level");
	conf_free(&c);
	c = parse("compatibility_level = 3\ntq = Q");
	is_str(conf_get(c, "tp"), "three Q", "level 3, expanded");
	conf_free(&c);
	c = parse("compatibility_level = 2\ntp = mine");
	is_str(conf_get(c, "tp"), "mine", "a setting beats every level");
	conf_free(&c);
	c = parse("");
	is_int(conf_override(c, "compatibility_level", "3", &last_error), 1,
	       "override the level");
	is_str(conf_get(c, "tp"), "three q", "override changes the default");
	conf_free(&c);
	conf_params_set_table(NULL, 0);
	ok(conf_param_find("myhostname") != NULL, "built-in table back");
}

static void test_list_split(void)
{
	char **items;
	const char *err;

	is_int(conf_list_split(" a,b ,, c\td ", &items, &err), 1, "split");
	ok(items[0] && items[3] && !items[4] && !strcmp(items[3], "d"),
	   "four items");
	conf_list_free(&items);
	ok(items == NULL, "conf_list_free clears the pointer");
	is_int(conf_list_split("x:{a {b} c}, y", &items, &err), 1, "nested");
	is_str(items[0], "x:{a {b} c}", "nested braces in one item");
	conf_list_free(&items);
	is_int(conf_list_split("{", &items, &err), -1, "unbalanced");
}

int main(void)
{
	test_table();
	test_defaults();
	test_types();
	test_levels();
	test_list_split();
	return tap_done();
}
