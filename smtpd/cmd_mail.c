/* cmd_mail.c: MAIL FROM and RCPT TO: the path and its ESMTP parameters
 * (SIZE, BODY, SMTPUTF8, RET, ENVID; NOTIFY, ORCPT), parsed once with
 * lib/addr so that policy, the queue and the logs see the same address. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "num.h"
#include "smtpd.h"

/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define SMTPD_ENVID_MAX 100

static void reply_addr_error(struct session *s, enum addr_error err,
			     enum addr_path_kind kind)
{
	const char *status;
	int code = addr_error_reply(err, kind, &status);

	smtpd_reply_error(s, "%d %s Error: %s", code, status,
			  addr_error_text(err, kind));
}

/* RFC 4954 5: a server offering AUTH takes MAIL ... AUTH=<mailbox>. We
 * do not trust another MTA's claim: it is checked as xtext and ignored. */
static bool mail_param_auth(struct session *s, const char *v)
{
	struct str tmp;
	const char *err;
	int r;

	str_init(&tmp, 64);
	r = addr_xtext_decode(v, strlen(v), &tmp, &err);
	str_deinit(&tmp);
	if (r < 0)
		smtpd_reply_error(s, "501 5.5.4 Bad AUTH parameter syntax");
	return r >= 0;
}

/* One MAIL parameter; returns false after replying to a bad one. */
static bool mail_param(struct session *s, const struct addr_param *p)
{
	const char *k = p->keyword, *v = p->value;
	const char *err;
	uint64_t size;
	struct str tmp;
	int r;

	if (strcmp(k, "SIZE") == 0 && v != NULL) {
		r = num_parse_u64(v, strlen(v), UINT64_MAX, &size);
		if (r < 0) {
			smtpd_reply_error(s, "501 5.5.4 Bad message size "
					     "syntax");
			return false;
		}
		if (r == 0 || (s->cfg->message_size_limit > 0 &&
			       size > s->cfg->message_size_limit)) {
			smtpd_reply_error(s, "552 5.3.4 Message size exceeds "
					     "fixed limit");
			return false;
		}
		s->declared_size = size;
	} else if (strcmp(k, "BODY") == 0 && v != NULL &&
		   (strcasecmp(v, "7BIT") == 0 ||
		    strcasecmp(v, "8BITMIME") == 0)) {
		if (strcasecmp(v, "8BITMIME") == 0)
			s->msg_flags |= QUEUE_MSG_8BITMIME;
	} else if (strcmp(k, "SMTPUTF8") == 0 && v == NULL) {
		s->msg_flags |= QUEUE_MSG_SMTPUTF8;
	} else if (strcmp(k, "RET") == 0 && v != NULL &&
		   (strcasecmp(v, "FULL") == 0 || strcasecmp(v, "HDRS") == 0)) {
		s->ret = strcasecmp(v, "FULL") == 0 ? QUEUE_RET_FULL
						    : QUEUE_RET_HDRS;
	} else if (strcmp(k, "ENVID") == 0 && v != NULL) {
		str_init(&tmp, 64);
		r = addr_xtext_decode(v, strlen(v), &tmp, &err);
		str_deinit(&tmp);
		if (r < 0 || strlen(v) > SMTPD_ENVID_MAX) {
			smtpd_reply_error(s, "501 5.5.4 Bad ENVID parameter "
					     "syntax");
			return false;
		}
		s->envid = mem_strdup(v);
	} else if (strcmp(k, "AUTH") == 0 && v != NULL &&
		   smtpd_auth_offered(s)) {
		return mail_param_auth(s, v);
	} else {
		smtpd_reply_error(s, "555 5.5.4 Unsupported option: %s", k);
		return false;
	}
	return true;
}

/* An authenticated client sends only as its own addresses. */
static bool sender_owned(struct session *s, const char *sender)
{
	struct str reply;
	bool ok;

	str_init(&reply, 128);
	ok = smtpd_auth_sender_owned(s, sender, &reply) > 0;
	if (!ok) {
		msg_info("NOQUEUE: reject: MAIL from %s[%s]: %s; from=<%s> "
			 "sasl_username=%s",
			 s->client_name, s->client_addr, reply.data, sender,
			 s->auth_user);
		smtpd_reply_error(s, "%s", reply.data);
	}
	str_deinit(&reply);
	return ok;
}

