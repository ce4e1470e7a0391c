/* cmd_etrn.c: ETRN (RFC 1985, remote message queue starting): a client
 * that holds mail for a domain here (we are its backup MX) asks us to
 * retry that mail now. Replies as Postfix's smtpd gives them:
 *
 *   503 Error: send HELO/EHLO first      (smtpd_helo_required)
 *   503 Error: MAIL transaction in progress
 *   500 Syntax: ETRN domain              (no argument, or more than one)
 *   501 Error: invalid parameter syntax  (not a host name or [literal])
 *   554/450 ...                          (smtpd_etrn_restrictions)
 *   459 <domain>: service unavailable    (not in fast_flush_domains)
 *   458 Unable to queue messages         (the queue cannot be read)
 *   250 Queuing started
 *
 * A leading '@' (RFC 1985: the domain and its subdomains) or '#' (a queue
 * name) is accepted; '@' also matches subdomains here, '#' is taken as a
 * domain, as Postfix does. The work: every message in deferred/ with a
 * pending recipient in the domain gets its next attempt time (the file's
 * mtime) set to now, then qmgr is told to scan deferred/. Messages in
 * active/ are being tried already; held ones stay held.
 *
 * smtpd_etrn_restrictions knows permit, reject, defer, permit_mynetworks,
 * permit_sasl_authenticated and check_client_access; anything else is a
 * configuration error (458, logged). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "addr.h"
#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "qmgr_trigger.h"
#include "queue_file.h"
#include "smtpd.h"

#define ETRN_TABLES_MAX 8

enum etrn_verdict { EV_DUNNO, EV_PERMIT, EV_REJECT };

struct etrn_table {
	char *spec;
	struct dict *d;
};

static struct etrn_table etrn_tables[ETRN_TABLES_MAX];
static size_t etrn_table_count;

static struct dict *etrn_table(const char *spec)
{
	const char *err;
	struct dict *d;

	for (size_t i = 0; i < etrn_table_count; i++)
		if (strcmp(etrn_tables[i].spec, spec) == 0)
			return etrn_tables[i].d;
	if (etrn_table_count == ETRN_TABLES_MAX) {
		msg_warn("smtpd_etrn_restrictions: too many tables");
		return NULL;
	}
	d = dict_open(spec, 0, &err);
	if (d == NULL) {
		msg_warn("smtpd_etrn_restrictions: table %s: %s", spec, err);
		return NULL;
	}
	etrn_tables[etrn_table_count].spec = mem_strdup(spec);
	etrn_tables[etrn_table_count++].d = d;
	return d;
}

/* An access table's answer for the client: OK, DUNNO, REJECT [text],
 * DEFER [text], or "4NN/5NN text". */
static enum etrn_verdict etrn_access(struct session *s, const char *value,
				     struct str *reply)
{
	const char *text = value + strcspn(value, " \t");
	int code = 0;

	text += strspn(text, " \t");
	if (strcasecmp(value, "OK") == 0 || strcasecmp(value, "PERMIT") == 0)
		return EV_PERMIT;
	if (strcasecmp(value, "DUNNO") == 0)
		return EV_DUNNO;
	if (strncasecmp(value, "REJECT", 6) == 0 &&
	    (value[6] == '\0' || value[6] == ' '))
		code = 554;
	else if (strncasecmp(value, "DEFER", 5) == 0 &&
		 (value[5] == '\0' || value[5] == ' '))
		code = 450;
	else if ((value[0] == '4' || value[0] == '5') && value[1] >= '0' &&
		 value[1] <= '9' && value[2] >= '0' && value[2] <= '9' &&
		 value[3] == ' ')
		code = (value[0] - '0') * 100 + (value[1] - '0') * 10 +
		       (value[2] - '0');
	if (code == 0) {
		msg_warn("smtpd_etrn_restrictions: bad access table result "
			 "\"%.100s\"",
			 value);
		str_printf(reply, "458 Unable to queue messages");
		return EV_REJECT;
	}
	str_printf(reply, "%d %s <%s[%s]>: Client host rejected: %s", code,
		   code >= 500 ? "5.7.1" : "4.7.1", s->client_name,
		   s->client_addr, *text != '\0' ? text : "Access denied");
	return EV_REJECT;
}

/* check_client_access: the address, then its shorter IPv4 prefixes
 * (192.0.2.1, 192.0.2, 192.0, 192), as in access(5). */
static enum etrn_verdict etrn_check_client(struct session *s, const char *spec,
					   struct str *reply)
{
	struct dict *d = spec != NULL ? etrn_table(spec) : NULL;
	struct str key, value;
	enum etrn_verdict v = EV_DUNNO;
	const char *err;
	char *dot;
	int r;

