/* fetch.c: FETCH and UID FETCH. The items are parsed once, then a job
 * writes one "* n FETCH (...)" response per message while the client
 * reads. What the index knows (UID, FLAGS, INTERNALDATE, RFC822.SIZE)
 * needs no file; ENVELOPE, BODY, BODYSTRUCTURE and top-level header
 * fields come from the store's cache, filled the first time a message is
 * read; everything else reads the message (converted to CRLF). A body
 * fetch without .PEEK sets \Seen (RFC 9051 6.4.5). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mem.h"
#include "mime.h"
#include "msg.h"

/* Messages per job step (the output check comes between messages). */
#define FETCH_STEP 64

enum fetch_kind {
	F_UID,
	F_FLAGS,
	F_INTERNALDATE,
	F_SIZE,
	F_ENVELOPE,
	F_BODY,		 /* BODY without section: the non-extended structure */
	F_BODYSTRUCTURE,
	F_SECTION,	 /* BODY[...], BODY.PEEK[...], RFC822* */
	F_BINARY,	 /* BINARY[...], BINARY.PEEK[...] */
	F_BINARY_SIZE,
};

struct fetch_item {
	enum fetch_kind kind;
	char *section; /* inside the brackets */
	char *label;   /* the response's item name */
	bool peek;
	bool partial;
	uint64_t offset, length;
	/* A top-level HEADER.FIELDS[.NOT] list, parsed once: such fetches
	 * are served from the cached header without parsing the message. */
	char **fields;
	size_t nfields;
	bool fields_not;
};

struct fetch_job {
	struct fetch_item *items;
	size_t count;
	size_t *idx;
	size_t idx_count, pos;
	bool uid;
	bool set_seen;	/* some item sets \Seen */
	bool need_file; /* some item needs the message itself */
	bool skipped;	/* a message was expunged meanwhile */
	bool unknown_cte;
	bool have_msg; /* msg holds the current message */
	uint32_t *seen_set; /* UIDs this fetch marked \Seen (sorted) */
	size_t seen_count;
	struct str msg, line, tmp;
	struct mime_message *mime;
	struct mime_message *hdr_mime;
};

int imapd_load_message(struct session *s, uint32_t uid, struct str *out,
		       const char **error_r)
{
	struct str raw;
	int r;

	str_init(&raw, 0);
	r = mstore_msg_read(s->mb, uid, &raw, error_r);
	str_clear(out);
	if (r > 0) {
		/* LF (as stored) to CRLF; a CR already before the LF stays. */
		const char *p = raw.data, *end = raw.data + raw.len, *nl;

		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			str_append(out, p, (size_t)(nl - p));
			if (nl == raw.data || nl[-1] != '\r')
				str_putc(out, '\r');
			str_putc(out, '\n');
			p = nl + 1;
		}
		str_append(out, p, (size_t)(end - p));
		if (out->data == NULL)
			str_set(out, "", 0);
	}
	str_deinit(&raw);
	return r;
}

static void items_free(struct fetch_item *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		mem_free(items[i].section);
		mem_free(items[i].label);
		for (size_t k = 0; k < items[i].nfields; k++)
			mem_free(items[i].fields[k]);
		mem_free(items[i].fields);
	}
	mem_free(items);
}

static void job_free(void *ctx)
{
	struct fetch_job *j = ctx;

	items_free(j->items, j->count);
	mem_free(j->idx);
	mem_free(j->seen_set);
	str_deinit(&j->msg);
	str_deinit(&j->line);
	str_deinit(&j->tmp);
	mime_message_free(&j->mime);
	mime_message_free(&j->hdr_mime);
	mem_free(j);
}

