/* t/unit/master_cf.c: tests for the master.cf parser (lib/master_cf.c), and
 * that the shipped conf/main.cf and conf/master.cf load without a warning. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "master_cf.h"
#include "str.h"
#include "tap.h"

/* From t/unit/conf_capture.c: sends stderr to a file until capture_end(),
 * which returns what was written, lines joined with '|'. */
void capture_start(void);
const char *capture_end(void);

static struct conf *base;
static const char *last_error;
static const char *last_warnings;

static struct master_cf *parse(const char *text)
{
	struct master_cf *m;

	capture_start();
	m = master_cf_parse_buffer("master.cf", text, strlen(text), base, 0,
				   &last_error);
	last_warnings = capture_end();
	return m;
}

static void fails(const char *text, const char *want, const char *name)
{
	struct master_cf *m = parse(text);

	ok(m == NULL && last_error && strstr(last_error, want),
	   "%s: refused with \"%s\" (%s)", name, want,
	   m ? "accepted" : last_error);
	master_cf_free(&m);
}

static void test_columns(void)
{
	struct master_cf *m =
	    parse("# comment\n"
		  "25 inet - - - - - smtpd\n"
		  "127.0.0.1:10025 inet n n y 0 0 smtpd -v\n"
		  "[::1]:10587 inet n - n - 5 smtpd\n"
		  "localhost:smtp inet n - n - - smtpd\n"
		  "qmgr unix n - n 300 1 qmgr\n"
		  "tlsmgr unix - - n 1000? 1 tlsmgr\n"
		  "pipe.x-1 unix - n n - - pipe\n"
		  "  flags=R user=nobody { argv=/bin/x ${recipient} }\n"
		  "trig fifo - - n - - trig\n"
		  "pass_in pass - - n - - smtpd\n");
	const struct master_service *s;

	ok(m != NULL, "services parse: %s", m ? "" : last_error);
	if (m == NULL)
		return;
	is_int(m->count, 9, "nine services");
	s = master_cf_find(m, "25", MASTER_INET);
	ok(s && !s->private_socket && s->unpriv && !s->chroot && !s->wakeup,
	   "inet defaults: not private, unpriv, no chroot, no wakeup");
	is_int(s ? s->maxproc : 0, 7, "maxproc - is $default_process_limit");
	ok(s && s->host == NULL, "no host part");
	is_str(s ? s->port : NULL, "25", "port");
	is_int(s ? s->line : 0, 2, "line number kept");
	s = master_cf_find(m, "127.0.0.1:10025", MASTER_INET);
	is_str(s ? s->host : NULL, "127.0.0.1", "IPv4 host");
	ok(s && !s->unpriv && s->chroot && s->maxproc == 0, "y/n/0 columns");
	ok(s && s->argc == 2 && !strcmp(s->argv[1], "-v"), "argument kept");
	s = master_cf_find(m, "[::1]:10587", MASTER_INET);
	is_str(s ? s->host : NULL, "::1", "IPv6 host without brackets");
	is_str(s ? s->port : NULL, "10587", "IPv6 port");
	s = master_cf_find(m, "localhost:smtp", MASTER_INET);
	is_str(s ? s->port : NULL, "smtp", "port by service name");
	s = master_cf_find(m, "qmgr", MASTER_UNIX);
	ok(s && s->wakeup == 300 && !s->wakeup_if_used && s->maxproc == 1 &&
	       !s->private_socket,
	   "qmgr: wakeup 300, maxproc 1, public");
	s = master_cf_find(m, "tlsmgr", MASTER_UNIX);
	ok(s && s->wakeup == 1000 && s->wakeup_if_used && s->private_socket,
	   "wakeup N? and unix default private");
	s = master_cf_find(m, "pipe.x-1", MASTER_UNIX);
	ok(s && s->argc == 4 && !strcmp(s->argv[3], "argv=/bin/x ${recipient}"),
	   "continuation line and { } argument: %s",
	   s && s->argc == 4 ? s->argv[3] : "?");
	ok(master_cf_find(m, "trig", MASTER_FIFO) != NULL, "fifo");
	ok(master_cf_find(m, "pass_in", MASTER_PASS) != NULL, "pass");
	ok(master_cf_find(m, "qmgr", MASTER_INET) == NULL, "find by type");
	is_str(last_warnings, "", "no warnings");
	master_cf_free(&m);
	ok(m == NULL, "master_cf_free clears the pointer");
}

