/* t/unit/iobuf.c: tests for lib/iobuf.c: line splitting at and around the
 * limit, CRLF vs LF, CR and NUL inside lines, byte-at-a-time input (fake
 * transport and a real socketpair), raw reads, handing over unread input,
 * output limits and backpressure, transport errors. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iobuf.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

/* A transport over a string: hands out `chunk` bytes per read, says EAGAIN
 * between reads when `stall` is set, then EOF (or an error). */
struct fake {
	const char *data;
	size_t len, pos, chunk;
	bool stall, stalled;
	int fail_errno;
};

static ssize_t fake_read(void *ctx, void *buf, size_t len)
{
	struct fake *f = ctx;
	size_t n = f->chunk ? f->chunk : len;

	if (f->stall && !f->stalled) {
		f->stalled = true;
		errno = EAGAIN;
		return -1;
	}
	f->stalled = false;
	if (f->pos == f->len) {
		if (f->fail_errno != 0) {
			errno = f->fail_errno;
			return -1;
		}
		return 0;
	}
	if (n > len)
		n = len;
	if (n > f->len - f->pos)
		n = f->len - f->pos;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static ssize_t fake_write(void *ctx, const void *buf, size_t len)
{
	errno = EPIPE;
	return -1;
}

static const struct iobuf_transport fake_transport = {fake_read, fake_write};

static void show_line(struct str *out, const struct iobuf_line *l)
{
	str_putc(out, '[');
	for (size_t i = 0; i < l->len; i++) {
		unsigned char c = (unsigned char)l->data[i];

		if (c >= 0x20 && c < 0x7f)
			str_putc(out, c);
		else
			str_printf(out, "\\x%02x", c);
	}
	str_printf(out, "]%s ", l->eol == IOBUF_EOL_CRLF ? "crlf" : "lf");
}

/* Splits data read chunk bytes at a time (0 = all the buffer takes),
 * stalling between reads; returns a transcript of what came out. */
static char *split(const char *data, size_t len, size_t max_line, size_t chunk)
{
	struct fake f = {data, len, 0, chunk, true, false, 0};
	struct iobuf_limits lim = {max_line, 1024};
	struct iobuf *b = iobuf_new_transport(&fake_transport, &f, &lim);
	struct str out;
	struct iobuf_line l;
	enum iobuf_status st;
	size_t guard = 0;
	char *result;

	str_init(&out, 0);
	do {
		st = iobuf_read_line(b, &l);
		if (st == IOBUF_OK) {
			show_line(&out, &l);
			if (l.data[l.len] != '\0')
				str_append_cstr(&out, "NOT-TERMINATED ");
		} else if (st == IOBUF_TOO_LONG) {
			str_printf(&out, "TOO_LONG/%s ",
				   l.eol == IOBUF_EOL_CRLF ? "crlf" : "lf");
		}
	} while (st != IOBUF_EOF && st != IOBUF_ERROR && ++guard < 100000000);
	str_append_cstr(&out, st == IOBUF_EOF ? "EOF" : "ERROR");
	if (iobuf_input_pending(b) > 0)
		str_printf(&out, " pending=%zu", iobuf_input_pending(b));
	iobuf_free(&b);
	result = str_steal(&out);
	str_deinit(&out); /* str_steal leaves a fresh empty string behind */
	return result;
}

#define SPLIT(in, max, chunk, want, name)                                      \
	do {                                                                   \
		char *got_ = split(in, sizeof(in) - 1, max, chunk);            \
		is_str(got_, want, name);                                      \
		free(got_);                                                    \
	} while (0)

static void test_split(void)
{
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		tap_diag("reading %s",
			 chunk ? "one byte at a time" : "all at once");
		SPLIT("a\r\nb\nc\r\n", 10, chunk, "[a]crlf [b]lf [c]crlf EOF",
		      "CRLF and bare LF told apart");
		SPLIT("a\rb\r\n\r\r\nx\r", 10, chunk,
		      "[a\\x0db]crlf [\\x0d]crlf EOF pending=2",
		      "a lone CR stays in the line; no line without LF");
		SPLIT("a\0b\n\0\r\n", 10, chunk, "[a\\x00b]lf [\\x00]crlf EOF",
		      "NUL bytes kept, length-delimited");
		SPLIT("\r\n\n", 10, chunk, "[]crlf []lf EOF", "empty lines");
		SPLIT("12345\r\n12345\n", 5, chunk, "[12345]crlf [12345]lf EOF",
		      "lines of exactly max_line accepted");
		SPLIT("123456\r\nok\r\n", 5, chunk,
		      "TOO_LONG/crlf [ok]crlf EOF",
		      "max_line + 1 reported once, next line intact");
		SPLIT("123456\nok\n", 5, chunk, "TOO_LONG/lf [ok]lf EOF",
		      "max_line + 1 with a bare LF");
		SPLIT("12345\rX\r\nok\r\n", 5, chunk,
		      "TOO_LONG/crlf [ok]crlf EOF",
		      "a CR inside counts toward the length");
		SPLIT("1234567890abcdefghij\r\nA\r\nB\r\n", 3, chunk,
		      "TOO_LONG/crlf [A]crlf [B]crlf EOF",
		      "far over the limit: one report, never split");
		SPLIT("123456789", 5, chunk, "EOF", "overlong line cut by EOF");
	}
	/* the CR of a CRLF right at the buffer edge (limit 5: 5 + CR = 6) */
	SPLIT("abcde\r\n", 5, 1, "[abcde]crlf EOF",
	      "CR at the limit, byte at a time");
}

