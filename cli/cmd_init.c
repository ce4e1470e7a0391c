/* cmd_init.c: `postern init DIR [--port-base N] [--domain D] [--owner U]`
 * writes a self-contained instance (DESIGN.md, "Instance mode"): DIR/main.cf
 * and DIR/master.cf with every path inside DIR (written as $config_directory,
 * so the folder can be moved), listeners on 127.0.0.1 at N + the standard
 * ports, an empty users table and aliases file, a TLS key and self-signed
 * certificate, and the queue folders. It never overwrites an existing
 * configuration. See postern-init(1). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "conf.h"
#include "file.h"
#include "instance.h"
#include "lifecycle.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "str.h"
#include "tls.h"

#define INIT_PORT_BASE_DEFAULT 10000
#define INIT_DOMAIN_MAX 253
/* The highest standard port of the suite (POP3S). */
#define INIT_PORT_TOP 995

struct init_opts {
	const char *dir;
	long port_base;
	const char *domain;
	const char *owner;
	char *owner_buf;
	const char *group;
	char *group_buf;
};

static const char main_cf_text[] =
    "# main.cf of a Postern instance, written by \"postern init\".\n"
    "#\n"
    "# Everything the instance uses lives in this folder: the queue, the\n"
    "# mailboxes, the tables, the TLS key and certificate, the log file.\n"
    "# Start it with \"postern -c %s start\". Every parameter is\n"
    "# described in postern.cf(5).\n"
    "compatibility_level = 1\n"
    "\n"
    "# The mail domain of this instance, and its host name.\n"
    "myhostname = %s\n"
    "mydomain = %s\n"
    "myorigin = $mydomain\n"
    "\n"
    "# Listen on the loopback address only (the ports are in master.cf),\n"
    "# and relay only for this host.\n"
    "inet_interfaces = 127.0.0.1\n"
    "mynetworks = 127.0.0.1/32\n"
    "\n"
    "# Paths, all inside this folder.\n"
    "queue_directory = $config_directory/queue\n"
    "data_directory = $config_directory/data\n"
    "mail_store = $config_directory/mail\n"
    "users_table = texthash:$config_directory/users\n"
    "alias_maps = texthash:$config_directory/aliases\n"
    "alias_database = $alias_maps\n"
    "maillog_file = $config_directory/maillog\n"
    "\n"
    "# The users the daemons run as when the master is started by root;\n"
    "# started by anyone else, everything runs as that user.\n"
    "mail_owner = %s\n"
    "mail_store_owner = %s\n"
    "setgid_group = %s\n"
    "\n"
    "# TLS with the self-signed certificate made by \"postern init\".\n"
    "smtpd_tls_cert_file = $config_directory/tls/cert.pem\n"
    "smtpd_tls_key_file = $config_directory/tls/key.pem\n"
    "smtpd_tls_security_level = may\n";

static const char master_cf_text[] =
    "# master.cf of a Postern instance, written by \"postern init\": the\n"
    "# services of the suite on 127.0.0.1, at %ld + the standard ports.\n"
    "# A service whose daemon is not installed is reported by \"postern\n"
    "# status\" as missing and not started; the others run. See\n"
    "# postern.cf(5) for the columns.\n"
    "#\n"
    "# service          type  private unpriv  chroot  wakeup  maxproc "
    "command + args\n"
    "127.0.0.1:%-7ld  inet  n       -       n       -       -       smtpd\n"
    "127.0.0.1:%-7ld  inet  n       -       n       -       -       smtpd\n"
    "  -o syslog_name=postern/submission\n"
    "  -o smtpd_tls_security_level=encrypt\n"
    "  -o smtpd_sasl_auth_enable=yes\n"
    "  -o smtpd_tls_auth_only=yes\n"
    "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
    "127.0.0.1:%-7ld  inet  n       -       n       -       -       smtpd\n"
    "  -o syslog_name=postern/submissions\n"
    "  -o smtpd_tls_wrappermode=yes\n"
    "  -o smtpd_sasl_auth_enable=yes\n"
    "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
    "pickup            unix  n       -       n       60      1       pickup\n"
    "qmgr              unix  n       -       n       300     1       qmgr\n"
    "smtp              unix  -       -       n       -       -       smtp\n"
    "lmtp              unix  -       -       n       -       -       smtp\n"
    "local             unix  -       n       n       -       -       local\n"
    "auth              unix  -       -       n       -       1       auth\n"
    "127.0.0.1:%-7ld  inet  n       n       n       -       -       imapd\n"
    "127.0.0.1:%-7ld  inet  n       n       n       -       -       imapd\n"
    "  -o imapd_tls_wrappermode=yes\n"
    "127.0.0.1:%-7ld  inet  n       n       n       -       -       pop3d\n"
    "127.0.0.1:%-7ld  inet  n       n       n       -       -       pop3d\n"
    "  -o pop3d_tls_wrappermode=yes\n";