	if (d == NULL) {
		str_printf(reply, "458 Unable to queue messages");
		return EV_REJECT;
	}
	str_init(&key, 64);
	str_init(&value, 64);
	str_set(&key, s->client_addr, strlen(s->client_addr));
	while ((r = dict_lookup(d, key.data, &value, &err)) == 0 &&
	       strchr(key.data, ':') == NULL &&
	       (dot = strrchr(key.data, '.')) != NULL)
		str_truncate(&key, (size_t)(dot - key.data));
	if (r < 0) {
		msg_warn("smtpd_etrn_restrictions: %s: %s", spec, err);
		str_printf(reply, "458 Unable to queue messages");
		v = EV_REJECT;
	} else if (r > 0) {
		v = etrn_access(s, value.data, reply);
	}
	str_deinit(&key);
	str_deinit(&value);
	return v;
}

static enum etrn_verdict etrn_item(struct session *s, const char *name,
				   const char *arg, const char *domain,
				   struct str *reply)
{
	if (strcmp(name, "permit") == 0)
		return EV_PERMIT;
	if (strcmp(name, "reject") == 0 || strcmp(name, "defer") == 0) {
		str_printf(reply, "%s <%s>: Etrn command rejected: %s",
			   name[0] == 'r' ? "554 5.7.1" : "450 4.7.1", domain,
			   name[0] == 'r' ? "Access denied"
					  : "Try again later");
		return EV_REJECT;
	}
	if (strcmp(name, "permit_mynetworks") == 0)
		return cidr_list_match(s->cfg->mynetworks, s->client_addr)
			   ? EV_PERMIT
			   : EV_DUNNO;
	if (strcmp(name, "permit_sasl_authenticated") == 0)
		return s->auth_user != NULL ? EV_PERMIT : EV_DUNNO;
	if (strcmp(name, "check_client_access") == 0)
		return etrn_check_client(s, arg, reply);
	msg_warn("smtpd_etrn_restrictions: \"%s\" is not supported; "
		 "answering 458",
		 name);
	str_printf(reply, "458 Unable to queue messages");
	return EV_REJECT;
}

/* Returns 1 when allowed, else 0 with the reply. */
static int etrn_allowed(struct session *s, const char *domain,
			struct str *reply)
{
	const char *const *items =
	    conf_get_list(s->cfg->conf, "smtpd_etrn_restrictions");

	for (size_t i = 0; items[i] != NULL; i++) {
		const char *arg =
		    strncmp(items[i], "check_", 6) == 0 ? items[i + 1] : NULL;
		enum etrn_verdict v =
		    etrn_item(s, items[i], arg, domain, reply);

		if (arg != NULL)
			i++;
		if (v != EV_DUNNO)
			return v == EV_PERMIT ? 1 : 0;
	}
	return 1;
}

/* domain is name or a subdomain of it (a leading '.' in a list entry
 * means subdomains only, as in Postfix's domain lists). */
static bool etrn_domain_match(const char *domain, const char *name,
			      bool subdomains)
{
	size_t dl = strlen(domain), nl;

	if (name[0] == '.') {
		name++;
		subdomains = true;
	} else if (strcasecmp(domain, name) == 0) {
		return true;
	}
	nl = strlen(name);
	return subdomains && nl > 0 && dl > nl + 1 &&
	       domain[dl - nl - 1] == '.' &&
	       strcasecmp(domain + dl - nl, name) == 0;
}

static bool etrn_fast_flush(const struct smtpd_config *cfg, const char *domain)
{
	const char *const *list =
	    conf_get_list(cfg->conf, "fast_flush_domains");

	/* Postfix's parent_domain_matches_subdomains includes this list. */
	for (size_t i = 0; list[i] != NULL; i++)
		if (etrn_domain_match(domain, list[i], true))
			return true;
	return false;
}

/* Does the message in deferred/ have a pending recipient there? */
static bool etrn_message_matches(int dfd, const char *id, const char *domain,
				 bool subdomains)
{
	const struct queue_envelope *env;
	struct queue_file *qf;
	const char *err, *at;
	bool match = false;

	if (queue_file_openat(dfd, id, 0, &qf, &err) != 1)
		return false;
	env = queue_file_envelope(qf);
	for (size_t i = 0; i < env->rcpt_count && !match; i++)
		match = env->rcpts[i].status == QUEUE_RCPT_PENDING &&
			(at = strrchr(env->rcpts[i].address, '@')) != NULL &&
			etrn_domain_match(at + 1, domain, subdomains);
	queue_file_close(&qf);
	return match;
}

/* Makes the domain's deferred mail due now. Returns the number of
 * messages, or -1 with *error_r. */
