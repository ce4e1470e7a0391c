/* dns_query.c: asking the configured servers in turn, checking that an
 * answer is for the question asked, chasing CNAMEs, and the address and
 * PTR lookups of dns.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "dns.h"
#include "dns_internal.h"
#include "mem.h"

const char *dns_lookup_reason(enum dns_lookup lk)
{
	switch (lk) {
	case DNS_LK_NXDOMAIN:
		return "Host not found";
	case DNS_LK_NODATA:
		return "Host found but no data record of requested type";
	case DNS_LK_TEMPFAIL:
		return "Host not found, try again";
	default:
		return "no error";
	}
}

/* True when pkt answers the question (name, type, IN): a stray or
 * spoofed packet for another question is ignored. */
static bool answers(const ldns_pkt *pkt, const ldns_rdf *name,
		    ldns_rr_type type)
{
	const ldns_rr_list *q = ldns_pkt_question(pkt);
	const ldns_rr *rr;

	if (q == NULL || ldns_rr_list_rr_count(q) != 1)
		return false;
	rr = ldns_rr_list_rr(q, 0);
	return ldns_rr_get_type(rr) == type &&
	       ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	       ldns_dname_compare(ldns_rr_owner(rr), name) == 0;
}

/* One question to each server in turn until one gives an answer that is
 * NOERROR (*pkt_r) or NXDOMAIN. */
static enum dns_lookup query(struct dns_resolver *r, const ldns_rdf *name,
			     ldns_rr_type type, bool dnssec, ldns_pkt **pkt_r)
{
	for (size_t i = 0; i < r->count; i++) {
		ldns_resolver *res = r->res[i];
		ldns_pkt *pkt = NULL;
		ldns_status st;
		ldns_pkt_rcode rcode;

		ldns_resolver_set_dnssec(res, dnssec);
		if (dnssec)
			ldns_resolver_set_edns_udp_size(res, 1232);
		st = ldns_resolver_query_status(&pkt, res, name, type,
						LDNS_RR_CLASS_IN, LDNS_RD);
		if (st != LDNS_STATUS_OK || pkt == NULL ||
		    !answers(pkt, name, type)) {
			ldns_pkt_free(pkt);
			continue;
		}
		rcode = ldns_pkt_get_rcode(pkt);
		if (rcode == LDNS_RCODE_NOERROR) {
			*pkt_r = pkt;
			return DNS_LK_OK;
		}
		ldns_pkt_free(pkt);
		if (rcode == LDNS_RCODE_NXDOMAIN)
			return DNS_LK_NXDOMAIN;
		/* SERVFAIL, REFUSED, ...: another server may know. */
	}
	return DNS_LK_TEMPFAIL;
}

/* Moves the answer records of type owned by *cur into rrs, following
 * CNAMEs inside the answer section (*cur moves along, *hops counts).
 * Returns false when the chain is too long. */
static bool collect(const ldns_pkt *pkt, ldns_rdf **cur, ldns_rr_type type,
		    ldns_rr_list *rrs, unsigned *hops)
{
	const ldns_rr_list *ans = ldns_pkt_answer(pkt);
	size_t n = ans != NULL ? ldns_rr_list_rr_count(ans) : 0;

	for (;;) {
		const ldns_rdf *target = NULL;

		for (size_t i = 0; i < n; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);

			if (ldns_dname_compare(ldns_rr_owner(rr), *cur) != 0)
				continue;
			if (ldns_rr_get_type(rr) == type)
				ldns_rr_list_push_rr(rrs, ldns_rr_clone(rr));
			else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
				 ldns_rr_rd_count(rr) == 1)
				target = ldns_rr_rdf(rr, 0);
		}
		if (ldns_rr_list_rr_count(rrs) > 0 || target == NULL)
			return true;
		if (++*hops > DNS_CNAME_MAX)
			return false;
		ldns_rdf_deep_free(*cur);
		*cur = ldns_rdf_clone(target);
	}
}

enum dns_lookup dns_lookup(struct dns_resolver *r, const ldns_rdf *name,
			   ldns_rr_type type, bool dnssec, ldns_rr_list **rrs_r,
			   bool *ad_r)
{
	ldns_rdf *cur = ldns_rdf_clone(name), *asked = NULL;
	ldns_rr_list *rrs = ldns_rr_list_new();
	enum dns_lookup lk;
	unsigned hops = 0;
	ldns_pkt *pkt;
	bool chain_ok, moved;

	/* Each round asks for cur; a CNAME whose target the answer lacks
	 * moves cur and asks again. */
	do {
		lk = query(r, cur, type, dnssec, &pkt);
		if (lk != DNS_LK_OK)
			break;
		ldns_rdf_deep_free(asked);
		asked = ldns_rdf_clone(cur);
		chain_ok = collect(pkt, &cur, type, rrs, &hops);
		if (ad_r != NULL)
			*ad_r = ldns_pkt_ad(pkt);
		ldns_pkt_free(pkt);
		moved = ldns_dname_compare(asked, cur) != 0;
		/* A CNAME loop is a broken zone that its owner can fix. */
		lk = !chain_ok			      ? DNS_LK_TEMPFAIL
		     : ldns_rr_list_rr_count(rrs) > 0 ? DNS_LK_OK
						      : DNS_LK_NODATA;
	} while (lk == DNS_LK_NODATA && moved);
	ldns_rdf_deep_free(asked);
	ldns_rdf_deep_free(cur);
	if (lk == DNS_LK_OK)
		*rrs_r = rrs;
	else
		ldns_rr_list_deep_free(rrs);
	return lk;
}

