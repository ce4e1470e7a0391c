/* conf_get.c: reading values out of a validated struct conf (see conf.h).
 * Validation already expanded and checked everything, so a failure here
 * means a caller bug (unknown name, wrong type) or a bug in this module:
 * both panic rather than hand a daemon a value it did not ask for. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "mem.h"
#include "msg.h"

static const char *const type_names[] = {
    [CONF_STR] = "string", [CONF_INT] = "integer", [CONF_BOOL] = "boolean",
    [CONF_TIME] = "time",  [CONF_SIZE] = "size",   [CONF_LIST] = "list",
};

/* The checked entry of a table parameter; type -1 accepts any type. */
static struct conf_entry *checked_entry(struct conf *c, const char *name,
					int type)
{
	const struct conf_param *p = conf_param_find(name);
	struct conf_entry *e;
	const char *error, *msg;

	if (p == NULL)
		msg_panic("conf: no parameter named \"%s\" in the table", name);
	if (type >= 0 && p->type != (enum conf_type)type)
		msg_panic("conf: %s is a %s parameter, not a %s", name,
			  type_names[p->type], type_names[type]);
	e = conf_entry_get(c, name);
	if (!e->checked) {
		if (conf_entry_expand(c, e, &error) < 0)
			msg_panic("conf: %s fails after validation: %s", name,
				  error);
		if (conf_param_check(p, e->expanded, &e->num, &msg) < 0)
			msg_panic("conf: %s fails after validation: %s", name,
				  msg);
		e->checked = true;
	}
	return e;
}

const char *conf_get(struct conf *c, const char *name)
{
	return checked_entry(c, name, -1)->expanded;
}

long long conf_get_int(struct conf *c, const char *name)
{
	return checked_entry(c, name, CONF_INT)->num;
}

long long conf_get_time(struct conf *c, const char *name)
{
	return checked_entry(c, name, CONF_TIME)->num;
}

unsigned conf_get_msecs(struct conf *c, const char *name)
{
	long long seconds = conf_get_time(c, name);

	return seconds > 86400 ? 86400u * 1000u : (unsigned)seconds * 1000u;
}

long long conf_get_size(struct conf *c, const char *name)
{
	return checked_entry(c, name, CONF_SIZE)->num;
}

bool conf_get_bool(struct conf *c, const char *name)
{
	return checked_entry(c, name, CONF_BOOL)->num != 0;
}

const char *const *conf_get_list(struct conf *c, const char *name)
{
	struct conf_entry *e = checked_entry(c, name, CONF_LIST);
	const char *error;

	if (e->list == NULL &&
	    conf_list_split(e->expanded, &e->list, &error) < 0)
		msg_panic("conf: %s fails after validation: %s", name, error);
	return (const char *const *)e->list;
}

const char *conf_lookup(struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);
	const char *error;

	if (e == NULL && conf_param_find(name) == NULL)
		return NULL;
	if (e == NULL)
		return conf_get(c, name);
	if (e->param == NULL && e->value == NULL)
		return NULL;
	if (conf_entry_expand(c, e, &error) < 0)
		msg_panic("conf: %s fails after validation: %s", name, error);
	return e->expanded;
}

const char *conf_raw(struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);
	const char *def;

	if (e == NULL) {
		if (conf_param_find(name) == NULL)
			return NULL;
		e = conf_entry_get(c, name);
	}
	if (e->value != NULL)
		return e->value;
	if (e->param == NULL)
		return NULL;
	if (e->param->dynamic != CONF_DYN_NONE) {
		/* Computed defaults are computed while expanding. */
		checked_entry(c, name, -1);
		return e->def;
	}
	def = conf_param_default(e->param, c->level);
	return def != NULL ? def : "";
}

bool conf_is_default(struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);

	return e == NULL || e->value == NULL;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **conf_names_set(struct conf *c)
{
	const char **names = mem_calloc(size_add(c->count, 1), sizeof(*names));
	size_t n = 0;

	for (size_t i = 0; i < c->count; i++)
		if (c->order[i]->src == CONF_SRC_FILE)
			names[n++] = c->order[i]->name;
	qsort(names, n, sizeof(*names), name_cmp);
	return names;
}
