/* policy.c: the SMTP access policy, evaluated for each RCPT (as with
 * Postfix's smtpd_delay_reject=yes): smtpd_client_restrictions,
 * smtpd_helo_restrictions, smtpd_sender_restrictions,
 * smtpd_relay_restrictions, smtpd_recipient_restrictions, then the
 * implicit reject_unlisted_recipient (smtpd_reject_unlisted_recipient):
 * a recipient in one of our domains must be in virtual_alias_maps or
 * local_recipient_maps (users through the auth daemon, cmd_auth.c; alias
 * tables by local part). The auth daemon is asked without blocking:
 * the evaluation stops at the question (V_WAIT) and the whole RCPT runs
 * again once the answer is in; everything else here is local and has no
 * side effect, so running it twice gives the same result.
 * A REJECT/DEFER in any list ends the check; PERMIT ends only its own list.
 * Unknown restrictions and broken tables give 4xx, never "permit": the
 * server is never an open relay because of a configuration mistake.
 *
 * Tables are opened on first use and kept. A file-based table whose file
 * does not exist (an instance with no users yet) counts as empty, with a
 * warning: recipients in our domains are then valid only through the
 * alias tables (or as postmaster), so no mail is accepted that could only
 * bounce later. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

#define POLICY_TABLES_MAX 64

/* V_WAIT: an auth daemon answer is needed first (the RCPT runs again). */
enum verdict { V_DUNNO, V_PERMIT, V_REJECT, V_WAIT };

struct table_ref {
	char *spec;
	struct dict *d; /* NULL: missing file, empty */
};

static struct table_ref tables[POLICY_TABLES_MAX];
static size_t table_count;

struct policy_ctx {
	struct session *s;
	const struct addr *rcpt;
	struct str *reply;
};

static bool file_missing(const char *path)
{
	static const char *const suffixes[] = {"", ".db", ".lmdb"};
	struct str p;
	struct stat st;
	bool missing = true;

	str_init(&p, 128);
	for (size_t i = 0; i < 3 && missing; i++) {
		str_printf(&p, "%s%s", path, suffixes[i]);
		if (stat(p.data, &st) == 0 || errno != ENOENT)
			missing = false;
		str_clear(&p);
	}
	str_deinit(&p);
	return missing;
}

/* The open table for spec: 1 with *d_r (NULL = empty), or -1. */
static int table_get(const char *spec, struct dict **d_r)
{
	const char *err, *colon = strchr(spec, ':');
	struct dict *d;

	for (size_t i = 0; i < table_count; i++)
		if (strcmp(tables[i].spec, spec) == 0) {
			*d_r = tables[i].d;
			return 1;
		}
	if (table_count == POLICY_TABLES_MAX) {
		msg_warn("too many lookup tables (over %d)", POLICY_TABLES_MAX);
		return -1;
	}
	d = dict_open(spec, 0, &err);
	if (d == NULL) {
		if (colon == NULL || colon[1] != '/' ||
		    !file_missing(colon + 1)) {
			msg_warn("table %s: %s", spec, err);
			return -1;
		}
		msg_warn("table %s does not exist: treated as empty", spec);
	}
	tables[table_count].spec = mem_strdup(spec);
	tables[table_count++].d = d;
	*d_r = d;
	return 1;
}

static bool in_list(const char *const *items, const char *domain)
{
	for (size_t i = 0; items != NULL && items[i] != NULL; i++)
		if (strcasecmp(items[i], domain) == 0)
			return true;
	return false;
}

bool smtpd_policy_local_domain(const struct smtpd_config *cfg,
			       const char *domain)
{
	return domain[0] != '\0' &&
	       in_list(conf_get_list(cfg->conf, "mydestination"), domain);
}

/* A destination we accept mail for from anyone. Our own domains: unless
 * the local part holds a routing operator (%, !, a quoted @) or a source
 * route came with it, which some software would obey instead of the
 * domain. relay_domains: only addresses free of every form that
 * lib/addr flags for relay scrutiny. */
static bool auth_destination(const struct smtpd_config *cfg,
			     const struct addr *a)
{
	if (smtpd_policy_local_domain(cfg, a->domain.data))
		return !(a->flags & (ADDR_F_PERCENT | ADDR_F_BANG |
				     ADDR_F_LOCAL_AT | ADDR_F_SOURCE_ROUTE));
	return a->domain.data[0] != '\0' && !addr_needs_relay_scrutiny(a) &&
	       in_list(conf_get_list(cfg->conf, "relay_domains"),
		       a->domain.data);
}

static enum verdict config_error(struct policy_ctx *c, const char *what)
{
	msg_warn("restriction \"%s\": not supported or incomplete; answering "
		 "451 4.3.5",
		 what);
	str_set(c->reply, "", 0);
	str_printf(c->reply, "451 4.3.5 Server configuration error");
	return V_REJECT;
}

