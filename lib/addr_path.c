/* addr_path.c: SMTP paths as they follow "MAIL FROM:" and "RCPT TO:"
 * (brackets, null path, source routes), their ESMTP parameters, and RFC
 * 3461 xtext (see addr.h). The mailbox inside the brackets is handed to
 * addr.c, so a path and a bare mailbox share one parser. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "addr_internal.h"
#include "mem.h"

static const struct addr_limits default_limits = {
    ADDR_DEFAULT_MAX_PARAMS, ADDR_DEFAULT_MAX_KEYWORD, ADDR_DEFAULT_MAX_VALUE};

void addr_path_init(struct addr_path *p)
{
	addr_init(&p->addr);
	p->nparams = 0;
	memset(p->params, 0, sizeof(p->params));
}

static void params_clear(struct addr_path *p)
{
	for (unsigned i = 0; i < p->nparams; i++) {
		mem_free(p->params[i].keyword);
		mem_free(p->params[i].value);
	}
	p->nparams = 0;
}

void addr_path_deinit(struct addr_path *p)
{
	params_clear(p);
	addr_deinit(&p->addr);
}

const struct addr_param *addr_path_param(const struct addr_path *p,
					 const char *keyword)
{
	for (unsigned i = 0; i < p->nparams; i++)
		if (strcasecmp(p->params[i].keyword, keyword) == 0)
			return &p->params[i];
	return NULL;
}

/* ---- parameters */

static bool is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* RFC 5321 esmtp-value: %d33-60 / %d62-126; RFC 6531 adds UTF-8, which
 * addr_scan_octets() allows only under SMTPUTF8. */
static bool is_value_char(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c >= 0x80;
}

/* Checks one "KEYWORD[=VALUE]" token and adds it to p. */
static enum addr_error param_add(const char *s, size_t len,
				 const struct addr_limits *lim,
				 struct addr_path *p)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - s) : len;
	struct addr_param *param;

	if (p->nparams >= lim->max_params)
		return ADDR_ERR_PARAM_TOO_MANY;
	if (klen == 0 || !is_let_dig((unsigned char)s[0]))
		return ADDR_ERR_PARAM_SYNTAX;
	for (size_t i = 1; i < klen; i++)
		if (!is_let_dig((unsigned char)s[i]) && s[i] != '-')
			return ADDR_ERR_PARAM_SYNTAX;
	if (eq != NULL) {
		if (klen + 1 == len)
			return ADDR_ERR_PARAM_SYNTAX; /* "KEY=" */
		for (size_t i = klen + 1; i < len; i++)
			if (!is_value_char((unsigned char)s[i]))
				return ADDR_ERR_PARAM_SYNTAX;
		if (len - klen - 1 > lim->max_value)
			return ADDR_ERR_PARAM_TOO_LONG;
	}
	if (klen > lim->max_keyword)
		return ADDR_ERR_PARAM_TOO_LONG;
	for (unsigned i = 0; i < p->nparams; i++)
		if (strlen(p->params[i].keyword) == klen &&
		    strncasecmp(p->params[i].keyword, s, klen) == 0)
			return ADDR_ERR_PARAM_DUPLICATE;
	param = &p->params[p->nparams++];
	param->keyword = mem_strndup(s, klen);
	for (char *k = param->keyword; *k != '\0'; k++)
		if (*k >= 'a' && *k <= 'z')
			*k = (char)(*k - 'a' + 'A');
	if (eq != NULL)
		param->value = mem_strndup(eq + 1, len - klen - 1);
	return ADDR_ERR_NONE;
}

/* Parses what follows the closing '>': nothing, or SP and parameters
 * separated by one or more SP (trailing SP tolerated). */
static enum addr_error params_parse(const char *s, size_t len,
				    const struct addr_limits *lim,
				    struct addr_path *p)
{
	size_t i = 0;

	if (len == 0)
		return ADDR_ERR_NONE;
	if (s[0] != ' ')
		return ADDR_ERR_SYNTAX; /* "<a@b>junk" */
	while (i < len) {
		const char *sp;
		size_t end;
		enum addr_error e;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		sp = memchr(s + i, ' ', len - i);
		end = sp != NULL ? (size_t)(sp - s) : len;
		e = param_add(s + i, end - i, lim, p);
		if (e != ADDR_ERR_NONE)
			return e;
		i = end;
	}
	return ADDR_ERR_NONE;
}

/* ---- paths */

/* Index of the '>' that closes the path opened at s[0] == '<', skipping
 * quoted strings (a quoted local part may hold '>'), or SIZE_MAX. */
static size_t path_end(const char *s, size_t len)
{
	bool quoted = false;

	for (size_t i = 1; i < len; i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '>')
			return i;
	}
	return SIZE_MAX;
}

/* Checks a source route "@a,@b:" at s[0] == '@'; *pos_r is set past the
 * ':'. The route domains are checked but not kept. */
