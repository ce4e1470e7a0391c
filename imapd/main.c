/* main.c: the imapd daemon, the IMAP server on ports 143 and 993. A thin
 * main() on lib/server.h: one process serves up to
 * IMAPD_PROCESS_CAPACITY sessions on one event loop (SERVER_MULTI), so
 * that an idle session costs a few KiB rather than a process; pre_init
 * loads the TLS key while still privileged, post_init the rest. See
 * postern-imapd(8). */
#include "config.h"

#include <string.h>

#include "auth_client.h"
#include "imapd.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "sock.h"

static struct imapd_config config;

static int imapd_pre_init(struct server *srv, const char **error_r)
{
	return tls_server_ctx_from_conf(server_conf(srv), "imapd",
					&config.tls_wrapper, &config.tls,
					error_r);
}

static int imapd_post_init(struct server *srv, const char **error_r)
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
	config.tls_auth_only =
	    conf_get_bool(conf, "imapd_tls_auth_only") && config.tls != NULL;
	config.login_timeout_ms = conf_get_msecs(conf, "imapd_login_timeout");
	config.idle_timeout_ms = conf_get_msecs(conf, "imapd_idle_timeout");
	config.max_line = (size_t)conf_get_size(conf, "imapd_max_line_length");
	config.literal_limit =
	    (uint64_t)conf_get_size(conf, "imapd_literal_size_limit");
	if (config.literal_limit == 0 || config.literal_limit > (1u << 30))
		config.literal_limit = 1u << 30;
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

static void imapd_client(struct server *srv, int fd)
{
	imapd_session_start(srv, &config, fd);
}

static void imapd_pre_exit(struct server *srv)
{
	(void)srv;
	tls_ctx_free(&config.tls);
	auth_async_free(&config.auth);
	mem_free(config.public_root);
	mem_free(config.auth_socket);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_MULTI,
	    .multi_capacity = IMAPD_PROCESS_CAPACITY,
	    .pre_init = imapd_pre_init,
	    .post_init = imapd_post_init,
	    .client = imapd_client,
	    .pre_exit = imapd_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
