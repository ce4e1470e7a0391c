/* imap_parse.c: turns one whole IMAP command (as collected by the reader in
 * imap_parse_reader.c) into a tree of arguments (see imap_parse.h). The
 * tree and its strings live in a per-parser arena that is recycled on the
 * next parse, so a session allocates nothing per argument in steady state.
 * Recursion follows list nesting and stops at IMAP_PARSE_MAX_DEPTH. */
#include "config.h"

#include <stdalign.h>
#include <string.h>

#include "imap_parse.h"
#include "mem.h"
#include "num.h"

#define ARENA_BLOCK 8192
#define ARGVEC_KEEP 1024

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(max_align_t) char data[];
};

/* The members of the list being parsed at each depth (0 = top level). */
struct argvec {
	struct imap_arg *v;
	size_t count, cap;
};

struct imap_parser {
	struct arena_block *blocks; /* newest first */
	struct argvec levels[IMAP_PARSE_MAX_DEPTH + 1];
};

struct pstate {
	struct imap_parser *p;
	const char *buf;
	size_t len, pos;
	size_t nargs;
	const char *error;
};

struct imap_parser *imap_parser_new(void)
{
	return mem_alloc(sizeof(struct imap_parser));
}

/* Frees every block but one standard-sized one, which is kept for reuse. */
static void arena_reset(struct imap_parser *p)
{
	struct arena_block *b = p->blocks, *keep = NULL, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->size == ARENA_BLOCK) {
			keep = b;
			continue;
		}
		mem_free(b);
	}
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
	p->blocks = keep;
}

static void *arena_alloc(struct imap_parser *p, size_t size)
{
	struct arena_block *b = p->blocks;
	size_t align = alignof(max_align_t);
	size_t need = size_add(size, align - 1) & ~(align - 1);
	void *ret;

	if (b == NULL || b->size - b->used < need) {
		size_t bsize = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		b = mem_alloc(size_add(sizeof(*b), bsize));
		b->size = bsize;
		b->next = p->blocks;
		p->blocks = b;
	}
	ret = b->data + b->used;
	b->used += need;
	memset(ret, 0, size);
	return ret;
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	arena_reset(p);
	mem_free(p->blocks);
	for (size_t i = 0; i <= IMAP_PARSE_MAX_DEPTH; i++)
		mem_free(p->levels[i].v);
	mem_free(*pp);
}

static char *arena_strndup(struct imap_parser *p, const char *s, size_t len)
{
	char *d = arena_alloc(p, size_add(len, 1));

	memcpy(d, s, len);
	return d;
}

/* ATOM-CHAR (RFC 9051 section 9) without list-wildcards; '[' is handled
 * by the caller (the bracket part of FETCH atoms). */
static bool atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){\"\\]%*[", c) == NULL;
}

/* Atom characters accepted in arguments: also '*' and '%' (sequence sets
 * and LIST patterns). */
static bool arg_atom_char(unsigned char c)
{
	return atom_char(c) || c == '*' || c == '%';
}

static bool tag_char(unsigned char c)
{
	return (atom_char(c) && c != '+') || c == ']' || c == '[';
}

static int fail(struct pstate *st, const char *error)
{
	if (st->error == NULL)
		st->error = error;
	return -1;
}

/* Reason for a byte that cannot appear where it was found. */
static const char *bad_char_reason(unsigned char c)
{
	if (c == '\r' || c == '\n')
		return "CR or LF outside a literal";
	if (c < 0x20 || c == 0x7f)
		return "Control character in command";
	if (c >= 0x80)
		return "8-bit character in atom";
	if (c == ']')
		return "Unexpected ]";
	return "Invalid character in atom";
}

static struct imap_arg *arg_new(struct pstate *st, size_t depth)
{
	struct argvec *vec = &st->p->levels[depth];

