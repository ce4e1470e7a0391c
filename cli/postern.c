/* postern.c: the admin front end. `postern [-c DIR] COMMAND [args]` dispatches
 * to one cmd_*_main() per subcommand (see commands.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "msg.h"

const char *postern_config_dir;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{"version", cmd_version_main, "version [-v]"},
	{"map", cmd_map_main, "map [-N] [-q key | -d key | -s] type:path"},
	{"conf", cmd_conf_main, "conf [-n] [-d] [name ...] [-e name=value ...]"},
	{"init", cmd_init_main,
	 "init DIR [--port-base N] [--domain D] [--owner USER]"},
	{"start", cmd_start_main, "start"},
	{"start-fg", cmd_start_fg_main, "start-fg"},
	{"stop", cmd_stop_main, "stop"},
	{"reload", cmd_reload_main, "reload"},
	{"status", cmd_status_main, "status"},
	{"check", cmd_check_main, "check"},
	{"user", cmd_user_main,
	 "user add [-q QUOTA] | passwd | del ADDRESS; user list"},
	{"queue", cmd_queue_main,
	 "queue list [--json] | show ID | flush | delete|requeue|hold|release "
	 "ID...|ALL"},
	{"flush", cmd_flush_main, "flush"},
};

static int usage(void)
{
	fprintf(stderr, "usage: postern [-c DIR] COMMAND [args]\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  postern %s\n", commands[i].usage);
	return 64;
}

int main(int argc, char **argv)
{
	int i = 1;

	msg_init("postern", MSG_DEST_STDERR);
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		postern_config_dir = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
		return cmd_version_main(1, argv + i);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			char prog[64];
			snprintf(prog, sizeof(prog), "postern %s", commands[c].name);
			msg_init(prog, MSG_DEST_STDERR);
			return commands[c].run(argc - i, argv + i);
		}
	}
	fprintf(stderr, "postern: unknown command \"%s\"\n", argv[i]);
	return usage();
}
