/* login.c: LOGIN and AUTHENTICATE PLAIN (with SASL-IR). The password is
 * checked by the auth daemon (postern-auth(8)) through lib/auth_async,
 * driven by the event loop, so that the auth daemon's delay after a
 * failure holds only this session, never the other sessions of the
 * process. A login name without "@domain" gets the default domain
 * from the auth daemon, as it does for SMTP AUTH. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth_async.h"
#include "auth_client.h"
#include "imapd.h"
#include "mem.h"
#include "msg.h"

/* Longest password accepted (the users table's limit is lower). */
#define IMAPD_PASSWORD_MAX 1024
/* Longest AUTHENTICATE response line (base64 of user, user, password). */
#define IMAPD_SASL_MAX 4096

void imapd_login_abort(struct session *s)
{
	auth_async_cancel(&s->login);
	mem_free(s->login_user);
}

/* The store path of a canonical user "local@domain": both parts must be
 * one safe path component each. */
static int user_root(struct session *s, const char *user, struct str *out)
{
	const char *at = strrchr(user, '@');

	if (at == NULL || at == user || at[1] == '\0' || user[0] == '.' ||
	    at[1] == '.' || strchr(user, '/') != NULL)
		return -1;
	str_clear(out);
	str_printf(out, "%s/%s/", s->cfg->mail_store, at + 1);
	str_append(out, user, (size_t)(at - user));
	return 1;
}

static void login_ok(struct session *s, const char *canon)
{
	struct mstore_settings set = {.public_root = s->cfg->public_root,
				      .hostname = s->cfg->hostname};
	struct str root, caps;
	const char *err;

	str_init(&root, 128);
	if (user_root(s, canon, &root) < 0) {
		msg_warn("%s: user %s: not a usable mailbox name",
			 s->client_addr, canon);
		imapd_tagged(s, "NO", "[UNAVAILABLE] Mailbox not usable");
		str_deinit(&root);
		return;
	}
	set.user_root = root.data;
	if (imapd_store_get(s, canon, &set, &err) < 0) {
		msg_warn("%s: user %s: %s", s->client_addr, canon, err);
		imapd_tagged(s, "NO", "[SERVERBUG] Cannot open the mail store");
		str_deinit(&root);
		return;
	}
	str_deinit(&root);
	s->user = mem_strdup(canon);
	s->state = IMAPD_AUTH;
	msg_info("login: user=<%s>, client=%s%s", canon, s->client_addr,
		 s->tls_active ? ", TLS" : "");
	str_init(&caps, 256);
	imapd_capabilities(s, &caps);
	imapd_tagged(s, "OK", "[%s] Logged in", caps.data);
	str_deinit(&caps);
}

static void login_failed(struct session *s, const char *user)
{
	msg_info("authentication failed: user=<%s>, client=%s", user,
		 s->client_addr);
	imapd_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	if (++s->bad_logins >= IMAPD_MAX_BAD_LOGINS)
		imapd_close_after(s, "Too many failed logins");
}

/* The auth daemon's answer (lib/auth_async). */
static void login_done(int result, const char *canon, const char *error,
		       void *ctx)
{
	struct session *s = ctx;

	s->login = NULL; /* the handle is gone already */
	if (result > 0)
		login_ok(s, canon);
	else if (result == 0)
		login_failed(s, s->login_user);
	else {
		msg_warn("%s: auth service: %s", s->client_addr, error);
		imapd_tagged(s, "NO", "[UNAVAILABLE] Authentication service "
				      "temporarily unavailable");
	}
	mem_free(s->login_user);
	imapd_resume(s);
}

/* Starts checking user/password; the session waits for the result. */
static void login_start(struct session *s, const char *user,
			const char *password)
{
	mem_free(s->login_user);
	s->login_user = mem_strdup(user);
	imapd_set_input(s, IMAPD_IN_WAIT);
	s->login = auth_async_verify(s->cfg->auth, user, password, "imap",
				     s->client_addr, login_done, s);
}

static bool login_allowed(struct session *s)
{
	if (!s->tls_active && s->cfg->tls_auth_only) {
		imapd_tagged(s, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return false;
	}
	return true;
}

void imapd_cmd_login(struct session *s, struct imap_command *cmd)
{
	const char *user, *pass;
	size_t ulen, plen;

	if (cmd->count != 2 ||
	    (user = imap_arg_astring(&cmd->args[0], &ulen)) == NULL ||
	    (pass = imap_arg_astring(&cmd->args[1], &plen)) == NULL) {
		imapd_tagged(s, "BAD", "Usage: LOGIN user password");
		return;
	}
	if (!login_allowed(s))
		return;
	if (ulen == 0 || ulen > AUTH_USER_MAX || plen == 0 ||
	    plen > IMAPD_PASSWORD_MAX || memchr(user, '\0', ulen) != NULL ||
	    memchr(pass, '\0', plen) != NULL) {
		login_failed(s, "(invalid)");
		return;
	}
	login_start(s, user, pass);
}

/* A decoded PLAIN message. */
static void sasl_plain(struct session *s, const char *b64, size_t len)
{
	struct str dec;
	struct auth_plain p;

	str_init(&dec, 128);
	if (len == 1 && b64[0] == '=')
		len = 0; /* an empty initial response */
	if (auth_base64_decode(b64, len, &dec) < 0) {
		imapd_tagged(s, "BAD", "Invalid base64 data");
	} else if (dec.len == 0 || dec.len > IMAPD_SASL_MAX ||
		   auth_sasl_plain_parse(dec.data, dec.len, &p) < 0) {
		login_failed(s, "(invalid)");
	} else if (p.authzid[0] != '\0' && strcmp(p.authzid, p.authcid) != 0) {
		/* Acting for another user is not offered. */
		login_failed(s, p.authcid);
	} else {
		login_start(s, p.authcid, p.password);
	}
	if (dec.data != NULL)
		OPENSSL_cleanse(dec.data, dec.len);
	str_deinit(&dec);
}

void imapd_cmd_authenticate(struct session *s, struct imap_command *cmd)
{
	const char *ir;
	size_t len;

	if (cmd->count < 1 || cmd->count > 2 ||
	    cmd->args[0].type != IMAP_ARG_ATOM) {
		imapd_tagged(s, "BAD", "Usage: AUTHENTICATE mechanism "
				       "[initial-response]");
		return;
	}
	if (!imap_arg_is(&cmd->args[0], "PLAIN")) {
		imapd_tagged(s, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (!login_allowed(s))
		return;
	if (cmd->count == 2) {
		ir = imap_arg_astring(&cmd->args[1], &len);
		if (ir == NULL) {
			imapd_tagged(s, "BAD", "Invalid initial response");
			return;
		}
		sasl_plain(s, ir, len);
		return;
	}
	imapd_continue(s, "");
	imapd_set_input(s, IMAPD_IN_SASL);
}

void imapd_sasl_input(struct session *s, const char *line, size_t len)
{
	imapd_set_input(s, IMAPD_IN_COMMAND);
	if (len == 1 && line[0] == '*') {
		imapd_tagged(s, "BAD", "Authentication aborted");
		return;
	}
	if (len > IMAPD_SASL_MAX) {
		imapd_tagged(s, "BAD", "Response too long");
		return;
	}
	sasl_plain(s, line, len);
}
