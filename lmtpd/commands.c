/* commands.c: the LMTP command table (which command each state allows),
 * replies, and the commands before the content: LHLO, MAIL, RCPT, RSET,
 * NOOP, QUIT, VRFY, HELP. HELO and EHLO are refused (RFC 2033 4.1: an
 * LMTP server must not answer them as if it spoke SMTP). DATA and BDAT
 * are in cmd_data.c. Paths are parsed once with lib/addr, the same way
 * smtpd parses them. */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "lmtpd.h"
#include "mem.h"
#include "msg.h"
#include "num.h"
#include "smtp_parse.h"

#define LMTPD_HELO_MAX 255

typedef void cmd_fn(struct session *s, const char *arg, size_t len);

struct cmd_def {
	const char *name;
	unsigned states; /* LMTPD_STATE_BIT()s where it is allowed */
	cmd_fn *fn;
};

#define ST(x) LMTPD_STATE_BIT(LMTPD_##x)
#define ST_ANY (ST(INIT) | ST(IDLE) | ST(MAIL) | ST(RCPT) | ST(CHUNKING))

static cmd_fn cmd_lhlo, cmd_helo, cmd_mail, cmd_rcpt, cmd_rset, cmd_noop,
    cmd_quit, cmd_vrfy, cmd_help;

static const struct cmd_def commands[] = {
    {"LHLO", ST_ANY, cmd_lhlo},
    {"HELO", ST_ANY, cmd_helo},
    {"EHLO", ST_ANY, cmd_helo},
    {"MAIL", ST(IDLE), cmd_mail},
    {"RCPT", ST(MAIL) | ST(RCPT), cmd_rcpt},
    {"DATA", ST(RCPT), lmtpd_cmd_data},
    {"BDAT", ST(RCPT) | ST(CHUNKING), lmtpd_cmd_bdat},
    {"RSET", ST_ANY, cmd_rset},
    {"NOOP", ST_ANY, cmd_noop},
    {"QUIT", ST_ANY, cmd_quit},
    {"VRFY", ST_ANY, cmd_vrfy},
    {"HELP", ST_ANY, cmd_help},
};

static void reply_v(struct session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void reply_v(struct session *s, const char *fmt, va_list ap)
{
	struct str line;

	str_init(&line, 128);
	str_vprintf(&line, fmt, ap);
	str_append(&line, "\r\n", 2);
	if (iobuf_write(s->buf, line.data, line.len) < 0)
		msg_warn("%s[%s]: output backed up, reply dropped",
			 s->client_name, s->client_addr);
	str_deinit(&line);
}

void lmtpd_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, fmt, ap);
	va_end(ap);
}

void lmtpd_reply_error(struct session *s, const char *fmt, ...)
{
	va_list ap;
	struct str r;

	va_start(ap, fmt);
	reply_v(s, fmt, ap);
	va_end(ap);
	if (++s->errors < LMTPD_ERROR_LIMIT)
		return;
	msg_info("too many errors after %s from %s[%s]",
		 lmtpd_state_name(s->state), s->client_name, s->client_addr);
	str_init(&r, 128);
	str_printf(&r, "421 4.7.0 %s Error: too many errors",
		   s->cfg->myhostname);
	lmtpd_close_after(s, r.data);
	str_deinit(&r);
}

static const char *bad_sequence_text(const struct session *s,
				     const struct cmd_def *c)
{
	if (s->state == LMTPD_INIT)
		return "send LHLO first";
	if (c->fn == cmd_mail)
		return "nested MAIL command";
	if (s->state == LMTPD_IDLE)
		return "need MAIL command";
	if (s->state == LMTPD_MAIL)
		return "need RCPT command";
	return "command not allowed after BDAT";
}

void lmtpd_command(struct session *s, const char *line, size_t len)
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
		lmtpd_reply_error(s, "502 5.5.2 Error: command not recognized");
		return;
	}
	if (!(c->states & LMTPD_STATE_BIT(s->state))) {
		lmtpd_reply_error(s, "503 5.5.1 Error: %s",
				  bad_sequence_text(s, c));
		return;
	}
	c->fn(s, arg, arg_len);
}

