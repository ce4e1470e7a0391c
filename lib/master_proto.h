/* master_proto.h: the contract between the master and the daemons it runs
 * (master/ on one side, the server skeleton lib/server.c on the other).
 *
 * The master runs $daemon_directory/COMMAND with fork and execve, never a
 * shell, as
 *   COMMAND -c CONFIG_DIR -n SERVICE -t TYPE -s NLISTEN -m MAXPROC
 *           [-u] [-r] [-e] [-v] [-o name=value]... -- [ARGS...]
 *   -c  the configuration directory (main.cf)
 *   -n  the master.cf service column, -t its type (inet, unix, fifo, pass)
 *   -s  how many listening descriptors follow MASTER_LISTEN_FD
 *   -m  the service's process limit (0 = none), so that a daemon that must
 *       run alone can refuse another limit
 *   -u  unprivileged: switch to mail_owner; -r chroot to queue_directory
 *       (both only when started as root)
 *   -e  log to standard error (the master's log file or terminal), not
 *       syslog
 *   -v  verbose logging
 *   -o  the master.cf overrides of main.cf, in order
 *   ARGS the master.cf arguments after the command
 * with these descriptors:
 *   0, 1  /dev/null; 2 the log (or /dev/null)
 *   3     MASTER_STATUS_FD: the write end of a pipe shared by every process
 *         of the service; when its read end is closed (the master exited,
 *         or a reload retired the service) the daemon stops accepting,
 *         finishes its clients and exits
 *   4...  MASTER_LISTEN_FD: the listening sockets (or the fifo)
 * Nothing else is open. The master has already created the listeners; the
 * daemon never binds a listening socket itself.
 *
 * Status messages are a fixed-size struct written with one write(2), well
 * under PIPE_BUF, so messages of concurrent processes never mix. There is
 * nothing to parse: the master only counts which processes are idle. */
#ifndef POSTERN_MASTER_PROTO_H
#define POSTERN_MASTER_PROTO_H

#include <stdint.h>

#define MASTER_STATUS_FD 3
#define MASTER_LISTEN_FD 4
/* Most listening descriptors one service has (one per inet_interfaces
 * address). */
#define MASTER_LISTEN_MAX 16

enum master_stat {
	MASTER_STAT_TAKEN = 0, /* busy: do not count me as a free process */
	MASTER_STAT_AVAIL = 1, /* idle: I will accept the next connection */
};

struct master_status {
	int32_t pid;
	int32_t avail; /* enum master_stat */
};

/* The byte the master writes to a service's socket on its wakeup timer. */
#define MASTER_WAKEUP_BYTE 'W'

/* The master's own status socket ($queue_directory/pid/master.sock), spoken
 * with lib/attr.h: protocol name and version of its hello. */
#define MASTER_STATUS_PROTOCOL "master-status"
#define MASTER_STATUS_VERSION 1

#endif
