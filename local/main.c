/* main.c: the local delivery agent, a thin main() on lib/server.h (one
 * delivery per connection, SERVER_SINGLE). post_init opens the tables and
 * then gives up root for good as mail_store_owner: the queue file comes
 * from qmgr as an open descriptor (lib/deliver_proto.h), so local needs no
 * right on the queue. See postern-local(8). */
#include "config.h"

#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_proto.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "queue_id.h"
#include "server.h"

static struct local_config config;

/* $HOME for commands: the home of the user we now run as. */
static int local_home_set(const char **error_r)
{
	static char *home;
	struct passwd *pw = getpwuid(geteuid());

	(void)error_r;
	home = mem_strdup(pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/");
	config.home = home;
	return 1;
}

static int local_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	long long t = conf_get_time(conf, "ipc_timeout");

	config.conf = conf;
	config.mail_store = conf_get(conf, "mail_store");
	config.myhostname = conf_get(conf, "myhostname");
	config.myorigin = conf_get(conf, "myorigin");
	config.timeout_ms = t > 600 ? 600000u : (unsigned)t * 1000u;
	config.hop_limit = conf_get_int(conf, "hopcount_limit");
	t = conf_get_time(conf, "command_time_limit");
	config.command_time_limit = t > 86400 ? 86400u : (unsigned)t;
	config.mailbox_size_limit =
	    (uint64_t)conf_get_size(conf, "mailbox_size_limit");
	config.quota_bounce =
	    strcmp(conf_get(conf, "mailbox_quota_action"), "bounce") == 0;
	if (local_tables_open(conf, false, &config.tables, error_r) < 0 ||
	    privs_drop(conf_get(conf, "mail_store_owner"), NULL, error_r) < 0)
		return -1;
	config.uid = geteuid();
	return local_home_set(error_r);
}

static const char *status_name(enum local_status s)
{
	return s == LOCAL_SENT	    ? "sent"
	       : s == LOCAL_BOUNCED ? "bounced"
				    : "deferred";
}

/* Delivers each recipient of the request and puts its result in out. */
static int local_serve(struct local_msg *msg, struct attr_rec *req,
		       struct attr_out *out, const char **error_r)
{
	struct attr_list list;
	struct attr_rec item;
	struct local_result res;
	const char *addr, *orcpt, *herr;
	int64_t index;
	bool headers_ok;

	if (attr_get_list(req, "rcpts", &list, error_r) != 1 ||
	    attr_rec_done(req, error_r) < 0)
		return -1;
	headers_ok = local_read_headers(msg, &herr) > 0;
	str_init(&res.text, 128);
	attr_list_begin(out, "rcpts");
	while (attr_list_next(&list, &item) == 1) {
		if (attr_get_int_range(&item, "index", 0, 1000000, &index,
				       error_r) != 1 ||
		    attr_get_cstr(&item, "address", &addr, error_r) != 1 ||
		    attr_get_cstr(&item, "orcpt", &orcpt, error_r) != 1 ||
		    attr_rec_done(&item, error_r) < 0) {
			str_deinit(&res.text);
			return -1;
		}
		str_clear(&res.text);
		res.status = LOCAL_SENT;
		if (headers_ok)
			local_deliver_rcpt(&config, msg, addr, &res);
		else
			local_result_set(&res, LOCAL_DEFERRED, "4.3.0",
					 "cannot read queue file: %s", herr);
		attr_item_begin(out);
		attr_put_int(out, "index", index);
		attr_put_str(out, "status", status_name(res.status));
		attr_put_str(out, "dsn", res.dsn);
		attr_put_str(out, "text", res.text.data);
		attr_item_end(out);
	}
	attr_list_end(out);
	str_deinit(&res.text);
	return 1;
}

static int local_request(int fd, struct attr_decoder *dec, int qfd,
			 struct attr_out *out, const char **error_r)
{
	struct local_msg msg = {.fd = qfd};
	struct attr_rec req;
	int64_t arrival, offset, size, retry;
	int r;

	if (attr_recv_fd(fd, dec, (int)config.timeout_ms, &req, error_r) != 1)
		return -1;
	if (attr_get_cstr(&req, "queue_id", &msg.queue_id, error_r) != 1 ||
	    !queue_id_valid(msg.queue_id) ||
	    attr_get_cstr(&req, "sender", &msg.sender, error_r) != 1 ||
	    attr_get_int_range(&req, "arrival", 0, INT64_MAX, &arrival,
			       error_r) != 1 ||
	    attr_get_int_range(&req, "offset", 0, INT64_MAX, &offset,
			       error_r) != 1 ||
	    attr_get_int_range(&req, "size", 0, INT64_MAX, &size, error_r) !=
		1 ||
	    attr_get_int_range(&req, "retry", 0, 1, &retry, error_r) != 1) {
		if (*error_r == NULL)
			*error_r = "bad queue_id";
		return -1;
	}
	msg.arrival_sec = (uint64_t)arrival / 1000000u;
	msg.offset = (uint64_t)offset;
	msg.size = (uint64_t)size;
	msg.retry = retry != 0;
	str_init(&msg.headers, 4096);
	msg_set_queue_id(msg.queue_id);
	attr_out_reset(out);
	r = local_serve(&msg, &req, out, error_r);
	msg_set_queue_id(NULL);
	str_deinit(&msg.headers);
	if (r > 0)
		r = attr_send_fd(fd, out, (int)config.timeout_ms, error_r);
	return r;
}

static void local_client(struct server *srv, int fd)
{
	struct attr_decoder *dec = attr_decoder_new(0);
	struct attr_out out;
	const char *err = NULL;
	int qfd = -1;

	attr_out_init(&out);
	attr_hello_put(&out, DELIVER_PROTOCOL, DELIVER_VERSION);
	if (attr_send_fd(fd, &out, (int)config.timeout_ms, &err) < 0 ||
	    deliver_fd_recv(fd, &qfd, (int)config.timeout_ms, &err) < 0 ||
	    local_request(fd, dec, qfd, &out, &err) < 0)
		msg_warn("delivery request from qmgr: %s",
			 err != NULL ? err : "protocol error");
	if (qfd >= 0)
		close(qfd);
	attr_out_deinit(&out);
	attr_decoder_free(&dec);
	close(fd);
	server_client_done(srv);
}

static void local_pre_exit(struct server *srv)
{
	(void)srv;
	local_tables_free(&config.tables);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_SINGLE,
	    .post_init = local_post_init,
	    .client = local_client,
	    .pre_exit = local_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}
