/* cmd_stub.c: placeholders for subcommands not built yet; they fail loudly. */
#include "config.h"
#include <stdio.h>
#include "commands.h"
int cmd_map_main(int argc, char **argv) { fprintf(stderr, "postern map: not implemented yet\n"); return 2; }
int cmd_conf_main(int argc, char **argv) { fprintf(stderr, "postern conf: not implemented yet\n"); return 2; }
