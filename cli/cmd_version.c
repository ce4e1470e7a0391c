/* cmd_version.c: `postern version` prints the release and the libraries it was built with. */
#include "config.h"

#include <db.h>
#include <lmdb.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ldns/ldns.h>

#include "commands.h"

int cmd_version_main(int argc, char **argv)
{
	printf("postern %s\n", PACKAGE_VERSION);
	if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
		printf("openssl %s\n", OPENSSL_VERSION_TEXT);
		printf("berkeley-db %d.%d.%d\n", DB_VERSION_MAJOR, DB_VERSION_MINOR,
		       DB_VERSION_PATCH);
		printf("lmdb %d.%d.%d\n", MDB_VERSION_MAJOR, MDB_VERSION_MINOR,
		       MDB_VERSION_PATCH);
		printf("pcre2 %d.%d\n", PCRE2_MAJOR, PCRE2_MINOR);
		printf("ldns %s\n", LDNS_VERSION);
	}
	return 0;
}
