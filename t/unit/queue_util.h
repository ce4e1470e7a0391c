/* t/unit/queue_util.h: helpers shared by the queue tests (fresh queue
 * directories, a standard message, file inspection). Header-only so each
 * test stays one program. */
#ifndef POSTERN_T_QUEUE_UTIL_H
#define POSTERN_T_QUEUE_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_dir.h"
#include "queue_file.h"
#include "queue_writer.h"
#include "str.h"
#include "tap.h"

/* A fresh queue directory tmpdir/NAME, created and opened. */
static inline struct queue_dir *qt_root(const char *name)
{
	struct queue_dir *qd = NULL;
	const char *err = "";
	struct str path;

	str_init(&path, 0);
	str_printf(&path, "%s/%s", tap_tmpdir(), name);
	if (queue_dir_create(path.data, &err) < 0 ||
	    queue_dir_open(path.data, &qd, &err) < 0) {
		tap_diag("queue dir %s: %s", path.data, err);
		exit(2);
	}
	str_deinit(&path);
	return qd;
}

/* Fills buf with len bytes of CRLF text that varies with seed. */
static inline void qt_content(struct str *buf, size_t len, unsigned seed)
{
	str_clear(buf);
	for (size_t i = 0; buf->len < len; i++) {
		if (i % 70 == 68) {
			str_append(buf, "\r\n", 2);
			i++;
		} else {
			str_putc(buf, 'a' + (int)((i * 7 + seed) % 26));
		}
	}
	str_truncate(buf, len);
}

/* Writes a message with one recipient and the given content through the
 * writer; returns commit's result, the ID in id_r. */
static inline int qt_write(struct queue_dir *qd, const char *content,
			   size_t len, char id_r[QUEUE_ID_SIZE])
{
	struct queue_writer *qw;
	const char *err = "";

	if (queue_writer_begin(qd, NULL, &qw, &err) < 0 ||
	    queue_writer_set_sender(qw, "s@example.org", &err) < 0 ||
	    queue_writer_add_rcpt(qw, "r@example.net", NULL, 0, &err) < 0 ||
	    queue_writer_write(qw, content, len, &err) <= 0) {
		tap_diag("qt_write: %s", err);
		queue_writer_abort(&qw);
		return -1;
	}
	if (queue_writer_commit(&qw, id_r, &err) < 0) {
		tap_diag("qt_write commit: %s", err);
		return -1;
	}
	return 1;
}

/* Number of entries (other than . and ..) in queue q. */
static inline int qt_count(struct queue_dir *qd, enum queue_name q)
{
	const char *err;
	int fd = openat(queue_dir_fd(qd, q, &err), ".", O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* st_mode & 07777 of queue q's file id, or -1 when absent. */
static inline int qt_mode(struct queue_dir *qd, enum queue_name q,
			  const char *id)
{
	const char *err;
	struct stat st;

	if (fstatat(queue_dir_fd(qd, q, &err), id, &st, AT_SYMLINK_NOFOLLOW) <
	    0)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* Reads the whole content of an open queue file into out. */
static inline int qt_read_content(struct queue_file *qf, struct str *out)
{
	char buf[8192];
	const char *err;
	uint64_t pos = 0;
	ssize_t n;

	str_clear(out);
	while ((n = queue_file_content_read(qf, pos, buf, sizeof(buf), &err)) >
	       0) {
		str_append(out, buf, (size_t)n);
		pos += (uint64_t)n;
	}
	return n < 0 ? -1 : 1;
}

#endif
