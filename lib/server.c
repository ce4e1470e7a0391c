/* server.c: the daemon skeleton's setup (see server.h): the command line and
 * descriptors the master hands over (master_proto.h), main.cf with the
 * service's overrides, logging, and the privilege drop. The accept loop is
 * in server_loop.c. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "server_internal.h"
#include "str.h"

/* Larger values would overflow the millisecond timers. */
#define SERVER_SECONDS_MAX (UINT_MAX / 1000 - 1)

static unsigned long opt_number(const char *arg, const char *what,
				unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || n > max)
		msg_fatal("bad %s \"%s\" on the command line", what, arg);
	return n;
}

static void opt_override(struct server *srv, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct conf_setting *s;

	if (eq == NULL || eq == arg)
		msg_fatal("bad -o \"%s\" on the command line (expected "
			  "name=value)",
			  arg);
	srv->overrides = mem_realloc(srv->overrides,
				     size_mul(srv->noverrides + 1, sizeof(*s)));
	s = &srv->overrides[srv->noverrides++];
	memset(s, 0, sizeof(*s));
	s->name = mem_strndup(arg, (size_t)(eq - arg));
	s->value = mem_strdup(eq + 1);
	s->origin = "master.cf";
}

static void usage(const char *program)
{
	msg_fatal("%s is run by the Postern master (postern start), not by "
		  "hand; usage: %s -c DIR -n SERVICE -t TYPE -s N -m N [-u] "
		  "[-r] [-e] [-v] [-o name=value]... -- [args]",
		  program, program);
}

static void parse_options(struct server *srv, int argc, char **argv)
{
	int c;

	srv->nlisten = 1;
	optind = 1;
	while ((c = getopt(argc, argv, "+c:n:t:s:m:ureo:v")) != -1) {
		switch (c) {
		case 'c':
			srv->config_dir = optarg;
			break;
		case 'n':
			srv->service = optarg;
			break;
		case 't':
			srv->type = optarg;
			break;
		case 's':
			srv->nlisten = (unsigned int)opt_number(
			    optarg, "listener count", MASTER_LISTEN_MAX);
			break;
		case 'm':
			srv->maxproc =
			    (long)opt_number(optarg, "process limit", INT_MAX);
			break;
		case 'u':
			srv->unpriv = true;
			break;
		case 'r':
			srv->chroot = true;
			break;
		case 'e':
			srv->log_stderr = true;
			break;
		case 'v':
			srv->verbose = true;
			break;
		case 'o':
			opt_override(srv, optarg);
			break;
		default:
			usage(srv->program);
		}
	}
	if (srv->config_dir == NULL || srv->service == NULL ||
	    srv->type == NULL)
		usage(srv->program);
	srv->args = argv + optind;
	srv->nargs = (size_t)(argc - optind);
}

/* The descriptors must be what the master hands over; anything else means
 * the program was started some other way. */
static void check_descriptors(struct server *srv)
{
	struct stat st;

	if (fstat(MASTER_STATUS_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
		usage(srv->program);
	for (unsigned int i = 0; i < srv->nlisten; i++) {
		int fd = MASTER_LISTEN_FD + (int)i;
		if (fstat(fd, &st) < 0 ||
		    !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)))
			msg_fatal("service %s: descriptor %d is not a "
				  "listener from the master",
				  srv->service, fd);
		srv->listeners[i].srv = srv;
		srv->listeners[i].fd = fd;
		srv->listeners[i].fifo = S_ISFIFO(st.st_mode);
	}
	/* Nothing else of the parent's may leak into a daemon. */
	close_range((unsigned int)MASTER_LISTEN_FD + srv->nlisten, ~0U, 0);
}

static void setup_logging(struct server *srv)
{
	const char *name = conf_get(srv->conf, "syslog_name");
	char prog[64];

	if (srv->log_stderr)
		snprintf(prog, sizeof(prog), "%s/%s[%ld]", name, srv->program,
			 (long)getpid());
	else
		snprintf(prog, sizeof(prog), "%s/%s", name, srv->program);
	msg_init(prog, srv->log_stderr ? MSG_DEST_STDERR : MSG_DEST_SYSLOG);
	msg_set_level(srv->verbose ? MSG_DEBUG : MSG_INFO);
}

