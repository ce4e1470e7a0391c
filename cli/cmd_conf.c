/* cmd_conf.c: `postern conf`, Postern's postconf: shows main.cf parameters
 * (all, some, only those set, or the defaults), edits main.cf in place
 * (-e name=value, -X name) and shows master.cf (-M). Reads the config
 * directory from `postern -c DIR`, its own -c DIR, $POSTERN_CONFIG or the
 * built-in default (conf_dir()). Exit: 0 ok, 1 error, 64 usage. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "conf.h"
#include "conf_edit.h"
#include "conf_params.h"
#include "master_cf.h"
#include "mem.h"
#include "msg.h"

#define EXIT_USAGE 64

struct conf_opts {
	bool set_only;	 /* -n */
	bool defaults;	 /* -d */
	bool value_only; /* -h */
	bool expand;	 /* -x */
	bool edit;	 /* -e */
	bool remove;	 /* -X */
	bool master;	 /* -M */
	const char *dir; /* -c */
	char **args;	 /* the other arguments (mem_alloc'd array) */
	int nargs;
};

static int parse_flags(const char *f, struct conf_opts *o)
{
	const struct {
		char flag;
		bool *set;
	} flags[] = {
	    {'n', &o->set_only}, {'d', &o->defaults}, {'h', &o->value_only},
	    {'x', &o->expand},	 {'e', &o->edit},     {'X', &o->remove},
	    {'M', &o->master},
	};
	const size_t count = sizeof(flags) / sizeof(flags[0]);

	for (; *f != '\0'; f++) {
		size_t i = 0;
		while (i < count && flags[i].flag != *f)
			i++;
		if (i == count)
			return -1;
		*flags[i].set = true;
	}
	return 1;
}

static int conf_usage(void)
{
	fprintf(stderr,
		"usage: postern conf [-c DIR] [-n | -d] [-h] [-x] [name ...]\n"
		"       postern conf [-c DIR] -e name=value ...\n"
		"       postern conf [-c DIR] -X name ...\n"
		"       postern conf [-c DIR] -M [service[/type] ...]\n");
	return EXIT_USAGE;
}

/* Options may come before, between or after the names (as in the usage:
 * "conf name ... -e name=value ..."): no parameter name starts with '-'.
 * Names are collected in argv order into o->args. */
