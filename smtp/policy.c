/* policy.c: smtp_tls_policy_maps, the TLS level per next hop (Postfix's
 * syntax): keys are the next hop as routed, "[host]:port" or "[host]" for
 * a next hop without MX lookup, else the domain, then each parent domain
 * as ".parent"; values are a level (none, may, encrypt, verify, secure,
 * dane), optionally followed by attributes, of which "match=" (the name
 * the certificate must carry under verify; "hostname" = the MX host, the
 * default; "nexthop" = the next-hop domain) is used and the others are
 * accepted and ignored. A value that cannot be parsed, or a table that
 * fails, defers the mail: sending it with a weaker level than the
 * administrator asked for would be worse. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "smtp.h"

#define POLICY_VALUE_MAX 1024

int smtp_tls_policy_open(struct smtp_config *cfg, const char *const *specs,
			 const char **error_r)
{
	size_t n = 0;

	while (specs != NULL && specs[n] != NULL)
		n++;
	cfg->tls_policy = mem_calloc(n + 1, sizeof(struct dict *));
	for (size_t i = 0; i < n; i++) {
		cfg->tls_policy[i] = dict_open(specs[i], 0, error_r);
		if (cfg->tls_policy[i] == NULL)
			return -1;
	}
	return 1;
}

void smtp_tls_policy_close(struct smtp_config *cfg)
{
	for (size_t i = 0; cfg->tls_policy != NULL && cfg->tls_policy[i]; i++)
		dict_close(&cfg->tls_policy[i]);
	mem_free(cfg->tls_policy);
	cfg->tls_policy = NULL;
}

/* The next word of *p (blank separated) into word; false at the end. */
static bool next_word(const char **p, char *word, size_t size)
{
	const char *s = *p + strspn(*p, " \t,");
	size_t len = strcspn(s, " \t,");

	if (len == 0)
		return false;
	snprintf(word, size, "%.*s", (int)(len < size ? len : size - 1), s);
	*p = s + len;
	return len < size;
}

int smtp_tls_policy_parse(const char *value, enum tls_level *level_r,
			  char *match, size_t match_size, const char **error_r)
{
	char word[POLICY_VALUE_MAX];
	const char *p = value;

	match[0] = '\0';
	if (strlen(value) >= POLICY_VALUE_MAX) {
		*error_r = "policy too long";
		return -1;
	}
	if (!next_word(&p, word, sizeof(word)) ||
	    tls_level_parse(word, level_r) < 0) {
		*error_r = "unknown TLS level";
		return -1;
	}
	while (next_word(&p, word, sizeof(word))) {
		if (strchr(word, '=') == NULL) {
			*error_r = "attribute without \"=\"";
			return -1;
		}
		if (strncmp(word, "match=", 6) != 0)
			continue;
		if (word[6] == '\0' || strlen(word + 6) >= match_size) {
			*error_r = "bad match= attribute";
			return -1;
		}
		snprintf(match, match_size, "%s", word + 6);
	}
	return 1;
}

/* The first table entry for key: 1, 0 or -1. */
static int policy_get(const struct smtp_config *cfg, const char *key,
		      struct str *value, const char **error_r)
{
	for (size_t i = 0; cfg->tls_policy[i] != NULL; i++) {
		int r = dict_lookup(cfg->tls_policy[i], key, value, error_r);

		if (r != 0)
			return r;
	}
	return 0;
}

static int policy_find(const struct smtp_config *cfg, const char *host, bool mx,
		       unsigned port, unsigned defport, struct str *value,
		       const char **error_r)
{
	struct str key;
	int r;

	str_init(&key, 64);
	if (!mx) {
		str_printf(&key, "[%s]:%u", host, port);
		r = policy_get(cfg, key.data, value, error_r);
		str_clear(&key);
		str_printf(&key, "[%s]", host);
		if (r == 0 && port == defport)
			r = policy_get(cfg, key.data, value, error_r);
	} else {
		r = policy_get(cfg, host, value, error_r);
		for (const char *d = strchr(host, '.'); r == 0 && d != NULL;
		     d = strchr(d + 1, '.'))
			r = policy_get(cfg, d, value, error_r);
	}
	str_deinit(&key);
	return r;
}

int smtp_tls_policy(const struct smtp_config *cfg, struct smtp_msg *msg,
		    const char *host, bool mx, unsigned port, unsigned defport)
{
	const char *err = "";
	struct str value;
	int r;

	msg->tls_match[0] = '\0';
	if (cfg->tls_policy == NULL || cfg->tls_policy[0] == NULL)
		return 1;
	str_init(&value, 64);
	r = policy_find(cfg, host, mx, port, defport, &value, &err);
	if (r > 0 &&
	    smtp_tls_policy_parse(value.data, &msg->tls_level, msg->tls_match,
				  sizeof(msg->tls_match), &err) < 0) {
		msg_warn("smtp_tls_policy_maps: bad policy for %s: \"%.100s\": "
			 "%s",
			 msg->nexthop, value.data, err);
		r = -1;
	} else if (r < 0)
		msg_warn("smtp_tls_policy_maps lookup of %s: %s", msg->nexthop,
			 err);
	str_deinit(&value);
	return r < 0 ? -1 : 1;
}
