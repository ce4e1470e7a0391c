/* addr.c: mailbox and domain parsing, the canonical form, relay flags and
 * error replies (see addr.h; paths and ESMTP parameters are in
 * addr_path.c). Everything here works on (pointer, length) input whose
 * octets addr_scan_octets() has already checked, so the parsers below only
 * meet printable ASCII and valid UTF-8. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "addr_internal.h"

#define ADDR_MAX_LOCAL 64    /* RFC 5321 4.5.3.1.1 (flagged, not refused) */
#define ADDR_MAX_DOMAIN 255  /* RFC 5321 4.5.3.1.2 */
#define ADDR_MAX_LABEL 63    /* RFC 1035 */
#define ADDR_MAX_MAILBOX 254 /* the path limit minus the brackets */

/* ---- octets and UTF-8 */

/* Decodes the strict UTF-8 sequence at s; returns its length (1..4) with
 * *cp_r, or 0 when it is invalid or cut short. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1fu, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0; /* a continuation, overlong or too large lead */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

bool addr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(u + i, len - i, &cp);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

enum addr_error addr_scan_octets(const char *s, size_t len, bool utf8_ok)
{
	const unsigned char *u = (const unsigned char *)s;
	bool eight = false;

	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return ADDR_ERR_CONTROL;
		eight |= u[i] >= 0x80;
	}
	if (!eight)
		return ADDR_ERR_NONE;
	if (!utf8_ok)
		return ADDR_ERR_NON_ASCII;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);

		if (n == 0)
			return ADDR_ERR_BAD_UTF8;
		if (cp >= 0x80 && cp <= 0x9f)
			return ADDR_ERR_CONTROL;
		i += n;
	}
	return ADDR_ERR_NONE;
}

/* ---- domains */

static bool is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* IDNA maps these full stops to '.', so a label holding one would become
 * two labels in software that applies IDNA: a look-alike of another
 * domain. U+3002, U+FF0E, U+FF61. */
static bool is_idna_dot(uint32_t cp)
{
	return cp == 0x3002 || cp == 0xff0e || cp == 0xff61;
}

/* Checks one label s[0..len); ORs flags for it. */
static enum addr_error check_label(const char *s, size_t len, bool utf8,
				   unsigned *flags_r, bool *numeric_r)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t points = 0;
	bool numeric = true;

	if (len == 0)
		return ADDR_ERR_BAD_DOMAIN;
	if (s[0] == '-' || s[len - 1] == '-')
		return ADDR_ERR_BAD_DOMAIN;
	for (size_t i = 0; i < len; points++) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);

		if (n == 0 || (n > 1 && (!utf8 || is_idna_dot(cp))))
			return ADDR_ERR_BAD_DOMAIN;
		if (n == 1 && !is_let_dig(u[i]) && u[i] != '-')
			return ADDR_ERR_BAD_DOMAIN;
		if (n > 1)
			*flags_r |= ADDR_F_UTF8_DOMAIN;
		numeric &= u[i] >= '0' && u[i] <= '9';
		i += n;
	}
	if (points > ADDR_MAX_LABEL)
		return ADDR_ERR_DOMAIN_TOO_LONG;
	if (len >= 4 && strncasecmp(s, "xn--", 4) == 0)
		*flags_r |= ADDR_F_ACE_DOMAIN;
	*numeric_r = numeric;
	return ADDR_ERR_NONE;
}

/* Checks dot-separated labels and appends them lower-cased. */
static enum addr_error check_names(const char *s, size_t len, bool utf8,
				   struct str *out, unsigned *flags_r)
{
	unsigned flags = 0;
	bool numeric = false;

	if (len > 1 && s[len - 1] == '.') {
		len--;
		flags |= ADDR_F_TRAILING_DOT;
	}
	if (len > ADDR_MAX_DOMAIN)
		return ADDR_ERR_DOMAIN_TOO_LONG;
	for (size_t start = 0; start <= len;) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t end = dot != NULL ? (size_t)(dot - s) : len;
		enum addr_error e =
		    check_label(s + start, end - start, utf8, &flags, &numeric);

