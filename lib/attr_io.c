/* attr_io.c: moving IPC records over sockets (see attr.h): the incremental
 * decoder for event-driven servers, blocking send/receive with timeouts,
 * and the small request/reply client the CLI uses to talk to daemons. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "sock.h"

#define HEADER_SIZE 4
/* Keep at most this much buffer between records (after a big one). */
#define DECODER_KEEP (64 * 1024)

struct attr_decoder {
	size_t max;
	unsigned char hdr[HEADER_SIZE];
	size_t hdr_len;
	size_t body_len; /* declared, once hdr_len == HEADER_SIZE */
	struct str body;
	bool returned; /* the buffered record went out: start afresh */
	bool failed;
	char error[200];
};

struct attr_decoder *attr_decoder_new(size_t max_record)
{
	struct attr_decoder *d = mem_alloc(sizeof(*d));

	d->max = max_record != 0 ? max_record : ATTR_DEFAULT_MAX_RECORD;
	str_init(&d->body, 0);
	return d;
}

void attr_decoder_set_max(struct attr_decoder *d, size_t max_record)
{
	d->max = max_record != 0 ? max_record : ATTR_DEFAULT_MAX_RECORD;
}

void attr_decoder_free(struct attr_decoder **dp)
{
	if (*dp == NULL)
		return;
	str_deinit(&(*dp)->body);
	mem_free(*dp);
}

static void decoder_restart(struct attr_decoder *d)
{
	d->returned = false;
	d->hdr_len = 0;
	d->body_len = 0;
	if (d->body.cap > DECODER_KEEP) {
		str_deinit(&d->body);
		str_init(&d->body, 0);
	}
	str_clear(&d->body);
}

static enum attr_status decoder_fail(struct attr_decoder *d,
				     const char **error_r)
{
	d->failed = true;
	*error_r = d->error;
	return ATTR_ERROR;
}

size_t attr_decoder_want(const struct attr_decoder *d)
{
	if (d->returned || d->hdr_len < HEADER_SIZE)
		return d->returned ? HEADER_SIZE : HEADER_SIZE - d->hdr_len;
	/* a complete empty record is returned before anyone asks */
	return d->body_len > d->body.len ? d->body_len - d->body.len : 1;
}

bool attr_decoder_idle(const struct attr_decoder *d)
{
	return d->returned || d->hdr_len == 0;
}

/* Takes header bytes (*taken_r says how many); returns -1 when the
 * declared size is over the limit. */
static int decoder_header(struct attr_decoder *d, const unsigned char *p,
			  size_t len, size_t *taken_r)
{
	size_t n = HEADER_SIZE - d->hdr_len;

	if (n > len)
		n = len;
	memcpy(d->hdr + d->hdr_len, p, n);
	d->hdr_len += n;
	*taken_r = n;
	if (d->hdr_len < HEADER_SIZE)
		return 1;
	d->body_len = (size_t)d->hdr[0] << 24 | (size_t)d->hdr[1] << 16 |
		      (size_t)d->hdr[2] << 8 | (size_t)d->hdr[3];
	/* refuse before buffering a single byte of the body */
	if (d->body_len > d->max) {
		snprintf(d->error, sizeof(d->error),
			 "record of %zu bytes exceeds the limit of %zu",
			 d->body_len, d->max);
		return -1;
	}
	return 1;
}

enum attr_status attr_decode(struct attr_decoder *d, const void *data,
			     size_t len, size_t *used_r, struct attr_rec *rec_r,
			     const char **error_r)
{
	const unsigned char *p = data;
	const char *err;
	size_t used = 0, n;

	*used_r = 0;
	if (d->failed)
		return decoder_fail(d, error_r);
	if (d->returned)
		decoder_restart(d);
	if (d->hdr_len < HEADER_SIZE) {
		if (decoder_header(d, p, len, &used) < 0) {
			*used_r = used;
			return decoder_fail(d, error_r);
		}
		if (d->hdr_len < HEADER_SIZE) {
			*used_r = used;
			return ATTR_NEED_MORE;
		}
	}
	n = d->body_len - d->body.len;
	if (n > len - used)
		n = len - used;
	str_append(&d->body, p + used, n);
	*used_r = used + n;
	if (d->body.len < d->body_len)
		return ATTR_NEED_MORE;
	d->returned = true;
	if (attr_rec_parse(d->body.data, d->body.len, rec_r, &err) < 0) {
		snprintf(d->error, sizeof(d->error), "malformed record: %s",
			 err);
		return decoder_fail(d, error_r);
	}
	return ATTR_RECORD;
}

static enum attr_status decoder_eof(struct attr_decoder *d,
				    const char **error_r)
{
	if (attr_decoder_idle(d))
		return ATTR_EOF;
	if (d->hdr_len < HEADER_SIZE)
		snprintf(d->error, sizeof(d->error),
			 "connection closed inside a record header");
	else
		snprintf(d->error, sizeof(d->error),
			 "connection closed mid-record (%zu of %zu bytes)",
			 d->body.len, d->body_len);
	return decoder_fail(d, error_r);
}

enum attr_status attr_read_iobuf(struct iobuf *b, struct attr_decoder *d,
				 struct attr_rec *rec_r, const char **error_r)
{
	for (;;) {
		const void *data;
		size_t len, used;
		enum attr_status st;

		switch (iobuf_read_data(b, attr_decoder_want(d), &data, &len)) {
		case IOBUF_OK:
			st = attr_decode(d, data, len, &used, rec_r, error_r);
			if (st != ATTR_NEED_MORE)
				return st;
			break;
		case IOBUF_EOF:
			return decoder_eof(d, error_r);
		case IOBUF_ERROR:
			snprintf(d->error, sizeof(d->error), "%s",
				 iobuf_error(b));
			return decoder_fail(d, error_r);
		default:
			return ATTR_NEED_MORE;
		}
	}
}

