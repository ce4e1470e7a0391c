/* users.c: the users table file (see users.h): load, edit, save, and the
 * crypt(3) hashing shared by `postern user` (hashing) and the auth daemon
 * (verifying). Entries live in an array kept in file order, with a hash
 * table for lookups by address. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "addr.h"
#include "dict_source.h"
#include "file.h"
#include "mem.h"
#include "num.h"
#include "users.h"

struct users {
	struct user_entry *e;
	size_t count, cap;
};

/* A hash of a random password: verifying against it costs what verifying
 * a real user costs, and never matches. Made at first use with the same
 * method as new hashes. */
static char dummy_hash[CRYPT_OUTPUT_SIZE];

const char *users_table_path(const char *spec, const char **error_r)
{
	if (strncmp(spec, "texthash:", 9) == 0)
		spec += 9;
	if (spec[0] != '/') {
		*error_r = "users_table must be texthash:/absolute/path";
		return NULL;
	}
	return spec;
}

struct users *users_new(void)
{
	return mem_alloc(sizeof(struct users));
}

void users_free(struct users **up)
{
	struct users *u = *up;

	if (u == NULL)
		return;
	for (size_t i = 0; i < u->count; i++) {
		mem_free(u->e[i].address);
		mem_free_secret(u->e[i].hash, strlen(u->e[i].hash));
	}
	mem_free(u->e);
	mem_free(u);
	*up = NULL;
}

size_t users_count(const struct users *u)
{
	return u->count;
}

const struct user_entry *users_at(const struct users *u, size_t i)
{
	return &u->e[i];
}

static struct user_entry *find(const struct users *u, const char *address)
{
	for (size_t i = 0; i < u->count; i++)
		if (strcmp(u->e[i].address, address) == 0)
			return &u->e[i];
	return NULL;
}

const struct user_entry *users_find(const struct users *u, const char *address)
{
	return find(u, address);
}

void users_set(struct users *u, const char *address, const char *hash,
	       bool quota_set, uint64_t quota)
{
	struct user_entry *e = find(u, address);

	if (e == NULL) {
		if (u->count == u->cap) {
			u->cap = u->cap ? size_mul(u->cap, 2) : 16;
			u->e = mem_realloc(u->e, size_mul(u->cap, sizeof(*e)));
		}
		e = &u->e[u->count++];
		memset(e, 0, sizeof(*e));
		e->address = mem_strdup(address);
	} else {
		mem_free_secret(e->hash, strlen(e->hash));
	}
	e->hash = mem_strdup(hash);
	if (quota_set)
		e->quota = quota;
}

int users_delete(struct users *u, const char *address)
{
	struct user_entry *e = find(u, address);
	size_t i;

	if (e == NULL)
		return 0;
	i = (size_t)(e - u->e);
	mem_free(e->address);
	mem_free_secret(e->hash, strlen(e->hash));
	memmove(&u->e[i], &u->e[i + 1], (u->count - i - 1) * sizeof(*e));
	u->count--;
	return 1;
}

/* "HASH" or "HASH quota=BYTES". */
static int parse_value(const char *value, struct str *hash, uint64_t *quota_r,
		       const char **error_r)
{
	size_t n = strcspn(value, " \t");
	const char *rest = value + n;

	str_set(hash, value, n);
	*quota_r = 0;
	rest += strspn(rest, " \t");
	if (*rest == '\0')
		return 1;
	if (strncmp(rest, "quota=", 6) != 0 ||
	    num_parse_u64(rest + 6, strlen(rest + 6), UINT64_MAX, quota_r) <=
		0) {
		*error_r = "expected HASH [quota=BYTES]";
		return -1;
	}
	return 1;
}

struct load_ctx {
	struct users *u;
	const char *path;
	struct str hash, err;
};

static int load_entry(void *ctx, const char *key, const char *value, int line,
		      const char **error_r)
{
	struct load_ctx *l = ctx;
	uint64_t quota;
	const char *err;

	if (parse_value(value, &l->hash, &quota, &err) < 0 ||
	    l->u->count >= USERS_MAX_ENTRIES) {
		if (l->u->count >= USERS_MAX_ENTRIES)
			err = "too many entries";
		str_clear(&l->err);
		str_printf(&l->err, "%s:%d: %s", l->path, line, err);
		*error_r = l->err.data;
		return -1;
	}
	users_set(l->u, key, l->hash.data, true, quota);
	return 0;
}

