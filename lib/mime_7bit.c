/* mime_7bit.c: the 8-bit to 7-bit MIME filter of mime_7bit.h. One line
 * splitter and one MIME state machine serve both passes: pass 1 (scan)
 * records per entity (a header with its body, numbered in order of
 * appearance) what pass 2 must do with it (the plan) and whether anything
 * stands in the way; pass 2 (convert) reads the same bytes the same way
 * and follows the plan, so every decision that needs the end of a part is
 * known when its header goes out. Header fields are interpreted with the
 * Content-Type parser of lib/mime (mime_int.h), so both agree on types
 * and boundaries. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "mime_7bit.h"
#include "mime_int.h"

/* Longest line RFC 5322 2.1.1 allows, without CRLF */
#define LINE_LIMIT 998

enum enc {
	ENC_NONE,
	ENC_7BIT,
	ENC_8BIT,
	ENC_BINARY,
	ENC_QP,
	ENC_BASE64,
	ENC_OTHER
};
enum action { ACT_KEEP, ACT_QP, ACT_7BIT };
enum state { ST_HEADER, ST_BODY, ST_TEXT };
enum kind { K_LEAF, K_MULTI, K_MESSAGE };

struct frame {
	char boundary[MIME_7BIT_BOUNDARY_MAX + 1];
	size_t len;
	bool digest, sealed; /* sealed: multipart/signed or /encrypted */
};

/* The entity whose header or body is being read. */
struct entity {
	size_t index;
	enum action action; /* pass 2: from the plan */
	bool message_top;   /* the header of a (possibly enclosed) message */
	bool seen_type, seen_enc, mime_version;
	enum kind kind;
	enum enc enc;
	struct frame frame; /* K_MULTI: the boundary to push */
	const char *bad;    /* why its content cannot be converted */
	bool b8, long_line; /* pass 1: what its body holds */
	size_t line_len;    /* of the body line being read */
};

struct mime_7bit {
	bool converting;
	struct str *out; /* pass 2 */
	struct str line; /* the line being read, at most LINE_MAX bytes */
	bool line_cont;	 /* its start went out as an earlier piece */
	struct str field;
	bool field_open, field_raw; /* raw: too long, passed uninterpreted */
	enum state state;
	struct entity e;
	struct frame frames[MIME_7BIT_MAX_DEPTH];
	size_t depth;
	uint8_t *plan; /* enum action per entity */
	size_t entities, planned, plan_cap;
	bool header_8bit, body_8bit;
	const char *trouble;
	size_t qp_col;
	char qp_ws; /* whitespace held back until we know a line end follows */
	struct str tmp;
};

static const char *const why_sealed =
    "8-bit content inside a signed or encrypted part, which converting "
    "would break";
static const char *const why_text =
    "8-bit text outside the parts of a multipart (in its preamble or "
    "epilogue, or its boundary never appears)";

static void put(struct mime_7bit *f, const void *p, size_t n)
{
	if (f->converting && n > 0)
		str_append(f->out, p, n);
}

static void put_cstr(struct mime_7bit *f, const char *s)
{
	put(f, s, strlen(s));
}

static void set_trouble(struct mime_7bit *f, const char *why)
{
	if (f->trouble == NULL)
		f->trouble = why;
}

static bool sealed(const struct mime_7bit *f)
{
	for (size_t i = 0; i < f->depth; i++)
		if (f->frames[i].sealed)
			return true;
	return false;
}

static bool has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

/* ---- quoted-printable output (RFC 2045 6.7) */

static void qp_put(struct mime_7bit *f, unsigned char b, bool hex)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = hex ? 3 : 1;

	/* leave room for the "=" of a soft break */
	if (f->qp_col + n > MIME_7BIT_QP_LINE - 1) {
		put(f, "=\r\n", 3);
		f->qp_col = 0;
	}
	/* an encoded line starting "--" might be taken for a boundary */
	if (f->qp_col == 0 && b == '-' && !hex) {
		hex = true;
		n = 3;
	}
	if (hex) {
		char t[3] = {'=', digits[b >> 4], digits[b & 15]};

		put(f, t, 3);
	} else
		put(f, &b, 1);
	f->qp_col += n;
}