int attr_write_iobuf(struct iobuf *b, struct attr_out *o, const char **error_r)
{
	const void *data;
	size_t len;

	if (attr_out_finish(o, 0, &data, &len, error_r) < 0)
		return -1;
	if (iobuf_write(b, data, len) < 0) {
		snprintf(o->error, sizeof(o->error),
			 "output buffer full (record of %zu bytes)", len);
		*error_r = o->error;
		return -1;
	}
	return 1;
}

/* ---- blocking */

/* Waits until fd is ready for events or the deadline (-1: none) passes.
 * Returns 1, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	for (;;) {
		int64_t left =
		    deadline < 0 ? -1 : deadline - (int64_t)event_clock_ms();
		int rc;

		if (deadline >= 0 && left < 0)
			left = 0;
		rc = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0 && deadline >= 0 &&
		    (int64_t)event_clock_ms() >= deadline)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms > 0 ? (int64_t)event_clock_ms() + timeout_ms : -1;
}

int attr_send_fd(int fd, struct attr_out *o, int timeout_ms,
		 const char **error_r)
{
	int64_t deadline = deadline_after(timeout_ms);
	const char *p;
	const void *data;
	size_t len;

	if (attr_out_finish(o, 0, &data, &len, error_r) < 0)
		return -1;
	for (p = data; len > 0;) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			snprintf(o->error, sizeof(o->error), "send: %s",
				 strerror(errno));
			break;
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(o->error, sizeof(o->error),
				 "send: timed out after %d ms", timeout_ms);
			break;
		}
	}
	if (len == 0)
		return 1;
	*error_r = o->error;
	return -1;
}

int attr_recv_fd(int fd, struct attr_decoder *d, int timeout_ms,
		 struct attr_rec *rec_r, const char **error_r)
{
	int64_t deadline = deadline_after(timeout_ms);
	unsigned char buf[8192];

	for (;;) {
		size_t want = attr_decoder_want(d), used;
		ssize_t n =
		    read(fd, buf, want < sizeof(buf) ? want : sizeof(buf));
		enum attr_status st;

		if (n == 0)
			return decoder_eof(d, error_r) == ATTR_EOF ? 0 : -1;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				snprintf(d->error, sizeof(d->error), "read: %s",
					 strerror(errno));
				return decoder_fail(d, error_r);
			}
			if (wait_fd(fd, POLLIN, deadline) <= 0) {
				snprintf(d->error, sizeof(d->error),
					 "read: timed out after %d ms",
					 timeout_ms);
				return decoder_fail(d, error_r);
			}
			continue;
		}
		st = attr_decode(d, buf, (size_t)n, &used, rec_r, error_r);
		if (st != ATTR_NEED_MORE)
			return st == ATTR_RECORD ? 1 : -1;
	}
}

/* ---- client */

struct attr_client {
	int fd;
	int timeout_ms;
	struct attr_decoder *dec;
	char error[200];
};

int attr_client_connect(const char *path, const char *protocol, int64_t version,
			int timeout_ms, struct attr_client **client_r,
			const char **error_r)
{
	static char errbuf[400];
	struct attr_client *c;
	struct attr_rec hello;
	const char *err;
	int fd = sock_unix_connect(path, true, &err), ret;

	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s", err);
		*error_r = errbuf;
		return -1;
	}
	c = mem_alloc(sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->dec = attr_decoder_new(0);
	ret = attr_recv_fd(fd, c->dec, timeout_ms, &hello, &err);
	if (ret == 0)
		err = "closed before its hello";
	if (ret == 1 &&
	    attr_hello_check(&hello, protocol, version, &err) == 1) {
		*client_r = c;
		return 1;
	}
	snprintf(errbuf, sizeof(errbuf), "%s: %s", path, err);
	attr_client_free(&c);
	*error_r = errbuf;
	return -1;
}

void attr_client_set_max(struct attr_client *c, size_t max_record)
{
	attr_decoder_set_max(c->dec, max_record);
}

int attr_client_send(struct attr_client *c, struct attr_out *request,
		     const char **error_r)
{
	return attr_send_fd(c->fd, request, c->timeout_ms, error_r);
}

int attr_client_recv(struct attr_client *c, struct attr_rec *reply_r,
		     const char **error_r)
{
	return attr_recv_fd(c->fd, c->dec, c->timeout_ms, reply_r, error_r);
}

int attr_client_call(struct attr_client *c, struct attr_out *request,
		     struct attr_rec *reply_r, const char **error_r)
{
	int ret;

	if (attr_client_send(c, request, error_r) < 0)
		return -1;
	ret = attr_client_recv(c, reply_r, error_r);
	if (ret == 0) {
		snprintf(c->error, sizeof(c->error),
			 "server closed the connection without a reply");
		*error_r = c->error;
		return -1;
	}
	return ret;
}

int attr_client_fd(const struct attr_client *c)
{
	return c->fd;
}

void attr_client_free(struct attr_client **cp)
{
	struct attr_client *c = *cp;

	if (c == NULL)
		return;
	close(c->fd);
	attr_decoder_free(&c->dec);
	mem_free(c);
	*cp = NULL;
}