void smtpd_cmd_mail(struct session *s, const char *arg, size_t len)
{
	struct addr_path p;
	enum addr_error err;

	if (s->cfg->tls_required && !s->tls_active) {
		smtpd_reply_error(s, "530 5.7.0 Must issue a STARTTLS command "
				     "first");
		return;
	}
	if (s->cfg->auth_required && s->auth_user == NULL) {
		smtpd_reply_error(s, "530 5.7.0 Authentication required");
		return;
	}
	if (s->helo_name == NULL && (s->cfg->helo_required || s->tls_active)) {
		smtpd_reply_error(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (len < 5 || strncasecmp(arg, "FROM:", 5) != 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	addr_path_init(&p);
	if (addr_path_parse(arg + 5, len - 5, ADDR_PATH_MAIL, 0, NULL, &p,
			    &err) < 0) {
		addr_path_deinit(&p);
		reply_addr_error(s, err, ADDR_PATH_MAIL);
		return;
	}
	smtpd_transaction_reset(s);
	for (unsigned i = 0; i < p.nparams; i++) {
		if (!s->esmtp) {
			smtpd_reply_error(s,
					  "555 5.5.4 Unsupported option: "
					  "%s (send EHLO first)",
					  p.params[i].keyword);
			goto fail;
		}
		if (!mail_param(s, &p.params[i]))
			goto fail;
	}
	if (!sender_owned(s, p.addr.canon.data))
		goto fail;
	s->sender = mem_strdup(p.addr.canon.data);
	addr_path_deinit(&p);
	smtpd_enter_state(s, SMTPD_MAIL);
	smtpd_reply(s, "250 2.1.0 Ok");
	return;
fail:
	smtpd_transaction_reset(s);
	addr_path_deinit(&p);
}

static bool rcpt_params(struct session *s, const struct addr_path *p,
			unsigned *notify_r, const char **orcpt_r)
{
	for (unsigned i = 0; i < p->nparams; i++) {
		const char *k = p->params[i].keyword, *v = p->params[i].value;

		if (!s->esmtp) {
			smtpd_reply_error(s,
					  "555 5.5.4 Unsupported option: "
					  "%s (send EHLO first)",
					  k);
			return false;
		}
		if (strcmp(k, "NOTIFY") == 0 && v != NULL) {
			if (smtpd_parse_notify(v, notify_r) < 0) {
				smtpd_reply_error(s, "501 5.5.4 Error: Bad "
						     "NOTIFY parameter syntax");
				return false;
			}
		} else if (strcmp(k, "ORCPT") == 0 && v != NULL) {
			if (smtpd_check_orcpt(v) < 0) {
				smtpd_reply_error(s, "501 5.5.4 Error: Bad "
						     "ORCPT parameter syntax");
				return false;
			}
			*orcpt_r = v;
		} else {
			smtpd_reply_error(s,
					  "555 5.5.4 Unsupported option: "
					  "%s",
					  k);
			return false;
		}
	}
	return true;
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

static void rcpt_add(struct session *s, const char *address, const char *orcpt,
		     unsigned notify)
{
	struct smtpd_rcpt *r;

	if (s->rcpt_count == s->rcpt_cap) {
		s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		s->rcpts =
		    mem_realloc(s->rcpts, size_mul(s->rcpt_cap, sizeof(*r)));
	}
	r = &s->rcpts[s->rcpt_count++];
	r->address = mem_strdup(address);
	r->orcpt = orcpt ? mem_strdup(orcpt) : NULL;
	r->notify = notify;
}

void smtpd_cmd_rcpt(struct session *s, const char *arg, size_t len)
{
	struct addr_path p;
	enum addr_error err;
	unsigned flags = 0, notify = 0;
	const char *orcpt = NULL;
	struct str reply;
	int r;

	if (len < 3 || strncasecmp(arg, "TO:", 3) != 0) {
		smtpd_reply_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->msg_flags & QUEUE_MSG_SMTPUTF8)
		flags |= ADDR_PARSE_SMTPUTF8;
	addr_path_init(&p);
	if (addr_path_parse(arg + 3, len - 3, ADDR_PATH_RCPT, flags, NULL, &p,
			    &err) < 0) {
		addr_path_deinit(&p);
		reply_addr_error(s, err, ADDR_PATH_RCPT);
		return;
	}
	str_init(&reply, 128);
	if ((long)s->rcpt_count >= s->cfg->recipient_limit ||
	    s->rcpt_count >= SMTPD_RCPT_HARD_MAX) {
		smtpd_reply(s, "452 4.5.3 Error: too many recipients");
	} else if (rcpt_params(s, &p, &notify, &orcpt)) {
		if (p.addr.flags & ADDR_F_POSTMASTER)
			rcpt_qualify_postmaster(s, &p.addr);
		r = smtpd_policy_rcpt(s, &p.addr, &reply);
		if (r == SMTPD_WAIT) {
			/* The auth daemon is asked: this command runs again
			 * with the answer (cmd_auth.c). */
			s->rcpt_retry = mem_strndup(arg, len);
		} else if (r == 0) {
			msg_info("NOQUEUE: reject: RCPT from %s[%s]: %s; "
				 "from=<%s> to=<%s> helo=<%s>",
				 s->client_name, s->client_addr, reply.data,
				 s->sender, p.addr.canon.data,
				 s->helo_name ? s->helo_name : "");
			smtpd_reply_error(s, "%s", reply.data);
		} else {
			rcpt_add(s, p.addr.canon.data, orcpt, notify);
			smtpd_enter_state(s, SMTPD_RCPT);
			smtpd_reply(s, "250 2.1.5 Ok");
		}
	}
	if (s->rcpt_retry == NULL)
		smtpd_auth_known_clear(s);
	str_deinit(&reply);
	addr_path_deinit(&p);
}