static void test_overrides(void)
{
	struct master_cf *m =
	    parse("sub inet n - n - - smtpd -o smtpd_timeout=10s\n"
		  "  -o { smtpd_banner = hello there } -osyslog_name=sub\n"
		  "  -o smtpd_recipient_limit=$svc_limit -o svc_limit=5\n");
	const struct master_service *s;
	struct conf *c;
	const char *err = NULL;

	ok(m != NULL, "overrides parse: %s", m ? "" : last_error);
	if (m == NULL)
		return;
	s = master_cf_find(m, "sub", MASTER_INET);
	is_int(s->override_count, 5, "five -o settings");
	is_int(s->argc, 1, "-o pairs are not arguments");
	is_str(s->overrides[1].name, "smtpd_banner", "braced -o name");
	is_str(s->overrides[1].value, "hello there", "braced -o value");
	is_str(s->overrides[2].value, "sub", "-oname=value form");
	ok(strstr(last_warnings, "master.cf:1: unknown parameter svc_limit"),
	   "unknown -o name warned: %s", last_warnings);
	c = conf_dup(base);
	is_int(master_service_apply(s, c, &err), 1, "apply to a conf");
	is_int(conf_get_time(c, "smtpd_timeout"), 10, "applied");
	is_str(conf_get(c, "smtpd_banner"), "hello there", "applied (braces)");
	is_int(conf_get_int(c, "smtpd_recipient_limit"), 5,
	       "-o settings see each other");
	is_int(conf_get_time(base, "smtpd_timeout"), 300, "base untouched");
	conf_free(&c);
	master_cf_free(&m);

	fails("a inet n - n - - smtpd\nb inet n - n - - smtpd\n"
	      "  -o smtpd_timeout=3x\n",
	      "master.cf:2: smtpd_timeout: bad time value \"3x\"",
	      "bad -o value");
	fails("a inet n - n - - smtpd -o", "-o at the end", "-o at the end");
	fails("a inet n - n - - smtpd -o smtpd_timeout", "expected name=value",
	      "-o without =");
	fails("a inet n - n - - smtpd -o bad-name=1", "bad parameter name",
	      "-o bad name");
	fails("a inet n - n - - smtpd -o myhostname=$mydomain",
	      "expansion loop", "-o making a loop");
}