static int usage(void)
{
	fprintf(stderr, "usage: postern init DIR [--port-base N] [--domain D] "
			"[--owner USER]\n");
	return LIFECYCLE_EXIT_USAGE;
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > INIT_DOMAIN_MAX || d[0] == '.' || d[0] == '-' ||
	    d[n - 1] == '.' || strstr(d, "..") != NULL)
		return false;
	for (; *d != '\0'; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
		      (*d >= '0' && *d <= '9') || *d == '-' || *d == '.'))
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	if (*s == '\0' || *s == '-' || strlen(s) > 32)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return false;
	return true;
}

static int parse_args(struct init_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"port-base", required_argument, NULL, 'p'},
	    {"domain", required_argument, NULL, 'd'},
	    {"owner", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	o->port_base = INIT_PORT_BASE_DEFAULT;
	o->domain = "localhost";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p') {
			errno = 0;
			o->port_base = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    o->port_base < 0 ||
			    o->port_base > 65535 - INIT_PORT_TOP) {
				msg_error("bad --port-base \"%s\": a number "
					  "from 0 to %d",
					  optarg, 65535 - INIT_PORT_TOP);
				return -1;
			}
		} else if (c == 'd') {
			o->domain = optarg;
		} else if (c == 'o') {
			o->owner = optarg;
		} else {
			return -1;
		}
	}
	if (optind + 1 != argc)
		return -1;
	o->dir = argv[optind];
	return 1;
}

/* The user the daemons run as: --owner; else, for root, "postern" if it
 * exists, then "nobody"; for anyone else, that user. */
static int choose_owner(struct init_opts *o)
{
	struct passwd *pw;
	struct group *gr;

	if (o->owner == NULL && privs_is_root()) {
		o->owner = getpwnam("postern") != NULL ? "postern" : "nobody";
		if (strcmp(o->owner, "nobody") == 0)
			msg_warn("no user \"postern\": the daemons will run as "
				 "nobody (choose another with --owner)");
	}
	pw = o->owner != NULL ? getpwnam(o->owner) : getpwuid(getuid());
	if (pw == NULL || !name_ok(pw->pw_name)) {
		msg_error("unknown or unusable user %s",
			  o->owner != NULL ? o->owner : "(yourself)");
		return -1;
	}
	if (pw->pw_uid == 0 && privs_is_root()) {
		msg_error("the daemons cannot run as root: choose another "
			  "user with --owner");
		return -1;
	}
	o->owner = o->owner_buf = mem_strdup(pw->pw_name);
	gr = getgrgid(pw->pw_gid);
	if (gr == NULL || !name_ok(gr->gr_name)) {
		msg_error("user %s: unknown or unusable group %ld", o->owner,
			  (long)pw->pw_gid);
		return -1;
	}
	o->group = o->group_buf = mem_strdup(gr->gr_name);
	return 1;
}

static int write_file(const char *dir, const char *name, const char *text,
		      mode_t mode)
{
	struct str path;
	const char *err;
	int ret;

	str_init(&path, 0);
	str_printf(&path, "%s/%s", dir, name);
	ret = file_write_atomic(path.data, text, strlen(text), mode, &err);
	if (ret < 0)
		msg_error("%s", err);
	str_deinit(&path);
	return ret;
}

static int write_config(const struct init_opts *o, const char *dir)
{
	struct str text;
	long b = o->port_base;
	int ret;

	str_init(&text, 4096);
	str_printf(&text, main_cf_text, dir, o->domain, o->domain, o->owner,
		   o->owner, o->group);
	ret = write_file(dir, "main.cf", text.data, 0644);
	str_clear(&text);
	str_printf(&text, master_cf_text, b, b + 25, b + 587, b + 465, b + 143,
		   b + 993, b + 110, b + 995);
	if (ret > 0)
		ret = write_file(dir, "master.cf", text.data, 0644);
	if (ret > 0)
		ret = write_file(dir, "aliases", "", 0644);
	str_deinit(&text);
	return ret;
}

/* The users table holds password hashes: only its owner reads it. */
static int write_users(const char *dir, const struct instance_ids *ids)
{
	struct str path;
	int ret = write_file(dir, "users", "", 0600);

	str_init(&path, 0);
	str_printf(&path, "%s/users", dir);
	if (ret > 0 && ids->root &&
	    chown(path.data, ids->owner_uid, ids->owner_gid) < 0) {
		msg_error("chown %s: %s", path.data, strerror(errno));
		ret = -1;
	}
	str_deinit(&path);
	return ret;
}

