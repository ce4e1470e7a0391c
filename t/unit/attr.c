/* t/unit/attr.c: tests for lib/attr.c and lib/attr_io.c: the record
 * format (round trip, typed gets, strictness, malformed bodies, limits),
 * the hello, and a real exchange between two processes: an event-loop
 * server (below, in a forked child) and the blocking client. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "event.h"
#include "iobuf.h"
#include "mem.h"
#include "sock.h"
#include "str.h"
#include "tap.h"

#define SRV_MAX (64 * 1024)

static const char *err;

/* Decodes the finished record in o, fed one byte at a time. */
static enum attr_status decode_trickle(struct attr_decoder *d,
				       struct attr_out *o, struct attr_rec *rec)
{
	const void *data;
	size_t len, used;
	enum attr_status st = ATTR_NEED_MORE;

	if (attr_out_finish(o, 0, &data, &len, &err) < 0)
		return ATTR_ERROR;
	for (size_t i = 0; i < len && st == ATTR_NEED_MORE; i++)
		st =
		    attr_decode(d, (const char *)data + i, 1, &used, rec, &err);
	return st;
}

static void check_errors(struct attr_rec *r);

/* Writes a record with every type, then reads it back. */
static void put_everything(struct attr_out *o)
{
	attr_put_str(o, "op", "deliver");
	attr_put_int(o, "min", INT64_MIN);
	attr_put_int(o, "max", INT64_MAX);
	attr_put_data(o, "bin", "a\0\r\n\"", 5);
	attr_list_begin(o, "rcpt");
	for (int i = 0; i < 2; i++) {
		attr_item_begin(o);
		attr_put_str(o, "addr", i ? "b@y" : "a@x");
		attr_put_int(o, "notify", i);
		if (i == 1) {
			attr_list_begin(o, "orcpt");
			attr_item_begin(o);
			attr_item_end(o);
			attr_list_end(o);
		}
		attr_item_end(o);
	}
	attr_list_end(o);
	attr_list_begin(o, "empty");
	attr_list_end(o);
}

static void test_roundtrip(void)
{
	struct attr_decoder *d = attr_decoder_new(0);
	struct attr_out o;
	struct attr_rec r, item, sub;
	struct attr_list l, l2;
	struct str dump;
	int64_t v;
	const char *s;
	size_t len;

	attr_out_init(&o);
	put_everything(&o);
	is_int(decode_trickle(d, &o, &r), ATTR_RECORD,
	       "record decoded byte by byte");

	str_init(&dump, 0);
	attr_rec_dump(&r, &dump);
	is_str(dump.data,
	       "{op=\"deliver\", min=-9223372036854775808, "
	       "max=9223372036854775807, bin=\"a\\x00\\x0d\\x0a\\x22\", "
	       "rcpt=[{addr=\"a@x\", notify=0}, {addr=\"b@y\", notify=1, "
	       "orcpt=[{}]}], empty=[]}",
	       "dump shows every field");
	is_int(attr_rec_done(&r, &err), -1, "strict check before any get");
	is_str(err, "unexpected attribute 'op'",
	       "names the first unread field");

	is_int(attr_get_cstr(&r, "op", &s, &err), 1, "get str");
	is_str(s, "deliver", "str value");
	is_int(attr_get_int(&r, "min", &v, &err), 1, "get int");
	ok(v == INT64_MIN, "INT64_MIN round trip");
	is_int(attr_get_int_range(&r, "max", 0, INT64_MAX, &v, &err), 1,
	       "range ok");
	ok(v == INT64_MAX, "INT64_MAX round trip");
	is_int(attr_get_str(&r, "bin", &s, &len, &err), 1, "get bytes");
	is_mem(s, len, "a\0\r\n\"", 5, "bytes with NUL and CRLF intact");
	ok(s[len] == '\0', "NUL-terminated in place");
	is_int(attr_get_cstr(&r, "bin", &s, &err), -1,
	       "cstr refuses an inner NUL");
	is_int(attr_get_list(&r, "rcpt", &l, &err), 1, "get list");
	is_int(attr_list_count(&l), 2, "two items");
	is_int(attr_list_next(&l, &item), 1, "first item");
	attr_get_cstr(&item, "addr", &s, &err);
	is_str(s, "a@x", "item field");
	is_int(attr_rec_done(&item, &err), -1, "item strictness is per item");
	attr_get_int(&item, "notify", &v, &err);
	is_int(attr_rec_done(&item, &err), 1, "item fully read");
	is_int(attr_list_next(&l, &item), 1, "second item");
	is_int(attr_get_list(&item, "orcpt", &l2, &err), 1, "nested list");
	ok(attr_list_next(&l2, &sub) == 1 && sub.len == 0, "empty nested item");
	is_int(attr_list_next(&l2, &sub), 0, "nested list ends");
	is_int(attr_list_next(&l, &item), 0, "list ends");
	is_int(attr_get_list(&r, "empty", &l, &err), 1, "empty list");
	is_int(attr_list_count(&l), 0, "no items");
	is_int(attr_rec_done(&r, &err), 1, "all top-level fields read");

	check_errors(&r);

	attr_out_reset(&o);
	is_int(decode_trickle(d, &o, &r), ATTR_RECORD, "empty record");
	is_int(r.len, 0, "no fields");
	str_deinit(&dump);
	attr_out_deinit(&o);
	attr_decoder_free(&d);
	ok(d == NULL, "decoder free clears the pointer");
}

