/* resolve.c: from one envelope recipient to its mailboxes. A recipient is
 * a user when users_table has it (user+ext@domain or user@domain); else
 * virtual_alias_maps (by address) or alias_maps (by local part) expand it
 * into targets (target.c), recursively, with loops and duplicates
 * dropped: other addresses, files ("/path", "/path/" for a Maildir),
 * commands ("|command") and ":include:/file" lists. A message with more
 * Received: headers than hopcount_limit is a loop and bounces. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "content.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "num.h"

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

static void expand_value(struct expand *e, const char *value, int depth,
			 const char *table, const char *parent);

/* The targets listed in an :include: file, one level deeper. */
static void expand_include(struct expand *e, const char *path, int depth,
			   const char *parent)
{
	struct str text;
	const char *err;

	if (depth + 1 > LOCAL_EXPAND_DEPTH) {
		local_result_set(e->res, LOCAL_BOUNCED, "5.4.6",
				 ":include: files of %s are nested too deep",
				 parent);
		return;
	}
	str_init(&text, 1024);
	if (local_include_read(e->cfg, path, &text, &err) < 0)
		local_result_set(e->res, LOCAL_DEFERRED, "4.3.5", "%s", err);
	else
		expand_value(e, text.data, depth + 1, path, parent);
	str_deinit(&text);
}

/* One target of a value: a file, a command, an :include: or an address.
 * Files and commands run once per message and recipient, however many
 * aliases lead to them. As in Postfix, only alias_maps (and the
 * :include: files it names) may name files and commands: the tables of
 * virtual_alias_maps are often kept by others than the admin. */
static void expand_target(struct expand *e, struct str *t, int depth,
			  const char *table, const char *parent)
{
	bool special = t->data[0] == '/' || t->data[0] == '|' ||
		       strncasecmp(t->data, ":include:", 9) == 0;

	if (special && strcmp(table, "virtual_alias_maps") == 0) {
		local_result_set(
		    e->res, LOCAL_BOUNCED, "5.7.1",
		    "virtual_alias_maps target \"%s\" of %s: files, "
		    "commands and :include: are allowed only in "
		    "alias_maps",
		    t->data, parent);
		return;
	}
	if (special && expand_mark(e, t->data) == 0)
		return;
	if (t->data[0] == '/') {
		local_deliver_file(e->cfg, e->msg, t->data, parent, e->res);
		e->delivered++;
	} else if (t->data[0] == '|') {
		local_deliver_command(e->cfg, e->msg, t->data, parent, e->res);
		e->delivered++;
	} else if (special) {
		expand_include(e, t->data + 9, depth, parent);
	} else {
		if (strchr(t->data, '@') == NULL)
			str_printf(t, "@%s", e->cfg->myorigin);
		expand_addr(e, t->data, depth + 1);
	}
}

/* Runs each target of a table value "a, b c" (parent: the address the
 * value belongs to). */
static void expand_value(struct expand *e, const char *value, int depth,
			 const char *table, const char *parent)
{
	struct str t;
	const char *p = value;
	size_t n = 0;

	str_init(&t, 64);
	for (; local_target_next(&p, &t) > 0; n++)
		expand_target(e, &t, depth, table, parent);
	if (n == 0)
		local_result_set(e->res, LOCAL_BOUNCED, "5.3.5",
				 "%s entry of %s has no target", table, parent);
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

/* The quota=BYTES of a users_table entry (0: none). */
static uint64_t user_quota(const char *value)
{
	const char *q = strstr(value, "quota=");
	uint64_t v = 0;

	if (q != NULL && (q == value || q[-1] == ' ' || q[-1] == '\t') &&
	    num_parse_u64(q + 6, strcspn(q + 6, " \t"), UINT64_MAX, &v) != 1)
		v = 0;
	return v;
}

static void expand_user(struct expand *e, const char *addr, const char *form,
			const char *value)
{
	struct str box;

	str_init(&box, 64);
	mailbox_name(addr, e->cfg->tables->delimiter, strcmp(form, "full") == 0,
		     &box);
	/* user+a and user+b both reach user: one copy */
	if (strcasecmp(box.data, addr) == 0 || expand_mark(e, box.data) > 0)
		local_deliver_mailbox(e->cfg, e->msg, box.data,
				      user_quota(value), e->res);
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
		expand_user(e, addr, form, value.data);
	else if (r == 0 &&
		 (r = lookup_alias(e, addr, &value, &table, &err)) > 0)
		expand_value(e, value.data, depth, table, addr);
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

	msg->rcpt = rcpt;
	if (content_header_count(&msg->headers, "Received", NULL) >
	    (size_t)cfg->hop_limit) {
		local_result_set(res, LOCAL_BOUNCED, "5.4.6",
				 "too many hops (more than %lld Received: "
				 "headers): mail forwarding loop for %s",
				 cfg->hop_limit, rcpt);
		return;
	}
	expand_addr(&e, rcpt, 0);
	if (res->text.len == 0 && e.delivered == 0)
		local_result_set(res, LOCAL_BOUNCED, "5.4.6",
				 "mail forwarding loop for %s", rcpt);
	for (size_t i = 0; i < e.seen_count; i++)
		mem_free(e.seen[i]);
	mem_free(e.seen);
}
