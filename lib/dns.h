/* dns.h: the DNS lookups of the smtp client (and later smtpd's reverse
 * checks), over libldns: MX with the hosts' addresses, A/AAAA, PTR and
 * TLSA. We never parse DNS packets ourselves.
 *
 * Name servers come from /etc/resolv.conf, or from an explicit list (the
 * dns_servers parameter: "ip", "ip:port" or "[ipv6]:port" each), so that
 * tests point an instance at their own name server on 127.0.0.1:PORT.
 * Servers of a list are asked in order; the next one is asked only when
 * one fails to give a usable answer (timeout, SERVFAIL, REFUSED).
 *
 * Calls block for at most a few times timeout_ms (per server and query):
 * the smtp client makes one delivery per process at a time.
 *
 * Results: DNS_OK, or a failure with a text for the log and the DSN in
 * *error_r (valid until the next call on the same resolver):
 *   DNS_NOTFOUND  the name does not exist (NXDOMAIN) or has no usable
 *                 record: permanent (bounce);
 *   DNS_NULLMX    the domain says it accepts no mail (RFC 7505): bounce;
 *   DNS_TEMPFAIL  SERVFAIL, timeout, network trouble: try again later.
 * Names from input are checked first (letters, digits, '-', '_', dots;
 * labels of 1..63 bytes, at most 253 in all): anything else is
 * DNS_NOTFOUND "malformed domain name" without a query. */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "str.h"

/* CNAME links followed per lookup before giving up (a loop or a chain
 * that long is a broken zone). */
#define DNS_CNAME_MAX 8
/* MX records used per domain (RFC 5321 does not limit them; Postfix uses
 * at most smtp_mx_address_limit addresses). */
#define DNS_MX_MAX 32
/* Addresses kept per host. */
#define DNS_ADDR_MAX 16
/* Servers in an explicit list. */
#define DNS_SERVERS_MAX 8

enum dns_result {
	DNS_OK = 1,
	DNS_NOTFOUND,
	DNS_NULLMX,
	DNS_TEMPFAIL,
};

/* Which address families dns_host_addrs() and dns_mx_hosts() return. */
#define DNS_FAMILY_IPV4 0x1u
#define DNS_FAMILY_IPV6 0x2u

struct dns_resolver;

/* One mail host: its name (lower case, no trailing dot), MX preference (0
 * for an implicit MX or a plain host) and its addresses, IPv4 first, each
 * with port 0 (the caller sets the port). */
struct dns_host {
	char *name;
	unsigned pref;
	struct sockaddr_storage *addrs;
	size_t addr_count;
};

/* servers: NULL-terminated list of "ip", "ip:port" or "[ip6]:port"
 * (port 53 when none); NULL or empty = the name servers of
 * /etc/resolv.conf. timeout_ms (>= 1) bounds the wait for one answer from
 * one server. Returns NULL with *error_r (static) for a malformed server
 * or an unreadable resolv.conf. */
struct dns_resolver *dns_resolver_new(const char *const *servers,
				      unsigned timeout_ms,
				      const char **error_r);
void dns_resolver_free(struct dns_resolver **rp);
/* DNS_FAMILY_* bits (default both); 0 is treated as both. */
void dns_resolver_set_families(struct dns_resolver *r, unsigned families);

/* The mail hosts of domain, sorted by preference, equal preferences in
 * random order, each with its A/AAAA addresses (CNAMEs followed up to
 * DNS_CNAME_MAX). No MX records: the domain itself as an implicit MX of
 * preference 0 (RFC 5321 5.1). A null MX ("0 .", RFC 7505) as the only
 * MX record: DNS_NULLMX. Hosts whose address lookup fails temporarily are
 * left out; when no host with an address is left the result is
 * DNS_TEMPFAIL if any lookup failed temporarily, else DNS_NOTFOUND. On
 * DNS_OK *hosts_r (free with dns_hosts_free()) holds *count_r >= 1 hosts,
 * each with at least one address. */
enum dns_result dns_mx_hosts(struct dns_resolver *r, const char *domain,
			     struct dns_host **hosts_r, size_t *count_r,
			     const char **error_r);
/* The addresses of host (CNAMEs followed) into out (name = host as
 * given, lower-cased; pref 0). An IPv4 or IPv6 literal is returned as
 * it is, without a query. DNS_NOTFOUND when the name has neither A nor
 * AAAA. Free out's members with dns_hosts_free(out, 1) only when it was
 * filled (DNS_OK). */
enum dns_result dns_host_addrs(struct dns_resolver *r, const char *host,
			       struct dns_host *out, const char **error_r);
/* The first PTR name of the address sa (AF_INET or AF_INET6), without
 * the trailing dot, appended to name_r. */
enum dns_result dns_ptr(struct dns_resolver *r, const struct sockaddr *sa,
			struct str *name_r, const char **error_r);

/* A TLSA record (RFC 6698). */
struct dns_tlsa {
	uint8_t usage, selector, mtype;
	unsigned char *data;
	size_t len;
};

/* TLSA records of _PORT._tcp.HOST (CNAMEs followed), asked with the DNSSEC
 * OK bit. *secure_r tells whether the answer came with the AD bit (the
 * name server validated it): only then may the records be used for DANE
 * (RFC 7672 2.2); the caller must trust its server and the path to it.
 * DNS_NOTFOUND when there are none. Free with dns_tlsa_free(). */
enum dns_result dns_tlsa(struct dns_resolver *r, const char *host,
			 unsigned port, struct dns_tlsa **records_r,
			 size_t *count_r, bool *secure_r, const char **error_r);
void dns_tlsa_free(struct dns_tlsa *records, size_t count);

/* Frees hosts[0..count) and their members, then hosts itself; NULL is a
 * no-op. For a struct dns_host filled by dns_host_addrs() on the stack
 * use dns_host_clear(). */
void dns_hosts_free(struct dns_host *hosts, size_t count);
void dns_host_clear(struct dns_host *host);

/* RFC 5321 5.1: when one of the MX hosts is this host (a name in self,
 * NULL-terminated, compared without case and trailing dot), that host
 * and every host with the same or a higher preference are removed (freed)
 * and *count_r lowered. Returns 1 when the list did not name this host,
 * 0 when hosts were dropped but some are left (this host is a backup MX),
 * -1 when nothing is left: mail for the domain would loop back to us. */
int dns_hosts_drop_self(struct dns_host *hosts, size_t *count_r,
			const char *const *self);

/* True for a syntactically valid host or domain name (see above). */
bool dns_name_valid(const char *name);

#endif
