/* num.h: strict decimal parsing for every number that comes from the network.
 *
 * SMTP SIZE= and BDAT lengths, IMAP literal sizes, sequence numbers, UIDs,
 * partial offsets, counts: they all go through num_parse_u64(), so there is
 * one place that knows about signs, spaces, overflow and limits. Input is a
 * (pointer, length) pair, never NUL-terminated text: the parser never reads
 * past len and a NUL inside is just a non-digit.
 *
 * Accepted: one or more ASCII digits and nothing else. Refused as syntax
 * errors: the empty string, signs ("+1", "-1"), spaces, hex or octal prefixes
 * and any other byte. Leading zeros are accepted by num_parse_u64() because
 * the SMTP and IMAP grammars allow them (RFC 1870 size-value is 1*20DIGIT,
 * RFC 9051 number is 1*DIGIT); "007" is 7, never octal, and a long run of
 * zeros costs only linear time. Where a grammar forbids them (IMAP
 * nz-number) use num_parse_u64_strict(). */
#ifndef POSTERN_NUM_H
#define POSTERN_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses str[0..len) as a decimal number no larger than max.
 * Returns 1 with *value_r set; 0 when the syntax is right but the value is
 * larger than max (including values that do not fit in 64 bits: the caller
 * can answer "too big" rather than "syntax error"); -1 on a syntax error.
 * *value_r is left alone unless 1 is returned. */
int num_parse_u64(const char *str, size_t len, uint64_t max, uint64_t *value_r);
/* The same, but a leading zero is a syntax error unless the number is
 * exactly "0". */
int num_parse_u64_strict(const char *str, size_t len, uint64_t max,
			 uint64_t *value_r);

#endif
