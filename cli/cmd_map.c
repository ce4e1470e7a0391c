/* cmd_map.c: `postern map` (placeholder until the table builders land). */
#include "config.h"
#include <stdio.h>
#include "commands.h"
int cmd_map_main(int argc, char **argv)
{
	fprintf(stderr, "postern map: not implemented yet\n");
	return 2;
}
