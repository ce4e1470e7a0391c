/* maildrop.c: the POP3 maildrop over the mail store (lib/mstore.h): the
 * user's INBOX, held exclusively by one POP3 session at a time (RFC 1939
 * 4: an flock on POP3D_LOCK_FILE in the user's mail root, which IMAP
 * sessions and `local` do not take, so they go on working meanwhile), the
 * snapshot of its messages taken at login (POP3 message numbers never
 * change during a session), and the UPDATE state: messages retrieved get
 * \Seen, deleted ones are expunged, which IMAP sessions see as EXPUNGE. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "pop3d.h"

/* The store path of a canonical user "local@domain": both parts must be
 * one safe path component each (the same rule as imapd's). */
static int user_root(const struct session *s, const char *user, struct str *out)
{
	const char *at = strrchr(user, '@');

	if (at == NULL || at == user || at[1] == '\0' || user[0] == '.' ||
	    at[1] == '.' || strchr(user, '/') != NULL)
		return -1;
	str_clear(out);
	str_printf(out, "%s/%s/", s->cfg->mail_store, at + 1);
	str_append(out, user, (size_t)(at - user));
	return 1;
}

/* 1 locked (fd in s->lock_fd), 0 held by another session, -1 error. The
 * lock goes with the descriptor, also when the process dies. */
static int maildrop_lock(struct session *s, const char *root,
			 const char **error_r)
{
	struct str path;
	int fd;

	str_init(&path, 128);
	str_printf(&path, "%s/%s", root, POP3D_LOCK_FILE);
	fd = open(path.data, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	str_deinit(&path);
	if (fd < 0) {
		*error_r = "cannot open the POP3 lock file";
		msg_warn("%s: open %s/%s: %s", s->client_addr, root,
			 POP3D_LOCK_FILE, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return 0;
		*error_r = "cannot lock the POP3 lock file";
		msg_warn("%s: flock %s/%s: %s", s->client_addr, root,
			 POP3D_LOCK_FILE, strerror(e));
		return -1;
	}
	s->lock_fd = fd;
	return 1;
}

/* The session's view of INBOX: numbers 1..n in UID order. */
static void maildrop_snapshot(struct session *s)
{
	struct mstore_status st;
	const struct mstore_msg *m;
	size_t n;

	m = mstore_messages(s->mb, &n);
	mstore_mailbox_status(s->mb, &st);
	s->uidvalidity = st.uidvalidity;
	s->msgs = mem_calloc(n > 0 ? n : 1, sizeof(*s->msgs));
	for (size_t i = 0; i < n; i++) {
		s->msgs[i].uid = m[i].uid;
		s->msgs[i].size = m[i].size;
	}
	s->msg_count = n;
}

int pop3d_maildrop_open(struct session *s, const char *canon,
			const char **error_r)
{
	struct mstore_settings set = {.public_root = s->cfg->public_root,
				      .hostname = s->cfg->hostname};
	struct str root;
	int r = -1;

	str_init(&root, 128);
	if (user_root(s, canon, &root) < 0) {
		*error_r = "not a usable mailbox name";
		str_deinit(&root);
		return -1;
	}
	set.user_root = root.data;
	/* mstore_open creates a missing root, where the lock file lives. */
	if (mstore_open(&set, &s->store, error_r) < 0 ||
	    (r = maildrop_lock(s, root.data, error_r)) <= 0)
		goto fail;
	r = mstore_mailbox_open(s->store, "INBOX", false, &s->mb, error_r);
	if (r <= 0) {
		if (r == 0)
			*error_r = "no INBOX";
		r = -1;
		goto fail;
	}
	str_deinit(&root);
	maildrop_snapshot(s);
	s->user = mem_strdup(canon);
	s->state = POP3D_TRANSACTION;
	return 1;
fail:
	str_deinit(&root);
	pop3d_maildrop_close(s);
	return r;
}

int pop3d_maildrop_read(struct session *s, size_t idx, struct str *out,
			const char **error_r)
{
	return mstore_msg_read(s->mb, s->msgs[idx].uid, out, error_r);
}

/* The uids of messages with (deleted) or without the deleted mark that
 * were retrieved (or, deleted, any); count in *n_r; NULL when none. */
static uint32_t *collect(const struct session *s, bool deleted, size_t *n_r)
{
	uint32_t *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->msg_count; i++) {
		const struct pop3d_msg *m = &s->msgs[i];

		if (m->deleted != deleted || (!deleted && !m->retrieved))
			continue;
		if (v == NULL)
			v = mem_calloc(s->msg_count, sizeof(*v));
		v[n++] = m->uid;
	}
	*n_r = n;
	return v;
}

int pop3d_maildrop_update(struct session *s, size_t *deleted_r,
			  const char **error_r)
{
	uint32_t *uids, *gone = NULL;
	size_t n, gone_n = 0;
	int r = 1;

	*deleted_r = 0;
	/* Like a client that read them; a failure here loses nothing. */
	uids = collect(s, false, &n);
	if (n > 0 &&
	    mstore_store_flags(s->mb, uids, n, MSTORE_FLAGS_ADD, MSTORE_F_SEEN,
			       0, 0, NULL, NULL, error_r) < 0)
		msg_warn("%s: user %s: setting \\Seen: %s", s->client_addr,
			 s->user, *error_r);
	mem_free(uids);
	/* Never with uids NULL: that would expunge every \Deleted one. */
	uids = collect(s, true, &n);
	if (n > 0)
		r = mstore_expunge(s->mb, uids, n, &gone, &gone_n, error_r);
	mem_free(uids);
	mem_free(gone);
	*deleted_r = gone_n;
	return r < 0 ? -1 : 1;
}

void pop3d_maildrop_close(struct session *s)
{
	mstore_mailbox_close(&s->mb);
	mstore_free(&s->store);
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	mem_free(s->msgs);
	s->msg_count = 0;
}
