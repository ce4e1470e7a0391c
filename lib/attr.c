/* attr.c: the IPC record format: writing records, validating received
 * bodies and typed access to their fields (see attr.h, doc/ipc.md).
 * Byte streams, blocking I/O and the client live in attr_io.c.
 *
 * A field on the wire: type u8, name length u8, name, NUL, value length
 * u32 (big-endian), value, NUL. The NULs make every name and value a C
 * string in place, so readers never copy. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "mem.h"
#include "msg.h"

#define FIELD_OVERHEAD 8 /* type, name length, 2 NULs, value length */
#define HEADER_SIZE 4

struct field {
	unsigned type;
	const char *name;
	size_t nlen;
	const unsigned char *value;
	size_t vlen;
	size_t size;
};

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static bool name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.';
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > ATTR_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok((unsigned char)name[i]))
			return false;
	return true;
}

static const char *type_name(unsigned type)
{
	static const char *const names[] = {"?", "int", "str", "list"};

	return type <= ATTR_TYPE_LIST ? names[type] : "?";
}

/* Reads the field at p (already validated). */
static void field_at(const unsigned char *p, struct field *f)
{
	f->type = p[0];
	f->nlen = p[1];
	f->name = (const char *)p + 2;
	f->vlen = get_u32(p + 3 + f->nlen);
	f->value = p + 7 + f->nlen;
	f->size = FIELD_OVERHEAD + f->nlen + f->vlen;
}

/* ---- writing */

void attr_out_init(struct attr_out *o)
{
	memset(o, 0, sizeof(*o));
	str_init(&o->buf, 256);
	attr_out_reset(o);
}

void attr_out_deinit(struct attr_out *o)
{
	str_deinit(&o->buf);
}

void attr_out_reset(struct attr_out *o)
{
	static const unsigned char zero[HEADER_SIZE];

	str_clear(&o->buf);
	str_append(&o->buf, zero, sizeof(zero));
	o->depth = 0;
	o->finished = false;
	o->overflow = false;
	o->error[0] = '\0';
}

/* Start of the fields of the level puts go to now. */
static size_t out_level_start(const struct attr_out *o)
{
	if (o->depth == 0)
		return HEADER_SIZE;
	if (!o->open[o->depth - 1].item)
		msg_panic("attr: put into a list outside attr_item_begin()");
	return o->open[o->depth - 1].len_at + 4;
}

/* Bugs in the caller's code, not input: abort loudly. */
static void out_check_name(const struct attr_out *o, const char *name)
{
	size_t nlen = strlen(name), pos = out_level_start(o), n = 0;
	struct field f;

	if (o->finished)
		msg_panic("attr: put '%s' after attr_out_finish()", name);
	if (!name_ok(name, nlen))
		msg_panic("attr: invalid attribute name '%s'", name);
	for (; pos < o->buf.len; pos += f.size, n++) {
		field_at((const unsigned char *)o->buf.data + pos, &f);
		if (f.nlen == nlen && memcmp(f.name, name, nlen) == 0)
			msg_panic("attr: attribute '%s' put twice", name);
	}
	if (n >= ATTR_MAX_FIELDS)
		msg_panic("attr: more than %d attributes in one record",
			  ATTR_MAX_FIELDS);
}

/* Appends a field header; returns the offset of its value length word. */
static size_t out_header(struct attr_out *o, unsigned type, const char *name,
			 size_t vlen)
{
	size_t nlen = strlen(name), at;
	unsigned char head[2] = {(unsigned char)type, (unsigned char)nlen};
	unsigned char len[4];

	out_check_name(o, name);
	put_u32(len, (uint32_t)vlen);
	str_append(&o->buf, head, 2);
	str_append(&o->buf, name, nlen + 1); /* with its NUL */
	at = o->buf.len;
	str_append(&o->buf, len, 4);
	return at;
}

static void out_value(struct attr_out *o, unsigned type, const char *name,
		      const void *data, size_t len)
{
	if (len > UINT32_MAX) {
		o->overflow = true;
		return;
	}
	out_header(o, type, name, len);
	str_append(&o->buf, data, len);
	str_putc(&o->buf, '\0');
}

void attr_put_int(struct attr_out *o, const char *name, int64_t value)
{
	unsigned char be[8];
	uint64_t u = (uint64_t)value;

	for (int i = 7; i >= 0; i--, u >>= 8)
		be[i] = (unsigned char)u;
	out_value(o, ATTR_TYPE_INT, name, be, sizeof(be));
}

void attr_put_str(struct attr_out *o, const char *name, const char *value)
{
	out_value(o, ATTR_TYPE_STR, name, value, strlen(value));
}

