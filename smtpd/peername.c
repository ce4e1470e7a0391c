/* peername.c: the client's host name, as Postfix finds it before the
 * greeting (smtpd_peername_lookup): the PTR name of the address is the
 * "reverse client name"; it is the "client name" only when one of its
 * A/AAAA addresses is the client's address (forward-confirmed), else the
 * client is "unknown". The DNS queries (lib/dns, dns_servers or
 * /etc/resolv.conf) block, so they run in a worker thread of the process
 * (lib/blocking_pool) while the other sessions go on; the session sends
 * its greeting once the answer is in. The loopback addresses of
 * /etc/hosts (127.0.0.1, ::1) are "localhost" without a query. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

/* Lookups under way at once per process (each is a few queries). */
#define PEERNAME_THREADS 4
/* The wait for one answer of one name server. */
#define PEERNAME_TIMEOUT_MS 5000

/* Set while the process exits: sessions are no longer answered. */
static bool peername_exiting;

struct smtpd_peername {
	struct session *s; /* NULL once the session ended */
	const char *const *servers;
	char addr[64];
	/* results, written by the worker */
	char name[SMTPD_NAME_MAX], reverse[SMTPD_NAME_MAX];
	enum smtpd_name_status status, reverse_status;
};

static bool ip_parse(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static enum smtpd_name_status name_status(enum dns_result r)
{
	return r == DNS_OK	 ? SMTPD_NAME_OK
	       : r == DNS_TEMPFAIL ? SMTPD_NAME_TEMPFAIL
				   : SMTPD_NAME_UNKNOWN;
}

/* In the worker: PTR, then the name's addresses. */
static void peername_work(void *ctx)
{
	struct smtpd_peername *p = ctx;
	struct sockaddr_storage ss;
	struct dns_resolver *r;
	struct dns_host host;
	struct str name;
	const char *err;
	enum dns_result dr;

	p->status = p->reverse_status = SMTPD_NAME_TEMPFAIL;
	if (!ip_parse(p->addr, &ss)) {
		p->status = p->reverse_status = SMTPD_NAME_UNKNOWN;
		return;
	}
	r = dns_resolver_new(p->servers, PEERNAME_TIMEOUT_MS, &err);
	if (r == NULL)
		return;
	str_init(&name, 64);
	dr = dns_ptr(r, (struct sockaddr *)&ss, &name, &err);
	p->reverse_status = name_status(dr);
	if (dr == DNS_OK && name.len < sizeof(p->reverse)) {
		memcpy(p->reverse, name.data, name.len + 1);
		dr = dns_host_addrs(r, name.data, &host, &err);
		p->status = name_status(dr);
		if (dr == DNS_OK) {
			p->status = SMTPD_NAME_UNKNOWN;
			for (size_t i = 0; i < host.addr_count; i++)
				if (same_addr(&host.addrs[i], &ss))
					p->status = SMTPD_NAME_OK;
			dns_host_clear(&host);
		}
		if (p->status == SMTPD_NAME_OK)
			memcpy(p->name, p->reverse, sizeof(p->name));
	} else if (dr == DNS_OK) {
		p->reverse_status = SMTPD_NAME_UNKNOWN; /* absurdly long */
	}
	str_deinit(&name);
	dns_resolver_free(&r);
}

static void peername_set(struct session *s, const char *name,
			 enum smtpd_name_status status, const char *reverse,
			 enum smtpd_name_status reverse_status)
{
	snprintf(s->client_name, sizeof(s->client_name), "%s",
		 status == SMTPD_NAME_OK ? name : "unknown");
	snprintf(s->reverse_name, sizeof(s->reverse_name), "%s",
		 reverse_status == SMTPD_NAME_OK ? reverse : "unknown");
	s->name_status = status;
	s->reverse_status = reverse_status;
}

static void peername_done(void *ctx)
{
	struct smtpd_peername *p = ctx;
	struct session *s = peername_exiting ? NULL : p->s;

	if (s != NULL) {
		s->peername = NULL;
		smtpd_session_enter(s);
		peername_set(s, p->name, p->status, p->reverse,
			     p->reverse_status);
		smtpd_session_begin(s);
	}
	mem_free(p);
}

static bool is_hosts_loopback(const char *addr)
{
	return strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0;
}

void smtpd_peername_start(struct session *s)
{
	struct smtpd_peername *p;
	const char *err;

	peername_set(s, "", SMTPD_NAME_UNKNOWN, "", SMTPD_NAME_UNKNOWN);
	if (s->cfg->peername_pool == NULL || strcmp(s->client_addr,
						    "unknown") == 0) {
		smtpd_session_begin(s);
		return;
	}
	if (is_hosts_loopback(s->client_addr)) {
		peername_set(s, "localhost", SMTPD_NAME_OK, "localhost",
			     SMTPD_NAME_OK);
		smtpd_session_begin(s);
		return;
	}
	p = mem_alloc(sizeof(*p));
	p->s = s;
	p->servers = conf_get_list(s->cfg->conf, "dns_servers");
	snprintf(p->addr, sizeof(p->addr), "%s", s->client_addr);
	s->peername = p;
	if (blocking_pool_run(s->cfg->peername_pool, peername_work,
			      peername_done, p, &err) < 0) {
		msg_warn("%s: client name lookup: %s", s->client_addr, err);
		s->peername = NULL;
		mem_free(p);
		smtpd_session_begin(s);
	}
}

void smtpd_peername_detach(struct session *s)
{
	if (s->peername != NULL)
		s->peername->s = NULL;
	s->peername = NULL;
}

int smtpd_peername_init(struct smtpd_config *cfg, struct event_loop *loop,
			const char **error_r)
{
	if (!conf_get_bool(cfg->conf, "smtpd_peername_lookup"))
		return 1;
	cfg->peername_pool = blocking_pool_new(loop, PEERNAME_THREADS, error_r);
	return cfg->peername_pool != NULL ? 1 : -1;
}

void smtpd_peername_deinit(struct smtpd_config *cfg)
{
	peername_exiting = true;
	blocking_pool_free(&cfg->peername_pool);
}
