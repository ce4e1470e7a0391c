/* cmd_check.c: `postern check` checks an instance before it runs: main.cf
 * and master.cf parse; the users exist; the queue folders exist with the
 * right owners and modes (missing ones are created); the configuration
 * files cannot be changed by others; the master and every daemon of
 * master.cf are installed; the TLS key is private. Every problem is listed
 * ("error: ..."), then the exit code is 1; missing daemons are warnings
 * (the master runs the other services), not errors. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "instance.h"
#include "lifecycle.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "str.h"

struct check {
	struct conf *conf;
	struct master_cf *mcf;
	char *dir;
	int errors;
};

static void problem(struct check *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct check *ck, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_ERROR, fmt, ap);
	va_end(ap);
	ck->errors++;
}

/* Configuration files: regular, and writable only by their owner (root
 * when root runs the suite). */
static void check_config_file(struct check *ck, const char *name)
{
	struct str path;
	struct stat st;

	str_init(&path, 0);
	str_printf(&path, "%s/%s", ck->dir, name);
	if (stat(path.data, &st) < 0)
		problem(ck, "%s: %s", path.data, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problem(ck, "%s: not a regular file", path.data);
	else if (st.st_mode & 022)
		problem(ck, "%s: writable by group or others (mode %04o)",
			path.data, (unsigned int)(st.st_mode & 07777));
	else if (privs_is_root() && st.st_uid != 0)
		problem(ck, "%s: owned by uid %ld, not root", path.data,
			(long)st.st_uid);
	str_deinit(&path);
}

static void check_dirs(struct check *ck)
{
	struct instance_ids ids;
	struct str problems;
	const char *err;
	char *line, *save = NULL;

	if (instance_ids(ck->conf, &ids, &err) < 0) {
		problem(ck, "%s", err);
		return;
	}
	str_init(&problems, 0);
	if (instance_check_dirs(ck->conf, &ids, true, &problems) > 0)
		for (line = strtok_r(problems.data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			problem(ck, "%s", line);
	str_deinit(&problems);
}

static void check_daemons(struct check *ck)
{
	const char *dir = conf_get(ck->conf, "daemon_directory");
	struct str path;

	str_init(&path, 0);
	str_printf(&path, "%s/master", dir);
	if (access(path.data, X_OK) < 0)
		problem(ck, "%s: %s (daemon_directory = %s)", path.data,
			strerror(errno), dir);
	for (size_t i = 0; i < ck->mcf->count; i++) {
		const struct master_service *s = &ck->mcf->services[i];
		str_clear(&path);
		str_printf(&path, "%s/%s", dir, s->argv[0]);
		if (access(path.data, X_OK) < 0)
			msg_warn("%s:%d: service %s/%s: %s: %s -- it will not "
				 "run",
				 s->origin, s->line, s->name,
				 master_type_name(s->type), path.data,
				 strerror(errno));
	}
	str_deinit(&path);
}

static void check_tls(struct check *ck)
{
	const char *cert = conf_get(ck->conf, "smtpd_tls_cert_file");
	const char *key = conf_get(ck->conf, "smtpd_tls_key_file");
	struct stat st;

	if (cert[0] != '\0' && access(cert, R_OK) < 0)
		problem(ck, "smtpd_tls_cert_file = %s: %s", cert,
			strerror(errno));
	if (key[0] == '\0')
		return;
	if (stat(key, &st) < 0)
		problem(ck, "smtpd_tls_key_file = %s: %s", key,
			strerror(errno));
	else if (st.st_mode & 077)
		problem(ck,
			"smtpd_tls_key_file = %s: readable by others "
			"(mode %04o; make it 0600)",
			key, (unsigned int)(st.st_mode & 07777));
}

int cmd_check_main(int argc, char **argv)
{
	struct check ck;

	if (argc != 1) {
		fprintf(stderr, "usage: postern [-c DIR] check\n");
		return LIFECYCLE_EXIT_USAGE;
	}
	memset(&ck, 0, sizeof(ck));
	ck.conf = lifecycle_load(&ck.dir, &ck.mcf);
	if (ck.conf == NULL)
		return LIFECYCLE_EXIT_FAIL;
	check_config_file(&ck, "main.cf");
	check_config_file(&ck, "master.cf");
	check_dirs(&ck);
	check_daemons(&ck);
	check_tls(&ck);
	conf_free(&ck.conf);
	master_cf_free(&ck.mcf);
	mem_free(ck.dir);
	return ck.errors > 0 ? LIFECYCLE_EXIT_FAIL : 0;
}
