/* config.c: the master's services, built from main.cf and master.cf, and
 * replaced as a whole on reload.
 *
 * A reload never closes a listening socket whose endpoint is still in the
 * configuration: the old services hand their listeners to a pool, the new
 * services take theirs from it, and only what is left over is closed. The
 * old services' processes are retired, not killed: their status pipe is
 * closed, so each one stops accepting, finishes its clients and exits; new
 * processes (with the new configuration) answer the next connections. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

struct pool {
	struct mlistener **items;
	size_t count;
};

int master_config_read(struct master *m, struct conf **conf_r,
		       struct master_cf **mcf_r, const char **error_r)
{
	struct str path;

	*conf_r = conf_load_dir(m->config_dir, error_r);
	if (*conf_r == NULL)
		return -1;
	str_init(&path, 0);
	str_printf(&path, "%s/master.cf", m->config_dir);
	*mcf_r = master_cf_load(path.data, *conf_r, error_r);
	str_deinit(&path);
	if (*mcf_r == NULL) {
		conf_free(conf_r);
		return -1;
	}
	return 1;
}

static void argv_add(char ***argv, size_t *n, const char *arg)
{
	*argv = mem_realloc(*argv, size_mul(*n + 2, sizeof(char *)));
	(*argv)[(*n)++] = mem_strdup(arg);
	(*argv)[*n] = NULL;
}

static void argv_free(char ***argv)
{
	for (size_t i = 0; *argv != NULL && (*argv)[i] != NULL; i++)
		mem_free((*argv)[i]);
	mem_free(*argv);
}

/* The command line of master_proto.h. */
static char **build_argv(struct master *m, struct mservice *svc)
{
	const struct master_service *cf = svc->cf;
	char **argv = NULL, num[32];
	size_t n = 0;
	struct str o;

	argv_add(&argv, &n, svc->path);
	argv_add(&argv, &n, "-c");
	argv_add(&argv, &n, m->config_dir);
	argv_add(&argv, &n, "-n");
	argv_add(&argv, &n, cf->name);
	argv_add(&argv, &n, "-t");
	argv_add(&argv, &n, master_type_name(cf->type));
	snprintf(num, sizeof(num), "%u", svc->nlisten);
	argv_add(&argv, &n, "-s");
	argv_add(&argv, &n, num);
	snprintf(num, sizeof(num), "%u", cf->maxproc);
	argv_add(&argv, &n, "-m");
	argv_add(&argv, &n, num);
	if (cf->unpriv)
		argv_add(&argv, &n, "-u");
	if (cf->chroot)
		argv_add(&argv, &n, "-r");
	if (m->log_stderr)
		argv_add(&argv, &n, "-e");
	if (m->verbose)
		argv_add(&argv, &n, "-v");
	str_init(&o, 0);
	for (size_t i = 0; i < cf->override_count; i++) {
		str_clear(&o);
		str_printf(&o, "%s=%s", cf->overrides[i].name,
			   cf->overrides[i].value);
		argv_add(&argv, &n, "-o");
		argv_add(&argv, &n, o.data);
	}
	str_deinit(&o);
	argv_add(&argv, &n, "--");
	for (size_t i = 1; i < cf->argc; i++)
		argv_add(&argv, &n, cf->argv[i]);
	return argv;
}

static void service_disable(struct mservice *svc, enum mservice_state state,
			    const char *problem)
{
	svc->state = state;
	mem_free(svc->problem);
	svc->problem = mem_strdup(problem);
}

static struct mlistener *pool_take(struct pool *pool, const char *key)
{
	for (size_t i = 0; i < pool->count; i++) {
		struct mlistener *l = pool->items[i];
		if (strcmp(l->key, key) == 0) {
			pool->items[i] = pool->items[--pool->count];
			return l;
		}
	}
	return NULL;
}

static void pool_add(struct pool *pool, struct mlistener *l)
{
	pool->items =
	    mem_realloc(pool->items, size_mul(pool->count + 1, sizeof(l)));
	pool->items[pool->count++] = l;
	l->svc = NULL;
}

/* Takes each endpoint from the pool, or opens it. */
static int service_listen(struct master *m, struct mservice *svc,
			  struct pool *pool, bool initial)
{
	char *keys[MASTER_LISTEN_MAX];
	const char *err;
	int n = master_listen_keys(m, svc->cf, keys, &err);

