/* sendmail_headers.h: what the sendmail command reads from a message's
 * header: the recipients for -t (To:, Cc:, Bcc:, with Bcc: removed from the
 * copy that is queued), and the qualification of addresses given on the
 * command line or in headers (a bare "user" becomes user@$myorigin). */
#ifndef POSTERN_SENDMAIL_HEADERS_H
#define POSTERN_SENDMAIL_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "sendmail_stream.h"
#include "str.h"

/* Most addresses one header field may give (more is a data error). */
#define SENDMAIL_HEADER_ADDRS_MAX 1000

/* Parses s[0..len) as one mailbox ("user", "user@domain", "<user@d>") and
 * appends its canonical form to out, with "@origin" added when it has no
 * domain. With allow_null, "" and "<>" give "" (the null sender). Returns
 * 1, or -1 with *error_r (static text). */
int sendmail_qualify(const char *s, size_t len, const char *origin,
		     bool allow_null, struct str *out, const char **error_r);

/* Splits an RFC 5322 address list (the unfolded value of To:, Cc: or Bcc:;
 * display names, comments, quoted strings, <angle> addresses and groups
 * "name: a, b;") and adds each address, qualified, to env. Returns the
 * number added, or -1 with *error_r. */
int sendmail_address_list(const char *value, size_t len, const char *origin,
			  struct drop_envelope *env, const char **error_r);

/* The header section head[0..len) (lines ending in LF or CRLF, without
 * the empty line that ends it): for -t, adds the recipients of every To:,
 * Cc: and Bcc: field to env; appends the header to kept without the Bcc:
 * fields (when remove_bcc, with their continuation lines). Returns 1, or
 * -1 with *error_r naming the bad field. */
int sendmail_header_scan(const char *head, size_t len, bool extract,
			 bool remove_bcc, const char *origin,
			 struct drop_envelope *env, struct str *kept,
			 const char **error_r);

/* True when line[0..len) (without its line end) starts a header field:
 * a name of printable ASCII without ':' and SP, then ':'. */
bool sendmail_is_header_start(const char *line, size_t len);

#endif
