/* shared.c: what the sessions of one process share. All sessions of a
 * user use one mail store object, and all sessions that select the same
 * mailbox (in the same mode) use one open mailbox: its index, flags and
 * cache are in memory once per process, not once per session, and one
 * inotify watch serves them all. A session keeps only its own view (the
 * UIDs it knows, 4 bytes a message; selected.c), so a thousand clients
 * of one big mailbox cost little more than one. Entries go when their
 * last session lets go. The event loop is single-threaded, so sharing
 * needs no locking; the store's own file locks keep other processes
 * (local, pop3d, other imapd processes) in step. */
#include "config.h"

#include <string.h>

#include "imapd.h"
#include "mem.h"
#include "msg.h"

struct shared_box {
	struct shared_user *user;
	char *name;
	bool readonly;
	struct mstore_mailbox *mb;
	unsigned refs;
	uint32_t recent_mark; /* highest UID claimed as \Recent */
	struct event_io *io;	  /* the store's inotify descriptor */
	struct session **watchers; /* sessions that selected it */
	size_t nwatch, capwatch;
	struct shared_box *next;
};

struct shared_user {
	char *user;
	struct mstore *store;
	unsigned refs;
	struct shared_box *boxes;
	struct shared_user *next;
};

static struct shared_user *users;

int imapd_store_get(struct session *s, const char *user,
		    const struct mstore_settings *set, const char **error_r)
{
	struct shared_user *u;

	for (u = users; u != NULL; u = u->next)
		if (strcmp(u->user, user) == 0)
			break;
	if (u == NULL) {
		u = mem_calloc(1, sizeof(*u));
		if (mstore_open(set, &u->store, error_r) < 0) {
			mem_free(u);
			return -1;
		}
		u->user = mem_strdup(user);
		u->next = users;
		users = u;
	}
	u->refs++;
	s->shared_user = u;
	s->store = u->store;
	return 1;
}

void imapd_store_put(struct session *s)
{
	struct shared_user *u = s->shared_user, **pp;

	s->store = NULL;
	s->shared_user = NULL;
	if (u == NULL || --u->refs > 0)
		return;
	for (pp = &users; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	mstore_free(&u->store);
	mem_free(u->user);
	mem_free(u);
}

/* The store's inotify descriptor fired: drain it once, then let every
 * session that selected the mailbox look (IDLE ones report at once). */
static void box_notify(struct event_io *io, int fd, unsigned events, void *ctx)
{
	struct shared_box *b = ctx;

	(void)io;
	(void)fd;
	(void)events;
	mstore_notify_drain(b->mb);
	/* A session may end inside the callback and leave the list. */
	for (size_t i = b->nwatch; i-- > 0;)
		if (i < b->nwatch)
			imapd_session_notify(b->watchers[i]);
}

static void box_watch(struct shared_box *b, struct session *s)
{
	if (b->nwatch == b->capwatch) {
		b->capwatch = b->capwatch * 2 + 4;
		b->watchers = mem_realloc(
		    b->watchers, size_mul(b->capwatch, sizeof(*b->watchers)));
	}
	b->watchers[b->nwatch++] = s;
}

void imapd_box_idle(struct session *s)
{
	struct shared_box *b = s->shared_box;
	const char *err;
	int fd;

	/* The inotify watch is made for the first IDLE only: until a client
	 * waits for pushes, every rename of a flag change would be queued
	 * and read back for nothing (the next command syncs anyway). */
	if (b == NULL || b->io != NULL || (fd = mstore_notify_fd(b->mb)) < 0)
		return;
	b->io = event_io_add(server_loop(s->srv), fd, EVENT_READ, box_notify, b,
			     &err);
	if (b->io == NULL)
		msg_warn("cannot watch mailbox %s: %s", b->name, err);
}

int imapd_box_open(struct session *s, const char *name, bool readonly,
		   const char **error_r)
{
	struct shared_user *u = s->shared_user;
	struct shared_box *b;
	int r;

	for (b = u->boxes; b != NULL; b = b->next)
		if (b->readonly == readonly && strcmp(b->name, name) == 0)
			break;
	if (b == NULL) {
		b = mem_calloc(1, sizeof(*b));
		r = mstore_mailbox_open(u->store, name, readonly, &b->mb,
					error_r);
		if (r <= 0) {
			mem_free(b);
			return r;
		}
		b->user = u;
		b->name = mem_strdup(name);
		b->readonly = readonly;
		b->next = u->boxes;
		u->boxes = b;
	} else if (mstore_mailbox_sync(b->mb, error_r) < 0) {
		return -1;
	}
	b->refs++;
	s->shared_box = b;
	s->mb = b->mb;
	box_watch(b, s);
	return 1;
}

void imapd_box_close(struct session *s)
{
	struct shared_box *b = s->shared_box, **pp;

	s->mb = NULL;
	s->shared_box = NULL;
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nwatch; i++)
		if (b->watchers[i] == s) {
			b->watchers[i] = b->watchers[--b->nwatch];
			break;
		}
	if (--b->refs > 0)
		return;
	for (pp = &b->user->boxes; *pp != b; pp = &(*pp)->next)
		;
	*pp = b->next;
	event_io_remove(&b->io);
	mstore_mailbox_close(&b->mb);
	mem_free(b->watchers);
	mem_free(b->name);
	mem_free(b);
}

uint32_t *imapd_box_recent_mark(struct session *s)
{
	return &s->shared_box->recent_mark;
}
