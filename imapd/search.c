/* search.c: SEARCH and UID SEARCH (RFC 9051 6.4.4) with CHARSET UTF-8,
 * ESEARCH return options (MIN MAX ALL COUNT SAVE, RFC 4731/5182). The
 * keys become a tree once; a job then tests each message, reading only
 * what a key needs: flags, sizes and dates from the index, header fields
 * from the cached header, and the message itself only for BODY and TEXT.
 * Strings match as case-insensitive substrings of the decoded UTF-8 text
 * (i;unicode-casemap-like folding from lib/mail_text). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mail_text.h"
#include "mem.h"
#include "mime.h"
#include "msg.h"

/* Messages tested per job step. */
#define SEARCH_STEP 256
/* Nesting of NOT / OR / parentheses. */
#define SEARCH_MAX_DEPTH 64

enum skind {
	S_ALL, S_AND, S_OR, S_NOT, S_FLAG, S_UNFLAG, S_KEYWORD, S_UNKEYWORD,
	S_NEW, S_LARGER, S_SMALLER, S_BEFORE, S_ON, S_SINCE,
	S_SENTBEFORE, S_SENTON, S_SENTSINCE, S_HEADER, S_BODY, S_TEXT,
	S_SEQ, S_UID, S_NONE,
};

struct skey {
	enum skind kind;
	struct skey **sub;
	size_t nsub;
	uint32_t flag;
	int keyword; /* -1: unknown keyword (matches nothing) */
	uint64_t num;
	time_t date; /* day start, UTC */
	char *field; /* S_HEADER */
	struct mail_text_needle *needle;
	bool empty; /* an empty string: the field need only exist */
	struct imap_seqset set;
};

struct search_job {
	struct skey *root;
	bool uid;
	bool esearch; /* RETURN (...) given, or IMAP4rev2 */
	bool ret_min, ret_max, ret_all, ret_count, ret_save;
	size_t pos;
	uint32_t *hits;
	size_t nhits;
	/* per message */
	bool have_hdr, have_text;
	struct str hdr, text, msg, val;
};

static void skey_free(struct skey *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->nsub; i++)
		skey_free(k->sub[i]);
	mem_free(k->sub);
	mem_free(k->field);
	mail_text_needle_free(&k->needle);
	if (k->kind == S_SEQ || k->kind == S_UID)
		imap_seqset_free(&k->set);
	mem_free(k);
}

static void skey_add(struct skey *parent, struct skey *k)
{
	parent->sub = mem_realloc(parent->sub,
				  size_mul(parent->nsub + 1, sizeof(k)));
	parent->sub[parent->nsub++] = k;
}

struct sparse {
	struct session *s;
	const struct imap_arg *a;
	size_t n, i;
	const char *error;
};

static const struct imap_arg *next_arg(struct sparse *p)
{
	return p->i < p->n ? &p->a[p->i++] : NULL;
}

static int string_arg(struct sparse *p, struct skey *k)
{
	const struct imap_arg *a = next_arg(p);
	const char *v;
	size_t len;

	if (a == NULL || (v = imap_arg_astring(a, &len)) == NULL) {
		p->error = "Missing search string";
		return -1;
	}
	k->empty = len == 0;
	k->needle = mail_text_needle_new(v, len);
	return 1;
}

static int date_arg(struct sparse *p, struct skey *k)
{
	const struct imap_arg *a = next_arg(p);
	const char *v;
	size_t len;

	if (a == NULL || (v = imap_arg_astring(a, &len)) == NULL ||
	    imap_parse_date(v, &k->date) < 0) {
		p->error = "Invalid search date";
		return -1;
	}
	return 1;
}

static int number_arg(struct sparse *p, struct skey *k)
{
	const struct imap_arg *a = next_arg(p);
	char *end;

	if (a == NULL || a->type != IMAP_ARG_ATOM || !isdigit((unsigned char)a->str[0])) {
		p->error = "Invalid number";
		return -1;
	}
	k->num = strtoull(a->str, &end, 10);
	if (*end != '\0') {
		p->error = "Invalid number";
		return -1;
	}
	return 1;
}

