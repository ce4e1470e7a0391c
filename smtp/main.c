/* main.c: the SMTP client daemon, a thin main() on lib/server.h (one qmgr
 * connection at a time, SERVER_SINGLE): post_init builds the
 * configuration (timeouts, TLS client context, resolver); each client is
 * a series of requests of the delivery protocol (lib/deliver_proto.h)
 * with the smtp fields: the next hop, DSN envelope fields and message
 * flags. The results go back with the relay each recipient went to, the
 * set-up and transmission times, the connection's use count and, when
 * the next hop failed as a whole, why ("hop"); reuse=1 tells qmgr that
 * another request may follow on the same connection (at most max_use),
 * where the SMTP session of the last one waits (cache.c). Run as the
 * master.cf service "lmtp" it speaks LMTP to every next hop. See
 * postern-smtp(8). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue_file.h"
#include "queue_id.h"
#include "server.h"
#include "smtp.h"

static struct smtp_config config;

static unsigned secs(struct conf *conf, const char *name)
{
	long long t = conf_get_time(conf, name);

	return t > 86400 ? 86400u : (unsigned)t;
}

static int tls_setup(struct conf *conf, const char **error_r)
{
	const char *level = conf_get(conf, "smtp_tls_security_level");
	struct tls_client_config tc = {0};

	/* Unset means opportunistic TLS (Postfix's Debian default). */
	if (*level == '\0')
		level = "may";
	if (tls_level_parse(level, &config.tls_level) < 0) {
		*error_r = "smtp_tls_security_level: this level is not "
			   "supported yet";
		return -1;
	}
	config.tls_loglevel = (int)conf_get_int(conf, "smtp_tls_loglevel");
	if (smtp_tls_policy_open(&config,
				 conf_get_list(conf, "smtp_tls_policy_maps"),
				 error_r) < 0)
		return -1;
	/* a policy may ask for TLS where the default level does not */
	if (config.tls_level == TLS_LEVEL_NONE && config.tls_policy[0] == NULL)
		return 1;
	tc.ca_file = *conf_get(conf, "smtp_tls_CAfile") != '\0'
			 ? conf_get(conf, "smtp_tls_CAfile")
			 : NULL;
	tc.ca_path = *conf_get(conf, "smtp_tls_CApath") != '\0'
			 ? conf_get(conf, "smtp_tls_CApath")
			 : NULL;
	config.tls = tls_client_ctx_new(&tc, error_r);
	return config.tls != NULL ? 1 : -1;
}

static unsigned families(struct conf *conf)
{
	const char *const *p = conf_get_list(conf, "inet_protocols");
	unsigned f = 0;

	for (; p != NULL && *p != NULL; p++)
		f |= strcmp(*p, "ipv4") == 0 ? DNS_FAMILY_IPV4
		     : strcmp(*p, "ipv6") == 0
			 ? DNS_FAMILY_IPV6
			 : DNS_FAMILY_IPV4 | DNS_FAMILY_IPV6;
	return f;
}

static int smtp_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	long long t = conf_get_time(conf, "ipc_timeout");
	const char *const *servers = conf_get_list(conf, "dns_servers");

	config.helo_name = conf_get(conf, "smtp_helo_name");
	config.self[0] = conf_get(conf, "myhostname");
	config.self[1] = config.helo_name;
	config.port = (unsigned)conf_get_int(conf, "smtp_tcp_port");
	config.lmtp = strcmp(server_service(srv), "lmtp") == 0;
	config.lmtp_port = (unsigned)conf_get_int(conf, "lmtp_tcp_port");
	config.queue_dir = conf_get(conf, "queue_directory");
	config.connect_timeout = secs(conf, "smtp_connect_timeout");
	config.helo_timeout = secs(conf, "smtp_helo_timeout");
	config.mail_timeout = secs(conf, "smtp_mail_timeout");
	config.rcpt_timeout = secs(conf, "smtp_rcpt_timeout");
	config.data_init_timeout = secs(conf, "smtp_data_init_timeout");
	config.data_xfer_timeout = secs(conf, "smtp_data_xfer_timeout");
	config.data_done_timeout = secs(conf, "smtp_data_done_timeout");
	config.quit_timeout = secs(conf, "smtp_quit_timeout");
	config.rset_timeout = secs(conf, "smtp_rset_timeout");
	config.cache_time_ms =
	    secs(conf, "smtp_connection_cache_time_limit") * 1000u;
	config.reuse_count_limit =
	    (unsigned)conf_get_int(conf, "smtp_connection_reuse_count_limit");
	config.reuse_time_limit =
	    secs(conf, "smtp_connection_reuse_time_limit");
	config.max_requests = (unsigned)conf_get_int(conf, "max_use");
	config.ipc_timeout_ms = t > 600 ? 600000u : (unsigned)t * 1000u;
	config.mime_conversion =
	    !conf_get_bool(conf, "disable_mime_output_conversion");
	if (tls_setup(conf, error_r) < 0)
		return -1;
	config.dns = dns_resolver_new(servers, 5000, error_r);
	if (config.dns == NULL)
		return -1;
	dns_resolver_set_families(config.dns, families(conf));
	return 1;
}

