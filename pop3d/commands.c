/* commands.c: the command table (which command runs in which state) and
 * the short commands: CAPA (RFC 2449), STLS (RFC 2595), QUIT with the
 * UPDATE state, NOOP, STAT, DELE, RSET, and APOP (not offered). The login
 * commands are in login.c, the long replies in retrieve.c. */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "msg.h"
#include "pop3d.h"

#define ST_AUTHORIZATION (1u << POP3D_AUTHORIZATION)
#define ST_TRANSACTION (1u << POP3D_TRANSACTION)
#define ST_ANY (ST_AUTHORIZATION | ST_TRANSACTION)

/* A command with no arguments got some: -1 after the -ERR. */
static int no_args(struct session *s, const struct pop3_cmd *cmd)
{
	if (cmd->argc == 0)
		return 1;
	pop3d_err(s, true, "Syntax error: %s takes no arguments", cmd->verb);
	return -1;
}

int pop3d_msg_arg(struct session *s, const char *arg, size_t len, size_t *idx_r)
{
	uint64_t n;
	int r = pop3_parse_number(arg, len, UINT32_MAX, &n);

	if (r < 0) {
		pop3d_err(s, true, "Invalid message number");
		return -1;
	}
	if (r == 0 || n == 0 || n > s->msg_count) {
		pop3d_err(s, false, "No such message");
		return -1;
	}
	if (s->msgs[n - 1].deleted) {
		pop3d_err(s, false, "Message %llu is deleted",
			  (unsigned long long)n);
		return -1;
	}
	*idx_r = (size_t)(n - 1);
	return 1;
}

static void cmd_capa(struct session *s, const struct pop3_cmd *cmd)
{
	if (no_args(s, cmd) < 0)
		return;
	pop3d_printf(s, "+OK Capability list follows");
	pop3d_printf(s, "TOP");
	pop3d_printf(s, "UIDL");
	pop3d_printf(s, "RESP-CODES");
	pop3d_printf(s, "AUTH-RESP-CODE");
	pop3d_printf(s, "PIPELINING");
	if (s->state == POP3D_AUTHORIZATION) {
		if (pop3d_login_allowed(s)) {
			pop3d_printf(s, "USER");
			pop3d_printf(s, "SASL PLAIN");
		}
		if (s->cfg->tls != NULL && !s->tls_active)
			pop3d_printf(s, "STLS");
	}
	pop3d_printf(s, "IMPLEMENTATION Postern");
	pop3d_printf(s, ".");
}

static void cmd_stls(struct session *s, const struct pop3_cmd *cmd)
{
	if (no_args(s, cmd) < 0)
		return;
	if (s->tls_active || s->cfg->tls == NULL) {
		pop3d_err(s, false, "TLS not available or already active");
		return;
	}
	/* Anything pipelined behind STLS was sent in plaintext: it must
	 * never be read as if it came through TLS. */
	if (iobuf_take_input(s->buf, NULL) > 0)
		msg_info("%s: plaintext after STLS discarded", s->client_addr);
	mem_free(s->user_arg);
	pop3d_printf(s, "+OK Begin TLS negotiation");
	pop3d_start_tls_after_reply(s);
}

static void cmd_quit(struct session *s, const struct pop3_cmd *cmd)
{
	const char *err;
	size_t deleted = 0;

	(void)cmd;
	if (s->state != POP3D_TRANSACTION) {
		pop3d_close_after(s, "+OK Bye");
		return;
	}
	s->state = POP3D_UPDATE;
	if (pop3d_maildrop_update(s, &deleted, &err) < 0) {
		msg_warn("%s: user %s: update: %s", s->client_addr, s->user,
			 err);
		pop3d_close_after(s, "-ERR [SYS/TEMP] Some deleted messages "
				     "were not removed");
		return;
	}
	msg_info("%s: user %s: logout, deleted=%zu", s->client_addr, s->user,
		 deleted);
	pop3d_printf(s, "+OK Logging out, %zu message%s deleted", deleted,
		     deleted == 1 ? "" : "s");
	pop3d_close_after(s, NULL);
}

