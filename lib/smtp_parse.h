/* smtp_parse.h: the pure parsers of SMTP and LMTP command lines on the
 * server side (smtpd, lmtpd), free of session state so that unit tests and
 * the command fuzz target reach exactly the daemons' code. Addresses and ESMTP parameters themselves are parsed by
 * lib/addr (addr_path_parse). */
#ifndef POSTERN_SMTPD_PARSE_H
#define POSTERN_SMTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Splits a command line into verb and argument: the verb is the first
 * word of 1 to 15 ASCII letters (compared case-insensitively by the
 * caller), followed by the end of the line or a space; *arg_r points past
 * that one space. Returns the verb length, or 0 for a malformed verb. */
size_t smtpd_command_split(const char *line, size_t len, const char **arg_r,
			   size_t *arg_len_r);
/* Parses an RFC 3461 NOTIFY value (comma-separated NEVER, SUCCESS,
 * FAILURE, DELAY; NEVER alone) into QUEUE_NOTIFY_* bits. Returns 1, or
 * -1 for bad syntax (unknown or repeated keyword, NEVER with another). */
int smtpd_parse_notify(const char *value, unsigned *notify_r);
/* Checks an RFC 3461 ORCPT value "addr-type;xtext" (non-empty type of
 * letters, digits and '-'; valid, non-empty xtext). Returns 1 or -1. */
int smtpd_check_orcpt(const char *value);
/* Parses the argument of BDAT: "count" or "count LAST" (RFC 3030), the
 * count strictly decimal (lib/num). Returns 1 with *size_r and *last_r;
 * 0 when the count does not fit in 64 bits; -1 for bad syntax. */
int smtpd_parse_bdat(const char *arg, size_t len, uint64_t *size_r,
		     bool *last_r);

#endif