/* Appends the A or AAAA records of rrs to host (up to DNS_ADDR_MAX). */
static void addrs_add(struct dns_host *host, const ldns_rr_list *rrs)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		struct sockaddr_storage *ss;

		if (host->addr_count >= DNS_ADDR_MAX || rd == NULL)
			return;
		ss = &host->addrs[host->addr_count];
		memset(ss, 0, sizeof(*ss));
		if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_A &&
		    ldns_rdf_size(rd) == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, ldns_rdf_data(rd), 4);
		} else if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_AAAA &&
			   ldns_rdf_size(rd) == 16) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, ldns_rdf_data(rd), 16);
		} else
			continue;
		host->addr_count++;
	}
}

static int lk_rank(enum dns_lookup lk)
{
	return lk == DNS_LK_TEMPFAIL ? 3 : lk == DNS_LK_NODATA ? 2 : 1;
}

/* An address literal into host; false when name is none. */
static bool literal(const char *name, struct dns_host *host)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, name, &sin.sin_addr) == 1)
		memcpy(&host->addrs[0], &sin, sizeof(sin));
	else if (inet_pton(AF_INET6, name, &sin6.sin6_addr) == 1)
		memcpy(&host->addrs[0], &sin6, sizeof(sin6));
	else
		return false;
	host->addr_count = 1;
	return true;
}

enum dns_result dns_host_addrs(struct dns_resolver *r, const char *host,
			       struct dns_host *out, const char **error_r)
{
	static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
	static const unsigned fams[] = {DNS_FAMILY_IPV4, DNS_FAMILY_IPV6};
	enum dns_lookup worst = DNS_LK_NXDOMAIN, lk;
	ldns_rr_type worst_type = LDNS_RR_TYPE_A;
	ldns_rr_list *rrs;
	ldns_rdf *dname;

	memset(out, 0, sizeof(*out));
	out->addrs = mem_calloc(DNS_ADDR_MAX, sizeof(*out->addrs));
	out->name = mem_strdup(host);
	for (char *p = out->name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (literal(host, out))
		return DNS_OK;
	dname = dns_dname(host);
	if (dname == NULL) {
		dns_host_clear(out);
		return dns_fail(r, DNS_NOTFOUND, host, LDNS_RR_TYPE_A,
				"malformed domain name", error_r);
	}
	for (size_t i = 0; i < 2; i++) {
		if ((r->families & fams[i]) == 0)
			continue;
		lk = dns_lookup(r, dname, types[i], false, &rrs, NULL);
		if (lk == DNS_LK_OK) {
			addrs_add(out, rrs);
			ldns_rr_list_deep_free(rrs);
		} else if (lk_rank(lk) > lk_rank(worst)) {
			/* Report the worst: try again > no data > no name. */
			worst = lk;
			worst_type = types[i];
		}
	}
	ldns_rdf_deep_free(dname);
	if (out->addr_count > 0)
		return DNS_OK;
	dns_host_clear(out);
	return dns_fail(r,
			worst == DNS_LK_TEMPFAIL ? DNS_TEMPFAIL : DNS_NOTFOUND,
			host, worst_type, dns_lookup_reason(worst), error_r);
}

enum dns_result dns_ptr(struct dns_resolver *r, const struct sockaddr *sa,
			struct str *name_r, const char **error_r)
{
	char text[INET6_ADDRSTRLEN] = "?";
	ldns_rdf *addr, *rev;
	ldns_rr_list *rrs = NULL;
	enum dns_lookup lk;
	char *name = NULL;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		addr =
		    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &sin->sin_addr);
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16,
					     &sin6->sin6_addr);
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	} else
		return dns_fail(r, DNS_NOTFOUND, "?", LDNS_RR_TYPE_PTR,
				"not an IP address", error_r);
	rev = addr != NULL ? ldns_rdf_address_reverse(addr) : NULL;
	ldns_rdf_deep_free(addr);
	if (rev == NULL)
		return dns_fail(r, DNS_TEMPFAIL, text, LDNS_RR_TYPE_PTR,
				"out of memory", error_r);
	lk = dns_lookup(r, rev, LDNS_RR_TYPE_PTR, false, &rrs, NULL);
	ldns_rdf_deep_free(rev);
	if (lk == DNS_LK_OK) {
		name = dns_dname_str(ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0));
		ldns_rr_list_deep_free(rrs);
		if (name == NULL)
			return dns_fail(r, DNS_NOTFOUND, text, LDNS_RR_TYPE_PTR,
					"malformed domain name", error_r);
		str_append_cstr(name_r, name);
		mem_free(name);
		return DNS_OK;
	}
	return dns_fail(r, lk == DNS_LK_TEMPFAIL ? DNS_TEMPFAIL : DNS_NOTFOUND,
			text, LDNS_RR_TYPE_PTR, dns_lookup_reason(lk), error_r);
}
