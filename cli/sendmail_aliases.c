/* sendmail_aliases.c: newaliases (sendmail -bi, -I): builds the alias
 * database, i.e. each file-based table named in alias_database (hash:,
 * btree:, lmdb:, or a bare path meaning $default_database_type), with
 * `postern map` from $command_directory, so that one builder (and one
 * source syntax, postern-map(1)) serves both. Tables that need no build
 * step (texthash:, inline:, pcre:, ...) are skipped with a note. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "sendmail.h"
#include "str.h"

static bool alias_buildable(const char *type, size_t len)
{
	static const char *const types[] = {"hash", "btree", "lmdb"};

	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (strlen(types[i]) == len &&
		    strncmp(types[i], type, len) == 0)
			return true;
	return false;
}

/* Runs $command_directory/postern -c dir map spec. Returns its exit
 * status (0 built), or -1 when it could not be run. */
static int alias_run_map(struct conf *c, const char *dir, const char *spec)
{
	struct str path;
	pid_t pid;
	int status;

	str_init(&path, 0);
	str_printf(&path, "%s/postern", conf_get(c, "command_directory"));
	pid = fork();
	if (pid == 0) {
		char *argv[] = {"postern", "-c",	 (char *)dir,
				"map",	   (char *)spec, NULL};
		execv(path.data, argv);
		fprintf(stderr, "newaliases: cannot run %s: %s\n", path.data,
			strerror(errno));
		_exit(127);
	}
	str_deinit(&path);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 127)
		return WEXITSTATUS(status);
	return -1;
}

int sm_newaliases(struct conf *c, const char *dir)
{
	const char *const *maps = conf_get_list(c, "alias_database");
	const char *deftype = conf_get(c, "default_database_type");
	int ret = 0;

	for (size_t i = 0; maps[i] != NULL; i++) {
		const char *m = maps[i], *colon = strchr(m, ':');
		struct str spec;
		int r;

		/* A colon counts only after a type-like prefix (as in
		 * postern map): "./a:b" is a bare path. */
		if (colon != NULL && memchr(m, '/', (size_t)(colon - m)))
			colon = NULL;
		if (colon != NULL && !alias_buildable(m, (size_t)(colon - m))) {
			fprintf(stderr,
				"newaliases: %s: this table type needs no "
				"build step; skipped\n",
				m);
			continue;
		}
		str_init(&spec, 0);
		if (colon == NULL)
			str_printf(&spec, "%s:%s", deftype, m);
		else
			str_append_cstr(&spec, m);
		r = alias_run_map(c, dir, spec.data);
		if (r != 0) {
			fprintf(stderr, "newaliases: %s: not built%s\n",
				spec.data,
				r < 0 ? " (postern map could not run)" : "");
			ret = r < 0 ? DROP_EX_UNAVAILABLE : DROP_EX_CANTCREAT;
		}
		str_deinit(&spec);
	}
	return ret;
}
