/* domains.h: which recipient domains are ours (delivered by local) and the
 * lookup tables local delivery uses. Shared by qmgr (routing) and local
 * (alias expansion, mailbox lookup).
 *
 * Local domains: the names in mydestination, plus every domain that has
 * an entry in users_table (read once at open). Tables that do not exist
 * are treated as empty with a warning (an instance may have no aliases). */
#ifndef POSTERN_LOCAL_DOMAINS_H
#define POSTERN_LOCAL_DOMAINS_H

#include <stdbool.h>

#include "conf.h"
#include "dict.h"

struct local_tables {
	struct dict *users;	    /* users_table, or NULL (empty) */
	struct dict **aliases;	    /* alias_maps, NULL-terminated */
	struct dict **virtual_maps; /* virtual_alias_maps, NULL-terminated */
	char **domains;		    /* mydestination + users' domains */
	const char *delimiter;	    /* recipient_delimiter */
};

/* Opens every table named in conf; of users_table only the addresses are
 * kept (in memory), never the password hashes. Returns 1 or -1 with
 * *error_r (a table that exists but cannot be opened; with users_optional
 * an unreadable users_table only costs its domains, with a warning). */
int local_tables_open(struct conf *conf, bool users_optional,
		      struct local_tables **lt_r, const char **error_r);
void local_tables_free(struct local_tables **ltp);
/* True when the domain of address (after its last '@') is local. An
 * address without '@' is local (a bare user of this host). */
bool local_domain_match(const struct local_tables *lt, const char *address);

#endif
