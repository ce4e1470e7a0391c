/* login.c: USER/PASS (RFC 1939 7) and AUTH PLAIN with an optional initial
 * response (RFC 5034). The password is checked by the auth daemon
 * (postern-auth(8)) through lib/auth_async, driven by the event loop, so
 * that the auth daemon's delay after a failure holds only this session,
 * never the other sessions of the process. Then the
 * maildrop is locked and opened (maildrop.c). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth_async.h"
#include "auth_client.h"
#include "mem.h"
#include "msg.h"
#include "pop3d.h"

/* Longest password accepted (the users table's limit is lower). */
#define POP3D_PASSWORD_MAX 1024
/* Longest AUTH response (base64 of authzid, authcid and password). */
#define POP3D_SASL_MAX 4096

void pop3d_login_abort(struct session *s)
{
	auth_async_cancel(&s->login);
	mem_free(s->login_user);
}

bool pop3d_login_allowed(const struct session *s)
{
	return s->tls_active || !s->cfg->tls_auth_only;
}

/* -1 after the -ERR when a login is not allowed now. */
static int login_check_tls(struct session *s)
{
	if (pop3d_login_allowed(s))
		return 1;
	pop3d_err(s, false,
		  "[AUTH] Plaintext authentication disallowed "
		  "without TLS; use STLS first");
	return -1;
}

static void login_failed(struct session *s, const char *user)
{
	char safe[AUTH_USER_MAX + 1];

	msg_info("authentication failed: user=<%s>, client=%s",
		 msg_safe(safe, sizeof(safe), user, strlen(user)),
		 s->client_addr);
	if (++s->bad_logins >= POP3D_MAX_BAD_LOGINS) {
		pop3d_close_after(s, "-ERR [AUTH] Authentication failed; "
				     "too many failures");
		return;
	}
	pop3d_err(s, false, "[AUTH] Authentication failed");
}

static void login_ok(struct session *s, const char *canon)
{
	const char *err = "";
	int r = pop3d_maildrop_open(s, canon, &err);
	uint64_t size = 0;

	if (r == 0) {
		msg_info("%s: user %s: maildrop in use", s->client_addr, canon);
		pop3d_err(s, false,
			  "[IN-USE] The maildrop is locked by "
			  "another POP3 session");
		return;
	}
	if (r < 0) {
		msg_warn("%s: user %s: %s", s->client_addr, canon, err);
		pop3d_err(s, false, "[SYS/TEMP] Cannot open the maildrop");
		return;
	}
	for (size_t i = 0; i < s->msg_count; i++)
		size += s->msgs[i].size;
	msg_info("login: user=<%s>, client=%s%s, messages=%zu", canon,
		 s->client_addr, s->tls_active ? ", TLS" : "", s->msg_count);
	pop3d_printf(s, "+OK Logged in; %zu messages (%llu octets)",
		     s->msg_count, (unsigned long long)size);
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
		pop3d_err(s, false,
			  "[SYS/TEMP] Authentication service "
			  "temporarily unavailable");
	}
	mem_free(s->login_user);
	pop3d_resume(s);
}

/* Starts checking user/password; the session waits for the result. */
static void login_start(struct session *s, const char *user,
			const char *password)
{
	mem_free(s->login_user);
	s->login_user = mem_strdup(user);
	pop3d_set_input(s, POP3D_IN_WAIT);
	s->login = auth_async_verify(s->cfg->auth, user, password, "pop3",
				     s->client_addr, login_done, s);
}

void pop3d_cmd_user(struct session *s, const struct pop3_cmd *cmd)
{
	mem_free(s->user_arg);
	if (cmd->argc != 1) {
		pop3d_err(s, true, "Usage: USER name");
		return;
	}
	if (login_check_tls(s) < 0)
		return;
	if (cmd->arg_lens[0] > AUTH_USER_MAX) {
		pop3d_err(s, false, "[AUTH] User name too long");
		return;
	}
	s->user_arg = mem_strndup(cmd->args[0], cmd->arg_lens[0]);
	/* Says nothing about whether the user exists. */
	pop3d_printf(s, "+OK Send the password");
}

void pop3d_cmd_pass(struct session *s, const struct pop3_cmd *cmd)
{
	char *user = s->user_arg, *pw;

	s->user_arg = NULL;
	if (user == NULL) {
		pop3d_err(s, true, "USER first");
		return;
	}
	if (login_check_tls(s) < 0) {
		mem_free(user);
		return;
	}
	if (cmd->rest_len == 0 || cmd->rest_len > POP3D_PASSWORD_MAX) {
		login_failed(s, user);
		mem_free(user);
		return;
	}
	/* The whole rest of the line: a password may hold spaces. */
	pw = mem_strndup(cmd->rest, cmd->rest_len);
	login_start(s, user, pw);
	mem_free_secret(pw, cmd->rest_len);
	mem_free(user);
}

/* A PLAIN message in base64 ("=" for an empty one). */
static void sasl_plain(struct session *s, const char *b64, size_t len)
{
	struct str dec;
	struct auth_plain p;

	str_init(&dec, 128);
	if (len == 1 && b64[0] == '=')
		len = 0; /* an empty initial response */
	if (auth_base64_decode(b64, len, &dec) < 0) {
		pop3d_err(s, true, "Invalid base64 data");
	} else if (dec.len == 0 || dec.len > POP3D_SASL_MAX ||
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

static bool is_plain(const char *s, size_t len)
{
	return len == 5 && strncasecmp(s, "PLAIN", 5) == 0;
}

void pop3d_cmd_auth(struct session *s, const struct pop3_cmd *cmd)
{
	if (cmd->argc == 0) {
		/* The mechanism list of RFC 1734 clients. */
		pop3d_printf(s, "+OK");
		if (pop3d_login_allowed(s))
			pop3d_printf(s, "PLAIN");
		pop3d_printf(s, ".");
		return;
	}
	if (cmd->argc > 2) {
		pop3d_err(s, true, "Usage: AUTH mechanism [initial-response]");
		return;
	}
	if (!is_plain(cmd->args[0], cmd->arg_lens[0])) {
		pop3d_err(s, false, "Unsupported authentication mechanism");
		return;
	}
	if (login_check_tls(s) < 0)
		return;
	if (cmd->argc == 2) {
		sasl_plain(s, cmd->args[1], cmd->arg_lens[1]);
		return;
	}
	pop3d_printf(s, "+ ");
	pop3d_set_input(s, POP3D_IN_SASL);
}

void pop3d_sasl_input(struct session *s, const char *line, size_t len)
{
	pop3d_set_input(s, POP3D_IN_COMMAND);
	if (len == 1 && line[0] == '*') {
		pop3d_err(s, false, "Authentication aborted");
		return;
	}
	if (len > POP3D_SASL_MAX) {
		pop3d_err(s, true, "Response too long");
		return;
	}
	sasl_plain(s, line, len);
}
