/* conn.c: one client connection to a mail host, with blocking I/O over a
 * non-blocking socket and lib/iobuf: every step waits with poll() until
 * the deadline of its stage (smtp_*_timeout), so a stalled server costs
 * at most that long. Replies are read whole (all lines of one code) and
 * their text made safe for logs and status files. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "msg.h"
#include "smtp.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on c->fd until deadline. Returns 1 ready, 0 timeout,
 * -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* The events a blocked TLS read or write needs, else plain ones. */
static short tls_wait_events(const struct smtp_conn *c, short plain)
{
	unsigned ev = c->tls != NULL ? tls_conn_events(c->tls) : 0;
	short out = 0;

	if (ev == 0)
		return plain;
	if (ev & EVENT_READ)
		out |= POLLIN;
	if (ev & EVENT_WRITE)
		out |= POLLOUT;
	return out;
}

static int conn_fail(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int conn_fail(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -1;
}

int smtp_conn_open(struct smtp_conn *c, const char *host,
		   const struct sockaddr_storage *ss, unsigned port,
		   unsigned timeout)
{
	struct sockaddr_storage sa = *ss;
	char addr[INET6_ADDRSTRLEN] = "?";
	socklen_t len;
	int err = 0, r;
	socklen_t elen = sizeof(err);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	str_init(&c->reply, 256);
	if (sa.ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)&sa;

		len = sizeof(struct sockaddr_un);
		snprintf(c->peer, sizeof(c->peer), "%s[%.*s]", host,
			 (int)sizeof(un->sun_path), un->sun_path);
		snprintf(c->relay, sizeof(c->relay), "%s", c->peer);
	} else if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr,
			  addr, sizeof(addr));
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, addr,
			  sizeof(addr));
		len = sizeof(struct sockaddr_in);
	}
	if (sa.ss_family != AF_UNIX) {
		snprintf(c->peer, sizeof(c->peer), "%s[%s]", host, addr);
		snprintf(c->relay, sizeof(c->relay), "%s:%u", c->peer, port);
	}
	c->fd =
	    socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return conn_fail(c, "connect to %s: %s", c->relay,
				 strerror(errno));
	r = connect(c->fd, (struct sockaddr *)&sa, len);
	if (r < 0 && errno == EINPROGRESS) {
		r = wait_fd(c->fd, POLLOUT,
			    now_ms() +
				(long long)(timeout ? timeout : 1) * 1000);
		if (r == 0)
			return conn_fail(
			    c, "connect to %s: Connection timed out", c->relay);
		if (r > 0 &&
		    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
		    err == 0)
			r = 0;
		else
			errno = err != 0 ? err : errno;
	}
	if (r < 0)
		return conn_fail(c, "connect to %s: %s", c->relay,
				 strerror(errno));
	/* Commands and the end of DATA are small writes that wait for a
	 * reply: Nagle's algorithm would hold each one for a delayed ACK. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
			 sizeof(int));
	c->io = iobuf_new(
	    c->fd, &(struct iobuf_limits){.max_line = SMTP_REPLY_LINE_MAX,
					  .max_output = 4 * 1024 * 1024});
	c->opened_ms = now_ms();
	return 1;
}

void smtp_conn_close(struct smtp_conn *c)
{
	iobuf_free(&c->io);
	tls_conn_free(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	str_deinit(&c->reply);
}

void smtp_conn_put(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;
	char line[2 * 2048 + 256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		msg_panic("smtp command too long");
	/* Commands are built from queue values, which hold no control
	 * characters (queue_file.h), so CRLF cannot be smuggled in. */
	memcpy(line + n, "\r\n", 2);
	if (iobuf_write(c->io, line, (size_t)n + 2) < 0)
		msg_panic("smtp output buffer full");
}

int smtp_conn_flush(struct smtp_conn *c, unsigned timeout, const char *what)
{
	long long deadline = now_ms() + (long long)timeout * 1000;
	int r;

	while ((r = iobuf_flush(c->io)) == 0) {
		r = wait_fd(c->fd, tls_wait_events(c, POLLOUT), deadline);
		if (r == 0)
			return conn_fail(c,
					 "conversation with %s timed out "
					 "while %s",
					 c->peer, what);
		if (r < 0)
			break;
	}
	if (r < 0)
		return conn_fail(c, "lost connection with %s while %s", c->peer,
				 what);
	return 1;
}

/* Appends one reply line's text (after "ddd-") to c->reply, control
 * characters replaced, within SMTP_REPLY_TEXT_MAX. */