/* The names an instance's certificate covers: its host name, localhost
 * and 127.0.0.1, which is where instances listen. */
static const char *const *cert_names(const char *host, const char *names[4])
{
	size_t n = 0;

	names[n++] = host;
	if (strcmp(host, "localhost") != 0)
		names[n++] = "localhost";
	names[n++] = "127.0.0.1";
	names[n] = NULL;
	return names;
}

static int make_tls(const char *dir, const char *host,
		    const struct instance_ids *ids)
{
	const char *names[4];
	struct str cert, key;
	const char *err;
	int ret;

	str_init(&cert, 0);
	str_init(&key, 0);
	str_printf(&cert, "%s/tls", dir);
	if (mkdir(cert.data, 0755) < 0 && errno != EEXIST) {
		msg_error("mkdir %s: %s", cert.data, strerror(errno));
		ret = -1;
	} else {
		str_printf(&key, "%s/key.pem", cert.data);
		str_append_cstr(&cert, "/cert.pem");
		ret = tls_make_self_signed_names(cert.data, key.data,
						 cert_names(host, names), 3650,
						 &err);
		if (ret < 0)
			msg_error("%s", err);
		/* The key stays the creator's (root's when root runs init):
		 * daemons read it before they drop privileges. */
		else if (privs_is_root() &&
			 chown(cert.data, ids->owner_uid, ids->owner_gid) < 0) {
			msg_error("chown %s: %s", cert.data, strerror(errno));
			ret = -1;
		}
	}
	str_deinit(&cert);
	str_deinit(&key);
	return ret;
}

/* An existing configuration is never overwritten. */
static int check_fresh(const char *dir)
{
	static const char *const names[] = {"main.cf", "master.cf"};
	struct str path;
	int ret = 1;

	str_init(&path, 0);
	for (size_t i = 0; i < 2 && ret > 0; i++) {
		str_clear(&path);
		str_printf(&path, "%s/%s", dir, names[i]);
		if (access(path.data, F_OK) == 0) {
			msg_error("%s exists: not overwritten (remove it, or "
				  "choose another folder)",
				  path.data);
			ret = -1;
		}
	}
	str_deinit(&path);
	return ret;
}

static int finish(const struct init_opts *o, const char *dir)
{
	struct instance_ids ids;
	struct str problems;
	const char *err;
	char *loaded = NULL;
	struct conf *c = instance_load(dir, &loaded, NULL, &err);
	int ret = -1;

	str_init(&problems, 0);
	if (c == NULL)
		msg_error("%s", err);
	else if (instance_ids(c, &ids, &err) < 0)
		msg_error("%s", err);
	else if (write_users(dir, &ids) > 0 &&
		 make_tls(dir, o->domain, &ids) > 0) {
		ret =
		    instance_check_dirs(c, &ids, true, &problems) == 0 ? 1 : -1;
		if (ret < 0)
			fprintf(stderr, "%s", problems.data);
	}
	str_deinit(&problems);
	conf_free(&c);
	mem_free(loaded);
	return ret;
}

static int create(struct init_opts *o)
{
	char *dir;
	int ret = -1;

	if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		msg_error("mkdir %s: %s", o->dir, strerror(errno));
		return -1;
	}
	dir = realpath(o->dir, NULL);
	if (dir == NULL) {
		msg_error("%s: %s", o->dir, strerror(errno));
		return -1;
	}
	if (check_fresh(dir) > 0 && write_config(o, dir) > 0 &&
	    finish(o, dir) > 0) {
		long b = o->port_base;
		printf("created the Postern instance in %s for %s:\n"
		       "  SMTP 127.0.0.1:%ld, submission %ld, submissions %ld, "
		       "IMAP %ld, IMAPS %ld, POP3 %ld, POP3S %ld\n"
		       "  start it with: postern -c %s start\n",
		       dir, o->domain, b + 25, b + 587, b + 465, b + 143,
		       b + 993, b + 110, b + 995, dir);
		ret = 1;
	}
	free(dir);
	return ret;
}

int cmd_init_main(int argc, char **argv)
{
	struct init_opts o;
	int ret;

	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) < 0)
		return usage();
	if (!domain_ok(o.domain)) {
		msg_error("bad --domain \"%s\": letters, digits, '-' and '.'",
			  o.domain);
		return LIFECYCLE_EXIT_USAGE;
	}
	ret = choose_owner(&o) > 0 && create(&o) > 0 ? 0 : LIFECYCLE_EXIT_FAIL;
	mem_free(o.owner_buf);
	mem_free(o.group_buf);
	return ret;
}