static const struct {
	const char *name;
	enum skind kind;
	uint32_t flag;
} simple_keys[] = {
    {"ALL", S_ALL, 0},
    {"ANSWERED", S_FLAG, MSTORE_F_ANSWERED},
    {"DELETED", S_FLAG, MSTORE_F_DELETED},
    {"DRAFT", S_FLAG, MSTORE_F_DRAFT},
    {"FLAGGED", S_FLAG, MSTORE_F_FLAGGED},
    {"SEEN", S_FLAG, MSTORE_F_SEEN},
    {"RECENT", S_FLAG, MSTORE_F_RECENT},
    {"UNANSWERED", S_UNFLAG, MSTORE_F_ANSWERED},
    {"UNDELETED", S_UNFLAG, MSTORE_F_DELETED},
    {"UNDRAFT", S_UNFLAG, MSTORE_F_DRAFT},
    {"UNFLAGGED", S_UNFLAG, MSTORE_F_FLAGGED},
    {"UNSEEN", S_UNFLAG, MSTORE_F_SEEN},
    {"NEW", S_NEW, 0},
    {"OLD", S_UNFLAG, MSTORE_F_RECENT},
    {"LARGER", S_LARGER, 0},
    {"SMALLER", S_SMALLER, 0},
    {"BEFORE", S_BEFORE, 0},
    {"ON", S_ON, 0},
    {"SINCE", S_SINCE, 0},
    {"SENTBEFORE", S_SENTBEFORE, 0},
    {"SENTON", S_SENTON, 0},
    {"SENTSINCE", S_SENTSINCE, 0},
    {"BODY", S_BODY, 0},
    {"TEXT", S_TEXT, 0},
};

static struct skey *parse_key(struct sparse *p, unsigned depth);

/* Keys up to the end of the list, ANDed into parent. */
static int parse_keys(struct sparse *p, struct skey *parent, unsigned depth)
{
	while (p->i < p->n) {
		struct skey *k = parse_key(p, depth);

		if (k == NULL)
			return -1;
		skey_add(parent, k);
	}
	return 1;
}

static int header_key(struct sparse *p, struct skey *k, const char *field)
{
	const struct imap_arg *a;
	const char *v;
	size_t len;

	k->kind = S_HEADER;
	if (field == NULL) {
		a = next_arg(p);
		if (a == NULL || (v = imap_arg_astring(a, &len)) == NULL ||
		    len == 0 || len > 200 || memchr(v, ':', len) != NULL) {
			p->error = "Invalid header field name";
			return -1;
		}
		field = v;
	}
	k->field = mem_strdup(field);
	return string_arg(p, k);
}

/* Keys with an argument or special syntax; 1, 0 unknown, -1. */
static int parse_special(struct sparse *p, struct skey *k, const char *w,
			 unsigned depth)
{
	static const char *const addr_fields[] = {"FROM", "TO", "CC", "BCC",
						  "SUBJECT"};
	const struct imap_arg *a;
	struct skey *x;

	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(w, addr_fields[i]) == 0)
			return header_key(p, k, addr_fields[i]);
	if (strcasecmp(w, "HEADER") == 0)
		return header_key(p, k, NULL);
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		k->kind = strcasecmp(w, "KEYWORD") == 0 ? S_KEYWORD : S_UNKEYWORD;
		a = next_arg(p);
		if (a == NULL || a->type != IMAP_ARG_ATOM) {
			p->error = "Invalid keyword";
			return -1;
		}
		k->keyword = mstore_keyword_index(p->s->mb, a->str, false);
		return 1;
	}
	if (strcasecmp(w, "NOT") == 0 || strcasecmp(w, "OR") == 0) {
		k->kind = strcasecmp(w, "NOT") == 0 ? S_NOT : S_OR;
		for (int i = 0; i < (k->kind == S_NOT ? 1 : 2); i++) {
			if ((x = parse_key(p, depth + 1)) == NULL)
				return -1;
			skey_add(k, x);
		}
		return 1;
	}
	if (strcasecmp(w, "UID") == 0) {
		k->kind = S_UID;
		a = next_arg(p);
		if (a == NULL || a->type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(a->str, &k->set, &p->error) < 0) {
			k->kind = S_NONE;
			if (a == NULL || a->type != IMAP_ARG_ATOM)
				p->error = "Invalid UID set";
			return -1;
		}
		return 1;
	}
	return 0;
}

