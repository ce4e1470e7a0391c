/* deliver_proto.c: passing the queue file descriptor from qmgr to a
 * delivery agent (see deliver_proto.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deliver_proto.h"

static char proto_errbuf[128];

static int proto_error(const char *what, int err, const char **error_r)
{
	snprintf(proto_errbuf, sizeof(proto_errbuf), "%s: %s", what,
		 err != 0 ? strerror(err) : "peer closed");
	*error_r = proto_errbuf;
	return -1;
}

static int proto_wait(int sock, short events, int timeout_ms)
{
	struct pollfd p = {.fd = sock, .events = events};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 1 : -1;
}

ssize_t deliver_fd_sendmsg(int sock, int fd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'F';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &m, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

int deliver_fd_send(int sock, int fd, int timeout_ms, const char **error_r)
{
	ssize_t n;

	for (;;) {
		n = deliver_fd_sendmsg(sock, fd, 0);
		if (n == 1)
			return 1;
		if (n < 0 && errno == EAGAIN &&
		    proto_wait(sock, POLLOUT, timeout_ms) > 0)
			continue;
		return proto_error("send descriptor", n < 0 ? errno : EIO,
				   error_r);
	}
}

int deliver_fd_recv(int sock, int *fd_r, int timeout_ms, const char **error_r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;

	for (;;) {
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			break;
		if (errno == EAGAIN && proto_wait(sock, POLLIN, timeout_ms) < 0)
			return proto_error("receive descriptor", errno,
					   error_r);
	}
	if (n <= 0)
		return proto_error("receive descriptor", n < 0 ? errno : 0,
				   error_r);
	c = CMSG_FIRSTHDR(&m);
	if (c == NULL || c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return proto_error("receive descriptor", EPROTO, error_r);
	memcpy(fd_r, CMSG_DATA(c), sizeof(int));
	return 1;
}