	if (++st->nargs > IMAP_PARSE_MAX_ARGS) {
		fail(st, "Too many arguments");
		return NULL;
	}
	if (vec->count == vec->cap) {
		vec->cap = vec->cap == 0 ? 16 : size_mul(vec->cap, 2);
		vec->v =
		    mem_realloc(vec->v, size_mul(vec->cap, sizeof(*vec->v)));
	}
	memset(&vec->v[vec->count], 0, sizeof(*vec->v));
	return &vec->v[vec->count++];
}

/* Moves the members collected at depth into the arena. */
static struct imap_arg *args_take(struct pstate *st, size_t depth,
				  size_t *count_r)
{
	struct argvec *vec = &st->p->levels[depth];
	struct imap_arg *list = NULL;

	*count_r = vec->count;
	if (vec->count > 0) {
		list = arena_alloc(st->p, size_mul(vec->count, sizeof(*list)));
		memcpy(list, vec->v, vec->count * sizeof(*list));
	}
	vec->count = 0;
	return list;
}

/* Finds the "]" closing the bracket part that starts at buf[at] == '['.
 * Inside: printable ASCII, spaces, parentheses and quoted strings; no
 * second '['. Returns the index after "]", or 0 when there is none (the
 * '[' is then an ordinary atom character, e.g. in a mailbox name). */
static size_t bracket_end(const struct pstate *st, size_t at)
{
	bool quoted = false;

	for (size_t i = at + 1; i < st->len; i++) {
		unsigned char c = (unsigned char)st->buf[i];

		if (c < 0x20 || c >= 0x7f)
			return 0;
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '[') {
			return 0;
		} else if (c == ']') {
			return i + 1;
		}
	}
	return 0;
}

/* "<" 1*(DIGIT / ".") ">" after a bracket part; pos is at '<'. */
static int parse_partial(struct pstate *st)
{
	size_t i = st->pos + 1;

	while (i < st->len &&
	       ((st->buf[i] >= '0' && st->buf[i] <= '9') || st->buf[i] == '.'))
		i++;
	if (i == st->pos + 1 || i >= st->len || st->buf[i] != '>')
		return fail(st, "Invalid <partial> after ]");
	st->pos = i + 1;
	return 1;
}

/* Advances over the characters of an atom; returns -1 on a bad one. */
static int scan_atom(struct pstate *st)
{
	bool bracket_tried = false;
	size_t end;

	if (st->buf[st->pos] == '\\')
		st->pos++; /* a flag: \Seen */
	while (st->pos < st->len) {
		unsigned char c = (unsigned char)st->buf[st->pos];

		if (c == '[' && !bracket_tried) {
			bracket_tried = true;
			end = bracket_end(st, st->pos);
			if (end == 0) {
				st->pos++;
				continue;
			}
			st->pos = end;
			if (st->pos < st->len && st->buf[st->pos] == '<' &&
			    parse_partial(st) < 0)
				return -1;
			break;
		}
		if (!arg_atom_char(c) && !(c == '[' && bracket_tried))
			break;
		st->pos++;
	}
	if (st->pos < st->len && st->buf[st->pos] != ' ' &&
	    st->buf[st->pos] != ')')
		return fail(st,
			    bad_char_reason((unsigned char)st->buf[st->pos]));
	return 1;
}

static int parse_atom(struct pstate *st, size_t depth)
{
	size_t start = st->pos;
	struct imap_arg *a;

	if (scan_atom(st) < 0)
		return -1;
	if (st->pos == start)
		return fail(st, bad_char_reason((unsigned char)st->buf[start]));
	if ((a = arg_new(st, depth)) == NULL)
		return -1;
	a->len = st->pos - start;
	a->str = arena_strndup(st->p, st->buf + start, a->len);
	a->type = a->len == 3 && imap_ascii_ieq(a->str, "NIL", 3)
		      ? IMAP_ARG_NIL
		      : IMAP_ARG_ATOM;
	return 1;
}

/* Measures a quoted string starting at pos ('"'); returns the unescaped
 * length and sets *end_r to the index after the closing quote. */
