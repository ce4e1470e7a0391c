/* received.c: the Received: header smtpd prepends to every message (RFC
 * 5321 4.4), in the layout Postfix admins grep for:
 *   Received: from HELO (NAME [ADDR])
 *           (using TLSv1.3 with cipher ... (256/256 bits))
 *           by MYHOSTNAME (MAIL_NAME) with ESMTPS id ID
 *           for <RCPT>; DATE
 * Every value in it is printable already (HELO checked by commands.c,
 * addresses canonical from lib/addr). */
#include "config.h"

#include <string.h>
#include <time.h>

#include "mail_date.h"
#include "smtpd.h"

void smtpd_received_header(const struct session *s, const char *queue_id,
			   struct str *out)
{
	const char *mail_name = conf_get(s->cfg->conf, "mail_name");
	bool v6 = strchr(s->client_addr, ':') != NULL;

	str_printf(out, "Received: from %s (%s [%s%s])\r\n",
		   s->helo_name ? s->helo_name : s->client_addr, s->client_name,
		   v6 ? "IPv6:" : "", s->client_addr);
	if (s->tls_active)
		str_printf(out, "\t(using %s)\r\n", tls_conn_summary(s->tls));
	if (s->auth_user != NULL)
		str_printf(out, "\t(Authenticated sender: %s)\r\n",
			   s->auth_user);
	/* RFC 3848: an "A" suffix says the client authenticated. */
	str_printf(
	    out, "\tby %s (%s) with %s%s%s id %s", s->cfg->myhostname,
	    mail_name, (s->msg_flags & QUEUE_MSG_SMTPUTF8) ? "UTF8" : "",
	    (s->msg_flags & QUEUE_MSG_SMTPUTF8)
		? (s->tls_active ? "SMTPS" : "SMTP")
		: (!s->esmtp ? "SMTP" : (s->tls_active ? "ESMTPS" : "ESMTP")),
	    s->auth_user != NULL && s->esmtp ? "A" : "", queue_id);
	if (s->rcpt_count == 1)
		str_printf(out, "\r\n\tfor <%s>", s->rcpts[0].address);
	str_append_cstr(out, "; ");
	mail_date(time(NULL), out);
	str_append_cstr(out, "\r\n");
}