static long etrn_schedule(const struct smtpd_config *cfg, const char *domain,
			  bool subdomains, const char **error_r)
{
	struct queue_id_list list = {0};
	int dfd = queue_dir_fd(cfg->queue, QUEUE_DEFERRED, error_r);
	long count = 0;

	if (dfd < 0 ||
	    queue_dir_list(cfg->queue, QUEUE_DEFERRED, &list, error_r) < 0)
		return -1;
	for (size_t i = 0; i < list.count; i++) {
		if (!etrn_message_matches(dfd, list.ids[i], domain, subdomains))
			continue;
		/* Gone meanwhile (qmgr took it): it is being tried anyway. */
		if (utimensat(dfd, list.ids[i], NULL, 0) == 0)
			count++;
		else if (errno != ENOENT)
			msg_warn("%s: ETRN: set the next attempt time: %s",
				 list.ids[i], strerror(errno));
	}
	queue_id_list_free(&list);
	return count;
}

/* The argument: one word, an optional '@' or '#' first, then a host name
 * or an address literal. Returns 1 with the lower-cased domain in out,
 * 0 for "500 Syntax", -1 for "501 invalid". */
static int etrn_parse(const char *arg, size_t len, struct str *out,
		      bool *subdomains_r)
{
	enum addr_error aerr;
	struct addr a;
	struct str mbox;
	int ok;

	while (len > 0 && arg[len - 1] == ' ')
		len--;
	if (len == 0 || memchr(arg, ' ', len) != NULL)
		return 0;
	*subdomains_r = arg[0] == '@';
	if (arg[0] == '@' || arg[0] == '#') {
		arg++;
		len--;
	}
	/* The domain part of a mailbox is exactly a host name or literal. */
	str_init(&mbox, len + 8);
	str_append_cstr(&mbox, "etrn@");
	str_append(&mbox, arg, len);
	addr_init(&a);
	ok = len > 0 && len <= 255 &&
	     addr_parse(mbox.data, mbox.len, 0, &a, &aerr) == 1 &&
	     (a.flags & ADDR_F_NUMERIC_DOMAIN) == 0;
	if (ok)
		str_set(out, a.domain.data, a.domain.len);
	addr_deinit(&a);
	str_deinit(&mbox);
	return ok ? 1 : -1;
}

static void etrn_run(struct session *s, const char *domain, bool subdomains)
{
	struct str reply;
	const char *err;
	long n;

	str_init(&reply, 128);
	if (etrn_allowed(s, domain, &reply) == 0) {
		msg_info("reject: ETRN %s from %s[%s]: %s", domain,
			 s->client_name, s->client_addr, reply.data);
		smtpd_reply_error(s, "%s", reply.data);
	} else if (!etrn_fast_flush(s->cfg, domain)) {
		msg_warn("reject: ETRN %s... from %s[%s]", domain,
			 s->client_name, s->client_addr);
		smtpd_reply_error(s, "459 <%s>: service unavailable", domain);
	} else if ((n = etrn_schedule(s->cfg, domain, subdomains, &err)) < 0) {
		msg_warn("ETRN %s: %s", domain, err);
		smtpd_reply(s, "458 Unable to queue messages");
	} else {
		msg_info("%s[%s]: ETRN %s%s: %ld deferred message%s due now",
			 s->client_name, s->client_addr, subdomains ? "@" : "",
			 domain, n, n == 1 ? "" : "s");
		if (n > 0 && qmgr_trigger(queue_dir_root(s->cfg->queue),
					  QMGR_TRIGGER_DEFERRED, &err) < 0)
			msg_warn("ETRN %s: wake qmgr: %s (the mail goes at "
				 "its next deferred scan)",
				 domain, err);
		smtpd_reply(s, "250 Queuing started");
	}
	str_deinit(&reply);
}

void smtpd_cmd_etrn(struct session *s, const char *arg, size_t len)
{
	struct str domain;
	bool subdomains = false;
	int r;

	if (s->cfg->helo_required && s->helo_name == NULL) {
		smtpd_reply_error(s, "503 Error: send HELO/EHLO first");
		return;
	}
	if (s->state != SMTPD_INIT && s->state != SMTPD_IDLE) {
		smtpd_reply_error(s, "503 Error: MAIL transaction in progress");
		return;
	}
	str_init(&domain, 64);
	r = etrn_parse(arg, len, &domain, &subdomains);
	if (r == 0)
		smtpd_reply_error(s, "500 Syntax: ETRN domain");
	else if (r < 0)
		smtpd_reply_error(s, "501 Error: invalid parameter syntax");
	else
		etrn_run(s, domain.data, subdomains);
	str_deinit(&domain);
}
