/* qmgr_trigger.c: the one-byte wakeup every queue producer sends to qmgr
 * (see qmgr_trigger.h). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "qmgr_trigger.h"
#include "sock.h"
#include "str.h"

static char trigger_errbuf[256];

/* A connection to qmgr's socket, or -1 with *error_r. */
static int trigger_connect(const char *queue_directory, const char **error_r)
{
	struct str path;
	const char *err;
	int fd;

	str_init(&path, 64);
	str_printf(&path, "%s/public/qmgr", queue_directory);
	fd = sock_unix_connect(path.data, true, &err);
	str_deinit(&path);
	if (fd < 0) {
		snprintf(trigger_errbuf, sizeof(trigger_errbuf), "%s", err);
		*error_r = trigger_errbuf;
	}
	return fd;
}

/* One byte on fd: 1, or -1 with errno. */
static int trigger_write(int fd, char byte)
{
	ssize_t n;

	do
		n = send(fd, &byte, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = EPIPE;
	return n == 1 ? 1 : -1;
}

static int trigger_write_fail(const char **error_r)
{
	snprintf(trigger_errbuf, sizeof(trigger_errbuf), "write to qmgr: %s",
		 strerror(errno));
	*error_r = trigger_errbuf;
	return -1;
}

int qmgr_trigger(const char *queue_directory, char byte, const char **error_r)
{
	int fd = trigger_connect(queue_directory, error_r), r;

	if (fd < 0)
		return -1;
	r = trigger_write(fd, byte);
	if (r < 0)
		trigger_write_fail(error_r);
	close(fd);
	return r;
}

int qmgr_trigger_kept(const char *queue_directory, char byte,
		      const char **error_r)
{
	static int fd = -1;
	static uint64_t last_ms;
	uint64_t now = event_clock_ms();

	if (fd >= 0 && now - last_ms < QMGR_TRIGGER_KEEP_MS) {
		if (trigger_write(fd, byte) > 0) {
			last_ms = now;
			return 1;
		}
		/* Full (qmgr has not read yet: the bytes there wake it) */
		if (errno == EAGAIN)
			return 1;
	}
	if (fd >= 0)
		close(fd);
	if ((fd = trigger_connect(queue_directory, error_r)) < 0)
		return -1;
	if (trigger_write(fd, byte) < 0) {
		trigger_write_fail(error_r);
		close(fd);
		fd = -1;
		return -1;
	}
	last_ms = now;
	return 1;
}
