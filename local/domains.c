/* domains.c: local domains and the tables of local delivery (see
 * domains.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dict_mem.h"
#include "domains.h"
#include "mem.h"
#include "msg.h"
#include "str.h"

#define DOMAINS_MAX 100000

struct domain_list {
	char **items;
	size_t count, cap;
};

static bool domain_known(const struct domain_list *l, const char *d)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], d) == 0)
			return true;
	return false;
}

static void domain_add(struct domain_list *l, const char *d, size_t len)
{
	char *copy;

	if (len == 0 || l->count >= DOMAINS_MAX)
		return;
	copy = mem_strndup(d, len);
	if (domain_known(l, copy)) {
		mem_free(copy);
		return;
	}
	if (l->count + 2 > l->cap) {
		l->cap = l->cap == 0 ? 8 : size_mul(l->cap, 2);
		l->items =
		    mem_realloc(l->items, size_mul(l->cap, sizeof(char *)));
	}
	l->items[l->count++] = copy;
	l->items[l->count] = NULL;
}

struct users_copy {
	struct domain_list *domains;
	struct dict *keys;
};

/* Keeps the address, its domain and its quota=BYTES (local's mailbox
 * limit), never the password hash (only the auth daemon holds those). */
static int users_domain(void *ctx, const char *key, const char *value)
{
	struct users_copy *c = ctx;
	const char *at = strrchr(key, '@');
	const char *q = strstr(value, " quota=");
	char *keep;

	if (at != NULL)
		domain_add(c->domains, at + 1, strlen(at + 1));
	keep = q != NULL ? mem_strndup(q + 1, strcspn(q + 1, " \t")) : NULL;
	(void)dict_mem_add(c->keys, key, keep != NULL ? keep : "",
			   "users_table", 0);
	mem_free(keep);
	return 0;
}

/* Replaces lt->users by an in-memory copy of its addresses. A table that
 * cannot be listed is kept as it is (lookups still work). */
static void users_copy_keys(struct local_tables *lt, struct domain_list *l)
{
	struct users_copy c = {.domains = l};
	const char *err;

	c.keys = dict_mem_new("users", lt->users->name, 0);
	if (dict_iterate(lt->users, users_domain, &c, &err) < 0) {
		msg_warn("users_table: cannot list its addresses: %s", err);
		dict_close(&c.keys);
		return;
	}
	dict_close(&lt->users);
	lt->users = c.keys;
}

static bool table_missing(const char *spec)
{
	static const char *const suffixes[] = {"", ".db", ".lmdb"};
	const char *colon = strchr(spec, ':');
	struct str p;
	struct stat st;
	bool missing = true;

	if (colon == NULL || colon[1] != '/')
		return false;
	str_init(&p, 128);
	for (size_t i = 0; i < 3 && missing; i++) {
		str_clear(&p);
		str_printf(&p, "%s%s", colon + 1, suffixes[i]);
		if (stat(p.data, &st) == 0 || errno != ENOENT)
			missing = false;
	}
	str_deinit(&p);
	return missing;
}

/* 1 with *d_r (NULL for a missing table), -1 for a broken one. */
static int table_open(const char *spec, struct dict **d_r, const char **error_r)
{
	*d_r = dict_open(spec, 0, error_r);
	if (*d_r != NULL)
		return 1;
	if (!table_missing(spec))
		return -1;
	msg_warn("table %s does not exist: treated as empty", spec);
	return 1;
}

static int tables_open_list(const char *const *specs, struct dict ***out,
			    const char **error_r)
{
	size_t n = 0, k = 0;
	struct dict *d;

	while (specs[n] != NULL)
		n++;
	*out = mem_calloc(n + 1, sizeof(struct dict *));
	for (size_t i = 0; i < n; i++) {
		if (table_open(specs[i], &d, error_r) < 0)
			return -1;
		if (d != NULL)
			(*out)[k++] = d;
	}
	return 1;
}

int local_tables_open(struct conf *conf, bool users_optional,
		      struct local_tables **lt_r, const char **error_r)
{
	struct local_tables *lt = mem_calloc(1, sizeof(*lt));
	const char *const *dest = conf_get_list(conf, "mydestination");
	struct domain_list l = {0};
	const char *err;

	lt->delimiter = conf_get(conf, "recipient_delimiter");
	*lt_r = lt;
	if (table_open(conf_get(conf, "users_table"), &lt->users, &err) < 0) {
		/* qmgr may lack the right to read auth's file: then only
		 * mydestination is local; local opens it as root */
		if (!users_optional) {
			*error_r = err;
			return -1;
		}
		msg_warn("users_table: %s; only mydestination domains are "
			 "local",
			 err);
		lt->users = NULL;
	}
	if (tables_open_list(conf_get_list(conf, "alias_maps"), &lt->aliases,
			     error_r) < 0 ||
	    tables_open_list(conf_get_list(conf, "virtual_alias_maps"),
			     &lt->virtual_maps, error_r) < 0)
		return -1;
	for (size_t i = 0; dest[i] != NULL; i++)
		domain_add(&l, dest[i], strlen(dest[i]));
	if (lt->users != NULL)
		users_copy_keys(lt, &l);
	if (l.items == NULL)
		l.items = mem_calloc(1, sizeof(char *));
	lt->domains = l.items;
	return 1;
}

static void dicts_free(struct dict **list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		dict_close(&list[i]);
	mem_free(list);
}

void local_tables_free(struct local_tables **ltp)
{
	struct local_tables *lt = *ltp;

	if (lt == NULL)
		return;
	dict_close(&lt->users);
	dicts_free(lt->aliases);
	dicts_free(lt->virtual_maps);
	for (size_t i = 0; lt->domains != NULL && lt->domains[i] != NULL; i++)
		mem_free(lt->domains[i]);
	mem_free(lt->domains);
	mem_free(lt);
	*ltp = NULL;
}

bool local_domain_match(const struct local_tables *lt, const char *address)
{
	const char *at = strrchr(address, '@');
	struct domain_list l = {.items = lt->domains};

	if (at == NULL)
		return true;
	while (l.items[l.count] != NULL)
		l.count++;
	return domain_known(&l, at + 1);
}
