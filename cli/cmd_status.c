/* cmd_status.c: `postern status` prints what the master runs, one line per
 * service (state, processes, idle ones, restarts, pids), from the master's
 * status socket; and the helpers the other lifecycle commands share
 * (lifecycle.h). Exit 0 when the master runs, 1 when it does not. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "commands.h"
#include "instance.h"
#include "lifecycle.h"
#include "master_proto.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

#define STATUS_TIMEOUT_MS 5000
#define STATUS_MAX_REPLY (4 * 1024 * 1024)

struct conf *lifecycle_load(char **dir_r, struct master_cf **mcf_r)
{
	const char *err;
	struct conf *c = instance_load(postern_config_dir, dir_r, mcf_r, &err);

	if (c == NULL)
		msg_error("%s", err);
	return c;
}

int lifecycle_query(struct conf *c, struct attr_client **client_r,
		    struct attr_rec *rec_r, const char **error_r)
{
	char *path = instance_status_path(c);
	struct attr_out o;
	int ret;

	ret = attr_client_connect(path, MASTER_STATUS_PROTOCOL,
				  MASTER_STATUS_VERSION, STATUS_TIMEOUT_MS,
				  client_r, error_r);
	mem_free(path);
	if (ret < 0)
		return -1;
	attr_client_set_max(*client_r, STATUS_MAX_REPLY);
	attr_out_init(&o);
	attr_put_str(&o, "op", "status");
	ret = attr_client_call(*client_r, &o, rec_r, error_r);
	attr_out_deinit(&o);
	if (ret < 0)
		attr_client_free(client_r);
	return ret < 0 ? -1 : 1;
}

struct svc_line {
	const char *name, *type, *state, *problem, *pids, *listen;
	int64_t procs, avail, maxproc, restarts, throttle_ms;
};

static int get_service(struct attr_rec *r, struct svc_line *s, const char **err)
{
	size_t len;

	if (attr_get_str(r, "name", &s->name, &len, err) != 1 ||
	    attr_get_str(r, "type", &s->type, &len, err) != 1 ||
	    attr_get_str(r, "state", &s->state, &len, err) != 1 ||
	    attr_get_str(r, "problem", &s->problem, &len, err) != 1 ||
	    attr_get_str(r, "pids", &s->pids, &len, err) != 1 ||
	    attr_get_str(r, "listen", &s->listen, &len, err) != 1 ||
	    attr_get_int(r, "procs", &s->procs, err) != 1 ||
	    attr_get_int(r, "avail", &s->avail, err) != 1 ||
	    attr_get_int(r, "maxproc", &s->maxproc, err) != 1 ||
	    attr_get_int(r, "restarts", &s->restarts, err) != 1 ||
	    attr_get_int(r, "throttle_ms", &s->throttle_ms, err) != 1)
		return -1;
	return 1;
}

static void print_service(const struct svc_line *s)
{
	char label[128], state[48], procs[48];
	char safe[1024];

	snprintf(label, sizeof(label), "%s/%s", s->name, s->type);
	if (s->throttle_ms > 0)
		snprintf(state, sizeof(state), "throttled(%llds)",
			 (long long)((s->throttle_ms + 999) / 1000));
	else
		snprintf(state, sizeof(state), "%s", s->state);
	if (s->maxproc > 0)
		snprintf(procs, sizeof(procs), "%lld/%lld", (long long)s->procs,
			 (long long)s->maxproc);
	else
		snprintf(procs, sizeof(procs), "%lld", (long long)s->procs);
	printf("%-28s %-14s %-9s %-5lld %-9lld %s", label, state, procs,
	       (long long)s->avail, (long long)s->restarts,
	       s->pids[0] ? s->pids : "-");
	if (s->problem[0] != '\0')
		printf("  (%s)", msg_safe(safe, sizeof(safe), s->problem,
					  strlen(s->problem)));
	printf("\n");
}

static int print_services(struct attr_rec *rec, const char **err)
{
	struct attr_list list;
	struct attr_rec item;
	struct svc_line s;

	if (attr_get_list(rec, "services", &list, err) != 1)
		return -1;
	printf("%-28s %-14s %-9s %-5s %-9s %s\n", "SERVICE", "STATE", "PROCS",
	       "IDLE", "RESTARTS", "PIDS");
	while (attr_list_next(&list, &item) == 1) {
		if (get_service(&item, &s, err) < 0 ||
		    attr_rec_done(&item, err) < 0)
			return -1;
		print_service(&s);
	}
	return 1;
}

static int print_status(struct attr_rec *rec, const char **err)
{
	int64_t pid, gen, started, retiring;
	const char *reload_error;
	size_t len;
	time_t now = time(NULL);

	if (attr_get_int(rec, "pid", &pid, err) != 1 ||
	    attr_get_int(rec, "generation", &gen, err) != 1 ||
	    attr_get_int(rec, "started", &started, err) != 1 ||
	    attr_get_int(rec, "retiring", &retiring, err) != 1 ||
	    attr_get_str(rec, "reload_error", &reload_error, &len, err) != 1)
		return -1;
	printf("master: pid %lld, up %llds, configuration loaded %lld time(s)",
	       (long long)pid, (long long)(now - started), (long long)gen);
	if (retiring > 0)
		printf(", %lld process(es) of an older configuration finishing",
		       (long long)retiring);
	printf("\n");
	if (reload_error[0] != '\0')
		printf("last reload failed: %s\n", reload_error);
	if (print_services(rec, err) < 0)
		return -1;
	return attr_rec_done(rec, err);
}

int cmd_status_main(int argc, char **argv)
{
	struct attr_client *client = NULL;
	struct attr_rec rec;
	const char *err;
	char *dir = NULL;
	struct conf *c;
	pid_t pid;
	int ret = LIFECYCLE_EXIT_FAIL;

	if (argc != 1) {
		fprintf(stderr, "usage: postern status\n");
		return LIFECYCLE_EXIT_USAGE;
	}
	c = lifecycle_load(&dir, NULL);
	if (c == NULL)
		return LIFECYCLE_EXIT_FAIL;
	if (instance_running(c, &pid, &err) <= 0)
		msg_error("the instance in %s is not running", dir);
	else if (lifecycle_query(c, &client, &rec, &err) < 0)
		msg_error("master (pid %ld): %s", (long)pid, err);
	else if (print_status(&rec, &err) < 0)
		msg_error("bad reply from the master: %s", err);
	else
		ret = 0;
	attr_client_free(&client);
	conf_free(&c);
	mem_free(dir);
	return ret;
}