/* Getter errors on the record of test_roundtrip(). */
static void check_errors(struct attr_rec *r)
{
	int64_t v;

	is_int(attr_get_int(r, "nope", &v, &err), 0, "missing field");
	is_str(err, "missing attribute 'nope'", "missing names the field");
	is_int(attr_get_int(r, "op", &v, &err), -1, "wrong type");
	is_str(err, "attribute 'op' is str, expected int", "type error text");
	is_int(attr_get_int_range(r, "min", 0, 10, &v, &err), -1,
	       "out of range");
	ok(strstr(err, "outside 0..10") != NULL, "range error: %s", err);
}

static void test_stream(void)
{
	struct attr_decoder *d = attr_decoder_new(100);
	struct attr_out o;
	struct attr_rec r;
	struct str two;
	const void *data;
	size_t len, used;
	int64_t v;
	char huge[200];

	attr_out_init(&o);
	str_init(&two, 0);
	for (int i = 1; i <= 2; i++) {
		attr_out_reset(&o);
		attr_put_int(&o, "n", i);
		attr_out_finish(&o, 0, &data, &len, &err);
		str_append(&two, data, len);
	}
	ok(attr_decoder_idle(d) && attr_decoder_want(d) == 4,
	   "idle wants a header");
	is_int(attr_decode(d, two.data, two.len, &used, &r, &err), ATTR_RECORD,
	       "first of two records");
	is_int(used, two.len / 2, "stops at the end of the record");
	attr_get_int(&r, "n", &v, &err);
	is_int(v, 1, "first value");
	is_int(attr_decode(d, two.data + used, two.len - used, &used, &r, &err),
	       ATTR_RECORD, "second record");
	attr_get_int(&r, "n", &v, &err);
	is_int(v, 2, "second value");

	/* exactly at the limit, then one over */
	memset(huge, 'z', sizeof(huge));
	attr_out_reset(&o);
	attr_put_data(&o, "s", huge, 100 - 9);
	attr_out_finish(&o, 0, &data, &len, &err);
	is_int(len, 104, "body of exactly 100 bytes");
	is_int(attr_decode(d, data, len, &used, &r, &err), ATTR_RECORD,
	       "record at the limit accepted");
	is_int(attr_out_finish(&o, 99, &data, &len, &err), -1,
	       "writer refuses a record over its own limit");
	attr_out_reset(&o);
	attr_put_data(&o, "s", huge, 100 - 8);
	attr_out_finish(&o, 0, &data, &len, &err);
	is_int(attr_decode(d, data, len, &used, &r, &err), ATTR_ERROR,
	       "limit + 1 refused");
	is_int(used, 4, "refused after the header, before buffering the body");
	is_str(err, "record of 101 bytes exceeds the limit of 100",
	       "limit error");
	is_int(attr_decode(d, "", 0, &used, &r, &err), ATTR_ERROR,
	       "stays failed");
	str_deinit(&two);
	attr_out_deinit(&o);
	attr_decoder_free(&d);
}

struct bad_body {
	const char *data;
	size_t len;
	const char *error;
};

#define BAD(lit, e)                                                            \
	{                                                                      \
		lit, sizeof(lit) - 1, e                                        \
	}

