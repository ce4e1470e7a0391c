/* sock.h: opening listening and client sockets (UNIX and TCP).
 *
 * The master opens every listener through here; daemons and the CLI connect
 * to internal UNIX sockets through here. Every descriptor returned is
 * close-on-exec (the master passes listeners on by clearing that flag on
 * purpose with sock_set_cloexec()). Functions return the fd (>= 0) or 1 on
 * success, and -1 with *error_r pointing to a message that names the path
 * or address and stays valid until the next call into this module. */
#ifndef POSTERN_SOCK_H
#define POSTERN_SOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "str.h"

/* Listens on a UNIX stream socket at path with exactly mode (e.g. 0600,
 * 0666), whatever the umask; the mode is set before listen(), so no client
 * can connect while it is wrong. A stale socket file is replaced; a path
 * that is not a socket, or a socket some process still accepts on, is an
 * error. The fd is non-blocking. */
int sock_unix_listen(const char *path, mode_t mode, int backlog,
		     const char **error_r);
/* Connects to the UNIX stream socket at path. With nonblock, the fd is
 * non-blocking and a full backlog is an error (not a wait). */
int sock_unix_connect(const char *path, bool nonblock, const char **error_r);
/* A path to the UNIX socket at path that still works after the process
 * left root for a user who may not enter the socket's folder (imapd,
 * pop3d and lmtpd run as mail_store_owner; private/ is mail_owner's,
 * 0700): the socket file is opened (O_PATH, kept open for the life of the
 * process) and "/proc/self/fd/N" returned, which connect() follows to the
 * socket without looking up the folders on the way; the socket's own mode
 * still applies. Call while still privileged. When path cannot be opened,
 * a copy of path itself. Free with mem_free(). */
char *sock_unix_path_keep(const char *path);

/* Listens on TCP. addr is "host:port", "[ipv6]:port", "*:port" or "port"
 * (all addresses: IPv6 and IPv4 on one dual-stack socket when the host has
 * IPv6, else IPv4). A host name is resolved and the first address that
 * binds is used. Port 0 picks a free port (see sock_name()). An explicit
 * IPv6 address listens on IPv6 only. SO_REUSEADDR is set; the fd is
 * non-blocking. */
int sock_tcp_listen(const char *addr, int backlog, const char **error_r);

/* Accepts one connection as a non-blocking, close-on-exec fd in *fd_r.
 * Returns 1; 0 when there is nothing to accept now (EAGAIN, or the client
 * gave up: ECONNABORTED, EINTR); -1 on errors such as EMFILE, after which
 * the caller should back off instead of spinning. */
int sock_accept(int listen_fd, int *fd_r, const char **error_r);

int sock_set_nonblock(int fd, bool on, const char **error_r);
int sock_set_cloexec(int fd, bool on, const char **error_r);

/* Appends the local (peer false) or remote (peer true) address of fd to
 * out: "192.0.2.1:25", "[2001:db8::1]:25", or "unix:PATH" ("unix:" when
 * unnamed). */
int sock_name(int fd, bool peer, struct str *out, const char **error_r);
/* The peer of a daemon's connection: its address without brackets
 * ("192.0.2.1", "2001:db8::1"; an IPv4 client of a dual-stack listener
 * as IPv4, not ::ffff:192.0.2.1) in addr and its port in port (NULL: not
 * wanted). Returns 1 for TCP; 0 for a UNIX socket (addr "unix"); -1 when
 * it cannot be told or does not fit (addr "unknown"). Ports are "" but
 * for TCP. */
int sock_peer(int fd, char *addr, size_t addr_size, char *port,
	      size_t port_size);

#endif
