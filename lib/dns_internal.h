/* dns_internal.h: what the files of lib/dns share (dns.c: resolver and
 * names; dns_query.c: queries, CNAME chasing, addresses, PTR; dns_mx.c: MX,
 * TLSA and host lists). Not for use outside lib/dns*.c. */
#ifndef POSTERN_DNS_INTERNAL_H
#define POSTERN_DNS_INTERNAL_H

#include <ldns/ldns.h>

#include "dns.h"

struct dns_resolver {
	ldns_resolver *res[DNS_SERVERS_MAX];
	size_t count;
	unsigned families; /* DNS_FAMILY_* */
	char errbuf[512];
};

/* The outcome of one lookup, finer than enum dns_result: MX needs to tell
 * "no such name" from "no record of that type". */
enum dns_lookup {
	DNS_LK_OK,
	DNS_LK_NODATA,
	DNS_LK_NXDOMAIN,
	DNS_LK_TEMPFAIL,
};

/* Records of type for name, following CNAMEs (in the answer, or by asking
 * again for a target the answer lacks) up to DNS_CNAME_MAX. On DNS_LK_OK
 * *rrs_r is a new non-empty list (ldns_rr_list_deep_free()) and *ad_r
 * (may be NULL) the AD bit of the answer that held them. dnssec sets the
 * DNSSEC OK bit on the queries. */
enum dns_lookup dns_lookup(struct dns_resolver *r, const ldns_rdf *name,
			   ldns_rr_type type, bool dnssec, ldns_rr_list **rrs_r,
			   bool *ad_r);
/* The standard text for a failed lookup. */
const char *dns_lookup_reason(enum dns_lookup lk);
/* Formats "Host or domain name not found. Name service error for name=N
 * type=T: reason" into r->errbuf, points *error_r at it, returns res. */
enum dns_result dns_fail(struct dns_resolver *r, enum dns_result res,
			 const char *name, ldns_rr_type type,
			 const char *reason, const char **error_r);
/* An absolute dname for a valid name (dns_name_valid()), else NULL. */
ldns_rdf *dns_dname(const char *name);
/* A dname as a lower-case string without the trailing dot (mem_free()),
 * or NULL when it is not a valid host name (e.g. escapes, the root). */
char *dns_dname_str(const ldns_rdf *dname);

#endif