void attr_put_data(struct attr_out *o, const char *name, const void *data,
		   size_t len)
{
	out_value(o, ATTR_TYPE_STR, name, data, len);
}

static void out_push(struct attr_out *o, size_t len_at, bool item)
{
	if (o->depth == 2 * ATTR_MAX_DEPTH)
		msg_panic("attr: lists nested deeper than %d", ATTR_MAX_DEPTH);
	o->open[o->depth].len_at = len_at;
	o->open[o->depth].item = item;
	o->depth++;
}

/* Fills in the length word of the innermost open list or item. */
static void out_pop(struct attr_out *o, bool item)
{
	size_t at, len;

	if (o->depth == 0 || o->open[o->depth - 1].item != item)
		msg_panic("attr: unbalanced attr_%s_end()",
			  item ? "item" : "list");
	at = o->open[--o->depth].len_at;
	len = o->buf.len - at - 4;
	if (len > UINT32_MAX)
		o->overflow = true;
	put_u32((unsigned char *)o->buf.data + at, (uint32_t)len);
}

void attr_list_begin(struct attr_out *o, const char *name)
{
	out_push(o, out_header(o, ATTR_TYPE_LIST, name, 0), false);
}

void attr_item_begin(struct attr_out *o)
{
	static const unsigned char zero[4];

	if (o->depth == 0 || o->open[o->depth - 1].item)
		msg_panic("attr: attr_item_begin() outside a list");
	out_push(o, o->buf.len, true);
	str_append(&o->buf, zero, sizeof(zero));
}

void attr_item_end(struct attr_out *o)
{
	out_pop(o, true);
}

void attr_list_end(struct attr_out *o)
{
	out_pop(o, false);
	str_putc(&o->buf, '\0');
}

int attr_out_finish(struct attr_out *o, size_t max, const void **data_r,
		    size_t *len_r, const char **error_r)
{
	size_t body = o->buf.len - HEADER_SIZE;

	if (o->depth != 0)
		msg_panic("attr: record finished inside a list");
	if (o->overflow || body > UINT32_MAX || (max != 0 && body > max)) {
		snprintf(o->error, sizeof(o->error),
			 "record too large (%zu bytes, limit %zu)", body,
			 max != 0 ? max : (size_t)UINT32_MAX);
		*error_r = o->error;
		return -1;
	}
	put_u32((unsigned char *)o->buf.data, (uint32_t)body);
	o->finished = true;
	*data_r = o->buf.data;
	*len_r = o->buf.len;
	return 1;
}

void attr_hello_put(struct attr_out *o, const char *protocol, int64_t version)
{
	attr_out_reset(o);
	attr_put_str(o, "protocol", protocol);
	attr_put_int(o, "version", version);
}

/* ---- validation */

static int body_validate(const unsigned char *p, size_t len, unsigned depth,
			 unsigned *nfields_r, char *err, size_t errsize);

static int list_validate(const unsigned char *p, size_t len, unsigned depth,
			 char *err, size_t errsize)
{
	size_t pos = 0;
	unsigned n;

	if (depth > ATTR_MAX_DEPTH) {
		snprintf(err, errsize, "lists nested deeper than %d",
			 ATTR_MAX_DEPTH);
		return -1;
	}
	while (pos < len) {
		uint32_t ilen;

		if (len - pos < 4 ||
		    (ilen = get_u32(p + pos)) > len - pos - 4) {
			snprintf(err, errsize, "list item runs past its list");
			return -1;
		}
		if (body_validate(p + pos + 4, ilen, depth, &n, err, errsize) <
		    0)
			return -1;
		pos += 4 + (size_t)ilen;
	}
	return 1;
}

/* Checks the framing of the field at p (left bytes remain); on success
 * fills f. */
static int field_validate(const unsigned char *p, size_t left, struct field *f,
			  char *err, size_t errsize)
{
	size_t nlen;

	if (left < FIELD_OVERHEAD + 1) {
		snprintf(err, errsize, "truncated field");
		return -1;
	}
	if (p[0] < ATTR_TYPE_INT || p[0] > ATTR_TYPE_LIST) {
		snprintf(err, errsize, "unknown field type %u", p[0]);
		return -1;
	}
	nlen = p[1];
	if (left < FIELD_OVERHEAD + nlen ||
	    !name_ok((const char *)p + 2, nlen) || p[2 + nlen] != '\0') {
		snprintf(err, errsize, "invalid attribute name");
		return -1;
	}
	field_at(p, f);
	if (f->vlen > left - FIELD_OVERHEAD - nlen ||
	    f->value[f->vlen] != '\0') {
		snprintf(err, errsize, "value of '%s' runs past its record",
			 f->name);
		return -1;
	}
	if (f->type == ATTR_TYPE_INT && f->vlen != 8) {
		snprintf(err, errsize, "int '%s' is %zu bytes, not 8", f->name,
			 f->vlen);
		return -1;
	}
	return 1;
}