static void test_long_accepted(void)
{
	size_t n = 10 * 1024 * 1024;
	char *big = mem_alloc(n + 16);
	struct fake f = {big, n + 2, 0, 65536, false, false, 0};
	struct iobuf_limits lim = {16 * 1024 * 1024, 1024};
	struct iobuf *b = iobuf_new_transport(&fake_transport, &f, &lim);
	struct iobuf_line l;

	memset(big, 'x', n);
	memcpy(big + n, "\r\n", 2);
	is_int(iobuf_read_line(b, &l), IOBUF_OK,
	       "10 MB line under a 16 MB limit");
	ok(l.len == n && l.eol == IOBUF_EOL_CRLF, "whole line returned");
	iobuf_free(&b);

	/* 3 MB overlong in one go: yields after the discard budget */
	f = (struct fake){big, n + 2, 0, 0, false, false, 0};
	lim.max_line = 100;
	b = iobuf_new_transport(&fake_transport, &f, &lim);
	int needs = 0, longs = 0;
	enum iobuf_status st;
	while ((st = iobuf_read_line(b, &l)) != IOBUF_EOF)
		st == IOBUF_NEED_MORE ? needs++ : longs++;
	is_int(longs, 1, "10 MB over the limit: reported once");
	ok(needs >= 5, "discarding yields now and then (%d)", needs);
	iobuf_free(&b);
	mem_free(big);
}

/* ---- over a real socket */

static void wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	poll(&p, 1, 5000);
}

/* Takes everything buffered: lines, and raw bytes while *bdat > 0.
 * Returns the last status (NEED_MORE, EOF, ERROR). */
static enum iobuf_status pump(struct iobuf *b, struct str *out, size_t *bdat)
{
	for (;;) {
		struct iobuf_line l;
		enum iobuf_status st;

		if (*bdat > 0) {
			const void *data;
			size_t len;

			st = iobuf_read_data(b, *bdat, &data, &len);
			if (st != IOBUF_OK)
				return st;
			str_append(out, data, len);
			*bdat -= len;
			if (*bdat == 0)
				str_putc(out, ' ');
			continue;
		}
		st = iobuf_read_line(b, &l);
		if (st == IOBUF_TOO_LONG)
			str_append_cstr(out, "TOO_LONG ");
		else if (st != IOBUF_OK)
			return st;
		else
			show_line(out, &l);
		if (st == IOBUF_OK && strncmp(l.data, "BDAT ", 5) == 0)
			*bdat = strtoul(l.data + 5, NULL, 10);
	}
}

static void test_socket(bool trickle)
{
	static const char in[] =
	    "EHLO x\r\nMAIL FROM:<a>\nBDAT 5\r\nhe\nl\rQUIT\r\n";
	struct iobuf_limits lim = {64, 1024};
	struct iobuf *b;
	struct str got;
	size_t bdat = 0;
	int fds[2], needs = 0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
	b = iobuf_new(fds[0], &lim);
	str_init(&got, 0);
	if (trickle) {
		for (size_t i = 0; i < sizeof(in) - 1; i++) {
			if (write(fds[1], in + i, 1) != 1)
				break;
			needs += pump(b, &got, &bdat) == IOBUF_NEED_MORE;
		}
	} else {
		ok(write(fds[1], in, sizeof(in) - 1) == sizeof(in) - 1,
		   "write");
		needs += pump(b, &got, &bdat) == IOBUF_NEED_MORE;
	}
	is_str(
	    got.data,
	    "[EHLO x]crlf [MAIL FROM:<a>]lf [BDAT 5]crlf he\nl\r [QUIT]crlf ",
	    trickle ? "socketpair, one byte at a time"
		    : "socketpair, pipelined");
	is_int(needs, trickle ? (int)sizeof(in) - 1 : 1,
	       "need-more after each partial input");
	close(fds[1]);
	is_int(pump(b, &got, &bdat), IOBUF_EOF, "EOF after the peer closed");
	str_deinit(&got);
	iobuf_free(&b);
	close(fds[0]);
}

