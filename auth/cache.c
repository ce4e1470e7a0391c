/* cache.c: remembers successful password checks for a while, as Dovecot's
 * auth cache does, so that a mail client opening five IMAP connections,
 * or reconnecting every few minutes, costs one crypt(3) computation
 * (yescrypt: about 20 ms of CPU) rather than one per login. Only
 * successes are kept, and only as an HMAC-SHA256 under a key made when
 * the process starts, over the canonical user, the password and the
 * user's stored hash: a password change, a removed user or a table
 * reload that changes the hash misses at once, and the memory never holds
 * a password. Entries live auth_cache_ttl; the table is a fixed array
 * (auth_cache_size slots, the oldest overwritten). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"
#include "mem.h"
#include "msg.h"

struct cache_entry {
	unsigned char mac[32];
	uint64_t expires_ms;
};

static struct cache_entry *entries;
static size_t slots;
static uint64_t ttl_ms;
static unsigned char key[32];

void auth_cache_init(size_t size, uint64_t ttl_seconds)
{
	slots = ttl_seconds > 0 ? size : 0;
	ttl_ms = ttl_seconds * 1000;
	if (slots == 0)
		return;
	if (RAND_bytes(key, sizeof(key)) != 1)
		msg_fatal("auth cache: no random key");
	entries = mem_calloc(slots, sizeof(*entries));
}

static bool cache_mac(const char *user, const char *password,
		      const char *hash, unsigned char mac[32])
{
	unsigned char buf[3 * 1024 + 3];
	size_t ul = strlen(user), pl = strlen(password), hl = strlen(hash);
	unsigned int len = 32;
	bool ok;

	if (ul > 1024 || pl > 1024 || hl > 1024)
		return false;
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, password, pl + 1);
	memcpy(buf + ul + pl + 2, hash, hl + 1);
	ok = HMAC(EVP_sha256(), key, sizeof(key), buf, ul + pl + hl + 3, mac,
		  &len) != NULL &&
	     len == 32;
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

static struct cache_entry *slot_of(const unsigned char mac[32])
{
	uint64_t h;

	memcpy(&h, mac, sizeof(h));
	return &entries[h % slots];
}

bool auth_cache_hit(const char *user, const char *password, const char *hash,
		    uint64_t now_ms)
{
	unsigned char mac[32];
	struct cache_entry *e;

	if (slots == 0 || hash == NULL || !cache_mac(user, password, hash, mac))
		return false;
	e = slot_of(mac);
	return e->expires_ms > now_ms && CRYPTO_memcmp(e->mac, mac, 32) == 0;
}

void auth_cache_add(const char *user, const char *password, const char *hash,
		    uint64_t now_ms)
{
	unsigned char mac[32];
	struct cache_entry *e;

	if (slots == 0 || hash == NULL || !cache_mac(user, password, hash, mac))
		return;
	e = slot_of(mac);
	memcpy(e->mac, mac, 32);
	e->expires_ms = now_ms + ttl_ms;
}
