/* mime.c: the MIME parser (see mime.h): one pass over a message in
 * memory that builds the part tree with offsets, line counts and the
 * Content-* fields; plus the arena the tree lives in and the header field
 * iterator the other mime_*.c files use. */
#include "config.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "mime.h"
#include "mime_int.h"

#define CHUNK_MIN 8192
#define CHUNK_MAX 65536

struct mime_chunk {
	struct mime_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct parse_ctx {
	struct mime_message *m;
	const char *data;
	size_t len;
	size_t pos;   /* start of the next line to read */
	size_t lines; /* LFs before pos */
	const char *bounds[MIME_MAX_DEPTH_CAP + 1];
	size_t blens[MIME_MAX_DEPTH_CAP + 1];
	unsigned nbounds;
	unsigned max_depth;
	size_t max_parts;
	int hit; /* boundary whose delimiter line is at pos, -1 = none */
	bool hit_close;
	struct str tmp;
};

static const struct mime_param default_text_params[] = {
    {"charset", "us-ascii"},
};

void *mime_alloc(struct mime_message *m, size_t size)
{
	struct mime_chunk *c = m->chunks;
	size_t need = size_add(size, alignof(max_align_t) - 1) &
		      ~(alignof(max_align_t) - 1);
	void *p;

	if (c == NULL || c->size - c->used < need) {
		size_t csize = c == NULL ? CHUNK_MIN : c->size * 2;

		if (csize > CHUNK_MAX)
			csize = CHUNK_MAX;
		if (csize < need)
			csize = need;
		c = mem_alloc(size_add(sizeof(*c), csize));
		c->size = csize;
		c->next = m->chunks;
		m->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

char *mime_strndup(struct mime_message *m, const char *s, size_t len)
{
	char *p = mime_alloc(m, size_add(len, 1));

	memcpy(p, s, len);
	return p;
}

static size_t line_len_at(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len);

	return nl != NULL ? (size_t)(nl - s) + 1 : len;
}

static bool line_blank(const char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\n')
		n--;
	if (n > 0 && l[n - 1] == '\r')
		n--;
	return n == 0;
}

bool mime_field_next(const char *hdr, size_t len, size_t *pos,
		     struct mime_field *f)
{
	size_t start = *pos, n, end, vend;
	const char *colon;

	if (start >= len)
		return false;
	n = line_len_at(hdr + start, len - start);
	if (line_blank(hdr + start, n))
		return false;
	end = start + n;
	while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'))
		end += line_len_at(hdr + end, len - end);
	vend = end;
	if (vend > start && hdr[vend - 1] == '\n')
		vend--;
	if (vend > start && hdr[vend - 1] == '\r')
		vend--;
	f->raw = hdr + start;
	f->raw_len = end - start;
	f->name = hdr + start;
	colon = memchr(hdr + start, ':', n);
	if (colon == NULL) {
		f->name_len = vend - start;
		f->value = hdr + vend;
		f->value_len = 0;
	} else {
		f->name_len = (size_t)(colon - f->name);
		while (f->name_len > 0 && (f->name[f->name_len - 1] == ' ' ||
					   f->name[f->name_len - 1] == '\t'))
			f->name_len--;
		f->value = colon + 1;
		f->value_len = vend - (size_t)(f->value - hdr);
	}
	*pos = end;
	return true;
}

bool mime_field_is(const struct mime_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	       strncasecmp(f->name, name, f->name_len) == 0;
}

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void mime_unfold(const char *value, size_t len, struct str *out)
{
	size_t i = 0, run;

	while (i < len && is_fws(value[i]))
		i++;
	while (len > i && is_fws(value[len - 1]))
		len--;
	for (run = i; i < len; i++) {
		if (value[i] == '\r' || value[i] == '\n') {
			str_append(out, value + run, i - run);
			run = i + 1;
		}
	}
	str_append(out, value + run, len - run);
}

const char *mime_part_param(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->param_count; i++)
		if (strcmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	return NULL;
}

static void part_defaults(struct mime_part *p, bool in_digest)
{
	p->type = in_digest ? "message" : "text";
	p->subtype = in_digest ? "rfc822" : "plain";
	p->params = in_digest ? NULL : default_text_params;
	p->param_count = in_digest ? 0 : 1;
	p->encoding = "7bit";
	p->has_content_type = false;
}

static void set_content_type(struct parse_ctx *c, struct mime_part *p,
			     const struct str *v)
{
	struct mime_value mv;

	if (mime_value_parse(c->m, v->data, v->len, true, &mv) != 1)
		return; /* unusable: the defaults stay (RFC 2045 5.2) */
	p->type = mv.type;
	p->subtype = mv.subtype;
	p->params = mv.params;
	p->param_count = mv.param_count;
	p->has_content_type = true;
	if (strcmp(p->type, "text") == 0 &&
	    mime_part_param(p, "charset") == NULL) {
		/* RFC 2046 4.1.2: no charset means US-ASCII; say so */
		mv.params[mv.param_count].name = "charset";
		mv.params[mv.param_count].value = "us-ascii";
		p->param_count++;
	}
}

static void set_encoding(struct parse_ctx *c, struct mime_part *p,
			 struct str *v)
{
	size_t n = strcspn(v->data, " \t;(");

	/* a mechanism is a token; anything else means the default */
	if (n == 0 || n > 64 || strcspn(v->data, "()<>@,;:\\\"/[]?=") < n)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v->data[i] <= ' ' ||
		    (unsigned char)v->data[i] >= 0x7f)
			return;
	str_truncate(v, n);
	str_lower(v);
	p->encoding = mime_strndup(c->m, v->data, v->len);
}

static void set_disposition(struct parse_ctx *c, struct mime_part *p,
			    const struct str *v)
{
	struct mime_value mv;

	if (mime_value_parse(c->m, v->data, v->len, false, &mv) != 1)
		return;
	p->disposition = mv.type;
	p->disp_params = mv.params;
	p->disp_param_count = mv.param_count;
}

enum content_kind { CK_TYPE, CK_ENCODING, CK_DISPOSITION, CK_STRING };

/* The Content-* fields a part keeps (name without "Content-"). */
static const struct {
	const char *name;
	enum content_kind kind;
	size_t offset; /* CK_STRING: where in struct mime_part */
} content_fields[] = {
    {"type", CK_TYPE, 0},
    {"transfer-encoding", CK_ENCODING, 0},
    {"disposition", CK_DISPOSITION, 0},
    {"id", CK_STRING, offsetof(struct mime_part, id)},
    {"description", CK_STRING, offsetof(struct mime_part, description)},
    {"md5", CK_STRING, offsetof(struct mime_part, md5)},
    {"language", CK_STRING, offsetof(struct mime_part, language)},
    {"location", CK_STRING, offsetof(struct mime_part, location)},
};

/* One Content-* field, its value unfolded in c->tmp; the first of each
 * kind counts. */
static void content_field(struct parse_ctx *c, struct mime_part *p,
			  const char *name, size_t nlen, unsigned *seen)
{
	size_t n = sizeof(content_fields) / sizeof(content_fields[0]), k;

	for (k = 0; k < n; k++)
		if (strlen(content_fields[k].name) == nlen &&
		    strncasecmp(content_fields[k].name, name, nlen) == 0)
			break;
	if (k == n || (*seen & (1u << k)) != 0)
		return;
	*seen |= 1u << k;
	switch (content_fields[k].kind) {
	case CK_TYPE:
		set_content_type(c, p, &c->tmp);
		break;
	case CK_ENCODING:
		set_encoding(c, p, &c->tmp);
		break;
	case CK_DISPOSITION:
		set_disposition(c, p, &c->tmp);
		break;
	case CK_STRING:
		*(const char **)((char *)p + content_fields[k].offset) =
		    mime_strndup(c->m, c->tmp.data, c->tmp.len);
		break;
	}
}

static void part_fields(struct parse_ctx *c, struct mime_part *p,
			bool in_digest)
{
	const char *hdr = c->data + p->header_offset;
	struct mime_field f;
	size_t pos = 0;
	unsigned seen = 0;

	part_defaults(p, in_digest);
	while (mime_field_next(hdr, p->header_size, &pos, &f)) {
		if (f.name_len <= 8 || strncasecmp(f.name, "content-", 8) != 0)
			continue;
		str_clear(&c->tmp);
		mime_unfold(f.value, f.value_len, &c->tmp);
		content_field(c, p, f.name + 8, f.name_len - 8, &seen);
	}
}

static size_t line_len(const struct parse_ctx *c)
{
	return line_len_at(c->data + c->pos, c->len - c->pos);
}

static void line_skip(struct parse_ctx *c, size_t n)
{
	c->pos += n;
	if (n > 0 && c->data[c->pos - 1] == '\n')
		c->lines++;
}

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_fws(s[i]))
			return false;
	return true;
}