static enum verdict reject_with(struct policy_ctx *c, int code,
				const char *status, const char *key,
				const char *what, const char *text)
{
	str_clear(c->reply);
	str_printf(c->reply, "%d %s <%s>: %s%s", code, status, key, what, text);
	return V_REJECT;
}

/* "4NN [X.Y.Z] text": the code, the table's enhanced status when it
 * gives one whose class matches, else X.7.1. */
static enum verdict access_code(struct policy_ctx *c, const char *value,
				const char *key, const char *what)
{
	int code =
	    (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
	const char *text = value + 4;
	char status[16];
	size_t n = strspn(text, "0123456789.");
	struct str t;
	enum verdict v;

	if (n >= 5 && n < sizeof(status) && text[0] == value[0] &&
	    text[1] == '.' && (text[n] == ' ' || text[n] == '\0')) {
		memcpy(status, text, n);
		status[n] = '\0';
		text += n;
		text += strspn(text, " ");
	} else {
		memcpy(status, value[0] == '4' ? "4.7.1" : "5.7.1", 6);
	}
	str_init(&t, 128);
	str_printf(&t, " rejected: %s", *text ? text : "Access denied");
	v = reject_with(c, code, status, key, what, t.data);
	str_deinit(&t);
	return v;
}

/* An access table result: OK, DUNNO, REJECT [text], DEFER [text],
 * 4NN/5NN text. */
static enum verdict access_result(struct policy_ctx *c, const char *value,
				  const char *key, const char *what)
{
	const char *text = value;
	size_t word = strcspn(value, " \t");
	struct str t;
	enum verdict v;

	while (text[word] == ' ' || text[word] == '\t')
		word++;
	text += word;
	if (strcasecmp(value, "OK") == 0 || strcasecmp(value, "PERMIT") == 0)
		return V_PERMIT;
	if (strcasecmp(value, "DUNNO") == 0)
		return V_DUNNO;
	str_init(&t, 128);
	str_printf(&t, " rejected: %s", *text ? text : "Access denied");
	if (strncasecmp(value, "REJECT", 6) == 0 &&
	    (value[6] == '\0' || value[6] == ' '))
		v = reject_with(c, 554, "5.7.1", key, what, t.data);
	else if (strncasecmp(value, "DEFER", 5) == 0 &&
		 (value[5] == '\0' || value[5] == ' '))
		v = reject_with(c, 450, "4.7.1", key, what, t.data);
	else if ((value[0] == '4' || value[0] == '5') && value[1] >= '0' &&
		 value[1] <= '9' && value[2] >= '0' && value[2] <= '9' &&
		 value[3] == ' ') {
		v = access_code(c, value, key, what);
	} else {
		v = config_error(c, value);
	}
	str_deinit(&t);
	return v;
}

static enum verdict lookup_failed(struct policy_ctx *c)
{
	str_clear(c->reply);
	str_printf(c->reply, "451 4.3.0 <%s>: Temporary lookup failure",
		   c->rcpt->canon.data);
	return V_REJECT;
}

/* The client's (confirmed) name, then its parent domains (Postfix's
 * access(5) with parent_domain_matches_subdomains): 1, 0 or -1. */
static int client_name_lookup(struct policy_ctx *c, struct dict *d,
			      struct str *value)
{
	const char *name = c->s->client_name, *err;
	int r = 0;

	if (c->s->name_status != SMTPD_NAME_OK)
		return 0;
	while (r == 0 && name != NULL && name[0] != '\0') {
		r = dict_lookup(d, name, value, &err);
		name = strchr(name, '.');
		if (name != NULL)
			name++;
	}
	return r;
}

static enum verdict check_client(struct policy_ctx *c, struct dict *d)
{
	struct str key, value;
	const char *err;
	char *dot;
	int r;

	str_init(&key, 64);
	str_init(&value, 64);
	str_set(&key, c->s->client_addr, strlen(c->s->client_addr));
	r = client_name_lookup(c, d, &value);
	/* 192.0.2.1, then 192.0.2, 192.0, 192 (Postfix's access(5)). */
	while (r == 0 && (r = dict_lookup(d, key.data, &value, &err)) == 0 &&
	       strchr(key.data, ':') == NULL &&
	       (dot = strrchr(key.data, '.')) != NULL)
		str_truncate(&key, (size_t)(dot - key.data));
	str_clear(&key);
	str_printf(&key, "%s[%s]", c->s->client_name, c->s->client_addr);
	enum verdict v =
	    r < 0   ? lookup_failed(c)
	    : r > 0 ? access_result(c, value.data, key.data, "Client host")
		    : V_DUNNO;
	str_deinit(&key);
	str_deinit(&value);
	return v;
}

static enum verdict check_address(struct policy_ctx *c, struct dict *d,
				  const char *address, const char *domain,
				  const char *what)
{
	const char *delim = conf_get(c->s->cfg->conf, "recipient_delimiter");
	const char *err;
	struct str value;
	int r;

	str_init(&value, 64);
	if (address[0] == '\0')
		r = dict_lookup(d, "<>", &value, &err);
	else
		r = dict_lookup_address(d, address, delim, false, &value, NULL,
					&err);
	if (r == 0 && domain[0] != '\0')
		r = dict_lookup(d, domain, &value, &err);
	enum verdict v =
	    r < 0 ? lookup_failed(c)
	    : r > 0
		? access_result(c, value.data, address[0] ? address : "", what)
		: V_DUNNO;
	str_deinit(&value);
	return v;
}

static enum verdict check_access(struct policy_ctx *c, const char *name,
				 const char *spec)
{
	struct dict *d;
	const char *at;

	if (spec == NULL)
		return config_error(c, name);
	if (table_get(spec, &d) < 0)
		return lookup_failed(c);
	if (d == NULL)
		return V_DUNNO;
	if (strcmp(name, "check_client_access") == 0)
		return check_client(c, d);
	if (strcmp(name, "check_recipient_access") == 0)
		return check_address(c, d, c->rcpt->canon.data,
				     c->rcpt->domain.data, "Recipient address");
	at = strrchr(c->s->sender, '@');
	return check_address(c, d, c->s->sender, at ? at + 1 : "",
			     "Sender address");
}

/* Is the recipient known in a table? 1 yes, 0 no, -1 lookup error. */
static int rcpt_known_in(const char *spec, const struct addr *a,
			 bool local_part_only, const char *delim)
{
	struct dict *d;
	struct str value;
	const char *err;
	int r;

	if (table_get(spec, &d) < 0)
		return -1;
	if (d == NULL)
		return 0;
	str_init(&value, 64);
	if (local_part_only)
		r = dict_lookup(d, a->local.data, &value, &err);
	else
		r = dict_lookup_address(d, a->canon.data, delim, false, &value,
					NULL, &err);
	str_deinit(&value);
	return r;
}

/* Is a local-domain recipient in local_recipient_maps? The entry that
 * names users_table is asked of the auth daemon (only it reads the
 * password hashes); other tables by address, then by local part (alias
 * tables are keyed by local part). 1 yes, 0 no, -1 lookup error,
 * SMTPD_WAIT: the auth daemon was asked. */
static int rcpt_local_known(struct policy_ctx *c, const char *delim)
{
	struct conf *conf = c->s->cfg->conf;
	const char *const *maps = conf_get_list(conf, "local_recipient_maps");
	const char *users = conf_get(conf, "users_table");
	int r = 0;

	for (size_t i = 0; r == 0 && maps[i] != NULL; i++) {
		if (strcmp(maps[i], users) == 0)
			r = smtpd_auth_rcpt_exists(c->s, c->rcpt, delim);
		else if ((r = rcpt_known_in(maps[i], c->rcpt, false, delim)) ==
			 0)
			r = rcpt_known_in(maps[i], c->rcpt, true, delim);
	}
	return r;
}

static enum verdict check_unlisted(struct policy_ctx *c)
{
	struct conf *conf = c->s->cfg->conf;
	const struct addr *a = c->rcpt;
	const char *delim = conf_get(conf, "recipient_delimiter");
	const char *const *virt = conf_get_list(conf, "virtual_alias_maps");
	int r = 0;

	if (!smtpd_policy_local_domain(c->s->cfg, a->domain.data) ||
	    strcasecmp(a->local.data, "postmaster") == 0)
		return V_DUNNO;
	/* Postfix: an empty local_recipient_maps accepts every local part
	 * (and invites backscatter: documented in postern-smtpd(8)). */
	if (conf_get_list(conf, "local_recipient_maps")[0] == NULL)
		return V_DUNNO;
	for (size_t i = 0; r == 0 && virt[i] != NULL; i++)
		r = rcpt_known_in(virt[i], a, false, delim);
	if (r == 0)
		r = rcpt_local_known(c, delim);
	if (r == SMTPD_WAIT)
		return V_WAIT;
	if (r < 0)
		return lookup_failed(c);
	if (r > 0)
		return V_DUNNO;
	return reject_with(c, 550, "5.1.1", a->canon.data, "Recipient address",
			   " rejected: User unknown in local recipient table");
}

/* Postfix's reply: 450 (unknown_client_reject_code) when the name is not
 * known, also when the DNS failed (a later try may find it). */
static enum verdict unknown_client(struct policy_ctx *c,
				   enum smtpd_name_status st, const char *what)
{
	if (st == SMTPD_NAME_OK)
		return V_DUNNO;
	str_clear(c->reply);
	str_printf(c->reply,
		   "450 4.7.25 Client host rejected: cannot find your %s, [%s]",
		   what, c->s->client_addr);
	return V_REJECT;
}

static enum verdict eval_item(struct policy_ctx *c, const char *name,
			      const char *arg)
{
	const struct smtpd_config *cfg = c->s->cfg;
	const char *key = c->rcpt->canon.data;

	if (strcmp(name, "permit") == 0)
		return V_PERMIT;
	if (strcmp(name, "reject") == 0)
		return reject_with(c, 554, "5.7.1", key, "Recipient address",
				   " rejected: Access denied");
	if (strcmp(name, "defer") == 0)
		return reject_with(c, 450, "4.7.1", key, "Recipient address",
				   " rejected: Try again later");
	if (strcmp(name, "permit_mynetworks") == 0)
		return cidr_list_match(cfg->mynetworks, c->s->client_addr)
			   ? V_PERMIT
			   : V_DUNNO;
	if (strcmp(name, "reject_unknown_client_hostname") == 0 ||
	    strcmp(name, "reject_unknown_client") == 0)
		return unknown_client(c, c->s->name_status, "hostname");
	if (strcmp(name, "reject_unknown_reverse_client_hostname") == 0)
		return unknown_client(c, c->s->reverse_status,
				      "reverse hostname");
	if (strcmp(name, "permit_sasl_authenticated") == 0)
		return c->s->auth_user != NULL ? V_PERMIT : V_DUNNO;
	if (strcmp(name, "permit_auth_destination") == 0)
		return auth_destination(cfg, c->rcpt) ? V_PERMIT : V_DUNNO;
	if (strcmp(name, "reject_unauth_destination") == 0 ||
	    strcmp(name, "defer_unauth_destination") == 0) {
		if (auth_destination(cfg, c->rcpt))
			return V_DUNNO;
		return name[0] == 'r' ? reject_with(c, 554, "5.7.1", key,
						    "Relay access denied", "")
				      : reject_with(c, 450, "4.7.1", key,
						    "Relay access denied", "");
	}
	if (strcmp(name, "reject_unlisted_recipient") == 0 ||
	    strcmp(name, "reject_unknown_recipient") == 0)
		return check_unlisted(c);
	if (strcmp(name, "check_client_access") == 0 ||
	    strcmp(name, "check_sender_access") == 0 ||
	    strcmp(name, "check_recipient_access") == 0)
		return check_access(c, name, arg);
	return config_error(c, name);
}

static bool takes_table(const char *name)
{
	return strncmp(name, "check_", 6) == 0;
}

static enum verdict eval_list(struct policy_ctx *c, const char *param)
{
	const char *const *items = conf_get_list(c->s->cfg->conf, param);
	enum verdict v;

	for (size_t i = 0; items[i] != NULL; i++) {
		const char *arg = takes_table(items[i]) ? items[i + 1] : NULL;

		v = eval_item(c, items[i], arg);
		if (arg != NULL)
			i++;
		if (v != V_DUNNO)
			return v;
	}
	return V_DUNNO;
}

int smtpd_policy_rcpt(struct session *s, const struct addr *rcpt,
		      struct str *reply_r)
{
	static const char *const lists[] = {
	    "smtpd_client_restrictions", "smtpd_helo_restrictions",
	    "smtpd_sender_restrictions", "smtpd_relay_restrictions",
	    "smtpd_recipient_restrictions"};
	struct policy_ctx c = {.s = s, .rcpt = rcpt, .reply = reply_r};
	enum verdict v = V_DUNNO;

	for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
		v = eval_list(&c, lists[i]);
		if (v == V_REJECT || v == V_WAIT)
			break;
	}
	if (v != V_REJECT && v != V_WAIT &&
	    conf_get_bool(s->cfg->conf, "smtpd_reject_unlisted_recipient"))
		v = check_unlisted(&c);
	return v == V_WAIT ? SMTPD_WAIT : v == V_REJECT ? 0 : 1;
}

int smtpd_policy_init(const struct smtpd_config *cfg, const char **error_r)
{
	const char *const *dest = conf_get_list(cfg->conf, "mydestination");

	(void)error_r;
	for (size_t i = 0; dest[i] != NULL; i++)
		if (strchr(dest[i], ':') != NULL || strchr(dest[i], '/'))
			msg_warn("mydestination: tables are not supported "
				 "yet; \"%s\" matches nothing",
				 dest[i]);
	return 1;
}