static void qp_bytes(struct mime_7bit *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)p[i];

		if (f->qp_ws != 0) {
			qp_put(f, (unsigned char)f->qp_ws, false);
			f->qp_ws = 0;
		}
		if (b == ' ' || b == '\t')
			f->qp_ws = (char)b;
		else
			qp_put(f, b, !(b >= 33 && b <= 126 && b != '='));
	}
}

/* Whitespace at the end of a line must be encoded (RFC 2045 6.7 (3)). */
static void qp_flush(struct mime_7bit *f)
{
	if (f->qp_ws != 0)
		qp_put(f, (unsigned char)f->qp_ws, true);
	f->qp_ws = 0;
}

static void qp_line_end(struct mime_7bit *f)
{
	qp_flush(f);
	put(f, "\r\n", 2);
	f->qp_col = 0;
}

/* ---- entities and the plan */

static void entity_begin(struct mime_7bit *f, bool message_top, bool digest)
{
	struct entity *e = &f->e;

	memset(e, 0, sizeof(*e));
	e->index = f->entities++;
	e->message_top = message_top;
	e->kind = digest ? K_MESSAGE : K_LEAF;
	f->state = ST_HEADER;
	f->qp_col = 0;
	f->qp_ws = 0;
	if (f->converting) {
		e->action = e->index < f->planned
				? (enum action)f->plan[e->index]
				: ACT_KEEP;
		return;
	}
	if (e->index >= MIME_7BIT_MAX_ENTITIES) {
		set_trouble(f, "too many MIME parts");
		return;
	}
	if (e->index >= f->plan_cap) {
		f->plan_cap = f->plan_cap == 0 ? 16 : size_mul(f->plan_cap, 2);
		f->plan = mem_realloc(f->plan, f->plan_cap);
	}
	f->plan[e->index] = ACT_KEEP;
	f->planned = e->index + 1;
}

static void plan_set(struct mime_7bit *f, enum action a)
{
	if (!f->converting && f->e.index < f->planned)
		f->plan[f->e.index] = (uint8_t)a;
}

static const char *leaf_why(const struct mime_7bit *f)
{
	if (sealed(f))
		return why_sealed;
	if (f->e.bad != NULL)
		return f->e.bad;
	switch (f->e.enc) {
	case ENC_BINARY:
		return "8-bit content in a part with Content-Transfer-Encoding "
		       "binary";
	case ENC_QP:
	case ENC_BASE64:
		return "8-bit bytes in a part that claims to be base64 or "
		       "quoted-printable encoded";
	default:
		return "8-bit content in a part with an unknown "
		       "Content-Transfer-Encoding";
	}
}

/* Pass 1, at the end of a leaf's body: what pass 2 does with it. */
static void leaf_end(struct mime_7bit *f)
{
	const struct entity *e = &f->e;
	bool plain =
	    e->enc == ENC_NONE || e->enc == ENC_7BIT || e->enc == ENC_8BIT;

	if (plain && e->bad == NULL && !sealed(f)) {
		if (e->b8 || e->long_line)
			plan_set(f, ACT_QP);
		else if (e->enc == ENC_8BIT)
			plan_set(f, ACT_7BIT);
	} else if (e->b8)
		set_trouble(f, leaf_why(f));
}

/* ---- header fields */

static enum enc enc_parse(const char *s)
{
	static const struct {
		const char *name;
		enum enc enc;
	} names[] = {{"7bit", ENC_7BIT},
		     {"8bit", ENC_8BIT},
		     {"binary", ENC_BINARY},
		     {"quoted-printable", ENC_QP},
		     {"base64", ENC_BASE64}};
	size_t n = strcspn(s, " \t;(");

	if (n == 0 || strcspn(s, "()<>@,;:\\\"/[]?=") < n)
		return ENC_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(s, names[i].name, n) == 0)
			return names[i].enc;
	return ENC_OTHER;
}

