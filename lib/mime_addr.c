/* mime_addr.c: RFC 5322 address lists (From, To, Cc, ...) as the IMAP
 * address structures of ENVELOPE (RFC 9051 7.5.2): (name adl mailbox
 * host), groups as (NIL NIL "group" NIL) ... (NIL NIL NIL NIL).
 *
 * Lenient, in the spirit of RFC 5322's obsolete syntax: comments and
 * folding anywhere, obs-route ("<@a,@b:user@c>") becomes adl, a comment
 * serves as the name when there is no phrase ("user@host (Name)"), an
 * address without '@' gets the host "" (NIL would read as a group marker),
 * garbage is skipped up to the next ','. Names stay raw (RFC 2047 words
 * are not decoded; quoting is removed); quoted local parts keep their
 * quotes so that mailbox@host is still the address. */
#include "config.h"

#include <string.h>

#include "mime_int.h"

#define MAX_ADDRESSES 10000
#define COMMENT_DEPTH_MAX 32

enum tok_kind { T_END, T_ATOM, T_QUOTED, T_DLIT, T_SPECIAL };

struct tok {
	enum tok_kind kind;
	const char *s; /* T_QUOTED: the text inside the quotes, escaped */
	size_t len;
	char c; /* T_SPECIAL */
	bool space_before;
};

struct addr_state {
	const char *s;
	size_t len, i;
	struct tok cur;
	struct str comment; /* the last comment's text */
	struct str name, route, local, domain;
	bool spaced; /* the phrase had whitespace inside */
	struct str *out;
	size_t count;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static void read_comment(struct addr_state *st)
{
	unsigned depth = 1;

	str_clear(&st->comment);
	for (st->i++; st->i < st->len; st->i++) {
		char c = st->s[st->i];

		if (c == '\\' && st->i + 1 < st->len) {
			c = st->s[++st->i];
		} else if (c == '(' && depth < COMMENT_DEPTH_MAX) {
			depth++;
		} else if (c == ')' && --depth == 0) {
			st->i++;
			break;
		}
		if (c != '\r' && c != '\n')
			str_putc(&st->comment, c);
	}
}

/* Quoted string or domain literal: [i] is the opening character. */
static void read_delimited(struct addr_state *st, char close, bool keep)
{
	size_t start = ++st->i;

	while (st->i < st->len && st->s[st->i] != close) {
		if (st->s[st->i] == '\\' && st->i + 1 < st->len)
			st->i++;
		st->i++;
	}
	st->cur.s = st->s + start - (keep ? 1 : 0);
	st->cur.len = st->i - start + (keep ? 1 : 0);
	if (st->i < st->len) {
		st->i++;
		if (keep)
			st->cur.len++;
	}
}

static void next(struct addr_state *st)
{
	struct tok *t = &st->cur;

	t->space_before = false;
	while (st->i < st->len &&
	       (is_ws(st->s[st->i]) || st->s[st->i] == '(')) {
		if (st->s[st->i] == '(')
			read_comment(st);
		else
			st->i++;
		t->space_before = true;
	}
	if (st->i >= st->len) {
		t->kind = T_END;
		return;
	}
	t->c = st->s[st->i];
	if (t->c == '"') {
		t->kind = T_QUOTED;
		read_delimited(st, '"', false);
	} else if (t->c == '[') {
		t->kind = T_DLIT;
		read_delimited(st, ']', true);
	} else if (is_special(t->c)) {
		t->kind = T_SPECIAL;
		st->i++;
	} else {
		t->kind = T_ATOM;
		t->s = st->s + st->i;
		while (st->i < st->len && !is_ws(st->s[st->i]) &&
		       !is_special(st->s[st->i]))
			st->i++;
		t->len = (size_t)(st->s + st->i - t->s);
	}
}

static bool at(const struct addr_state *st, char c)
{
	return st->cur.kind == T_SPECIAL && st->cur.c == c;
}

static bool is_word(const struct tok *t)
{
	return t->kind == T_ATOM || t->kind == T_QUOTED;
}

static void unquote(struct str *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		if (s[i] != '\r' && s[i] != '\n')
			str_putc(out, s[i]);
	}
}

/* Adds the current word or '.' to the display name and the raw form. */
static void phrase_add(struct addr_state *st)
{
	const struct tok *t = &st->cur;

	if (t->space_before && st->name.len > 0) {
		str_putc(&st->name, ' ');
		st->spaced = true;
	}
	if (t->kind == T_QUOTED) {
		unquote(&st->name, t->s, t->len);
		str_putc(&st->local, '"');
		str_append(&st->local, t->s, t->len);
		str_putc(&st->local, '"');
	} else if (t->kind == T_SPECIAL) {
		str_putc(&st->name, t->c);
		str_putc(&st->local, t->c);
	} else {
		str_append(&st->name, t->s, t->len);
		str_append(&st->local, t->s, t->len);
	}
	next(st);
}

static void write_nstr(struct str *out, const struct str *s, bool nil_if_empty)
{
	if (s == NULL || (nil_if_empty && s->len == 0))
		str_append_cstr(out, "NIL");
	else
		mime_imap_string(out, s->data, s->len);
}