/* "<o.n>" after a section; 1, or -1. */
static int parse_partial(const char *p, struct fetch_item *it)
{
	char *end;
	unsigned long long o, n;

	if (*p == '\0')
		return 1;
	if (*p != '<' || p[1] < '0' || p[1] > '9')
		return -1;
	o = strtoull(p + 1, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	n = strtoull(end + 1, &end, 10);
	if (*end != '>' || end[1] != '\0' || n == 0 || o > UINT32_MAX ||
	    n > UINT32_MAX)
		return -1;
	it->partial = true;
	it->offset = o;
	it->length = n;
	return 1;
}

/* "HEADER.FIELDS (A B)" / "HEADER.FIELDS.NOT (A B)" at the top level:
 * the names (atoms or quoted strings) into it->fields. Anything else (or
 * anything unusual) is left to lib/mime. */
static void parse_fields(struct fetch_item *it)
{
	const char *p = it->section, *e;
	size_t cap = 0;

	if (strncasecmp(p, "HEADER.FIELDS.NOT (", 19) == 0) {
		it->fields_not = true;
		p += 19;
	} else if (strncasecmp(p, "HEADER.FIELDS (", 15) == 0) {
		p += 15;
	} else {
		return;
	}
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == ')' && p[1] == '\0')
			return;
		if (*p == '"') {
			e = strchr(p + 1, '"');
			if (e == NULL || memchr(p + 1, '\\', (size_t)(e - p - 1)))
				break;
			p++;
		} else {
			e = p + strcspn(p, " )\"");
		}
		if (e == p || it->nfields > 1000)
			break;
		if (it->nfields == cap) {
			cap = cap * 2 + 8;
			it->fields = mem_realloc(it->fields,
						 size_mul(cap, sizeof(char *)));
		}
		it->fields[it->nfields++] = mem_strndup(p, (size_t)(e - p));
		p = *e == '"' ? e + 1 : e;
	}
	for (size_t k = 0; k < it->nfields; k++)
		mem_free(it->fields[k]);
	mem_free(it->fields);
	it->nfields = 0;
}

/* The header lines whose names are (or, for .NOT, are not) in the
 * item's list, then the blank line, as RFC 9051 6.4.5 says. */
static void fields_filter(const struct fetch_item *it, const char *h,
			  size_t len, struct str *out)
{
	const char *end = h + len, *p = h;

	while (p < end && !(*p == '\r' || *p == '\n')) {
		const char *line_end = p, *colon;
		bool hit = false;

		/* One field: up to a line end not followed by a space or tab. */
		do {
			const char *nl = memchr(line_end, '\n',
						(size_t)(end - line_end));

			line_end = nl != NULL ? nl + 1 : end;
		} while (line_end < end && (*line_end == ' ' || *line_end == '\t'));
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon != NULL) {
			size_t nlen = (size_t)(colon - p);

			while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
				nlen--;
			for (size_t k = 0; k < it->nfields && !hit; k++)
				hit = strlen(it->fields[k]) == nlen &&
				      strncasecmp(it->fields[k], p, nlen) == 0;
		}
		if (colon != NULL && hit != it->fields_not)
			str_append(out, p, (size_t)(line_end - p));
		p = line_end;
	}
	str_append(out, "\r\n", 2);
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...],
 * BINARY.SIZE[...]. */
static int parse_section_item(const char *atom, struct fetch_item *it)
{
	const char *open = strchr(atom, '['), *close;
	size_t plen = (size_t)(open - atom);
	struct str label;

	close = strrchr(atom, ']');
	if (close == NULL || close < open)
		return -1;
	if (plen == 4 && strncasecmp(atom, "BODY", 4) == 0)
		it->kind = F_SECTION;
	else if (plen == 9 && strncasecmp(atom, "BODY.PEEK", 9) == 0) {
		it->kind = F_SECTION;
		it->peek = true;
	} else if (plen == 6 && strncasecmp(atom, "BINARY", 6) == 0)
		it->kind = F_BINARY;
	else if (plen == 11 && strncasecmp(atom, "BINARY.PEEK", 11) == 0) {
		it->kind = F_BINARY;
		it->peek = true;
	} else if (plen == 11 && strncasecmp(atom, "BINARY.SIZE", 11) == 0) {
		it->kind = F_BINARY_SIZE;
		it->peek = true;
	} else
		return -1;
	if (parse_partial(close + 1, it) < 0 ||
	    (it->partial && it->kind == F_BINARY_SIZE))
		return -1;
	it->section = mem_strndup(open + 1, (size_t)(close - open - 1));
	if (it->kind == F_SECTION)
		parse_fields(it);
	str_init(&label, 32);
	str_append_cstr(&label, it->kind == F_SECTION	 ? "BODY["
				: it->kind == F_BINARY ? "BINARY["
						       : "BINARY.SIZE[");
	str_append_cstr(&label, it->section);
	str_putc(&label, ']');
	if (it->partial)
		str_printf(&label, "<%llu>", (unsigned long long)it->offset);
	it->label = str_steal(&label);
	return 1;
}

