/* cmd_auth.c: SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN
 * mechanisms. smtpd never sees a password hash: it decodes the exchange
 * and asks the auth daemon (lib/auth_async.h: the session waits for the
 * answer, the process's other sessions go on), which also slows down
 * repeated failures per client. Here too: which users exist is never
 * told (one reply for a wrong password and an unknown user), passwords
 * are never logged, and an authenticated client may use only its own
 * addresses as the envelope sender (smtpd_sender_login_maps). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "users.h"

/* Longest SASL response line: a PLAIN message of the largest user and
 * password in base64, with room. */
#define SMTPD_SASL_LINE_MAX 4096
#define SMTPD_LOGIN_MAX_MAPS 16

static struct dict *login_maps[SMTPD_LOGIN_MAX_MAPS];
static size_t login_map_count;

/* Nothing but AUTH could ever lead to an accepted recipient: the relay
 * restrictions, without permit_sasl_authenticated, begin with reject (as
 * master.cf sets for submission). Then MAIL without AUTH gets the clearer
 * "530 Authentication required" at once. */
static bool auth_needed(struct conf *conf)
{
	const char *const *items =
	    conf_get_list(conf, "smtpd_relay_restrictions");

	for (size_t i = 0; items[i] != NULL; i++)
		if (strcmp(items[i], "permit_sasl_authenticated") != 0)
			return strcmp(items[i], "reject") == 0;
	return false;
}

int smtpd_auth_init(struct smtpd_config *cfg, struct event_loop *loop,
		    const char **error_r)
{
	const char *const *maps =
	    conf_get_list(cfg->conf, "smtpd_sender_login_maps");

	cfg->sasl_enabled = conf_get_bool(cfg->conf, "smtpd_sasl_auth_enable");
	cfg->tls_auth_only = conf_get_bool(cfg->conf, "smtpd_tls_auth_only");
	cfg->auth_required = cfg->sasl_enabled && auth_needed(cfg->conf);
	/* Connected on first use: also for recipient checks. */
	cfg->auth = auth_async_new(loop, conf_get(cfg->conf, "smtpd_sasl_path"),
				   AUTH_CALL_TIMEOUT_MS);
	for (size_t i = 0; maps[i] != NULL; i++) {
		if (login_map_count == SMTPD_LOGIN_MAX_MAPS) {
			*error_r = "smtpd_sender_login_maps: too many tables";
			return -1;
		}
		login_maps[login_map_count] = dict_open(maps[i], 0, error_r);
		if (login_maps[login_map_count++] == NULL)
			return -1;
	}
	return 1;
}

void smtpd_auth_deinit(struct smtpd_config *cfg)
{
	auth_async_free(&cfg->auth);
	for (size_t i = 0; i < login_map_count; i++)
		dict_close(&login_maps[i]);
	login_map_count = 0;
}

bool smtpd_auth_offered(const struct session *s)
{
	return s->cfg->sasl_enabled &&
	       (s->tls_active || !s->cfg->tls_auth_only);
}

void smtpd_auth_reset(struct session *s)
{
	mem_free(s->auth_user);
	s->auth_method = NULL;
	if (s->sasl_login_user != NULL)
		mem_free_secret(s->sasl_login_user, strlen(s->sasl_login_user));
	s->sasl_login_user = NULL;
}

/* Ends the exchange (not the authentication) and goes back to IDLE. */
static void exchange_end(struct session *s)
{
	if (s->auth_user == NULL)
		s->auth_method = NULL;
	if (s->sasl_login_user != NULL)
		mem_free_secret(s->sasl_login_user, strlen(s->sasl_login_user));
	s->sasl_login_user = NULL;
	if (s->state == SMTPD_AUTH)
		smtpd_enter_state(s, SMTPD_IDLE);
}

/* The auth daemon's verdict on the credentials. */
static void auth_verified(int result, const char *canon, const char *error,
			  void *ctx)
{
	struct session *s = ctx;
	char safe[AUTH_USER_MAX + 1];

	s->auth_req = NULL;
	smtpd_session_enter(s);
	if (result > 0) {
		s->auth_user = mem_strdup(canon);
		msg_info("%s[%s]: sasl_method=%s, sasl_username=%s",
			 s->client_name, s->client_addr, s->auth_method,
			 msg_safe(safe, sizeof(safe), canon, strlen(canon)));
		smtpd_reply(s, "235 2.7.0 Authentication successful");
	} else if (result == 0) {
		msg_warn("%s[%s]: SASL %s authentication failed",
			 s->client_name, s->client_addr, s->auth_method);
		smtpd_reply_error(s, "535 5.7.8 Error: authentication failed: "
				     "Authentication credentials invalid");
	} else {
		msg_warn("%s[%s]: SASL %s: %s", s->client_name, s->client_addr,
			 s->auth_method, error);
		smtpd_reply(s, "454 4.7.0 Temporary authentication failure");
	}
	exchange_end(s);
	smtpd_session_resume(s);
}

/* Asks the auth daemon; the session reads no more input until
 * auth_verified() has the answer. */