static void emit(struct addr_state *st, const struct str *name,
		 const struct str *mailbox, const struct str *host)
{
	if (st->count >= MAX_ADDRESSES)
		return;
	str_putc(st->out, '(');
	write_nstr(st->out, name, true);
	str_putc(st->out, ' ');
	write_nstr(st->out, &st->route, true);
	str_putc(st->out, ' ');
	write_nstr(st->out, mailbox, false);
	str_putc(st->out, ' ');
	write_nstr(st->out, host, false);
	str_putc(st->out, ')');
	st->count++;
}

/* domain = atoms, dots and domain literals; a word after whitespace that
 * no dot joins is not part of it. */
static void parse_domain(struct addr_state *st)
{
	bool after_dot = true;

	while (st->cur.kind == T_ATOM || st->cur.kind == T_DLIT ||
	       at(st, '.')) {
		if (st->cur.kind != T_SPECIAL && !after_dot &&
		    st->cur.space_before)
			break;
		after_dot = at(st, '.');
		str_append(&st->domain,
			   st->cur.kind == T_SPECIAL ? "." : st->cur.s,
			   st->cur.kind == T_SPECIAL ? 1 : st->cur.len);
		next(st);
	}
}

static void skip_to_separator(struct addr_state *st, bool in_group)
{
	while (st->cur.kind != T_END && !at(st, ',') &&
	       !(in_group && at(st, ';')))
		next(st);
}

/* After '<': [obs-route ':'] local-part ["@" domain] '>'. */
static void parse_angle(struct addr_state *st)
{
	str_clear(&st->local);
	if (at(st, '@')) {
		while (st->cur.kind != T_END && !at(st, ':') && !at(st, '>')) {
			if (st->cur.kind == T_SPECIAL)
				str_putc(&st->route, st->cur.c);
			else
				str_append(&st->route, st->cur.s, st->cur.len);
			next(st);
		}
		if (at(st, ':'))
			next(st);
	}
	while (is_word(&st->cur) || at(st, '.')) {
		if (st->cur.kind == T_QUOTED) {
			str_putc(&st->local, '"');
			str_append(&st->local, st->cur.s, st->cur.len);
			str_putc(&st->local, '"');
		} else {
			str_append(&st->local,
				   st->cur.kind == T_SPECIAL ? "." : st->cur.s,
				   st->cur.kind == T_SPECIAL ? 1 : st->cur.len);
		}
		next(st);
	}
	if (at(st, '@')) {
		next(st);
		parse_domain(st);
	}
	while (st->cur.kind != T_END && !at(st, '>') && !at(st, ','))
		next(st);
	if (at(st, '>'))
		next(st);
}

static void parse_list(struct addr_state *st, bool in_group);

static void parse_group(struct addr_state *st)
{
	emit(st, NULL, &st->name, NULL);
	next(st);
	parse_list(st, true);
	if (at(st, ';'))
		next(st);
	str_clear(&st->route);
	emit(st, NULL, NULL, NULL);
}

/* One mailbox or group (or garbage up to the next separator). */
static void parse_one(struct addr_state *st, bool in_group)
{
	const struct str *comment_name = NULL, *mailbox = &st->local;

	str_clear(&st->name);
	str_clear(&st->route);
	str_clear(&st->local);
	str_clear(&st->domain);
	st->spaced = false;
	while (is_word(&st->cur) || at(st, '.'))
		phrase_add(st);
	if (at(st, '<')) {
		next(st);
		parse_angle(st);
		emit(st, &st->name, &st->local, &st->domain);
	} else if (at(st, ':') && !in_group) {
		parse_group(st);
	} else if (st->local.len > 0 || at(st, '@')) {
		if (at(st, '@')) {
			next(st);
			parse_domain(st);
		} else if (st->spaced) {
			mailbox = &st->name; /* "John Smith" alone */
		}
		if (st->comment.len > 0)
			comment_name = &st->comment;
		emit(st, comment_name, mailbox, &st->domain);
	} else if (st->cur.kind != T_END && !at(st, ',') && !at(st, ';')) {
		next(st); /* a stray special */
	}
	skip_to_separator(st, in_group);
}

static void parse_list(struct addr_state *st, bool in_group)
{
	while (st->cur.kind != T_END && st->count < MAX_ADDRESSES) {
		if (at(st, ',') || (at(st, ';') && !in_group)) {
			str_clear(
			    &st->comment); /* it belonged to the last one */
			next(st);
			continue;
		}
		if (at(st, ';'))
			return;
		parse_one(st, in_group);
	}
}

size_t mime_addr_write(const char *value, size_t len, struct str *out)
{
	struct addr_state st;
	size_t start = out->len;

	memset(&st, 0, sizeof(st));
	st.s = value;
	st.len = len;
	st.out = out;
	str_init(&st.comment, 0);
	str_init(&st.name, 0);
	str_init(&st.route, 0);
	str_init(&st.local, 0);
	str_init(&st.domain, 0);
	str_putc(out, '(');
	next(&st);
	parse_list(&st, false);
	if (st.count == 0) {
		str_truncate(out, start);
		str_append_cstr(out, "NIL");
	} else {
		str_putc(out, ')');
	}
	str_deinit(&st.comment);
	str_deinit(&st.name);
	str_deinit(&st.route);
	str_deinit(&st.local);
	str_deinit(&st.domain);
	return st.count;
}
