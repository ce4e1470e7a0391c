/* mstore_maildir_commit.c: the files behind a Maildir++ mailbox's index:
 * loading the base (postern-index) when another process replaced it,
 * replaying the change log (postern-index.log) from where this handle
 * stopped, committing a change as one log group, and compaction (a new
 * base and a new, empty log). The formats are in mstore_maildir_index.c
 * and mstore_maildir_log.c; the rules are atop mstore_internal.h part two.
 *
 * A commit costs one pwrite() and one fdatasync() of the log, whatever
 * the mailbox's size. Compaction costs a whole base and runs when the log
 * would pass half of the base (plus LOG_SLACK): its cost is spread over
 * at least that many bytes of log, so filling a mailbox stays linear. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "msg.h"
#include "mstore_internal.h"

#define LOG_SLACK (32u << 10)
#define HINT_SIZE 16

static void file_path(const struct mdir_mailbox *mb, const char *name,
		      struct str *out)
{
	str_clear(out);
	str_printf(out, "%s/%s", mb->path, name);
}

static void log_close(struct mdir_mailbox *mb)
{
	if (mb->log_fd >= 0)
		close(mb->log_fd);
	mb->log_fd = -1;
	mb->log_ok = false;
	mb->log_end = 0;
}

void mdir_index_close(struct mdir_mailbox *mb)
{
	if (mb->index_fd >= 0)
		close(mb->index_fd);
	mb->index_fd = -1;
	log_close(mb);
}

/* The lock file's first bytes: the log id and how far it is on disk.
 * Only meaningful while the system runs (no fsync): after a crash what
 * is in the log is on disk anyway. */
static void hint_read(struct mdir_mailbox *mb, uint64_t *id_r, uint64_t *end_r)
{
	uint64_t h[2] = {0, 0};

	if (mb->lock_fd < 0 ||
	    pread(mb->lock_fd, h, HINT_SIZE, 0) != (ssize_t)HINT_SIZE)
		h[0] = h[1] = 0;
	*id_r = h[0];
	*end_r = h[1];
}

static void hint_write(struct mdir_mailbox *mb, uint64_t id, uint64_t end)
{
	uint64_t h[2] = {id, end};

	if (mb->lock_fd >= 0)
		(void)!pwrite(mb->lock_fd, h, HINT_SIZE, 0);
}