static int body_validate(const unsigned char *p, size_t len, unsigned depth,
			 unsigned *nfields_r, char *err, size_t errsize)
{
	const char *names[ATTR_MAX_FIELDS];
	size_t pos = 0;
	unsigned n = 0;
	struct field f;

	for (; pos < len; pos += f.size) {
		if (field_validate(p + pos, len - pos, &f, err, errsize) < 0)
			return -1;
		if (n == ATTR_MAX_FIELDS) {
			snprintf(err, errsize, "more than %d attributes",
				 ATTR_MAX_FIELDS);
			return -1;
		}
		for (unsigned i = 0; i < n; i++) {
			/* names are NUL-terminated in place */
			if (strcmp(names[i], f.name) == 0) {
				snprintf(err, errsize,
					 "attribute '%s' repeated", f.name);
				return -1;
			}
		}
		names[n++] = f.name;
		if (f.type == ATTR_TYPE_LIST &&
		    list_validate(f.value, f.vlen, depth + 1, err, errsize) < 0)
			return -1;
	}
	*nfields_r = n;
	return 1;
}

static void rec_init(struct attr_rec *r, const unsigned char *body, size_t len,
		     unsigned nfields, unsigned depth)
{
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->len = len;
	r->nfields = nfields;
	r->depth = depth;
}

int attr_rec_parse(const void *body, size_t len, struct attr_rec *rec_r,
		   const char **error_r)
{
	static char err[160];
	unsigned n;

	if (body_validate(body, len, 0, &n, err, sizeof(err)) < 0) {
		*error_r = err;
		return -1;
	}
	rec_init(rec_r, body, len, n, 0);
	return 1;
}

/* ---- typed access */

/* Finds name with the given type and marks it used. */
static int rec_find(struct attr_rec *r, const char *name, unsigned type,
		    struct field *f, const char **error_r)
{
	size_t nlen = strlen(name), pos = 0;

	for (unsigned i = 0; pos < r->len; pos += f->size, i++) {
		field_at(r->body + pos, f);
		if (f->nlen != nlen || memcmp(f->name, name, nlen) != 0)
			continue;
		if (f->type != type) {
			snprintf(r->error, sizeof(r->error),
				 "attribute '%s' is %s, expected %s", name,
				 type_name(f->type), type_name(type));
			*error_r = r->error;
			return -1;
		}
		r->used[i / 64] |= (uint64_t)1 << (i % 64);
		return 1;
	}
	snprintf(r->error, sizeof(r->error), "missing attribute '%s'", name);
	*error_r = r->error;
	return 0;
}

int attr_get_int(struct attr_rec *r, const char *name, int64_t *value_r,
		 const char **error_r)
{
	struct field f;
	uint64_t u = 0;
	int ret = rec_find(r, name, ATTR_TYPE_INT, &f, error_r);

	if (ret != 1)
		return ret;
	for (int i = 0; i < 8; i++)
		u = u << 8 | f.value[i];
	*value_r = (int64_t)u;
	return 1;
}

int attr_get_int_range(struct attr_rec *r, const char *name, int64_t min,
		       int64_t max, int64_t *value_r, const char **error_r)
{
	int64_t v;
	int ret = attr_get_int(r, name, &v, error_r);

	if (ret != 1)
		return ret;
	if (v < min || v > max) {
		snprintf(r->error, sizeof(r->error),
			 "attribute '%s' = %" PRId64 " is outside %" PRId64
			 "..%" PRId64,
			 name, v, min, max);
		*error_r = r->error;
		return -1;
	}
	*value_r = v;
	return 1;
}

int attr_get_str(struct attr_rec *r, const char *name, const char **value_r,
		 size_t *len_r, const char **error_r)
{
	struct field f;
	int ret = rec_find(r, name, ATTR_TYPE_STR, &f, error_r);

	if (ret != 1)
		return ret;
	*value_r = (const char *)f.value;
	*len_r = f.vlen;
	return 1;
}

int attr_get_cstr(struct attr_rec *r, const char *name, const char **value_r,
		  const char **error_r)
{
	const char *v;
	size_t len;
	int ret = attr_get_str(r, name, &v, &len, error_r);

	if (ret != 1)
		return ret;
	if (memchr(v, '\0', len) != NULL) {
		snprintf(r->error, sizeof(r->error),
			 "attribute '%s' contains a NUL byte", name);
		*error_r = r->error;
		return -1;
	}
	*value_r = v;
	return 1;
}