static int parse_simple(const char *a, struct fetch_item *it)
{
	static const struct {
		const char *name;
		enum fetch_kind kind;
		const char *section;
		bool peek;
	} simple[] = {
	    {"UID", F_UID, NULL, true},
	    {"FLAGS", F_FLAGS, NULL, true},
	    {"INTERNALDATE", F_INTERNALDATE, NULL, true},
	    {"RFC822.SIZE", F_SIZE, NULL, true},
	    {"ENVELOPE", F_ENVELOPE, NULL, true},
	    {"BODY", F_BODY, NULL, true},
	    {"BODYSTRUCTURE", F_BODYSTRUCTURE, NULL, true},
	    {"RFC822", F_SECTION, "", false},
	    {"RFC822.HEADER", F_SECTION, "HEADER", true},
	    {"RFC822.TEXT", F_SECTION, "TEXT", false},
	};

	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcasecmp(a, simple[i].name) != 0)
			continue;
		it->kind = simple[i].kind;
		it->peek = simple[i].peek;
		if (simple[i].section != NULL) {
			it->section = mem_strdup(simple[i].section);
			it->label = mem_strdup(simple[i].name);
		}
		return 1;
	}
	return -1;
}

static int items_add(struct fetch_job *j, const char *atom, size_t *cap)
{
	struct fetch_item it = {0};

	if (strchr(atom, '[') != NULL ? parse_section_item(atom, &it) < 0
				      : parse_simple(atom, &it) < 0) {
		mem_free(it.section);
		mem_free(it.label);
		return -1;
	}
	if (j->count == *cap) {
		*cap = *cap * 2 + 8;
		j->items = mem_realloc(j->items, size_mul(*cap, sizeof(it)));
	}
	j->items[j->count++] = it;
	if (!it.peek)
		j->set_seen = true;
	if (it.kind == F_SECTION || it.kind == F_BINARY ||
	    it.kind == F_BINARY_SIZE)
		j->need_file = true;
	return 1;
}

/* The item list (macros expanded); UID first when uid. */
static int items_parse(struct fetch_job *j, const struct imap_arg *a)
{
	static const char *const all[] = {"FLAGS", "INTERNALDATE",
					  "RFC822.SIZE", "ENVELOPE", "BODY"};
	size_t cap = 0, n = 0;

	if (j->uid && items_add(j, "UID", &cap) < 0)
		return -1;
	if (a->type == IMAP_ARG_ATOM &&
	    (strcasecmp(a->str, "ALL") == 0 || strcasecmp(a->str, "FAST") == 0 ||
	     strcasecmp(a->str, "FULL") == 0)) {
		n = strcasecmp(a->str, "FAST") == 0   ? 3
		    : strcasecmp(a->str, "ALL") == 0 ? 4
						     : 5;
		for (size_t i = 0; i < n; i++)
			(void)items_add(j, all[i], &cap);
		return 1;
	}
	if (a->type == IMAP_ARG_ATOM)
		return items_add(j, a->str, &cap);
	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return -1;
	for (size_t i = 0; i < a->count; i++) {
		if (a->list[i].type != IMAP_ARG_ATOM)
			return -1;
		if (j->uid && strcasecmp(a->list[i].str, "UID") == 0)
			continue;
		if (items_add(j, a->list[i].str, &cap) < 0)
			return -1;
	}
	return 1;
}

/* Appends "{n}\r\n" + data (or "~{n}" when it holds NUL), clipped by a
 * partial range. */
static void literal_out(struct str *line, const struct fetch_item *it,
			const char *data, size_t len, bool binary)
{
	if (it->partial) {
		if (it->offset >= len) {
			len = 0;
		} else {
			data += it->offset;
			len -= (size_t)it->offset;
			if (len > it->length)
				len = (size_t)it->length;
		}
	}
	if (binary && memchr(data, '\0', len) != NULL)
		str_putc(line, '~');
	str_printf(line, "{%zu}\r\n", len);
	str_append(line, data, len);
}