static void test_errors(void)
{
	struct master_cf *m;

	fails("# ok\nsmtp inet n - n - smtpd\n",
	      "master.cf:2: 7 fields, expected at least 8", "too few fields");
	fails("smtp tcp n - n - - smtpd", "bad service type \"tcp\"",
	      "bad type");
	fails("smtp inet y - n - - smtpd", "cannot be private", "private inet");
	fails("smtp inet n yes n - - smtpd", "bad unpriv column \"yes\"",
	      "bad y/n");
	fails("smtp inet n - x - - smtpd", "bad chroot column", "bad chroot");
	fails("smtp inet n - n 1x - smtpd", "bad wakeup column", "bad wakeup");
	fails("smtp inet n - n - -1 smtpd", "bad maxproc column",
	      "bad maxproc");
	fails("smtp inet n - n - 100001 smtpd", "bad maxproc column",
	      "maxproc too big");
	fails("::1:25 inet n - n - - smtpd", "IPv6 addresses go in brackets",
	      "IPv6 without brackets");
	fails("[::1:25 inet n - n - - smtpd", "bad inet service",
	      "unclosed bracket");
	fails("[1.2.3.4/8]:25 inet n - n - - smtpd", "bad host",
	      "bad bracketed host");
	fails(":25 inet n - n - - smtpd", "bad host", "empty host");
	fails("h:0 inet n - n - - smtpd", "bad port", "port 0");
	fails("h:70000 inet n - n - - smtpd", "bad port", "port too big");
	fails("../x unix - - n - - smtpd", "bad service name",
	      "path in a socket name");
	fails("a unix - - n - - /bin/sh", "bad command \"/bin/sh\"",
	      "command with a path");
	fails("a unix - - n - - smtpd { x", "missing '}'", "open brace");
	fails("a unix - - n - - smtpd x}", "unexpected '}'", "close brace");
	fails("a unix - - n - - smtpd {x}y", "text after '}'", "after brace");
	fails("  a unix - - n - - smtpd", "master.cf:1: continuation line",
	      "leading blank");

	capture_start();
	m = master_cf_parse_buffer("master.cf", "a unix - - n - - x\0y", 20,
				   base, 0, &last_error);
	capture_end();
	ok(m == NULL && strstr(last_error, "master.cf:1: NUL byte"),
	   "NUL byte refused: %s", last_error);

	m = parse("a unix - - n - - one\nb unix - - n - - b\n"
		  "a unix - - n - - two\n");
	ok(m && m->count == 2 &&
	       !strcmp(master_cf_find(m, "a", MASTER_UNIX)->argv[0], "two"),
	   "a repeated service: the last line wins");
	ok(strstr(last_warnings, "master.cf:3: service a/unix is defined "
				 "again; this replaces line 1"),
	   "and is warned: %s", last_warnings);
	master_cf_free(&m);

	m = master_cf_load("/nonexistent/master.cf", base, &last_error);
	ok(m == NULL && strstr(last_error, "/nonexistent/master.cf"),
	   "missing file: %s", last_error);
}

/* The files we install must load cleanly, with the -o values checked. */
static void test_shipped(void)
{
	const char *top = getenv("top_srcdir"), *err = NULL, *w;
	struct str path;
	struct conf *c;
	struct master_cf *m;
	const struct master_service *s;

	str_init(&path, 64);
	str_printf(&path, "%s/conf/main.cf", top ? top : ".");
	capture_start();
	c = conf_load(path.data, &err);
	w = capture_end();
	ok(c != NULL, "conf/main.cf loads: %s", c ? "" : err);
	is_str(w, "", "conf/main.cf: no warnings");
	ok(c && !conf_is_default(c, "compatibility_level") &&
	       conf_get_int(c, "compatibility_level") == 1,
	   "conf/main.cf sets compatibility_level = 1");
	str_clear(&path);
	str_printf(&path, "%s/conf/master.cf", top ? top : ".");
	capture_start();
	m = c ? master_cf_load(path.data, c, &err) : NULL;
	w = capture_end();
	ok(m != NULL, "conf/master.cf loads: %s", m ? "" : err);
	is_str(w, "", "conf/master.cf: no warnings");
	if (m != NULL) {
		const char *want[] = {"smtp", "submission", "submissions",
				      "imap", "imaps"};
		for (size_t i = 0; i < 5; i++)
			ok(master_cf_find(m, want[i], MASTER_INET) != NULL,
			   "inet service %s", want[i]);
		const char *unix_want[] = {"pickup", "qmgr", "smtp", "local",
					   "auth"};
		for (size_t i = 0; i < 5; i++)
			ok(master_cf_find(m, unix_want[i], MASTER_UNIX) != NULL,
			   "unix service %s", unix_want[i]);
		s = master_cf_find(m, "submission", MASTER_INET);
		is_int(master_service_apply(s, c, &err), 1, "apply submission");
		is_str(conf_get(c, "smtpd_tls_security_level"), "encrypt",
		       "submission requires TLS");
		ok(conf_get_bool(c, "smtpd_sasl_auth_enable"),
		   "submission enables AUTH");
	}
	master_cf_free(&m);
	conf_free(&c);
	str_deinit(&path);
}

int main(void)
{
	const char *err;

	base = conf_parse_buffer("main.cf", "default_process_limit = 7\n", 26,
				 0, &err);
	test_columns();
	test_overrides();
	test_errors();
	test_shipped();
	conf_free(&base);
	return tap_done();
}