static unsigned int conf_seconds(struct conf *c, const char *name)
{
	long long v = conf_get_time(c, name);

	return v > SERVER_SECONDS_MAX ? SERVER_SECONDS_MAX : (unsigned int)v;
}

static void load_conf(struct server *srv)
{
	const char *err;

	srv->conf = conf_load_dir(srv->config_dir, &err);
	if (srv->conf == NULL)
		msg_fatal("%s", err);
	if (srv->noverrides > 0 && conf_override_all(srv->conf, srv->overrides,
						     srv->noverrides, &err) < 0)
		msg_fatal("service %s: %s", srv->service, err);
	srv->max_use = (unsigned long)conf_get_int(srv->conf, "max_use");
	srv->max_idle = conf_seconds(srv->conf, "max_idle");
	srv->daemon_timeout = conf_seconds(srv->conf, "daemon_timeout");
}

static void drop_privileges(struct server *srv)
{
	const char *err, *user = NULL, *jail = NULL;

	if (srv->unpriv)
		user = conf_get(srv->conf, "mail_owner");
	if (srv->chroot)
		jail = conf_get(srv->conf, "queue_directory");
	if (privs_drop(user, jail, &err) < 0)
		msg_fatal("service %s: %s", srv->service, err);
}

static void run_init(struct server *srv,
		     int (*fn)(struct server *, const char **),
		     const char *what)
{
	const char *err = "unknown error";

	if (fn != NULL && fn(srv, &err) < 0)
		msg_fatal("service %s: %s: %s", srv->service, what, err);
}

static void server_free(struct server *srv)
{
	server_loop_teardown(srv);
	event_loop_free(&srv->loop);
	conf_free(&srv->conf);
	for (size_t i = 0; i < srv->noverrides; i++) {
		char *name = (char *)srv->overrides[i].name;
		char *value = (char *)srv->overrides[i].value;
		mem_free(name);
		mem_free(value);
	}
	mem_free(srv->overrides);
}

int server_main(int argc, char **argv, const struct server_ops *ops, void *ctx)
{
	struct server srv = {.ops = ops, .ctx = ctx, .reported_avail = true};
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL, *err;

	srv.program = slash != NULL ? slash + 1 : argc > 0 ? argv[0] : "daemon";
	msg_init(srv.program, MSG_DEST_STDERR);
	parse_options(&srv, argc, argv);
	check_descriptors(&srv);
	signal(SIGPIPE, SIG_IGN);
	load_conf(&srv);
	setup_logging(&srv);
	if ((ops->flags & SERVER_SOLITARY) && srv.maxproc != 1)
		msg_fatal("service %s: %s runs as a single process: set its "
			  "maxproc column in master.cf to 1",
			  srv.service, srv.program);
	srv.loop = event_loop_new(&err);
	if (srv.loop == NULL)
		msg_fatal("%s", err);
	run_init(&srv, ops->pre_init, "initialization");
	drop_privileges(&srv);
	run_init(&srv, ops->post_init, "initialization");
	if (server_loop_setup(&srv, &err) < 0)
		msg_fatal("service %s: %s", srv.service, err);
	msg_debug("service %s: ready, %u listener(s)", srv.service,
		  srv.nlisten);
	if (event_loop_run(srv.loop, &err) < 0)
		msg_fatal("service %s: %s", srv.service, err);
	if (ops->pre_exit != NULL)
		ops->pre_exit(&srv);
	msg_debug("service %s: exiting after %lu client(s)", srv.service,
		  srv.use_count);
	server_free(&srv);
	return 0;
}

void *server_ctx(const struct server *srv)
{
	return srv->ctx;
}

struct event_loop *server_loop(const struct server *srv)
{
	return srv->loop;
}

struct conf *server_conf(const struct server *srv)
{
	return srv->conf;
}

const char *server_service(const struct server *srv)
{
	return srv->service;
}

char *const *server_args(const struct server *srv, size_t *count_r)
{
	*count_r = srv->nargs;
	return srv->args;
}

unsigned long server_use_count(const struct server *srv)
{
	return srv->use_count;
}
