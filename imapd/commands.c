/* commands.c: the command table (which command runs in which state, UID
 * forms) and the commands valid in any state: CAPABILITY, NOOP, LOGOUT,
 * ID, ENABLE, STARTTLS, plus CHECK and UNSELECT. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mem.h"
#include "msg.h"

#define ST_NOTAUTH (1u << IMAPD_NOTAUTH)
#define ST_AUTH (1u << IMAPD_AUTH)
#define ST_SELECTED (1u << IMAPD_SELECTED)
#define ST_ANY (ST_NOTAUTH | ST_AUTH | ST_SELECTED)
#define ST_LOGGED_IN (ST_AUTH | ST_SELECTED)

/* Capabilities after login; before it only the login-related ones. */
static const char caps_common[] = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ "
				  "ID ENABLE IDLE";
static const char caps_logged_in[] =
    " NAMESPACE UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE "
    "UIDPLUS MOVE ESEARCH SEARCHRES STATUS=SIZE BINARY UTF8=ACCEPT";

void imapd_capabilities(struct session *s, struct str *out)
{
	str_append_cstr(out, "CAPABILITY ");
	str_append_cstr(out, caps_common);
	if (s->state != IMAPD_NOTAUTH) {
		str_append_cstr(out, caps_logged_in);
		return;
	}
	if (!s->tls_active && s->cfg->tls != NULL)
		str_append_cstr(out, " STARTTLS");
	if (!s->tls_active && s->cfg->tls_auth_only)
		str_append_cstr(out, " LOGINDISABLED");
	else
		str_append_cstr(out, " AUTH=PLAIN");
}

void imapd_done(struct session *s, bool allow_expunge, const char *status,
		const char *text)
{
	if (s->state == IMAPD_SELECTED)
		imapd_sync(s, allow_expunge);
	imapd_tagged(s, status, "%s", text);
}

static void cmd_capability(struct session *s, struct imap_command *cmd)
{
	struct str caps;

	(void)cmd;
	str_init(&caps, 256);
	imapd_capabilities(s, &caps);
	imapd_printf(s, "* %s", caps.data);
	str_deinit(&caps);
	imapd_done(s, true, "OK", "Capability completed");
}

static void cmd_noop(struct session *s, struct imap_command *cmd)
{
	(void)cmd;
	imapd_done(s, true, "OK", "NOOP completed");
}

static void cmd_logout(struct session *s, struct imap_command *cmd)
{
	(void)cmd;
	imapd_printf(s, "* BYE Logging out");
	imapd_tagged(s, "OK", "Logout completed");
	s->state = IMAPD_LOGOUT;
	imapd_set_input(s, IMAPD_IN_CLOSING);
}

/* ID (RFC 2971): the client's list is only logged. */
static void cmd_id(struct session *s, struct imap_command *cmd)
{
	if (cmd->count != 1 || (cmd->args[0].type != IMAP_ARG_LIST &&
				cmd->args[0].type != IMAP_ARG_NIL)) {
		imapd_tagged(s, "BAD", "Usage: ID (params) or ID NIL");
		return;
	}
	imapd_printf(s, "* ID (\"name\" \"Postern\" \"version\" \"%s\")",
		     PACKAGE_VERSION);
	imapd_done(s, true, "OK", "ID completed");
}

static void cmd_enable(struct session *s, struct imap_command *cmd)
{
	struct str on;

	if (cmd->count == 0) {
		imapd_tagged(s, "BAD", "Usage: ENABLE capability...");
		return;
	}
	str_init(&on, 64);
	for (size_t i = 0; i < cmd->count; i++) {
		const struct imap_arg *a = &cmd->args[i];

		if (a->type != IMAP_ARG_ATOM) {
			str_deinit(&on);
			imapd_tagged(s, "BAD", "ENABLE takes atoms");
			return;
		}
		if (imap_arg_is(a, "UTF8=ACCEPT") && !s->utf8_enabled) {
			s->utf8_enabled = true;
			str_append_cstr(&on, " UTF8=ACCEPT");
		} else if (imap_arg_is(a, "IMAP4rev2") && !s->rev2) {
			s->rev2 = true;
			str_append_cstr(&on, " IMAP4rev2");
		}
	}
	imapd_printf(s, "* ENABLED%s", on.data != NULL ? on.data : "");
	str_deinit(&on);
	imapd_done(s, true, "OK", "ENABLE completed");
}

static void cmd_starttls(struct session *s, struct imap_command *cmd)
{
	(void)cmd;
	if (s->tls_active || s->cfg->tls == NULL) {
		imapd_tagged(s, "BAD", "TLS not available or already active");
		return;
	}
	/* Anything pipelined behind STARTTLS was sent in plaintext: it must
	 * never be read as if it came through TLS. */
	if (iobuf_take_input(s->buf, NULL) > 0)
		msg_info("%s: plaintext after STARTTLS discarded",
			 s->client_addr);
	imapd_tagged(s, "OK", "Begin TLS negotiation now");
	imapd_start_tls_after_reply(s);
}

static void cmd_check(struct session *s, struct imap_command *cmd)
{
	(void)cmd;
	imapd_done(s, true, "OK", "CHECK completed");
}

