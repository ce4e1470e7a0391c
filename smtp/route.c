/* route.c: from the next hop to a delivery: "domain" means its MX hosts
 * (lib/dns.h: sorted, the implicit MX, null MX), "[host]" that host's
 * addresses without MX lookup, each with an optional ":port". The
 * addresses are tried in order until one session settles every
 * recipient; a connection that fails, or a server that refuses us before
 * any recipient (greeting, EHLO, 4xx to MAIL, TLS required but missing),
 * sends us on to the next one. When all fail, the last reason defers the
 * recipients (or bounces them, when it was a permanent refusal).
 * LMTP next hops (RFC 2033): "unix:PATH" (relative to queue_directory),
 * "inet:host[:port]" or, when the service itself is "lmtp", any of the
 * forms above; none of them looks up MX records, and the port defaults
 * to lmtp_tcp_port. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

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

/* An LMTP "unix:PATH" next hop into *un: a relative path starts in
 * queue_directory. Returns 1 or -1 (empty or too long). */
static int unix_path(const struct smtp_config *cfg, const char *path,
		     struct sockaddr_un *un)
{
	int n;

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (*path == '\0')
		return -1;
	if (*path == '/')
		n = snprintf(un->sun_path, sizeof(un->sun_path), "%s", path);
	else
		n = snprintf(un->sun_path, sizeof(un->sun_path), "%s/%s",
			     cfg->queue_dir, path);
	return n > 0 && (size_t)n < sizeof(un->sun_path) ? 1 : -1;
}

/* The name the certificate must match under level verify. */
static const char *verify_name(const struct smtp_msg *msg,
			       const struct dns_host *h)
{
	if (msg->tls_match[0] == '\0' ||
	    strcmp(msg->tls_match, "hostname") == 0)
		return h->name;
	if (strcmp(msg->tls_match, "nexthop") == 0)
		return msg->nexthop_host;
	return msg->tls_match;
}

/* The TLSA records of one MX host for level dane. */
struct dane {
	struct dns_tlsa *dns;
	struct tls_tlsa *tls;
	size_t count;
};

static void dane_free(struct dane *d)
{
	dns_tlsa_free(d->dns, d->count);
	mem_free(d->tls);
	*d = (struct dane){0};
}

/* TLSA records of _port._tcp.host: 1 with records from a validated
 * answer (AD bit); 0 when there are none or the answer was not validated
 * (RFC 7672 2.2: then as level may, as Postfix does); -1 when the lookup
 * failed (fail_dsn, fail_text: the next address may do better). */
static int dane_get(const struct smtp_config *cfg, const char *host,
		    unsigned port, struct dane *d, char *fail_dsn,
		    struct str *fail_text)
{
	const char *err = "";
	bool secure = false;
	enum dns_result res;

	res = dns_tlsa(cfg->dns, host, port, &d->dns, &d->count, &secure, &err);
	if (res == DNS_TEMPFAIL) {
		snprintf(fail_dsn, 16, "4.7.5");
		str_clear(fail_text);
		str_printf(fail_text, "TLSA lookup for %s failed: %s", host,
			   err);
		return -1;
	}
	if (res != DNS_OK || !secure || d->count == 0) {
		if (res == DNS_OK && !secure)
			msg_info("TLSA records of %s are not DNSSEC-validated: "
				 "TLS without authentication",
				 host);
		dane_free(d);
		return 0;
	}
	d->tls = mem_calloc(d->count, sizeof(*d->tls));
	for (size_t i = 0; i < d->count; i++)
		d->tls[i] = (struct tls_tlsa){.usage = d->dns[i].usage,
					      .selector = d->dns[i].selector,
					      .mtype = d->dns[i].mtype,
					      .data = d->dns[i].data,
					      .len = d->dns[i].len};
	return 1;
}

/* One address: a connection and a session, again without TLS when an
 * opportunistic handshake failed. Returns true when the session settled
 * the recipients. */
