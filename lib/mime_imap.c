/* mime_imap.c: the IMAP forms of a parsed message (see mime.h): ENVELOPE,
 * BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501 7.4.2), and the IMAP
 * string quoting they use. imapd appends these to its FETCH responses. */
#include "config.h"

#include <string.h>

#include "mime.h"
#include "mime_int.h"

enum env_field {
	ENV_DATE,
	ENV_SUBJECT,
	ENV_FROM,
	ENV_SENDER,
	ENV_REPLY_TO,
	ENV_TO,
	ENV_CC,
	ENV_BCC,
	ENV_IN_REPLY_TO,
	ENV_MESSAGE_ID,
	ENV_COUNT
};

static const char *const env_names[ENV_COUNT] = {
    "date", "subject", "from", "sender",      "reply-to",
    "to",   "cc",      "bcc",  "in-reply-to", "message-id",
};

void mime_imap_string(struct str *out, const char *s, size_t len)
{
	bool literal = false;
	size_t n = 0, run;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		n += c != 0;
		literal = literal || c >= 0x80 || c == '\r' || c == '\n';
	}
	if (literal)
		str_printf(out, "{%zu}\r\n", n);
	else
		str_putc(out, '"');
	run = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c != '\0' && (literal || (c != '"' && c != '\\')))
			continue;
		str_append(out, s + run, i - run);
		if (c != '\0')
			str_putc(out, '\\');
		run = c != '\0' ? i : i + 1;
	}
	str_append(out, s + run, len - run);
	if (!literal)
		str_putc(out, '"');
}

void mime_imap_nstring(struct str *out, const char *s)
{
	if (s == NULL)
		str_append_cstr(out, "NIL");
	else
		mime_imap_string(out, s, strlen(s));
}

static void write_unfolded(struct str *out, const struct mime_field *f,
			   struct str *tmp)
{
	str_clear(tmp);
	mime_unfold(f->value, f->value_len, tmp);
	mime_imap_string(out, tmp->data, tmp->len);
}

/* Sender and Reply-To fall back to From when absent or without an
 * address (RFC 9051 7.5.2). */
static void write_addresses(struct str *out, const struct mime_field *f,
			    const char *from, size_t from_len)
{
	size_t start = out->len;

	if (f != NULL && mime_addr_write(f->value, f->value_len, out) > 0)
		return;
	str_truncate(out, start);
	str_append(out, from, from_len);
}

static void write_envelope(const char *hdr, size_t len, struct str *out)
{
	struct mime_field fields[ENV_COUNT], f;
	bool have[ENV_COUNT] = {false};
	struct str tmp, from;
	size_t pos = 0;

	while (mime_field_next(hdr, len, &pos, &f)) {
		for (size_t i = 0; i < ENV_COUNT; i++) {
			if (!have[i] && mime_field_is(&f, env_names[i])) {
				fields[i] = f;
				have[i] = true;
			}
		}
	}
	str_init(&tmp, 128);
	str_init(&from, 128);
	if (have[ENV_FROM])
		mime_addr_write(fields[ENV_FROM].value,
				fields[ENV_FROM].value_len, &from);
	else
		str_append_cstr(&from, "NIL");
	str_putc(out, '(');
	for (size_t i = 0; i < ENV_COUNT; i++) {
		if (i > 0)
			str_putc(out, ' ');
		if (i == ENV_FROM)
			str_append(out, from.data, from.len);
		else if (i == ENV_SENDER || i == ENV_REPLY_TO)
			write_addresses(out, have[i] ? &fields[i] : NULL,
					from.data, from.len);
		else if (!have[i])
			str_append_cstr(out, "NIL");
		else if (i == ENV_TO || i == ENV_CC || i == ENV_BCC)
			mime_addr_write(fields[i].value, fields[i].value_len,
					out);
		else
			write_unfolded(out, &fields[i], &tmp);
	}
	str_putc(out, ')');
	str_deinit(&tmp);
	str_deinit(&from);
}

void mime_imap_envelope(const struct mime_message *m, struct str *out)
{
	write_envelope(m->data + m->root->header_offset, m->root->header_size,
		       out);
}