static void cmd_unselect(struct session *s, struct imap_command *cmd)
{
	imapd_cmd_close(s, cmd, false);
}

struct command {
	const char *name;
	unsigned states;
	bool uid_ok; /* may follow "UID" */
	void (*fn)(struct session *s, struct imap_command *cmd, bool uid);
};

/* Adapters for handlers with other signatures. */
#define WRAP(name, call)                                                       \
	static void name(struct session *s, struct imap_command *c, bool u)    \
	{                                                                      \
		(void)u;                                                       \
		call;                                                          \
	}
WRAP(w_capability, cmd_capability(s, c))
WRAP(w_noop, cmd_noop(s, c))
WRAP(w_logout, cmd_logout(s, c))
WRAP(w_id, cmd_id(s, c))
WRAP(w_enable, cmd_enable(s, c))
WRAP(w_starttls, cmd_starttls(s, c))
WRAP(w_login, imapd_cmd_login(s, c))
WRAP(w_authenticate, imapd_cmd_authenticate(s, c))
WRAP(w_select, imapd_cmd_select(s, c, false))
WRAP(w_examine, imapd_cmd_select(s, c, true))
WRAP(w_create, imapd_cmd_create(s, c))
WRAP(w_delete, imapd_cmd_delete(s, c))
WRAP(w_rename, imapd_cmd_rename(s, c))
WRAP(w_subscribe, imapd_cmd_subscribe(s, c, true))
WRAP(w_unsubscribe, imapd_cmd_subscribe(s, c, false))
WRAP(w_list, imapd_cmd_list(s, c, false))
WRAP(w_lsub, imapd_cmd_list(s, c, true))
WRAP(w_namespace, imapd_cmd_namespace(s, c))
WRAP(w_status, imapd_cmd_status(s, c))
WRAP(w_append, imapd_cmd_append(s, c))
WRAP(w_check, cmd_check(s, c))
WRAP(w_close, imapd_cmd_close(s, c, true))
WRAP(w_unselect, cmd_unselect(s, c))
WRAP(w_idle, imapd_cmd_idle(s, c))
WRAP(w_copy, imapd_cmd_copy(s, c, u, false))
WRAP(w_move, imapd_cmd_copy(s, c, u, true))

static const struct command commands[] = {
    {"CAPABILITY", ST_ANY, false, w_capability},
    {"NOOP", ST_ANY, false, w_noop},
    {"LOGOUT", ST_ANY, false, w_logout},
    {"ID", ST_ANY, false, w_id},
    {"ENABLE", ST_LOGGED_IN, false, w_enable},
    {"STARTTLS", ST_NOTAUTH, false, w_starttls},
    {"LOGIN", ST_NOTAUTH, false, w_login},
    {"AUTHENTICATE", ST_NOTAUTH, false, w_authenticate},
    {"SELECT", ST_LOGGED_IN, false, w_select},
    {"EXAMINE", ST_LOGGED_IN, false, w_examine},
    {"CREATE", ST_LOGGED_IN, false, w_create},
    {"DELETE", ST_LOGGED_IN, false, w_delete},
    {"RENAME", ST_LOGGED_IN, false, w_rename},
    {"SUBSCRIBE", ST_LOGGED_IN, false, w_subscribe},
    {"UNSUBSCRIBE", ST_LOGGED_IN, false, w_unsubscribe},
    {"LIST", ST_LOGGED_IN, false, w_list},
    {"LSUB", ST_LOGGED_IN, false, w_lsub},
    {"NAMESPACE", ST_LOGGED_IN, false, w_namespace},
    {"STATUS", ST_LOGGED_IN, false, w_status},
    {"APPEND", ST_LOGGED_IN, false, w_append},
    {"CHECK", ST_SELECTED, false, w_check},
    {"CLOSE", ST_SELECTED, false, w_close},
    {"UNSELECT", ST_SELECTED, false, w_unselect},
    {"IDLE", ST_LOGGED_IN, false, w_idle},
    {"EXPUNGE", ST_SELECTED, true, imapd_cmd_expunge},
    {"SEARCH", ST_SELECTED, true, imapd_cmd_search},
    {"FETCH", ST_SELECTED, true, imapd_cmd_fetch},
    {"STORE", ST_SELECTED, true, imapd_cmd_store},
    {"COPY", ST_SELECTED, true, w_copy},
    {"MOVE", ST_SELECTED, true, w_move},
};

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void imapd_command(struct session *s, struct imap_command *cmd)
{
	const struct command *c;
	bool uid = false;

	if (strcasecmp(cmd->name, "UID") == 0) {
		if (cmd->count == 0 || cmd->args[0].type != IMAP_ARG_ATOM ||
		    (c = command_find(cmd->args[0].str)) == NULL ||
		    !c->uid_ok) {
			imapd_tagged(s, "BAD", "Unknown UID command");
			return;
		}
		uid = true;
		cmd->name = cmd->args[0].str;
		cmd->args++;
		cmd->count--;
	} else if ((c = command_find(cmd->name)) == NULL) {
		imapd_tagged(s, "BAD", "Unknown command");
		return;
	}
	if ((c->states & (1u << s->state)) == 0) {
		imapd_tagged(s, "BAD", "Command not valid in this state");
		return;
	}
	c->fn(s, cmd, uid);
}
