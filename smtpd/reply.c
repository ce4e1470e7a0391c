/* reply.c: writing SMTP replies. Every reply carries an enhanced status
 * code (RFC 2034); callers pass "CODE X.Y.Z text". */
#include "config.h"

#include <stdarg.h>

#include "msg.h"
#include "smtpd.h"

static void reply_v(struct session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void reply_v(struct session *s, const char *fmt, va_list ap)
{
	struct str line;

	str_init(&line, 128);
	str_vprintf(&line, fmt, ap);
	if (iobuf_write(s->buf, line.data, line.len) < 0 ||
	    iobuf_write(s->buf, "\r\n", 2) < 0)
		msg_warn("%s[%s]: output backed up, reply dropped",
			 s->client_name, s->client_addr);
	str_deinit(&line);
}

void smtpd_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, fmt, ap);
	va_end(ap);
}

void smtpd_reply_error(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, fmt, ap);
	va_end(ap);
	smtpd_count_error(s);
}