static int quoted_measure(struct pstate *st, size_t *len_r, size_t *end_r)
{
	size_t n = 0;

	for (size_t i = st->pos + 1; i < st->len; i++) {
		char c = st->buf[i];

		if (c == '"') {
			*len_r = n;
			*end_r = i + 1;
			return 1;
		}
		if (c == '\r' || c == '\n' || c == '\0')
			return fail(st, "CR, LF or NUL in quoted string");
		if (c == '\\') {
			if (i + 1 >= st->len)
				break;
			if (st->buf[i + 1] != '"' && st->buf[i + 1] != '\\')
				return fail(st, "Invalid \\ escape in quoted "
						"string");
			i++;
		}
		n++;
	}
	return fail(st, "Unterminated quoted string");
}

static int parse_quoted(struct pstate *st, size_t depth)
{
	size_t n, end, j = 0;
	struct imap_arg *a;
	char *d;

	if (quoted_measure(st, &n, &end) < 0 ||
	    (a = arg_new(st, depth)) == NULL)
		return -1;
	d = arena_alloc(st->p, size_add(n, 1));
	for (size_t i = st->pos + 1; i < end - 1; i++) {
		if (st->buf[i] == '\\')
			i++;
		d[j++] = st->buf[i];
	}
	a->type = IMAP_ARG_QUOTED;
	a->str = d;
	a->len = n;
	st->pos = end;
	return 1;
}

/* "{" number ["+"] "}" CRLF data, or the same after "~" (literal8). */
static int parse_literal(struct pstate *st, size_t depth)
{
	bool literal8 = st->buf[st->pos] == '~';
	size_t i = st->pos + (literal8 ? 2 : 1), digits = i;
	uint64_t size = 0;
	struct imap_arg *a;
	int ret;

	while (i < st->len && st->buf[i] >= '0' && st->buf[i] <= '9')
		i++;
	ret = num_parse_u64(st->buf + digits, i - digits, UINT64_MAX, &size);
	if (ret < 0)
		return fail(st, "Invalid literal size");
	if (i < st->len && st->buf[i] == '+')
		i++;
	if (i >= st->len || st->buf[i] != '}')
		return fail(st, "Invalid literal size");
	if (st->len - i < 3 || st->buf[i + 1] != '\r' || st->buf[i + 2] != '\n')
		return fail(st, "Literal not followed by CRLF");
	i += 3;
	if (ret == 0 || size > st->len - i)
		return fail(st, "Literal length mismatch");
	if (!literal8 && memchr(st->buf + i, '\0', size) != NULL)
		return fail(st,
			    "NUL in a literal (only literal8 may hold one)");
	if ((a = arg_new(st, depth)) == NULL)
		return -1;
	a->type = IMAP_ARG_LITERAL;
	a->literal8 = literal8;
	a->len = size;
	a->str = arena_strndup(st->p, st->buf + i, size);
	st->pos = i + size;
	return 1;
}

static int parse_list(struct pstate *st, size_t depth);

/* One argument starting at pos (not a space, not ')'). */
static int parse_arg(struct pstate *st, size_t depth)
{
	char c = st->buf[st->pos];

	if (c == '(')
		return parse_list(st, depth);
	if (c == '"')
		return parse_quoted(st, depth);
	if (c == '{' ||
	    (c == '~' && st->pos + 1 < st->len && st->buf[st->pos + 1] == '{'))
		return parse_literal(st, depth);
	return parse_atom(st, depth);
}

/* The arguments of one list (in_list) or of the command (depth 0), into
 * levels[depth]. Spaces separate arguments; none is needed after "(",
 * before ")" or after ")". */