		if (e != ADDR_ERR_NONE)
			return e;
		start = end + 1;
	}
	if (numeric)
		flags |= ADDR_F_NUMERIC_DOMAIN;
	if (out != NULL) {
		size_t at = out->len;

		str_append(out, s, len);
		for (size_t i = at; i < out->len; i++)
			if (out->data[i] >= 'A' && out->data[i] <= 'Z')
				out->data[i] = (char)(out->data[i] - 'A' + 'a');
	}
	*flags_r |= flags;
	return ADDR_ERR_NONE;
}

/* Checks "[IPv4]" or "[IPv6:...]" and appends it as inet_ntop() writes
 * it, so that one address has one spelling for tables and logs. */
static enum addr_error check_literal(const char *s, size_t len, struct str *out,
				     unsigned *flags_r)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN + 1];
	const char *in;
	size_t in_len;
	int af = AF_INET;

	if (len < 2 || s[len - 1] != ']')
		return ADDR_ERR_BAD_LITERAL;
	in = s + 1;
	in_len = len - 2;
	if (in_len > 5 && strncasecmp(in, "IPv6:", 5) == 0) {
		af = AF_INET6;
		in += 5;
		in_len -= 5;
	}
	if (in_len == 0 || in_len >= sizeof(text))
		return ADDR_ERR_BAD_LITERAL;
	memcpy(text, in, in_len);
	text[in_len] = '\0';
	if (inet_pton(af, text, bin) != 1 ||
	    inet_ntop(af, bin, text, sizeof(text)) == NULL)
		return ADDR_ERR_BAD_LITERAL;
	if (out != NULL)
		str_printf(out, "[%s%s]", af == AF_INET6 ? "IPv6:" : "", text);
	*flags_r |= ADDR_F_IP_LITERAL;
	return ADDR_ERR_NONE;
}

enum addr_error addr_check_domain(const char *s, size_t len, bool utf8,
				  struct str *out, unsigned *flags_r)
{
	if (len > 0 && s[0] == '[')
		return check_literal(s, len, out, flags_r);
	return check_names(s, len, utf8, out, flags_r);
}

/* ---- local parts */

static bool is_atext(unsigned char c, bool utf8)
{
	if (c >= 0x80)
		return utf8;
	return is_let_dig(c) ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 qtextSMTP: printable ASCII except '"' and '\' (SP included). */
static bool is_qtext(unsigned char c, bool utf8)
{
	if (c >= 0x80)
		return utf8;
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* True when s[0..len) is a dot-string: atoms joined by single dots. */
static bool is_dot_string(const char *s, size_t len, bool utf8)
{
	bool atom_started = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (!atom_started)
				return false;
			atom_started = false;
		} else if (is_atext((unsigned char)s[i], utf8)) {
			atom_started = true;
		} else {
			return false;
		}
	}
	return atom_started;
}

/* Parses a quoted-string at s[0] == '"', decoding it into local. */
static enum addr_error parse_quoted(const char *s, size_t len, size_t *pos_r,
				    bool utf8, struct str *local)
{
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"') {
			*pos_r = i + 1;
			return ADDR_ERR_NONE;
		}
		if (c == '\\') {
			/* quoted-pairSMTP: a backslash and printable ASCII */
			if (i + 1 == len || s[i + 1] < 32 || s[i + 1] > 126)
				return ADDR_ERR_SYNTAX;
			c = (unsigned char)s[++i];
		} else if (!is_qtext(c, utf8)) {
			return ADDR_ERR_SYNTAX;
		}
		str_putc(local, c);
	}
	return ADDR_ERR_SYNTAX; /* no closing quote */
}

/* Parses the local part at s: a quoted-string or the longest dot-string
 * prefix. Sets *pos_r past it. */
static enum addr_error parse_local(const char *s, size_t len, size_t *pos_r,
				   bool utf8, struct str *local)
{
	size_t i = 0;

	if (len > 0 && s[0] == '"')
		return parse_quoted(s, len, pos_r, utf8, local);
	while (i < len && (is_atext((unsigned char)s[i], utf8) || s[i] == '.'))
		i++;
	if (!is_dot_string(s, i, utf8))
		return ADDR_ERR_SYNTAX; /* empty, or a leading, trailing or
					   double dot */
	str_append(local, s, i);
	*pos_r = i;
	return ADDR_ERR_NONE;
}

