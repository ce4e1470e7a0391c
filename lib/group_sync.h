/* group_sync.h: one fsync of a folder shared by the threads that need it
 * at the same time (group commit). An entry made in the folder is durable
 * once an fsync of the folder that started after it was made has ended:
 * the writer takes a ticket when it makes the entry and, when it needs the
 * entry durable, waits for such an fsync, running it itself when none is
 * under way, on behalf of everyone waiting by then. Under load most
 * writers find theirs done or running: N writers cost far fewer than N
 * fsyncs of the folder. */
#ifndef POSTERN_GROUP_SYNC_H
#define POSTERN_GROUP_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct group_sync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;
	uint64_t started, finished; /* fsyncs begun / ended so far */
	int error;		    /* errno of the last one that ended, or 0 */
};

void group_sync_init(struct group_sync *gs);
void group_sync_deinit(struct group_sync *gs);
/* Taken right after an entry was made in the folder. Thread-safe. */
uint64_t group_sync_ticket(struct group_sync *gs);
/* Makes the entries made before ticket was taken durable (a ticket of 0:
 * those made before the call); always the same fd for one gs.
 * Thread-safe. Returns 1, or -1 with errno. */
int group_sync_fsync(struct group_sync *gs, int fd, uint64_t ticket);

#endif
