/* cidr.h: lists of IPv4/IPv6 networks (mynetworks) and matching a client
 * address against them.
 *
 * Items: "192.0.2.0/24", "192.0.2.1" (= /32), "[2001:db8::]/32",
 * "2001:db8::1", "[::1]" (= /128). Host bits set below the mask are an
 * error (Postfix warns; a typo such as 10.1.2.3/8 should not silently mean
 * all of 10/8). An IPv4-mapped IPv6 client (::ffff:192.0.2.1) matches the
 * IPv4 entries. */
#ifndef POSTERN_SMTPD_CIDR_H
#define POSTERN_SMTPD_CIDR_H

#include <stdbool.h>

struct cidr_list;

/* Parses a NULL-terminated list of items. Returns 1 with *list_r, or -1
 * with *error_r (static buffer, names the item). */
int cidr_list_parse(const char *const *items, struct cidr_list **list_r,
		    const char **error_r);
void cidr_list_free(struct cidr_list **listp);
/* True when addr (text: "192.0.2.1" or "2001:db8::1") is in the list; an
 * unparsable address matches nothing. */
bool cidr_list_match(const struct cidr_list *list, const char *addr);

#endif
