/* dns_mx.c: the mail host list of a domain (MX records sorted and
 * shuffled, the implicit MX, null MX, this host among the MX hosts), TLSA
 * records, and freeing what dns.h hands out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "dns_internal.h"
#include "mem.h"

struct mx {
	unsigned pref;
	char *name;
};

static int mx_cmp(const void *a, const void *b)
{
	const struct mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* Sorts by preference and shuffles each run of equal ones, so that load
 * spreads over hosts of the same preference (RFC 5321 5.1). */
static void mx_order(struct mx *mx, size_t n)
{
	qsort(mx, n, sizeof(*mx), mx_cmp);
	for (size_t start = 0, end; start < n; start = end) {
		for (end = start + 1; end < n && mx[end].pref == mx[start].pref;
		     end++)
			;
		for (size_t i = end - 1; i > start; i--) {
			size_t j = start + arc4random_uniform(
					       (uint32_t)(i - start + 1));
			struct mx t = mx[i];

			mx[i] = mx[j];
			mx[j] = t;
		}
	}
}

/* The MX records of rrs into mx (names owned), skipping malformed ones
 * and duplicates. *null_r tells whether a null MX (exchange ".") was
 * among them. Returns the count. */
static size_t mx_parse(const ldns_rr_list *rrs, struct mx *mx, bool *null_r)
{
	size_t n = 0;

	*null_r = false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && n < DNS_MX_MAX;
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		bool dup = false;
		char *name;

		if (ldns_rr_rd_count(rr) != 2)
			continue;
		if (ldns_dname_label_count(ldns_rr_rdf(rr, 1)) == 0) {
			*null_r = true;
			continue;
		}
		name = dns_dname_str(ldns_rr_rdf(rr, 1));
		if (name == NULL)
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(mx[k].name, name) == 0;
		if (dup) {
			mem_free(name);
			continue;
		}
		mx[n].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		mx[n++].name = name;
	}
	return n;
}

/* The addresses of each MX host; hosts without any are dropped. */
static enum dns_result mx_resolve(struct dns_resolver *r, struct mx *mx,
				  size_t n, struct dns_host **hosts_r,
				  size_t *count_r, const char **error_r)
{
	struct dns_host *hosts = mem_calloc(n, sizeof(*hosts));
	char temp_error[sizeof(r->errbuf)] = "";
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		enum dns_result res =
		    dns_host_addrs(r, mx[i].name, &hosts[count], error_r);

		if (res == DNS_OK) {
			hosts[count++].pref = mx[i].pref;
		} else if (res == DNS_TEMPFAIL && temp_error[0] == '\0')
			snprintf(temp_error, sizeof(temp_error), "%s",
				 *error_r);
	}
	if (count > 0) {
		*hosts_r = hosts;
		*count_r = count;
		return DNS_OK;
	}
	mem_free(hosts);
	if (temp_error[0] == '\0')
		return DNS_NOTFOUND; /* *error_r: the last host's */
	snprintf(r->errbuf, sizeof(r->errbuf), "%s", temp_error);
	*error_r = r->errbuf;
	return DNS_TEMPFAIL;
}

/* No MX: the domain itself, preference 0 (RFC 5321 5.1). */
static enum dns_result implicit_mx(struct dns_resolver *r, const char *domain,
				   struct dns_host **hosts_r, size_t *count_r,
				   const char **error_r)
{
	struct dns_host *host = mem_calloc(1, sizeof(*host));
	enum dns_result res = dns_host_addrs(r, domain, host, error_r);

	if (res != DNS_OK) {
		mem_free(host);
		return res;
	}
	*hosts_r = host;
	*count_r = 1;
	return DNS_OK;
}

enum dns_result dns_mx_hosts(struct dns_resolver *r, const char *domain,
			     struct dns_host **hosts_r, size_t *count_r,
			     const char **error_r)
{
	struct mx mx[DNS_MX_MAX];
	ldns_rdf *dname = dns_dname(domain);
	ldns_rr_list *rrs = NULL;
	enum dns_lookup lk;
	enum dns_result res;
	bool null_mx;
	size_t n;

	*hosts_r = NULL;
	*count_r = 0;
	if (dname == NULL)
		return dns_fail(r, DNS_NOTFOUND, domain, LDNS_RR_TYPE_MX,
				"malformed domain name", error_r);
	lk = dns_lookup(r, dname, LDNS_RR_TYPE_MX, false, &rrs, NULL);
	ldns_rdf_deep_free(dname);
	if (lk == DNS_LK_NODATA)
		return implicit_mx(r, domain, hosts_r, count_r, error_r);
	if (lk != DNS_LK_OK)
		return dns_fail(
		    r, lk == DNS_LK_TEMPFAIL ? DNS_TEMPFAIL : DNS_NOTFOUND,
		    domain, LDNS_RR_TYPE_MX, dns_lookup_reason(lk), error_r);
	n = mx_parse(rrs, mx, &null_mx);
	ldns_rr_list_deep_free(rrs);
	if (n == 0 && null_mx) {
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "Domain %s does not accept mail (nullMX)", domain);
		*error_r = r->errbuf;
		return DNS_NULLMX;
	}
	if (n == 0)
		return dns_fail(r, DNS_NOTFOUND, domain, LDNS_RR_TYPE_MX,
				"no valid MX host name", error_r);
	mx_order(mx, n);
	res = mx_resolve(r, mx, n, hosts_r, count_r, error_r);
	for (size_t i = 0; i < n; i++)
		mem_free(mx[i].name);
	return res;
}