static const char *status_name(enum smtp_status s)
{
	return s == SMTP_SENT	   ? "sent"
	       : s == SMTP_BOUNCED ? "bounced"
				   : "deferred";
}

/* The recipients of the request into msg->rcpts (strings in req). */
static int rcpts_get(struct attr_rec *req, struct smtp_msg *msg,
		     const char **error_r)
{
	struct attr_list list;
	struct attr_rec item;
	int64_t notify;
	size_t n;

	if (attr_get_list(req, "rcpts", &list, error_r) != 1)
		return -1;
	n = attr_list_count(&list);
	if (n == 0 || n > DELIVER_RCPT_MAX) {
		*error_r = "bad recipient count";
		return -1;
	}
	msg->rcpts = mem_calloc(n, sizeof(*msg->rcpts));
	while (attr_list_next(&list, &item) == 1) {
		struct smtp_rcpt *r = &msg->rcpts[msg->rcpt_count++];

		str_init(&r->text, 128);
		str_init(&r->relay, 64);
		if (attr_get_int_range(&item, "index", 0, QUEUE_RCPT_MAX,
				       &r->index, error_r) != 1 ||
		    attr_get_cstr(&item, "address", &r->address, error_r) !=
			1 ||
		    attr_get_cstr(&item, "orcpt", &r->orcpt, error_r) != 1 ||
		    attr_get_int_range(&item, "notify", 0, 15, &notify,
				       error_r) != 1 ||
		    attr_rec_done(&item, error_r) < 0)
			return -1;
		r->notify = (unsigned)notify;
	}
	return attr_rec_done(req, error_r);
}

static void results_put(const struct smtp_msg *msg, struct attr_out *out,
			bool reuse)
{
	uint64_t now = smtp_now_usec();
	uint64_t xs = msg->xfer_start_usec != 0 ? msg->xfer_start_usec : now;

	attr_out_reset(out);
	if (msg->hop_failed) {
		attr_put_str(out, "hop", msg->hop.data);
		attr_put_str(out, "hop_dsn", msg->hop_dsn);
	}
	attr_put_int(out, "setup_usec", (int64_t)(xs - msg->start_usec));
	attr_put_int(out, "xfer_usec", (int64_t)(now - xs));
	attr_put_int(out, "conn_use", (int64_t)msg->conn_use);
	attr_put_int(out, "reuse", reuse ? 1 : 0);
	attr_list_begin(out, "rcpts");
	for (size_t i = 0; i < msg->rcpt_count; i++) {
		const struct smtp_rcpt *r = &msg->rcpts[i];

		attr_item_begin(out);
		attr_put_int(out, "index", r->index);
		attr_put_str(out, "status", status_name(r->status));
		attr_put_str(out, "dsn", r->dsn);
		attr_put_str(out, "relay", r->relay.data);
		attr_put_str(out, "text", r->text.data);
		if (r->status == SMTP_SENT && r->relayed)
			attr_put_int(out, "relayed", 1);
		attr_item_end(out);
	}
	attr_list_end(out);
}

