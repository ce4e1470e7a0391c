/* mime_param.c: Content-Type and Content-Disposition values (RFC 2045
 * 5.1, RFC 2183) with RFC 2231 parameter continuations and charsets,
 * for the parser in mime.c. Lenient: comments and whitespace anywhere,
 * garbage between parameters skipped, unquoted values read up to ';'. */
#include "config.h"

#include <string.h>

#include "mail_text.h"
#include "mem.h"
#include "mime_int.h"

#define MAX_PARAMS 64
#define MAX_SECTIONS 100
#define COMMENT_DEPTH_MAX 32

struct cursor {
	const char *s;
	size_t len, i;
};

/* A parameter as written; RFC 2231 names are taken apart. */
struct raw_param {
	char *name; /* lower-case */
	char *value;
	size_t value_len;
	size_t base_len; /* name length without the RFC 2231 suffix */
	int section;	 /* -1: none */
	bool extended;	 /* name has an RFC 2231 suffix */
	bool encoded;	 /* charset'lang'%XX form */
	bool used;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_cfws(struct cursor *k)
{
	unsigned depth = 0;

	while (k->i < k->len) {
		char c = k->s[k->i];

		if (depth > 0 && c == '\\') {
			k->i += k->i + 1 < k->len ? 2 : 1;
			continue;
		}
		if (c == '(')
			depth = depth < COMMENT_DEPTH_MAX ? depth + 1 : depth;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !is_ws(c))
			return;
		k->i++;
	}
}

static bool is_token_char(char c)
{
	return (unsigned char)c > ' ' && c != 0x7f &&
	       strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static size_t read_token(struct cursor *k, const char **start_r)
{
	size_t start = k->i;

	while (k->i < k->len && is_token_char(k->s[k->i]))
		k->i++;
	*start_r = k->s + start;
	return k->i - start;
}

static char *lower_dup(struct mime_message *m, const char *s, size_t n)
{
	char *p = mime_strndup(m, s, n);

	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] - 'A' + 'a');
	return p;
}

/* A quoted string (at '"') or an unquoted value (up to ';' or space). */
static void read_value(struct cursor *k, struct str *out)
{
	if (k->i < k->len && k->s[k->i] == '"') {
		for (k->i++; k->i < k->len && k->s[k->i] != '"'; k->i++) {
			if (k->s[k->i] == '\\' && k->i + 1 < k->len)
				k->i++;
			str_putc(out, k->s[k->i]);
		}
		if (k->i < k->len)
			k->i++;
		return;
	}
	while (k->i < k->len && k->s[k->i] != ';' && !is_ws(k->s[k->i]))
		str_putc(out, k->s[k->i++]);
}

/* "name*", "name*3" or "name*3*": the RFC 2231 parts of raw->name. */
static void split_2231(struct raw_param *p)
{
	char *star = strchr(p->name, '*'), *s;
	long n = 0;

	p->base_len = strlen(p->name);
	p->section = -1;
	if (star == NULL || star == p->name)
		return;
	s = star + 1;
	if (*s >= '0' && *s <= '9') {
		for (; *s >= '0' && *s <= '9' && n <= MAX_SECTIONS; s++)
			n = n * 10 + (*s - '0');
		if (n > MAX_SECTIONS || (s - star > 2 && star[1] == '0'))
			return; /* too many sections or a leading zero */
		p->section = (int)n;
		if (*s == '*') {
			p->encoded = true;
			s++;
		}
	} else {
		p->encoded = true; /* "name*": encoded, in one piece */
	}
	if (*s != '\0') {
		p->section = -1;
		p->encoded = false;
		return; /* not RFC 2231 after all: keep the name as it is */
	}
	p->extended = true;
	p->base_len = (size_t)(star - p->name);
}

static size_t parse_params(struct mime_message *m, struct cursor *k,
			   struct raw_param *raw)
{
	struct str v;
	const char *name;
	size_t n, count = 0;

	str_init(&v, 64);
	while (count < MAX_PARAMS) {
		skip_cfws(k);
		while (k->i < k->len && k->s[k->i] != ';')
			k->i++; /* garbage before the next parameter */
		if (k->i >= k->len)
			break;
		k->i++;
		skip_cfws(k);
		n = read_token(k, &name);
		skip_cfws(k);
		if (n == 0 || k->i >= k->len || k->s[k->i] != '=')
			continue;
		k->i++;
		skip_cfws(k);
		str_clear(&v);
		read_value(k, &v);
		memset(&raw[count], 0, sizeof(raw[count]));
		raw[count].name = lower_dup(m, name, n);
		raw[count].value = mime_strndup(m, v.data, v.len);
		raw[count].value_len = v.len;
		split_2231(&raw[count++]);
	}
	str_deinit(&v);
	return count;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void percent_decode(const char *s, size_t len, struct str *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = hex_digit(s[i + 1])) >= 0 &&
		    (lo = hex_digit(s[i + 2])) >= 0) {
			str_putc(out, hi * 16 + lo);
			i += 2;
		} else {
			str_putc(out, s[i]);
		}
	}
}

