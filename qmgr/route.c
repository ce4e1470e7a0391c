/* route.c: where one recipient goes. transport_maps first (keys, as in
 * Postfix: the address, its domain, each parent domain as ".parent", then
 * "*"; values "transport:nexthop"), then local domains -> local, then
 * everything else -> smtp to relayhost, or to the recipient's domain.
 * A transport other than local, error and discard names a master.cf
 * service that speaks the smtp agent's side of the protocol (a clone of
 * smtp with -o overrides, say). */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "msg.h"
#include "qmgr.h"

int qmgr_transport_maps_open(struct qmgr *q, const char *const *specs,
			     const char **error_r)
{
	size_t n = 0;

	while (specs != NULL && specs[n] != NULL)
		n++;
	q->transport_maps = mem_calloc(n + 1, sizeof(struct dict *));
	for (size_t i = 0; i < n; i++) {
		q->transport_maps[i] = dict_open(specs[i], 0, error_r);
		if (q->transport_maps[i] == NULL)
			return -1;
	}
	return 1;
}

void qmgr_transport_maps_close(struct qmgr *q)
{
	for (size_t i = 0;
	     q->transport_maps != NULL && q->transport_maps[i] != NULL; i++)
		dict_close(&q->transport_maps[i]);
	mem_free(q->transport_maps);
}

/* The first table entry for key; 1, 0 or -1. */
static int maps_lookup(struct qmgr *q, const char *key, struct str *value,
		       const char **error_r)
{
	for (size_t i = 0; q->transport_maps[i] != NULL; i++) {
		int r = dict_lookup(q->transport_maps[i], key, value, error_r);

		if (r != 0)
			return r;
	}
	return 0;
}

/* transport_maps for address: 1 with value, 0 none, -1 table error. */
static int transport_lookup(struct qmgr *q, const char *address,
			    struct str *value, const char **error_r)
{
	const char *at = strrchr(address, '@'), *d;
	struct str key;
	int r;

	if (q->transport_maps == NULL || q->transport_maps[0] == NULL)
		return 0;
	r = maps_lookup(q, address, value, error_r);
	if (r != 0 || at == NULL)
		return r != 0 ? r : maps_lookup(q, "*", value, error_r);
	r = maps_lookup(q, at + 1, value, error_r);
	str_init(&key, 64);
	for (d = strchr(at + 1, '.'); r == 0 && d != NULL;
	     d = strchr(d + 1, '.')) {
		str_clear(&key);
		str_append_cstr(&key, d);
		r = maps_lookup(q, key.data, value, error_r);
	}
	str_deinit(&key);
	return r != 0 ? r : maps_lookup(q, "*", value, error_r);
}

/* A transport name: a master.cf service (socket private/NAME). */
static bool transport_name_ok(const char *t, size_t len)
{
	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '-' ||
		      t[i] == '_' || t[i] == '.'))
			return false;
	return true;
}

static bool is(const char *t, size_t len, const char *name)
{
	return strlen(name) == len && strncmp(t, name, len) == 0;
}

/* "transport:nexthop" into dest. "smtp" (and "relay", Postfix's clone of
 * it: we have one client) or any other service name is an smtp-like
 * agent; local, error and discard are what their names say. */
static void transport_apply(struct qmgr *q, const char *domain,
			    const char *value, struct qmgr_dest *dest)
{
	const char *colon = strchr(value, ':');
	size_t tlen = colon != NULL ? (size_t)(colon - value) : strlen(value);
	const char *next = colon != NULL ? colon + 1 : "";

	if (is(value, tlen, "local")) {
		dest->kind = QMGR_DEST_LOCAL;
	} else if (is(value, tlen, "error")) {
		dest->kind = QMGR_DEST_ERROR;
		str_append_cstr(&dest->text, *next != '\0'
						 ? next
						 : "mail for this address is "
						   "not accepted");
	} else if (is(value, tlen, "discard")) {
		dest->kind = QMGR_DEST_DISCARD;
		str_append_cstr(&dest->text, next);
	} else if (tlen == 0 || transport_name_ok(value, tlen)) {
		dest->kind = QMGR_DEST_SMTP;
		if (tlen == 0 || is(value, tlen, "relay"))
			str_append_cstr(&dest->transport, "smtp");
		else
			str_append(&dest->transport, value, tlen);
		str_append_cstr(&dest->nexthop, *next != '\0' ? next
						: *q->relayhost != '\0'
						    ? q->relayhost
						    : domain);
	} else {
		dest->kind = QMGR_DEST_DEFER;
		str_printf(&dest->text,
			   "mail system configuration error: bad transport "
			   "\"%.*s\" in transport_maps",
			   (int)(tlen > 64 ? 64 : tlen), value);
	}
}

void qmgr_route(struct qmgr *q, const char *address, struct qmgr_dest *dest)
{
	const char *at = strrchr(address, '@'), *err = "";
	struct str value;
	int r;

	dest->kind = QMGR_DEST_LOCAL;
	str_clear(&dest->transport);
	str_clear(&dest->nexthop);
	str_clear(&dest->text);
	str_init(&value, 64);
	r = transport_lookup(q, address, &value, &err);
	if (r < 0) {
		dest->kind = QMGR_DEST_DEFER;
		str_printf(&dest->text, "transport_maps lookup failed: %s",
			   err);
	} else if (r > 0)
		transport_apply(q, at != NULL ? at + 1 : "", value.data, dest);
	else if (at != NULL && !local_domain_match(q->tables, address)) {
		dest->kind = QMGR_DEST_SMTP;
		str_append_cstr(&dest->transport, "smtp");
		str_append_cstr(&dest->nexthop,
				*q->relayhost != '\0' ? q->relayhost : at + 1);
	}
	/* Next hops group recipients: one spelling per domain. An LMTP
	 * "unix:PATH" keeps its case: file names are case-sensitive. */
	if (dest->kind == QMGR_DEST_SMTP &&
	    strncmp(dest->nexthop.data, "unix:", 5) != 0)
		str_lower(&dest->nexthop);
	str_deinit(&value);
}