	if (n < 0) {
		service_disable(svc, SVC_FAILED, err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct mlistener *l = pool_take(pool, keys[i]);
		if (l == NULL)
			l = master_listener_open(m, keys[i], &err);
		if (l == NULL && initial)
			msg_fatal("service %s: %s", svc->label, err);
		if (l == NULL)
			service_disable(svc, SVC_FAILED, err);
		else {
			l->svc = svc;
			svc->listeners[svc->nlisten++] = l;
		}
	}
	for (int i = 0; i < n; i++)
		mem_free(keys[i]);
	return svc->state == SVC_READY ? 1 : -1;
}

static struct mservice *service_new(struct master *m,
				    const struct master_service *cf)
{
	struct mservice *svc = mem_alloc(sizeof(*svc));
	struct str s;

	svc->m = m;
	svc->cf = cf;
	svc->status_rd = svc->status_wr = -1;
	str_init(&s, 0);
	str_printf(&s, "%s/%s", cf->name, master_type_name(cf->type));
	svc->label = str_steal(&s);
	str_printf(&s, "%s/%s", conf_get(m->conf, "daemon_directory"),
		   cf->argv[0]);
	svc->path = str_steal(&s);
	str_deinit(&s);
	return svc;
}

static void service_setup(struct master *m, struct mservice *svc,
			  struct pool *pool, bool initial)
{
	const char *err;
	struct str why;

	if (svc->cf->type == MASTER_PASS) {
		service_disable(svc, SVC_UNSUPPORTED,
				"pass services are not supported yet");
		return;
	}
	if (access(svc->path, X_OK) < 0) {
		str_init(&why, 0);
		str_printf(&why, "no such daemon: %s: %s", svc->path,
			   strerror(errno));
		service_disable(svc, SVC_MISSING, why.data);
		str_deinit(&why);
		return;
	}
	if (service_listen(m, svc, pool, initial) < 0)
		return;
	if (master_status_pipe_open(svc, &err) < 0) {
		service_disable(svc, SVC_FAILED, err);
		return;
	}
	svc->argv = build_argv(m, svc);
	master_wakeup_start(svc);
	master_avail_update(svc);
}

/* Hands the listeners to the pool and lets the processes run out. */
static void service_retire(struct mservice *svc, struct pool *pool)
{
	for (unsigned int i = 0; i < svc->nlisten; i++) {
		const char *err;
		if (event_io_modify(svc->listeners[i]->io, 0, &err) < 0)
			msg_warn("%s", err);
		pool_add(pool, svc->listeners[i]);
	}
	svc->nlisten = 0;
	master_children_orphan(svc);
	master_status_pipe_close(svc);
	event_timer_remove(&svc->throttle_timer);
	master_wakeup_stop(svc);
	argv_free(&svc->argv);
	mem_free(svc->label);
	mem_free(svc->path);
	mem_free(svc->problem);
	mem_free(svc);
}

static void pool_close(struct pool *pool)
{
	for (size_t i = 0; i < pool->count; i++)
		master_listener_close(&pool->items[i]);
	mem_free(pool->items);
	pool->count = 0;
}

static void retire_all(struct master *m, struct pool *pool)
{
	while (m->services != NULL) {
		struct mservice *svc = m->services;
		m->services = svc->next;
		service_retire(svc, pool);
	}
}

void master_config_apply(struct master *m, struct conf *conf,
			 struct master_cf *mcf, bool initial)
{
	struct pool pool = {NULL, 0};
	struct mservice **tail = &m->services;

	retire_all(m, &pool);
	master_cf_free(&m->mcf);
	conf_free(&m->conf);
	m->conf = conf;
	m->mcf = mcf;
	for (size_t i = 0; i < mcf->count; i++) {
		struct mservice *svc = service_new(m, &mcf->services[i]);
		service_setup(m, svc, &pool, initial);
		*tail = svc;
		tail = &svc->next;
	}
	pool_close(&pool);
	m->generation++;
}

void master_services_free(struct master *m)
{
	struct pool pool = {NULL, 0};

	retire_all(m, &pool);
	pool_close(&pool);
}
