/* t/unit/sock.c: tests for lib/sock.c: UNIX listeners (mode, stale and live
 * sockets, wrong file types), accept, flags, TCP address forms. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sock.h"
#include "str.h"
#include "tap.h"

static const char *err;

static bool has_flag(int fd, int get, int flag)
{
	int fl = fcntl(fd, get);

	return fl >= 0 && (fl & flag) != 0;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static void test_unix(const char *dir)
{
	struct str path, name;
	struct stat st;
	int lfd, lfd2, cfd, afd = -1;

	str_init(&path, 0);
	str_init(&name, 0);
	str_printf(&path, "%s/sock", dir);
	umask(077);
	lfd = sock_unix_listen(path.data, 0666, 16, &err);
	ok(lfd >= 0, "listen on a UNIX path: %s", lfd < 0 ? err : "ok");
	ok(stat(path.data, &st) == 0 && S_ISSOCK(st.st_mode),
	   "socket file exists");
	is_int(st.st_mode & 07777, 0666,
	       "mode exactly as asked despite umask 077");
	is_int(count_entries(dir), 1, "nothing else created");
	ok(has_flag(lfd, F_GETFL, O_NONBLOCK), "listener non-blocking");
	ok(has_flag(lfd, F_GETFD, FD_CLOEXEC), "listener close-on-exec");
	is_int(sock_accept(lfd, &afd, &err), 0, "nothing to accept yet");

	cfd = sock_unix_connect(path.data, false, &err);
	ok(cfd >= 0, "connect");
	ok(has_flag(cfd, F_GETFD, FD_CLOEXEC), "client close-on-exec");
	ok(!has_flag(cfd, F_GETFL, O_NONBLOCK), "client blocking when asked");
	is_int(sock_accept(lfd, &afd, &err), 1, "accept");
	ok(has_flag(afd, F_GETFL, O_NONBLOCK) &&
	       has_flag(afd, F_GETFD, FD_CLOEXEC),
	   "accepted fd non-blocking and close-on-exec");
	sock_name(lfd, false, &name, &err);
	ok(strncmp(name.data, "unix:", 5) == 0 && strstr(name.data, "/sock"),
	   "sock_name of a UNIX listener: %s", name.data);
	is_int(sock_set_cloexec(afd, false, &err), 1, "clear cloexec");
	ok(!has_flag(afd, F_GETFD, FD_CLOEXEC), "cloexec cleared");
	close(afd);
	close(cfd);

	lfd2 = sock_unix_listen(path.data, 0600, 16, &err);
	is_int(lfd2, -1, "refuses a socket another server listens on");
	ok(err && strstr(err, "another server"), "error: %s", err);
	close(lfd);
	lfd = sock_unix_listen(path.data, 0600, 16, &err);
	ok(lfd >= 0, "replaces a stale socket");
	stat(path.data, &st);
	is_int(st.st_mode & 07777, 0600, "new mode applied");
	close(lfd);

	str_clear(&path);
	str_printf(&path, "%s/file", dir);
	close(open(path.data, O_CREAT | O_WRONLY, 0600));
	is_int(sock_unix_listen(path.data, 0600, 16, &err), -1,
	       "refuses to replace a regular file");
	ok(err && strstr(err, "not a socket"), "error: %s", err);
	ok(stat(path.data, &st) == 0 && S_ISREG(st.st_mode), "file untouched");

	str_clear(&path);
	str_printf(&path, "%s/%0200d", dir, 0);
	is_int(sock_unix_listen(path.data, 0600, 16, &err), -1,
	       "path too long");
	str_clear(&path);
	str_printf(&path, "%s/missing", dir);
	is_int(sock_unix_connect(path.data, true, &err), -1,
	       "connect to nothing");
	ok(err && strstr(err, path.data), "error names the path: %s", err);
	str_deinit(&path);
	str_deinit(&name);
}

/* Listens on addr, checks the name format and connects to it. */
static void tcp_roundtrip(const char *addr, const char *prefix, int family)
{
	struct str name;
	int lfd = sock_tcp_listen(addr, 16, &err), cfd, afd = -1;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	in_port_t port;

	if (lfd < 0 && family == AF_INET6 && err && strstr(err, "ddress")) {
		ok(true, "# SKIP no IPv6 here: %s", err);
		return;
	}
	ok(lfd >= 0, "listen on %s: %s", addr, lfd < 0 ? err : "ok");
	if (lfd < 0)
		return;
	str_init(&name, 0);
	sock_name(lfd, false, &name, &err);
	ok(strncmp(name.data, prefix, strlen(prefix)) == 0, "%s listens as %s",
	   addr, name.data);
	getsockname(lfd, (struct sockaddr *)&ss, &len);
	port = ss.ss_family == AF_INET
		   ? ((struct sockaddr_in *)&ss)->sin_port
		   : ((struct sockaddr_in6 *)&ss)->sin6_port;
	memset(&ss, 0, sizeof(ss));
	cfd = socket(family, SOCK_STREAM, 0);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	ok(connect(cfd, (struct sockaddr *)&ss, len) == 0, "connect to %s",
	   addr);
	usleep(10000);
	ok(sock_accept(lfd, &afd, &err) == 1, "accept from %s", addr);
	str_clear(&name);
	sock_name(afd, true, &name, &err);
	ok(name.len > 0, "peer name %s", name.data);
	{
		char a[64], p[8], want[16];
		struct sockaddr_storage cs;
		socklen_t clen = sizeof(cs);

		getsockname(cfd, (struct sockaddr *)&cs, &clen);
		snprintf(want, sizeof(want), "%u",
			 (unsigned)ntohs(
			     family == AF_INET
				 ? ((struct sockaddr_in *)&cs)->sin_port
				 : ((struct sockaddr_in6 *)&cs)->sin6_port));
		ok(sock_peer(afd, a, sizeof(a), p, sizeof(p)) == 1 &&
		       strcmp(a, family == AF_INET ? "127.0.0.1" : "::1") ==
			   0 &&
		       strcmp(p, want) == 0,
		   "sock_peer: %s and port %s", a, p);
		ok(sock_peer(afd, a, 3, NULL, 0) == -1 && strcmp(a, "un") == 0,
		   "sock_peer: an address too long for the buffer is unknown");
	}
	close(afd);
	close(cfd);
	close(lfd);
	str_deinit(&name);
}