static void test_malformed(void)
{
	static const struct bad_body bad[] = {
	    BAD("\x02\x01", "truncated field"),
	    BAD("\x09\x01n\0\0\0\0\0\0", "unknown field type 9"),
	    BAD("\x02\x00\0\0\0\0\0\0", "truncated field"),
	    BAD("\x02\x01N\0\0\0\0\0\0", "invalid attribute name"),
	    BAD("\x02\x01n\x01\0\0\0\0\0", "invalid attribute name"),
	    BAD("\x02\x01n\0\0\0\0\x05x\0",
		"value of 'n' runs past its record"),
	    BAD("\x02\x01n\0\0\0\0\x01xy", "value of 'n' runs past its record"),
	    BAD("\x02\x01n\0\xff\xff\xff\xff\0",
		"value of 'n' runs past its record"),
	    BAD("\x01\x01n\0\0\0\0\x01x\0", "int 'n' is 1 bytes, not 8"),
	    BAD("\x02\x01n\0\0\0\0\0\0\x02\x01n\0\0\0\0\0\0",
		"attribute 'n' repeated"),
	    BAD("\x03\x01l\0\0\0\0\x03\0\0\0\0",
		"list item runs past its list"),
	    BAD("\x03\x01l\0\0\0\0\x05\0\0\0\x09\0\0",
		"list item runs past its list"),
	    BAD("\x03\x01l\0\0\0\0\x06\0\0\0\x02\x09\x01\0", "truncated field"),
	};
	struct attr_rec r;
	struct str many;
	size_t last = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		err = NULL;
		ret = attr_rec_parse(bad[i].data, bad[i].len, &r, &err);
		ok(ret == -1 && err && strcmp(err, bad[i].error) == 0,
		   "malformed body %zu: %s", i, err ? err : "(accepted)");
	}
	/* 129 fields */
	str_init(&many, 0);
	for (int i = 0; i <= ATTR_MAX_FIELDS; i++) {
		char name[8];
		int n = snprintf(name, sizeof(name), "f%d", i);

		last = many.len;
		str_putc(&many, ATTR_TYPE_STR);
		str_putc(&many, n);
		str_append(&many, name, (size_t)n + 1);
		str_append(&many, "\0\0\0\0\0", 5);
	}
	is_int(attr_rec_parse(many.data, many.len, &r, &err), -1, "129 fields");
	is_str(err, "more than 128 attributes", "field count limit");
	str_truncate(&many, last);
	is_int(attr_rec_parse(many.data, many.len, &r, &err), 1,
	       "128 fields ok");
	str_deinit(&many);
}

/* Builds lists nested n deep. */
static void nest(struct attr_out *o, int n)
{
	if (n == 0)
		return;
	attr_list_begin(o, "l");
	attr_item_begin(o);
	nest(o, n - 1);
	attr_item_end(o);
	attr_list_end(o);
}

static void test_depth(void)
{
	struct attr_out o;
	struct attr_rec r;
	struct str body;
	const void *data;
	size_t len;

	attr_out_init(&o);
	nest(&o, ATTR_MAX_DEPTH);
	attr_out_finish(&o, 0, &data, &len, &err);
	is_int(attr_rec_parse((const char *)data + 4, len - 4, &r, &err), 1,
	       "lists nested 4 deep");
	/* wrap it in one more list by hand: the writer would abort */
	str_init(&body, 0);
	str_append(&body, "\x03\x01l\0", 4);
	str_append(&body, "\0\0\0", 3);
	str_putc(&body, (int)(len - 4 + 4));
	str_append(&body, "\0\0\0", 3);
	str_putc(&body, (int)(len - 4));
	str_append(&body, (const char *)data + 4, len - 4);
	str_putc(&body, 0);
	is_int(attr_rec_parse(body.data, body.len, &r, &err), -1,
	       "5 deep refused");
	is_str(err, "lists nested deeper than 4", "depth error");
	str_deinit(&body);
	attr_out_deinit(&o);
}

static void put_twice(void *arg)
{
	struct attr_out o;

	attr_out_init(&o);
	attr_put_int(&o, "a", 1);
	attr_put_int(&o, "a", 2);
}

static void put_bad_name(void *arg)
{
	struct attr_out o;

	attr_out_init(&o);
	attr_put_int(&o, "Bad name", 1);
}

