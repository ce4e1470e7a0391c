/* route.c: from the next hop to a delivery: "domain" means its MX hosts
 * (lib/dns.h: sorted, the implicit MX, null MX), "[host]" that host's
 * addresses without MX lookup, each with an optional ":port". The
 * addresses are tried in order until one session settles every
 * recipient; a connection that fails, or a server that refuses us before
 * any recipient (greeting, EHLO, 4xx to MAIL, TLS required but missing),
 * sends us on to the next one. When all fail, the last reason defers the
 * recipients (or bounces them, when it was a permanent refusal). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "smtp.h"

static void rcpt_vset(struct smtp_rcpt *r, enum smtp_status status,
		      const char *dsn, const char *relay, const char *fmt,
		      va_list ap) __attribute__((format(printf, 5, 0)));

static void rcpt_vset(struct smtp_rcpt *r, enum smtp_status status,
		      const char *dsn, const char *relay, const char *fmt,
		      va_list ap)
{
	r->status = status;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	str_clear(&r->text);
	str_vprintf(&r->text, fmt, ap);
	str_clear(&r->relay);
	str_append_cstr(&r->relay, relay);
}

void smtp_rcpt_set(struct smtp_rcpt *r, enum smtp_status status,
		   const char *dsn, const char *relay, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rcpt_vset(r, status, dsn, relay, fmt, ap);
	va_end(ap);
}

void smtp_rcpts_set(struct smtp_msg *msg, enum smtp_status status,
		    const char *dsn, const char *relay, const char *fmt, ...)
{
	va_list ap;

	for (size_t i = 0; i < msg->rcpt_count; i++) {
		if (msg->rcpts[i].status != SMTP_PENDING)
			continue;
		va_start(ap, fmt);
		rcpt_vset(&msg->rcpts[i], status, dsn, relay, fmt, ap);
		va_end(ap);
	}
}

/* "domain", "domain:port", "[host]", "[host]:port" into host, *mx_r
 * (whether to look up MX) and *port_r. Returns 1 or -1. */
static int nexthop_parse(const char *nexthop, unsigned defport, char *host,
			 size_t size, bool *mx_r, unsigned *port_r)
{
	const char *h = nexthop, *end, *colon;
	size_t len;
	char *e;
	unsigned long port = defport;

	*mx_r = *h != '[';
	if (!*mx_r) {
		h++;
		end = strchr(h, ']');
		if (end == NULL)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(h, ':');
		end = colon != NULL ? colon : h + strlen(h);
	}
	len = (size_t)(end - h);
	if (len == 0 || len >= size)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	if (colon != NULL) {
		port = strtoul(colon + 1, &e, 10);
		if (colon[1] == '\0' || *e != '\0' || port == 0 || port > 65535)
			return -1;
	}
	*port_r = (unsigned)port;
	return 1;
}

/* One address: a connection and a session, again without TLS when an
 * opportunistic handshake failed. Returns true when the session settled
 * the recipients. */
static bool try_address(const struct smtp_config *cfg, struct smtp_msg *msg,
			const struct dns_host *h, size_t a, unsigned port,
			char *fail_dsn, struct str *fail_text, char *relay,
			size_t relay_size)
{
	enum tls_level level = cfg->tls_level;
	enum smtp_session_end end;
	struct smtp_conn c;

	for (;;) {
		if (smtp_conn_open(&c, h->name, &h->addrs[a], port,
				   cfg->connect_timeout) < 0) {
			snprintf(fail_dsn, 16, "4.4.1");
			str_clear(fail_text);
			str_append_cstr(fail_text, c.error);
			smtp_conn_close(&c);
			return false;
		}
		snprintf(relay, relay_size, "%s", c.relay);
		end = smtp_session(cfg, &c, msg, level, h->name, fail_dsn,
				   fail_text, true);
		if (end == SMTP_SESSION_DONE)
			msg->conn_use = c.uses;
		if (c.kept)
			smtp_cache_put(cfg, &c, msg->nexthop);
		smtp_conn_close(&c);
		if (end != SMTP_SESSION_NEXT_TLS || level != TLS_LEVEL_MAY)
			return end == SMTP_SESSION_DONE;
		msg_info("%s; trying again without TLS", fail_text->data);
		level = TLS_LEVEL_NONE;
	}
}