/* The boundary (innermost first) of which the line at pos is a delimiter
 * line, or -1. */
static int line_delimiter(struct parse_ctx *c, size_t n)
{
	const char *line = c->data + c->pos, *rest;

	if (c->nbounds == 0 || n < 3 || line[0] != '-' || line[1] != '-')
		return -1;
	for (unsigned i = c->nbounds; i-- > 0;) {
		size_t bl = c->blens[i], rn;

		if (n - 2 < bl || memcmp(line + 2, c->bounds[i], bl) != 0)
			continue;
		rest = line + 2 + bl;
		rn = n - 2 - bl;
		c->hit_close = rn >= 2 && rest[0] == '-' && rest[1] == '-';
		if (c->hit_close || only_space(rest, rn))
			return (int)i;
	}
	return -1;
}

/* Reads lines up to a delimiter line (left unread) or the end. */
static void scan_body(struct parse_ctx *c)
{
	c->hit = -1;
	while (c->pos < c->len) {
		size_t n = line_len(c);

		if (c->data[c->pos] == '-' &&
		    (c->hit = line_delimiter(c, n)) >= 0)
			return;
		line_skip(c, n);
	}
}

static void scan_header(struct parse_ctx *c)
{
	c->hit = -1;
	while (c->pos < c->len) {
		size_t n = line_len(c);

		if (line_blank(c->data + c->pos, n)) {
			line_skip(c, n);
			return;
		}
		if (c->data[c->pos] == '-' &&
		    (c->hit = line_delimiter(c, n)) >= 0)
			return;
		line_skip(c, n);
	}
}

