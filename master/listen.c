/* listen.c: the master's listening sockets. Each endpoint has a key
 * ("inet:ADDR", "unix:PATH", "fifo:PATH") so that a reload can tell which
 * sockets stay (config.c). An inet service without a host listens on every
 * address of inet_interfaces (within inet_protocols). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master.h"
#include "mem.h"
#include "msg.h"
#include "sock.h"
#include "str.h"

/* Sockets under private/ and public/: the folders' modes decide who may
 * connect (0700 mail_owner; 0710 with setgid_group), as in Postfix. */
#define MASTER_UNIX_MODE 0666
#define MASTER_FIFO_PRIVATE_MODE 0600
#define MASTER_FIFO_PUBLIC_MODE 0622

static char listen_errbuf[512];

static const char *listen_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *listen_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(listen_errbuf, sizeof(listen_errbuf), fmt, ap);
	va_end(ap);
	return listen_errbuf;
}

static char *key_new(const char *prefix, const char *host, const char *port)
{
	struct str s;

	str_init(&s, 0);
	if (host == NULL)
		str_printf(&s, "%s:%s", prefix, port);
	else if (strchr(host, ':') != NULL && host[0] != '[')
		str_printf(&s, "%s:[%s]:%s", prefix, host, port);
	else
		str_printf(&s, "%s:%s:%s", prefix, host, port);
	return str_steal(&s);
}

static void protocols(struct conf *c, bool *v4_r, bool *v6_r)
{
	const char *const *p = conf_get_list(c, "inet_protocols");

	*v4_r = *v6_r = false;
	for (; *p != NULL; p++) {
		if (strcmp(*p, "all") == 0)
			*v4_r = *v6_r = true;
		else if (strcmp(*p, "ipv4") == 0)
			*v4_r = true;
		else if (strcmp(*p, "ipv6") == 0)
			*v6_r = true;
	}
}

/* One inet_interfaces item; returns the number of keys added. */
static int interface_keys(const char *item, const char *port, bool v4, bool v6,
			  char **keys, int n)
{
	if (strcmp(item, "all") == 0) {
		if (v4 && v6)
			keys[n++] = key_new("inet", NULL, port);
		else
			keys[n++] =
			    key_new("inet", v4 ? "0.0.0.0" : "::", port);
	} else if (strcmp(item, "loopback-only") == 0) {
		if (v4)
			keys[n++] = key_new("inet", "127.0.0.1", port);
		if (v6)
			keys[n++] = key_new("inet", "::1", port);
	} else {
		keys[n++] = key_new("inet", item, port);
	}
	return n;
}

static int inet_keys(struct master *m, const struct master_service *cf,
		     char **keys, const char **error_r)
{
	const char *const *ifs;
	bool v4, v6;
	int n = 0;

	if (cf->host != NULL) {
		keys[0] = key_new("inet", cf->host, cf->port);
		return 1;
	}
	protocols(m->conf, &v4, &v6);
	for (ifs = conf_get_list(m->conf, "inet_interfaces"); *ifs; ifs++) {
		if (n + 2 > MASTER_LISTEN_MAX) {
			for (int i = 0; i < n; i++)
				mem_free(keys[i]);
			*error_r = listen_error("more than %d addresses in "
						"inet_interfaces",
						MASTER_LISTEN_MAX - 1);
			return -1;
		}
		n = interface_keys(*ifs, cf->port, v4, v6, keys, n);
	}
	if (n == 0) {
		*error_r = "inet_interfaces is empty";
		return -1;
	}
	return n;
}

int master_listen_keys(struct master *m, const struct master_service *cf,
		       char **keys, const char **error_r)
{
	struct str s;

	if (cf->type == MASTER_INET)
		return inet_keys(m, cf, keys, error_r);
	str_init(&s, 0);
	str_printf(&s, "%s:%s/%s/%s", cf->type == MASTER_FIFO ? "fifo" : "unix",
		   conf_get(m->conf, "queue_directory"),
		   cf->private_socket ? "private" : "public", cf->name);
	keys[0] = str_steal(&s);
	return 1;
}

static int fifo_open(const char *path, bool public, const char **error_r)
{
	mode_t mode =
	    public ? MASTER_FIFO_PUBLIC_MODE : MASTER_FIFO_PRIVATE_MODE;
	struct stat st;
	int fd;

	if (lstat(path, &st) == 0 && !S_ISFIFO(st.st_mode)) {
		*error_r = listen_error("%s exists and is not a fifo", path);
		return -1;
	}
	if (mkfifo(path, 0600) < 0 && errno != EEXIST) {
		*error_r = listen_error("mkfifo %s: %s", path, strerror(errno));
		return -1;
	}
	/* Read-write: the fifo never reports end-of-file when a writer
	 * closes, so the daemon does not spin on it. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, mode) < 0) {
		*error_r = listen_error("open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct mlistener *master_listener_open(struct master *m, const char *key,
				       const char **error_r)
{
	const char *colon = strchr(key, ':');
	const char *what = colon + 1;
	struct mlistener *l;
	const char *err;
	int fd;

	if (strncmp(key, "inet:", 5) == 0)
		fd = sock_tcp_listen(what, MASTER_LISTEN_BACKLOG, error_r);
	else if (strncmp(key, "unix:", 5) == 0)
		fd = sock_unix_listen(what, MASTER_UNIX_MODE,
				      MASTER_LISTEN_BACKLOG, error_r);
	else
		fd = fifo_open(what, strstr(what, "/public/") != NULL, error_r);
	if (fd < 0)
		return NULL;
	l = mem_alloc(sizeof(*l));
	l->key = mem_strdup(key);
	l->path = strncmp(key, "inet:", 5) == 0 ? NULL : mem_strdup(what);
	l->fd = fd;
	l->io = event_io_add(m->loop, fd, 0, master_listener_ready, l, &err);
	if (l->io == NULL)
		msg_fatal("%s", err);
	msg_debug("listening on %s", key);
	return l;
}

void master_listener_close(struct mlistener **lp)
{
	struct mlistener *l = *lp;

	if (l == NULL)
		return;
	event_io_remove(&l->io);
	close(l->fd);
	if (l->path != NULL)
		unlink(l->path);
	msg_debug("closed %s", l->key);
	mem_free(l->key);
	mem_free(l->path);
	mem_free(l);
	*lp = NULL;
}
