/* group_sync.c: shared folder fsyncs (see group_sync.h). */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "group_sync.h"

void group_sync_init(struct group_sync *gs)
{
	pthread_mutex_init(&gs->lock, NULL);
	pthread_cond_init(&gs->cond, NULL);
	gs->running = false;
	gs->started = gs->finished = 0;
	gs->error = 0;
}

void group_sync_deinit(struct group_sync *gs)
{
	pthread_cond_destroy(&gs->cond);
	pthread_mutex_destroy(&gs->lock);
}

/* The fsyncs numbered above those begun so far start after the entry
 * was made; the latest one to end covers it once it is one of them,
 * whatever happened to earlier ones. */
uint64_t group_sync_ticket(struct group_sync *gs)
{
	uint64_t need;

	pthread_mutex_lock(&gs->lock);
	need = gs->started + 1;
	pthread_mutex_unlock(&gs->lock);
	return need;
}

int group_sync_fsync(struct group_sync *gs, int fd, uint64_t ticket)
{
	uint64_t need, mine;
	int r, err;

	pthread_mutex_lock(&gs->lock);
	need = ticket != 0 ? ticket : gs->started + 1;
	while (gs->finished < need) {
		if (gs->running) {
			pthread_cond_wait(&gs->cond, &gs->lock);
			continue;
		}
		gs->running = true;
		mine = ++gs->started;
		pthread_mutex_unlock(&gs->lock);
		r = fsync(fd);
		err = r < 0 ? errno : 0;
		pthread_mutex_lock(&gs->lock);
		gs->running = false;
		gs->finished = mine;
		gs->error = err;
		pthread_cond_broadcast(&gs->cond);
	}
	err = gs->error;
	pthread_mutex_unlock(&gs->lock);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 1;
}