/* The body ends where the scan stopped, less the line end before a
 * delimiter line (it belongs to the delimiter). */
static void body_end(struct parse_ctx *c, struct mime_part *p,
		     size_t lines_at_body)
{
	size_t end = c->pos, lines = c->lines - lines_at_body;

	if (c->hit >= 0 && end > p->body_offset && c->data[end - 1] == '\n') {
		end--;
		lines--;
		if (end > p->body_offset && c->data[end - 1] == '\r')
			end--;
	}
	p->body_size = end - p->body_offset;
	p->body_lines = lines;
}

static void parse_part(struct parse_ctx *c, struct mime_part *p, unsigned depth,
		       bool in_digest);

/* Moves the parsed children into the arena and points everything that
 * referred to their temporary places at the final ones. */
static void adopt_children(struct parse_ctx *c, struct mime_part *p,
			   struct mime_part *kids, size_t n)
{
	if (n == 0)
		return;
	p->children = mime_alloc(c->m, size_mul(n, sizeof(*kids)));
	memcpy(p->children, kids, n * sizeof(*kids));
	p->child_count = n;
	for (size_t i = 0; i < n; i++) {
		p->children[i].parent = p;
		for (size_t j = 0; j < p->children[i].child_count; j++)
			p->children[i].children[j].parent = &p->children[i];
	}
}

static bool may_descend(const struct parse_ctx *c, unsigned depth)
{
	return depth < c->max_depth && c->m->part_count < c->max_parts;
}

static void parse_multipart(struct parse_ctx *c, struct mime_part *p,
			    unsigned depth)
{
	const char *b = mime_part_param(p, "boundary");
	bool digest = strcmp(p->subtype, "digest") == 0;
	struct mime_part *kids = NULL;
	size_t nkids = 0, cap = 0;
	unsigned mine = c->nbounds;

	if (b == NULL || b[0] == '\0' || !may_descend(c, depth)) {
		scan_body(c);
		return;
	}
	c->bounds[mine] = b;
	c->blens[mine] = strlen(b);
	c->nbounds++;
	scan_body(c); /* the preamble */
	while (c->hit == (int)mine && !c->hit_close &&
	       c->m->part_count < c->max_parts) {
		line_skip(c, line_len(c));
		if (nkids == cap) {
			cap = cap == 0 ? 8 : size_mul(cap, 2);
			kids = mem_realloc(kids, size_mul(cap, sizeof(*kids)));
		}
		memset(&kids[nkids], 0, sizeof(*kids));
		parse_part(c, &kids[nkids++], depth + 1, digest);
	}
	c->nbounds = mine;
	if (c->hit == (int)mine) {
		if (c->hit_close)
			line_skip(c, line_len(c));
		scan_body(c); /* the epilogue, or what the limit left */
	}
	adopt_children(c, p, kids, nkids);
	mem_free(kids);
}