/* Joins the sections of the RFC 2231 parameter raw[first] (0, 1, 2... up
 * to the first gap) and converts the result to UTF-8. */
static char *merge_2231(struct mime_message *m, struct raw_param *raw,
			size_t count, size_t first)
{
	struct str bytes, utf8;
	char charset[65] = "";
	bool any_encoded = false;
	char *result;

	str_init(&bytes, 64);
	str_init(&utf8, 64);
	for (int sec = 0; sec <= MAX_SECTIONS; sec++) {
		struct raw_param *p = NULL;

		for (size_t j = first; j < count && p == NULL; j++)
			if (raw[j].extended && !raw[j].used &&
			    raw[j].base_len == raw[first].base_len &&
			    memcmp(raw[j].name, raw[first].name,
				   raw[j].base_len) == 0 &&
			    (raw[j].section == sec ||
			     (raw[j].section < 0 && sec == 0)))
				p = &raw[j];
		if (p == NULL)
			break;
		p->used = true;
		if (!p->encoded) {
			str_append(&bytes, p->value, p->value_len);
			continue;
		}
		const char *v = p->value, *q1, *q2;
		size_t vlen = p->value_len;

		if (sec == 0 && (q1 = memchr(v, '\'', vlen)) != NULL &&
		    (q2 = memchr(q1 + 1, '\'', vlen - (size_t)(q1 + 1 - v))) !=
			NULL) {
			if ((size_t)(q1 - v) < sizeof(charset))
				memcpy(charset, v, (size_t)(q1 - v));
			vlen -= (size_t)(q2 + 1 - v);
			v = q2 + 1;
		}
		percent_decode(v, vlen, &bytes);
		any_encoded = true;
	}
	if (any_encoded)
		mail_text_to_utf8(charset, bytes.data, bytes.len, &utf8);
	else
		str_append(&utf8, bytes.data, bytes.len);
	result = mime_strndup(m, utf8.data, utf8.len);
	str_deinit(&bytes);
	str_deinit(&utf8);
	return result;
}

static bool has_extended(const struct raw_param *raw, size_t count,
			 const char *name)
{
	size_t n = strlen(name);

	for (size_t j = 0; j < count; j++)
		if (raw[j].extended && raw[j].base_len == n &&
		    memcmp(raw[j].name, name, n) == 0)
			return true;
	return false;
}

/* Plain parameters as they are; RFC 2231 ones merged into their base
 * name (which wins over a plain parameter of that name), each at the
 * place of its first section. */
static void build_params(struct mime_message *m, struct raw_param *raw,
			 size_t count, struct mime_value *v)
{
	v->params = mime_alloc(m, size_mul(count + 1, sizeof(*v->params)));
	v->param_count = 0;
	for (size_t i = 0; i < count; i++) {
		struct mime_param *out = &v->params[v->param_count];

		if (raw[i].used)
			continue;
		if (!raw[i].extended) {
			if (has_extended(raw, count, raw[i].name))
				continue;
			out->name = raw[i].name;
			out->value = raw[i].value;
		} else {
			raw[i].name[raw[i].base_len] = '\0';
			out->value = merge_2231(m, raw, count, i);
			out->name = raw[i].name;
			for (size_t j = i; j < count; j++)
				if (raw[j].extended &&
				    raw[j].base_len == raw[i].base_len &&
				    memcmp(raw[j].name, raw[i].name,
					   raw[i].base_len) == 0)
					raw[j].used = true;
		}
		v->param_count++;
	}
}

int mime_value_parse(struct mime_message *m, const char *s, size_t len,
		     bool want_subtype, struct mime_value *v)
{
	struct cursor k = {s, len, 0};
	struct raw_param *raw;
	const char *t;
	size_t n, count;

	memset(v, 0, sizeof(*v));
	skip_cfws(&k);
	if ((n = read_token(&k, &t)) == 0)
		return 0;
	v->type = lower_dup(m, t, n);
	if (want_subtype) {
		skip_cfws(&k);
		if (k.i >= k.len || k.s[k.i] != '/')
			return 0;
		k.i++;
		skip_cfws(&k);
		if ((n = read_token(&k, &t)) == 0)
			return 0;
		v->subtype = lower_dup(m, t, n);
	}
	raw = mem_calloc(MAX_PARAMS, sizeof(*raw));
	count = parse_params(m, &k, raw);
	build_params(m, raw, count, v);
	mem_free(raw);
	return 1;
}
