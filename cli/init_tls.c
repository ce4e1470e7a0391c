/* init_tls.c: the self-signed certificate of a new instance (`postern
 * init`), made with OpenSSL's C API rather than by running the openssl
 * command: an RSA 2048 key (every mail client accepts it) and a
 * certificate for the instance's host name, localhost and 127.0.0.1,
 * valid for ten years. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "file.h"
#include "lifecycle.h"
#include "privs.h"
#include "str.h"

#define TLS_KEY_BITS 2048
#define TLS_DAYS 3650

static char tls_errbuf[512];

static int tls_fail(const char **error_r, const char *what)
{
	unsigned long e = ERR_get_error();
	char text[256];

	ERR_error_string_n(e, text, sizeof(text));
	snprintf(tls_errbuf, sizeof(tls_errbuf), "%s: %s", what,
		 e != 0 ? text : "failed");
	ERR_clear_error();
	*error_r = tls_errbuf;
	return -1;
}

static EVP_PKEY *make_key(const char **error_r)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *key = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, TLS_KEY_BITS) <= 0 ||
	    EVP_PKEY_keygen(ctx, &key) <= 0) {
		tls_fail(error_r, "generate key");
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 1 : -1;
}

static int set_serial(X509 *x)
{
	unsigned char bytes[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		return -1;
	bytes[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 1 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *host, const char **error_r)
{
	X509 *x = X509_new();
	X509_NAME *name;
	struct str san;
	int ok;

	str_init(&san, 0);
	str_printf(&san, "DNS:%s", host);
	if (strcmp(host, "localhost") != 0)
		str_append_cstr(&san, ",DNS:localhost");
	str_append_cstr(&san, ",IP:127.0.0.1");
	name = x != NULL ? X509_get_subject_name(x) : NULL;
	ok = name != NULL && X509_set_version(x, 2) && set_serial(x) > 0 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400L * TLS_DAYS) &&
	     X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)host, -1, -1,
					0) &&
	     X509_set_issuer_name(x, name) &&
	     add_ext(x, NID_basic_constraints, "critical,CA:FALSE") > 0 &&
	     add_ext(x, NID_key_usage,
		     "critical,digitalSignature,keyEncipherment") > 0 &&
	     add_ext(x, NID_ext_key_usage, "serverAuth") > 0 &&
	     add_ext(x, NID_subject_key_identifier, "hash") > 0 &&
	     add_ext(x, NID_subject_alt_name, san.data) > 0 &&
	     X509_sign(x, key, EVP_sha256()) > 0;
	str_deinit(&san);
	if (!ok) {
		tls_fail(error_r, "make certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Writes what the BIO holds to path, atomically. */
static int write_bio(BIO *bio, const char *path, mode_t mode, uid_t uid,
		     gid_t gid, const char **error_r)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return tls_fail(error_r, "PEM encoding");
	if (file_write_atomic(path, data, (size_t)len, mode, error_r) < 0)
		return -1;
	if (privs_is_root() && chown(path, uid, gid) < 0) {
		snprintf(tls_errbuf, sizeof(tls_errbuf), "chown %s: %s", path,
			 strerror(errno));
		*error_r = tls_errbuf;
		return -1;
	}
	return 1;
}

int init_tls_make(const char *cert_path, const char *key_path, const char *host,
		  uid_t uid, gid_t gid, const char **error_r)
{
	EVP_PKEY *key = make_key(error_r);
	X509 *cert = key != NULL ? make_cert(key, host, error_r) : NULL;
	BIO *kbio = BIO_new(BIO_s_secmem()), *cbio = BIO_new(BIO_s_mem());
	int ret = -1;

	if (cert == NULL || kbio == NULL || cbio == NULL)
		goto out;
	if (!PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cbio, cert)) {
		tls_fail(error_r, "PEM encoding");
		goto out;
	}
	/* The key is root's when root runs init: daemons read it before
	 * they drop privileges. */
	if (write_bio(kbio, key_path, 0600, 0, 0, error_r) > 0 &&
	    write_bio(cbio, cert_path, 0644, uid, gid, error_r) > 0)
		ret = 1;
out:
	BIO_free(kbio);
	BIO_free(cbio);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