/* Fills the cache entries of one message from its parsed form. */
static void cache_fill(struct session *s, struct fetch_job *j, uint32_t uid)
{
	const struct mime_part *root = mime_root(j->mime);

	str_clear(&j->tmp);
	mime_imap_envelope(j->mime, &j->tmp);
	(void)mstore_cache_put(s->mb, uid, MSTORE_CACHE_ENVELOPE, j->tmp.data,
			       j->tmp.len);
	str_clear(&j->tmp);
	mime_imap_bodystructure(j->mime, false, &j->tmp);
	(void)mstore_cache_put(s->mb, uid, MSTORE_CACHE_BODY, j->tmp.data,
			       j->tmp.len);
	str_clear(&j->tmp);
	mime_imap_bodystructure(j->mime, true, &j->tmp);
	(void)mstore_cache_put(s->mb, uid, MSTORE_CACHE_BODYSTRUCTURE,
			       j->tmp.data, j->tmp.len);
	(void)mstore_cache_put(s->mb, uid, MSTORE_CACHE_HEADER,
			       j->msg.data + root->header_offset,
			       root->header_size);
}

/* Loads the message (CRLF) once per message; 1, 0 expunged, -1. */
static int need_raw(struct session *s, struct fetch_job *j, uint32_t uid)
{
	const char *err;
	int r;

	if (j->have_msg)
		return 1;
	r = imapd_load_message(s, uid, &j->msg, &err);
	if (r < 0)
		msg_warn("%s: user %s: read uid %u in %s: %s", s->client_addr,
			 s->user, uid, s->mailbox, err);
	j->have_msg = r > 0;
	return r;
}

/* The message parsed; the cache is filled the first time. */
static int need_message(struct session *s, struct fetch_job *j, uint32_t uid)
{
	const char *data;
	size_t len;
	int r;

	if (j->mime != NULL)
		return 1;
	if ((r = need_raw(s, j, uid)) <= 0)
		return r;
	j->mime = mime_parse(j->msg.data, j->msg.len, NULL);
	if (mstore_cache_get(s->mb, uid, MSTORE_CACHE_BODYSTRUCTURE, &data,
			     &len) <= 0)
		cache_fill(s, j, uid);
	return 1;
}

/* A cached structure (ENVELOPE/BODY/BODYSTRUCTURE) or the header. */
static int cached(struct session *s, struct fetch_job *j, uint32_t uid,
		  enum mstore_cache_field f, const char **data, size_t *len)
{
	int r;

	if (j->mime == NULL &&
	    mstore_cache_get(s->mb, uid, f, data, len) > 0)
		return 1;
	if ((r = need_message(s, j, uid)) <= 0)
		return r;
	if (mstore_cache_get(s->mb, uid, f, data, len) > 0)
		return 1;
	/* The cache refused the entry: compute it here. */
	str_clear(&j->tmp);
	if (f == MSTORE_CACHE_ENVELOPE)
		mime_imap_envelope(j->mime, &j->tmp);
	else if (f == MSTORE_CACHE_HEADER)
		str_append(&j->tmp, j->msg.data + mime_root(j->mime)->header_offset,
			   mime_root(j->mime)->header_size);
	else
		mime_imap_bodystructure(j->mime, f == MSTORE_CACHE_BODYSTRUCTURE,
					&j->tmp);
	*data = j->tmp.data != NULL ? j->tmp.data : "";
	*len = j->tmp.len;
	return 1;
}

/* A top-level HEADER / HEADER.FIELDS section served from the cache. */
static bool header_only(const char *section)
{
	return strncasecmp(section, "HEADER", 6) == 0;
}

