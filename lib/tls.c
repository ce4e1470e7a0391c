/* tls.c: TLS contexts (server and client policy, certificate and key
 * loading with errors that name the file) and the self-signed certificate
 * maker used by `postern init` (see tls.h; connections are in
 * tls_conn.c). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "file.h"
#include "mem.h"
#include "str.h"
#include "tls_internal.h"

#define TLS_MAX_PEM_FILE (1024 * 1024) /* a chain is a few KiB */

static char tls_errbuf[1024];

static const char *tls_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Formats tls_errbuf and returns it. */
static const char *tls_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tls_errbuf, sizeof(tls_errbuf), fmt, ap);
	va_end(ap);
	return tls_errbuf;
}

void tls_openssl_reason(char *buf, size_t size, const char *fallback)
{
	unsigned long code = ERR_peek_error();
	const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;

	if (code != 0 && ERR_GET_LIB(code) == ERR_LIB_SYS)
		snprintf(buf, size, "%s", strerror(ERR_GET_REASON(code)));
	else if (reason != NULL)
		snprintf(buf, size, "%s", reason);
	else if (code != 0)
		snprintf(buf, size, "OpenSSL error %lx", code);
	else
		snprintf(buf, size, "%s", fallback);
	ERR_clear_error();
}

/* ---- names */

int tls_level_parse(const char *name, enum tls_level *level_r)
{
	static const struct {
		const char *name;
		enum tls_level level;
	} levels[] = {
	    {"none", TLS_LEVEL_NONE},	    {"may", TLS_LEVEL_MAY},
	    {"encrypt", TLS_LEVEL_ENCRYPT}, {"verify", TLS_LEVEL_VERIFY},
	    {"secure", TLS_LEVEL_VERIFY},   {"dane", TLS_LEVEL_DANE},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0) {
			*level_r = levels[i].level;
			return 1;
		}
	return -1;
}

static const struct {
	const char *name;
	enum tls_version version;
	int openssl;
} versions[] = {
    {"TLSv1", TLS_VERSION_1_0, TLS1_VERSION},
    {"TLSv1.1", TLS_VERSION_1_1, TLS1_1_VERSION},
    {"TLSv1.2", TLS_VERSION_1_2, TLS1_2_VERSION},
    {"TLSv1.3", TLS_VERSION_1_3, TLS1_3_VERSION},
};

int tls_version_parse(const char *name, enum tls_version *version_r)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(name, versions[i].name) == 0) {
			*version_r = versions[i].version;
			return 1;
		}
	return -1;
}

/* OpenSSL's number for v; 0 (= no limit) for DEFAULT. */
static int version_openssl(enum tls_version v)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].version == v)
			return versions[i].openssl;
	return 0;
}

/* ---- certificates and keys */

/* Never prompt for a passphrase: a daemon has no terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads a PEM file into a memory BIO; the caller frees it with
 * pem_bio_free() (the content may be a private key). */
static BIO *pem_bio_read(const char *what, const char *path, struct str *buf,
			 const char **error_r)
{
	const char *error;
	BIO *bio;

	str_init(buf, 0);
	if (file_read_all(path, buf, TLS_MAX_PEM_FILE, &error) < 0) {
		*error_r = tls_fail("%s: %s", what, error);
		return NULL;
	}
	bio = BIO_new_mem_buf(buf->data, (int)buf->len);
	if (bio == NULL)
		*error_r = tls_fail("%s %s: out of memory", what, path);
	return bio;
}

static void pem_bio_free(BIO *bio, struct str *buf)
{
	BIO_free(bio);
	OPENSSL_cleanse(buf->data, buf->cap);
	str_deinit(buf);
}

/* Loads the certificate and the chain behind it from path. */
static int load_cert_chain(SSL_CTX *ctx, const char *path, const char **error_r)
{
	struct str buf;
	BIO *bio = pem_bio_read("certificate file", path, &buf, error_r);
	X509 *x;
	char reason[256];
	int ret = -1;

	if (bio == NULL) {
		str_deinit(&buf);
		return -1;
	}
	ERR_clear_error();
	x = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL);
	if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_openssl_reason(reason, sizeof(reason), "no certificate");
		*error_r = tls_fail("certificate file %s: %s", path, reason);
		goto out;
	}
	SSL_CTX_clear_chain_certs(ctx);
	for (;;) {
		X509 *ca = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);

		if (ca == NULL)
			break;
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			tls_openssl_reason(reason, sizeof(reason), "bad chain");
			*error_r =
			    tls_fail("certificate file %s: %s", path, reason);
			goto out;
		}
	}
	ERR_clear_error(); /* the end of the file shows as "no start line" */
	ret = 1;
out:
	X509_free(x);
	pem_bio_free(bio, &buf);
	return ret;
}

/* Loads the private key from path and checks it against the certificate
 * already loaded (cert_path only names it in the error). */