bool addr_append_local(struct str *out, const char *local, size_t len)
{
	if (is_dot_string(local, len, true)) {
		str_append(out, local, len);
		return false;
	}
	str_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (local[i] == '"' || local[i] == '\\')
			str_putc(out, '\\');
		str_putc(out, local[i]);
	}
	str_putc(out, '"');
	return true;
}

/* Flags that describe the decoded local part. */
static unsigned local_flags(const struct str *local, size_t wire_len)
{
	unsigned flags = 0;

	for (size_t i = 0; i < local->len; i++) {
		unsigned char c = (unsigned char)local->data[i];

		if (c == '%')
			flags |= ADDR_F_PERCENT;
		else if (c == '!')
			flags |= ADDR_F_BANG;
		else if (c == '@')
			flags |= ADDR_F_LOCAL_AT;
		else if (c >= 0x80)
			flags |= ADDR_F_UTF8_LOCAL;
	}
	if (wire_len > ADDR_MAX_LOCAL)
		flags |= ADDR_F_LOCAL_LONG;
	return flags;
}

/* ---- mailboxes */

void addr_init(struct addr *a)
{
	a->flags = 0;
	str_init(&a->local, 0);
	str_init(&a->domain, 0);
	str_init(&a->canon, 0);
}

void addr_deinit(struct addr *a)
{
	str_deinit(&a->local);
	str_deinit(&a->domain);
	str_deinit(&a->canon);
	a->flags = 0;
}

void addr_clear(struct addr *a)
{
	a->flags = 0;
	str_clear(&a->local);
	str_clear(&a->domain);
	str_clear(&a->canon);
}

/* A mailbox that ended after its local part. */
static enum addr_error unqualified(unsigned pflags, bool rcpt, struct addr *a)
{
	if (rcpt && a->local.len == 10 &&
	    strncasecmp(a->local.data, "postmaster", 10) == 0)
		a->flags |= ADDR_F_POSTMASTER | ADDR_F_UNQUALIFIED;
	else if (pflags & ADDR_PARSE_UNQUALIFIED_OK)
		a->flags |= ADDR_F_UNQUALIFIED;
	else
		return ADDR_ERR_UNQUALIFIED;
	return ADDR_ERR_NONE;
}

enum addr_error addr_parse_mailbox(const char *s, size_t len, unsigned pflags,
				   bool rcpt, struct addr *a)
{
	bool utf8 = (pflags & ADDR_PARSE_SMTPUTF8) != 0;
	size_t pos = 0;
	enum addr_error e = parse_local(s, len, &pos, utf8, &a->local);

	if (e != ADDR_ERR_NONE)
		return e;
	if (pos == len)
		e = unqualified(pflags, rcpt, a);
	else if (s[pos] != '@')
		e = ADDR_ERR_SYNTAX;
	else
		e = addr_check_domain(s + pos + 1, len - pos - 1, utf8,
				      &a->domain, &a->flags);
	if (e != ADDR_ERR_NONE)
		return e;
	a->flags |= local_flags(&a->local, pos);
	if (addr_append_local(&a->canon, a->local.data, a->local.len))
		a->flags |= ADDR_F_QUOTED;
	if (a->domain.len > 0) {
		str_putc(&a->canon, '@');
		str_append(&a->canon, a->domain.data, a->domain.len);
	}
	return ADDR_ERR_NONE;
}

int addr_parse(const char *s, size_t len, unsigned parse_flags, struct addr *a,
	       enum addr_error *error_r)
{
	enum addr_error e;

	addr_clear(a);
	e = addr_scan_octets(s, len, (parse_flags & ADDR_PARSE_SMTPUTF8) != 0);
	if (e == ADDR_ERR_NONE && len > ADDR_MAX_MAILBOX)
		e = ADDR_ERR_PATH_TOO_LONG;
	if (e == ADDR_ERR_NONE)
		e = addr_parse_mailbox(s, len, parse_flags, false, a);
	if (e != ADDR_ERR_NONE) {
		addr_clear(a);
		*error_r = e;
		return -1;
	}
	*error_r = ADDR_ERR_NONE;
	return 1;
}