static void put_in_list(void *arg)
{
	struct attr_out o;

	attr_out_init(&o);
	attr_list_begin(&o, "l");
	attr_put_int(&o, "a", 1);
}

static void test_writer_bugs(void)
{
	is_int(tap_run_child(put_twice, NULL), -SIGABRT, "put twice aborts");
	is_int(tap_run_child(put_bad_name, NULL), -SIGABRT, "bad name aborts");
	is_int(tap_run_child(put_in_list, NULL), -SIGABRT,
	       "put outside an item aborts");
}

static void test_hello(void)
{
	static const char hello_bytes[] =
	    "\0\0\0\x2b"
	    "\x02\x08protocol\0\0\0\0\x04qmgr\0"
	    "\x01\x07version\0\0\0\0\x08\0\0\0\0\0\0\0\x01\0";
	struct attr_decoder *d = attr_decoder_new(0);
	struct attr_out o;
	struct attr_rec r;
	const void *data;
	size_t len;

	attr_out_init(&o);
	attr_hello_put(&o, "qmgr", 1);
	attr_out_finish(&o, 0, &data, &len, &err);
	is_mem(data, len, hello_bytes, sizeof(hello_bytes) - 1,
	       "hello bytes as in doc/ipc.md");
	attr_hello_put(&o, "qmgr", 3);
	decode_trickle(d, &o, &r);
	is_int(attr_hello_check(&r, "qmgr", 3, &err), 1, "hello accepted");
	decode_trickle(d, &o, &r);
	is_int(attr_hello_check(&r, "cleanup", 3, &err), -1, "wrong protocol");
	is_str(err, "peer speaks protocol 'qmgr', expected 'cleanup'",
	       "says which");
	decode_trickle(d, &o, &r);
	is_int(attr_hello_check(&r, "qmgr", 4, &err), -1, "wrong version");
	is_str(err, "peer speaks qmgr version 3, expected 4",
	       "says which version");
	attr_hello_put(&o, "qmgr", 3);
	attr_put_int(&o, "extra", 1);
	decode_trickle(d, &o, &r);
	is_int(attr_hello_check(&r, "qmgr", 3, &err), -1, "extra field");
	is_str(err, "bad hello: unexpected attribute 'extra'", "strict hello");
	attr_out_reset(&o);
	attr_put_data(&o, "protocol", "q\nm", 3);
	attr_put_int(&o, "version", 3);
	decode_trickle(d, &o, &r);
	attr_hello_check(&r, "qmgr", 3, &err);
	is_str(err, "peer speaks protocol 'q?m', expected 'qmgr'",
	       "peer text made safe");
	attr_out_reset(&o);
	decode_trickle(d, &o, &r);
	is_int(attr_hello_check(&r, "qmgr", 3, &err), -1, "empty hello");
	is_str(err, "bad hello: missing attribute 'protocol'", "missing field");
	attr_out_deinit(&o);
	attr_decoder_free(&d);
}

/* ---- two processes: an event-loop server and the blocking client */

struct server {
	struct event_loop *loop;
	int lfd;
	struct event_io *lio;
	int errors;
	char last_error[200];
};

struct conn {
	struct server *srv;
	int fd;
	struct event_io *io;
	struct iobuf *b;
	struct attr_decoder *d;
	struct attr_out out;
};

static void conn_close(struct conn *c, const char *error)
{
	if (error != NULL) {
		c->srv->errors++;
		snprintf(c->srv->last_error, sizeof(c->srv->last_error), "%s",
			 error);
	}
	event_io_remove(&c->io);
	close(c->fd);
	iobuf_free(&c->b);
	attr_decoder_free(&c->d);
	attr_out_deinit(&c->out);
	mem_free(c);
}

/* Replies to one request; returns 0 to keep quiet (stall), -1 to drop the
 * peer with *error_r, 1 when a reply is queued. */