static int load_key(SSL_CTX *ctx, const char *path, const char *cert_path,
		    const char **error_r)
{
	struct str buf;
	BIO *bio = pem_bio_read("private key file", path, &buf, error_r);
	EVP_PKEY *key;
	char reason[256];
	int ret = -1;

	if (bio == NULL) {
		str_deinit(&buf);
		return -1;
	}
	ERR_clear_error();
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (key == NULL) {
		tls_openssl_reason(reason, sizeof(reason), "no private key");
		*error_r = tls_fail("private key file %s: %s (no unencrypted "
				    "PEM private key in it)",
				    path, reason);
	} else if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) !=
		   1) {
		ERR_clear_error();
		*error_r = tls_fail("private key file %s does not match "
				    "certificate file %s",
				    path, cert_path);
	} else if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		tls_openssl_reason(reason, sizeof(reason), "unusable key");
		*error_r = tls_fail("private key file %s: %s", path, reason);
	} else {
		ret = 1;
	}
	EVP_PKEY_free(key);
	pem_bio_free(bio, &buf);
	return ret;
}

static int load_cert_key(SSL_CTX *ctx, const char *cert, const char *key,
			 const char **error_r)
{
	if (cert == NULL || *cert == '\0' || key == NULL || *key == '\0') {
		*error_r = tls_fail("TLS needs both a certificate file and a "
				    "private key file");
		return -1;
	}
	if (load_cert_chain(ctx, cert, error_r) < 0)
		return -1;
	return load_key(ctx, key, cert, error_r);
}

/* ---- contexts */

/* What both roles share: versions, options, modes, ciphers. */
static int ctx_policy(SSL_CTX *ctx, enum tls_version min, enum tls_version max,
		      const char *ciphers, const char *suites,
		      const char **error_r)
{
	char reason[256];

	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
				     SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_NO_TICKET);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
	SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
	/* iobuf retries a blocked write with its buffer moved and grown */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (SSL_CTX_set_min_proto_version(
		ctx, min == TLS_VERSION_DEFAULT ? TLS1_2_VERSION
						: version_openssl(min)) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, version_openssl(max)) != 1) {
		ERR_clear_error();
		*error_r = tls_fail("unsupported TLS protocol version limits");
		return -1;
	}
	if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		tls_openssl_reason(reason, sizeof(reason), "no usable cipher");
		*error_r =
		    tls_fail("TLS cipher list \"%s\": %s", ciphers, reason);
		return -1;
	}
	if (suites != NULL && SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
		tls_openssl_reason(reason, sizeof(reason), "no usable suite");
		*error_r = tls_fail("TLS 1.3 cipher suites \"%s\": %s", suites,
				    reason);
		return -1;
	}
	return 1;
}

static struct tls_ctx *ctx_new(const SSL_METHOD *method, bool server,
			       const char **error_r)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(method);
	if (ctx == NULL) {
		char reason[256];

		tls_openssl_reason(reason, sizeof(reason), "unknown error");
		*error_r = tls_fail("cannot create a TLS context: %s", reason);
		return NULL;
	}
	t = mem_alloc(sizeof(*t));
	t->ssl_ctx = ctx;
	t->server = server;
	return t;
}

struct tls_ctx *tls_server_ctx_new(const struct tls_server_config *cfg,
				   const char **error_r)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	if (cfg->min_version != TLS_VERSION_DEFAULT &&
	    cfg->min_version < TLS_VERSION_1_2) {
		*error_r = tls_fail("TLS server minimum version below TLSv1.2 "
				    "refused");
		return NULL;
	}
	t = ctx_new(TLS_server_method(), true, error_r);
	if (t == NULL)
		return NULL;
	ctx = t->ssl_ctx;
	if (ctx_policy(ctx, cfg->min_version, cfg->max_version,
		       cfg->ciphers != NULL ? cfg->ciphers
					    : TLS_DEFAULT_SERVER_CIPHERS,
		       cfg->ciphersuites, error_r) < 0 ||
	    load_cert_key(ctx, cfg->cert_file, cfg->key_file, error_r) < 0) {
		tls_ctx_free(&t);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_dh_auto(ctx, 1);
	/* no client certificates asked for (yet): "Anonymous" clients */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return t;
}

struct tls_ctx *tls_client_ctx_new(const struct tls_client_config *cfg,
				   const char **error_r)
{
	struct tls_ctx *t = ctx_new(TLS_client_method(), false, error_r);
	SSL_CTX *ctx;
	char reason[256];

	if (t == NULL)
		return NULL;
	ctx = t->ssl_ctx;
	if (ctx_policy(ctx, cfg->min_version, cfg->max_version, cfg->ciphers,
		       cfg->ciphersuites, error_r) < 0)
		goto fail;
	if (cfg->ca_file != NULL || cfg->ca_path != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file,
						  cfg->ca_path) != 1) {
			tls_openssl_reason(reason, sizeof(reason),
					   "no CA certificates");
			*error_r = tls_fail(
			    "%s %s: %s",
			    cfg->ca_file != NULL ? "CA file" : "CA path",
			    cfg->ca_file != NULL ? cfg->ca_file : cfg->ca_path,
			    reason);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_openssl_reason(reason, sizeof(reason), "unknown error");
		*error_r = tls_fail("system CA store: %s", reason);
		goto fail;
	}
	if ((cfg->cert_file != NULL || cfg->key_file != NULL) &&
	    load_cert_key(ctx, cfg->cert_file, cfg->key_file, error_r) < 0)
		goto fail;
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		tls_openssl_reason(reason, sizeof(reason), "unknown error");
		*error_r = tls_fail("cannot enable DANE: %s", reason);
		goto fail;
	}
	return t;
