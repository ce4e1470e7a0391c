/* lifecycle.h: helpers shared by the instance lifecycle commands of postern
 * (cmd_init.c, cmd_start.c, cmd_status.c, cmd_check.c). Each command's
 * main() is declared in commands.h. */
#ifndef POSTERN_CLI_LIFECYCLE_H
#define POSTERN_CLI_LIFECYCLE_H

#include <sys/types.h>

#include "attr.h"
#include "conf.h"
#include "master_cf.h"

/* Exit codes: 0 done, 1 failed (Postfix's postfix(1) uses 1 too), 64 bad
 * usage. */
#define LIFECYCLE_EXIT_FAIL 1
#define LIFECYCLE_EXIT_USAGE 64

/* Loads the instance that -c names (or the default configuration
 * directory): main.cf, and master.cf when mcf_r is not NULL. On failure
 * the reason is logged and NULL returned. *dir_r is absolute; mem_free it. */
struct conf *lifecycle_load(char **dir_r, struct master_cf **mcf_r);

/* Asks the running master for its status (status.c of the master):
 * connects to its status socket and returns 1 with the reply in *rec_r,
 * valid until attr_client_free(client_r). -1 with *error_r otherwise. */
int lifecycle_query(struct conf *c, struct attr_client **client_r,
		    struct attr_rec *rec_r, const char **error_r);


#endif