static void test_take_input(void)
{
	static const char in[] = "STARTTLS\r\nMAIL FROM:<evil>\r\n";
	struct iobuf *b;
	struct iobuf_line l;
	struct str rest;
	int fds[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
	b = iobuf_new(fds[0], NULL);
	str_init(&rest, 0);
	ok(write(fds[1], in, sizeof(in) - 1) == sizeof(in) - 1, "pipelined");
	is_int(iobuf_read_line(b, &l), IOBUF_OK, "STARTTLS line");
	is_int(iobuf_input_pending(b), 18, "plaintext behind it is buffered");
	is_int(iobuf_take_input(b, &rest), 18, "handed over");
	is_str(rest.data, "MAIL FROM:<evil>\r\n", "the injected command");
	is_int(iobuf_read_line(b, &l), IOBUF_NEED_MORE, "never read as a line");
	is_int(iobuf_input_pending(b), 0, "nothing left");
	str_deinit(&rest);
	iobuf_free(&b);
	close(fds[0]);
	close(fds[1]);
}

static void write_big_line(void *arg)
{
	int fd = *(int *)arg;
	size_t n = 10 * 1024 * 1024;
	char *big = mem_alloc(n);

	memset(big, 'y', n);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, big + off, n - off);
		if (w > 0)
			off += (size_t)w;
	}
	if (write(fd, "\r\nNEXT\r\n", 8) != 8)
		_exit(1);
	_exit(0);
}

static void test_big_line_socket(void)
{
	struct iobuf *b;
	struct iobuf_line l;
	enum iobuf_status st;
	int fds[2], longs = 0, lines = 0, child_fd;
	pid_t pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
	child_fd = fds[1];
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		write_big_line(&child_fd);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	b = iobuf_new(fds[0], NULL);
	while ((st = iobuf_read_line(b, &l)) != IOBUF_EOF &&
	       st != IOBUF_ERROR) {
		if (st == IOBUF_NEED_MORE)
			wait_readable(fds[0]);
		else if (st == IOBUF_TOO_LONG)
			longs++;
		else if (++lines == 1)
			is_str(l.data, "NEXT", "line after the 10 MB line");
	}
	is_int(st, IOBUF_EOF, "EOF");
	is_int(longs, 1, "10 MB line over a socket: reported once");
	is_int(lines, 1, "not split into further lines");
	waitpid(pid, NULL, 0);
	iobuf_free(&b);
	close(fds[0]);
}

static void test_output(void)
{
	struct iobuf_limits lim = {100, 64 * 1024};
	struct iobuf *b;
	char chunk[1024], buf[4096];
	size_t written = 0, got = 0, pending;
	int fds[2], small = 4096, flushes = 0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	b = iobuf_new(fds[0], &lim);
	is_int(iobuf_printf(b, "250 %s\r\n", "ok"), 1, "printf");
	is_int(iobuf_flush(b), 1, "flushed");
	ok(read(fds[1], buf, sizeof(buf)) == 8 &&
	       memcmp(buf, "250 ok\r\n", 8) == 0,
	   "peer got the reply");
	while (!iobuf_output_backed_up(b)) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)('a' + (written + i) % 26);
		if (iobuf_write(b, chunk, sizeof(chunk)) != 1)
			break;
		written += sizeof(chunk);
		if (iobuf_flush(b) == 0)
			flushes++;
	}
	ok(flushes > 0, "flush reports a peer that does not read");
	pending = iobuf_output_pending(b);
	ok(pending >= lim.max_output / 2, "backed up at half the limit (%zu)",
	   pending);
	while (iobuf_write(b, chunk, 100) == 1)
		written += 100;
	ok(iobuf_output_pending(b) <= lim.max_output, "never above the limit");
	is_int(iobuf_write(b, chunk, 100), -1, "write past the limit refused");
	while (got < written) {
		ssize_t n = read(fds[1], buf, sizeof(buf));

		if (n > 0)
			got += (size_t)n;
		if (iobuf_flush(b) < 0)
			break;
	}
	is_int(got, written, "every byte arrived once the peer read");
	is_int(iobuf_output_pending(b), 0, "output drained");
	ok(!iobuf_output_backed_up(b), "no longer backed up");
	iobuf_free(&b);
	close(fds[0]);
	close(fds[1]);
}

static void test_errors(void)
{
	struct fake f = {"abc", 3, 0, 0, false, false, EIO};
	struct iobuf *b = iobuf_new_transport(&fake_transport, &f, NULL);
	struct iobuf_line l;
	const void *data;
	size_t len;

	is_int(iobuf_read_line(b, &l), IOBUF_ERROR, "read error");
	ok(strstr(iobuf_error(b), "read") != NULL, "error text: %s",
	   iobuf_error(b));
	is_int(iobuf_read_line(b, &l), IOBUF_ERROR, "errors are sticky");
	is_int(iobuf_read_data(b, 10, &data, &len), IOBUF_OK,
	       "buffered bytes still readable raw");
	iobuf_write(b, "x", 1);
	is_int(iobuf_flush(b), -1, "write error");
	ok(strstr(iobuf_error(b), "write") != NULL, "error text: %s",
	   iobuf_error(b));
	iobuf_free(&b);
	ok(b == NULL, "free clears the pointer");
}

int main(void)
{
	test_split();
	test_long_accepted();
	test_socket(true);
	test_socket(false);
	test_take_input();
	test_big_line_socket();
	test_output();
	test_errors();
	return tap_done();
}
