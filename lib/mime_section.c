/* mime_section.c: FETCH BODY[section] and BINARY[section] (RFC 9051
 * 6.4.5, RFC 3516) over a parsed message, and the header values and body
 * text that SEARCH looks at (see mime.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "mail_text.h"
#include "mem.h"
#include "mime.h"
#include "mime_int.h"

#define MAX_NUMBERS 100
#define MAX_NUMBER 1000000000u
#define MAX_FIELD_NAMES 1000

enum section_kind {
	SEC_BODY, /* "" or part numbers alone */
	SEC_HEADER,
	SEC_FIELDS,
	SEC_FIELDS_NOT,
	SEC_TEXT,
	SEC_MIME,
};

struct field_name {
	size_t offset, len; /* in section.names */
};

struct section {
	unsigned nums[MAX_NUMBERS];
	size_t count;
	enum section_kind kind;
	struct str names;
	struct field_name *fields;
	size_t field_count, field_cap;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_numbers(const char **sp, struct section *sec,
			 const char **error_r)
{
	const char *s = *sp;

	while (is_digit(*s)) {
		unsigned long n = 0;

		if (*s == '0') {
			*error_r = "Section part numbers start at 1";
			return -1;
		}
		for (; is_digit(*s); s++) {
			n = n * 10 + (unsigned long)(*s - '0');
			if (n > MAX_NUMBER) {
				*error_r = "Section part number too large";
				return -1;
			}
		}
		if (sec->count == MAX_NUMBERS) {
			*error_r = "Section nested too deeply";
			return -1;
		}
		sec->nums[sec->count++] = (unsigned)n;
		if (*s != '.') {
			if (*s == '\0')
				break;
			*error_r = "Bad section part number";
			return -1;
		}
		if (*++s == '\0') {
			*error_r = "Section ends with a dot";
			return -1;
		}
	}
	*sp = s;
	return 1;
}

static void push_field(struct section *sec, size_t at)
{
	if (sec->field_count == sec->field_cap) {
		sec->field_cap = sec->field_cap == 0 ? 16 : sec->field_cap * 2;
		sec->fields =
		    mem_realloc(sec->fields,
				size_mul(sec->field_cap, sizeof(*sec->fields)));
	}
	sec->fields[sec->field_count].offset = at;
	sec->fields[sec->field_count].len = sec->names.len - at;
	sec->field_count++;
}

static void add_field_name(struct section *sec, const char *s, size_t n)
{
	size_t at = sec->names.len;

	str_append(&sec->names, s, n);
	push_field(sec, at);
}

/* One astring of a header list: quoted, literal or atom. */
static int parse_astring(const char **sp, struct section *sec)
{
	const char *s = *sp, *start;
	unsigned long n = 0;
	size_t at = sec->names.len;

	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return -1;
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			str_putc(&sec->names, *s);
		}
		push_field(sec, at);
		*sp = s + 1;
		return 1;
	}
	if (*s == '{') {
		for (s++; is_digit(*s) && n <= MAX_NUMBER; s++)
			n = n * 10 + (unsigned long)(*s - '0');
		if (*s == '+')
			s++;
		if (*s != '}' || n > MAX_NUMBER)
			return -1;
		s += s[1] == '\r' && s[2] == '\n' ? 3 : s[1] == '\n' ? 2 : 0;
		if (s[-1] != '\n' || strnlen(s, n) < n)
			return -1;
		add_field_name(sec, s, n);
		*sp = s + n;
		return 1;
	}
	for (start = s; *s != '\0' && *s != ' ' && *s != ')' && *s != '(' &&
			*s != '"' && *s != '{' && (unsigned char)*s > ' ';
	     s++)
		;
	if (s == start)
		return -1;
	add_field_name(sec, start, (size_t)(s - start));
	*sp = s;
	return 1;
}

static int parse_header_list(const char *s, struct section *sec,
			     const char **error_r)
{
	*error_r = "Bad header list in section";
	while (*s == ' ')
		s++;
	if (*s++ != '(')
		return -1;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == ')')
			break;
		if (sec->field_count == MAX_FIELD_NAMES)
			return -1;
		if (parse_astring(&s, sec) < 0)
			return -1;
	}
	if (sec->field_count == 0 || s[1] != '\0')
		return -1;
	return 1;
}

static bool keyword(const char **sp, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(*sp, kw, n) != 0)
		return false;
	*sp += n;
	return true;
}