static int serve(struct conn *c, struct attr_rec *r, const char **error_r)
{
	const char *op, *data;
	int64_t a, b;
	size_t len;
	struct attr_list l;
	struct attr_rec item;
	struct str addrs;

	if (attr_get_cstr(r, "op", &op, error_r) != 1)
		return -1;
	attr_out_reset(&c->out);
	if (strcmp(op, "add") == 0) {
		if (attr_get_int(r, "a", &a, error_r) != 1 ||
		    attr_get_int(r, "b", &b, error_r) != 1)
			return -1;
		attr_put_int(&c->out, "sum", a + b);
	} else if (strcmp(op, "echo") == 0) {
		if (attr_get_str(r, "data", &data, &len, error_r) != 1)
			return -1;
		attr_put_data(&c->out, "data", data, len);
	} else if (strcmp(op, "rcpt") == 0) {
		if (attr_get_list(r, "rcpt", &l, error_r) != 1)
			return -1;
		str_init(&addrs, 0);
		while (attr_list_next(&l, &item) == 1) {
			if (attr_get_cstr(&item, "addr", &data, error_r) != 1 ||
			    attr_rec_done(&item, error_r) < 0) {
				str_deinit(&addrs);
				return -1;
			}
			str_printf(&addrs, "%s;", data);
		}
		attr_put_int(&c->out, "count", (int64_t)attr_list_count(&l));
		attr_put_str(&c->out, "addrs", addrs.data);
		str_deinit(&addrs);
	} else if (strcmp(op, "stats") == 0) {
		attr_put_int(&c->out, "errors", c->srv->errors);
		attr_put_str(&c->out, "last_error", c->srv->last_error);
	} else if (strcmp(op, "stall") == 0) {
		return attr_rec_done(r, error_r) < 0 ? -1 : 0;
	} else if (strcmp(op, "quit") == 0) {
		event_loop_stop(c->srv->loop);
	} else if (strcmp(op, "half") != 0) {
		*error_r = "unknown op";
		return -1;
	}
	if (attr_rec_done(r, error_r) < 0)
		return -1;
	if (strcmp(op, "half") == 0) {
		/* a reply cut off in the middle, then the connection closes */
		const void *p;

		attr_put_str(&c->out, "reply", "this never arrives whole");
		attr_out_finish(&c->out, 0, &p, &len, error_r);
		iobuf_write(c->b, p, len / 2);
		iobuf_flush(c->b);
		*error_r = NULL;
		return -1;
	}
	return attr_write_iobuf(c->b, &c->out, error_r);
}

static void conn_event(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct conn *c = ctx;
	struct attr_rec r;
	const char *error = NULL;
	enum attr_status st = ATTR_NEED_MORE;
	int ret;

	while (!iobuf_output_backed_up(c->b) &&
	       (st = attr_read_iobuf(c->b, c->d, &r, &error)) == ATTR_RECORD) {
		if ((ret = serve(c, &r, &error)) < 0) {
			conn_close(c, error);
			return;
		}
	}
	if (st == ATTR_EOF || st == ATTR_ERROR) {
		conn_close(c, st == ATTR_ERROR ? error : NULL);
		return;
	}
	if ((ret = iobuf_flush(c->b)) < 0) {
		conn_close(c, iobuf_error(c->b));
		return;
	}
	/* backpressure: stop reading while the client does not read */
	event_io_modify(c->io,
			(iobuf_output_backed_up(c->b) ? 0 : EVENT_READ) |
			    (ret == 0 ? EVENT_WRITE : 0),
			&error);
}

static void server_accept(struct event_io *io, int fd, unsigned events,
			  void *ctx)
{
	struct server *srv = ctx;
	struct conn *c;
	const char *error;
	int cfd;

	while (sock_accept(fd, &cfd, &error) == 1) {
		c = mem_alloc(sizeof(*c));
		c->srv = srv;
		c->fd = cfd;
		c->b = iobuf_new(cfd, NULL);
		c->d = attr_decoder_new(SRV_MAX);
		attr_out_init(&c->out);
		attr_hello_put(&c->out, "test", 1);
		attr_write_iobuf(c->b, &c->out, &error);
		c->io = event_io_add(srv->loop, cfd, EVENT_READ | EVENT_WRITE,
				     conn_event, c, &error);
	}
}

static void server_main(int lfd)
{
	struct server srv = {0};
	const char *error;

	srv.loop = event_loop_new(&error);
	srv.lio = event_io_add(srv.loop, lfd, EVENT_READ, server_accept, &srv,
			       &error);
	event_loop_run(srv.loop, &error);
	/* connections still open are dropped with the process */
	event_loop_free(&srv.loop);
	_exit(srv.errors >= 0 ? 0 : 1);
}

