/* main.c: the pipe delivery agent, a thin main() on lib/server.h (one
 * delivery per connection from qmgr, SERVER_SINGLE). post_init reads the
 * master.cf attributes and, when started as root (master.cf unpriv "n"),
 * gives up root for good as user=: the programs run with that user's
 * rights, never root's nor mail_owner's (which could write the queue).
 * In instance mode, not root, everything runs as the invoking user. Each
 * connection is one request of the delivery protocol with the smtp
 * agent's fields (lib/deliver_proto.h): qmgr sends transport_maps
 * services it does not know to private/SERVICE that way. See
 * postern-pipe(8). */
#include "config.h"

#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_proto.h"
#include "mem.h"
#include "msg.h"
#include "pipe.h"
#include "privs.h"
#include "queue_id.h"
#include "server.h"

static struct pipe_config config;

static int pipe_user(struct conf *conf, const char **error_r)
{
	uid_t uid, owner;
	gid_t gid;

	if (config.user == NULL) {
		if (!privs_is_root())
			return 1;
		*error_r = "user= is required: the user the program runs as";
		return -1;
	}
	if (privs_user(config.user, &uid, &gid, error_r) <= 0)
		return -1;
	if (privs_user(conf_get(conf, "mail_owner"), &owner, &gid, error_r) >
		0 &&
	    uid == owner) {
		*error_r = "user= must not be mail_owner (its programs could "
			   "change the queue)";
		return -1;
	}
	if (!privs_is_root() && uid != geteuid())
		msg_warn("user=%s: not started as root (instance mode, or "
			 "master.cf unpriv is not \"n\"): programs run as uid "
			 "%ld",
			 config.user, (long)geteuid());
	return privs_drop(config.user, NULL, error_r);
}

static int pipe_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	long long t = conf_get_time(conf, "ipc_timeout");
	size_t nargs;
	char *const *args = server_args(srv, &nargs);

	config.ipc_timeout_ms = t > 600 ? 600000u : (unsigned)t * 1000u;
	t = conf_get_time(conf, "command_time_limit");
	config.time_limit = t > 86400 ? 86400u : (unsigned)t;
	config.service = server_service(srv);
	config.delimiter = conf_get(conf, "recipient_delimiter");
	if (pipe_args_parse(args, nargs, &config, error_r) < 0)
		return -1;
	return pipe_user(conf, error_r);
}

static const char *status_name(enum pipe_status s)
{
	return s == PIPE_SENT	   ? "sent"
	       : s == PIPE_BOUNCED ? "bounced"
				   : "deferred";
}

static int rcpts_get(struct attr_rec *req, struct pipe_msg *msg,
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
		struct pipe_rcpt *r = &msg->rcpts[msg->rcpt_count++];

		str_init(&r->text, 128);
		if (attr_get_int_range(&item, "index", 0, 10000000, &r->index,
				       error_r) != 1 ||
		    attr_get_cstr(&item, "address", &r->address, error_r) !=
			1 ||
		    attr_get_cstr(&item, "orcpt", &r->orcpt, error_r) != 1 ||
		    attr_get_int_range(&item, "notify", 0, 15, &notify,
				       error_r) != 1 ||
		    attr_rec_done(&item, error_r) < 0)
			return -1;
	}
	return attr_rec_done(req, error_r);
}

/* The request's fields; envid, ret and flags (DSN) are the smtp
 * agent's business and only checked here. */
static int msg_get(struct attr_rec *req, struct pipe_msg *msg,
		   const char **error_r)
{
	int64_t v[6];
	const char *envid;

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
	    attr_get_cstr(req, "envid", &envid, error_r) != 1 ||
	    attr_get_int_range(req, "ret", 0, 2, &v[4], error_r) != 1 ||
	    attr_get_int_range(req, "flags", 0, 255, &v[5], error_r) != 1) {
		if (*error_r == NULL)
			*error_r = "bad queue_id";
		return -1;
	}
	msg->offset = (uint64_t)v[1];
	msg->size = (uint64_t)v[2];
	return rcpts_get(req, msg, error_r);
}

static void results_put(const struct pipe_msg *msg, struct attr_out *out)
{
	attr_out_reset(out);
	attr_list_begin(out, "rcpts");
	for (size_t i = 0; i < msg->rcpt_count; i++) {
		const struct pipe_rcpt *r = &msg->rcpts[i];

		attr_item_begin(out);
		attr_put_int(out, "index", r->index);
		attr_put_str(out, "status", status_name(r->status));
		attr_put_str(out, "dsn", r->dsn);
		attr_put_str(out, "relay", config.service);
		attr_put_str(out, "text", r->text.data);
		attr_item_end(out);
	}
	attr_list_end(out);
}

static int pipe_request(int fd, struct attr_decoder *dec, int qfd,
			struct attr_out *out, const char **error_r)
{
	struct pipe_msg msg = {.fd = qfd};
	struct attr_rec req;
	int r;

	if (attr_recv_fd(fd, dec, (int)config.ipc_timeout_ms, &req, error_r) !=
	    1)
		return -1;
	str_init(&msg.headers, 1024);
	r = msg_get(&req, &msg, error_r);
	if (r > 0) {
		msg_set_queue_id(msg.queue_id);
		for (size_t i = 0; i < msg.rcpt_count; i++)
			msg.rcpts[i].status = PIPE_DEFERRED;
		pipe_deliver(&config, &msg);
		msg_set_queue_id(NULL);
		results_put(&msg, out);
		r = attr_send_fd(fd, out, (int)config.ipc_timeout_ms, error_r);
	}
	for (size_t i = 0; i < msg.rcpt_count; i++)
		str_deinit(&msg.rcpts[i].text);
	mem_free(msg.rcpts);
	str_deinit(&msg.headers);
	return r;
}

static void pipe_client(struct server *srv, int fd)
{
	struct attr_decoder *dec = attr_decoder_new(0);
	struct attr_out out;
	const char *err = NULL;
	int qfd = -1;

	attr_out_init(&out);
	attr_hello_put(&out, DELIVER_PROTOCOL, DELIVER_VERSION);
	if (attr_send_fd(fd, &out, (int)config.ipc_timeout_ms, &err) < 0 ||
	    deliver_fd_recv(fd, &qfd, (int)config.ipc_timeout_ms, &err) < 0 ||
	    pipe_request(fd, dec, qfd, &out, &err) < 0)
		msg_warn("delivery request from qmgr: %s",
			 err != NULL ? err : "protocol error");
	if (qfd >= 0)
		close(qfd);
	attr_out_deinit(&out);
	attr_decoder_free(&dec);
	close(fd);
	server_client_done(srv);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_SINGLE,
	    .post_init = pipe_post_init,
	    .client = pipe_client,
	};

	return server_main(argc, argv, &ops, NULL);
}