static void reply_append(struct smtp_conn *c, const char *text, size_t len)
{
	if (c->reply.len > 0 && c->reply.len < SMTP_REPLY_TEXT_MAX)
		str_putc(&c->reply, ' ');
	for (size_t i = 0; i < len && c->reply.len < SMTP_REPLY_TEXT_MAX; i++) {
		unsigned char ch = (unsigned char)text[i];

		str_putc(&c->reply, ch < 0x20 || ch == 0x7f ? '?' : ch);
	}
}

/* One line of a reply: 1 with *last set, or -1 (malformed). */
static int reply_line(struct smtp_conn *c, const struct iobuf_line *ln,
		      size_t nlines, bool *last_r)
{
	const char *p = ln->data;
	int code;

	if (ln->len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    (ln->len > 3 && p[3] != ' ' && p[3] != '-'))
		return -1;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (nlines > 0 && code != c->code)
		return -1;
	c->code = code;
	*last_r = ln->len == 3 || p[3] == ' ';
	if (nlines == 0)
		reply_append(c, p, 3);
	if (ln->len > 4)
		reply_append(c, p + 4, ln->len - 4);
	return 1;
}

int smtp_conn_reply(struct smtp_conn *c, unsigned timeout, const char *what)
{
	long long deadline = now_ms() + (long long)timeout * 1000;
	struct iobuf_line ln;
	enum iobuf_status st;
	size_t nlines = 0;
	bool last = false;
	int r;

	str_clear(&c->reply);
	c->code = 0;
	while (!last) {
		st = iobuf_read_line(c->io, &ln);
		if (st == IOBUF_OK) {
			if (++nlines > SMTP_REPLY_LINES ||
			    reply_line(c, &ln, nlines - 1, &last) < 0)
				return conn_fail(c,
						 "malformed reply from %s "
						 "while %s",
						 c->peer, what);
			continue;
		}
		if (st == IOBUF_TOO_LONG)
			return conn_fail(c,
					 "reply line too long from %s "
					 "while %s",
					 c->peer, what);
		if (st == IOBUF_NEED_MORE) {
			if (c->tls != NULL && tls_conn_pending(c->tls))
				continue;
			r = wait_fd(c->fd, tls_wait_events(c, POLLIN),
				    deadline);
			if (r == 0)
				return conn_fail(c,
						 "conversation with %s "
						 "timed out while %s",
						 c->peer, what);
			if (r > 0)
				continue;
		}
		return conn_fail(c, "lost connection with %s while %s", c->peer,
				 what);
	}
	return 1;
}

/* The TLSA records into the fresh connection; none usable: a new one at
 * level ENCRYPT (nothing was sent yet). Returns 1 or -1. */
static int dane_setup(struct smtp_conn *c, struct tls_ctx *ctx,
		      const char *peer_name, const char **error_r)
{
	int r = tls_conn_set_tlsa(c->tls, peer_name, c->tlsa, c->tlsa_count,
				  error_r);

	if (r != 0)
		return r;
	msg_info("no usable TLSA records for %s: TLS without authentication",
		 c->peer);
	tls_conn_free(&c->tls);
	c->tls =
	    tls_conn_client(ctx, c->fd, TLS_LEVEL_ENCRYPT, peer_name, error_r);
	return c->tls != NULL ? 1 : -1;
}

int smtp_conn_starttls(struct smtp_conn *c, struct tls_ctx *ctx,
		       enum tls_level level, const char *peer_name,
		       unsigned timeout)
{
	long long deadline = now_ms() + (long long)timeout * 1000;
	const char *err = NULL;
	unsigned events;
	int r;

	/* Bytes after the 220 came in plaintext: a man in the middle. */
	if (iobuf_take_input(c->io, NULL) != 0)
		return conn_fail(c, "%s sent plaintext after STARTTLS",
				 c->peer);
	c->tls = tls_conn_client(ctx, c->fd, level, peer_name, &err);
	if (c->tls == NULL)
		return conn_fail(c, "TLS setup for %s: %s", c->peer, err);
	if (level == TLS_LEVEL_DANE && dane_setup(c, ctx, peer_name, &err) < 0)
		return conn_fail(c, "TLS setup for %s: %s", c->peer, err);
	while ((r = tls_conn_handshake(c->tls, &events, &err)) == 0) {
		r = wait_fd(c->fd,
			    (short)(((events & EVENT_READ) ? POLLIN : 0) |
				    ((events & EVENT_WRITE) ? POLLOUT : 0)),
			    deadline);
		if (r == 0)
			return conn_fail(c,
					 "conversation with %s timed out "
					 "while performing the TLS handshake",
					 c->peer);
		if (r < 0)
			return conn_fail(c,
					 "lost connection with %s while "
					 "performing the TLS handshake",
					 c->peer);
	}
	if (r < 0)
		return conn_fail(c, "%s with %s", err, c->peer);
	iobuf_set_transport(c->io, &tls_iobuf_transport, c->tls);
	return 1;
}
