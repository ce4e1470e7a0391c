/* auth_client.c: talking to the auth daemon over the IPC codec (see
 * auth_client.h), and the SASL decoding that smtpd and imapd share. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "auth_client.h"
#include "mem.h"
#include "users.h"

struct auth_client {
	char *path;
	struct attr_client *conn;
};

struct auth_client *auth_client_new(const char *path)
{
	struct auth_client *c = mem_alloc(sizeof(*c));

	c->path = mem_strdup(path);
	return c;
}

void auth_client_free(struct auth_client **cp)
{
	struct auth_client *c = *cp;

	if (c == NULL)
		return;
	attr_client_free(&c->conn);
	mem_free(c->path);
	mem_free(c);
	*cp = NULL;
}

/* One request/reply; a broken kept connection is made again once (the
 * daemon may have exited after max_idle or been restarted). */
static int call(struct auth_client *c, struct attr_out *req,
		struct attr_rec *reply_r, const char **error_r)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = c->conn == NULL;

		if (fresh && attr_client_connect(
				 c->path, AUTH_PROTOCOL, AUTH_PROTOCOL_VERSION,
				 AUTH_CALL_TIMEOUT_MS, &c->conn, error_r) < 0)
			return -1;
		if (attr_client_call(c->conn, req, reply_r, error_r) == 1)
			return 1;
		attr_client_free(&c->conn);
		if (fresh)
			return -1;
	}
	return -1;
}

static int reply_result(struct attr_rec *r, const char **result_r,
			const char **error_r)
{
	if (attr_get_cstr(r, "result", result_r, error_r) != 1)
		return -1;
	return 1;
}

int auth_client_verify(struct auth_client *c, const char *user,
		       const char *password, const char *service,
		       const char *client, struct str *canon_r,
		       const char **error_r)
{
	struct attr_out req;
	struct attr_rec rep;
	const char *result, *canon = NULL;
	int r = -1;

	attr_out_init(&req);
	attr_put_str(&req, "op", "verify");
	attr_put_str(&req, "user", user);
	attr_put_str(&req, "password", password);
	attr_put_str(&req, "service", service);
	attr_put_str(&req, "client", client);
	if (call(c, &req, &rep, error_r) < 0 ||
	    reply_result(&rep, &result, error_r) < 0 ||
	    attr_get_cstr(&rep, "user", &canon, error_r) < 0 ||
	    attr_rec_done(&rep, error_r) < 0) {
		attr_client_free(&c->conn);
	} else if (strcmp(result, "ok") == 0 && canon != NULL) {
		str_set(canon_r, canon, strlen(canon));
		r = 1;
	} else if (strcmp(result, "fail") == 0) {
		r = 0;
	} else {
		*error_r = "auth service: temporary failure";
	}
	/* The password was in the request buffer. */
	if (req.buf.data != NULL)
		OPENSSL_cleanse(req.buf.data, req.buf.len);
	attr_out_deinit(&req);
	return r;
}

int auth_client_exists(struct auth_client *c, const char *user,
		       const char **error_r)
{
	struct attr_out req;
	struct attr_rec rep;
	const char *result;
	int r = -1;

	attr_out_init(&req);
	attr_put_str(&req, "op", "exists");
	attr_put_str(&req, "user", user);
	if (call(c, &req, &rep, error_r) < 0 ||
	    reply_result(&rep, &result, error_r) < 0 ||
	    attr_rec_done(&rep, error_r) < 0)
		attr_client_free(&c->conn);
	else if (strcmp(result, "yes") == 0)
		r = 1;
	else if (strcmp(result, "no") == 0)
		r = 0;
	else
		*error_r = "auth service: temporary failure";
	attr_out_deinit(&req);
	return r;
}

/* ---- SASL helpers */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char ch)
{
	const char *p = ch != 0 ? strchr(b64, ch) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

int auth_base64_decode(const char *in, size_t len, struct str *out)
{
	str_clear(out);
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;
		unsigned pad = 0;

		for (size_t k = 0; k < 4; k++) {
			v[k] = b64_value((unsigned char)in[i + k]);
			if (v[k] < 0 && last && k >= 2 && in[i + k] == '=' &&
			    (k == 3 || in[i + 3] == '=')) {
				v[k] = 0;
				pad++;
			} else if (v[k] < 0) {
				return -1;
			}
		}
		unsigned long w =
		    ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
		    ((unsigned long)v[2] << 6) | (unsigned long)v[3];
		/* Bits beyond the data must be zero (canonical encoding). */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;
		str_putc(out, (int)(w >> 16) & 0xff);
		if (pad < 2)
			str_putc(out, (int)(w >> 8) & 0xff);
		if (pad < 1)
			str_putc(out, (int)w & 0xff);
	}
	return 1;
}

void auth_base64_encode(const void *data, size_t len, struct str *out)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i += 3) {
		unsigned long w = (unsigned long)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			w |= (unsigned long)p[i + 1] << 8;
		if (n > 2)
			w |= p[i + 2];
		str_putc(out, b64[(w >> 18) & 63]);
		str_putc(out, b64[(w >> 12) & 63]);
		str_putc(out, n > 1 ? b64[(w >> 6) & 63] : '=');
		str_putc(out, n > 2 ? b64[w & 63] : '=');
	}
}

int auth_sasl_plain_parse(char *buf, size_t len, struct auth_plain *p_r)
{
	char *nul1 = memchr(buf, '\0', len), *nul2;
	size_t zlen, clen, plen;

	if (nul1 == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - buf));
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - buf)) != NULL)
		return -1;
	zlen = (size_t)(nul1 - buf);
	clen = (size_t)(nul2 - nul1 - 1);
	plen = len - (size_t)(nul2 + 1 - buf);
	if (clen == 0 || plen == 0 || zlen > AUTH_USER_MAX ||
	    clen > AUTH_USER_MAX || plen > USERS_PASSWORD_MAX)
		return -1;
	p_r->authzid = buf;
	p_r->authcid = nul1 + 1;
	p_r->password = nul2 + 1;
	return 1;
}
