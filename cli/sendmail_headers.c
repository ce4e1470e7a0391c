/* sendmail_headers.c: recipients from To:/Cc:/Bcc: for sendmail -t, Bcc:
 * removal, and qualifying addresses with $myorigin (sendmail_headers.h).
 * Only sendmail runs this, as the calling user; postdrop and pickup check
 * the results again. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "sendmail_headers.h"

static char sh_errbuf[256];

int sendmail_qualify(const char *s, size_t len, const char *origin,
		     bool allow_null, struct str *out, const char **error_r)
{
	struct addr a;
	enum addr_error err;

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len == 0) {
		if (allow_null)
			return 1;
		*error_r = "empty address";
		return -1;
	}
	addr_init(&a);
	if (addr_parse(s, len, ADDR_PARSE_UNQUALIFIED_OK | ADDR_PARSE_SMTPUTF8,
		       &a, &err) < 0) {
		addr_deinit(&a);
		*error_r = addr_error_text(err, ADDR_PATH_RCPT);
		return -1;
	}
	str_append(out, a.canon.data, a.canon.len);
	if (a.domain.len == 0 && !(a.flags & ADDR_F_NULL)) {
		str_putc(out, '@');
		str_append_cstr(out, origin);
	}
	addr_deinit(&a);
	return 1;
}

/* One element of a list: the text inside <...> when there is one, else the
 * text without comments and unquoted blanks. */
static int list_element(const char *s, size_t len, const char *origin,
			struct drop_envelope *env, const char **error_r)
{
	struct str bare, q;
	int depth = 0, ret = 0;
	bool quoted = false, angle = false, had_angle = false;

	str_init(&bare, len + 1);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (quoted) {
			if (c == '\\' && i + 1 < len)
				c = s[++i];
			else if (c == '"')
				quoted = false;
			if (!had_angle || angle)
				str_putc(&bare, c);
			continue;
		}
		if (depth > 0) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '(') {
			depth = 1;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<' && !angle) {
			angle = had_angle = true;
			str_clear(&bare);
		} else if (c == '>' && angle) {
			angle = false;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
			   (!had_angle || angle)) {
			str_putc(&bare, c);
		}
	}
	if (quoted || depth > 0 || angle) {
		*error_r = "unterminated quote, comment or <address>";
		ret = -1;
	} else if (bare.len > 0 || had_angle) {
		str_init(&q, 0);
		ret = sendmail_qualify(bare.data, bare.len, origin, false, &q,
				       error_r);
		if (ret > 0)
			drop_envelope_add_rcpt(env, q.data);
		str_deinit(&q);
	}
	str_deinit(&bare);
	return ret;
}

int sendmail_address_list(const char *value, size_t len, const char *origin,
			  struct drop_envelope *env, const char **error_r)
{
	size_t start = 0;
	int depth = 0, count = 0;
	bool quoted = false, angle = false;

	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? value[i] : ',';
		int r;

		if (quoted) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quoted = false;
			if (i < len)
				continue;
			c = ',';
		} else if (depth > 0) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			if (i < len)
				continue;
			c = ',';
		}
		if (c == '"')
			quoted = true;
		else if (c == '(')
			depth = 1;
		else if (c == '<')
			angle = true;
		else if (c == '>')
			angle = false;
		else if (c == ':' && !angle)
			start = i + 1; /* a group's display name */
		else if (((c == ',' || c == ';') && !angle) || i == len) {
			r = list_element(value + start, i - start, origin, env,
					 error_r);
			if (r < 0)
				return -1;
			count += r;
			if (count > SENDMAIL_HEADER_ADDRS_MAX) {
				*error_r = "too many addresses in one header";
				return -1;
			}
			start = i + 1;
		}
	}
	return count;
}

bool sendmail_is_header_start(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ':')
			return i > 0;
		if (c <= ' ' || c >= 0x7f)
			return false;
	}
	return false;
}

/* The field name's length (up to ':'). */
static size_t field_name_len(const char *f, size_t len)
{
	const char *colon = memchr(f, ':', len);
	return colon != NULL ? (size_t)(colon - f) : len;
}

static bool field_is(const char *f, size_t len, const char *name)
{
	size_t n = field_name_len(f, len);
	return n == strlen(name) && strncasecmp(f, name, n) == 0;
}

/* One whole field f[0..len), continuation lines included. */
static int scan_field(const char *f, size_t len, bool extract, bool remove_bcc,
		      const char *origin, struct drop_envelope *env,
		      struct str *kept, const char **error_r)
{
	bool bcc = field_is(f, len, "Bcc");
	size_t n = field_name_len(f, len);

	if (extract &&
	    (bcc || field_is(f, len, "To") || field_is(f, len, "Cc")) &&
	    n < len &&
	    sendmail_address_list(f + n + 1, len - n - 1, origin, env,
				  error_r) < 0) {
		snprintf(sh_errbuf, sizeof(sh_errbuf), "%.*s: header: %s",
			 (int)(n > 32 ? 32 : n), f, *error_r);
		*error_r = sh_errbuf;
		return -1;
	}
	if (!(bcc && remove_bcc))
		str_append(kept, f, len);
	return 1;
}

int sendmail_header_scan(const char *head, size_t len, bool extract,
			 bool remove_bcc, const char *origin,
			 struct drop_envelope *env, struct str *kept,
			 const char **error_r)
{
	size_t start = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(head + pos, '\n', len - pos);
		size_t next = nl != NULL ? (size_t)(nl - head) + 1 : len;

		/* A line that does not start with a blank begins a field. */
		if (pos > start && head[pos] != ' ' && head[pos] != '\t') {
			if (scan_field(head + start, pos - start, extract,
				       remove_bcc, origin, env, kept,
				       error_r) < 0)
				return -1;
			start = pos;
		}
		pos = next;
	}
	if (pos > start)
		return scan_field(head + start, pos - start, extract,
				  remove_bcc, origin, env, kept, error_r);
	return 1;
}
