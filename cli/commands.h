/* commands.h: the subcommands of `postern`; each is a main() of its own,
 * called with argv[0] set to the subcommand name. */
#ifndef POSTERN_COMMANDS_H
#define POSTERN_COMMANDS_H

/* -c DIR from the front end, or NULL for the default config directory. */
extern const char *postern_config_dir;

int cmd_version_main(int argc, char **argv);
int cmd_map_main(int argc, char **argv);
int cmd_conf_main(int argc, char **argv);
/* The instance lifecycle (cmd_init.c, cmd_start.c, cmd_status.c,
 * cmd_check.c). */
int cmd_init_main(int argc, char **argv);
int cmd_start_main(int argc, char **argv);
int cmd_start_fg_main(int argc, char **argv);
int cmd_stop_main(int argc, char **argv);
int cmd_reload_main(int argc, char **argv);
int cmd_status_main(int argc, char **argv);
int cmd_check_main(int argc, char **argv);
/* The users table (cmd_user.c). */
int cmd_user_main(int argc, char **argv);
/* The queue: list, show, flush, delete, requeue, hold, release
 * (cmd_queue*.c). */
int cmd_queue_main(int argc, char **argv);
/* `postern flush`: the same as `postern queue flush`. */
int cmd_flush_main(int argc, char **argv);

#endif