static int parse_args(struct pstate *st, size_t depth, bool in_list)
{
	bool need_space = false;

	for (;;) {
		size_t spaces = st->pos;

		while (st->pos < st->len && st->buf[st->pos] == ' ')
			st->pos++;
		spaces = st->pos - spaces;
		if (st->pos == st->len)
			return in_list ? fail(st, "Missing )") : 1;
		if (st->buf[st->pos] == ')') {
			if (!in_list)
				return fail(st, "Unexpected )");
			st->pos++;
			return 1;
		}
		if (need_space && spaces == 0)
			return fail(st, "Missing space between arguments");
		need_space = st->buf[st->pos] != '(';
		if (parse_arg(st, depth) < 0)
			return -1;
	}
}

static int parse_list(struct pstate *st, size_t depth)
{
	struct imap_arg *a, *list;
	size_t count;

	if (depth + 1 > IMAP_PARSE_MAX_DEPTH)
		return fail(st, "Lists nested too deeply");
	if ((a = arg_new(st, depth)) == NULL)
		return -1;
	st->pos++;
	st->p->levels[depth + 1].count = 0;
	if (parse_args(st, depth + 1, true) < 0)
		return -1;
	/* a stays valid: the members went to levels[depth + 1] only */
	list = args_take(st, depth + 1, &count);
	a->type = IMAP_ARG_LIST;
	a->list = list;
	a->count = count;
	return 1;
}

/* tag SP name: sets cmd->tag (as soon as it is known) and cmd->name. */
static int parse_head(struct pstate *st, struct imap_command *cmd)
{
	size_t start = 0;

	while (st->pos < st->len && tag_char((unsigned char)st->buf[st->pos]))
		st->pos++;
	if (st->pos == 0)
		return fail(st, st->len == 0 ? "Empty command" : "Invalid tag");
	if (st->pos < st->len && st->buf[st->pos] != ' ')
		return fail(st, "Invalid tag");
	cmd->tag = arena_strndup(st->p, st->buf, st->pos);
	while (st->pos < st->len && st->buf[st->pos] == ' ')
		st->pos++;
	start = st->pos;
	while (st->pos < st->len && atom_char((unsigned char)st->buf[st->pos]))
		st->pos++;
	if (st->pos == start)
		return fail(st, st->pos == st->len ? "Missing command name"
						   : "Invalid command name");
	if (st->pos < st->len && st->buf[st->pos] != ' ')
		return fail(st, "Invalid command name");
	cmd->name = arena_strndup(st->p, st->buf + start, st->pos - start);
	return 1;
}

int imap_parse_command(struct imap_parser *p, const char *buf, size_t len,
		       struct imap_command *cmd_r, const char **error_r)
{
	struct pstate st = {p, buf, len, 0, 0, NULL};

	arena_reset(p);
	for (size_t i = 0; i <= IMAP_PARSE_MAX_DEPTH; i++) {
		/* vectors grown by one huge command are not kept */
		if (p->levels[i].cap > ARGVEC_KEEP) {
			mem_free(p->levels[i].v);
			p->levels[i].cap = 0;
		}
		p->levels[i].count = 0;
	}
	cmd_r->tag = "*";
	cmd_r->name = "";
	cmd_r->args = NULL;
	cmd_r->count = 0;
	if (parse_head(&st, cmd_r) < 0 || parse_args(&st, 0, false) < 0) {
		*error_r = st.error;
		return -1;
	}
	cmd_r->args = args_take(&st, 0, &cmd_r->count);
	return 1;
}

bool imap_arg_is(const struct imap_arg *a, const char *word)
{
	size_t n = strlen(word);

	if (a->type == IMAP_ARG_LIST || a->len != n)
		return false;
	return imap_ascii_ieq(a->str, word, n);
}

const char *imap_arg_astring(const struct imap_arg *a, size_t *len_r)
{
	if (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_NIL)
		return NULL;
	*len_r = a->len;
	return a->str;
}

const char *imap_arg_astring_nil(const struct imap_arg *a, size_t *len_r)
{
	if (a->type == IMAP_ARG_LIST)
		return NULL;
	*len_r = a->len;
	return a->str;
}
