/* addr.h: email addresses as ONE parsed representation for policy and routing.
 *
 * smtpd parses the text after "MAIL FROM:" and "RCPT TO:" with
 * addr_path_parse(); sendmail, tables and configuration parse bare
 * mailboxes with addr_parse(). Both give a struct addr whose domain is the
 * one and only routing key: relay policy, access tables and the queue all
 * read the same fields, so a check can never look at one form of an address
 * while delivery uses another. Nothing downstream may re-split the text.
 *
 * Syntax (RFC 5321 4.1.2, RFC 6531 for SMTPUTF8):
 * - Path: "<" [source-route ":"] mailbox ">" or the null path "<>" (MAIL
 *   only). A source route "@a,@b:" is checked and dropped (RFC 5321 C:
 *   routing uses only the final domain), and ADDR_F_SOURCE_ROUTE is set.
 *   Angle brackets are required (strict: "MAIL FROM:user@d" gets
 *   ADDR_ERR_NO_BRACKETS, 501 5.5.4); spaces between the colon and "<" are
 *   tolerated because common clients send them.
 * - Local part: dot-string or quoted-string (quoted-pairs of printable
 *   ASCII). More than 64 octets is accepted and flagged (ADDR_F_LOCAL_LONG):
 *   real senders exceed it and Postfix accepts it.
 * - Domain: LDH labels (no leading or trailing hyphen, 1..63 octets, total
 *   up to 255), one trailing dot removed (ADDR_F_TRAILING_DOT), or an
 *   address literal [192.0.2.1] / [IPv6:2001:db8::1] checked with
 *   inet_pton() (IPv4 with leading zeros is refused: "010" reads as octal to
 *   some resolvers). General literals ("[tag:x]") are refused.
 * - Without a domain only "Postmaster" (any case) in RCPT is accepted (RFC
 *   5321 4.5.1), unless the caller passes ADDR_PARSE_UNQUALIFIED_OK.
 * - Non-ASCII only with ADDR_PARSE_SMTPUTF8 (or, for MAIL, an SMTPUTF8
 *   parameter in the same command): strict UTF-8 (no overlongs, surrogates,
 *   code points above U+10FFFF; C1 controls refused); U-labels up to 63
 *   code points.
 * - Anywhere in the input: NUL, CR, LF, TAB, other control characters and
 *   DEL are refused (ADDR_ERR_CONTROL) before anything else is looked at.
 * - The whole path, brackets and source route included, is at most 256
 *   octets (ADDR_ERR_PATH_TOO_LONG); a bare mailbox at most 254.
 *
 * Canonical form (struct addr): the domain lower-cased (ASCII letters
 * only), trailing dot gone, address literals rewritten by inet_ntop(); the
 * local part kept as sent, case included (RFC 5321: only the receiving
 * host may fold it; lookup tables fold keys themselves), with quotes
 * removed whenever the local part is a valid dot-string ("john"@x is
 * john@x) and minimal quoting otherwise. The canonical text is printable
 * (no control characters, valid UTF-8) and safe in logs and headers;
 * parsing it again gives the same result. */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* Why a path or mailbox was refused. Each maps to one SMTP reply through
 * addr_error_reply() (codes in the comments: MAIL / RCPT). */
enum addr_error {
	ADDR_ERR_NONE = 0,
	ADDR_ERR_SYNTAX,	  /* 501 5.1.7 / 5.1.3 */
	ADDR_ERR_NO_BRACKETS,	  /* 501 5.5.4: path without <> */
	ADDR_ERR_NULL_RCPT,	  /* 501 5.1.3: "<>" as a recipient */
	ADDR_ERR_UNQUALIFIED,	  /* 501 5.1.7 / 5.1.3: no @domain */
	ADDR_ERR_CONTROL,	  /* 501 5.5.2: NUL, CR, LF, control char */
	ADDR_ERR_PATH_TOO_LONG,	  /* 501 5.5.2: over 256 octets */
	ADDR_ERR_BAD_DOMAIN,	  /* 501 5.1.7 / 5.1.3: label syntax */
	ADDR_ERR_DOMAIN_TOO_LONG, /* 501 5.1.7 / 5.1.3: label or name */
	ADDR_ERR_BAD_LITERAL,	 /* 501 5.1.7 / 5.1.3: [..] not an IP address */
	ADDR_ERR_NON_ASCII,	 /* 553 5.6.7: 8-bit without SMTPUTF8 */
	ADDR_ERR_BAD_UTF8,	 /* 501 5.6.7: invalid UTF-8 */
	ADDR_ERR_PARAM_SYNTAX,	 /* 555 5.5.4: keyword or value syntax */
	ADDR_ERR_PARAM_TOO_MANY, /* 555 5.5.4: over limits->max_params */
	ADDR_ERR_PARAM_TOO_LONG, /* 555 5.5.4: keyword or value too long */
	ADDR_ERR_PARAM_DUPLICATE, /* 555 5.5.4: a keyword given twice */
};