static void write_params(struct str *out, const struct mime_param *params,
			 size_t count)
{
	if (count == 0) {
		str_append_cstr(out, "NIL");
		return;
	}
	str_putc(out, '(');
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			str_putc(out, ' ');
		mime_imap_nstring(out, params[i].name);
		str_putc(out, ' ');
		mime_imap_nstring(out, params[i].value);
	}
	str_putc(out, ')');
}

static void write_language(struct str *out, const char *lang)
{
	const char *sep = ", \t";
	size_t n, count = 0;

	while (lang != NULL && *(lang += strspn(lang, sep)) != '\0') {
		n = strcspn(lang, sep);
		str_append_cstr(out, count == 0 ? "(" : " ");
		mime_imap_string(out, lang, n);
		lang += n;
		count++;
	}
	str_append_cstr(out, count == 0 ? "NIL" : ")");
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void write_ext_common(struct str *out, const struct mime_part *p)
{
	str_putc(out, ' ');
	if (p->disposition == NULL) {
		str_append_cstr(out, "NIL");
	} else {
		str_putc(out, '(');
		mime_imap_nstring(out, p->disposition);
		str_putc(out, ' ');
		write_params(out, p->disp_params, p->disp_param_count);
		str_putc(out, ')');
	}
	str_putc(out, ' ');
	write_language(out, p->language);
	str_putc(out, ' ');
	mime_imap_nstring(out, p->location);
}

static void write_body(const struct mime_message *m, const struct mime_part *p,
		       bool ext, struct str *out);

static void write_multipart(const struct mime_message *m,
			    const struct mime_part *p, bool ext,
			    struct str *out)
{
	str_putc(out, '(');
	for (size_t i = 0; i < p->child_count; i++)
		write_body(m, &p->children[i], ext, out);
	str_putc(out, ' ');
	mime_imap_nstring(out, p->subtype);
	if (ext) {
		str_putc(out, ' ');
		write_params(out, p->params, p->param_count);
		write_ext_common(out, p);
	}
	str_putc(out, ')');
}

static void write_encoding(struct str *out, const char *enc)
{
	char up[64];
	size_t n = strlen(enc);

	if (n >= sizeof(up)) {
		mime_imap_nstring(out, enc);
		return;
	}
	for (size_t i = 0; i <= n; i++)
		up[i] = enc[i] >= 'a' && enc[i] <= 'z' ? (char)(enc[i] - 32)
						       : enc[i];
	mime_imap_nstring(out, up);
}

static void write_body(const struct mime_message *m, const struct mime_part *p,
		       bool ext, struct str *out)
{
	if (p->child_count > 0 && !p->is_message) {
		write_multipart(m, p, ext, out);
		return;
	}
	str_putc(out, '(');
	mime_imap_nstring(out, p->type);
	str_putc(out, ' ');
	mime_imap_nstring(out, p->subtype);
	str_putc(out, ' ');
	write_params(out, p->params, p->param_count);
	str_putc(out, ' ');
	mime_imap_nstring(out, p->id);
	str_putc(out, ' ');
	mime_imap_nstring(out, p->description);
	str_putc(out, ' ');
	write_encoding(out, p->encoding);
	str_printf(out, " %zu", p->body_size);
	if (p->is_message) {
		const struct mime_part *c = &p->children[0];

		str_putc(out, ' ');
		write_envelope(m->data + c->header_offset, c->header_size, out);
		str_putc(out, ' ');
		write_body(m, c, ext, out);
		str_printf(out, " %zu", p->body_lines);
	} else if (strcmp(p->type, "text") == 0) {
		str_printf(out, " %zu", p->body_lines);
	}
	if (ext) {
		str_putc(out, ' ');
		mime_imap_nstring(out, p->md5);
		write_ext_common(out, p);
	}
	str_putc(out, ')');
}

void mime_imap_bodystructure(const struct mime_message *m, bool extended,
			     struct str *out)
{
	write_body(m, m->root, extended, out);
}
