/* auth.h: the pieces of the auth daemon (postern-auth(8)). main.c wires the
 * server skeleton; users.c-backed state (the table, re-read when the file
 * changes) and the requests live in request.c; conn.c owns one client
 * connection; delay.c remembers failures per client address and says how
 * long to hold the next failure reply. */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "attr.h"
#include "server.h"
#include "users.h"

/* Failure delay: the first failure from an address is answered after
 * BASE ms, each further one after twice the last, up to MAX; an address
 * with no failure for FORGET ms starts again. */
#define AUTH_DELAY_BASE_MS 500
#define AUTH_DELAY_MAX_MS 8000
#define AUTH_DELAY_FORGET_MS (15 * 60 * 1000)
/* Client addresses remembered (the oldest is forgotten first). */
#define AUTH_DELAY_SLOTS 4096
/* Idle connections are closed after this long. */
#define AUTH_IDLE_MS (10 * 60 * 1000)
/* Largest request accepted: a user and a password with room to spare. */
#define AUTH_MAX_RECORD 8192

struct auth_state {
	struct server *srv;
	char *path;	     /* the users table file */
	const char *domain;  /* default domain of bare login names */
	struct users *users; /* NULL: never loaded successfully */
	struct stat st;	     /* of the file when loaded */
	bool missing;	     /* the file did not exist */
};

/* ---- request.c */
/* Handles one request record; puts the reply into out. Returns the delay
 * in ms before the reply may go out (0: at once), or -1 for a malformed
 * request (*error_r; the connection is then dropped). */
long auth_request(struct auth_state *a, struct attr_rec *req,
		  struct attr_out *out, const char **error_r);

/* ---- conn.c */
void auth_conn_start(struct auth_state *a, int fd);

/* ---- cache.c */
/* size slots kept ttl_seconds each; 0 for either turns the cache off. */
void auth_cache_init(size_t size, uint64_t ttl_seconds);
/* Was user (canonical) with this password and stored hash verified in
 * the last ttl? */
bool auth_cache_hit(const char *user, const char *password, const char *hash,
		    uint64_t now_ms);
/* Remembers a successful verification. */
void auth_cache_add(const char *user, const char *password, const char *hash,
		    uint64_t now_ms);

/* ---- delay.c */
/* Records a failure from client at now_ms; returns the delay to apply. */
unsigned auth_delay_failure(const char *client, uint64_t now_ms);
/* A success from client: its failures are forgotten. */
void auth_delay_success(const char *client);

#endif