static struct skey *parse_key(struct sparse *p, unsigned depth)
{
	const struct imap_arg *a = next_arg(p);
	struct skey *k;
	int r = 1;

	if (a == NULL) {
		p->error = "Missing search key";
		return NULL;
	}
	if (depth > SEARCH_MAX_DEPTH) {
		p->error = "Search keys nested too deeply";
		return NULL;
	}
	k = mem_calloc(1, sizeof(*k));
	k->kind = S_AND;
	if (a->type == IMAP_ARG_LIST) {
		struct sparse sub = {.s = p->s, .a = a->list, .n = a->count};

		if (a->count == 0 || parse_keys(&sub, k, depth + 1) < 0) {
			p->error = sub.error != NULL ? sub.error : "Empty list";
			skey_free(k);
			return NULL;
		}
		return k;
	}
	if (a->type != IMAP_ARG_ATOM) {
		p->error = "Invalid search key";
		skey_free(k);
		return NULL;
	}
	if (isdigit((unsigned char)a->str[0]) || a->str[0] == '*' ||
	    a->str[0] == '$') {
		k->kind = S_SEQ;
		if (imap_seqset_parse(a->str, &k->set, &p->error) < 0) {
			k->kind = S_NONE;
			skey_free(k);
			return NULL;
		}
		return k;
	}
	for (size_t i = 0; i < sizeof(simple_keys) / sizeof(simple_keys[0]);
	     i++) {
		if (strcasecmp(a->str, simple_keys[i].name) != 0)
			continue;
		k->kind = simple_keys[i].kind;
		k->flag = simple_keys[i].flag;
		if (k->kind == S_LARGER || k->kind == S_SMALLER)
			r = number_arg(p, k);
		else if (k->kind >= S_BEFORE && k->kind <= S_SENTSINCE)
			r = date_arg(p, k);
		else if (k->kind == S_BODY || k->kind == S_TEXT)
			r = string_arg(p, k);
		goto done;
	}
	r = parse_special(p, k, a->str, depth);
	if (r == 0)
		p->error = "Unknown search key";
done:
	if (r <= 0) {
		skey_free(k);
		return NULL;
	}
	return k;
}

/* ---- evaluation */

/* The day of an RFC 5322 Date: value ("Tue, 1 Jul 2003 10:52:37 +0200"),
 * as the date written (zone ignored, as RFC 9051 says); -1 if unparsable. */
static time_t date_header_day(const char *v)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const char months_cap[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct str d;
	int day, year, mon = -1;
	char m[4] = {0};
	const char *comma = strchr(v, ',');
	time_t t;

	if (comma != NULL)
		v = comma + 1;
	if (sscanf(v, " %d %3s %d", &day, m, &year) != 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, months + 3 * i, 3) == 0)
			mon = i;
	if (mon < 0)
		return -1;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	str_init(&d, 16);
	str_printf(&d, "%d-%.3s-%d", day, &months_cap[3 * mon], year);
	if (imap_parse_date(d.data, &t) < 0)
		t = -1;
	str_deinit(&d);
	return t;
}

struct seval {
	struct session *s;
	struct search_job *j;
	size_t idx; /* view index */
	const struct mstore_msg *m;
	int failed;
};

