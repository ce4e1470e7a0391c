/* status.c: the per-message status logs (bounce/ID, defer/ID: one block of
 * name=value lines per recipient result, as in Postfix, fsync'd before the
 * recipient's mark changes), back-off for deferred mail, and the delivery
 * status notification (RFC 3464) for failed recipients. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

static char status_errbuf[256];

static int status_fail(const char *what, const char **error_r)
{
	snprintf(status_errbuf, sizeof(status_errbuf), "%s: %s", what,
		 strerror(errno));
	*error_r = status_errbuf;
	return -1;
}

int qmgr_status_append(struct qmgr *q, const char *id, enum queue_name log,
		       const char *rcpt, const char *action,
		       const struct qmgr_result *res, const char **error_r)
{
	int dfd = queue_dir_fd(q->qd, log, error_r), fd, r;
	struct str s;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, id,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return status_fail("open status log", error_r);
	str_init(&s, 256);
	str_printf(&s,
		   "\nrecipient=%s\nstatus=%s\naction=%s\nreason=%s\n"
		   "relay=%s\n",
		   rcpt, res->dsn, action, res->text, res->relay);
	r = file_write_all(fd, s.data, s.len, error_r);
	if (r > 0 && fsync(fd) < 0)
		r = status_fail("fsync status log", error_r);
	close(fd);
	str_deinit(&s);
	return r;
}

void qmgr_defer_message(struct qmgr *q, const char *id, uint64_t arrival_usec)
{
	time_t now = time(NULL);
	long long age = (long long)now - (long long)(arrival_usec / 1000000u);
	struct timespec ts[2];
	const char *err;
	int dfd;

	if (age < q->min_backoff)
		age = q->min_backoff;
	if (age > q->max_backoff)
		age = q->max_backoff;
	if (queue_dir_move(q->qd, id, QUEUE_ACTIVE, QUEUE_DEFERRED, 0, &err) <=
	    0) {
		msg_warn("move to deferred: %s", err);
		return;
	}
	ts[0].tv_sec = ts[1].tv_sec = now + (time_t)age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	dfd = queue_dir_fd(q->qd, QUEUE_DEFERRED, &err);
	if (dfd < 0 || utimensat(dfd, id, ts, 0) < 0)
		msg_warn("set the next attempt time: %s",
			 dfd < 0 ? err : strerror(errno));
}