int users_load(const char *path, struct users **users_r, const char **error_r)
{
	static struct str errbuf;
	struct load_ctx l = {.u = users_new(), .path = path};
	struct stat st;
	int r = 1;

	*users_r = NULL;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		*users_r = l.u;
		return 1;
	}
	str_init(&l.hash, 128);
	str_init(&l.err, 128);
	if (dict_source_parse_file(path, load_entry, &l, error_r) < 0) {
		str_set(&errbuf, *error_r, strlen(*error_r));
		*error_r = errbuf.data;
		users_free(&l.u);
		r = -1;
	}
	OPENSSL_cleanse(l.hash.data, l.hash.len);
	str_deinit(&l.hash);
	str_deinit(&l.err);
	*users_r = l.u;
	return r;
}

int users_save(const struct users *u, const char *path, const char **error_r)
{
	struct str out;
	int r;

	str_init(&out, 4096);
	str_append_cstr(&out, "# Postern users table, written by \"postern "
			      "user\": ADDRESS HASH [quota=BYTES]\n");
	for (size_t i = 0; i < u->count; i++) {
		str_printf(&out, "%s %s", u->e[i].address, u->e[i].hash);
		if (u->e[i].quota > 0)
			str_printf(&out, " quota=%llu",
				   (unsigned long long)u->e[i].quota);
		str_putc(&out, '\n');
	}
	r = file_write_atomic(path, out.data, out.len, 0600, error_r);
	OPENSSL_cleanse(out.data, out.len);
	str_deinit(&out);
	return r;
}

int users_canonical(const char *login, size_t len, const char *default_domain,
		    struct str *out, const char **error_r)
{
	struct addr a;
	enum addr_error err;
	struct str full;
	int r;

	str_init(&full, 64);
	str_set(&full, login, len);
	if (memchr(login, '@', len) == NULL && default_domain[0] != '\0')
		str_printf(&full, "@%s", default_domain);
	addr_init(&a);
	r = addr_parse(full.data, full.len, 0, &a, &err);
	if (r < 0 || a.domain.len == 0 || a.domain.data[0] == '[' ||
	    (a.flags & (ADDR_F_QUOTED | ADDR_F_SOURCE_ROUTE))) {
		*error_r = "not a valid address (user@domain)";
		r = -1;
	} else {
		str_set(out, a.canon.data, a.canon.len);
		str_lower(out);
		r = 1;
	}
	addr_deinit(&a);
	str_deinit(&full);
	return r;
}

/* A salt for the best method libcrypt has: yescrypt, else SHA-512. */
static int make_salt(char *salt, size_t size, const char **error_r)
{
	static const char *const prefixes[] = {"$y$", "$6$"};
	unsigned char rnd[32];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		*error_r = "no random bytes for a salt";
		return -1;
	}
	for (size_t i = 0; i < 2; i++)
		if (crypt_gensalt_rn(prefixes[i], 0, (const char *)rnd,
				     sizeof(rnd), salt, (int)size) != NULL &&
		    salt[0] != '*')
			return 1;
	*error_r = "libcrypt supports neither yescrypt nor SHA-512-crypt";
	return -1;
}

int users_password_hash(const char *password, struct str *out,
			const char **error_r)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = mem_alloc(sizeof(*cd));
	int r = -1;

	if (make_salt(salt, sizeof(salt), error_r) < 0)
		goto out;
	if (crypt_rn(password, salt, cd, sizeof(*cd)) == NULL ||
	    cd->output[0] == '*') {
		*error_r = "crypt(3) failed";
		goto out;
	}
	str_set(out, cd->output, strlen(cd->output));
	r = 1;
out:
	mem_free_secret(cd, sizeof(*cd));
	return r;
}

static const char *dummy(void)
{
	struct str h;
	const char *err;
	unsigned char rnd[24];
	char pw[2 * sizeof(rnd) + 1];

	if (dummy_hash[0] != '\0')
		return dummy_hash;
	(void)RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		pw[i] = (char)('a' + rnd[i] % 26);
	pw[sizeof(rnd)] = '\0';
	str_init(&h, 128);
	if (users_password_hash(pw, &h, &err) > 0 && h.len < sizeof(dummy_hash))
		memcpy(dummy_hash, h.data, h.len + 1);
	str_deinit(&h);
	return dummy_hash;
}

int users_password_verify(const char *hash, const char *password)
{
	struct crypt_data *cd = mem_alloc(sizeof(*cd));
	const char *setting = hash != NULL ? hash : dummy();
	size_t n = strlen(setting);
	int r = 0;

	if (crypt_rn(password, setting, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] != '*' && strlen(cd->output) == n &&
	    CRYPTO_memcmp(cd->output, setting, n) == 0)
		r = hash != NULL ? 1 : 0;
	mem_free_secret(cd, sizeof(*cd));
	return r;
}