static void cmd_noop(struct session *s, const struct pop3_cmd *cmd)
{
	if (no_args(s, cmd) == 1)
		pop3d_printf(s, "+OK");
}

static void cmd_stat(struct session *s, const struct pop3_cmd *cmd)
{
	uint64_t count = 0, size = 0;

	if (no_args(s, cmd) < 0)
		return;
	for (size_t i = 0; i < s->msg_count; i++) {
		if (s->msgs[i].deleted)
			continue;
		count++;
		size += s->msgs[i].size;
	}
	pop3d_printf(s, "+OK %llu %llu", (unsigned long long)count,
		     (unsigned long long)size);
}

static void cmd_dele(struct session *s, const struct pop3_cmd *cmd)
{
	size_t idx;

	if (cmd->argc != 1) {
		pop3d_err(s, true, "Usage: DELE msg");
		return;
	}
	if (pop3d_msg_arg(s, cmd->args[0], cmd->arg_lens[0], &idx) < 0)
		return;
	s->msgs[idx].deleted = true;
	pop3d_printf(s, "+OK Message %zu deleted", idx + 1);
}

static void cmd_rset(struct session *s, const struct pop3_cmd *cmd)
{
	if (no_args(s, cmd) < 0)
		return;
	for (size_t i = 0; i < s->msg_count; i++)
		s->msgs[i].deleted = false;
	pop3d_printf(s, "+OK %zu messages", s->msg_count);
}

static void cmd_apop(struct session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	/* APOP needs the plaintext password on the server (RFC 1939 7);
	 * the users table holds only hashes. */
	pop3d_err(s, false, "APOP is not offered; use USER/PASS or AUTH");
}

struct command {
	const char *name;
	unsigned states;
	void (*fn)(struct session *s, const struct pop3_cmd *cmd);
};

static const struct command commands[] = {
    {"CAPA", ST_ANY, cmd_capa},
    {"QUIT", ST_ANY, cmd_quit},
    {"STLS", ST_AUTHORIZATION, cmd_stls},
    {"USER", ST_AUTHORIZATION, pop3d_cmd_user},
    {"PASS", ST_AUTHORIZATION, pop3d_cmd_pass},
    {"AUTH", ST_AUTHORIZATION, pop3d_cmd_auth},
    {"APOP", ST_AUTHORIZATION, cmd_apop},
    {"NOOP", ST_TRANSACTION, cmd_noop},
    {"STAT", ST_TRANSACTION, cmd_stat},
    {"LIST", ST_TRANSACTION, pop3d_cmd_list},
    {"UIDL", ST_TRANSACTION, pop3d_cmd_uidl},
    {"RETR", ST_TRANSACTION, pop3d_cmd_retr},
    {"TOP", ST_TRANSACTION, pop3d_cmd_top},
    {"DELE", ST_TRANSACTION, cmd_dele},
    {"RSET", ST_TRANSACTION, cmd_rset},
};

void pop3d_command(struct session *s, const char *line, size_t len)
{
	struct pop3_cmd cmd;
	const char *err;
	const struct command *c = NULL;

	if (pop3_cmd_parse(line, len, &cmd, &err) < 0) {
		mem_free(s->user_arg);
		pop3d_err(s, true, "%s", err);
		return;
	}
	/* PASS is valid only right after USER (RFC 1939 7). */
	if (strcmp(cmd.verb, "PASS") != 0 && strcmp(cmd.verb, "USER") != 0)
		mem_free(s->user_arg);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, cmd.verb) == 0)
			c = &commands[i];
	if (c == NULL) {
		pop3d_err(s, true, "Unknown command");
		return;
	}
	if ((c->states & (1u << s->state)) == 0) {
		pop3d_err(s, true, "%s is not valid in this state", c->name);
		return;
	}
	c->fn(s, &cmd);
}
