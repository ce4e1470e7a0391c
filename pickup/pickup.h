/* pickup.h: the pickup daemon's parts: main.c (the server skeleton, the
 * maildrop/ scan on every trigger and wakeup), copy.c (one maildrop file
 * into incoming/) and qmgr_wake.c. See postern-pickup(8). */
#ifndef POSTERN_PICKUP_H
#define POSTERN_PICKUP_H

#include <stdint.h>

#include "conf.h"
#include "queue_dir.h"

/* The start of the content scanned for headers, at most. */
#define PICKUP_HEAD_MAX (1024 * 1024)

struct pickup_config {
	struct queue_dir *qd;
	const char *queue_directory;
	const char *myhostname;
	const char *myorigin;
	const char *mail_name;
};

enum pickup_result {
	PICKUP_DONE,	  /* queued in incoming/, maildrop file removed */
	PICKUP_NOT_READY, /* still being written: later */
	PICKUP_CORRUPT,	  /* refused: moved to corrupt/ */
	PICKUP_GONE,	  /* someone else took it */
	PICKUP_RETRY,	  /* environment problem (disk full...): later */
};

/* Moves maildrop/ID into incoming/ under a new ID: validates it,
 * prepends Received:, adds Message-ID:, Date: and From: when missing,
 * commits durably, then removes the maildrop file. */
enum pickup_result pickup_file(const struct pickup_config *cfg, const char *id);

/* Tells qmgr that incoming/ has new mail (lib/qmgr_trigger); failures are
 * only logged at debug level: qmgr also scans on its own timer. */
void pickup_wake_qmgr(const struct pickup_config *cfg);

#endif