static void check_credentials(struct session *s, const char *authzid,
			      const char *user, const char *password)
{
	struct str canon, z;
	const char *err, *domain = conf_get(s->cfg->conf, "mydomain");

	str_init(&canon, 64);
	str_init(&z, 64);
	/* An authorization identity is accepted only when it names the
	 * same user (nobody may act for another here). */
	if (authzid[0] != '\0' &&
	    (users_canonical(authzid, strlen(authzid), domain, &z, &err) < 0 ||
	     users_canonical(user, strlen(user), domain, &canon, &err) < 0 ||
	     strcmp(z.data, canon.data) != 0)) {
		msg_info("%s[%s]: AUTH %s refused: authorization identity "
			 "differs from the user",
			 s->client_name, s->client_addr, s->auth_method);
		msg_warn("%s[%s]: SASL %s authentication failed",
			 s->client_name, s->client_addr, s->auth_method);
		smtpd_reply_error(s, "535 5.7.8 Error: authentication failed: "
				     "Authentication credentials invalid");
		exchange_end(s);
	} else {
		s->auth_req =
		    auth_async_verify(s->cfg->auth, user, password, "smtp",
				      s->client_addr, auth_verified, s);
	}
	str_deinit(&canon);
	str_deinit(&z);
}

/* Decodes one base64 response; replies and ends the exchange when bad.
 * "=" is the empty initial response. */
static bool decode(struct session *s, const char *text, size_t len,
		   struct str *out)
{
	if (len == 1 && text[0] == '=') {
		str_clear(out);
		return true;
	}
	if (auth_base64_decode(text, len, out) < 0) {
		smtpd_reply_error(s, "501 5.5.2 Error: invalid base64 data");
		exchange_end(s);
		return false;
	}
	return true;
}

static void plain_response(struct session *s, const char *text, size_t len)
{
	struct str msg;
	struct auth_plain p;

	str_init(&msg, 256);
	if (decode(s, text, len, &msg)) {
		if (auth_sasl_plain_parse(msg.data, msg.len, &p) < 0) {
			smtpd_reply_error(s, "501 5.5.2 Error: malformed "
					     "PLAIN authentication data");
			exchange_end(s);
		} else {
			check_credentials(s, p.authzid, p.authcid, p.password);
		}
	}
	OPENSSL_cleanse(msg.data, msg.len);
	str_deinit(&msg);
}

/* LOGIN: first the user name, then the password. */
static void login_response(struct session *s, const char *text, size_t len)
{
	struct str v;
	size_t max = s->sasl_login_user ? USERS_PASSWORD_MAX : AUTH_USER_MAX;

	str_init(&v, 128);
	if (!decode(s, text, len, &v))
		goto out;
	if (v.len == 0 || v.len > max || strlen(v.data) != v.len) {
		smtpd_reply_error(s, "501 5.5.2 Error: malformed LOGIN "
				     "authentication data");
		exchange_end(s);
	} else if (s->sasl_login_user == NULL) {
		s->sasl_login_user = mem_strdup(v.data);
		smtpd_enter_state(s, SMTPD_AUTH);
		smtpd_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
	} else {
		check_credentials(s, "", s->sasl_login_user, v.data);
	}
out:
	OPENSSL_cleanse(v.data, v.len);
	str_deinit(&v);
}

static void response(struct session *s, const char *text, size_t len)
{
	if (strcmp(s->auth_method, "PLAIN") == 0)
		plain_response(s, text, len);
	else
		login_response(s, text, len);
}

void smtpd_auth_input(struct session *s, const char *line, size_t len,
		      bool too_long)
{
	if (too_long || len > SMTPD_SASL_LINE_MAX) {
		smtpd_reply_error(s, "500 5.5.6 Authentication Exchange line "
				     "is too long");
		exchange_end(s);
	} else if (len == 1 && line[0] == '*') {
		smtpd_reply_error(s, "501 5.0.0 Authentication aborted");
		exchange_end(s);
	} else if (memchr(line, '\0', len) != NULL) {
		smtpd_reply_error(s, "501 5.5.2 Error: invalid base64 data");
		exchange_end(s);
	} else {
		response(s, line, len);
	}
}

/* Whether AUTH may start now; replies when not. */
static bool auth_allowed(struct session *s)
{
	if (!s->cfg->sasl_enabled)
		smtpd_reply_error(s, "503 5.5.1 Error: authentication not "
				     "enabled");
	else if (s->cfg->tls_auth_only && !s->tls_active)
		smtpd_reply_error(s, "530 5.7.0 Must issue a STARTTLS command "
				     "first");
	else if (!s->esmtp)
		smtpd_reply_error(s, "503 5.5.1 Error: send EHLO first");
	else if (s->auth_user != NULL)
		smtpd_reply_error(s, "503 5.5.1 Error: already authenticated");
	else if (s->state != SMTPD_IDLE)
		smtpd_reply_error(s, "503 5.5.1 Error: MAIL transaction in "
				     "progress");
	else
		return true;
	return false;
}

