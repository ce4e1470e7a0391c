/* main.c: the smtpd daemon, the SMTP server on ports 25, 587 and 465. A
 * thin main() on lib/server.h: one process serves up to
 * SMTPD_PROCESS_CAPACITY sessions on one event loop (SERVER_MULTI), so
 * that an idle session costs its buffers rather than a process; the TLS
 * context, tables, queue and auth connection are the process's, shared by
 * its sessions. pre_init loads the TLS key while still privileged,
 * post_init reads the rest of the settings and opens the queue, and each
 * client becomes a session (session.c). See postern-smtpd(8). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "queue_pool.h"
#include "smtpd.h"

static struct smtpd_config config;

static int smtpd_load_tls(struct conf *conf, const char **error_r)
{
	const char *level = conf_get(conf, "smtpd_tls_security_level");
	const char *cert = conf_get(conf, "smtpd_tls_cert_file");
	struct tls_server_config tc = {
	    .cert_file = cert,
	    .key_file = conf_get(conf, "smtpd_tls_key_file"),
	};

	config.tls_wrapper = conf_get_bool(conf, "smtpd_tls_wrappermode");
	config.tls_required = strcmp(level, "encrypt") == 0;
	if (!config.tls_wrapper && !config.tls_required &&
	    strcmp(level, "may") != 0)
		return 1;
	if (cert[0] == '\0') {
		*error_r = "TLS is configured (smtpd_tls_security_level or "
			   "smtpd_tls_wrappermode) but smtpd_tls_cert_file "
			   "is empty";
		return -1;
	}
	config.tls = tls_server_ctx_new(&tc, error_r);
	return config.tls != NULL ? 1 : -1;
}

/* smtpd_client_connection_count_limit: the lock folder under private/.
 * A folder that cannot be made leaves the limit unenforced (logged), as
 * Postfix does when anvil is down: refusing all mail would be worse. */
static int smtpd_conn_limit_init(struct conf *conf, const char **error_r)
{
	long long limit =
	    conf_get_int(conf, "smtpd_client_connection_count_limit");
	struct str dir;
	const char *err;

	config.conn_dir_fd = -1;
	config.conn_limit = limit > 100000 ? 100000u : (unsigned)limit;
	if (cidr_list_parse(
		conf_get_list(conf, "smtpd_client_event_limit_exceptions"),
		&config.limit_exceptions, error_r) < 0)
		return -1;
	if (config.conn_limit == 0)
		return 1;
	str_init(&dir, 128);
	str_printf(&dir, "%s/private/smtpd-conn",
		   conf_get(conf, "queue_directory"));
	config.conn_dir_fd = conn_limit_open_dir(dir.data, &err);
	if (config.conn_dir_fd < 0)
		msg_warn("smtpd_client_connection_count_limit is not "
			 "enforced: %s",
			 err);
	str_deinit(&dir);
	return 1;
}

static int smtpd_pre_init(struct server *srv, const char **error_r)
{
	return smtpd_load_tls(server_conf(srv), error_r);
}

static int smtpd_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	long long line_max = conf_get_int(conf, "line_length_limit");

	config.conf = conf;
	config.conn_dir_fd = -1;
	config.myhostname = conf_get(conf, "myhostname");
	config.banner = conf_get(conf, "smtpd_banner");
	config.message_size_limit =
	    (uint64_t)conf_get_size(conf, "message_size_limit");
	config.cmd_max = line_max < SMTPD_CMD_MIN	  ? SMTPD_CMD_MIN
			 : line_max > SMTPD_DATA_LINE_MAX ? SMTPD_DATA_LINE_MAX
							  : (size_t)line_max;
	config.timeout_ms = conf_get_msecs(conf, "smtpd_timeout");
	config.recipient_limit =
	    (long)conf_get_int(conf, "smtpd_recipient_limit");
	config.soft_error_limit =
	    (long)conf_get_int(conf, "smtpd_soft_error_limit");
	config.hard_error_limit =
	    (long)conf_get_int(conf, "smtpd_hard_error_limit");
	config.junk_limit =
	    (long)conf_get_int(conf, "smtpd_junk_command_limit");
	config.error_sleep_ms = conf_get_msecs(conf, "smtpd_error_sleep_time");
	config.helo_required = conf_get_bool(conf, "smtpd_helo_required");
	config.vrfy_disabled = conf_get_bool(conf, "disable_vrfy_command");
	config.forbid_bare_lf =
	    conf_get_bool(conf, "smtpd_forbid_bare_newline");
	if (cidr_list_parse(conf_get_list(conf, "mynetworks"),
			    &config.mynetworks, error_r) < 0 ||
	    cidr_list_parse(
		conf_get_list(conf, "smtpd_forbid_bare_newline_exclusions"),
		&config.bare_lf_exclusions, error_r) < 0 ||
	    smtpd_conn_limit_init(conf, error_r) < 0)
		return -1;
	if (queue_dir_open(conf_get(conf, "queue_directory"), &config.queue,
			   error_r) < 0)
		return -1;
	config.queue_pool = queue_pool_new(config.queue);
	if (smtpd_auth_init(&config, server_loop(srv), error_r) < 0 ||
	    smtpd_commit_init(&config, server_loop(srv), error_r) < 0 ||
	    smtpd_peername_init(&config, server_loop(srv), error_r) < 0)
		return -1;
	return smtpd_policy_init(&config, error_r);
}

static void smtpd_client(struct server *srv, int fd)
{
	smtpd_session_start(srv, &config, fd);
}

static void smtpd_pre_exit(struct server *srv)
{
	(void)srv;
	smtpd_commit_deinit(&config);
	smtpd_peername_deinit(&config);
	queue_pool_free(&config.queue_pool);
	queue_dir_close(&config.queue);
	cidr_list_free(&config.mynetworks);
	cidr_list_free(&config.bare_lf_exclusions);
	cidr_list_free(&config.limit_exceptions);
	if (config.conn_dir_fd >= 0)
		close(config.conn_dir_fd);
	smtpd_auth_deinit(&config);
	tls_ctx_free(&config.tls);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_MULTI,
	    .multi_capacity = SMTPD_PROCESS_CAPACITY,
	    .pre_init = smtpd_pre_init,
	    .post_init = smtpd_post_init,
	    .client = smtpd_client,
	    .pre_exit = smtpd_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