static int msg_get(struct attr_rec *req, struct smtp_msg *msg,
		   const char **error_r)
{
	int64_t v[6];

	if (attr_get_cstr(req, "queue_id", &msg->queue_id, error_r) != 1 ||
	    !queue_id_valid(msg->queue_id) ||
	    attr_get_cstr(req, "sender", &msg->sender, error_r) != 1 ||
	    attr_get_int_range(req, "arrival", 0, INT64_MAX, &v[0], error_r) !=
		1 ||
	    attr_get_int_range(req, "offset", 0, INT64_MAX, &v[1], error_r) !=
		1 ||
	    attr_get_int_range(req, "size", 0, INT64_MAX, &v[2], error_r) !=
		1 ||
	    attr_get_int_range(req, "retry", 0, 1, &v[3], error_r) != 1 ||
	    attr_get_cstr(req, "nexthop", &msg->nexthop, error_r) != 1 ||
	    attr_get_cstr(req, "envid", &msg->envid, error_r) != 1 ||
	    attr_get_int_range(req, "ret", 0, 2, &v[4], error_r) != 1 ||
	    attr_get_int_range(req, "flags", 0, 255, &v[5], error_r) != 1) {
		if (*error_r == NULL)
			*error_r = "bad queue_id";
		return -1;
	}
	msg->offset = (uint64_t)v[1];
	msg->size = (uint64_t)v[2];
	msg->ret = (int)v[4];
	msg->flags = (unsigned)v[5];
	return rcpts_get(req, msg, error_r);
}

static int smtp_request(int fd, struct attr_decoder *dec, int qfd,
			struct attr_out *out, bool reuse, const char **error_r)
{
	struct smtp_msg msg = {.fd = qfd};
	struct attr_rec req;
	int r;

	if (attr_recv_fd(fd, dec, (int)config.ipc_timeout_ms, &req, error_r) !=
	    1)
		return -1;
	msg.start_usec = smtp_now_usec();
	str_init(&msg.hop, 64);
	r = msg_get(&req, &msg, error_r);
	if (r > 0) {
		msg_set_queue_id(msg.queue_id);
		smtp_deliver(&config, &msg);
		smtp_rcpts_set(&msg, SMTP_DEFERRED, "4.3.0", "none",
			       "internal error: no result");
		msg_set_queue_id(NULL);
		results_put(&msg, out, reuse);
		r = attr_send_fd(fd, out, (int)config.ipc_timeout_ms, error_r);
	}
	for (size_t i = 0; i < msg.rcpt_count; i++) {
		str_deinit(&msg.rcpts[i].text);
		str_deinit(&msg.rcpts[i].relay);
	}
	mem_free(msg.rcpts);
	str_deinit(&msg.hop);
	mime_7bit_free(&msg.mime);
	return r;
}

/* Waits for qmgr's next request: 1 when one comes, 0 when qmgr closed
 * the connection or left it idle too long. */
static int next_request(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char byte;
	int r;

	/* qmgr closes idle agents after the cache time limit; this is
	 * only a safety net, a little later */
	do
		r = poll(&p, 1, (int)config.cache_time_ms + 5000);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return 0;
	return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1 ? 1 : 0;
}

static void smtp_client(struct server *srv, int fd)
{
	struct attr_decoder *dec = attr_decoder_new(0);
	struct attr_out out;
	const char *err = NULL;
	unsigned served = 0;
	int qfd = -1, r;

	attr_out_init(&out);
	attr_hello_put(&out, DELIVER_PROTOCOL, DELIVER_VERSION);
	r = attr_send_fd(fd, &out, (int)config.ipc_timeout_ms, &err);
	while (r > 0) {
		bool reuse = ++served < config.max_requests;

		r = deliver_fd_recv(fd, &qfd, (int)config.ipc_timeout_ms, &err);
		if (r > 0)
			r = smtp_request(fd, dec, qfd, &out, reuse, &err);
		if (qfd >= 0)
			close(qfd);
		qfd = -1;
		if (r < 0)
			msg_warn("delivery request from qmgr: %s",
				 err != NULL ? err : "protocol error");
		if (r > 0 && (!reuse || next_request(fd) <= 0))
			break;
	}
	smtp_cache_close(&config);
	attr_out_deinit(&out);
	attr_decoder_free(&dec);
	close(fd);
	server_client_done(srv);
}

static void smtp_pre_exit(struct server *srv)
{
	(void)srv;
	smtp_cache_close(&config);
	dns_resolver_free(&config.dns);
	smtp_tls_policy_close(&config);
	tls_ctx_free(&config.tls);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_SINGLE,
	    .post_init = smtp_post_init,
	    .client = smtp_client,
	    .pre_exit = smtp_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
