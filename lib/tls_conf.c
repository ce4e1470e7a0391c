/* tls_conf.c: a server TLS context from the PREFIX_tls_* parameters that
 * imapd and pop3d share (see tls.h). */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "tls.h"

static char tls_conf_errbuf[256];

static const char *param(char *buf, size_t size, const char *prefix,
			 const char *name)
{
	snprintf(buf, size, "%s_%s", prefix, name);
	return buf;
}

int tls_server_ctx_from_conf(struct conf *conf, const char *prefix,
			     bool *wrapper_r, struct tls_ctx **ctx_r,
			     const char **error_r)
{
	char cert[64], key[64], wrapper[64];
	struct tls_server_config tc = {
	    .cert_file = conf_get(
		conf, param(cert, sizeof(cert), prefix, "tls_cert_file")),
	    .key_file =
		conf_get(conf, param(key, sizeof(key), prefix, "tls_key_file")),
	};

	*ctx_r = NULL;
	*wrapper_r = conf_get_bool(
	    conf, param(wrapper, sizeof(wrapper), prefix, "tls_wrappermode"));
	if (tc.cert_file[0] == '\0') {
		if (!*wrapper_r)
			return 1;
		snprintf(tls_conf_errbuf, sizeof(tls_conf_errbuf),
			 "%s is set but %s is empty", wrapper, cert);
		*error_r = tls_conf_errbuf;
		return -1;
	}
	*ctx_r = tls_server_ctx_new(&tc, error_r);
	return *ctx_r != NULL ? 1 : -1;
}