static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

int dns_hosts_drop_self(struct dns_host *hosts, size_t *count_r,
			const char *const *self)
{
	size_t n = *count_r, keep = n;
	unsigned best = 0;
	bool found = false;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; self[k] != NULL; k++)
			if (name_eq(hosts[i].name, self[k]) &&
			    (!found || hosts[i].pref < best)) {
				best = hosts[i].pref;
				found = true;
			}
	if (!found)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (hosts[i].pref >= best && keep == n)
			keep = i;
	/* The list is sorted: everything from keep on goes. */
	for (size_t i = keep; i < n; i++)
		dns_host_clear(&hosts[i]);
	*count_r = keep;
	return keep > 0 ? 0 : -1;
}

void dns_host_clear(struct dns_host *host)
{
	mem_free(host->name);
	mem_free(host->addrs);
	host->addr_count = 0;
}

void dns_hosts_free(struct dns_host *hosts, size_t count)
{
	if (hosts == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		dns_host_clear(&hosts[i]);
	mem_free(hosts);
}

/* The TLSA records of rrs into a new array; malformed ones skipped. */
static size_t tlsa_parse(const ldns_rr_list *rrs, struct dns_tlsa **out_r)
{
	size_t n = ldns_rr_list_rr_count(rrs), k = 0;
	struct dns_tlsa *t = mem_calloc(n, sizeof(*t));

	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		const ldns_rdf *d;

		if (ldns_rr_rd_count(rr) != 4 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 1 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 1)) != 1 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 2)) != 1)
			continue;
		d = ldns_rr_rdf(rr, 3);
		t[k].usage = *ldns_rdf_data(ldns_rr_rdf(rr, 0));
		t[k].selector = *ldns_rdf_data(ldns_rr_rdf(rr, 1));
		t[k].mtype = *ldns_rdf_data(ldns_rr_rdf(rr, 2));
		t[k].len = ldns_rdf_size(d);
		t[k++].data = mem_memdup(ldns_rdf_data(d), ldns_rdf_size(d));
	}
	*out_r = t;
	return k;
}

enum dns_result dns_tlsa(struct dns_resolver *r, const char *host,
			 unsigned port, struct dns_tlsa **records_r,
			 size_t *count_r, bool *secure_r, const char **error_r)
{
	char name[300];
	ldns_rdf *dname;
	ldns_rr_list *rrs;
	enum dns_lookup lk;
	bool ad = false;

	*records_r = NULL;
	*count_r = 0;
	*secure_r = false;
	snprintf(name, sizeof(name), "_%u._tcp.%s", port, host);
	dname = dns_name_valid(host) ? dns_dname(name) : NULL;
	if (dname == NULL)
		return dns_fail(r, DNS_NOTFOUND, name, LDNS_RR_TYPE_TLSA,
				"malformed domain name", error_r);
	lk = dns_lookup(r, dname, LDNS_RR_TYPE_TLSA, true, &rrs, &ad);
	ldns_rdf_deep_free(dname);
	if (lk != DNS_LK_OK)
		return dns_fail(
		    r, lk == DNS_LK_TEMPFAIL ? DNS_TEMPFAIL : DNS_NOTFOUND,
		    name, LDNS_RR_TYPE_TLSA, dns_lookup_reason(lk), error_r);
	*count_r = tlsa_parse(rrs, records_r);
	ldns_rr_list_deep_free(rrs);
	if (*count_r == 0) {
		dns_tlsa_free(*records_r, 0);
		*records_r = NULL;
		return dns_fail(r, DNS_NOTFOUND, name, LDNS_RR_TYPE_TLSA,
				"no valid TLSA record", error_r);
	}
	*secure_r = ad;
	return DNS_OK;
}

void dns_tlsa_free(struct dns_tlsa *records, size_t count)
{
	if (records == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		mem_free(records[i].data);
	mem_free(records);
}