static int read_at(int fd, uint64_t off, size_t size, struct str *out)
{
	str_init(out, size + 1);
	while (out->len < size) {
		ssize_t n = pread(fd, out->data + out->len, size - out->len,
				  (off_t)(off + out->len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	return 1;
}

/* A damaged log: the good part is in st; compact it now. Groups after a
 * corrupt one are lost, but never their UIDs and MODSEQs. */
static void log_damaged(struct mdir_mailbox *mb,
			const struct mdir_log_replay *res)
{
	struct mdir_state *st = &mb->st;

	/* a crash (torn) may have come after the files changed and before
	 * the change was logged: read the directories either way */
	mb->need_scan = true;
	if (res->status == MDIR_LOG_TORN) {
		msg_warn("%s/" MDIR_LOG ": incomplete last change at offset "
			 "%llu (a crash while writing it), ignored",
			 mb->path, (unsigned long long)res->end);
	} else {
		msg_warn("%s/" MDIR_LOG ": corrupt at offset %llu (%s), "
			 "using what comes before and reading the folder",
			 mb->path, (unsigned long long)res->end,
			 res->why != NULL ? res->why : "bad group");
		if (res->lost_uidnext > st->uidnext)
			st->uidnext = res->lost_uidnext;
		if (res->lost_modseq > st->highestmodseq)
			st->highestmodseq = res->lost_modseq;
	}
	mb->need_base = true;
	mb->index_dirty = true;
}

/* Replays the log from log_end to size. 1, 0 unreadable (rebuild), -1. */
static int log_replay_tail(struct mdir_mailbox *mb, uint64_t size)
{
	struct mdir_log_replay res;
	uint64_t hid, hend;
	struct str buf;
	int r = 1;

	if (size > MDIR_INDEX_MAX) {
		msg_warn("%s/" MDIR_LOG ": too large, rebuilding", mb->path);
		return 0;
	}
	if (read_at(mb->log_fd, mb->log_end, (size_t)(size - mb->log_end),
		    &buf) < 0) {
		str_deinit(&buf);
		return mstore_error_sys(mb->pub.s, "read", MDIR_LOG);
	}
	mdir_log_replay(&mb->st, mb->st.log_id, buf.data, buf.len, mb->log_end,
			&res);
	str_deinit(&buf);
	mb->log_end = res.end;
	if (res.groups > 0 && mb->pending_count > 0)
		mdir_cache_apply_pending(mb);
	if (res.status != MDIR_LOG_OK)
		log_damaged(mb, &res);
	/* a writer may have died between its write and its fdatasync:
	 * nothing of it is handed out before it is on disk */
	hint_read(mb, &hid, &hend);
	if (res.groups > 0 && (hid != mb->st.log_id || hend < mb->log_end)) {
		if (fdatasync(mb->log_fd) < 0)
			r = mstore_error_sys(mb->pub.s, "fdatasync", MDIR_LOG);
		else
			hint_write(mb, mb->st.log_id, mb->log_end);
	}
	return r;
}

/* Opens the log at path; log_ok when it continues the loaded base. */
static int log_open(struct mdir_mailbox *mb, const char *path)
{
	char hdr[MDIR_LOG_HDR];
	struct stat sb;
	int fd;

	log_close(mb);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT
			   ? 1
			   : mstore_error_sys(mb->pub.s, "open", path);
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return mstore_error_sys(mb->pub.s, "fstat", path);
	}
	mb->log_fd = fd;
	mb->log_dev = sb.st_dev;
	mb->log_ino = sb.st_ino;
	mb->log_end = MDIR_LOG_HDR;
	mb->log_ok = S_ISREG(sb.st_mode) &&
		     pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
		     mdir_log_header_check(hdr, sizeof(hdr), mb->st.log_id);
	return 1;
}

/* The log's new groups. 1, 0 the log was replaced or cut under an
 * unchanged base (reload everything), -1 error. A log that is missing or
 * names another base (left by a crash during compaction: the base has
 * all of it) holds nothing for us. */
static int log_refresh(struct mdir_mailbox *mb)
{
	struct stat sb;
	struct str path;
	int r = 1;

	str_init(&path, 0);
	file_path(mb, MDIR_LOG, &path);
	if (stat(path.data, &sb) < 0) {
		if (errno != ENOENT)
			r = mstore_error_sys(mb->pub.s, "stat", path.data);
		else if (mb->log_ok)
			r = 0;
		else
			log_close(mb);
	} else if (mb->log_fd < 0 || sb.st_ino != mb->log_ino ||
		   sb.st_dev != mb->log_dev) {
		r = mb->log_ok ? 0 : log_open(mb, path.data);
	}
	if (r > 0 && mb->log_ok) {
		if (fstat(mb->log_fd, &sb) < 0)
			r = mstore_error_sys(mb->pub.s, "fstat", path.data);
		else if ((uint64_t)sb.st_size < mb->log_end)
			r = 0;
		else if ((uint64_t)sb.st_size > mb->log_end)
			r = log_replay_tail(mb, (uint64_t)sb.st_size);
	}
	str_deinit(&path);
	return r;
}

/* 1 loaded into st, 0 corrupt (why in *why_r), -1 error. */
static int base_load(struct mdir_mailbox *mb, int fd, const struct stat *sb,
		     const char *path, struct mdir_state *st,
		     const char **why_r)
{
	struct str img;
	int r;

	if (!S_ISREG(sb->st_mode) || (uint64_t)sb->st_size > MDIR_INDEX_MAX) {
		*why_r = "not a regular file or too large";
		return 0;
	}
	errno = 0;
	if (read_at(fd, 0, (size_t)sb->st_size, &img) < 0) {
		r = errno == 0 ? 0 : mstore_error_sys(mb->pub.s, "read", path);
		*why_r = "short read";
	} else {
		*why_r = mdir_index_parse(img.data, img.len, st);
		r = *why_r == NULL ? 1 : 0;
		if (r == 0 && st->uidvalidity == 0 && img.len >= 24 &&
		    memcmp(img.data, "PSTIDX01", 8) == 0)
			memcpy(&st->uidvalidity, img.data + 16, 4);
	}
	str_deinit(&img);
	return r;
}

static void base_take(struct mdir_mailbox *mb, struct mdir_state *st, int fd,
		      const struct stat *sb)
{
	mdir_state_clear(&mb->st);
	mb->st = *st;
	if (mb->index_fd >= 0)
		close(mb->index_fd);
	mb->index_fd = fd;
	mb->index_dev = sb->st_dev;
	mb->index_ino = sb->st_ino;
	mb->base_size = (uint64_t)sb->st_size;
	mb->loaded = true;
	mb->need_base = false;
	mb->index_dirty = false;
	log_close(mb);
}

/* Loads the base afresh, then its whole log. */
static int base_reload(struct mdir_mailbox *mb, const char *path,
		       uint32_t *old_uidvalidity_r, bool *corrupt_r)
{
	struct mdir_state st = {0};
	const char *why = NULL;
	struct stat sb;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT
			   ? 0
			   : mstore_error_sys(mb->pub.s, "open", path);
	r = fstat(fd, &sb) < 0 ? mstore_error_sys(mb->pub.s, "fstat", path)
			       : base_load(mb, fd, &sb, path, &st, &why);
	if (r <= 0) {
		if (r == 0) {
			msg_warn("%s: index corrupt (%s), rebuilding", path,
				 why);
			*old_uidvalidity_r = st.uidvalidity;
			*corrupt_r = true;
		}
		mdir_state_clear(&st);
		close(fd);
		return r;
	}
	base_take(mb, &st, fd, &sb);
	r = log_refresh(mb);
	if (r == 0) {
		/* a log too large to read: start over */
		*old_uidvalidity_r = mb->st.uidvalidity;
		*corrupt_r = true;
		mb->loaded = false;
	}
	mdir_cache_apply_pending(mb);
	return r;
}

int mdir_index_refresh(struct mdir_mailbox *mb, uint32_t *old_uidvalidity_r,
		       bool *corrupt_r)
{
	struct stat sb;
	struct str path;
	int r = 0;

	*old_uidvalidity_r = 0;
	*corrupt_r = false;
	str_init(&path, 0);
	file_path(mb, MDIR_INDEX, &path);
	if (mb->loaded && stat(path.data, &sb) == 0 &&
	    sb.st_ino == mb->index_ino && sb.st_dev == mb->index_dev)
		r = log_refresh(mb);
	if (r == 0)
		r = base_reload(mb, path.data, old_uidvalidity_r, corrupt_r);
	str_deinit(&path);
	return r;
}

bool mdir_index_unchanged(struct mdir_mailbox *mb)
{
	struct stat sb;
	struct str path;
	bool same;

	if (!mb->loaded)
		return false;
	str_init(&path, 0);
	file_path(mb, MDIR_INDEX, &path);
	same = stat(path.data, &sb) == 0 && sb.st_ino == mb->index_ino &&
	       sb.st_dev == mb->index_dev;
	file_path(mb, MDIR_LOG, &path);
	if (same && stat(path.data, &sb) < 0)
		same = errno == ENOENT && mb->log_fd < 0;
	else if (same)
		same = mb->log_fd >= 0 && sb.st_ino == mb->log_ino &&
		       sb.st_dev == mb->log_dev &&
		       (!mb->log_ok || (uint64_t)sb.st_size == mb->log_end);
	str_deinit(&path);
	return same;
}

static uint64_t log_id_new(uint64_t old)
{
	char hex[17];
	uint64_t id = 0;

	while (id == 0 || id == old) {
		id = 0;
		mdir_random_hex(hex, 16);
		for (int i = 0; i < 16; i++)
			id = id * 16 + (uint64_t)(hex[i] <= '9'
						      ? hex[i] - '0'
						      : hex[i] - 'a' + 10);
	}
	return id;
}

/* An empty log continuing the base just written. */
static int log_create(struct mdir_mailbox *mb, uint64_t id)
{
	struct str hdr, path;
	const char *err;
	int r;

	str_init(&hdr, MDIR_LOG_HDR);
	str_init(&path, 0);
	mdir_log_header_build(&hdr, id);
	file_path(mb, MDIR_LOG, &path);
	r = file_write_atomic(path.data, hdr.data, hdr.len, 0600, &err);
	if (r < 0)
		msg_warn("%s", err);
	else if ((r = log_open(mb, path.data)) > 0 && mb->log_ok)
		hint_write(mb, id, mb->log_end);
	str_deinit(&hdr);
	str_deinit(&path);
	return r;
}

static void base_identity(struct mdir_mailbox *mb, const char *path,
			  uint64_t size)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && fstat(fd, &sb) == 0) {
		if (mb->index_fd >= 0)
			close(mb->index_fd);
		mb->index_fd = fd;
		mb->index_dev = sb.st_dev;
		mb->index_ino = sb.st_ino;
		mb->base_size = size;
		mb->loaded = true;
	} else {
		if (fd >= 0)
			close(fd);
		mb->loaded = false; /* reload next time */
	}
}