static struct attr_client *client(const char *path)
{
	struct attr_client *c = NULL;

	if (attr_client_connect(path, "test", 1, 5000, &c, &err) != 1)
		tap_diag("connect: %s", err);
	return c;
}

/* Asks the server for its error count and last error. */
static void check_stats(const char *path, int64_t errors, const char *want,
			const char *name)
{
	struct attr_client *c = client(path);
	struct attr_out o;
	struct attr_rec r;
	const char *last = "";
	int64_t n = -1;

	attr_out_init(&o);
	attr_put_str(&o, "op", "stats");
	if (c != NULL && attr_client_call(c, &o, &r, &err) == 1) {
		attr_get_int(&r, "errors", &n, &err);
		attr_get_cstr(&r, "last_error", &last, &err);
	}
	is_int(n, errors, name);
	ok(strstr(last, want) != NULL, "server saw: %s", last);
	attr_out_deinit(&o);
	attr_client_free(&c);
}

/* Sends raw bytes after the hello, then waits for the server to hang up. */
static void send_raw(const char *path, const void *data, size_t len, bool shut)
{
	struct attr_decoder *d = attr_decoder_new(0);
	struct attr_rec r;
	char buf[64];
	int fd = sock_unix_connect(path, false, &err);

	attr_recv_fd(fd, d, 5000, &r, &err);
	ok(write(fd, data, len) == (ssize_t)len, "raw bytes sent");
	if (shut)
		shutdown(fd, SHUT_WR);
	ok(read(fd, buf, sizeof(buf)) == 0, "server hung up");
	close(fd);
	attr_decoder_free(&d);
}

static void client_requests(const char *path)
{
	struct attr_client *c = client(path);
	struct attr_out o;
	struct attr_rec r;
	struct attr_list l;
	const char *s;
	int64_t v;

	ok(c != NULL, "client connected and checked the hello");
	if (c == NULL)
		return;
	attr_out_init(&o);
	for (int i = 0; i < 3; i++) {
		attr_out_reset(&o);
		attr_put_str(&o, "op", "add");
		attr_put_int(&o, "a", i);
		attr_put_int(&o, "b", 40);
		ok(attr_client_call(c, &o, &r, &err) == 1 &&
		       attr_get_int(&r, "sum", &v, &err) == 1 && v == 40 + i,
		   "request %d answered", i);
	}
	attr_out_reset(&o);
	attr_put_str(&o, "op", "rcpt");
	attr_list_begin(&o, "rcpt");
	for (int i = 0; i < 3; i++) {
		attr_item_begin(&o);
		attr_put_str(&o, "addr", i == 1 ? "b@y" : "a@x");
		attr_item_end(&o);
	}
	attr_list_end(&o);
	ok(attr_client_call(c, &o, &r, &err) == 1 &&
	       attr_get_cstr(&r, "addrs", &s, &err) == 1 &&
	       strcmp(s, "a@x;b@y;a@x;") == 0,
	   "a list of recipients");
	attr_get_list(&r, "count", &l, &err);
	is_str(err, "attribute 'count' is int, expected list", "reply typed");

	attr_client_free(&c);
	attr_out_deinit(&o);
}

static void client_limits(const char *path)
{
	struct attr_client *c = client(path);
	struct attr_out o;
	struct attr_rec r;
	const char *s;
	size_t len;
	char *big;

	if (c == NULL)
		return;
	big = mem_alloc(SRV_MAX);
	attr_out_init(&o);
	/* a request body of exactly the server's limit: 14 + 12 + data */
	memset(big, 0xa5, SRV_MAX);
	attr_out_reset(&o);
	attr_put_str(&o, "op", "echo");
	attr_put_data(&o, "data", big, SRV_MAX - 26);
	is_int(attr_client_call(c, &o, &r, &err), 1, "record at the limit");
	ok(attr_get_str(&r, "data", &s, &len, &err) == 1 &&
	       len == SRV_MAX - 26 && memcmp(s, big, len) == 0,
	   "echoed intact");
	attr_out_reset(&o);
	attr_put_str(&o, "op", "echo");
	attr_put_data(&o, "data", big, SRV_MAX - 25);
	is_int(attr_client_call(c, &o, &r, &err), -1, "one byte over: dropped");
	/* closed with our bytes unread: EOF, reset or broken pipe */
	ok(strstr(err, "closed") || strstr(err, "reset") || strstr(err, "pipe"),
	   "client error: %s", err);
	attr_client_free(&c);
	check_stats(path, 1, "record of 65537 bytes exceeds the limit of 65536",
		    "server refused the oversized record");
	mem_free(big);
	attr_out_deinit(&o);
}