static int section_out(struct session *s, struct fetch_job *j, uint32_t uid,
		       const struct fetch_item *it)
{
	const char *data, *err, *res = NULL;
	size_t len, off, size, res_len = 0;
	struct str out;
	int r;

	/* The result is either a range of a buffer we hold (res) or built
	 * in out; it is copied once, into the response line. */
	str_init(&out, 0);
	if (it->nfields > 0 && j->mime == NULL) {
		if ((r = cached(s, j, uid, MSTORE_CACHE_HEADER, &data, &len)) <= 0)
			goto done;
		fields_filter(it, data, len, &out);
	} else if (it->kind == F_SECTION && header_only(it->section) &&
		   j->mime == NULL) {
		if ((r = cached(s, j, uid, MSTORE_CACHE_HEADER, &data, &len)) <= 0)
			goto done;
		mime_message_free(&j->hdr_mime);
		str_set(&j->tmp, data, len);
		j->hdr_mime = mime_parse(j->tmp.data, j->tmp.len, NULL);
		r = mime_section_range(j->hdr_mime, it->section, &out, &off,
				       &size, &err);
		if (r == 2) {
			res = j->tmp.data + off;
			res_len = size;
		}
	} else if (it->section[0] == '\0' && it->kind != F_BINARY_SIZE) {
		/* The whole message: no need to parse it. */
		if ((r = need_raw(s, j, uid)) <= 0)
			goto done;
		res = j->msg.data;
		res_len = j->msg.len;
	} else {
		if ((r = need_message(s, j, uid)) <= 0)
			goto done;
		if (it->kind == F_SECTION) {
			r = mime_section_range(j->mime, it->section, &out, &off,
					       &size, &err);
			if (r == 2) {
				res = j->msg.data + off;
				res_len = size;
			}
		} else {
			r = mime_fetch_binary(j->mime, it->section, &out, &err);
			if (r == 0)
				j->unknown_cte = true;
		}
	}
	if (r <= 0)
		goto done;
	if (res == NULL) {
		res = out.data != NULL ? out.data : "";
		res_len = out.len;
	}
	str_append_cstr(&j->line, it->label);
	if (it->kind == F_BINARY_SIZE) {
		str_printf(&j->line, " %zu", res_len);
	} else {
		str_putc(&j->line, ' ');
		literal_out(&j->line, it, res, res_len, it->kind == F_BINARY);
	}
	r = 1;
done:
	str_deinit(&out);
	return r;
}

/* One item of message m (at view index i); 1, 0 expunged, -1 failed
 * (message skipped). */
