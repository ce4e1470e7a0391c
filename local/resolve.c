/* resolve.c: from one envelope recipient to its mailboxes. A recipient is
 * a user when users_table has it (user+ext@domain or user@domain); else
 * virtual_alias_maps (by address) or alias_maps (by local part) expand it
 * into other addresses, recursively, with loops and duplicates dropped.
 * Alias targets that are files, commands or :include: lists are not
 * supported yet and defer with that reason (never a silent drop). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "local.h"
#include "mem.h"
#include "msg.h"

struct expand {
	const struct local_config *cfg;
	struct local_msg *msg;
	struct local_result *res;
	char **seen;
	size_t seen_count;
	size_t delivered;
};

static int severity(enum local_status s)
{
	return s == LOCAL_DEFERRED ? 2 : s == LOCAL_BOUNCED ? 1 : 0;
}

void local_result_set(struct local_result *res, enum local_status status,
		      const char *dsn, const char *fmt, ...)
{
	va_list ap;

	if (res->text.len > 0 && severity(status) <= severity(res->status))
		return;
	res->status = status;
	snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
	str_clear(&res->text);
	va_start(ap, fmt);
	str_vprintf(&res->text, fmt, ap);
	va_end(ap);
}

/* 1 first time, 0 already expanded (a loop or a duplicate). */
static int expand_mark(struct expand *e, const char *addr)
{
	for (size_t i = 0; i < e->seen_count; i++)
		if (strcasecmp(e->seen[i], addr) == 0)
			return 0;
	e->seen =
	    mem_realloc(e->seen, size_mul(e->seen_count + 1, sizeof(char *)));
	e->seen[e->seen_count++] = mem_strdup(addr);
	return 1;
}

static void expand_addr(struct expand *e, const char *addr, int depth);

/* Runs each target of a table value "a, b c". */
static void expand_value(struct expand *e, const char *value, int depth,
			 const char *table)
{
	struct str t;
	const char *p = value, *end;

	str_init(&t, 64);
	while (*p != '\0') {
		p += strspn(p, ", \t");
		end = p + strcspn(p, ", \t");
		if (end == p)
			break;
		str_set(&t, p, (size_t)(end - p));
		p = end;
		if (t.data[0] == '/' || t.data[0] == '|' ||
		    strncasecmp(t.data, ":include:", 9) == 0)
			local_result_set(e->res, LOCAL_DEFERRED, "4.3.0",
					 "%s target \"%s\" (file, command or "
					 ":include:) is not supported yet",
					 table, t.data);
		else {
			if (strchr(t.data, '@') == NULL)
				str_printf(&t, "@%s", e->cfg->myorigin);
			expand_addr(e, t.data, depth + 1);
		}
	}
	str_deinit(&t);
}

/* user@domain without the extension, lower-cased. */
static void mailbox_name(const char *addr, const char *delim, bool keep_ext,
			 struct str *out)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	size_t ext =
	    delim[0] != '\0' && !keep_ext ? strcspn(addr, delim) : llen;

	str_clear(out);
	str_append(out, addr, ext < llen && ext > 0 ? ext : llen);
	if (at != NULL)
		str_append_cstr(out, at);
	str_lower(out);
}

static int lookup_alias(struct expand *e, const char *addr, struct str *value,
			const char **table_r, const char **error_r)
{
	const struct local_tables *lt = e->cfg->tables;
	struct str local;
	int r = 0;

	for (size_t i = 0; r == 0 && lt->virtual_maps[i] != NULL; i++) {
		r = dict_lookup_address(lt->virtual_maps[i], addr,
					lt->delimiter, true, value, NULL,
					error_r);
		*table_r = "virtual_alias_maps";
	}
	str_init(&local, 64);
	mailbox_name(addr, lt->delimiter, false, &local);
	if (strrchr(local.data, '@') != NULL)
		str_truncate(&local,
			     (size_t)(strrchr(local.data, '@') - local.data));
	for (size_t i = 0; r == 0 && lt->aliases[i] != NULL; i++) {
		r = dict_lookup(lt->aliases[i], local.data, value, error_r);
		*table_r = "alias_maps";
	}
	str_deinit(&local);
	return r;
}

static void expand_user(struct expand *e, const char *addr, const char *form)
{
	struct str box;

	str_init(&box, 64);
	mailbox_name(addr, e->cfg->tables->delimiter, strcmp(form, "full") == 0,
		     &box);
	/* user+a and user+b both reach user: one copy */
	if (strcasecmp(box.data, addr) == 0 || expand_mark(e, box.data) > 0)
		local_deliver_mailbox(e->cfg, e->msg, box.data, e->res);
	e->delivered++;
	str_deinit(&box);
}

static void expand_addr(struct expand *e, const char *addr, int depth)
{
	const struct local_tables *lt = e->cfg->tables;
	const char *err, *form = "full", *table = "";
	struct str value;
	int r = 0;

	if (expand_mark(e, addr) == 0)
		return;
	if (depth > LOCAL_EXPAND_DEPTH || e->seen_count > LOCAL_EXPAND_MAX) {
		local_result_set(e->res, LOCAL_BOUNCED, "5.4.6",
				 "alias expansion of %s is nested or fans out "
				 "too far",
				 addr);
		return;
	}
	if (!local_domain_match(lt, addr)) {
		local_result_set(e->res, LOCAL_DEFERRED, "4.3.0",
				 "alias target %s is not local: relay not "
				 "available yet",
				 addr);
		return;
	}
	str_init(&value, 128);
	if (lt->users != NULL)
		r = dict_lookup_address(lt->users, addr, lt->delimiter, false,
					&value, &form, &err);
	if (r > 0)
		expand_user(e, addr, form);
	else if (r == 0 &&
		 (r = lookup_alias(e, addr, &value, &table, &err)) > 0)
		expand_value(e, value.data, depth, table);
	else if (r == 0)
		local_result_set(e->res, LOCAL_BOUNCED, "5.1.1",
				 "unknown user: \"%s\"", addr);
	if (r < 0)
		local_result_set(e->res, LOCAL_DEFERRED, "4.3.0",
				 "table lookup failed for %s: %s", addr, err);
	str_deinit(&value);
}

void local_deliver_rcpt(const struct local_config *cfg, struct local_msg *msg,
			const char *rcpt, struct local_result *res)
{
	struct expand e = {.cfg = cfg, .msg = msg, .res = res};

	expand_addr(&e, rcpt, 0);
	if (res->text.len == 0 && e.delivered == 0)
		local_result_set(res, LOCAL_BOUNCED, "5.4.6",
				 "mail forwarding loop for %s", rcpt);
	for (size_t i = 0; i < e.seen_count; i++)
		mem_free(e.seen[i]);
	mem_free(e.seen);
}
