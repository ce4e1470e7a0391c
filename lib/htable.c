/* htable.c: string-keyed hash table (see htable.h). Used by the in-memory
 * lookup tables (texthash, inline) and by any module that needs a set or
 * map of strings. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "htable.h"
#include "mem.h"

struct htable_slot {
	uint64_t hash;
	char *key; /* NULL: empty slot */
	void *value;
};

struct htable {
	struct htable_slot *slots;
	size_t size; /* a power of two */
	size_t count;
};

static uint64_t htable_k0, htable_k1;
static bool htable_seeded;

static void htable_seed(void)
{
	uint64_t k[2];

	if (getentropy(k, sizeof(k)) != 0) {
		/* No kernel randomness: a weak but still varying key is better
		 * than none for a table that only risks getting slower. */
		k[0] = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		k[1] = (uint64_t)(uintptr_t)&k ^ 0x9e3779b97f4a7c15ULL;
	}
	htable_k0 = k[0];
	htable_k1 = k[1];
	htable_seeded = true;
}

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND(v0, v1, v2, v3)                                              \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = rotl(v1, 13) ^ v0;                                        \
		v0 = rotl(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = rotl(v3, 16) ^ v2;                                        \
		v0 += v3;                                                      \
		v3 = rotl(v3, 21) ^ v0;                                        \
		v2 += v1;                                                      \
		v1 = rotl(v1, 17) ^ v2;                                        \
		v2 = rotl(v2, 32);                                             \
	} while (0)

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t w = 0;

	for (int i = 7; i >= 0; i--)
		w = (w << 8) | p[i];
	return w;
}

/* SipHash-1-3: one compression round per word, three finalisation rounds. */
unsigned long long htable_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0, v1, v2, v3, m;
	size_t left = len;

	if (!htable_seeded)
		htable_seed();
	v0 = htable_k0 ^ 0x736f6d6570736575ULL;
	v1 = htable_k1 ^ 0x646f72616e646f6dULL;
	v2 = htable_k0 ^ 0x6c7967656e657261ULL;
	v3 = htable_k1 ^ 0x7465646279746573ULL;
	for (; left >= 8; left -= 8, p += 8) {
		m = load_le64(p);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = (uint64_t)len << 56;
	for (size_t i = 0; i < left; i++)
		m |= (uint64_t)p[i] << (8 * i);
	v3 ^= m;
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

struct htable *htable_new(size_t hint)
{
	struct htable *t = mem_alloc(sizeof(*t));
	size_t size = 16;

	while (size / 4 * 3 < hint)
		size = size_mul(size, 2);
	t->size = size;
	t->slots = mem_calloc(size, sizeof(*t->slots));
	return t;
}

void htable_free(struct htable **tp, void (*free_value)(void *value))
{
	struct htable *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->size; i++) {
		if (t->slots[i].key == NULL)
			continue;
		mem_free(t->slots[i].key);
		if (free_value != NULL)
			free_value(t->slots[i].value);
	}
	mem_free(t->slots);
	mem_free(*tp);
}

/* Returns the slot holding key, or the empty slot where it would go. */
static size_t htable_probe(const struct htable *t, const char *key,
			   uint64_t hash)
{
	size_t mask = t->size - 1, i = (size_t)hash & mask;

	while (t->slots[i].key != NULL &&
	       (t->slots[i].hash != hash || strcmp(t->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

static void htable_grow(struct htable *t)
{
	struct htable_slot *old = t->slots;
	size_t old_size = t->size;

	t->size = size_mul(t->size, 2);
	t->slots = mem_calloc(t->size, sizeof(*t->slots));
	for (size_t i = 0; i < old_size; i++) {
		size_t mask = t->size - 1, j;

		if (old[i].key == NULL)
			continue;
		j = (size_t)old[i].hash & mask;
		while (t->slots[j].key != NULL)
			j = (j + 1) & mask;
		t->slots[j] = old[i];
	}
	mem_free(old);
}

int htable_insert(struct htable *t, const char *key, void *value)
{
	uint64_t hash = htable_hash(key, strlen(key));
	size_t i = htable_probe(t, key, hash);

	if (t->slots[i].key != NULL)
		return 0;
	if (t->count + 1 > t->size / 4 * 3) {
		htable_grow(t);
		i = htable_probe(t, key, hash);
	}
	t->slots[i].hash = hash;
	t->slots[i].key = mem_strdup(key);
	t->slots[i].value = value;
	t->count++;
	return 1;
}

int htable_find(const struct htable *t, const char *key, void **value_r)
{
	size_t i = htable_probe(t, key, htable_hash(key, strlen(key)));

	if (t->slots[i].key == NULL)
		return 0;
	if (value_r != NULL)
		*value_r = t->slots[i].value;
	return 1;
}

/* Backward-shift deletion: moves later members of the probe run into the
 * hole so that no tombstones are needed. */
static void htable_close_gap(struct htable *t, size_t hole)
{
	size_t mask = t->size - 1, i = hole;

	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (t->slots[i].key == NULL)
			break;
		home = (size_t)t->slots[i].hash & mask;
		/* the entry may move to hole only if hole lies on its probe
		 * path, i.e. cyclically within [home, i) */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
}

int htable_remove(struct htable *t, const char *key, void **value_r)
{
	size_t i = htable_probe(t, key, htable_hash(key, strlen(key)));

	if (t->slots[i].key == NULL)
		return 0;
	if (value_r != NULL)
		*value_r = t->slots[i].value;
	mem_free(t->slots[i].key);
	htable_close_gap(t, i);
	t->count--;
	return 1;
}

size_t htable_count(const struct htable *t)
{
	return t->count;
}

void htable_iter_init(struct htable_iter *it)
{
	it->pos = 0;
}

bool htable_next(const struct htable *t, struct htable_iter *it,
		 const char **key_r, void **value_r)
{
	while (it->pos < t->size) {
		const struct htable_slot *s = &t->slots[it->pos++];

		if (s->key == NULL)
			continue;
		if (key_r != NULL)
			*key_r = s->key;
		if (value_r != NULL)
			*value_r = s->value;
		return true;
	}
	return false;
}
