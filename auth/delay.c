/* delay.c: failed logins per client address, so that password guessing
 * slows down exponentially (auth.h). A fixed table: memory stays bounded
 * however many addresses an attacker uses; the least recently failing
 * address makes room. */
#include "config.h"

#include <string.h>

#include "auth.h"

struct slot {
	char client[64];
	unsigned failures;
	uint64_t last_ms;
};

static struct slot slots[AUTH_DELAY_SLOTS];

static struct slot *slot_find(const char *client, bool create)
{
	struct slot *oldest = &slots[0];

	for (size_t i = 0; i < AUTH_DELAY_SLOTS; i++) {
		if (slots[i].client[0] != '\0' &&
		    strcmp(slots[i].client, client) == 0)
			return &slots[i];
		if (slots[i].last_ms < oldest->last_ms)
			oldest = &slots[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	/* Longer texts are not addresses; they share one slot, cut short. */
	memcpy(oldest->client, client,
	       strnlen(client, sizeof(oldest->client) - 1));
	return oldest;
}

unsigned auth_delay_failure(const char *client, uint64_t now_ms)
{
	struct slot *s = slot_find(client, true);
	uint64_t delay = AUTH_DELAY_BASE_MS;

	if (s->failures > 0 && now_ms - s->last_ms > AUTH_DELAY_FORGET_MS)
		s->failures = 0;
	s->last_ms = now_ms;
	if (s->failures < 32)
		s->failures++;
	for (unsigned i = 1; i < s->failures && delay < AUTH_DELAY_MAX_MS; i++)
		delay *= 2;
	return delay > AUTH_DELAY_MAX_MS ? AUTH_DELAY_MAX_MS : (unsigned)delay;
}

void auth_delay_success(const char *client)
{
	struct slot *s = slot_find(client, false);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
}