int mdir_index_write(struct mdir_mailbox *mb)
{
	struct mdir_state *st = &mb->st;
	struct str buf, path;
	const char *err;
	int r;

	(void)mdir_cache_maybe_compact(mb);
	mdir_state_compact(st);
	st->log_id = log_id_new(st->log_id);
	str_init(&buf, 256 + st->count * MDIR_REC_SIZE + st->names.len);
	str_init(&path, 0);
	file_path(mb, MDIR_INDEX, &path);
	mdir_index_serialize(st, &buf);
	r = file_write_atomic(path.data, buf.data, buf.len, 0600, &err);
	if (r < 0) {
		mstore_error(mb->pub.s, "%s", err);
		/* UIDs not on disk must not be handed out: reload */
		mb->loaded = false;
	} else {
		base_identity(mb, path.data, buf.len);
		mdir_state_committed(st);
		mb->index_dirty = mb->need_base = false;
		mb->pending_count = 0; /* the heads are in the file now */
		/* the base has everything: without a log the next commit
		 * just writes another base */
		if (log_create(mb, st->log_id) < 0 || !mb->log_ok)
			log_close(mb);
	}
	str_deinit(&buf);
	str_deinit(&path);
	return r;
}

/* Writes g at log_end and, unless lazy, syncs it; on failure cuts it off
 * again. A lazy group leaves the "synced up to" hint where it was, so a
 * reader that replays it syncs it first (log_replay_tail). */