static int section_parse(const char *s, struct section *sec,
			 const char **error_r)
{
	memset(sec, 0, sizeof(*sec));
	str_init(&sec->names, 64);
	if (parse_numbers(&s, sec, error_r) < 0)
		return -1;
	sec->kind = SEC_BODY;
	if (*s == '\0')
		return 1;
	if (keyword(&s, "HEADER.FIELDS.NOT")) {
		sec->kind = SEC_FIELDS_NOT;
		return parse_header_list(s, sec, error_r);
	}
	if (keyword(&s, "HEADER.FIELDS")) {
		sec->kind = SEC_FIELDS;
		return parse_header_list(s, sec, error_r);
	}
	if (keyword(&s, "HEADER"))
		sec->kind = SEC_HEADER;
	else if (keyword(&s, "TEXT"))
		sec->kind = SEC_TEXT;
	else if (sec->count > 0 && keyword(&s, "MIME"))
		sec->kind = SEC_MIME;
	if (sec->kind == SEC_BODY || *s != '\0') {
		*error_r = "Unknown section";
		return -1;
	}
	return 1;
}

static void section_free(struct section *sec)
{
	str_deinit(&sec->names);
	mem_free(sec->fields);
}

const struct mime_part *mime_part_by_numbers(const struct mime_message *m,
					     const unsigned *nums, size_t count)
{
	const struct mime_part *node = m->root, *container;

	for (size_t i = 0; i < count; i++) {
		container = node;
		if (i > 0 && node->is_message)
			container = &node->children[0];
		else if (i > 0 && node->child_count == 0)
			return NULL; /* a leaf has no parts */
		if (container->child_count > 0 && !container->is_message) {
			if (nums[i] > container->child_count)
				return NULL;
			node = &container->children[nums[i] - 1];
		} else if (nums[i] == 1) {
			node = container; /* a single part is its own part 1 */
		} else {
			return NULL;
		}
	}
	return node;
}

static bool field_listed(const struct section *sec, const struct mime_field *f)
{
	for (size_t i = 0; i < sec->field_count; i++)
		if (sec->fields[i].len == f->name_len &&
		    strncasecmp(sec->names.data + sec->fields[i].offset,
				f->name, f->name_len) == 0)
			return true;
	return false;
}

static void header_fields(const struct mime_message *m,
			  const struct mime_part *p, const struct section *sec,
			  struct str *out)
{
	const char *hdr = m->data + p->header_offset;
	struct mime_field f;
	size_t pos = 0;

	while (mime_field_next(hdr, p->header_size, &pos, &f))
		if (field_listed(sec, &f) == (sec->kind == SEC_FIELDS))
			str_append(out, f.raw, f.raw_len);
	str_append(out, "\r\n", 2);
}

/* The byte range (2) or the copied fields (1) a parsed section names. */
static int section_result(const struct mime_message *m,
			  const struct section *sec, struct str *out,
			  size_t *offset_r, size_t *size_r)
{
	const struct mime_part *p =
	    mime_part_by_numbers(m, sec->nums, sec->count);

	*offset_r = *size_r = 0;
	if (p != NULL && sec->count > 0 && sec->kind != SEC_BODY &&
	    sec->kind != SEC_MIME)
		p = p->is_message ? &p->children[0] : NULL;
	if (p == NULL)
		return 2;
	if (sec->kind == SEC_BODY && sec->count == 0) {
		*size_r = m->len;
	} else if (sec->kind == SEC_HEADER || sec->kind == SEC_MIME) {
		*offset_r = p->header_offset;
		*size_r = p->header_size;
	} else if (sec->kind == SEC_BODY || sec->kind == SEC_TEXT) {
		*offset_r = p->body_offset;
		*size_r = p->body_size;
	} else {
		header_fields(m, p, sec, out);
		return 1;
	}
	return 2;
}

int mime_section_range(const struct mime_message *m, const char *section,
		       struct str *out, size_t *offset_r, size_t *size_r,
		       const char **error_r)
{
	struct section sec;
	int ret = -1;

	*offset_r = *size_r = 0;
	if (section_parse(section, &sec, error_r) == 1)
		ret = section_result(m, &sec, out, offset_r, size_r);
	section_free(&sec);
	return ret;
}

int mime_fetch_section(const struct mime_message *m, const char *section,
		       struct str *out, const char **error_r)
{
	size_t offset, size;
	int ret = mime_section_range(m, section, out, &offset, &size, error_r);

	if (ret == 2) {
		str_append(out, m->data + offset, size);
		ret = 1;
	}
	return ret;
}

/* Undoes p's Content-Transfer-Encoding on body[0..len): 1, or 0 for an
 * encoding we do not know. */