/* ---- relay scrutiny and replies */

static const struct {
	unsigned flag;
	const char *reason;
} scrutiny_reasons[] = {
    {ADDR_F_SOURCE_ROUTE, "source route"},
    {ADDR_F_PERCENT, "percent hack in local part"},
    {ADDR_F_BANG, "bang path in local part"},
    {ADDR_F_LOCAL_AT, "'@' in local part"},
    {ADDR_F_QUOTED, "quoted local part"},
    {ADDR_F_UNQUALIFIED, "no domain"},
    {ADDR_F_IP_LITERAL, "address literal"},
    {ADDR_F_NUMERIC_DOMAIN, "numeric domain"},
    {ADDR_F_UTF8_DOMAIN, "non-ASCII domain"},
    {ADDR_F_ACE_DOMAIN, "IDN (xn--) domain"},
};

bool addr_needs_relay_scrutiny(const struct addr *a)
{
	return (a->flags & ADDR_F_RELAY_SCRUTINY) != 0;
}

const char *addr_relay_scrutiny_reason(const struct addr *a)
{
	for (size_t i = 0;
	     i < sizeof(scrutiny_reasons) / sizeof(scrutiny_reasons[0]); i++)
		if (a->flags & scrutiny_reasons[i].flag)
			return scrutiny_reasons[i].reason;
	return NULL;
}

/* code, status (0/NULL: the mailbox syntax status of the command), text
 * (NULL: the mailbox syntax text of the command). */
static const struct {
	int code;
	const char *status;
	const char *text;
} error_replies[] = {
    [ADDR_ERR_NONE] = {250, "2.1.0", "Ok"},
    [ADDR_ERR_SYNTAX] = {501, NULL, NULL},
    [ADDR_ERR_NO_BRACKETS] = {501, "5.5.4",
			      "Syntax: angle brackets required around the "
			      "address"},
    [ADDR_ERR_NULL_RCPT] = {501, "5.1.3", "Null recipient not allowed"},
    [ADDR_ERR_UNQUALIFIED] = {501, NULL, "Need fully-qualified address"},
    [ADDR_ERR_CONTROL] = {501, "5.5.2", "Control character in address"},
    [ADDR_ERR_PATH_TOO_LONG] = {501, "5.5.2", "Path too long"},
    [ADDR_ERR_BAD_DOMAIN] = {501, NULL, "Bad domain syntax"},
    [ADDR_ERR_DOMAIN_TOO_LONG] = {501, NULL, "Domain name too long"},
    [ADDR_ERR_BAD_LITERAL] = {501, NULL, "Bad address literal"},
    [ADDR_ERR_NON_ASCII] = {553, "5.6.7",
			    "Non-ASCII address requires SMTPUTF8"},
    [ADDR_ERR_BAD_UTF8] = {501, "5.6.7", "Invalid UTF-8 in address"},
    [ADDR_ERR_PARAM_SYNTAX] = {555, "5.5.4", "Bad parameter syntax"},
    [ADDR_ERR_PARAM_TOO_MANY] = {555, "5.5.4", "Too many parameters"},
    [ADDR_ERR_PARAM_TOO_LONG] = {555, "5.5.4", "Parameter too long"},
    [ADDR_ERR_PARAM_DUPLICATE] = {555, "5.5.4", "Duplicate parameter"},
};

int addr_error_reply(enum addr_error err, enum addr_path_kind kind,
		     const char **status_r)
{
	if ((size_t)err >= sizeof(error_replies) / sizeof(error_replies[0]))
		err = ADDR_ERR_SYNTAX;
	*status_r = error_replies[err].status;
	if (*status_r == NULL)
		*status_r = kind == ADDR_PATH_MAIL ? "5.1.7" : "5.1.3";
	return error_replies[err].code;
}

const char *addr_error_text(enum addr_error err, enum addr_path_kind kind)
{
	const char *text;

	if ((size_t)err >= sizeof(error_replies) / sizeof(error_replies[0]))
		err = ADDR_ERR_SYNTAX;
	text = error_replies[err].text;
	if (text == NULL)
		text = kind == ADDR_PATH_MAIL ? "Bad sender address syntax"
					      : "Bad recipient address syntax";
	return text;
}