/* An LHLO name: printable ASCII, one word, bounded. */
static bool helo_name_ok(const char *arg, size_t len)
{
	if (len == 0 || len > LMTPD_HELO_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (arg[i] <= ' ' || arg[i] >= 0x7f)
			return false;
	return true;
}

static void cmd_lhlo(struct session *s, const char *arg, size_t len)
{
	const struct lmtpd_config *cfg = s->cfg;

	while (len > 0 && arg[len - 1] == ' ')
		len--;
	if (!helo_name_ok(arg, len)) {
		lmtpd_reply_error(s, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	lmtpd_transaction_reset(s);
	mem_free(s->helo_name);
	s->helo_name = mem_strndup(arg, len);
	lmtpd_enter_state(s, LMTPD_IDLE);
	lmtpd_reply(s, "250-%s", cfg->myhostname);
	lmtpd_reply(s, "250-PIPELINING");
	if (cfg->message_size_limit > 0)
		lmtpd_reply(s, "250-SIZE %llu",
			    (unsigned long long)cfg->message_size_limit);
	else
		lmtpd_reply(s, "250-SIZE");
	lmtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	lmtpd_reply(s, "250-8BITMIME");
	lmtpd_reply(s, "250-SMTPUTF8");
	lmtpd_reply(s, "250 CHUNKING");
}

static void cmd_helo(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	lmtpd_reply_error(s, "500 5.5.1 Error: this is an LMTP server: use "
			     "LHLO");
}

static void reply_addr_error(struct session *s, enum addr_error err,
			     enum addr_path_kind kind)
{
	const char *status;
	int code = addr_error_reply(err, kind, &status);

	lmtpd_reply_error(s, "%d %s Error: %s", code, status,
			  addr_error_text(err, kind));
}

/* One MAIL parameter; returns false after replying to a bad one. DSN is
 * not offered: the MTA in front keeps the delivery status. */
static bool mail_param(struct session *s, const struct addr_param *p)
{
	const char *k = p->keyword, *v = p->value;
	uint64_t size;
	int r;

	if (strcmp(k, "SIZE") == 0 && v != NULL) {
		r = num_parse_u64(v, strlen(v), UINT64_MAX, &size);
		if (r < 0) {
			lmtpd_reply_error(s, "501 5.5.4 Bad message size "
					     "syntax");
			return false;
		}
		if (r == 0 || (s->cfg->message_size_limit > 0 &&
			       size > s->cfg->message_size_limit)) {
			lmtpd_reply_error(s, "552 5.3.4 Message size exceeds "
					     "fixed limit");
			return false;
		}
	} else if (strcmp(k, "BODY") == 0 && v != NULL &&
		   (strcasecmp(v, "7BIT") == 0 ||
		    strcasecmp(v, "8BITMIME") == 0)) {
		/* a Maildir stores 8-bit content as it is */
	} else if (strcmp(k, "SMTPUTF8") == 0 && v == NULL) {
		s->smtputf8 = true;
	} else {
		lmtpd_reply_error(s, "555 5.5.4 Unsupported option: %s", k);
		return false;
	}
	return true;
}

static void cmd_mail(struct session *s, const char *arg, size_t len)
{
	struct addr_path p;
	enum addr_error err;

	if (len < 5 || strncasecmp(arg, "FROM:", 5) != 0) {
		lmtpd_reply_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	addr_path_init(&p);
	if (addr_path_parse(arg + 5, len - 5, ADDR_PATH_MAIL, 0, NULL, &p,
			    &err) < 0) {
		addr_path_deinit(&p);
		reply_addr_error(s, err, ADDR_PATH_MAIL);
		return;
	}
	lmtpd_transaction_reset(s);
	for (unsigned i = 0; i < p.nparams; i++) {
		if (!mail_param(s, &p.params[i])) {
			lmtpd_transaction_reset(s);
			addr_path_deinit(&p);
			return;
		}
	}
	s->sender = mem_strdup(p.addr.canon.data);
	addr_path_deinit(&p);
	lmtpd_enter_state(s, LMTPD_MAIL);
	lmtpd_reply(s, "250 2.1.0 Ok");
}

static void rcpt_add(struct session *s, const char *address,
		     const char *mailbox)
{
	struct lmtpd_rcpt *r;

	if (s->rcpt_count == s->rcpt_cap) {
		s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		s->rcpts =
		    mem_realloc(s->rcpts, size_mul(s->rcpt_cap, sizeof(*r)));
	}
	r = &s->rcpts[s->rcpt_count++];
	r->address = mem_strdup(address);
	r->mailbox = mem_strdup(mailbox);
}

/* <Postmaster> without a domain is ours (RFC 5321 4.5.1). */
static void rcpt_qualify_postmaster(struct session *s, struct addr *a)
{
	struct str full;
	enum addr_error err;

	str_init(&full, 64);
	str_printf(&full, "postmaster@%s", s->cfg->myhostname);
	if (addr_parse(full.data, full.len, 0, a, &err) < 0)
		msg_warn("cannot qualify <Postmaster> with myhostname \"%s\"",
			 s->cfg->myhostname);
	str_deinit(&full);
}

/* Looks the recipient up and answers; the address is valid already. */
static void rcpt_check(struct session *s, const struct addr *a)
{
	struct str box;
	int r;

	str_init(&box, 64);
	r = lmtpd_rcpt_lookup(s->cfg, a->canon.data, &box);
	if (r < 0) {
		lmtpd_reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
			    a->canon.data);
	} else if (r == 0) {
		msg_info("reject: RCPT from %s[%s]: 550 5.1.1 <%s>: User "
			 "unknown; from=<%s> to=<%s>",
			 s->client_name, s->client_addr, a->canon.data,
			 s->sender, a->canon.data);
		/* not counted as an error: a list's MTA may send many */
		lmtpd_reply(s,
			    "550 5.1.1 <%s>: Recipient address rejected: "
			    "User unknown",
			    a->canon.data);
	} else {
		rcpt_add(s, a->canon.data, box.data);
		lmtpd_enter_state(s, LMTPD_RCPT);
		lmtpd_reply(s, "250 2.1.5 Ok");
	}
	str_deinit(&box);
}

static void cmd_rcpt(struct session *s, const char *arg, size_t len)
{
	struct addr_path p;
	enum addr_error err;

	if (len < 3 || strncasecmp(arg, "TO:", 3) != 0) {
		lmtpd_reply_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	addr_path_init(&p);
	if (addr_path_parse(arg + 3, len - 3, ADDR_PATH_RCPT,
			    s->smtputf8 ? ADDR_PARSE_SMTPUTF8 : 0, NULL, &p,
			    &err) < 0) {
		reply_addr_error(s, err, ADDR_PATH_RCPT);
	} else if ((long)s->rcpt_count >= s->cfg->recipient_limit ||
		   s->rcpt_count >= LMTPD_RCPT_HARD_MAX) {
		lmtpd_reply(s, "452 4.5.3 Error: too many recipients");
	} else if (p.nparams > 0) {
		lmtpd_reply_error(s, "555 5.5.4 Unsupported option: %s",
				  p.params[0].keyword);
	} else {
		if (p.addr.flags & ADDR_F_POSTMASTER)
			rcpt_qualify_postmaster(s, &p.addr);
		rcpt_check(s, &p.addr);
	}
	addr_path_deinit(&p);
}

static void cmd_rset(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (len > 0) {
		lmtpd_reply_error(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	lmtpd_transaction_reset(s);
	if (s->state != LMTPD_INIT)
		lmtpd_enter_state(s, LMTPD_IDLE);
	lmtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	lmtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	lmtpd_close_after(s, "221 2.0.0 Bye");
}

static void cmd_vrfy(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	/* Never tell which users exist (RFC 5321 3.5.3 allows 252). */
	lmtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message "
		       "and attempt delivery");
}

static void cmd_help(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	lmtpd_reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA BDAT RSET "
		       "NOOP QUIT VRFY HELP");
}
