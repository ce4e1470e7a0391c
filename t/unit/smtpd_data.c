/* t/unit/smtpd_data.c: tests for lib/smtp_data.c, the DATA/BDAT framing, fed
 * through a real lib/iobuf (as in the daemon): only CRLF "." CRLF ends
 * the data; bare LF, bare CR, NUL around the dot never end it and make the
 * message refused; dot-unstuffing; the size limit at limit-1, limit,
 * limit+1; what follows the end stays input for the next command. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "iobuf.h"
#include "smtp_data.h"
#include "str.h"
#include "tap.h"

/* smtpd_forbid_bare_newline = no: a bare LF is a line end. */
static bool lf_ok;

struct run {
	bool ended;
	unsigned flags;
	struct str content;
	struct str next; /* the first line after the end, if any */
};

/* Feeds input (len bytes) through an iobuf into the DATA machine. */
static void run_data(const char *input, size_t len, uint64_t max,
		     size_t max_line, struct run *r)
{
	struct iobuf_limits lim = {.max_line = max_line, .max_output = 4096};
	struct smtpd_data d;
	struct iobuf_line line;
	enum iobuf_status st;
	struct iobuf *b;
	int fds[2];

	memset(r, 0, sizeof(*r));
	str_init(&r->content, 0);
	str_init(&r->next, 0);
	if (pipe(fds) < 0 || write(fds[1], input, len) != (ssize_t)len)
		return;
	close(fds[1]);
	b = iobuf_new(fds[0], &lim);
	smtpd_data_init(&d, max);
	d.bare_lf_ok = lf_ok;
	while ((st = iobuf_read_line(b, &line)) == IOBUF_OK ||
	       st == IOBUF_TOO_LONG) {
		if (r->ended) {
			str_set(&r->next, line.data, line.len);
			break;
		}
		if (st == IOBUF_TOO_LONG)
			smtpd_data_line_dropped(&d, line.eol);
		else if (smtpd_data_line(&d, line.data, line.len, line.eol,
					 &r->content) == 1)
			r->ended = true;
	}
	r->flags = d.flags;
	iobuf_free(&b);
	close(fds[0]);
}

static void run_free(struct run *r)
{
	str_deinit(&r->content);
	str_deinit(&r->next);
}

#define DATA_CASE(in, ended_, flags_, content_, next_, name)                   \
	do {                                                                   \
		struct run r;                                                  \
		run_data(in, sizeof(in) - 1, 0, 1024, &r);                     \
		ok(r.ended == (ended_), "%s: end of data", name);              \
		is_int(r.flags, flags_, name);                                 \
		if ((flags_) == 0)                                             \
			tap_is_mem(r.content.data, r.content.len, content_,    \
				   strlen(content_), __FILE__, __LINE__,       \
				   name);                                      \
		tap_is_str(r.next.data, next_, __FILE__, __LINE__, name);      \
		run_free(&r);                                                  \
	} while (0)

static void test_framing(void)
{
	DATA_CASE("a\r\n.\r\nQUIT\r\n", true, 0, "a\r\n", "QUIT", "plain");
	DATA_CASE(".\r\nQUIT\r\n", true, 0, "", "QUIT", "empty message");
	DATA_CASE("..x\r\n.\r\n", true, 0, ".x\r\n", "", "dot-stuffed");
	DATA_CASE(".x\r\n.\r\n", true, 0, "x\r\n", "", "lone leading dot");
	DATA_CASE("...\r\n.\r\n", true, 0, "..\r\n", "", "three dots");
	DATA_CASE("a\r\n\r\n.\r\n", true, 0, "a\r\n\r\n", "", "empty line");
	DATA_CASE("x.\r\n .\r\n.\r\n", true, 0, "x.\r\n .\r\n", "",
		  "dots not at line start");
}

static void test_smuggling(void)
{
	DATA_CASE("a\n.\nMAIL FROM:<x@y>\r\n.\r\nQUIT\r\n", true,
		  DATA_F_BARE_LF, "", "QUIT", "LF . LF is not the end");
	DATA_CASE("a\n.\r\nRCPT TO:<x@y>\r\n.\r\nQUIT\r\n", true,
		  DATA_F_BARE_LF, "", "QUIT", "LF . CRLF is not the end");
	DATA_CASE("a\r\n.\nDATA\r\n.\r\nQUIT\r\n", true, DATA_F_BARE_LF, "",
		  "QUIT", "CRLF . LF is not the end");
	DATA_CASE("a\r.\r\nDATA\r\n.\r\nQUIT\r\n", true, DATA_F_BARE_CR, "",
		  "QUIT", "CR . CRLF is not the end");
	DATA_CASE("a\r\n.\r\r\n.\r\nQUIT\r\n", true, DATA_F_BARE_CR, "", "QUIT",
		  "CRLF . CR CRLF is not the end");
	DATA_CASE("a\r\r\n.\r\nQUIT\r\n", true, DATA_F_BARE_CR, "", "QUIT",
		  "CR CR LF: bare CR, then the real end");
	DATA_CASE("a\nb\r\n", false, DATA_F_BARE_LF, "", "",
		  "no end without CRLF . CRLF");
	DATA_CASE("a\0b\r\n.\r\n", true, DATA_F_NUL, "", "", "NUL refused");
	DATA_CASE("a\r\n.", false, 0, "a\r\n", "",
		  "unterminated dot is not the end");
}

/* A bare LF allowed: stored as CRLF, yet the end is still only
 * CRLF "." CRLF, so nothing can be smuggled. */
