/* dns.c: the resolver and the lookups of dns.h over libldns: one ldns
 * resolver per configured server (ldns keeps one port per resolver, and
 * tests run their name server on a port of their own), queries with
 * CNAME chasing, and the A/AAAA and PTR lookups. MX and TLSA are in
 * dns_mx.c. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_internal.h"
#include "mem.h"

static char dns_new_errbuf[256];

bool dns_name_valid(const char *name)
{
	size_t total = strlen(name), label = 0;

	if (total == 0 || total > 253)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		if (++label > 63)
			return false;
	}
	/* One trailing dot is allowed ("example.com."), an empty name is
	 * not. */
	return label > 0 || (total > 1 && name[total - 2] != '.');
}

static struct dns_resolver *new_fail(const char *what, const char *detail,
				     const char **error_r)
{
	snprintf(dns_new_errbuf, sizeof(dns_new_errbuf), "%s: %s", what,
		 detail);
	*error_r = dns_new_errbuf;
	return NULL;
}

/* "ip", "ip:port", "[ip6]" or "[ip6]:port" into an address rdf and a
 * port. Returns 1 or -1. */
static int server_parse(const char *spec, ldns_rdf **addr_r, uint16_t *port_r)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = spec, *rest;
	size_t hlen;
	unsigned char bin[16];
	char *end;
	unsigned long port = 53;

	if (*spec == '[') {
		h = spec + 1;
		rest = strchr(h, ']');
		if (rest == NULL)
			return -1;
		hlen = (size_t)(rest - h);
		rest++;
	} else {
		colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		hlen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
		rest = spec + hlen;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (*rest == ':') {
		port = strtoul(rest + 1, &end, 10);
		if (rest[1] == '\0' || *end != '\0' || port == 0 ||
		    port > 65535)
			return -1;
	} else if (*rest != '\0')
		return -1;
	if (inet_pton(AF_INET, host, bin) == 1)
		*addr_r = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, bin);
	else if (inet_pton(AF_INET6, host, bin) == 1)
		*addr_r = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, bin);
	else
		return -1;
	*port_r = (uint16_t)port;
	return *addr_r != NULL ? 1 : -1;
}

/* What every resolver gets: no search lists (mail domains are absolute),
 * recursion wanted, TCP when an answer is truncated, one try per server
 * with timeout_ms each (the caller goes on to the next server). */
static void resolver_setup(ldns_resolver *res, unsigned timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000,
			     .tv_usec =
				 (suseconds_t)(timeout_ms % 1000) * 1000};

	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_defnames(res, false);
	ldns_resolver_set_dnsrch(res, false);
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_retrans(res, 0);
	ldns_resolver_set_random(res, false);
	ldns_resolver_set_timeout(res, tv);
}

static int resolvers_from_list(struct dns_resolver *r,
			       const char *const *servers, const char **error_r)
{
	for (size_t i = 0; servers[i] != NULL; i++) {
		ldns_resolver *res;
		ldns_rdf *addr = NULL;
		uint16_t port;

		if (i >= DNS_SERVERS_MAX) {
			new_fail("dns_servers", "too many servers", error_r);
			return -1;
		}
		if (server_parse(servers[i], &addr, &port) < 0) {
			new_fail("dns_servers: not an IP address[:port]",
				 servers[i], error_r);
			return -1;
		}
		res = ldns_resolver_new();
		if (res == NULL || ldns_resolver_push_nameserver(res, addr) !=
				       LDNS_STATUS_OK) {
			ldns_rdf_deep_free(addr);
			if (res != NULL)
				ldns_resolver_deep_free(res);
			new_fail("dns_servers", "out of memory", error_r);
			return -1;
		}
		ldns_rdf_deep_free(addr);
		ldns_resolver_set_port(res, port);
		r->res[r->count++] = res;
	}
	return 1;
}

struct dns_resolver *dns_resolver_new(const char *const *servers,
				      unsigned timeout_ms, const char **error_r)
{
	struct dns_resolver *r = mem_calloc(1, sizeof(*r));
	ldns_resolver *res = NULL;
	ldns_status st;

	r->families = DNS_FAMILY_IPV4 | DNS_FAMILY_IPV6;
	if (servers != NULL && servers[0] != NULL) {
		if (resolvers_from_list(r, servers, error_r) < 0) {
			dns_resolver_free(&r);
			return NULL;
		}
	} else {
		st = ldns_resolver_new_frm_file(&res, NULL);
		if (st != LDNS_STATUS_OK) {
			mem_free(r);
			return new_fail("/etc/resolv.conf",
					ldns_get_errorstr_by_id(st), error_r);
		}
		r->res[r->count++] = res;
	}
	for (size_t i = 0; i < r->count; i++)
		resolver_setup(r->res[i], timeout_ms > 0 ? timeout_ms : 1);
	return r;
}

void dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		ldns_resolver_deep_free(r->res[i]);
	mem_free(r);
	*rp = NULL;
}

void dns_resolver_set_families(struct dns_resolver *r, unsigned families)
{
	families &= DNS_FAMILY_IPV4 | DNS_FAMILY_IPV6;
	r->families =
	    families != 0 ? families : DNS_FAMILY_IPV4 | DNS_FAMILY_IPV6;
}

enum dns_result dns_fail(struct dns_resolver *r, enum dns_result res,
			 const char *name, ldns_rr_type type,
			 const char *reason, const char **error_r)
{
	char *tname = ldns_rr_type2str(type);

	snprintf(r->errbuf, sizeof(r->errbuf),
		 "Host or domain name not found. Name service error for "
		 "name=%s type=%s: %s",
		 name, tname != NULL ? tname : "?", reason);
	free(tname);
	*error_r = r->errbuf;
	return res;
}

ldns_rdf *dns_dname(const char *name)
{
	size_t len = strlen(name);
	char buf[256];

	if (!dns_name_valid(name) || len + 2 > sizeof(buf))
		return NULL;
	memcpy(buf, name, len + 1);
	if (buf[len - 1] != '.')
		memcpy(buf + len, ".", 2);
	return ldns_dname_new_frm_str(buf);
}

char *dns_dname_str(const ldns_rdf *dname)
{
	char *s = dname != NULL ? ldns_rdf2str(dname) : NULL, *out;
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[--len] = '\0';
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	out = dns_name_valid(s) ? mem_strdup(s) : NULL;
	free(s);
	return out;
}