static bool try_connect(const struct smtp_config *cfg, struct smtp_msg *msg,
			const struct dns_host *h, size_t a, unsigned port,
			enum tls_level level, const struct dane *dane,
			char *fail_dsn, struct str *fail_text, char *relay,
			size_t relay_size)
{
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
		c.lmtp = msg->lmtp;
		c.tlsa = dane->tls;
		c.tlsa_count = dane->count;
		end = smtp_session(cfg, &c, msg, level, verify_name(msg, h),
				   fail_dsn, fail_text, true);
		if (end == SMTP_SESSION_DONE)
			msg->conn_use = c.uses;
		c.tlsa = NULL;
		c.tlsa_count = 0;
		if (c.kept)
			smtp_cache_put(cfg, &c, msg->nexthop);
		smtp_conn_close(&c);
		if (end != SMTP_SESSION_NEXT_TLS || level != TLS_LEVEL_MAY)
			return end == SMTP_SESSION_DONE;
		msg_info("%s; trying again without TLS", fail_text->data);
		level = TLS_LEVEL_NONE;
	}
}

/* One address, with its TLSA records under level dane. Returns true when
 * the session settled the recipients. */
static bool try_address(const struct smtp_config *cfg, struct smtp_msg *msg,
			const struct dns_host *h, size_t a, unsigned port,
			char *fail_dsn, struct str *fail_text, char *relay,
			size_t relay_size)
{
	enum tls_level level = msg->tls_level;
	struct dane dane = {0};
	bool done;

	if (level == TLS_LEVEL_DANE) {
		int r =
		    dane_get(cfg, h->name, port, &dane, fail_dsn, fail_text);

		if (r < 0)
			return false;
		if (r == 0)
			level = TLS_LEVEL_MAY;
	}
	done = try_connect(cfg, msg, h, a, port, level, &dane, fail_dsn,
			   fail_text, relay, relay_size);
	dane_free(&dane);
	return done;
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

static void bad_nexthop(struct smtp_msg *msg)
{
	msg_warn("bad next hop \"%s\" (relayhost or transport_maps)",
		 msg->nexthop);
	smtp_rcpts_set(msg, SMTP_DEFERRED, "4.3.5", "none",
		       "mail system configuration error: bad next hop \"%s\"",
		       msg->nexthop);
}

/* An LMTP server on a UNIX socket: one "address", never TLS. */
static void deliver_unix(const struct smtp_config *cfg, struct smtp_msg *msg,
			 const char *path)
{
	struct sockaddr_storage ss;
	struct dns_host h = {
	    .name = (char *)cfg->self[0], .addrs = &ss, .addr_count = 1};

	if (unix_path(cfg, path, (struct sockaddr_un *)&ss) < 0) {
		bad_nexthop(msg);
		return;
	}
	msg->tls_level = TLS_LEVEL_NONE;
	try_hosts(cfg, msg, &h, 1, 0);
}

void smtp_deliver(const struct smtp_config *cfg, struct smtp_msg *msg)
{
	struct dns_host *hosts = NULL;
	const char *hop = msg->nexthop;
	size_t count = 0;
	char host[256];
	unsigned port, defport;
	bool mx;

	/* LMTP: the service says so, or the next hop's "unix:" or "inet:";
	 * either way no MX lookup (Postfix's lmtp does none either) */
	msg->lmtp = cfg->lmtp || strncmp(hop, "unix:", 5) == 0 ||
		    strncmp(hop, "inet:", 5) == 0;
	msg->tls_level = cfg->tls_level;
	if (smtp_cache_deliver(cfg, msg))
		return;
	if (strncmp(hop, "unix:", 5) == 0) {
		deliver_unix(cfg, msg, hop + 5);
		return;
	}
	if (strncmp(hop, "inet:", 5) == 0)
		hop += 5;
	defport = msg->lmtp ? cfg->lmtp_port : cfg->port;
	if (nexthop_parse(hop, defport, host, sizeof(host), &mx, &port) < 0) {
		bad_nexthop(msg);
		return;
	}
	mx = mx && !msg->lmtp;
	snprintf(msg->nexthop_host, sizeof(msg->nexthop_host), "%s", host);
	if (smtp_tls_policy(cfg, msg, host, mx, port, defport) < 0) {
		/* never a weaker level than the administrator asked for */
		smtp_rcpts_set(msg, SMTP_DEFERRED, "4.3.5", "none",
			       "TLS policy lookup for %s failed", msg->nexthop);
		return;
	}
	if (!hosts_find(cfg, msg, host, mx, &hosts, &count))
		return;
	try_hosts(cfg, msg, hosts, count, port);
	dns_hosts_free(hosts, count);
}