/* Which command the path came with (the reply codes differ, and "<>" and
 * "<Postmaster>" are only valid in one each). */
enum addr_path_kind {
	ADDR_PATH_MAIL,
	ADDR_PATH_RCPT,
};

/* Flags on a parsed address. Informational ones describe the form; the
 * ones in ADDR_F_RELAY_SCRUTINY mark forms that some mail software
 * interprets as routing or that imitate another destination. */
enum addr_flag {
	ADDR_F_NULL = 1u << 0,		 /* the null path <> */
	ADDR_F_POSTMASTER = 1u << 1,	 /* <Postmaster> without a domain */
	ADDR_F_UNQUALIFIED = 1u << 2,	 /* no domain (see above) */
	ADDR_F_QUOTED = 1u << 3,	 /* canonical local part needs quotes */
	ADDR_F_LOCAL_LONG = 1u << 4,	 /* local part over 64 octets */
	ADDR_F_UTF8_LOCAL = 1u << 5,	 /* non-ASCII local part */
	ADDR_F_UTF8_DOMAIN = 1u << 6,	 /* non-ASCII domain (U-labels) */
	ADDR_F_ACE_DOMAIN = 1u << 7,	 /* an "xn--" label: IDN in ASCII */
	ADDR_F_IP_LITERAL = 1u << 8,	 /* [192.0.2.1] or [IPv6:...] */
	ADDR_F_NUMERIC_DOMAIN = 1u << 9, /* top label all digits: a bare IP */
	ADDR_F_TRAILING_DOT = 1u << 10,	 /* "d.example." normalised */
	ADDR_F_SOURCE_ROUTE = 1u << 11,	 /* "@a,@b:" dropped */
	ADDR_F_PERCENT = 1u << 12,	 /* '%' in the local part */
	ADDR_F_BANG = 1u << 13,		 /* '!' in the local part */
	ADDR_F_LOCAL_AT = 1u << 14,	 /* '@' in the (quoted) local part */
};

/* Forms that must never be accepted for relaying on the strength of their
 * domain alone. Policy code: an address with any of these flags is refused
 * for relay unless the client is authorized to relay anyway (mynetworks,
 * SASL); for final delivery to one of our own domains it may be accepted,
 * and the local part is then looked up verbatim, never re-split on '%',
 * '!' or '@'. Use addr_needs_relay_scrutiny() rather than the mask. */
#define ADDR_F_RELAY_SCRUTINY                                                  \
	(ADDR_F_UNQUALIFIED | ADDR_F_QUOTED | ADDR_F_UTF8_DOMAIN |             \
	 ADDR_F_ACE_DOMAIN | ADDR_F_IP_LITERAL | ADDR_F_NUMERIC_DOMAIN |       \
	 ADDR_F_SOURCE_ROUTE | ADDR_F_PERCENT | ADDR_F_BANG | ADDR_F_LOCAL_AT)

/* Parse options. */
enum addr_parse_flag {
	/* SMTPUTF8 is in effect (for RCPT: the transaction's MAIL had it;
	 * MAIL sees its own SMTPUTF8 parameter without this flag). */
	ADDR_PARSE_SMTPUTF8 = 1u << 0,
	/* Accept a mailbox without "@domain" (sendmail command line, local
	 * submission; never SMTP); the caller must qualify it. */
	ADDR_PARSE_UNQUALIFIED_OK = 1u << 1,
};

struct addr {
	unsigned flags; /* enum addr_flag bits */
	/* The local part as the mailbox owner sees it: quotes and
	 * quoted-pairs removed, case kept; may hold SP, '@', '"' (never a
	 * control character). Empty only for <> (and for ""@d). */
	struct str local;
	/* THE routing domain: lower-cased, no trailing dot, "[192.0.2.1]" or
	 * "[IPv6:2001:db8::1]" for literals; empty for <> and unqualified. */
	struct str domain;
	/* Printable canonical form "local@domain" (local part quoted only
	 * when it must be); "" for <>, the local part alone when
	 * unqualified. Use it in logs, headers and table lookups. */
	struct str canon;
};