static void type_parse(struct mime_7bit *f, const char *s, size_t len)
{
	struct mime_message *m = mime_parse(NULL, 0, NULL);
	struct entity *e = &f->e;
	struct mime_value v;

	if (mime_value_parse(m, s, len, true, &v) == 1) {
		e->kind = K_LEAF;
		if (strcmp(v.type, "message") == 0 &&
		    (strcmp(v.subtype, "rfc822") == 0 ||
		     strcmp(v.subtype, "global") == 0))
			e->kind = K_MESSAGE;
		else if (strcmp(v.type, "multipart") == 0) {
			e->kind = K_MULTI;
			e->frame.digest = strcmp(v.subtype, "digest") == 0;
			e->frame.sealed = strcmp(v.subtype, "signed") == 0 ||
					  strcmp(v.subtype, "encrypted") == 0;
			e->bad = "a multipart without a usable boundary";
			for (size_t i = 0; i < v.param_count; i++) {
				size_t n = strlen(v.params[i].value);

				if (strcmp(v.params[i].name, "boundary") != 0 ||
				    n == 0 || n > MIME_7BIT_BOUNDARY_MAX)
					continue;
				memcpy(e->frame.boundary, v.params[i].value,
				       n + 1);
				e->frame.len = n;
				e->bad = NULL;
				break;
			}
		}
	}
	mime_message_free(&m);
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* The length of the field name of raw (without trailing whitespace), 0
 * when there is no colon; *value_r: where the value starts. */
static size_t field_name(const char *raw, size_t len, size_t *value_r)
{
	const char *colon = memchr(raw, ':', len);
	size_t n;

	*value_r = len;
	if (colon == NULL)
		return 0;
	n = (size_t)(colon - raw);
	*value_r = n + 1;
	while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	return n;
}

/* The first Content-Type and Content-Transfer-Encoding count (as in
 * lib/mime.c); every Content-Transfer-Encoding of a part pass 2 relabels
 * is dropped. */
static void field_end(struct mime_7bit *f)
{
	struct entity *e = &f->e;
	const char *raw = f->field.data;
	size_t value, n = field_name(raw, f->field.len, &value);
	bool drop = false;

	if (!f->field_open)
		return;
	f->field_open = false;
	if (f->field_raw) {
		f->field_raw = false;
		return;
	}
	str_clear(&f->tmp);
	mime_unfold(raw + value, f->field.len - value, &f->tmp);
	if (name_is(raw, n, "content-type") && !e->seen_type) {
		e->seen_type = true;
		type_parse(f, f->tmp.data, f->tmp.len);
	} else if (name_is(raw, n, "content-transfer-encoding")) {
		if (!e->seen_enc)
			e->enc = enc_parse(f->tmp.data);
		e->seen_enc = true;
		drop = e->action != ACT_KEEP;
	} else if (name_is(raw, n, "mime-version"))
		e->mime_version = true;
	if (!drop)
		put(f, raw, f->field.len);
	str_clear(&f->field);
}

static void field_add(struct mime_7bit *f, const char *p, size_t n)
{
	size_t name, value;

	if (f->field_raw) {
		put(f, p, n);
		return;
	}
	if (f->field.len + n <= MIME_7BIT_FIELD_MAX) {
		str_append(&f->field, p, n);
		return;
	}
	name = field_name(f->field.data, f->field.len, &value);
	if (name_is(f->field.data, name, "content-type") ||
	    name_is(f->field.data, name, "content-transfer-encoding"))
		set_trouble(f, "a Content-Type or Content-Transfer-Encoding "
			       "field too long to read");
	put(f, f->field.data, f->field.len);
	put(f, p, n);
	str_clear(&f->field);
	f->field_raw = true;
}

/* The blank line ended the header: what follows it. */
static void header_end(struct mime_7bit *f, const char *blank, size_t n)
{
	struct entity *e = &f->e;
	bool opaque =
	    e->enc == ENC_QP || e->enc == ENC_BASE64 || e->enc == ENC_OTHER;

	field_end(f);
	if (e->kind == K_MULTI && e->bad == NULL &&
	    f->depth >= MIME_7BIT_MAX_DEPTH)
		e->bad = "MIME parts nested too deep";
	if (e->kind == K_MULTI && e->bad != NULL)
		e->kind = K_LEAF;
	/* an encoded multipart or message is not MIME: an opaque leaf */
	if (e->kind != K_LEAF && opaque)
		e->kind = K_LEAF;
	if (e->kind != K_LEAF && (e->enc == ENC_8BIT || e->enc == ENC_BINARY) &&
	    !sealed(f))
		plan_set(f, ACT_7BIT);
	if (e->action != ACT_KEEP && e->message_top && !e->mime_version)
		put_cstr(f, "MIME-Version: 1.0\r\n");
	if (e->action == ACT_QP)
		put_cstr(f, "Content-Transfer-Encoding: quoted-printable\r\n");
	else if (e->action == ACT_7BIT)
		put_cstr(f, "Content-Transfer-Encoding: 7bit\r\n");
	put(f, blank, n);
	if (e->kind == K_MULTI) {
		f->frames[f->depth++] = e->frame;
		f->state = ST_TEXT;
	} else if (e->kind == K_MESSAGE)
		entity_begin(f, true, false);
	else
		f->state = ST_BODY;
}

/* ---- lines */

/* The current entity ends (at a boundary or at the end). */
static void entity_end(struct mime_7bit *f)
{
	if (f->state == ST_HEADER)
		field_end(f); /* a part that is all header: nothing to do */
	else if (f->state == ST_BODY) {
		if (f->e.action == ACT_QP)
			qp_flush(f);
		if (!f->converting)
			leaf_end(f);
	}
}

/* Whether line[0..len) (without its line end) is a delimiter of fr
 * (RFC 2046 5.1.1: "--" boundary ["--"] and whitespace); *close_r: the
 * close delimiter. */
static bool delimiter_of(const struct frame *fr, const char *line, size_t len,
			 bool *close_r)
{
	size_t i = 2 + fr->len;

	if (len < i || memcmp(line, "--", 2) != 0 ||
	    memcmp(line + 2, fr->boundary, fr->len) != 0)
		return false;
	*close_r = len >= i + 2 && line[i] == '-' && line[i + 1] == '-';
	for (i += *close_r ? 2 : 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

/* p[0..n) is a whole line, body its length without the line end. A
 * delimiter of an enclosing multipart, the innermost first, ends the
 * entity being read and the multiparts inside the one it belongs to. */
static bool delimiter(struct mime_7bit *f, const char *p, size_t n, size_t body)
{
	bool close;
	size_t k = f->depth;

	if (body < 2 || p[0] != '-' || p[1] != '-')
		return false;
	while (k > 0 && !delimiter_of(&f->frames[k - 1], p, body, &close))
		k--;
	if (k == 0)
		return false;
	entity_end(f);
	put(f, p, n);
	f->depth = close ? k - 1 : k;
	if (close)
		f->state = ST_TEXT;
	else
		entity_begin(f, false, f->frames[k - 1].digest);
	return true;
}

static void header_piece(struct mime_7bit *f, const char *p, size_t n,
			 bool first, size_t body)
{
	if (first && body == 0 && n > 0) {
		header_end(f, p, n);
		return;
	}
	if (has_8bit(p, n))
		f->header_8bit = true;
	if (first && p[0] != ' ' && p[0] != '\t')
		field_end(f);
	f->field_open = true;
	field_add(f, p, n);
}

static void body_piece(struct mime_7bit *f, const char *p, size_t n, bool first,
		       size_t body, bool eol)
{
	struct entity *e = &f->e;

	if (f->converting) {
		if (e->action != ACT_QP) {
			put(f, p, n);
			return;
		}
		qp_bytes(f, p, body);
		if (eol)
			qp_line_end(f);
		return;
	}
	if (first)
		e->line_len = 0;
	e->line_len += body;
	if (e->line_len > LINE_LIMIT)
		e->long_line = true;
	if (!e->b8 && (has_8bit(p, n) || memchr(p, '\0', n) != NULL)) {
		e->b8 = true;
		f->body_8bit = true;
	}
}

/* A preamble or an epilogue: passed as it is. */
static void text_piece(struct mime_7bit *f, const char *p, size_t n)
{
	if (!f->converting && (has_8bit(p, n) || memchr(p, '\0', n) != NULL)) {
		f->body_8bit = true;
		set_trouble(f, why_text);
	}
	put(f, p, n);
}

/* One piece of a line: its start when first, its end when last. */
static void piece(struct mime_7bit *f, const char *p, size_t n, bool first,
		  bool last)
{
	bool eol = last && n > 0 && p[n - 1] == '\n';
	size_t body = n;

	if (eol) {
		body--;
		if (body > 0 && p[body - 1] == '\r')
			body--;
	}
	if (first && last && delimiter(f, p, n, body))
		return;
	if (f->state == ST_HEADER)
		header_piece(f, p, n, first, eol ? body : n);
	else if (f->state == ST_BODY)
		body_piece(f, p, n, first, body, eol);
	else
		text_piece(f, p, n);
}

static void feed(struct mime_7bit *f, const char *p, size_t len)
{
	while (len > 0) {
		const char *lf = memchr(p, '\n', len);
		size_t want = lf != NULL ? (size_t)(lf - p) + 1 : len;
		size_t room = MIME_7BIT_LINE_MAX - f->line.len;
		size_t take = want < room ? want : room;

		str_append(&f->line, p, take);
		p += take;
		len -= take;
		if (lf != NULL && take == want) {
			piece(f, f->line.data, f->line.len, !f->line_cont,
			      true);
			str_clear(&f->line);
			f->line_cont = false;
		} else if (f->line.len == MIME_7BIT_LINE_MAX) {
			/* a long line goes in pieces, never between CR and LF
			 */
			size_t keep = f->line.data[f->line.len - 1] == '\r';
			size_t n = f->line.len - keep;

			piece(f, f->line.data, n, !f->line_cont, false);
			str_consume(&f->line, n);
			f->line_cont = true;
		}
	}
}

static void pass_begin(struct mime_7bit *f, bool converting, struct str *out)
{
	f->converting = converting;
	f->out = out;
	str_clear(&f->line);
	str_clear(&f->field);
	f->line_cont = false;
	f->field_open = false;
	f->field_raw = false;
	f->depth = 0;
	f->entities = 0;
	entity_begin(f, true, false);
}

static void pass_end(struct mime_7bit *f)
{
	if (f->line.len > 0)
		piece(f, f->line.data, f->line.len, !f->line_cont, true);
	str_clear(&f->line);
	f->line_cont = false;
	entity_end(f);
}

/* ---- the API */

struct mime_7bit *mime_7bit_new(void)
{
	struct mime_7bit *f = mem_alloc(sizeof(*f));

	str_init(&f->line, MIME_7BIT_LINE_MAX);
	str_init(&f->field, 256);
	str_init(&f->tmp, 256);
	pass_begin(f, false, NULL);
	return f;
}

void mime_7bit_free(struct mime_7bit **fp)
{
	struct mime_7bit *f = *fp;

	if (f == NULL)
		return;
	str_deinit(&f->line);
	str_deinit(&f->field);
	str_deinit(&f->tmp);
	mem_free(f->plan);
	mem_free(*fp);
}

void mime_7bit_scan(struct mime_7bit *f, const void *data, size_t len)
{
	feed(f, data, len);
}

void mime_7bit_scan_end(struct mime_7bit *f)
{
	pass_end(f);
}

int mime_7bit_verdict(const struct mime_7bit *f, bool allow_8bit_headers,
		      const char **error_r)
{
	if (f->header_8bit && !allow_8bit_headers) {
		*error_r = "8-bit characters in a header field, which only "
			   "SMTPUTF8 could carry";
		return -1;
	}
	if (!f->body_8bit)
		return 0;
	if (f->trouble != NULL) {
		*error_r = f->trouble;
		return -1;
	}
	return 1;
}

void mime_7bit_convert(struct mime_7bit *f, const void *data, size_t len,
		       struct str *out)
{
	if (!f->converting)
		pass_begin(f, true, out);
	f->out = out;
	feed(f, data, len);
}

void mime_7bit_convert_end(struct mime_7bit *f, struct str *out)
{
	if (!f->converting)
		pass_begin(f, true, out);
	f->out = out;
	pass_end(f);
	f->converting = false;
	f->out = NULL;
}

int mime_7bit_buffer(const char *data, size_t len, bool allow_8bit_headers,
		     struct str *out, const char **error_r)
{
	struct mime_7bit *f = mime_7bit_new();
	int r;

	mime_7bit_scan(f, data, len);
	mime_7bit_scan_end(f);
	r = mime_7bit_verdict(f, allow_8bit_headers, error_r);
	if (r == 1) {
		mime_7bit_convert(f, data, len, out);
		mime_7bit_convert_end(f, out);
	}
	mime_7bit_free(&f);
	return r;
}
