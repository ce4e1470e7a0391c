/* spawn.h: running a delivery program (local's "|command" alias targets
 * through /bin/sh -c, the pipe daemon's argv= programs directly) with the
 * message on its standard input, its standard output and error captured
 * for the bounce text, a time limit, and the outcome classified the way
 * sysexits(3) means it. The program runs in a session of its own (so the
 * time limit kills whatever it started too), with default signal
 * dispositions, only descriptors 0-2 open, and exactly the environment
 * given. It runs as the calling process's user: callers drop privileges
 * before (local runs as mail_store_owner, pipe as its user=). */
#ifndef POSTERN_LOCAL_SPAWN_H
#define POSTERN_LOCAL_SPAWN_H

#include <stddef.h>

#include "content.h"
#include "str.h"

/* Bytes of the program's output kept for the bounce text. */
#define SPAWN_OUTPUT_MAX 512

struct spawn_request {
	const char *path;	      /* absolute path given to execve() */
	char *const *argv;	      /* NULL-terminated */
	char *const *envp;	      /* NULL-terminated */
	unsigned time_limit;	      /* seconds; 0 = none */
	struct content_stream *input; /* its standard input */
};

enum spawn_how {
	SPAWN_EXITED,	   /* code: the exit status */
	SPAWN_SIGNALED,	   /* code: the signal */
	SPAWN_TIMEOUT,	   /* killed at the time limit */
	SPAWN_EXEC_FAILED, /* code: errno of execve() */
	SPAWN_FAILED,	   /* pipe/fork failed or the queue file could not
			    * be read: nothing is known about delivery */
};

struct spawn_result {
	enum spawn_how how;
	int code;
	struct str output; /* printable, one line, at most SPAWN_OUTPUT_MAX */
	char error[160];   /* SPAWN_FAILED: why */
};

/* What a delivery result means. */
enum spawn_class { SPAWN_OK, SPAWN_DEFER, SPAWN_BOUNCE };

/* Runs the program to the end (or the time limit). res->output must be
 * initialised by the caller. Always fills res. */
void spawn_run(const struct spawn_request *req, struct spawn_result *res);

/* Classifies res: exit 0 OK; 75 (EX_TEMPFAIL) DEFER; other exit codes
 * BOUNCE with the sysexits(3) DSN (64-78) or 5.3.0; a signal, the time
 * limit, an exec failure and SPAWN_FAILED DEFER. Sets dsn (16 bytes) and
 * appends to text a reason naming what (e.g. "command \"...\"") and the
 * program's output. */
enum spawn_class spawn_classify(const struct spawn_result *res,
				const char *what, unsigned time_limit,
				char *dsn, struct str *text);

#endif
