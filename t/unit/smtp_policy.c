/* t/unit/smtp_policy.c: tests for smtp/policy.c, the smtp client's
 * smtp_tls_policy_maps: the value syntax (levels, match=, other
 * attributes, errors) and the lookup order ("[host]:port", "[host]" only
 * at the default port, the domain, then ".parent" domains, no match
 * leaving the default level alone) over an inline: table. */
#include "config.h"

#include <string.h>

#include "msg.h"
#include "smtp.h"
#include "tap.h"

static void test_parse(void)
{
	enum tls_level level = TLS_LEVEL_NONE;
	const char *err = NULL;
	char match[64];

	is_int(smtp_tls_policy_parse("encrypt", &level, match, sizeof(match),
				     &err),
	       1, "encrypt");
	is_int(level, TLS_LEVEL_ENCRYPT, "... level");
	is_str(match, "", "... no match");
	is_int(smtp_tls_policy_parse("verify match=mx.example.com "
				     "ciphers=high",
				     &level, match, sizeof(match), &err),
	       1, "verify with attributes");
	is_int(level, TLS_LEVEL_VERIFY, "... level");
	is_str(match, "mx.example.com", "... match=");
	is_int(
	    smtp_tls_policy_parse("  dane", &level, match, sizeof(match), &err),
	    1, "dane, leading blanks");
	is_int(level, TLS_LEVEL_DANE, "... level");
	is_int(
	    smtp_tls_policy_parse("none", &level, match, sizeof(match), &err),
	    1, "none");
	is_int(level, TLS_LEVEL_NONE, "... level");
	is_int(
	    smtp_tls_policy_parse("secure", &level, match, sizeof(match), &err),
	    1, "secure");
	is_int(level, TLS_LEVEL_VERIFY, "... is verify");
	is_int(smtp_tls_policy_parse("fortified", &level, match, sizeof(match),
				     &err),
	       -1, "unknown level");
	is_str(err, "unknown TLS level", "... error");
	is_int(smtp_tls_policy_parse("", &level, match, sizeof(match), &err),
	       -1, "empty value");
	is_int(smtp_tls_policy_parse("may junk", &level, match, sizeof(match),
				     &err),
	       -1, "attribute without =");
	is_int(smtp_tls_policy_parse("verify match=", &level, match,
				     sizeof(match), &err),
	       -1, "empty match=");
	is_int(smtp_tls_policy_parse("verify match=a-name-much-longer-than-"
				     "the-buffer-of-sixty-four-characters."
				     "example",
				     &level, match, sizeof(match), &err),
	       -1, "match= too long");
}

/* The level the table gives a next hop, the default "may" otherwise. */
static enum tls_level lookup(const struct smtp_config *cfg, const char *host,
			     bool mx, unsigned port, int *r_r)
{
	struct smtp_msg msg = {.nexthop = host, .tls_level = TLS_LEVEL_MAY};

	*r_r = smtp_tls_policy(cfg, &msg, host, mx, port, 25);
	return msg.tls_level;
}

static void test_lookup(void)
{
	static const char *const specs[] = {
	    "inline:{ example.com=encrypt, .example.com=verify, "
	    "[10.0.0.1]:587=none, [10.0.0.1]=dane, [10.0.0.2]:25=encrypt, "
	    "bad.test=bogus }",
	    NULL};
	struct smtp_config cfg = {0};
	const char *err = NULL;
	int r;

	is_int(smtp_tls_policy_open(&cfg, specs, &err), 1, "open");
	is_int(lookup(&cfg, "example.com", true, 25, &r), TLS_LEVEL_ENCRYPT,
	       "domain");
	is_int(lookup(&cfg, "mx.sub.example.com", true, 25, &r),
	       TLS_LEVEL_VERIFY, "subdomain: .parent");
	is_int(lookup(&cfg, "example.org", true, 25, &r), TLS_LEVEL_MAY,
	       "no entry: the default");
	is_int(r, 1, "... not an error");
	is_int(lookup(&cfg, "10.0.0.1", false, 587, &r), TLS_LEVEL_NONE,
	       "[host]:port");
	is_int(lookup(&cfg, "10.0.0.1", false, 25, &r), TLS_LEVEL_DANE,
	       "[host] at the default port");
	is_int(lookup(&cfg, "10.0.0.1", false, 2525, &r), TLS_LEVEL_MAY,
	       "[host] does not cover other ports");
	is_int(lookup(&cfg, "10.0.0.2", false, 25, &r), TLS_LEVEL_ENCRYPT,
	       "[host]:25 at the default port");
	is_int(lookup(&cfg, "10.0.0.1", true, 25, &r), TLS_LEVEL_MAY,
	       "an MX next hop does not match [host] keys");
	lookup(&cfg, "bad.test", true, 25, &r);
	is_int(r, -1, "bad policy: an error");
	smtp_tls_policy_close(&cfg);
	ok(cfg.tls_policy == NULL, "closed");
}

int main(void)
{
	msg_init("postern/test", MSG_DEST_STDERR);
	test_parse();
	test_lookup();
	return tap_done();
}
