/* master_cf.h: master.cf, the list of services the master runs.
 *
 * One service per logical line (comments and continuation lines as in
 * main.cf), with Postfix's columns:
 *   service type private unpriv chroot wakeup maxproc command [args...]
 * "-" in a column means its default: private y (n for inet), unpriv y,
 * chroot n, wakeup 0, maxproc $default_process_limit. Arguments may be
 * grouped with { } to hold blanks; "-o name=value" (or "-o { name = value
 * }") overrides a main.cf parameter for that service only, and is checked
 * against the parameter table when the file is read: unknown names get a
 * warning, bad values an error. A service name+type given twice: the last
 * line wins (with a warning). Errors read "file:line: ...". */
#ifndef POSTERN_MASTER_CF_H
#define POSTERN_MASTER_CF_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

enum master_type {
	MASTER_INET, /* TCP listener: [host:]port */
	MASTER_UNIX, /* stream socket $queue_directory/{private,public}/NAME */
	MASTER_FIFO, /* named pipe, for triggers (kept for Postfix files) */
	MASTER_PASS, /* receives connections by descriptor passing */
};

struct master_service {
	char *name; /* the service column as written */
	enum master_type type;
	char *host;	      /* inet: address part, or NULL for all
			       * inet_interfaces ("[::1]" brackets removed) */
	char *port;	      /* inet: port number or /etc/services name */
	bool private_socket;  /* unix/fifo/pass: under private/ (not public/) */
	bool unpriv;	      /* runs as mail_owner, not root */
	bool chroot;	      /* chroots to queue_directory */
	unsigned int wakeup;  /* seconds between wake-up triggers, 0 = none */
	bool wakeup_if_used;  /* "N?": only after the service was used */
	unsigned int maxproc; /* process limit, 0 = no limit */
	char **argv;	      /* command and arguments without the -o pairs,
			       * NULL-terminated */
	size_t argc;
	struct conf_setting *overrides; /* the -o settings, in order; origin
					 * and line point at the file */
	size_t override_count;
	const char *origin; /* file name */
	int line;	    /* first line of the entry */
};

struct master_cf {
	struct master_service *services;
	size_t count;
	char *origin;
};

/* Flags. */
#define MASTER_CF_NO_WARN (1u << 0)

/* Reads master.cf at path. conf gives default_process_limit and is the
 * base the -o settings are checked against (it is not changed). NULL on
 * error with *error_r valid until the next call into this module. */
struct master_cf *master_cf_load(const char *path, struct conf *conf,
				 const char **error_r);
struct master_cf *master_cf_parse_buffer(const char *origin, const char *buf,
					 size_t len, struct conf *conf,
					 unsigned int flags,
					 const char **error_r);
/* The service with that name and type, or NULL. */
const struct master_service *master_cf_find(const struct master_cf *m,
					    const char *name,
					    enum master_type type);
/* Applies a service's -o settings to conf (conf_override_all). */
int master_service_apply(const struct master_service *s, struct conf *conf,
			 const char **error_r);
/* "inet", "unix", ... */
const char *master_type_name(enum master_type type);
void master_cf_free(struct master_cf **mp);

#endif