void smtpd_cmd_auth(struct session *s, const char *arg, size_t len)
{
	size_t mlen = 0;
	const char *initial = NULL;

	if (!auth_allowed(s))
		return;
	while (mlen < len && arg[mlen] != ' ')
		mlen++;
	if (mlen < len) {
		initial = arg + mlen + 1;
		if (memchr(initial, ' ', len - mlen - 1) != NULL) {
			smtpd_reply_error(s, "501 5.5.4 Syntax: AUTH mechanism "
					     "[initial-response]");
			return;
		}
	}
	if (mlen == 5 && strncasecmp(arg, "PLAIN", 5) == 0)
		s->auth_method = "PLAIN";
	else if (mlen == 5 && strncasecmp(arg, "LOGIN", 5) == 0)
		s->auth_method = "LOGIN";
	else {
		smtpd_reply_error(s, mlen == 0 ? "501 5.5.4 Syntax: AUTH "
						 "mechanism [initial-response]"
					       : "504 5.5.4 Unrecognized "
						 "authentication type");
		return;
	}
	if (initial != NULL) {
		response(s, initial, len - mlen - 1);
		return;
	}
	smtpd_enter_state(s, SMTPD_AUTH);
	/* PLAIN: an empty challenge; LOGIN: "Username:". */
	smtpd_reply(s, s->auth_method[0] == 'P' ? "334 " : "334 VXNlcm5hbWU6");
}

void smtpd_auth_known_clear(struct session *s)
{
	for (size_t i = 0; i < SMTPD_KNOWN_MAX; i++)
		mem_free(s->known[i].user);
	s->known_count = 0;
}

/* The answer for the RCPT that waits: kept, then the command runs again. */
static void rcpt_checked(int result, const char *canon, const char *error,
			 void *ctx)
{
	struct session *s = ctx;
	char *arg = s->rcpt_retry;

	(void)canon;
	s->auth_req = NULL;
	s->rcpt_retry = NULL;
	smtpd_session_enter(s);
	if (result < 0)
		msg_warn("recipient check: %s", error);
	s->known[s->known_count++].result = result;
	if (arg != NULL)
		smtpd_cmd_rcpt(s, arg, strlen(arg));
	mem_free(arg);
	smtpd_session_resume(s);
}

/* The auth daemon's answer for user if it is in, else asks for it. */
static int known_or_ask(struct session *s, const char *user)
{
	for (size_t i = 0; i < s->known_count; i++)
		if (strcmp(s->known[i].user, user) == 0)
			return s->known[i].result;
	if (s->known_count == SMTPD_KNOWN_MAX)
		msg_panic("recipient check: more than %d questions",
			  SMTPD_KNOWN_MAX);
	mem_free(s->known[s->known_count].user);
	s->known[s->known_count].user = mem_strdup(user);
	s->auth_req = auth_async_exists(s->cfg->auth, user, rcpt_checked, s);
	return SMTPD_WAIT;
}

int smtpd_auth_rcpt_exists(struct session *s, const struct addr *a,
			   const char *delim)
{
	const char *ext;
	struct str base;
	int r;

	r = known_or_ask(s, a->canon.data);
	if (r == 0 && delim[0] != '\0' &&
	    (ext = strpbrk(a->local.data, delim)) != NULL &&
	    ext != a->local.data) {
		str_init(&base, 64);
		str_append(&base, a->local.data, (size_t)(ext - a->local.data));
		str_printf(&base, "@%s", a->domain.data);
		r = known_or_ask(s, base.data);
		str_deinit(&base);
	}
	return r;
}

/* Does the map say user may send as key? Values list owners, separated
 * by commas or blanks. 1 yes, 0 no, -1 lookup error. */
static int map_owned(const char *key, const char *user)
{
	struct str v;
	const char *err;
	int r = 0;

	str_init(&v, 128);
	for (size_t i = 0; i < login_map_count && r == 0; i++) {
		int found = dict_lookup(login_maps[i], key, &v, &err);

		if (found < 0) {
			msg_warn("smtpd_sender_login_maps: %s", err);
			r = -1;
		}
		for (char *tok = found > 0 ? strtok(v.data, ", \t") : NULL;
		     tok != NULL && r == 0; tok = strtok(NULL, ", \t"))
			r = strcasecmp(tok, user) == 0;
	}
	str_deinit(&v);
	return r;
}

int smtpd_auth_sender_owned(struct session *s, const char *sender,
			    struct str *reply_r)
{
	const char *at = strrchr(sender, '@');
	int r;

	if (s->auth_user == NULL || sender[0] == '\0' ||
	    strcasecmp(sender, s->auth_user) == 0)
		return 1;
	r = map_owned(sender, s->auth_user);
	if (r == 0 && at != NULL)
		r = map_owned(at, s->auth_user);
	if (r > 0)
		return 1;
	str_clear(reply_r);
	if (r < 0)
		str_printf(reply_r, "451 4.3.0 <%s>: Temporary lookup failure",
			   sender);
	else
		str_printf(reply_r,
			   "553 5.7.1 <%s>: Sender address rejected: "
			   "not owned by user %s",
			   sender, s->auth_user);
	return 0;
}
