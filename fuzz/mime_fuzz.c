/* fuzz/mime_fuzz.c: libFuzzer target for the MIME parser and its IMAP
 * writers (lib/mime*.c) and for lib/mail_text*.c. The first byte picks
 * tight limits and where to split the rest; the rest is a message. Beyond
 * "no crash, no leak, no hang" it checks the promises of mime.h: every
 * part lies inside the message, parents and children agree, BODY,
 * BODYSTRUCTURE and ENVELOPE are balanced IMAP with no bare line end,
 * section ranges stay inside the message, and every text that claims to
 * be UTF-8 is; the folded search agrees with a plain fold-then-memmem. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "mail_text.h"
#include "mail_text_int.h"
#include "mime.h"
#include "msg.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const sections[] = {
    "",
    "HEADER",
    "TEXT",
    "1",
    "2",
    "1.MIME",
    "2.1",
    "1.1.1",
    "2.HEADER",
    "2.TEXT",
    "3.2.MIME",
    "HEADER.FIELDS (From Subject Content-Type)",
    "1.HEADER.FIELDS.NOT (Received \"To\")",
};

static void check_utf8(const struct str *s, const char *what)
{
	uint32_t cp;

	for (size_t i = 0; i < s->len;) {
		size_t n = mail_utf8_decode(s->data + i, s->len - i, &cp);

		if (n == 0)
			msg_panic("invalid UTF-8 in %s at %zu", what, i);
		i += n;
	}
}

/* Parentheses balance outside quoted strings and literals, and no CR or
 * LF appears outside a literal. */
static void check_imap(const struct str *s, const char *what)
{
	long depth = 0;

	for (size_t i = 0; i < s->len; i++) {
		char c = s->data[i];
		size_t n = 0;

		if (c == '"') {
			for (i++; i < s->len && s->data[i] != '"'; i++) {
				unsigned char q = (unsigned char)s->data[i];

				if (q == '\r' || q == '\n' || q == 0 ||
				    q >= 0x80)
					msg_panic("%s: quoted %02x", what, q);
				if (q == '\\')
					i++;
			}
			if (i >= s->len)
				msg_panic("%s: unterminated string", what);
		} else if (c == '{') {
			for (i++; i < s->len && s->data[i] >= '0' &&
				  s->data[i] <= '9';
			     i++)
				n = n * 10 + (size_t)(s->data[i] - '0');
			if (i + 2 >= s->len || s->data[i] != '}' ||
			    s->data[i + 1] != '\r' || s->data[i + 2] != '\n' ||
			    s->len - (i + 3) < n)
				msg_panic("%s: bad literal", what);
			if (memchr(s->data + i + 3, '\0', n) != NULL)
				msg_panic("%s: NUL in a literal", what);
			i += 2 + n;
		} else if (c == '(' || c == ')') {
			depth += c == '(' ? 1 : -1;
			if (depth < 0)
				msg_panic("%s: unbalanced", what);
		} else if (c == '\r' || c == '\n' || c == '\0') {
			msg_panic("%s: control character outside a literal",
				  what);
		}
	}
	if (depth != 0)
		msg_panic("%s: unbalanced", what);
}

static size_t check_tree(const struct mime_part *p, size_t len, unsigned depth)
{
	size_t count = 1;

	if (depth > MIME_MAX_DEPTH_CAP + 4)
		msg_panic("tree too deep");
	if (p->header_offset + p->header_size > p->body_offset ||
	    p->body_offset + p->body_size > len || p->body_offset > len)
		msg_panic("part outside the message");
	if (p->type == NULL || p->subtype == NULL || p->encoding == NULL)
		msg_panic("part without type or encoding");
	if (strcmp(p->type, "multipart") == 0 && p->child_count == 0)
		msg_panic("multipart without parts");
	for (size_t i = 0; i < p->child_count; i++) {
		if (p->children[i].parent != p)
			msg_panic("child with a wrong parent");
		if (p->children[i].header_offset < p->body_offset ||
		    p->children[i].body_offset + p->children[i].body_size >
			p->body_offset + p->body_size)
			msg_panic("child outside its parent");
		count += check_tree(&p->children[i], len, depth + 1);
	}
	return count;
}

static void fuzz_sections(const struct mime_message *m, size_t len,
			  const char *extra)
{
	struct str out;
	const char *error;
	size_t off, sz;

	str_init(&out, 0);
	for (size_t i = 0; i <= sizeof(sections) / sizeof(sections[0]); i++) {
		const char *s = i < sizeof(sections) / sizeof(sections[0])
				    ? sections[i]
				    : extra;

		str_clear(&out);
		if (mime_section_range(m, s, &out, &off, &sz, &error) == 2 &&
		    (off > len || sz > len - off))
			msg_panic("section %s outside the message", s);
		str_clear(&out);
		mime_fetch_section(m, s, &out, &error);
		str_clear(&out);
		mime_fetch_binary(m, s, &out, &error);
	}
	str_deinit(&out);
}

static void fuzz_message(const char *s, size_t len, bool small,
			 const char *extra)
{
	struct mime_limits lim = {3, 12};
	struct mime_message *m = mime_parse(s, len, small ? &lim : NULL);
	struct str out;
	size_t parts;

	parts = check_tree(mime_root(m), len, 0);
	if (parts != mime_part_count(m))
		msg_panic("part count %zu != %zu", parts, mime_part_count(m));
	if (small && parts > 2 * lim.max_parts + 2)
		msg_panic("part limit ignored: %zu", parts);
	str_init(&out, 0);
	mime_imap_bodystructure(m, true, &out);
	check_imap(&out, "BODYSTRUCTURE");
	str_clear(&out);
	mime_imap_bodystructure(m, false, &out);
	check_imap(&out, "BODY");
	str_clear(&out);
	mime_imap_envelope(m, &out);
	check_imap(&out, "ENVELOPE");
	str_clear(&out);
	mime_body_text(m, &out);
	check_utf8(&out, "body text");
	str_clear(&out);
	mime_header_get(m, "subject", &out);
	check_utf8(&out, "header value");
	fuzz_sections(m, len, extra);
	str_deinit(&out);
	mime_message_free(&m);
}

/* The needle search must agree with folding both sides and memmem. */
static void fuzz_search(const char *s, size_t len, size_t split)
{
	struct mail_text_needle *n;
	struct str a, b;
	bool want;

	if (split > len)
		split = len;
	str_init(&a, 0);
	str_init(&b, 0);
	mail_text_fold(s, split, &a);
	mail_text_fold(s + split, len - split, &b);
	want = a.len == 0 ||
	       (b.len >= a.len && memmem(b.data, b.len, a.data, a.len) != NULL);
	n = mail_text_needle_new(s, split);
	if (mail_text_contains(n, s + split, len - split) != want)
		msg_panic("needle search disagrees with fold+memmem");
	mail_text_needle_free(&n);
	str_clear(&a);
	mail_text_decode_header(s, len, &a);
	check_utf8(&a, "decoded header");
	str_deinit(&a);
	str_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t len, n;
	char extra[64];

	if (size < 1)
		return 0;
	len = size - 1;
	/* a section string of the input's own bytes, for the parser */
	n = len < sizeof(extra) - 1 ? len : sizeof(extra) - 1;
	memcpy(extra, s + len - n, n);
	extra[n] = '\0';
	fuzz_message(s, len, (data[0] & 1) != 0, extra);
	fuzz_search(s, len, data[0] >> 1);
	return 0;
}