static int parse_opts(int argc, char **argv, struct conf_opts *o)
{
	bool dashdash = false;

	o->args = mem_calloc((size_t)argc, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			o->args[o->nargs++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (strcmp(a, "-c") == 0) {
			if (++i == argc)
				return -1;
			o->dir = argv[i];
		} else if (parse_flags(a + 1, o) < 0) {
			return -1;
		}
	}
	if (o->set_only + o->defaults > 1 ||
	    o->edit + o->remove + o->master > 1)
		return -1;
	if ((o->edit || o->remove) &&
	    (o->nargs == 0 || o->set_only || o->defaults || o->value_only))
		return -1;
	return 1;
}

static char *main_cf_path(const struct conf_opts *o, const char *file)
{
	struct str path;
	char *p;

	str_init(&path, 64);
	str_printf(&path, "%s/%s",
		   conf_dir(o->dir ? o->dir : postern_config_dir), file);
	p = str_steal(&path);
	str_deinit(&path);
	return p;
}

static void print_param(const struct conf_opts *o, const char *name,
			const char *value)
{
	if (o->value_only)
		printf("%s\n", value);
	else
		printf("%s =%s%s\n", name, *value ? " " : "", value);
}

/* One name: 1 shown, 0 skipped (-n and not set), -1 unknown. */
static int show_one(const struct conf_opts *o, struct conf *c, const char *name)
{
	const char *value =
	    o->expand ? conf_lookup(c, name) : conf_raw(c, name);

	if (value == NULL)
		return -1;
	if (o->set_only && conf_is_default(c, name))
		return 0;
	print_param(o, name, value);
	return 1;
}

static int show(const struct conf_opts *o)
{
	struct conf *c;
	const char *error;
	char *path = main_cf_path(o, "main.cf");

	if (o->defaults)
		c = conf_parse_buffer("built-in defaults", "", 0, 0, &error);
	else
		c = conf_load(path, &error);
	mem_free(path);
	if (c == NULL) {
		msg_error("%s", error);
		return 1;
	}
	if (o->nargs > 0) {
		/* Like postconf: an unknown name is a warning, not a failure,
		 * so that scripts asking for a newer parameter keep working. */
		for (int i = 0; i < o->nargs; i++)
			if (show_one(o, c, o->args[i]) < 0)
				msg_warn("%s: unknown parameter", o->args[i]);
	} else if (o->set_only) {
		const char **names = conf_names_set(c);
		for (size_t i = 0; names[i] != NULL; i++)
			show_one(o, c, names[i]);
		mem_free(names);
	} else {
		for (size_t i = 0; i < conf_param_count(); i++)
			show_one(o, c, conf_param_at(i)->name);
	}
	conf_free(&c);
	return 0;
}

static int edit(const struct conf_opts *o)
{
	struct conf_edit *edits = mem_calloc((size_t)o->nargs, sizeof(*edits));
	char *path = main_cf_path(o, "main.cf");
	const char *error = NULL;
	int ret = 0;

	for (int i = 0; i < o->nargs && ret == 0; i++) {
		char *arg = o->args[i], *eq = strchr(arg, '=');
		if (o->edit && eq == NULL) {
			msg_error("bad argument \"%s\": expected name=value",
				  arg);
			ret = 1;
			break;
		}
		if (eq != NULL && o->edit) {
			*eq = '\0';
			edits[i].value = eq + 1;
		}
		/* "name = value" as one argument is fine too. */
		while (*arg == ' ' || *arg == '\t')
			arg++;
		for (size_t n = strlen(arg);
		     n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t'); n--)
			arg[n - 1] = '\0';
		edits[i].name = arg;
		if (conf_param_find(edits[i].name) == NULL)
			msg_warn("%s: unknown parameter", edits[i].name);
	}
	if (ret == 0 &&
	    conf_edit_file(path, edits, (size_t)o->nargs, &error) < 0) {
		msg_error("%s", error);
		ret = 1;
	}
	mem_free(edits);
	mem_free(path);
	return ret;
}

static void print_arg(const char *arg)
{
	if (*arg == '\0' || strpbrk(arg, " \t") != NULL)
		printf(" { %s }", arg);
	else
		printf(" %s", arg);
}

/* "name" or "name/type" */
static bool selected(const struct master_service *s, char **args, int nargs)
{
	for (int i = 0; i < nargs; i++) {
		const char *slash = strchr(args[i], '/');
		size_t n = slash ? (size_t)(slash - args[i]) : strlen(args[i]);
		if (strlen(s->name) == n && strncmp(s->name, args[i], n) == 0 &&
		    (slash == NULL ||
		     strcmp(slash + 1, master_type_name(s->type)) == 0))
			return true;
	}
	return nargs == 0;
}

static void print_service(const struct master_service *s)
{
	printf("%-12s %-4s %c %c %c %u%s %u", s->name,
	       master_type_name(s->type), s->private_socket ? 'y' : 'n',
	       s->unpriv ? 'y' : 'n', s->chroot ? 'y' : 'n', s->wakeup,
	       s->wakeup_if_used ? "?" : "", s->maxproc);
	for (size_t i = 0; i < s->argc; i++)
		print_arg(s->argv[i]);
	for (size_t i = 0; i < s->override_count; i++) {
		const struct conf_setting *o = &s->overrides[i];
		if (*o->value == '\0' || strpbrk(o->value, " \t{}") != NULL)
			printf(" -o { %s = %s }", o->name, o->value);
		else
			printf(" -o %s=%s", o->name, o->value);
	}
	printf("\n");
}

static int show_master(struct conf *c, const char *path, char **args, int nargs)
{
	const char *error;
	struct master_cf *m = master_cf_load(path, c, &error);

	if (m == NULL) {
		msg_error("%s", error);
		return 1;
	}
	for (size_t i = 0; i < m->count; i++)
		if (selected(&m->services[i], args, nargs))
			print_service(&m->services[i]);
	master_cf_free(&m);
	return 0;
}

static int master(const struct conf_opts *o)
{
	char *path = main_cf_path(o, "main.cf");
	char *mpath = main_cf_path(o, "master.cf");
	const char *error;
	struct conf *c = conf_load(path, &error);
	int ret = 1;

	if (c == NULL)
		msg_error("%s", error);
	else
		ret = show_master(c, mpath, o->args, o->nargs);
	conf_free(&c);
	mem_free(path);
	mem_free(mpath);
	return ret;
}

int cmd_conf_main(int argc, char **argv)
{
	struct conf_opts o = {0};
	int ret;

	if (parse_opts(argc, argv, &o) < 0)
		ret = conf_usage();
	else if (o.edit || o.remove)
		ret = edit(&o);
	else if (o.master)
		ret = master(&o);
	else
		ret = show(&o);
	mem_free(o.args);
	/* A listing cut short (disk full, closed pipe) must not look fine. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("write to standard output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
