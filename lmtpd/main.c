/* main.c: the lmtpd daemon, Postern's LMTP server in front of the mail
 * store. A thin main() on lib/server.h: one client per process
 * (SERVER_SINGLE; the master starts more processes for more clients, and
 * a client may deliver many messages over one session). post_init reads
 * the settings and gives up root for good as mail_store_owner, since
 * everything lmtpd writes lands in the mail store. See postern-lmtpd(8). */
#include "config.h"

#include <string.h>

#include "lmtpd.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "sock.h"

static struct lmtpd_config config;

static int lmtpd_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	long long line_max = conf_get_int(conf, "line_length_limit");
	/* The auth socket (private/, mail_owner's) stays reachable as
	 * mail_store_owner. */
	char *auth_socket = sock_unix_path_keep("private/auth");

	/* The same socket smtpd and pop3d ask (postern-auth(8)). */
	config.auth = auth_client_new(auth_socket);
	mem_free(auth_socket);
	if (privs_drop(conf_get(conf, "mail_store_owner"), NULL, error_r) < 0)
		return -1;
	config.conf = conf;
	config.myhostname = conf_get(conf, "myhostname");
	config.mail_name = conf_get(conf, "mail_name");
	config.mail_store = conf_get(conf, "mail_store");
	config.temp_directory = conf_get(conf, "lmtpd_temp_directory");
	config.delimiter = conf_get(conf, "recipient_delimiter");
	config.message_size_limit =
	    (uint64_t)conf_get_size(conf, "message_size_limit");
	config.mailbox_size_limit =
	    (uint64_t)conf_get_size(conf, "mailbox_size_limit");
	config.quota_bounce =
	    strcmp(conf_get(conf, "mailbox_quota_action"), "bounce") == 0;
	config.cmd_max = line_max < LMTPD_CMD_MIN	  ? LMTPD_CMD_MIN
			 : line_max > LMTPD_DATA_LINE_MAX ? LMTPD_DATA_LINE_MAX
							  : (size_t)line_max;
	config.timeout_ms = conf_get_msecs(conf, "lmtpd_timeout");
	config.recipient_limit =
	    (long)conf_get_int(conf, "lmtpd_recipient_limit");
	if (config.mail_store[0] != '/' || config.temp_directory[0] != '/') {
		*error_r = "mail_store and lmtpd_temp_directory must be "
			   "absolute paths";
		return -1;
	}
	return 1;
}

static void lmtpd_client(struct server *srv, int fd)
{
	lmtpd_session_start(srv, &config, fd);
}

static void lmtpd_pre_exit(struct server *srv)
{
	(void)srv;
	auth_client_free(&config.auth);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_SINGLE,
	    .post_init = lmtpd_post_init,
	    .client = lmtpd_client,
	    .pre_exit = lmtpd_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
