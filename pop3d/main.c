/* main.c: the pop3d daemon, the POP3 server on ports 110 and 995. A thin
 * main() on lib/server.h: one process serves up to POP3D_PROCESS_CAPACITY
 * sessions on one event loop (SERVER_MULTI); pre_init loads the TLS key
 * while still privileged, post_init the rest. See postern-pop3d(8). */
#include "config.h"

#include <string.h>

#include "auth_client.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "sock.h"
#include "pop3d.h"

static struct pop3d_config config;

static int pop3d_pre_init(struct server *srv, const char **error_r)
{
	return tls_server_ctx_from_conf(server_conf(srv), "pop3d",
					&config.tls_wrapper, &config.tls,
					error_r);
}

static int pop3d_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	struct str pub;

	/* The mail store belongs to mail_store_owner: run as that user
	 * from here on (nothing changes when the master is not root). The
	 * auth socket in mail_owner's private/ stays reachable. */
	config.auth_socket = sock_unix_path_keep("private/auth");
	if (privs_drop(conf_get(conf, "mail_store_owner"), NULL, error_r) < 0)
		return -1;
	config.conf = conf;
	config.hostname = conf_get(conf, "myhostname");
	config.greeting = conf_get(conf, "pop3d_greeting");
	/* Without a certificate there is no TLS to wait for. */
	config.tls_auth_only =
	    conf_get_bool(conf, "pop3d_tls_auth_only") && config.tls != NULL;
	config.timeout_ms = conf_get_msecs(conf, "pop3d_timeout");
	config.max_line = (size_t)conf_get_size(conf, "pop3d_max_line_length");
	config.mail_store = conf_get(conf, "mail_store");
	if (config.mail_store[0] != '/') {
		*error_r = "mail_store must be an absolute path";
		return -1;
	}
	str_init(&pub, 64);
	str_printf(&pub, "%s/Public", config.mail_store);
	config.public_root = str_steal(&pub);
	config.auth = auth_async_new(server_loop(srv), config.auth_socket,
				     AUTH_CALL_TIMEOUT_MS);
	return 1;
}

static void pop3d_client(struct server *srv, int fd)
{
	pop3d_session_start(srv, &config, fd);
}

static void pop3d_pre_exit(struct server *srv)
{
	(void)srv;
	auth_async_free(&config.auth);
	tls_ctx_free(&config.tls);
	mem_free(config.public_root);
	mem_free(config.auth_socket);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_MULTI,
	    .multi_capacity = POP3D_PROCESS_CAPACITY,
	    .pre_init = pop3d_pre_init,
	    .post_init = pop3d_post_init,
	    .client = pop3d_client,
	    .pre_exit = pop3d_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