static int decode_cte(const struct mime_part *p, const char *body, size_t len,
		      struct str *out)
{
	const char *e = p->encoding;

	if (strcmp(e, "base64") == 0)
		mail_text_base64_decode(body, len, out);
	else if (strcmp(e, "quoted-printable") == 0)
		mail_text_qp_decode(body, len, false, out);
	else if (strcmp(e, "7bit") == 0 || strcmp(e, "8bit") == 0 ||
		 strcmp(e, "binary") == 0)
		str_append(out, body, len);
	else
		return 0;
	return 1;
}

int mime_fetch_binary(const struct mime_message *m, const char *section,
		      struct str *out, const char **error_r)
{
	const struct mime_part *p;
	struct section sec;
	int ret = -1;

	if (section_parse(section, &sec, error_r) == 1) {
		if (sec.kind != SEC_BODY) {
			*error_r = "BINARY takes part numbers only";
		} else if (sec.count == 0) {
			str_append(out, m->data, m->len);
			ret = 1;
		} else if ((p = mime_part_by_numbers(m, sec.nums, sec.count)) ==
			   NULL) {
			ret = 1;
		} else {
			ret = decode_cte(p, m->data + p->body_offset,
					 p->body_size, out);
		}
	}
	section_free(&sec);
	return ret;
}

int mime_header_block_get(const char *hdr, size_t len, const char *name,
			  struct str *out)
{
	struct mime_field f;
	struct str tmp;
	size_t pos = 0;
	int found = 0;

	str_init(&tmp, 128);
	while (mime_field_next(hdr, len, &pos, &f)) {
		if (!mime_field_is(&f, name))
			continue;
		if (found)
			str_putc(out, ' ');
		str_clear(&tmp);
		mime_unfold(f.value, f.value_len, &tmp);
		mail_text_decode_header(tmp.data, tmp.len, out);
		found = 1;
	}
	str_deinit(&tmp);
	return found;
}

int mime_header_get(const struct mime_message *m, const char *name,
		    struct str *out)
{
	return mime_header_block_get(m->data + m->root->header_offset,
				     m->root->header_size, name, out);
}

/* Cuts out back to at most limit bytes, at a UTF-8 character start. */
static void clip_utf8(struct str *out, size_t start, size_t limit)
{
	size_t cut = limit;

	if (out->len <= limit)
		return;
	while (cut > start && ((unsigned char)out->data[cut] & 0xc0) == 0x80)
		cut--;
	str_truncate(out, cut);
}

static void header_text(const struct mime_message *m, const struct mime_part *p,
			struct str *out, struct str *tmp)
{
	const char *hdr = m->data + p->header_offset;
	struct mime_field f;
	size_t pos = 0;

	while (mime_field_next(hdr, p->header_size, &pos, &f)) {
		mail_text_decode_header(f.name, f.name_len, out);
		str_append(out, ": ", 2);
		str_clear(tmp);
		mime_unfold(f.value, f.value_len, tmp);
		mail_text_decode_header(tmp->data, tmp->len, out);
		str_putc(out, '\n');
	}
}

static void body_text(const struct mime_message *m, const struct mime_part *p,
		      struct str *out, size_t start, struct str *tmp)
{
	size_t limit = start + MIME_BODY_TEXT_MAX, room, len;
	const char *charset;

	if (out->len >= limit)
		return;
	if (p->is_message) {
		if (out->len > start)
			str_putc(out, '\n');
		header_text(m, &p->children[0], out, tmp);
		body_text(m, &p->children[0], out, start, tmp);
	} else if (p->child_count > 0) {
		for (size_t i = 0; i < p->child_count; i++)
			body_text(m, &p->children[i], out, start, tmp);
	} else if (strcmp(p->type, "text") == 0) {
		room = limit - out->len;
		len = p->body_size < room / 2 * 3 ? p->body_size : room / 2 * 3;
		str_clear(tmp);
		if (decode_cte(p, m->data + p->body_offset, len, tmp) == 0)
			str_append(tmp, m->data + p->body_offset, len);
		if ((charset = mime_part_param(p, "charset")) == NULL)
			charset = "us-ascii";
		if (out->len > start)
			str_putc(out, '\n');
		mail_text_to_utf8(charset, tmp->data, tmp->len, out);
	}
	clip_utf8(out, start, limit);
}

void mime_body_text(const struct mime_message *m, struct str *out)
{
	struct str tmp;

	str_init(&tmp, 0);
	body_text(m, m->root, out, out->len, &tmp);
	str_deinit(&tmp);
}
