/* cidr.c: network lists for mynetworks (see cidr.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "mem.h"
#include "num.h"

struct cidr_entry {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned bits;
};

struct cidr_list {
	struct cidr_entry *entries;
	size_t count;
};

static char cidr_error[512];

/* Parses an address into out (16 bytes); returns the family or 0. */
static int cidr_parse_addr(const char *text, unsigned char *out)
{
	if (inet_pton(AF_INET, text, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, out) == 1)
		return AF_INET6;
	return 0;
}

static bool cidr_host_bits_clear(const struct cidr_entry *e)
{
	size_t len = e->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < len; i++) {
		unsigned keep = e->bits >= (i + 1) * 8 ? 8
				: e->bits > i * 8      ? e->bits - i * 8
						       : 0;
		unsigned char mask = (unsigned char)(0xff00u >> keep);

		if ((e->addr[i] & (unsigned char)~mask) != 0)
			return false;
	}
	return true;
}

static int cidr_parse_item(const char *item, struct cidr_entry *e)
{
	char host[INET6_ADDRSTRLEN + 4];
	const char *slash = strchr(item, '/');
	size_t hlen = slash ? (size_t)(slash - item) : strlen(item);
	uint64_t bits;

	if (hlen >= 2 && item[0] == '[' && item[hlen - 1] == ']') {
		item++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, item, hlen);
	host[hlen] = '\0';
	memset(e, 0, sizeof(*e));
	e->family = cidr_parse_addr(host, e->addr);
	if (e->family == 0)
		return -1;
	e->bits = e->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (num_parse_u64(slash + 1, strlen(slash + 1), e->bits,
				  &bits) != 1)
			return -1;
		e->bits = (unsigned)bits;
	}
	return cidr_host_bits_clear(e) ? 1 : -1;
}

int cidr_list_parse(const char *const *items, struct cidr_list **list_r,
		    const char **error_r)
{
	struct cidr_list *l = mem_alloc(sizeof(*l));
	size_t n = 0;

	while (items[n] != NULL)
		n++;
	l->entries = mem_calloc(n ? n : 1, sizeof(*l->entries));
	for (size_t i = 0; i < n; i++) {
		if (cidr_parse_item(items[i], &l->entries[l->count]) < 0) {
			snprintf(cidr_error, sizeof(cidr_error),
				 "bad network \"%.200s\" (expected "
				 "address/bits with no host bits set)",
				 items[i]);
			*error_r = cidr_error;
			cidr_list_free(&l);
			return -1;
		}
		l->count++;
	}
	*list_r = l;
	return 1;
}

void cidr_list_free(struct cidr_list **listp)
{
	if (*listp == NULL)
		return;
	mem_free((*listp)->entries);
	mem_free(*listp);
}

static bool cidr_entry_match(const struct cidr_entry *e, int family,
			     const unsigned char *addr)
{
	unsigned full = e->bits / 8, rest = e->bits % 8;

	if (e->family != family || memcmp(e->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (addr[full] & mask) == (e->addr[full] & mask);
}

bool cidr_list_match(const struct cidr_list *list, const char *addr)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];
	int family = cidr_parse_addr(addr, a);

	if (family == AF_INET6 && memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		family = AF_INET;
	}
	if (family == 0 || list == NULL)
		return false;
	for (size_t i = 0; i < list->count; i++)
		if (cidr_entry_match(&list->entries[i], family, a))
			return true;
	return false;
}
