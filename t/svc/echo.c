/* echo.c: a test daemon for the master and the server skeleton (t/master-*.t,
 * t/unit/server.c), and the smallest example of a daemon on lib/server.h.
 *
 * master.cf: "... echo [single|multi|trigger]". As a session service it
 * greets with "220 test ready" and answers each line:
 *   ID       250 uid=U gid=G groups=G1,G2 (the ids it runs as)
 *   PID      250 PID
 *   LS DIR   250 the sorted names in DIR (what a chrooted daemon sees)
 *   QUIT     221 bye, then closes
 *   other    250 the line
 * As a trigger service it logs "trigger: N byte(s): TEXT". */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iobuf.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "str.h"

#define ECHO_TIMEOUT_MS 60000
#define ECHO_LS_MAX 200

struct session {
	struct server *srv;
	int fd;
	struct iobuf *buf;
	struct event_io *io;
	struct event_timer *timer;
	bool quitting;
};

static void session_end(struct session *s)
{
	struct server *srv = s->srv;

	event_io_remove(&s->io);
	event_timer_remove(&s->timer);
	iobuf_free(&s->buf);
	close(s->fd);
	mem_free(s);
	server_client_done(srv);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void reply_ls(struct session *s, const char *dir)
{
	char *names[ECHO_LS_MAX];
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL) {
		iobuf_printf(s->buf, "550 %s\r\n", strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL && n < ECHO_LS_MAX)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			names[n++] = mem_strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	iobuf_printf(s->buf, "250");
	for (size_t i = 0; i < n; i++) {
		iobuf_printf(s->buf, " %s", names[i]);
		mem_free(names[i]);
	}
	iobuf_printf(s->buf, "\r\n");
}

static void reply_id(struct session *s)
{
	gid_t groups[64];
	int n = getgroups(64, groups);

	iobuf_printf(s->buf, "250 uid=%ld gid=%ld groups=", (long)getuid(),
		     (long)getgid());
	for (int i = 0; i < n; i++)
		iobuf_printf(s->buf, "%s%ld", i ? "," : "", (long)groups[i]);
	iobuf_printf(s->buf, "\r\n");
}

static void command(struct session *s, const char *line)
{
	if (strcmp(line, "QUIT") == 0) {
		iobuf_printf(s->buf, "221 bye\r\n");
		s->quitting = true;
	} else if (strcmp(line, "ID") == 0) {
		reply_id(s);
	} else if (strcmp(line, "PID") == 0) {
		iobuf_printf(s->buf, "250 %ld\r\n", (long)getpid());
	} else if (strncmp(line, "LS ", 3) == 0) {
		reply_ls(s, line + 3);
	} else {
		iobuf_printf(s->buf, "250 %s\r\n", line);
	}
}

static void session_event(struct event_io *io, int fd, unsigned events,
			  void *ctx)
{
	struct session *s = ctx;
	struct iobuf_line line;
	enum iobuf_status st = IOBUF_NEED_MORE;
	const char *err;
	int flushed;

	while (!s->quitting && !iobuf_output_backed_up(s->buf) &&
	       (st = iobuf_read_line(s->buf, &line)) == IOBUF_OK)
		command(s, line.data);
	if (st == IOBUF_TOO_LONG)
		iobuf_printf(s->buf, "500 line too long\r\n");
	flushed = iobuf_flush(s->buf);
	if (flushed < 0 || st == IOBUF_EOF || st == IOBUF_ERROR ||
	    (s->quitting && flushed == 1)) {
		session_end(s);
		return;
	}
	event_timer_restart(s->timer, ECHO_TIMEOUT_MS);
	if (event_io_modify(s->io, flushed ? EVENT_READ : EVENT_WRITE, &err) <
	    0)
		session_end(s);
}

static void session_timeout(struct event_timer *timer, void *ctx)
{
	session_end(ctx);
}

static void echo_client(struct server *srv, int fd)
{
	struct session *s = mem_alloc(sizeof(*s));
	const char *err;

	s->srv = srv;
	s->fd = fd;
	s->buf = iobuf_new(fd, NULL);
	s->timer = event_timer_add(server_loop(srv), ECHO_TIMEOUT_MS, false,
				   session_timeout, s);
	iobuf_printf(s->buf, "220 test ready\r\n");
	s->io = event_io_add(server_loop(srv), fd, EVENT_WRITE, session_event,
			     s, &err);
	if (s->io == NULL) {
		msg_warn("%s", err);
		session_end(s);
	}
}

static void echo_trigger(struct server *srv, const char *data, size_t len)
{
	char safe[SERVER_TRIGGER_MAX + 1];

	msg_info("trigger: %zu byte(s): %s", len,
		 msg_safe(safe, sizeof(safe), data, len));
}

int main(int argc, char **argv)
{
	struct server_ops ops = {
	    .kind = SERVER_SINGLE,
	    .client = echo_client,
	    .trigger = echo_trigger,
	};
	const char *mode = "single";

	/* The mode is the first argument after "--". */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			mode = argv[i + 1];
	if (strcmp(mode, "multi") == 0)
		ops.kind = SERVER_MULTI;
	else if (strcmp(mode, "trigger") == 0)
		ops.kind = SERVER_TRIGGER;
	return server_main(argc, argv, &ops, NULL);
}