static const char *need_header(struct seval *e, size_t *len)
{
	struct search_job *j = e->j;
	const char *data, *err;

	if (!j->have_hdr) {
		j->have_hdr = true;
		str_clear(&j->hdr);
		if (mstore_cache_get(e->s->mb, e->m->uid, MSTORE_CACHE_HEADER,
				     &data, len) > 0) {
			str_set(&j->hdr, data, *len);
		} else if (imapd_load_message(e->s, e->m->uid, &j->msg, &err) > 0) {
			struct mime_message *mm = mime_parse(j->msg.data,
							     j->msg.len, NULL);
			const struct mime_part *root = mime_root(mm);

			str_set(&j->hdr, j->msg.data + root->header_offset,
				root->header_size);
			(void)mstore_cache_put(e->s->mb, e->m->uid,
					       MSTORE_CACHE_HEADER, j->hdr.data,
					       j->hdr.len);
			mime_message_free(&mm);
		}
	}
	*len = j->hdr.len;
	return j->hdr.data != NULL ? j->hdr.data : "";
}

static const char *need_text(struct seval *e, size_t *len)
{
	struct search_job *j = e->j;
	const char *err;

	if (!j->have_text) {
		j->have_text = true;
		str_clear(&j->text);
		if (imapd_load_message(e->s, e->m->uid, &j->msg, &err) > 0) {
			struct mime_message *mm = mime_parse(j->msg.data,
							     j->msg.len, NULL);

			mime_body_text(mm, &j->text);
			mime_message_free(&mm);
		}
	}
	*len = j->text.len;
	return j->text.data != NULL ? j->text.data : "";
}

static bool header_match(struct seval *e, const struct skey *k)
{
	size_t len;
	const char *h = need_header(e, &len);
	int r;

	str_clear(&e->j->val);
	r = mime_header_block_get(h, len, k->field, &e->j->val);
	if (r <= 0)
		return false;
	return k->empty || mail_text_contains(k->needle, e->j->val.data,
					      e->j->val.len);
}

static bool text_match(struct seval *e, const struct skey *k, bool headers)
{
	const char *t;
	size_t len;

	if (k->empty)
		return true;
	if (headers) {
		struct str dec;
		bool hit;

		t = need_header(e, &len);
		str_init(&dec, len + 1);
		mail_text_decode_header(t, len, &dec);
		hit = mail_text_contains(k->needle, dec.data != NULL ? dec.data : "",
					 dec.len);
		str_deinit(&dec);
		if (hit)
			return true;
	}
	t = need_text(e, &len);
	return mail_text_contains(k->needle, t, len);
}

static bool sent_match(struct seval *e, const struct skey *k)
{
	size_t len;
	const char *h = need_header(e, &len);
	time_t day;

	str_clear(&e->j->val);
	if (mime_header_block_get(h, len, "Date", &e->j->val) <= 0 ||
	    (day = date_header_day(e->j->val.data)) < 0)
		return false;
	return k->kind == S_SENTBEFORE ? day < k->date
	       : k->kind == S_SENTON   ? day == k->date
				       : day >= k->date;
}

