/* commands.c: the SMTP command table (which command each state allows)
 * and the commands that do not touch the transaction: HELO, EHLO, RSET,
 * NOOP, QUIT, VRFY, HELP, STARTTLS. MAIL and RCPT are in cmd_mail.c, DATA
 * and BDAT in cmd_data.c, AUTH in cmd_auth.c, ETRN in cmd_etrn.c. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "smtpd.h"

#define SMTPD_HELO_MAX 255

typedef void cmd_fn(struct session *s, const char *arg, size_t len);

struct cmd_def {
	const char *name;
	unsigned states; /* SMTPD_STATE_BIT()s where it is allowed */
	cmd_fn *fn;
	bool junk; /* counts toward smtpd_junk_command_limit */
};

#define ST(x) SMTPD_STATE_BIT(SMTPD_##x)
#define ST_ANY (ST(INIT) | ST(IDLE) | ST(MAIL) | ST(RCPT) | ST(CHUNKING))

static cmd_fn cmd_helo, cmd_ehlo, cmd_rset, cmd_noop, cmd_quit, cmd_vrfy,
    cmd_help, cmd_starttls;

static const struct cmd_def commands[] = {
    {"HELO", ST_ANY, cmd_helo, false},
    {"EHLO", ST_ANY, cmd_ehlo, false},
    {"MAIL", ST(INIT) | ST(IDLE), smtpd_cmd_mail, false},
    {"RCPT", ST(MAIL) | ST(RCPT), smtpd_cmd_rcpt, false},
    {"DATA", ST(RCPT), smtpd_cmd_data, false},
    {"BDAT", ST(RCPT) | ST(CHUNKING), smtpd_cmd_bdat, false},
    {"RSET", ST_ANY, cmd_rset, true},
    {"NOOP", ST_ANY, cmd_noop, true},
    {"QUIT", ST_ANY, cmd_quit, false},
    {"VRFY", ST_ANY, cmd_vrfy, true},
    {"HELP", ST_ANY, cmd_help, true},
    {"STARTTLS", ST(INIT) | ST(IDLE), cmd_starttls, false},
    /* Any state: cmd_auth.c gives the specific refusals. */
    {"AUTH", ST_ANY, smtpd_cmd_auth, false},
    /* Any state: cmd_etrn.c refuses it inside a transaction. */
    {"ETRN", ST_ANY, smtpd_cmd_etrn, true},
};

static const char *bad_sequence_text(const struct session *s,
				     const struct cmd_def *c)
{
	if (c->fn == smtpd_cmd_mail)
		return "nested MAIL command";
	if (c->fn == cmd_starttls)
		return "MAIL transaction in progress";
	if (s->state == SMTPD_INIT || s->state == SMTPD_IDLE)
		return "need MAIL command";
	if (s->state == SMTPD_MAIL)
		return "need RCPT command";
	return "command not allowed after BDAT";
}

void smtpd_command(struct session *s, const char *line, size_t len)
{
	const char *arg = NULL;
	size_t arg_len = 0;
	size_t vlen = smtpd_command_split(line, len, &arg, &arg_len);
	const struct cmd_def *c = NULL;

	for (size_t i = 0; vlen > 0 && i < sizeof(commands) / sizeof(*commands);
	     i++)
		if (strlen(commands[i].name) == vlen &&
		    strncasecmp(commands[i].name, line, vlen) == 0)
			c = &commands[i];
	if (c == NULL) {
		smtpd_reply_error(s, "502 5.5.2 Error: command not recognized");
		return;
	}
	if (c->junk && ++s->junk > s->cfg->junk_limit && smtpd_count_error(s))
		return;
	if (!(c->states & SMTPD_STATE_BIT(s->state))) {
		smtpd_reply_error(s, "503 5.5.1 Error: %s",
				  bad_sequence_text(s, c));
		return;
	}
	c->fn(s, arg, arg_len);
}

/* A HELO/EHLO name: printable ASCII, one word, bounded. */
static bool helo_name_ok(const char *arg, size_t len)
{
	if (len == 0 || len > SMTPD_HELO_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (arg[i] <= ' ' || arg[i] >= 0x7f)
			return false;
	return true;
}

static bool helo_common(struct session *s, const char *verb, const char *arg,
			size_t len)
{
	while (len > 0 && arg[len - 1] == ' ')
		len--;
	if (!helo_name_ok(arg, len)) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: %s hostname", verb);
		return false;
	}
	smtpd_transaction_reset(s);
	mem_free(s->helo_name);
	s->helo_name = mem_strndup(arg, len);
	smtpd_enter_state(s, SMTPD_IDLE);
	return true;
}

static void cmd_helo(struct session *s, const char *arg, size_t len)
{
	if (!helo_common(s, "HELO", arg, len))
		return;
	s->esmtp = false;
	smtpd_reply(s, "250 %s", s->cfg->myhostname);
}

static void cmd_ehlo(struct session *s, const char *arg, size_t len)
{
	const struct smtpd_config *cfg = s->cfg;

	if (!helo_common(s, "EHLO", arg, len))
		return;
	s->esmtp = true;
	smtpd_reply(s, "250-%s", cfg->myhostname);
	smtpd_reply(s, "250-PIPELINING");
	if (cfg->message_size_limit > 0)
		smtpd_reply(s, "250-SIZE %llu",
			    (unsigned long long)cfg->message_size_limit);
	else
		smtpd_reply(s, "250-SIZE");
	smtpd_reply(s, "250-ETRN");
	if (cfg->tls != NULL && !s->tls_active)
		smtpd_reply(s, "250-STARTTLS");
	if (smtpd_auth_offered(s))
		smtpd_reply(s, "250-AUTH PLAIN LOGIN");
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	smtpd_reply(s, "250-8BITMIME");
	smtpd_reply(s, "250-DSN");
	smtpd_reply(s, "250-SMTPUTF8");
	smtpd_reply(s, "250 CHUNKING");
}

static void cmd_rset(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (len > 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	smtpd_transaction_reset(s);
	if (s->state != SMTPD_INIT)
		smtpd_enter_state(s, SMTPD_IDLE);
	smtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	smtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	smtpd_close_after(s, "221 2.0.0 Bye");
}

static void cmd_vrfy(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (s->cfg->vrfy_disabled) {
		smtpd_reply_error(s, "502 5.5.1 VRFY command is disabled");
		return;
	}
	if (len == 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	/* Never tell which users exist: RFC 5321 3.5.3 allows 252. */
	smtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message "
		       "and attempt delivery");
}

static void cmd_help(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	smtpd_reply(s,
		    "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT "
		    "RSET NOOP QUIT VRFY ETRN HELP%s%s",
		    s->cfg->tls != NULL ? " STARTTLS" : "",
		    s->cfg->sasl_enabled ? " AUTH" : "");
}

static void cmd_starttls(struct session *s, const char *arg, size_t len)
{
	size_t dropped;

	(void)arg;
	if (s->cfg->tls == NULL) {
		smtpd_reply_error(s,
				  "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->tls_active) {
		smtpd_reply_error(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (len > 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	/* Plaintext pipelined behind STARTTLS must never run inside TLS
	 * (CVE-2011-0411). */
	dropped = iobuf_take_input(s->buf, NULL);
	if (dropped > 0)
		msg_info("%s[%s]: dropped %zu byte(s) pipelined after STARTTLS",
			 s->client_name, s->client_addr, dropped);
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	smtpd_start_tls_after_reply(s);
}
