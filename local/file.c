/* file.c: alias targets that are files. "/path/" is a Maildir (the same
 * idempotent delivery as a user's mailbox); "/path" is an mbox file the
 * message is appended to, as local(8) does it: a "From " line,
 * Return-Path:, X-Original-To:, Delivered-To:, the message with lines
 * that start with "From " quoted as ">From ", an empty line; under an
 * fcntl() write lock, fsync'd, and cut back to its old size if anything
 * fails, so that readers never see half a message. The file must be a
 * regular file with one link owned by us (the mail store owner, whose
 * rights alias deliveries run with), reached without a final symlink; a
 * new one is created with mode 0600. An appended copy cannot be
 * recognised again, so unlike Maildir a retried delivery to a file may
 * write a second copy (a crash between the append and qmgr's record). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "file.h"
#include "local.h"

/* Tries for the lock during this long (ms), then defers. */
#define FILE_LOCK_WAIT_MS 10000
#define FILE_LOCK_STEP_MS 100

static int lock_file(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct timespec nap = {0, FILE_LOCK_STEP_MS * 1000000L};

	for (int waited = 0; waited < FILE_LOCK_WAIT_MS;
	     waited += FILE_LOCK_STEP_MS) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 1;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		nanosleep(&nap, NULL);
	}
	errno = EAGAIN;
	return 0;
}

/* Opens path for appending: 1 with *fd_r (and *created), -1 with
 * *error_r. */
static int open_mbox(const struct local_config *cfg, const char *path,
		     int *fd_r, bool *created, const char **error_r)
{
	int flags = O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK;
	int fd = file_open_safe(path, flags, 0600, cfg->uid, error_r);

	*created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = file_open_safe(path, flags | O_CREAT | O_EXCL, 0600,
				    cfg->uid, error_r);
		*created = fd >= 0;
	}
	if (fd < 0)
		return -1;
	*fd_r = fd;
	return 1;
}

static void mbox_prefix(struct local_msg *msg, const char *rcpt,
			struct str *prefix)
{
	content_from_line(prefix, msg->sender, time(NULL));
	str_printf(prefix,
		   "Return-Path: <%s>\nX-Original-To: %s\nDelivered-To: %s\n",
		   msg->sender, msg->rcpt, rcpt);
}

/* Appends under the lock; on failure the file is cut back. */
static int mbox_append(int fd, struct local_msg *msg, const char *rcpt,
		       const char **error_r)
{
	struct content_stream s;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	content_init(&s, msg->fd, msg->offset, msg->size,
		     CONTENT_QUOTE_FROM | CONTENT_BLANK_END);
	mbox_prefix(msg, rcpt, &s.prefix);
	r = content_write_fd(&s, fd, error_r);
	if (r > 0 && fsync(fd) < 0) {
		*error_r = strerror(errno);
		r = -1;
	}
	if (r < 0 && ftruncate(fd, st.st_size) == 0)
		(void)fsync(fd);
	content_deinit(&s);
	return r;
}

static void deliver_mbox(const struct local_config *cfg, struct local_msg *msg,
			 const char *path, const char *rcpt,
			 struct local_result *res)
{
	const char *err = NULL;
	bool created;
	int fd, r;

	if (open_mbox(cfg, path, &fd, &created, &err) < 0) {
		local_result_set(res, LOCAL_DEFERRED, "4.2.0",
				 "cannot append to file %s: %s", path, err);
		return;
	}
	(void)fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
	r = lock_file(fd);
	if (r <= 0)
		err = r == 0 ? "the file stays locked by another process"
			     : strerror(errno);
	else
		r = mbox_append(fd, msg, rcpt, &err);
	if (r > 0 && created)
		r = file_fsync_parent(path, &err);
	close(fd); /* releases the lock */
	if (r > 0)
		local_result_set(res, LOCAL_SENT, "2.0.0",
				 "delivered to file: %s", path);
	else
		local_result_set(res, LOCAL_DEFERRED, "4.2.0",
				 "cannot append to file %s: %s", path, err);
}

void local_deliver_file(const struct local_config *cfg, struct local_msg *msg,
			const char *path, const char *rcpt,
			struct local_result *res)
{
	size_t len = strlen(path);

	if (len < 2 || len > 4096 || strstr(path, "/../") != NULL ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0)) {
		local_result_set(res, LOCAL_BOUNCED, "5.3.5",
				 "alias target \"%s\" is not a usable file "
				 "name",
				 path);
		return;
	}
	if (local_loop_check(msg, rcpt, res))
		return;
	if (path[len - 1] == '/')
		local_deliver_maildir(cfg, msg, path, rcpt, 0, res);
	else
		deliver_mbox(cfg, msg, path, rcpt, res);
}