static void test_tcp(void)
{
	static const char *const bad[] = {
	    "::1:25", "[::1]", "127.0.0.1:",
	    "",	      "[]:25", "127.0.0.1:nosuchservice"};

	tcp_roundtrip("127.0.0.1:0", "127.0.0.1:", AF_INET);
	tcp_roundtrip("[::1]:0", "[::1]:", AF_INET6);
	tcp_roundtrip("localhost:0", "", AF_INET);
	/* all addresses: dual-stack IPv6, reachable over IPv4 too */
	tcp_roundtrip("*:0", "", AF_INET);
	tcp_roundtrip("0", "", AF_INET);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(sock_tcp_listen(bad[i], 16, &err) == -1, "refuses '%s'",
		   bad[i]);
		ok(err && strstr(err, bad[i]), "error names it: %s", err);
	}
}

static void test_peer_unix(void)
{
	int sv[2];
	char a[64] = "x", p[8] = "x";

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(sock_peer(sv[0], a, sizeof(a), p, sizeof(p)) == 0 &&
	       strcmp(a, "unix") == 0 && p[0] == '\0',
	   "sock_peer: a UNIX socket is \"unix\"");
	close(sv[0]);
	close(sv[1]);
	ok(sock_peer(-1, a, sizeof(a), NULL, 0) == -1 &&
	       strcmp(a, "unknown") == 0,
	   "sock_peer: a bad fd is unknown");
}

int main(void)
{
	test_unix(tap_tmpdir());
	test_peer_unix();
	test_tcp();
	return tap_done();
}
