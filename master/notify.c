/* notify.c: telling whoever started the master that it is ready: `postern
 * start` through the descriptor given with -w (one byte, then close; the
 * master exiting first means it failed), and systemd (Type=notify) through
 * $NOTIFY_SOCKET, without linking libsystemd. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "master.h"
#include "msg.h"

void master_notify_ready(int ready_fd)
{
	char ok = 'R';

	if (ready_fd >= 0) {
		if (write(ready_fd, &ok, 1) != 1)
			msg_warn("cannot tell the start command that the "
				 "master is ready: %s",
				 strerror(errno));
		close(ready_fd);
	}
	master_notify_systemd("READY=1");
}

void master_notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path)) {
		msg_warn("NOTIFY_SOCKET is too long");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(
		fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		msg_warn("notify systemd (%s): %s", state, strerror(errno));
	close(fd);
}