/* Requests the server must drop the client for, and a cut-off reply. */
static void client_drops(const char *path)
{
	struct attr_client *c = client(path);
	struct attr_out o;
	struct attr_rec r;

	if (c == NULL)
		return;
	attr_out_init(&o);
	attr_put_str(&o, "op", "add");
	attr_put_int(&o, "a", 1);
	attr_put_int(&o, "b", 1);
	attr_put_int(&o, "bogus", 1);
	is_int(attr_client_call(c, &o, &r, &err), -1, "unknown field: dropped");
	attr_client_free(&c);
	check_stats(path, 2, "unexpected attribute 'bogus'", "strict server");

	c = client(path);
	attr_out_reset(&o);
	attr_put_str(&o, "op", "half");
	is_int(attr_client_call(c, &o, &r, &err), -1, "peer closes mid-record");
	ok(strstr(err, "closed mid-record") != NULL, "client error: %s", err);
	attr_client_free(&c);
	attr_out_deinit(&o);
}

static void client_timeout(const char *path)
{
	struct attr_client *c = NULL;
	struct attr_out o;
	struct attr_rec r;

	if (attr_client_connect(path, "test", 1, 200, &c, &err) != 1)
		return;
	attr_out_init(&o);
	attr_put_str(&o, "op", "stall");
	is_int(attr_client_call(c, &o, &r, &err), -1, "no reply in time");
	is_str(err, "read: timed out after 200 ms", "timeout error");
	attr_out_deinit(&o);
	attr_client_free(&c);
}

static void client_hostile(const char *path)
{
	static const char truncated[] = "\0\0\0\x64"
					"0123456789";
	static const char badtype[] = "\0\0\0\x09\x09\x01n\0\0\0\0\0\0";
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";
	struct attr_client *c = NULL;

	send_raw(path, truncated, sizeof(truncated) - 1, true);
	check_stats(path, 3, "connection closed mid-record (10 of 100 bytes)",
		    "truncated record");
	send_raw(path, http, sizeof(http) - 1, false);
	check_stats(path, 4, "exceeds the limit", "garbage");
	send_raw(path, badtype, sizeof(badtype) - 1, false);
	check_stats(path, 5, "malformed record: unknown field type 9",
		    "malformed field");
	is_int(attr_client_connect(path, "qmgr", 1, 5000, &c, &err), -1,
	       "wrong protocol name");
	ok(strstr(err, "peer speaks protocol 'test', expected 'qmgr'") != NULL,
	   "clear error: %s", err);
	is_int(attr_client_connect(path, "test", 2, 5000, &c, &err), -1,
	       "wrong version");
	ok(strstr(err, "version 1, expected 2") != NULL, "clear error: %s",
	   err);
	ok(c == NULL, "no client on failure");
}

static void test_two_processes(void)
{
	struct str path;
	struct attr_client *c;
	struct attr_out o;
	struct attr_rec r;
	int lfd, status = -1;
	pid_t pid;

	str_init(&path, 0);
	str_printf(&path, "%s/test.sock", tap_tmpdir());
	lfd = sock_unix_listen(path.data, 0600, 16, &err);
	ok(lfd >= 0, "server socket");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		server_main(lfd);
	close(lfd);
	client_requests(path.data);
	client_limits(path.data);
	client_drops(path.data);
	client_timeout(path.data);
	client_hostile(path.data);

	c = client(path.data);
	attr_out_init(&o);
	attr_put_str(&o, "op", "quit");
	if (c != NULL)
		attr_client_call(c, &o, &r, &err);
	else
		kill(pid, SIGKILL);
	attr_out_deinit(&o);
	attr_client_free(&c);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "server exited cleanly (status %d)", status);
	str_deinit(&path);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_roundtrip();
	test_stream();
	test_malformed();
	test_depth();
	test_writer_bugs();
	test_hello();
	test_two_processes();
	return tap_done();
}