static bool eval(struct seval *e, const struct skey *k)
{
	uint32_t flags = imapd_msg_flags(e->s, e->m);
	time_t day;

	switch (k->kind) {
	case S_ALL:
		return true;
	case S_NONE:
		return false;
	case S_AND:
		for (size_t i = 0; i < k->nsub; i++)
			if (!eval(e, k->sub[i]))
				return false;
		return true;
	case S_OR:
		return eval(e, k->sub[0]) || eval(e, k->sub[1]);
	case S_NOT:
		return !eval(e, k->sub[0]);
	case S_FLAG:
		return (flags & k->flag) != 0;
	case S_UNFLAG:
		return (flags & k->flag) == 0;
	case S_NEW:
		return (flags & MSTORE_F_RECENT) && !(flags & MSTORE_F_SEEN);
	case S_KEYWORD:
		return k->keyword >= 0 && (e->m->keywords & (1u << k->keyword));
	case S_UNKEYWORD:
		return k->keyword < 0 || !(e->m->keywords & (1u << k->keyword));
	case S_LARGER:
		return e->m->size > k->num;
	case S_SMALLER:
		return e->m->size < k->num;
	case S_BEFORE:
	case S_ON:
	case S_SINCE:
		day = (time_t)(e->m->internaldate - e->m->internaldate % 86400);
		return k->kind == S_BEFORE ? day < k->date
		       : k->kind == S_ON   ? day == k->date
					   : day >= k->date;
	case S_SENTBEFORE:
	case S_SENTON:
	case S_SENTSINCE:
		return sent_match(e, k);
	case S_HEADER:
		return header_match(e, k);
	case S_BODY:
		return text_match(e, k, false);
	case S_TEXT:
		return text_match(e, k, true);
	case S_SEQ:
		return imap_seqset_contains(&k->set, (uint32_t)e->idx + 1);
	case S_UID:
		return imap_seqset_contains(&k->set, e->m->uid);
	}
	return false;
}

/* Sets resolve against the view once ("*" and "$"). */
static void resolve_sets(struct session *s, struct skey *k)
{
	uint32_t max_uid = s->view_count > 0 ? s->view[s->view_count - 1] : 0;

	for (size_t i = 0; i < k->nsub; i++)
		resolve_sets(s, k->sub[i]);
	if (k->kind != S_SEQ && k->kind != S_UID)
		return;
	if (k->set.dollar) {
		/* "$" is the saved result: test UIDs against it. */
		imap_seqset_free(&k->set);
		k->kind = S_UID;
		memset(&k->set, 0, sizeof(k->set));
		k->set.ranges = mem_alloc(size_mul(s->searchres_count + 1,
						   sizeof(*k->set.ranges)));
		for (size_t i = 0; i < s->searchres_count; i++) {
			k->set.ranges[i].lo = s->searchres[i];
			k->set.ranges[i].hi = s->searchres[i];
		}
		k->set.count = s->searchres_count;
		imap_seqset_resolve(&k->set, max_uid);
		return;
	}
	imap_seqset_resolve(&k->set, k->kind == S_UID ? max_uid
						      : (uint32_t)s->view_count);
}

static void search_free(void *ctx)
{
	struct search_job *j = ctx;

	skey_free(j->root);
	mem_free(j->hits);
	str_deinit(&j->hdr);
	str_deinit(&j->text);
	str_deinit(&j->msg);
	str_deinit(&j->val);
	mem_free(j);
}

static void search_result(struct session *s, struct search_job *j)
{
	struct str line;

	str_init(&line, 64 + j->nhits * 6);
	if (!j->esearch) {
		str_append_cstr(&line, "* SEARCH");
		for (size_t i = 0; i < j->nhits; i++)
			str_printf(&line, " %u", j->hits[i]);
	} else {
		str_printf(&line, "* ESEARCH (TAG \"%s\")%s", s->tag,
			   j->uid ? " UID" : "");
		if (j->ret_min && j->nhits > 0)
			str_printf(&line, " MIN %u", j->hits[0]);
		if (j->ret_max && j->nhits > 0)
			str_printf(&line, " MAX %u", j->hits[j->nhits - 1]);
		if (j->ret_all && j->nhits > 0) {
			str_append_cstr(&line, " ALL ");
			imap_seqset_format(j->hits, j->nhits, &line);
		}
		if (j->ret_count)
			str_printf(&line, " COUNT %zu", j->nhits);
	}
	str_append_cstr(&line, "\r\n");
	if (!j->esearch || j->ret_min || j->ret_max || j->ret_all ||
	    j->ret_count)
		imapd_write(s, line.data, line.len);
	str_deinit(&line);
}