static void test_bare_lf_ok(void)
{
	lf_ok = true;
	DATA_CASE("a\nb\r\n.\r\n", true, 0, "a\r\nb\r\n", "",
		  "LF stored as CRLF");
	DATA_CASE("a\n.\nMAIL FROM:<x@y>\r\n.\r\nQUIT\r\n", true, 0,
		  "a\r\n.\r\nMAIL FROM:<x@y>\r\n", "QUIT",
		  "allowed LF . LF is still not the end");
	DATA_CASE("a\n.\r\nRCPT\r\n.\r\nQUIT\r\n", true, 0,
		  "a\r\n.\r\nRCPT\r\n", "QUIT",
		  "allowed LF . CRLF is still not the end");
	DATA_CASE("a\r.\r\n.\r\n", true, DATA_F_BARE_CR, "", "",
		  "a bare CR is still refused");
	lf_ok = false;
}

static void test_limits(void)
{
	struct run r;

	/* "0123456\r\n" is 9 content bytes. */
	run_data("0123456\r\n.\r\n", 12, 8, 1024, &r);
	is_int(r.flags, DATA_F_TOO_BIG, "size limit - 1 refused");
	run_free(&r);
	run_data("0123456\r\n.\r\n", 12, 9, 1024, &r);
	is_int(r.flags, 0, "size at the limit accepted");
	run_free(&r);
	run_data("0123456\r\n.\r\n", 12, 10, 1024, &r);
	is_int(r.flags, 0, "size under the limit accepted");
	ok(r.ended, "ended");
	run_free(&r);
	run_data("..456\r\n.\r\n", 10, 6, 1024, &r);
	is_int(r.flags, 0, "limit counts unstuffed bytes");
	run_free(&r);
	run_data("0123456789\r\n.\r\nQUIT\r\n", 21, 0, 8, &r);
	is_int(r.flags, DATA_F_LINE_TOO_LONG, "overlong line refused");
	ok(r.ended, "overlong line: still ends at CRLF . CRLF");
	tap_is_str(r.next.data, "QUIT", __FILE__, __LINE__,
		   "overlong line: next command intact");
	run_free(&r);
}

static unsigned chunks(const char *a, size_t alen, const char *b, size_t blen,
		       struct str *out)
{
	struct smtpd_data d;

	smtpd_data_init(&d, 0);
	smtpd_data_chunk(&d, a, alen, out);
	smtpd_data_chunk(&d, b, blen, out);
	smtpd_data_chunk_end(&d);
	return d.flags;
}

static void test_bdat(void)
{
	struct str out;
	struct smtpd_data d;

	str_init(&out, 0);
	is_int(chunks("a\r\n", 3, "b\r\n", 3, &out), 0, "BDAT good");
	tap_is_str(out.data, "a\r\nb\r\n", __FILE__, __LINE__,
		   "BDAT content kept as is");
	str_clear(&out);
	is_int(chunks("a\r", 2, "\nb\r\n", 4, &out), 0,
	       "CRLF split across chunks is fine");
	tap_is_str(out.data, "a\r\nb\r\n", __FILE__, __LINE__,
		   "split CRLF content");
	is_int(chunks("a\nb", 3, "", 0, &out), DATA_F_BARE_LF, "BDAT bare LF");
	is_int(chunks("a\rb", 3, "", 0, &out), DATA_F_BARE_CR, "BDAT bare CR");
	is_int(chunks("a\r", 2, "", 0, &out), DATA_F_BARE_CR,
	       "BDAT CR at the very end");
	is_int(chunks("a\r", 2, "b", 1, &out), DATA_F_BARE_CR,
	       "BDAT CR then next chunk");
	is_int(chunks("a", 1, "\0", 1, &out), DATA_F_NUL, "BDAT NUL");
	is_int(chunks("\r\n.\r\n", 5, "", 0, &out), 0,
	       "BDAT: a dot line is just content");
	smtpd_data_init(&d, 4);
	str_clear(&out);
	smtpd_data_chunk(&d, "ab\r\n", 4, &out);
	is_int(d.flags, 0, "BDAT at the limit");
	smtpd_data_chunk(&d, "c", 1, &out);
	is_int(d.flags, DATA_F_TOO_BIG, "BDAT over the limit");
	is_int(out.len, 4, "nothing kept past the limit");
	smtpd_data_init(&d, 0);
	d.bare_lf_ok = true;
	str_clear(&out);
	smtpd_data_chunk(&d, "a\nb\r", 4, &out);
	smtpd_data_chunk(&d, "\n\nc", 3, &out);
	smtpd_data_chunk_end(&d);
	is_int(d.flags, 0, "BDAT bare LF allowed");
	tap_is_str(out.data, "a\r\nb\r\n\r\nc", __FILE__, __LINE__,
		   "BDAT bare LF stored as CRLF, split CRLF kept");
	is_int((long long)d.size, 9, "BDAT size counts the added CRs");
	str_deinit(&out);
}

static void test_replies(void)
{
	ok(smtpd_data_error_reply(0) == NULL, "no reply for a good message");
	tap_is_str(smtpd_data_error_reply(DATA_F_TOO_BIG),
		   "552 5.3.4 Error: message file too big", __FILE__, __LINE__,
		   "size reply");
	ok(strncmp(smtpd_data_error_reply(DATA_F_BARE_LF), "550 5.5.2", 9) == 0,
	   "bare LF reply");
	ok(strncmp(smtpd_data_error_reply(DATA_F_NUL), "550 5.6.0", 9) == 0,
	   "NUL reply");
}

int main(void)
{
	test_framing();
	test_smuggling();
	test_bare_lf_ok();
	test_limits();
	test_bdat();
	test_replies();
	return tap_done();
}
