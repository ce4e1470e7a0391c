/* t/unit/deliver_proto.c: tests for lib/deliver_proto.c (passing the queue
 * file descriptor to a delivery agent) and lib/qmgr_trigger.c (the byte
 * that wakes qmgr; never blocks, errors when nobody listens). */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_proto.h"
#include "qmgr_trigger.h"
#include "sock.h"
#include "str.h"
#include "tap.h"

static void test_fd_passing(const char *dir)
{
	struct str path;
	const char *err = NULL;
	int sv[2], fd, got = -1;
	char buf[8] = {0};

	str_init(&path, 0);
	str_printf(&path, "%s/file", dir);
	fd = open(path.data, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "content", 7) == 7, "file to pass");
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	   "socketpair");
	is_int(deliver_fd_send(sv[0], fd, 1000, &err), 1, "send descriptor");
	close(fd);
	is_int(deliver_fd_recv(sv[1], &got, 1000, &err), 1,
	       "receive descriptor");
	ok(got >= 0 && pread(got, buf, 7, 0) == 7, "read through it");
	is_str(buf, "content", "same file");
	ok(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0,
	   "received descriptor is close-on-exec");
	if (got >= 0)
		close(got);

	ok(write(sv[0], "x", 1) == 1, "a byte without a descriptor");
	is_int(deliver_fd_recv(sv[1], &got, 1000, &err), -1, "is refused");
	ok(err != NULL && strstr(err, "receive descriptor") != NULL,
	   "error: %s", err);
	is_int(deliver_fd_recv(sv[1], &got, 50, &err), -1, "timeout");
	close(sv[0]);
	is_int(deliver_fd_recv(sv[1], &got, 1000, &err), -1, "peer closed");
	ok(err != NULL && strstr(err, "peer closed") != NULL, "error: %s", err);
	close(sv[1]);
	str_deinit(&path);
}

static void test_trigger(const char *dir)
{
	struct str path;
	const char *err = NULL;
	int lfd, cfd = -1, cfd2 = -1;
	char byte = 0, buf[8];

	str_init(&path, 0);
	str_printf(&path, "%s/public", dir);
	mkdir(path.data, 0700);
	is_int(qmgr_trigger(dir, QMGR_TRIGGER_WAKEUP, &err), -1,
	       "no qmgr socket: error");
	ok(err != NULL && strstr(err, "public/qmgr") != NULL,
	   "error names the socket: %s", err);
	str_append_cstr(&path, "/qmgr");
	lfd = sock_unix_listen(path.data, 0600, 16, &err);
	ok(lfd >= 0, "listen on public/qmgr");
	is_int(qmgr_trigger(dir, QMGR_TRIGGER_DEFERRED, &err), 1,
	       "trigger sent while nobody accepts yet");
	is_int(sock_accept(lfd, &cfd, &err), 1, "accept");
	ok(cfd >= 0 && read(cfd, &byte, 1) == 1, "one byte");
	is_int(byte, 'D', "the trigger byte");
	ok(cfd >= 0 && read(cfd, &byte, 1) == 0, "then the writer closed");
	if (cfd >= 0)
		close(cfd);

	/* The kept connection: one connect for several bytes; a new one
	 * when qmgr closed it. */
	is_int(qmgr_trigger_kept(dir, QMGR_TRIGGER_WAKEUP, &err), 1,
	       "kept: first byte");
	is_int(qmgr_trigger_kept(dir, QMGR_TRIGGER_DEFERRED, &err), 1,
	       "kept: second byte");
	is_int(sock_accept(lfd, &cfd, &err), 1, "kept: accept");
	ok(cfd >= 0 && read(cfd, buf, sizeof(buf)) == 2 &&
	       memcmp(buf, "WD", 2) == 0,
	   "kept: both bytes on one connection");
	is_int(sock_accept(lfd, &cfd2, &err), 0, "kept: no second connection");
	if (cfd >= 0)
		close(cfd); /* qmgr went away */
	is_int(qmgr_trigger_kept(dir, QMGR_TRIGGER_WAKEUP, &err), 1,
	       "kept: a byte after qmgr closed");
	is_int(sock_accept(lfd, &cfd, &err), 1, "kept: on a new connection");
	ok(cfd >= 0 && read(cfd, &byte, 1) == 1 && byte == 'W',
	   "kept: the byte arrives");
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	str_deinit(&path);
}

int main(void)
{
	const char *dir = tap_tmpdir();

	test_fd_passing(dir);
	test_trigger(dir);
	return tap_done();
}