#define ADDR_MAX_PARAMS 16 /* hard cap on addr_limits.max_params */

struct addr_param {
	char *keyword; /* upper-cased: ALPHA / DIGIT, then also "-" */
	char *value;   /* as sent (xtext is NOT decoded); NULL if no "=" */
};

struct addr_limits {
	unsigned max_params; /* per command, <= ADDR_MAX_PARAMS */
	size_t max_keyword;  /* octets in a keyword */
	size_t max_value;    /* octets in a value (RFC 3461: ORCPT <= 500) */
};
#define ADDR_DEFAULT_MAX_PARAMS 10
#define ADDR_DEFAULT_MAX_KEYWORD 32
#define ADDR_DEFAULT_MAX_VALUE 500

struct addr_path {
	struct addr addr;
	unsigned nparams;
	struct addr_param params[ADDR_MAX_PARAMS];
};

/* Embedded use: init before the first parse, deinit when done. A struct
 * may be parsed into again: the old content is replaced. */
void addr_init(struct addr *a);
void addr_deinit(struct addr *a);
void addr_path_init(struct addr_path *p);
void addr_path_deinit(struct addr_path *p);

/* Parses a bare mailbox "local@domain" (no brackets, route or
 * parameters) of len octets with parse_flags (enum addr_parse_flag).
 * Returns 1, or -1 with *error_r set and a cleared. */
int addr_parse(const char *s, size_t len, unsigned parse_flags, struct addr *a,
	       enum addr_error *error_r);

/* Parses what follows "MAIL FROM:" or "RCPT TO:" (up to, not including,
 * the CRLF): the path, then ESMTP parameters separated by spaces, each
 * KEYWORD or KEYWORD=VALUE (value: printable ASCII except '=', plus UTF-8
 * under SMTPUTF8). limits NULL = the defaults. A keyword may appear once.
 * Address errors are reported before parameter errors. Returns 1, or -1
 * with *error_r set and p cleared. Unknown keywords are not an error here:
 * the server decides what it supports (555 5.5.4 too). */
int addr_path_parse(const char *s, size_t len, enum addr_path_kind kind,
		    unsigned parse_flags, const struct addr_limits *limits,
		    struct addr_path *p, enum addr_error *error_r);
/* The parameter with keyword (compared case-insensitively), or NULL. */
const struct addr_param *addr_path_param(const struct addr_path *p,
					 const char *keyword);

/* True when a has any ADDR_F_RELAY_SCRUTINY flag: see there for what
 * policy code must do. */
bool addr_needs_relay_scrutiny(const struct addr *a);
/* A short reason for logs and replies ("percent hack in local part"), or
 * NULL when addr_needs_relay_scrutiny() is false. Static text. */
const char *addr_relay_scrutiny_reason(const struct addr *a);

/* Reply for err to a MAIL or RCPT command: returns the code (501, 553,
 * 555) and sets *status_r to the enhanced status ("5.1.3"); the text
 * ("Bad recipient address syntax") comes from addr_error_text(). Static
 * strings. */
int addr_error_reply(enum addr_error err, enum addr_path_kind kind,
		     const char **status_r);
const char *addr_error_text(enum addr_error err, enum addr_path_kind kind);

/* Appends local (len octets, decoded, free of control characters as
 * struct addr.local always is) to out as a local part: bare when it is a
 * dot-string, else quoted with '"' and '\' escaped. Returns true when
 * quotes were needed. For building addresses from parts (alias
 * expansion); the result parses back to the same local part. */
bool addr_append_local(struct str *out, const char *local, size_t len);

/* RFC 3461 xtext (ENVID, ORCPT values). Decode appends to out: "+XX" with
 * two hex digits (upper case per RFC; lower case tolerated) is one octet;
 * '+' otherwise, '=', SP, controls and 8-bit octets are errors, and so is a
 * decoded control character (it would reach line-based formats). Returns 1,
 * or -1 with *error_r (static text); out may then hold part of the result.
 * Encode appends, escaping '+', '=' and everything outside '!'..'~'. */
int addr_xtext_decode(const char *s, size_t len, struct str *out,
		      const char **error_r);
void addr_xtext_encode(const char *s, size_t len, struct str *out);

/* True when s[0..len) is strict UTF-8: shortest forms only, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. ASCII (and NUL) is valid. */
bool addr_utf8_valid(const char *s, size_t len);

#endif