static void parse_message(struct parse_ctx *c, struct mime_part *p,
			  unsigned depth)
{
	struct mime_part *child;

	if (!may_descend(c, depth)) {
		p->type = "application";
		p->subtype = "octet-stream";
		scan_body(c);
		return;
	}
	child = mime_alloc(c->m, sizeof(*child));
	if (c->hit >= 0) {
		/* the header ended at a delimiter: an empty message */
		part_defaults(child, false);
		child->header_offset = child->body_offset = p->body_offset;
		c->m->part_count++;
	} else {
		parse_part(c, child, depth + 1, false);
	}
	child->parent = p;
	p->children = child;
	p->child_count = 1;
	p->is_message = true;
}

/* A multipart without parts gets its body as one text/plain part. */
static void add_text_child(struct parse_ctx *c, struct mime_part *p)
{
	struct mime_part *k = mime_alloc(c->m, sizeof(*k));

	part_defaults(k, false);
	k->header_offset = k->body_offset = p->body_offset;
	k->body_size = p->body_size;
	k->body_lines = p->body_lines;
	k->parent = p;
	p->children = k;
	p->child_count = 1;
	c->m->part_count++;
}

/* A last part with an empty body ends after its header's blank line,
 * which may be the line end its parent left to the delimiter: the parent
 * then takes it back, so that every part lies inside its parent. */
static void cover_last_child(struct parse_ctx *c, struct mime_part *p)
{
	const struct mime_part *last = &p->children[p->child_count - 1];
	size_t end = p->body_offset + p->body_size;
	size_t last_end = last->body_offset + last->body_size;

	for (; end < last_end; end++, p->body_size++)
		if (c->data[end] == '\n')
			p->body_lines++;
}

static void parse_part(struct parse_ctx *c, struct mime_part *p, unsigned depth,
		       bool in_digest)
{
	size_t lines_at_body;
	bool multipart;

	c->m->part_count++;
	p->header_offset = c->pos;
	scan_header(c);
	p->body_offset = c->pos;
	lines_at_body = c->lines;
	if (c->hit >= 0 && p->body_offset > p->header_offset &&
	    c->data[p->body_offset - 1] == '\n') {
		/* no blank line before a delimiter: the line end is the
		 * delimiter's, the body is empty */
		p->body_offset--;
		lines_at_body--;
		if (p->body_offset > p->header_offset &&
		    c->data[p->body_offset - 1] == '\r')
			p->body_offset--;
	}
	p->header_size = p->body_offset - p->header_offset;
	part_fields(c, p, in_digest);
	multipart = strcmp(p->type, "multipart") == 0;
	if (multipart)
		parse_multipart(c, p, depth);
	else if (strcmp(p->type, "message") == 0 &&
		 (strcmp(p->subtype, "rfc822") == 0 ||
		  strcmp(p->subtype, "global") == 0))
		parse_message(c, p, depth);
	else
		scan_body(c);
	body_end(c, p, lines_at_body);
	if (p->child_count > 0)
		cover_last_child(c, p);
	else if (multipart)
		add_text_child(c, p);
}

struct mime_message *mime_parse(const char *data, size_t len,
				const struct mime_limits *limits)
{
	struct mime_message *m = mem_alloc(sizeof(*m));
	struct parse_ctx *c = mem_alloc(sizeof(*c));

	m->data = data != NULL ? data : "";
	m->len = data != NULL ? len : 0;
	c->m = m;
	c->data = m->data;
	c->len = m->len;
	c->max_depth =
	    limits != NULL ? limits->max_depth : MIME_DEFAULT_MAX_DEPTH;
	if (c->max_depth > MIME_MAX_DEPTH_CAP)
		c->max_depth = MIME_MAX_DEPTH_CAP;
	c->max_parts =
	    limits != NULL ? limits->max_parts : MIME_DEFAULT_MAX_PARTS;
	str_init(&c->tmp, 256);
	m->root = mime_alloc(m, sizeof(*m->root));
	parse_part(c, m->root, 0, false);
	str_deinit(&c->tmp);
	mem_free(c);
	return m;
}

void mime_message_free(struct mime_message **mp)
{
	struct mime_message *m = *mp;

	if (m == NULL)
		return;
	while (m->chunks != NULL) {
		struct mime_chunk *next = m->chunks->next;

		mem_free(m->chunks);
		m->chunks = next;
	}
	mem_free(*mp);
}

const struct mime_part *mime_root(const struct mime_message *m)
{
	return m->root;
}

const char *mime_data(const struct mime_message *m, size_t *len_r)
{
	*len_r = m->len;
	return m->data;
}

size_t mime_part_count(const struct mime_message *m)
{
	return m->part_count;
}
