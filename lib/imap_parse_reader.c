/* imap_parse_reader.c: collects one whole IMAP command from the lines and
 * literals a client sends (see imap_parse.h), enforcing the size limits
 * before any byte of an oversized literal is accepted, so that imapd can
 * refuse a synchronizing literal without ever reading it. */
#include "config.h"

#include <string.h>

#include "imap_parse.h"
#include "mem.h"
#include "msg.h"
#include "num.h"
#include "str.h"

/* Longer tags are not echoed back in error replies ("*" is used). */
#define IMAP_READER_TAG_MAX 128
/* Command buffers larger than this are freed between commands. */
#define IMAP_READER_KEEP 65536

struct imap_reader {
	size_t max_command;
	uint64_t max_literal, max_total, nonsync_max;
	struct str cmd;	     /* lines joined by CRLF, literals inline */
	struct str tag;	     /* empty = none parseable */
	uint64_t line_bytes; /* non-literal bytes so far, CRLFs included */
	uint64_t total;	     /* everything so far, literals included */
	uint64_t literal_left;
	bool done; /* the last line ended a command: the next starts anew */
};

/* A literal announced at the end of a line. */
struct literal_ann {
	uint64_t size;
	bool nonsync;
	bool overflow; /* the number does not fit in 64 bits */
};

struct imap_reader *imap_reader_new(size_t max_command, uint64_t max_literal,
				    uint64_t max_total)
{
	struct imap_reader *r = mem_alloc(sizeof(*r));

	r->max_command = max_command;
	r->max_literal = max_literal;
	r->max_total = max_total;
	r->nonsync_max = UINT64_MAX;
	str_init(&r->cmd, 256);
	str_init(&r->tag, 16);
	return r;
}

void imap_reader_free(struct imap_reader **rp)
{
	struct imap_reader *r = *rp;

	if (r == NULL)
		return;
	str_deinit(&r->cmd);
	str_deinit(&r->tag);
	mem_free(*rp);
}

void imap_reader_set_nonsync_max(struct imap_reader *r, uint64_t max)
{
	r->nonsync_max = max;
}

/* Drops the command but keeps its tag for the error reply. A buffer grown
 * by one big APPEND is given back rather than kept for the session. */
static void reader_drop(struct imap_reader *r)
{
	if (r->cmd.cap > IMAP_READER_KEEP) {
		str_deinit(&r->cmd);
		str_init(&r->cmd, 256);
	}
	str_clear(&r->cmd);
	r->line_bytes = r->total = r->literal_left = 0;
	r->done = true;
}

void imap_reader_reset(struct imap_reader *r)
{
	reader_drop(r);
	str_clear(&r->tag);
	r->done = false;
}

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 section 9). */
static bool tag_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\+", c) == NULL;
}

static void reader_take_tag(struct imap_reader *r, const char *line, size_t len)
{
	size_t n = 0;

	str_clear(&r->tag);
	while (n < len && line[n] != ' ') {
		if (!tag_char((unsigned char)line[n]))
			return;
		n++;
	}
	if (n > 0 && n <= IMAP_READER_TAG_MAX)
		str_set(&r->tag, line, n);
}

/* True when the end of the line lies inside a quoted string: a "{N}"
 * there is text, not a literal. Quoting restarts outside after a literal,
 * so each line can be scanned on its own. */
static bool ends_quoted(const char *line, size_t len)
{
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (quoted && line[i] == '\\' && i + 1 < len)
			i++;
	}
	return quoted;
}

/* Recognises "{N}", "{N+}", "~{N}", "~{N+}" at the end of the line. Any
 * such ending counts, even after an atom: a client that sends it will send
 * the bytes, and they must never be read as a command of their own. */
static bool literal_announced(const char *line, size_t len,
			      struct literal_ann *ann_r)
{
	size_t end, start;
	int ret;

	if (len < 3 || line[len - 1] != '}')
		return false;
	end = len - 1;
	ann_r->nonsync = line[end - 1] == '+';
	if (ann_r->nonsync)
		end--;
	start = end;
	while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
		start--;
	if (start == end || start == 0 || line[start - 1] != '{')
		return false;
	if (ends_quoted(line, start - 1))
		return false;
	ret =
	    num_parse_u64(line + start, end - start, UINT64_MAX, &ann_r->size);
	ann_r->overflow = ret != 1;
	return true;
}

/* Checks the limits for a line (and the literal it announces, if any).
 * Returns NULL when all fit, else the reason. */
static const char *reader_check(const struct imap_reader *r, size_t len,
				const struct literal_ann *ann)
{
	uint64_t lines = r->line_bytes + (uint64_t)len + 2;

	if (lines > r->max_command)
		return "Command line too long";
	if (r->total + (uint64_t)len + 2 > r->max_total)
		return "Command too long";
	if (ann == NULL)
		return NULL;
	if (ann->overflow || ann->size > r->max_literal)
		return "Literal too big";
	if (ann->nonsync && ann->size > r->nonsync_max)
		return "Non-synchronizing literal too big";
	if (ann->size > r->max_total - (r->total + (uint64_t)len + 2))
		return "Command with its literals too big";
	return NULL;
}

enum imap_read imap_reader_line(struct imap_reader *r, const char *line,
				size_t len, uint64_t *need_r, bool *sync_r,
				const char **error_r)
{
	struct literal_ann ann = {0, false, false};
	bool lit;
	const char *error;

	if (r->literal_left > 0)
		msg_panic("imap_reader_line: %llu literal bytes still owed",
			  (unsigned long long)r->literal_left);
	if (r->done || r->cmd.len == 0) {
		imap_reader_reset(r);
		reader_take_tag(r, line, len);
	}
	lit = literal_announced(line, len, &ann);
	*need_r = 0;
	*sync_r = !(lit && ann.nonsync);
	error = reader_check(r, len, lit ? &ann : NULL);
	if (error != NULL) {
		*error_r = error;
		reader_drop(r);
		return IMAP_READ_TOO_BIG;
	}
	str_append(&r->cmd, line, len);
	r->line_bytes += (uint64_t)len + 2;
	r->total += (uint64_t)len + 2;
	if (!lit) {
		r->done = true;
		return IMAP_READ_COMPLETE;
	}
	str_append(&r->cmd, "\r\n", 2);
	r->literal_left = ann.size;
	r->total += ann.size;
	*need_r = ann.size;
	return IMAP_READ_LITERAL;
}

void imap_reader_literal(struct imap_reader *r, const void *data, size_t len)
{
	if ((uint64_t)len > r->literal_left)
		msg_panic("imap_reader_literal: %zu bytes given, %llu owed",
			  len, (unsigned long long)r->literal_left);
	str_append(&r->cmd, data, len);
	r->literal_left -= len;
}

uint64_t imap_reader_literal_left(const struct imap_reader *r)
{
	return r->literal_left;
}

const char *imap_reader_command(const struct imap_reader *r, size_t *len_r)
{
	*len_r = r->cmd.len;
	return r->cmd.data;
}

const char *imap_reader_tag(const struct imap_reader *r)
{
	return r->tag.len > 0 ? r->tag.data : "*";
}
