/* t/unit/dns.c: tests for lib/dns*.c against a real name server: nsd on
 * 127.0.0.1 at a free port, started through t/dns_test.py with the zones
 * t/unit/dns*.zone and a zone "broken." that nsd cannot load (SERVFAIL).
 * Covers MX order and shuffling, the implicit MX, null MX, CNAME chains
 * (in the answer, across zones, loops), NXDOMAIN, NODATA, SERVFAIL,
 * timeouts and fail-over between servers, PTR, TLSA, address families,
 * this host among the MX hosts, and malformed names and server lists. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

static char server[64];
static const char *err;
static pid_t helper = -1;
static int helper_in = -1;

/* Starts t/dns_test.py serve; returns the port, 0 to skip, -1 on error. */
static int nameserver_start(void)
{
	const char *top = getenv("top_srcdir");
	char zone[3][512], script[512], line[256];
	int in[2], out[2];
	ssize_t n;

	if (top == NULL)
		top = ".";
	snprintf(script, sizeof(script), "%s/t/dns_test.py", top);
	snprintf(zone[0], sizeof(zone[0]), "test.=%s/t/unit/dns.zone", top);
	snprintf(zone[1], sizeof(zone[1]), "other.=%s/t/unit/dns-other.zone",
		 top);
	snprintf(zone[2], sizeof(zone[2]),
		 "0.0.127.in-addr.arpa.=%s/t/unit/dns-rev.zone", top);
	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	helper = fork();
	if (helper == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, "serve", tap_tmpdir(),
		       zone[0], zone[1], zone[2], "--broken", "broken.",
		       (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	helper_in = in[1];
	n = read(out[0], line, sizeof(line) - 1);
	close(out[0]);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if (strncmp(line, "SKIP", 4) == 0) {
		tap_diag("name server tests skipped: %s", line + 4);
		return 0;
	}
	return atoi(line) > 0 ? atoi(line) : -1;
}

static void nameserver_stop(void)
{
	if (helper_in >= 0)
		close(helper_in); /* the helper stops nsd at EOF */
	if (helper > 0)
		waitpid(helper, NULL, 0);
}

static struct dns_resolver *resolver(const char *a, const char *b,
				     unsigned timeout_ms)
{
	const char *list[] = {a, b, NULL};
	struct dns_resolver *r = dns_resolver_new(list, timeout_ms, &err);

	if (r == NULL)
		tap_diag("dns_resolver_new: %s", err);
	return r;
}

static const char *addr_text(const struct sockaddr_storage *ss)
{
	static char buf[INET6_ADDRSTRLEN];
	const void *a =
	    ss->ss_family == AF_INET
		? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	return inet_ntop(ss->ss_family, a, buf, sizeof(buf));
}

static void test_mx_order(struct dns_resolver *r)
{
	struct dns_host *h = NULL;
	size_t n = 0;
	bool seen_mx2_first = false, seen_mx3_first = false, sorted = true;

	is_int(dns_mx_hosts(r, "multi.test", &h, &n, &err), DNS_OK,
	       "MX lookup");
	is_int(n, 4, "four MX hosts");
	if (n == 4) {
		is_str(h[0].name, "mx1.test", "preference 10 first");
		is_int(h[0].pref, 10, "its preference");
		is_int(h[0].addr_count, 1, "mx1 has one address");
		is_str(addr_text(&h[0].addrs[0]), "127.0.0.1", "mx1's A");
		is_str(h[3].name, "mx4.test", "preference 30 last");
		is_str(addr_text(&h[3].addrs[0]), "::1", "mx4: AAAA only");
	}
	dns_hosts_free(h, n);
	/* Equal preferences are shuffled: both orders show up. */
	for (int i = 0; i < 64 && !(seen_mx2_first && seen_mx3_first); i++) {
		if (dns_mx_hosts(r, "multi.test", &h, &n, &err) != DNS_OK ||
		    n != 4) {
			sorted = false;
			break;
		}
		sorted = sorted && h[1].pref == 20 && h[2].pref == 20;
		seen_mx2_first |= strcmp(h[1].name, "mx2.test") == 0;
		seen_mx3_first |= strcmp(h[1].name, "mx3.test") == 0;
		if (strcmp(h[1].name, "mx2.test") == 0) {
			is_int(h[1].addr_count, 2, "mx2: A and AAAA");
			is_str(addr_text(&h[1].addrs[0]), "127.0.0.2",
			       "IPv4 first");
		}
		dns_hosts_free(h, n);
	}
	ok(sorted, "equal preferences stay between the others");
	ok(seen_mx2_first && seen_mx3_first,
	   "equal preferences in random order (names lower-cased: MX3)");
}

static void test_mx_special(struct dns_resolver *r)
{
	struct dns_host *h = NULL;
	size_t n = 0;

	is_int(dns_mx_hosts(r, "plain.test", &h, &n, &err), DNS_OK,
	       "no MX: implicit MX");
	ok(n == 1 && strcmp(h[0].name, "plain.test") == 0 && h[0].pref == 0 &&
	       strcmp(addr_text(&h[0].addrs[0]), "127.0.0.9") == 0,
	   "the domain itself, preference 0, its address");
	dns_hosts_free(h, n);
	is_int(dns_mx_hosts(r, "nullmx.test", &h, &n, &err), DNS_NULLMX,
	       "null MX");
	is_str(err, "Domain nullmx.test does not accept mail (nullMX)",
	       "null MX text");
	is_int(dns_mx_hosts(r, "nope.test", &h, &n, &err), DNS_NOTFOUND,
	       "NXDOMAIN: not found");
	is_str(err,
	       "Host or domain name not found. Name service error for "
	       "name=nope.test type=MX: Host not found",
	       "NXDOMAIN text");
	ok(h == NULL && n == 0, "nothing returned");
	is_int(dns_mx_hosts(r, "textonly.test", &h, &n, &err), DNS_NOTFOUND,
	       "neither MX nor address: not found");
	is_int(dns_mx_hosts(r, "mxalias.test", &h, &n, &err), DNS_OK,
	       "MX through a CNAME");
	is_int(n, 4, "the target's MX hosts");
	dns_hosts_free(h, n);
	is_int(dns_mx_hosts(r, "deadmx.test", &h, &n, &err), DNS_OK,
	       "an MX host without address is left out");
	ok(n == 1 && strcmp(h[0].name, "mx1.test") == 0, "the other stays");
	dns_hosts_free(h, n);
	is_int(dns_mx_hosts(r, "allnx.test", &h, &n, &err), DNS_NOTFOUND,
	       "no MX host has an address: not found");
	is_int(dns_mx_hosts(r, "tempmx.test", &h, &n, &err), DNS_OK,
	       "an MX host failing temporarily is skipped");
	ok(n == 1 && strcmp(h[0].name, "mx1.test") == 0, "the backup stays");
	dns_hosts_free(h, n);
	is_int(dns_mx_hosts(r, "onlytemp.test", &h, &n, &err), DNS_TEMPFAIL,
	       "the only MX host fails temporarily: try again");
	is_str(err,
	       "Host or domain name not found. Name service error for "
	       "name=mx.broken type=A: Host not found, try again",
	       "with the host's error");
	is_int(dns_mx_hosts(r, "x.broken", &h, &n, &err), DNS_TEMPFAIL,
	       "SERVFAIL: try again");
	is_int(dns_mx_hosts(r, "bad..name", &h, &n, &err), DNS_NOTFOUND,
	       "malformed domain");
	is_int(dns_mx_hosts(r, "a b.test", &h, &n, &err), DNS_NOTFOUND,
	       "blank in a domain");
}

static void test_addrs(struct dns_resolver *r)
{
	struct dns_host h;

	is_int(dns_host_addrs(r, "ALIAS.test", &h, &err), DNS_OK,
	       "CNAME in the zone followed");
	ok(strcmp(h.name, "alias.test") == 0 && h.addr_count == 1 &&
	       strcmp(addr_text(&h.addrs[0]), "127.0.0.1") == 0,
	   "the target's address, the name as asked (lower case)");
	dns_host_clear(&h);
	is_int(dns_host_addrs(r, "ext.test", &h, &err), DNS_OK,
	       "CNAME into another zone: asked again");
	ok(h.addr_count == 1 &&
	       strcmp(addr_text(&h.addrs[0]), "127.0.0.5") == 0,
	   "the other zone's address");
	dns_host_clear(&h);
	is_int(dns_host_addrs(r, "loop1.test", &h, &err), DNS_TEMPFAIL,
	       "CNAME loop: stops, temporary");
	is_int(dns_host_addrs(r, "nothere.test", &h, &err), DNS_NOTFOUND,
	       "no such host");
	is_int(dns_host_addrs(r, "192.0.2.7", &h, &err), DNS_OK,
	       "IPv4 literal");
	ok(h.addr_count == 1 &&
	       strcmp(addr_text(&h.addrs[0]), "192.0.2.7") == 0,
	   "returned as is");
	dns_host_clear(&h);
	is_int(dns_host_addrs(r, "2001:db8::25", &h, &err), DNS_OK,
	       "IPv6 literal");
	dns_host_clear(&h);
	dns_resolver_set_families(r, DNS_FAMILY_IPV4);
	is_int(dns_host_addrs(r, "mx2.test", &h, &err), DNS_OK, "IPv4 only");
	is_int(h.addr_count, 1, "no AAAA asked");
	dns_host_clear(&h);
	is_int(dns_host_addrs(r, "mx4.test", &h, &err), DNS_NOTFOUND,
	       "IPv6-only host with IPv4 only: not found");
	dns_resolver_set_families(r, 0);
}

static void test_ptr_tlsa(struct dns_resolver *r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct dns_tlsa *t = NULL;
	struct str name;
	size_t n = 0;
	bool secure = true;

	str_init(&name, 0);
	inet_pton(AF_INET, "127.0.0.9", &sin.sin_addr);
	is_int(dns_ptr(r, (struct sockaddr *)&sin, &name, &err), DNS_OK, "PTR");
	is_str(name.data, "plain.test", "PTR name without the dot");
	inet_pton(AF_INET, "127.0.0.10", &sin.sin_addr);
	is_int(dns_ptr(r, (struct sockaddr *)&sin, &name, &err), DNS_NOTFOUND,
	       "no PTR");
	str_deinit(&name);
	is_int(dns_tlsa(r, "mx1.test", 25, &t, &n, &secure, &err), DNS_OK,
	       "TLSA");
	ok(n == 1 && t[0].usage == 3 && t[0].selector == 1 && t[0].mtype == 1 &&
	       t[0].len == 32 && t[0].data[0] == 0x01 && t[0].data[31] == 0xef,
	   "TLSA fields");
	ok(!secure, "nsd does not validate: not secure (no AD bit)");
	dns_tlsa_free(t, n);
	is_int(dns_tlsa(r, "mx2.test", 25, &t, &n, &secure, &err), DNS_NOTFOUND,
	       "no TLSA");
}

/* A UDP socket that never answers: every query to it times out. */
static int silent_server(char *addr, size_t size)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	snprintf(addr, size, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

static void test_timeout_failover(void)
{
	char silent[64];
	int fd = silent_server(silent, sizeof(silent));
	struct dns_resolver *r;
	struct dns_host h;

	r = resolver(silent, NULL, 200);
	is_int(r != NULL ? (int)dns_host_addrs(r, "mx1.test", &h, &err) : -1,
	       DNS_TEMPFAIL, "timeout: try again");
	dns_resolver_free(&r);
	ok(r == NULL, "free NULLs the pointer");
	r = resolver(silent, server, 200);
	is_int(r != NULL ? (int)dns_host_addrs(r, "mx1.test", &h, &err) : -1,
	       DNS_OK, "the second server answers when the first is silent");
	if (r != NULL)
		dns_host_clear(&h);
	dns_resolver_free(&r);
	close(fd);
}

static void test_servers_and_names(void)
{
	const char *bad[] = {"ns.example", "127.0.0.1:0",   "127.0.0.1:x",
			     "[::1",	   "1.2.3.4:70000", NULL};
	const char *good[] = {"127.0.0.1", "::1", "[::1]:5353", NULL};

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *list[] = {bad[i], NULL};
		struct dns_resolver *r = dns_resolver_new(list, 100, &err);

		ok(r == NULL, "server '%s' refused", bad[i]);
		dns_resolver_free(&r);
	}
	for (size_t i = 0; good[i] != NULL; i++) {
		const char *list[] = {good[i], NULL};
		struct dns_resolver *r = dns_resolver_new(list, 100, &err);

		ok(r != NULL, "server '%s' accepted", good[i]);
		dns_resolver_free(&r);
	}
	ok(dns_name_valid("example.com") && dns_name_valid("example.com.") &&
	       dns_name_valid("_25._tcp.x-y.example"),
	   "valid names");
	ok(!dns_name_valid("") && !dns_name_valid(".") &&
	       !dns_name_valid("a..b") && !dns_name_valid(".a") &&
	       !dns_name_valid("a.b..") && !dns_name_valid("a\\.b") &&
	       !dns_name_valid("ex ample.com"),
	   "invalid names");
	ok(!dns_name_valid(
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaa.com"),
	   "a label over 63 bytes");
}

static struct dns_host *hosts_make(const char *const *names,
				   const unsigned *prefs, size_t n)
{
	struct dns_host *h = mem_calloc(n, sizeof(*h));

	for (size_t i = 0; i < n; i++) {
		h[i].name = mem_strdup(names[i]);
		h[i].pref = prefs[i];
		h[i].addrs = mem_calloc(1, sizeof(*h[i].addrs));
		h[i].addr_count = 1;
	}
	return h;
}

static void test_drop_self(void)
{
	const char *names[] = {"mx1.b.test", "ME.a.test", "mx2.b.test",
			       "mx3.b.test"};
	const unsigned prefs[] = {10, 20, 20, 30};
	const char *self[] = {"other.name", "me.a.test.", NULL};
	const char *none[] = {"nobody.test", NULL};
	struct dns_host *h = hosts_make(names, prefs, 4);
	size_t n = 4;

	is_int(dns_hosts_drop_self(h, &n, none), 1, "not among the MX hosts");
	is_int(n, 4, "list unchanged");
	is_int(dns_hosts_drop_self(h, &n, self), 0,
	       "backup MX: the better ones are left");
	is_int(n, 1, "this host and equal or higher preferences dropped");
	is_str(h[0].name, "mx1.b.test", "the primary stays");
	dns_hosts_free(h, n + 3); /* cleared entries are safe to free */
	h = hosts_make(names + 1, prefs + 1, 3);
	n = 3;
	is_int(dns_hosts_drop_self(h, &n, self), -1,
	       "this host is the best MX: mail would loop");
	is_int(n, 0, "nothing left");
	dns_hosts_free(h, 3);
}

int main(void)
{
	struct dns_resolver *r;
	int port;

	signal(SIGPIPE, SIG_IGN);
	test_servers_and_names();
	test_drop_self();
	port = nameserver_start();
	if (port == 0) {
		nameserver_stop();
		return tap_done();
	}
	ok(port > 0, "name server started (t/dns_test.py, nsd)");
	if (port < 0) {
		nameserver_stop();
		return tap_done();
	}
	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	r = resolver(server, NULL, 2000);
	if (r != NULL) {
		test_mx_order(r);
		test_mx_special(r);
		test_addrs(r);
		test_ptr_tlsa(r);
	}
	dns_resolver_free(&r);
	test_timeout_failover();
	nameserver_stop();
	return tap_done();
}