static enum addr_error route_parse(const char *s, size_t len, bool utf8,
				   size_t *pos_r)
{
	size_t i = 0;

	while (i < len && s[i] == '@') {
		const char *start = s + i + 1;
		size_t rest = len - i - 1, dlen;
		const char *end;
		unsigned ignored = 0;
		enum addr_error e;

		/* a literal may hold ':' (IPv6), so it ends at its ']' */
		if (rest > 0 && start[0] == '[') {
			end = memchr(start, ']', rest);
			end = end != NULL ? end + 1 : start + rest;
		} else {
			end = start;
			while (end < start + rest && *end != ',' && *end != ':')
				end++;
		}
		dlen = (size_t)(end - start);
		e = addr_check_domain(start, dlen, utf8, NULL, &ignored);
		if (e != ADDR_ERR_NONE)
			return e;
		i += 1 + dlen;
		if (i < len && s[i] == ':') {
			*pos_r = i + 1;
			return ADDR_ERR_NONE;
		}
		if (i == len || s[i] != ',')
			return ADDR_ERR_SYNTAX;
		i++;
	}
	return ADDR_ERR_SYNTAX;
}

/* Parses the inside of "<...>" into a. */
static enum addr_error path_inner(const char *s, size_t len, unsigned pflags,
				  enum addr_path_kind kind, struct addr *a)
{
	size_t pos = 0;

	if (len == 0) {
		if (kind == ADDR_PATH_RCPT)
			return ADDR_ERR_NULL_RCPT;
		a->flags |= ADDR_F_NULL;
		return ADDR_ERR_NONE;
	}
	if (s[0] == '@') {
		enum addr_error e = route_parse(
		    s, len, (pflags & ADDR_PARSE_SMTPUTF8) != 0, &pos);

		if (e != ADDR_ERR_NONE)
			return e;
		a->flags |= ADDR_F_SOURCE_ROUTE;
	}
	return addr_parse_mailbox(s + pos, len - pos, pflags,
				  kind == ADDR_PATH_RCPT, a);
}

static struct addr_limits limits_get(const struct addr_limits *lim)
{
	struct addr_limits l = lim != NULL ? *lim : default_limits;

	if (l.max_params > ADDR_MAX_PARAMS)
		l.max_params = ADDR_MAX_PARAMS;
	return l;
}

/* Finds the path, parses the parameters (they decide SMTPUTF8 for MAIL),
 * checks all octets, then the path; an address error wins over a
 * parameter error. */
static enum addr_error path_parse(const char *s, size_t len,
				  enum addr_path_kind kind, unsigned pflags,
				  const struct addr_limits *lim,
				  struct addr_path *p)
{
	enum addr_error e, param_e;
	size_t start = 0, end;

	e = addr_scan_octets(s, len, true);
	if (e == ADDR_ERR_CONTROL)
		return e;
	while (start < len && s[start] == ' ')
		start++;
	if (start == len)
		return ADDR_ERR_SYNTAX;
	if (s[start] != '<')
		return ADDR_ERR_NO_BRACKETS;
	end = path_end(s + start, len - start);
	if (end == SIZE_MAX)
		return ADDR_ERR_SYNTAX;
	end += start;
	param_e = params_parse(s + end + 1, len - end - 1, lim, p);
	if (kind == ADDR_PATH_MAIL && addr_path_param(p, "SMTPUTF8") != NULL)
		pflags |= ADDR_PARSE_SMTPUTF8;
	e = addr_scan_octets(s, len, (pflags & ADDR_PARSE_SMTPUTF8) != 0);
	if (e != ADDR_ERR_NONE)
		return e;
	if (end - start + 1 > ADDR_MAX_PATH)
		return ADDR_ERR_PATH_TOO_LONG;
	e = path_inner(s + start + 1, end - start - 1, pflags, kind, &p->addr);
	return e != ADDR_ERR_NONE ? e : param_e;
}

int addr_path_parse(const char *s, size_t len, enum addr_path_kind kind,
		    unsigned parse_flags, const struct addr_limits *limits,
		    struct addr_path *p, enum addr_error *error_r)
{
	struct addr_limits lim = limits_get(limits);
	enum addr_error e;

	params_clear(p);
	addr_clear(&p->addr);
	e = path_parse(s, len, kind, parse_flags, &lim, p);
	*error_r = e;
	if (e != ADDR_ERR_NONE) {
		params_clear(p);
		addr_clear(&p->addr);
		return -1;
	}
	return 1;
}

/* ---- xtext */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int addr_xtext_decode(const char *s, size_t len, struct str *out,
		      const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			int hi = len - i >= 3 ? hex_value(s[i + 1]) : -1;
			int lo = len - i >= 3 ? hex_value(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				*error_r = "bad '+' escape in xtext";
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c < 0x20 || c == 0x7f) {
				*error_r = "control character in xtext";
				return -1;
			}
		} else if (c < '!' || c > '~' || c == '=') {
			*error_r = "invalid character in xtext";
			return -1;
		}
		str_putc(out, c);
	}
	return 1;
}

void addr_xtext_encode(const char *s, size_t len, struct str *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < '!' || c > '~' || c == '+' || c == '=')
			str_printf(out, "+%02X", c);
		else
			str_putc(out, c);
	}
}