static int item_out(struct session *s, struct fetch_job *j,
		    const struct mstore_msg *m, const struct fetch_item *it)
{
	const char *data;
	size_t len;
	int r;

	switch (it->kind) {
	case F_UID:
		str_printf(&j->line, "UID %u", m->uid);
		return 1;
	case F_FLAGS:
		str_append_cstr(&j->line, "FLAGS ");
		imapd_flags_out(s, imapd_msg_flags(s, m), m->keywords, &j->line);
		return 1;
	case F_SIZE:
		str_printf(&j->line, "RFC822.SIZE %llu",
			   (unsigned long long)m->size);
		return 1;
	case F_INTERNALDATE:
		str_append_cstr(&j->line, "INTERNALDATE ");
		imap_format_datetime((time_t)m->internaldate, 0, &j->line);
		return 1;
	case F_ENVELOPE:
	case F_BODY:
	case F_BODYSTRUCTURE:
		r = cached(s, j, m->uid,
			   it->kind == F_ENVELOPE ? MSTORE_CACHE_ENVELOPE
			   : it->kind == F_BODY	  ? MSTORE_CACHE_BODY
						  : MSTORE_CACHE_BODYSTRUCTURE,
			   &data, &len);
		if (r <= 0)
			return r;
		str_append_cstr(&j->line, it->kind == F_ENVELOPE ? "ENVELOPE "
					  : it->kind == F_BODY	 ? "BODY "
								 : "BODYSTRUCTURE ");
		str_append(&j->line, data, len);
		return 1;
	default:
		return section_out(s, j, m->uid, it);
	}
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A body fetch without .PEEK sets \Seen: for every message of the
 * command at once, before any response is built (one store change, and
 * the FLAGS in the responses show it). */
static void fetch_mark_seen(struct session *s, struct fetch_job *j)
{
	const char *err;

	j->seen_set = mem_alloc(size_mul(j->idx_count + 1, sizeof(uint32_t)));
	for (size_t i = 0; i < j->idx_count; i++) {
		const struct mstore_msg *m = imapd_view_msg(s, j->idx[i]);

		if (m != NULL && !(m->flags & MSTORE_F_SEEN))
			j->seen_set[j->seen_count++] = m->uid;
	}
	if (j->seen_count == 0)
		return;
	qsort(j->seen_set, j->seen_count, sizeof(uint32_t), uid_cmp);
	if (mstore_store_flags(s->mb, j->seen_set, j->seen_count,
			       MSTORE_FLAGS_ADD, MSTORE_F_SEEN, 0, 0, NULL, NULL,
			       &err) < 0) {
		msg_warn("%s: user %s: set \\Seen: %s", s->client_addr, s->user,
			 err);
		j->seen_count = 0;
		return;
	}
	for (size_t i = 0; i < j->seen_count; i++)
		imapd_own_change(s, j->seen_set[i]);
}

static bool marked_seen(const struct fetch_job *j, uint32_t uid)
{
	size_t lo = 0, hi = j->seen_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->seen_set[mid] == uid)
			return true;
		if (j->seen_set[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* One message's response; false when it was skipped. */
static bool fetch_one(struct session *s, struct fetch_job *j, size_t i)
{
	const struct mstore_msg *m = imapd_view_msg(s, i);
	struct mstore_msg mm;
	bool seen_changed = false, has_flags = false;
	int r = 1;

	if (m == NULL)
		return false;
	seen_changed = j->seen_count > 0 && marked_seen(j, m->uid);
	/* A copy: the store's array may move while the items are built. */
	mm = *m;
	m = &mm;
	mime_message_free(&j->mime);
	j->have_msg = false;
	str_clear(&j->line);
	str_printf(&j->line, "* %zu FETCH (", i + 1);
	for (size_t k = 0; k < j->count && r > 0; k++) {
		if (k > 0)
			str_putc(&j->line, ' ');
		r = item_out(s, j, m, &j->items[k]);
		has_flags |= j->items[k].kind == F_FLAGS;
	}
	if (r <= 0)
		return false;
	if (seen_changed && !has_flags) {
		str_append_cstr(&j->line, " FLAGS ");
		imapd_flags_out(s, imapd_msg_flags(s, m), m->keywords, &j->line);
	}
	str_append_cstr(&j->line, ")\r\n");
	imapd_write(s, j->line.data, j->line.len);
	return true;
}

static bool fetch_run(struct session *s, void *ctx)
{
	struct fetch_job *j = ctx;

	for (size_t n = 0; n < FETCH_STEP && j->pos < j->idx_count; n++)
		if (!fetch_one(s, j, j->idx[j->pos++]))
			j->skipped = true;
	if (j->pos < j->idx_count)
		return false;
	mime_message_free(&j->mime);
	if (j->unknown_cte)
		imapd_done(s, j->uid, "NO", "[UNKNOWN-CTE] Unknown "
					    "Content-Transfer-Encoding");
	else if (j->skipped)
		imapd_done(s, j->uid, "NO", "[EXPUNGEISSUED] Some messages "
					    "were expunged meanwhile");
	else
		imapd_done(s, j->uid, "OK", "FETCH completed");
	return true;
}

void imapd_cmd_fetch(struct session *s, struct imap_command *cmd, bool uid)
{
	struct fetch_job *j;
	struct imapd_job job = {.run = fetch_run, .free = job_free};
	const char *err;

	if (cmd->count < 2 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imapd_tagged(s, "BAD", "Usage: FETCH sequence-set items");
		return;
	}
	j = mem_calloc(1, sizeof(*j));
	j->uid = uid;
	str_init(&j->msg, 0);
	str_init(&j->line, 256);
	str_init(&j->tmp, 0);
	/* CHANGEDSINCE and other modifiers (cmd->count > 2) are not
	 * offered (no CONDSTORE in CAPABILITY). */
	if (cmd->count != 2 || items_parse(j, &cmd->args[1]) < 0) {
		job_free(j);
		imapd_tagged(s, "BAD", "Invalid FETCH items");
		return;
	}
	if (imapd_seqset_indexes(s, cmd->args[0].str, uid, &j->idx,
				 &j->idx_count, &err) < 0) {
		job_free(j);
		imapd_tagged(s, "BAD", "%s", err);
		return;
	}
	if (j->set_seen && !s->readonly)
		fetch_mark_seen(s, j);
	job.ctx = j;
	imapd_job_start(s, &job);
}