int attr_get_list(struct attr_rec *r, const char *name,
		  struct attr_list *list_r, const char **error_r)
{
	struct field f;
	int ret = rec_find(r, name, ATTR_TYPE_LIST, &f, error_r);

	if (ret != 1)
		return ret;
	list_r->next = f.value;
	list_r->end = f.value + f.vlen;
	list_r->depth = r->depth + 1;
	list_r->count = 0;
	for (const unsigned char *p = f.value; p < list_r->end;
	     p += 4 + (size_t)get_u32(p))
		list_r->count++;
	return 1;
}

size_t attr_list_count(const struct attr_list *l)
{
	return l->count;
}

int attr_list_next(struct attr_list *l, struct attr_rec *item_r)
{
	const unsigned char *body;
	size_t len, pos = 0;
	unsigned n = 0;
	struct field f;

	if (l->next >= l->end)
		return 0;
	len = get_u32(l->next);
	body = l->next + 4;
	for (; pos < len; pos += f.size, n++)
		field_at(body + pos, &f);
	rec_init(item_r, body, len, n, l->depth);
	l->next = body + len;
	return 1;
}

int attr_rec_done(struct attr_rec *r, const char **error_r)
{
	size_t pos = 0;
	struct field f;

	for (unsigned i = 0; pos < r->len; pos += f.size, i++) {
		field_at(r->body + pos, &f);
		if ((r->used[i / 64] & ((uint64_t)1 << (i % 64))) == 0) {
			snprintf(r->error, sizeof(r->error),
				 "unexpected attribute '%s'", f.name);
			*error_r = r->error;
			return -1;
		}
	}
	return 1;
}

static void dump_value(const struct field *f, unsigned depth, struct str *out);

static void dump_body(const unsigned char *body, size_t len, unsigned depth,
		      struct str *out)
{
	size_t pos = 0;
	struct field f;

	str_putc(out, '{');
	for (; pos < len; pos += f.size) {
		field_at(body + pos, &f);
		str_printf(out, "%s%s=", pos > 0 ? ", " : "", f.name);
		dump_value(&f, depth, out);
	}
	str_putc(out, '}');
}

static void dump_value(const struct field *f, unsigned depth, struct str *out)
{
	uint64_t u = 0;

	if (f->type == ATTR_TYPE_INT) {
		for (int i = 0; i < 8; i++)
			u = u << 8 | f->value[i];
		str_printf(out, "%" PRId64, (int64_t)u);
	} else if (f->type == ATTR_TYPE_STR) {
		str_putc(out, '"');
		for (size_t i = 0; i < f->vlen; i++) {
			unsigned char c = f->value[i];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				str_putc(out, c);
			else
				str_printf(out, "\\x%02x", c);
		}
		str_putc(out, '"');
	} else {
		const unsigned char *p = f->value, *end = f->value + f->vlen;

		str_putc(out, '[');
		for (; p < end; p += 4 + (size_t)get_u32(p)) {
			if (p > f->value)
				str_append_cstr(out, ", ");
			dump_body(p + 4, get_u32(p), depth + 1, out);
		}
		str_putc(out, ']');
	}
}

void attr_rec_dump(const struct attr_rec *r, struct str *out)
{
	dump_body(r->body, r->len, r->depth, out);
}

int attr_hello_check(struct attr_rec *rec, const char *protocol,
		     int64_t version, const char **error_r)
{
	char safe[64], msg[sizeof(rec->error)];
	const char *proto, *err;
	size_t plen;
	int64_t v;

	if (attr_get_str(rec, "protocol", &proto, &plen, &err) != 1 ||
	    attr_get_int(rec, "version", &v, &err) != 1) {
		snprintf(msg, sizeof(msg), "bad hello: %s", err);
	} else if (plen != strlen(protocol) ||
		   memcmp(proto, protocol, plen) != 0) {
		snprintf(msg, sizeof(msg),
			 "peer speaks protocol '%s', expected '%s'",
			 msg_safe(safe, sizeof(safe), proto, plen), protocol);
	} else if (v != version) {
		snprintf(msg, sizeof(msg),
			 "peer speaks %s version %" PRId64
			 ", expected %" PRId64,
			 protocol, v, version);
	} else if (attr_rec_done(rec, &err) < 0) {
		snprintf(msg, sizeof(msg), "bad hello: %s", err);
	} else {
		return 1;
	}
	memcpy(rec->error, msg, sizeof(msg));
	*error_r = rec->error;
	return -1;
}
