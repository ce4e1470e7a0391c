/* main.c: the auth daemon, the one process that reads password hashes
 * (postern-auth(8)). A thin main() on lib/server.h: many clients per
 * process on one event loop (SERVER_MULTI), so that a failure reply held
 * back for one client never holds up another. Clients are smtpd (and
 * later imapd and pop3d) over $queue_directory/private/auth. */
#include "config.h"

#include "auth.h"
#include "mem.h"
#include "msg.h"

static struct auth_state state;

static int auth_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	const char *path =
	    users_table_path(conf_get(conf, "users_table"), error_r);

	if (path == NULL)
		return -1;
	state.srv = srv;
	state.path = mem_strdup(path);
	state.domain = conf_get(conf, "mydomain");
	auth_cache_init((size_t)conf_get_int(conf, "auth_cache_size"),
			(uint64_t)conf_get_time(conf, "auth_cache_ttl"));
	/* Makes the dummy hash now, so that the first unknown user does not
	 * take longer than a known one (lib/users.h). */
	(void)users_password_verify(NULL, "");
	return 1;
}

static void auth_client(struct server *srv, int fd)
{
	(void)srv;
	auth_conn_start(&state, fd);
}

static void auth_pre_exit(struct server *srv)
{
	(void)srv;
	users_free(&state.users);
	mem_free(state.path);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_MULTI,
	    /* One process keeps the failure delays and the login cache:
	     * it must not retire after max_use clients or max_idle. */
	    .flags = SERVER_RESIDENT,
	    .post_init = auth_post_init,
	    .client = auth_client,
	    .pre_exit = auth_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
