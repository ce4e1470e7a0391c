/* fuzz/imap_parse_fuzz.c: libFuzzer target for IMAP input: the bytes are a
 * client's stream, split on CRLF into lines for the command reader, with
 * literal bytes taken raw as the reader asks for them; each whole command
 * goes through the parser, and every string argument through the sequence
 * set, modified UTF-7 and date decoders. Beyond "no crash" it checks: the
 * tree's strings are NUL-terminated; a resolved sequence set is sorted,
 * disjoint and finds its own bounds; modified UTF-7 that decodes encodes
 * back to the same bytes (one canonical form per name) and UTF-8 survives
 * a round trip; a parsed date-time formats back to the same time and zone. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "imap_parse.h"
#include "msg.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct str s1, s2;

static void check_seqset(const char *s, uint32_t star)
{
	struct imap_seqset set;
	const char *err;

	if (imap_seqset_parse(s, &set, &err) < 0) {
		if (set.ranges != NULL || set.count != 0)
			msg_panic("failed seqset not empty");
		return;
	}
	imap_seqset_resolve(&set, star);
	for (size_t i = 0; i < set.count; i++) {
		const struct imap_range *r = &set.ranges[i];

		if (r->lo == 0 || r->lo > r->hi)
			msg_panic("bad resolved range %u:%u", (unsigned)r->lo,
				  (unsigned)r->hi);
		if (i > 0 && r->lo <= set.ranges[i - 1].hi + 1ULL)
			msg_panic("ranges not merged");
		if (!imap_seqset_contains(&set, r->lo) ||
		    !imap_seqset_contains(&set, r->hi))
			msg_panic("set lacks its own bounds");
		if ((r->lo > 1 && imap_seqset_contains(&set, r->lo - 1)) ||
		    (r->hi < UINT32_MAX &&
		     imap_seqset_contains(&set, r->hi + 1)))
			msg_panic("set reaches past a range it merged");
	}
	imap_seqset_free(&set);
}

static void check_mutf7(const char *s, size_t len)
{
	if (imap_mutf7_to_utf8(s, len, &s1) == 1) {
		if (!imap_utf8_valid(s1.data, s1.len))
			msg_panic("mUTF-7 decoded to bad UTF-8");
		if (imap_utf8_to_mutf7(s1.data, s1.len, &s2) != 1 ||
		    s2.len != len || memcmp(s2.data, s, len) != 0)
			msg_panic("mUTF-7 not canonical");
	}
	if (imap_utf8_valid(s, len) && memchr(s, '\0', len) == NULL) {
		if (imap_utf8_to_mutf7(s, len, &s1) != 1 ||
		    imap_mutf7_to_utf8(s1.data, s1.len, &s2) != 1 ||
		    s2.len != len || memcmp(s2.data, s, len) != 0)
			msg_panic("UTF-8 round trip failed");
	} else if (imap_utf8_to_mutf7(s, len, &s1) != -1) {
		msg_panic("encoder took bad UTF-8 or NUL");
	}
}

static void check_dates(const char *s)
{
	time_t t, t2;
	int tz, tz2;

	(void)imap_parse_date(s, &t);
	if (imap_parse_datetime(s, &t, &tz) != 1)
		return;
	str_clear(&s1);
	imap_format_datetime(t, tz, &s1);
	if (s1.len < 2)
		msg_panic("date-time not written");
	str_set(&s2, s1.data + 1, s1.len - 2);
	if (imap_parse_datetime(s2.data, &t2, &tz2) != 1 || t2 != t ||
	    tz2 != tz)
		msg_panic("date-time round trip failed: %s", s1.data);
}

static void check_string(const char *s, size_t len, uint32_t star)
{
	if (s[len] != '\0')
		msg_panic("argument not NUL-terminated");
	check_mutf7(s, len);
	if (memchr(s, '\0', len) == NULL) {
		check_seqset(s, star);
		check_dates(s);
	}
	str_clear(&s1);
	imap_append_astring(&s1, s, len);
}

static void check_args(const struct imap_arg *args, size_t count, int depth)
{
	if (depth > IMAP_PARSE_MAX_DEPTH)
		msg_panic("tree deeper than the limit");
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];

		if (a->type == IMAP_ARG_LIST)
			check_args(a->list, a->count, depth + 1);
		else
			check_string(a->str, a->len, (uint32_t)count);
	}
}

static void check_command(struct imap_parser *p, const char *buf, size_t len)
{
	struct imap_command cmd;
	const char *err = NULL;

	if (imap_parse_command(p, buf, len, &cmd, &err) < 0) {
		if (err == NULL || cmd.tag == NULL)
			msg_panic("parse failed without a reason");
		return;
	}
	check_args(cmd.args, cmd.count, 0);
}

/* Feeds the stream to the reader as an IMAP session would. */
static void feed(struct imap_reader *r, struct imap_parser *p, const char *in,
		 size_t size)
{
	size_t pos = 0, len;
	uint64_t need;
	bool sync;
	const char *err;

	while (pos < size) {
		const char *crlf = memmem(in + pos, size - pos, "\r\n", 2);
		size_t llen =
		    crlf != NULL ? (size_t)(crlf - (in + pos)) : size - pos;
		enum imap_read ret =
		    imap_reader_line(r, in + pos, llen, &need, &sync, &err);

		pos += llen + (crlf != NULL ? 2 : 0);
		if (ret == IMAP_READ_LITERAL) {
			size_t take =
			    need < size - pos ? (size_t)need : size - pos;

			imap_reader_literal(r, in + pos, take);
			pos += take;
			if (imap_reader_literal_left(r) > 0)
				return;
		} else if (ret == IMAP_READ_COMPLETE) {
			const char *cmd = imap_reader_command(r, &len);

			check_command(p, cmd, len);
		} else if (!sync) {
			return; /* the session would end */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_reader *r;
	static struct imap_parser *p;
	struct str whole;

	if (r == NULL) {
		r = imap_reader_new(4096, 8192, 16384);
		imap_reader_set_nonsync_max(r, 1024);
		p = imap_parser_new();
		str_init(&s1, 256);
		str_init(&s2, 256);
	}
	imap_reader_reset(r);
	feed(r, p, (const char *)data, size);
	/* the whole input as one value, too */
	if (size <= 4096) {
		str_init(&whole, size);
		str_set(&whole, data, size);
		check_string(whole.data, whole.len, (uint32_t)size);
		str_deinit(&whole);
	}
	return 0;
}
