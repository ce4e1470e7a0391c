/* sock.c: UNIX and TCP socket helpers for the master, daemons and CLI
 * (see sock.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mem.h"
#include "sock.h"

static char sock_errbuf[600];

static int sock_fail(const char **error_r, const char *what, const char *name,
		     int err)
{
	snprintf(sock_errbuf, sizeof(sock_errbuf), "%s %s: %s", what, name,
		 strerror(err));
	*error_r = sock_errbuf;
	return -1;
}

static int sock_fail_text(const char **error_r, const char *what,
			  const char *name, const char *text)
{
	snprintf(sock_errbuf, sizeof(sock_errbuf), "%s %s: %s", what, name,
		 text);
	*error_r = sock_errbuf;
	return -1;
}

static int sock_flag(int fd, int get, int set, int flag, bool on,
		     const char **error_r)
{
	int flags = fcntl(fd, get);

	if (flags < 0 ||
	    fcntl(fd, set, on ? (flags | flag) : (flags & ~flag)) < 0)
		return sock_fail(error_r, "fcntl", "fd", errno);
	return 1;
}

int sock_set_nonblock(int fd, bool on, const char **error_r)
{
	return sock_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on, error_r);
}

int sock_set_cloexec(int fd, bool on, const char **error_r)
{
	return sock_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on, error_r);
}

/* ---- UNIX */

static int unix_addr(const char *path, struct sockaddr_un *sun)
{
	size_t len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, len);
	return 1;
}

char *sock_unix_path_keep(const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	char buf[64];

	if (fd < 0)
		return mem_strdup(path);
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	return mem_strdup(buf);
}

int sock_unix_connect(const char *path, bool nonblock, const char **error_r)
{
	struct sockaddr_un sun;
	int fd, err;

	if (unix_addr(path, &sun) < 0)
		return sock_fail_text(error_r, "connect", path,
				      "path empty or too long");
	fd = socket(AF_UNIX,
		    SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
		    0);
	if (fd < 0)
		return sock_fail(error_r, "socket for", path, errno);
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		err = errno;
		close(fd);
		if (err == EAGAIN)
			return sock_fail_text(error_r, "connect", path,
					      "server busy (backlog full)");
		return sock_fail(error_r, "connect", path, err);
	}
	return fd;
}

/* Removes a stale socket; refuses anything else at path, and a socket
 * some process still accepts on. */
static int unix_remove_old(const char *path, const char **error_r)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 1;
		return sock_fail(error_r, "listen", path, errno);
	}
	if (!S_ISSOCK(st.st_mode))
		return sock_fail_text(error_r, "listen", path,
				      "exists and is not a socket");
	fd = sock_unix_connect(path, true, error_r);
	if (fd >= 0) {
		close(fd);
		return sock_fail_text(error_r, "listen", path,
				      "another server is listening on it");
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return sock_fail(error_r, "remove stale socket", path, errno);
	return 1;
}

int sock_unix_listen(const char *path, mode_t mode, int backlog,
		     const char **error_r)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, rc, err;

	if (unix_addr(path, &sun) < 0)
		return sock_fail_text(error_r, "listen", path,
				      "path empty or too long");
	if (unix_remove_old(path, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sock_fail(error_r, "socket for", path, errno);
	/* bind() creates the file with 0777 & ~umask; chmod() then overrides
	 * a directory's default ACL. Nobody can connect before listen(), so
	 * the socket is never reachable with other permissions. */
	old = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || chmod(path, mode & 07777) < 0 ||
	    listen(fd, backlog) < 0) {
		err = errno;
		if (rc == 0)
			(void)unlink(path);
		close(fd);
		return sock_fail(error_r, "listen", path, err);
	}
	return fd;
}

/* ---- TCP */

/* Splits addr into host (NULL = all addresses) and port, in buf. */
static int tcp_split(const char *addr, struct str *buf, const char **host_r,
		     const char **port_r, bool *v6_r)
{
	const char *colon = strrchr(addr, ':');
	size_t hostlen;

	*v6_r = false;
	str_set(buf, addr, strlen(addr));
	if (colon == NULL) {
		*host_r = NULL;
		*port_r = buf->data;
		return **port_r != '\0' ? 1 : -1;
	}
	hostlen = (size_t)(colon - addr);
	buf->data[hostlen] = '\0';
	*host_r = buf->data;
	*port_r = buf->data + hostlen + 1;
	if (addr[0] == '[') {
		if (hostlen < 3 || addr[hostlen - 1] != ']')
			return -1;
		buf->data[hostlen - 1] = '\0';
		*host_r = buf->data + 1;
		*v6_r = true;
	} else if (memchr(addr, ':', hostlen) != NULL) {
		return -1; /* an IPv6 address without brackets */
	}
	if (strcmp(*host_r, "*") == 0 || **host_r == '\0')
		*host_r = NULL;
	return **port_r != '\0' ? 1 : -1;
}

