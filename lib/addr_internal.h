/* addr_internal.h: what lib/addr.c (mailboxes, domains, canonical form)
 * shares with lib/addr_path.c (paths, ESMTP parameters, xtext). Not an API:
 * everything else uses addr.h. */
#ifndef POSTERN_ADDR_INTERNAL_H
#define POSTERN_ADDR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "str.h"

/* RFC 5321 4.5.3.1.3: reverse-path and forward-path, brackets included. */
#define ADDR_MAX_PATH 256

/* Checks every octet of s: ADDR_ERR_CONTROL for C0 controls, DEL and (with
 * utf8_ok) C1 controls; ADDR_ERR_NON_ASCII for 8-bit octets without
 * utf8_ok; ADDR_ERR_BAD_UTF8 for invalid UTF-8; else ADDR_ERR_NONE. */
enum addr_error addr_scan_octets(const char *s, size_t len, bool utf8_ok);

/* Checks a domain or address literal (octets already scanned) and, when
 * out is not NULL, appends its canonical form; ORs ADDR_F_* bits that
 * describe it into *flags_r. */
enum addr_error addr_check_domain(const char *s, size_t len, bool utf8,
				  struct str *out, unsigned *flags_r);

/* Parses a mailbox (octets already scanned) into a, ORing into a->flags.
 * rcpt: "Postmaster" alone is accepted. Returns ADDR_ERR_NONE or why not. */
enum addr_error addr_parse_mailbox(const char *s, size_t len, unsigned pflags,
				   bool rcpt, struct addr *a);

/* Empties a (flags, local, domain, canon). */
void addr_clear(struct addr *a);

#endif
