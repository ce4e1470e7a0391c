/* cmd_conf.c: `postern conf` (placeholder until the config parser lands). */
#include "config.h"
#include <stdio.h>
#include "commands.h"
int cmd_conf_main(int argc, char **argv)
{
	fprintf(stderr, "postern conf: not implemented yet\n");
	return 2;
}