static void try_hosts(const struct smtp_config *cfg, struct smtp_msg *msg,
		      const struct dns_host *hosts, size_t count, unsigned port)
{
	char fail_dsn[16] = "4.4.1", relay[320] = "none";
	struct str fail_text;
	size_t tried = 0;

	str_init(&fail_text, 256);
	str_append_cstr(&fail_text, "no address to try");
	for (size_t i = 0; i < count; i++)
		for (size_t a = 0; a < hosts[i].addr_count; a++) {
			if (tried++ >= SMTP_ADDRESS_LIMIT)
				break;
			if (try_address(cfg, msg, &hosts[i], a, port, fail_dsn,
					&fail_text, relay, sizeof(relay))) {
				str_deinit(&fail_text);
				return;
			}
		}
	smtp_rcpts_set(msg, fail_dsn[0] == '5' ? SMTP_BOUNCED : SMTP_DEFERRED,
		       fail_dsn, relay, "%s", fail_text.data);
	/* the next hop failed as a whole: qmgr's concurrency feedback */
	if (fail_dsn[0] != '5')
		smtp_hop_fail(msg, fail_dsn, fail_text.data);
	str_deinit(&fail_text);
}

/* The mail hosts of the next hop; false when the recipients have their
 * result already (lookup failed, null MX, loop). */
static bool hosts_find(const struct smtp_config *cfg, struct smtp_msg *msg,
		       const char *host, bool mx, struct dns_host **hosts_r,
		       size_t *count_r)
{
	enum dns_result res;
	const char *err = "";

	if (mx)
		res = dns_mx_hosts(cfg->dns, host, hosts_r, count_r, &err);
	else {
		*hosts_r = mem_calloc(1, sizeof(**hosts_r));
		*count_r = 1;
		res = dns_host_addrs(cfg->dns, host, *hosts_r, &err);
		if (res != DNS_OK) {
			mem_free(*hosts_r);
			*count_r = 0;
		}
	}
	if (res == DNS_OK && mx &&
	    dns_hosts_drop_self(*hosts_r, count_r, cfg->self) < 0) {
		dns_hosts_free(*hosts_r, *count_r);
		*hosts_r = NULL;
		smtp_rcpts_set(msg, SMTP_DEFERRED, "4.4.6", "none",
			       "mail for %s loops back to myself", host);
		return false;
	}
	if (res == DNS_OK)
		return true;
	if (res == DNS_TEMPFAIL)
		smtp_hop_fail(msg, "4.4.3", err);
	smtp_rcpts_set(msg, res == DNS_TEMPFAIL ? SMTP_DEFERRED : SMTP_BOUNCED,
		       res == DNS_TEMPFAIL ? "4.4.3"
		       : res == DNS_NULLMX ? "5.1.10"
					   : "5.4.4",
		       "none", "%s", err);
	return false;
}

void smtp_hop_fail(struct smtp_msg *msg, const char *dsn, const char *text)
{
	msg->hop_failed = true;
	snprintf(msg->hop_dsn, sizeof(msg->hop_dsn), "%s", dsn);
	str_clear(&msg->hop);
	str_append_cstr(&msg->hop, text);
}

void smtp_deliver(const struct smtp_config *cfg, struct smtp_msg *msg)
{
	struct dns_host *hosts = NULL;
	size_t count = 0;
	char host[256];
	unsigned port;
	bool mx;

	if (smtp_cache_deliver(cfg, msg))
		return;
	if (nexthop_parse(msg->nexthop, cfg->port, host, sizeof(host), &mx,
			  &port) < 0) {
		msg_warn("bad next hop \"%s\" (relayhost or transport_maps)",
			 msg->nexthop);
		smtp_rcpts_set(msg, SMTP_DEFERRED, "4.3.5", "none",
			       "mail system configuration error: bad next "
			       "hop \"%s\"",
			       msg->nexthop);
		return;
	}
	if (!hosts_find(cfg, msg, host, mx, &hosts, &count))
		return;
	try_hosts(cfg, msg, hosts, count, port);
	dns_hosts_free(hosts, count);
}