static int log_append(struct mdir_mailbox *mb, const struct str *g, bool lazy)
{
	uint64_t end = mb->log_end + g->len;
	const char *err = NULL;
	struct stat sb;
	ssize_t n = 0;

	for (size_t done = 0; done < g->len; done += (size_t)n) {
		n = pwrite(mb->log_fd, g->data + done, g->len - done,
			   (off_t)(mb->log_end + done));
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0) {
			err = "write";
			break;
		}
	}
	if (err == NULL && fstat(mb->log_fd, &sb) == 0 &&
	    (uint64_t)sb.st_size > end && ftruncate(mb->log_fd, (off_t)end) < 0)
		err = "truncate";
	if (err == NULL && !lazy && fdatasync(mb->log_fd) < 0)
		err = "fdatasync";
	if (err != NULL) {
		int e = errno;

		(void)!ftruncate(mb->log_fd, (off_t)mb->log_end);
		errno = e;
		mb->loaded = false; /* the changes are not on disk: reload */
		return mstore_error(mb->pub.s, "%s %s/" MDIR_LOG ": %s", err,
				    mb->path, strerror(e));
	}
	mb->log_end = end;
	if (!lazy)
		hint_write(mb, mb->st.log_id, end);
	return 1;
}

int mdir_index_commit(struct mdir_mailbox *mb)
{
	struct mdir_state *st = &mb->st;
	struct str g;
	int r;

	if (!mb->index_dirty && mb->pending_count == 0 && !mb->need_base &&
	    !mdir_state_changed(st))
		return 1;
	if (st->expunged.count > 0 && mdir_cache_maybe_compact(mb))
		mb->need_base = true;
	if (mb->need_base || !mb->log_ok)
		return mdir_index_write(mb);
	str_init(&g, 256);
	mdir_log_group_build(st, mb->pending, mb->pending_count, st->log_id,
			     mb->log_end, &g);
	if (g.len > MDIR_LOG_GROUP_MAX || mb->log_end - MDIR_LOG_HDR + g.len >
					      mb->base_size / 2 + LOG_SLACK) {
		str_deinit(&g);
		return mdir_index_write(mb);
	}
	/* Flag changes alone need no fdatasync: the flags are in the
	 * file names as well (renamed before this), and the MODSEQs are
	 * not offered to clients (no CONDSTORE), so a crash that loses the
	 * group loses nothing a client was promised. New UIDs, expunges
	 * and keyword names (the letters in file names) always sync. */
	r = log_append(mb, &g,
		       mb->commit_lazy && st->uidnext == st->disk_uidnext &&
			   st->expunged.count == 0 &&
			   st->keyword_count == st->disk_keyword_count);
	str_deinit(&g);
	if (r > 0) {
		mdir_state_committed(st);
		mb->index_dirty = false;
		mb->pending_count = 0;
	}
	return r;
}