static int tcp_bind_one(const struct addrinfo *ai, bool dual, int backlog)
{
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	int one = 1, v6only = dual ? 0 : 1, err;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			sizeof(v6only)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int tcp_resolve(const char *host, const char *port, int family,
		       struct addrinfo **res_r, const char *addr,
		       const char **error_r)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, port, &hints, res_r);
	if (rc != 0)
		return sock_fail_text(error_r, "listen", addr,
				      gai_strerror(rc));
	return 1;
}

int sock_tcp_listen(const char *addr, int backlog, const char **error_r)
{
	struct addrinfo *res = NULL;
	const char *host, *port;
	struct str buf;
	bool v6;
	int fd = -1, err = EADDRNOTAVAIL;

	str_init(&buf, 0);
	if (tcp_split(addr, &buf, &host, &port, &v6) < 0) {
		str_deinit(&buf);
		return sock_fail_text(
		    error_r, "listen", addr,
		    "expected host:port, [ipv6]:port, *:port or port");
	}
	/* no host: the IPv6 wildcard, dual-stack */
	if (tcp_resolve(host, port, host == NULL || v6 ? AF_INET6 : AF_UNSPEC,
			&res, addr, error_r) < 0) {
		str_deinit(&buf);
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL && fd < 0;
	     ai = ai->ai_next) {
		fd = tcp_bind_one(ai, host == NULL, backlog);
		if (fd < 0)
			err = errno;
	}
	freeaddrinfo(res);
	if (fd < 0 && host == NULL &&
	    (err == EAFNOSUPPORT || err == EADDRNOTAVAIL) &&
	    tcp_resolve(NULL, port, AF_INET, &res, addr, error_r) > 0) {
		/* a host without IPv6: listen on all IPv4 addresses */
		fd = tcp_bind_one(res, false, backlog);
		err = errno;
		freeaddrinfo(res);
	}
	str_deinit(&buf);
	if (fd < 0)
		return sock_fail(error_r, "listen", addr, err);
	return fd;
}

int sock_accept(int listen_fd, int *fd_r, const char **error_r)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0) {
		*fd_r = fd;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
	    errno == ECONNABORTED || errno == EPROTO)
		return 0;
	return sock_fail(error_r, "accept", "connection", errno);
}

int sock_peer(int fd, char *addr, size_t addr_size, char *port,
	      size_t port_size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	unsigned p;

	snprintf(addr, addr_size, "unknown");
	if (port != NULL && port_size > 0)
		port[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_UNIX) {
		snprintf(addr, addr_size, "unix");
		return 0;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		p = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;

		/* a dual-stack listener's IPv4 client: shown as IPv4 */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host,
				  sizeof(host));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, host,
				  sizeof(host));
		p = ntohs(in6->sin6_port);
	} else {
		return -1;
	}
	if (strlen(host) >= addr_size)
		return -1;
	memcpy(addr, host, strlen(host) + 1);
	if (port != NULL && port_size > 0)
		snprintf(port, port_size, "%u", p);
	return 1;
}

int sock_name(int fd, bool peer, struct str *out, const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		  : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc < 0)
		return sock_fail(error_r, peer ? "getpeername" : "getsockname",
				 "of socket", errno);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		str_printf(out, "%s:%u", host, (unsigned)ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		str_printf(out, "[%s]:%u", host,
			   (unsigned)ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
		size_t n = len > offsetof(struct sockaddr_un, sun_path)
			       ? len - offsetof(struct sockaddr_un, sun_path)
			       : 0;

		str_append_cstr(out, "unix:");
		str_append(out, sun->sun_path, strnlen(sun->sun_path, n));
	} else {
		return sock_fail_text(error_r, "address", "of socket",
				      "unknown address family");
	}
	return 1;
}
