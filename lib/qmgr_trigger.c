/* qmgr_trigger.c: the one-byte wakeup every queue producer sends to qmgr
 * (see qmgr_trigger.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qmgr_trigger.h"
#include "sock.h"
#include "str.h"

static char trigger_errbuf[256];

int qmgr_trigger(const char *queue_directory, char byte, const char **error_r)
{
	struct str path;
	const char *err;
	int fd;
	ssize_t n;

	str_init(&path, 64);
	str_printf(&path, "%s/public/qmgr", queue_directory);
	fd = sock_unix_connect(path.data, true, &err);
	str_deinit(&path);
	if (fd < 0) {
		snprintf(trigger_errbuf, sizeof(trigger_errbuf), "%s", err);
		*error_r = trigger_errbuf;
		return -1;
	}
	do
		n = write(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		snprintf(trigger_errbuf, sizeof(trigger_errbuf),
			 "write to qmgr: %s",
			 n < 0 ? strerror(errno) : "short write");
		close(fd);
		*error_r = trigger_errbuf;
		return -1;
	}
	close(fd);
	return 1;
}