static void search_save(struct session *s, struct search_job *j)
{
	mem_free(s->searchres);
	s->searchres_count = j->nhits;
	s->searchres = mem_alloc(size_mul(j->nhits + 1, sizeof(uint32_t)));
	for (size_t i = 0; i < j->nhits; i++)
		s->searchres[i] = j->uid ? j->hits[i]
					 : s->view[j->hits[i] - 1];
}

static bool search_run(struct session *s, void *ctx)
{
	struct search_job *j = ctx;
	const struct mstore_msg *msgs;
	size_t count;
	long k;

	msgs = mstore_messages(s->mb, &count);
	for (size_t n = 0; n < SEARCH_STEP && j->pos < s->view_count;
	     n++, j->pos++) {
		struct seval e = {.s = s, .j = j, .idx = j->pos};

		if ((k = mstore_find(s->mb, s->view[j->pos])) < 0)
			continue;
		e.m = &msgs[k];
		j->have_hdr = j->have_text = false;
		if (eval(&e, j->root))
			j->hits[j->nhits++] = j->uid ? s->view[j->pos]
						     : (uint32_t)j->pos + 1;
	}
	if (j->pos < s->view_count)
		return false;
	if (j->ret_save)
		search_save(s, j);
	search_result(s, j);
	imapd_done(s, j->uid, "OK", "SEARCH completed");
	return true;
}

/* RETURN (...) options; 1, or -1. */
static int return_opts(struct search_job *j, const struct imap_arg *a)
{
	j->esearch = true;
	if (a->count == 0)
		j->ret_all = true;
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_is(x, "MIN"))
			j->ret_min = true;
		else if (imap_arg_is(x, "MAX"))
			j->ret_max = true;
		else if (imap_arg_is(x, "ALL"))
			j->ret_all = true;
		else if (imap_arg_is(x, "COUNT"))
			j->ret_count = true;
		else if (imap_arg_is(x, "SAVE"))
			j->ret_save = true;
		else
			return -1;
	}
	return 1;
}

void imapd_cmd_search(struct session *s, struct imap_command *cmd, bool uid)
{
	struct search_job *j = mem_calloc(1, sizeof(*j));
	struct sparse p = {.s = s, .a = cmd->args, .n = cmd->count};
	struct imapd_job job = {.run = search_run, .free = search_free, .ctx = j};

	j->uid = uid;
	str_init(&j->hdr, 0);
	str_init(&j->text, 0);
	str_init(&j->msg, 0);
	str_init(&j->val, 0);
	if (p.n >= 2 && imap_arg_is(&p.a[0], "RETURN") &&
	    p.a[1].type == IMAP_ARG_LIST) {
		if (return_opts(j, &p.a[1]) < 0) {
			search_free(j);
			imapd_tagged(s, "BAD", "Invalid RETURN option");
			return;
		}
		p.i = 2;
	} else if (s->rev2) {
		j->esearch = true;
		j->ret_all = true;
	}
	if (p.n >= p.i + 2 && imap_arg_is(&p.a[p.i], "CHARSET")) {
		size_t cslen;
		const char *cs = imap_arg_astring(&p.a[p.i + 1], &cslen);

		if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 &&
				   strcasecmp(cs, "US-ASCII") != 0)) {
			search_free(j);
			imapd_tagged(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] "
					      "Unsupported charset");
			return;
		}
		p.i += 2;
	}
	j->root = mem_calloc(1, sizeof(*j->root));
	j->root->kind = S_AND;
	if (p.i >= p.n || parse_keys(&p, j->root, 0) < 0) {
		imapd_tagged(s, "BAD", "%s", p.error != NULL ? p.error
							      : "Missing search key");
		search_free(j);
		return;
	}
	resolve_sets(s, j->root);
	j->hits = mem_alloc(size_mul(s->view_count + 1, sizeof(uint32_t)));
	imapd_job_start(s, &job);
}