fail:
	tls_ctx_free(&t);
	return NULL;
}

void tls_ctx_free(struct tls_ctx **ctxp)
{
	struct tls_ctx *t = *ctxp;

	if (t == NULL)
		return;
	SSL_CTX_free(t->ssl_ctx);
	mem_free(t);
	*ctxp = NULL;
}

/* ---- self-signed certificates */

static EVP_PKEY *make_key(void)
{
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	EVP_PKEY *key = NULL;

	if (kctx == NULL || EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx,
						   NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(kctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(kctx);
	return key;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Fills in and signs a certificate for names[0] (the subject) and every
 * name in names (subjectAltName) over key. */
static int make_cert(X509 *x, EVP_PKEY *key, const char *const *names,
		     unsigned days)
{
	unsigned char serial[8];
	unsigned char ip[16];
	BIGNUM *bn;
	X509_NAME *subject = X509_get_subject_name(x);
	struct str san;
	int ok;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return 0;
	serial[0] &= 0x7f; /* a positive serial number */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	const char *name = names[0];

	str_init(&san, 0);
	for (size_t i = 0; names[i] != NULL; i++)
		str_printf(&san, "%s%s:%s", i > 0 ? "," : "",
			   inet_pton(AF_INET, names[i], ip) == 1 ||
				   inet_pton(AF_INET6, names[i], ip) == 1
			       ? "IP"
			       : "DNS",
			   names[i]);
	ok = ok && X509_set_version(x, 2) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) !=
		 NULL &&
	     X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
					(const unsigned char *)name, -1, -1,
					0) &&
	     X509_set_issuer_name(x, subject) &&
	     add_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(x, NID_subject_key_identifier, "hash") &&
	     add_ext(x, NID_subject_alt_name, san.data) &&
	     add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") &&
	     X509_sign(x, key, EVP_sha256()) > 0;
	str_deinit(&san);
	return ok;
}

/* Writes what write_fn puts in a memory BIO to path, atomically. */
static int write_pem(const char *path, mode_t mode, BIO *mem,
		     const char **error_r)
{
	char *data;
	long len = BIO_get_mem_data(mem, &data);
	const char *error;

	if (len <= 0) {
		*error_r = tls_fail("%s: nothing to write", path);
		return -1;
	}
	if (file_write_atomic(path, data, (size_t)len, mode, &error) < 0) {
		*error_r = tls_fail("%s", error);
		OPENSSL_cleanse(data, (size_t)len);
		return -1;
	}
	OPENSSL_cleanse(data, (size_t)len);
	return 1;
}

static bool cn_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64) /* RFC 5280 ub-common-name */
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f ||
		    name[i] == ',' || name[i] == '/')
			return false;
	return true;
}

int tls_make_self_signed(const char *cert_path, const char *key_path,
			 const char *common_name, unsigned days,
			 const char **error_r)
{
	const char *const names[] = {common_name, NULL};

	return tls_make_self_signed_names(cert_path, key_path, names, days,
					  error_r);
}

int tls_make_self_signed_names(const char *cert_path, const char *key_path,
			       const char *const *names, unsigned days,
			       const char **error_r)
{
	const char *common_name = names[0];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *kmem = NULL, *cmem = NULL;
	int ret = -1;

	bool names_ok = common_name != NULL;

	for (size_t i = 0; names_ok && names[i] != NULL; i++)
		names_ok = cn_ok(names[i]);
	if (!names_ok || days == 0 || days > 36500) {
		*error_r = tls_fail("self-signed certificate: bad name \"%s\" "
				    "or validity of %u days",
				    common_name, days);
		return -1;
	}
	ERR_clear_error();
	key = make_key();
	x = X509_new();
	kmem = BIO_new(BIO_s_mem());
	cmem = BIO_new(BIO_s_mem());
	if (key == NULL || x == NULL || kmem == NULL || cmem == NULL ||
	    !make_cert(x, key, names, days) ||
	    !PEM_write_bio_PrivateKey(kmem, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cmem, x)) {
		char reason[256];

		tls_openssl_reason(reason, sizeof(reason), "unknown error");
		*error_r = tls_fail("self-signed certificate: %s", reason);
		goto out;
	}
	/* the key first: a certificate never exists without its key */
	if (write_pem(key_path, 0600, kmem, error_r) > 0 &&
	    write_pem(cert_path, 0644, cmem, error_r) > 0)
		ret = 1;
out:
	BIO_free(kmem);
	BIO_free(cmem);
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}
