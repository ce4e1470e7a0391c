/* cmd_queue.c: `postern queue SUBCOMMAND`, the admin's view of the queue
 * and its levers (postern-queue(1)): list (mailq), show (postcat -q),
 * flush (postqueue -f), and delete/requeue/hold/release (postsuper -d
 * -r -h -H, in cmd_queue_edit.c). This file dispatches, lists and
 * flushes; `postern flush` (postfix flush) is `postern queue flush`. Exit codes
 * are sysexits(3), as Postfix's queue tools use. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_queue.h"
#include "commands.h"
#include "conf.h"
#include "qmgr_trigger.h"
#include "sock.h"
#include "str.h"

static const char *const usage_text =
    "usage: postern queue list [--json]\n"
    "       postern queue show [-e] [-h] [-b] ID\n"
    "       postern queue flush\n"
    "       postern queue delete ID ... | ALL | - [QUEUE]\n"
    "       postern queue requeue ID ... | ALL | - [QUEUE]\n"
    "       postern queue hold ID ... | ALL | - [QUEUE]\n"
    "       postern queue release ID ... | ALL | -\n";

int qcmd_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "postern queue: %s\n", why);
	fputs(usage_text, stderr);
	return QCMD_EX_USAGE;
}

static int qcmd_list_main(struct conf *c, int argc, char **argv)
{
	enum qcmd_list_format fmt = QCMD_LIST_MAILQ;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			fmt = QCMD_LIST_JSON;
		else
			return qcmd_usage("list: unknown argument");
	}
	return qcmd_list(c, fmt, "postern queue");
}

/* pickup is told to look at maildrop/ too, as postqueue -f does; when it
 * is not reachable it finds the files on its next wakeup. */
static void qcmd_wake_pickup(struct conf *c)
{
	struct str path;
	const char *err;
	int fd;

	str_init(&path, 128);
	str_printf(&path, "%s/public/pickup", conf_get(c, "queue_directory"));
	fd = sock_unix_connect(path.data, true, &err);
	if (fd >= 0) {
		if (write(fd, "W", 1) != 1)
			fprintf(stderr,
				"postern queue: warning: wake pickup: "
				"%s\n",
				strerror(errno));
		close(fd);
	}
	str_deinit(&path);
}

/* qmgr's force trigger: scan deferred/ too and ignore the back-off times
 * once (postern-qmgr(8)); the mail is then tried in arrival order. */
static int qcmd_flush_main(struct conf *c, int argc, char **argv)
{
	const char *err;

	(void)argv;
	if (argc != 1)
		return qcmd_usage("flush takes no arguments");
	if (qmgr_trigger(conf_get(c, "queue_directory"), QMGR_TRIGGER_FORCE,
			 &err) < 0) {
		fprintf(stderr,
			"postern queue: cannot flush the queue: mail system is "
			"down (%s)\n",
			err);
		return QCMD_EX_UNAVAILABLE;
	}
	qcmd_wake_pickup(c);
	return QCMD_EX_OK;
}

struct subcommand {
	const char *name;
	int (*run)(struct conf *c, int argc, char **argv);
};

static const struct subcommand subcommands[] = {
    {"list", qcmd_list_main},	 {"show", qcmd_show_main},
    {"flush", qcmd_flush_main},	 {"delete", qcmd_edit_main},
    {"requeue", qcmd_edit_main}, {"hold", qcmd_edit_main},
    {"release", qcmd_edit_main},
};

int cmd_queue_main(int argc, char **argv)
{
	const struct subcommand *sub = NULL;
	const char *err;
	struct conf *c;
	int ret;

	if (argc < 2)
		return qcmd_usage(NULL);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(*subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			sub = &subcommands[i];
	if (sub == NULL)
		return qcmd_usage("unknown subcommand");
	/* A closed pipe (postern queue list | head) is an EPIPE write error,
	 * which the listing treats as the end of the output. */
	signal(SIGPIPE, SIG_IGN);
	c = conf_load_dir(conf_dir(postern_config_dir), &err);
	if (c == NULL) {
		fprintf(stderr, "postern queue: %s\n", err);
		return QCMD_EX_UNAVAILABLE;
	}
	ret = sub->run(c, argc - 1, argv + 1);
	conf_free(&c);
	return ret;
}

int cmd_flush_main(int argc, char **argv)
{
	static char queue[] = "queue", flush[] = "flush";
	char *args[] = {queue, flush, NULL};

	(void)argv;
	if (argc != 1)
		return qcmd_usage("flush takes no arguments");
	return cmd_queue_main(2, args);
}
