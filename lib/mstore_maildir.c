/* mstore_maildir.c: the Maildir++ store backend, store level: the table of
 * operations, names to directories (INBOX is the root, "A/B" is ROOT/.A.B
 * with '.' and '%' escaped as %2E and %25, "Public/X" is the public root's
 * .X), first-open set-up with the special-use folders, and CREATE, DELETE,
 * RENAME, STATUS. LIST and subscriptions are in mstore_maildir_list.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "maildir.h"
#include "mem.h"
#include "msg.h"
#include "mstore_internal.h"

#define DIR_NAME_MAX 255

static const char *const special_use[] = {"Sent", "Drafts", "Trash", "Junk",
					  "Archive"};

/* Root and directory name (".A.B"; "" for INBOX) of a checked name: 1, 0
 * for the "Public" namespace root, -1 when the disk name is too long. */
static int name_locate(struct mstore *s, const char *name, const char **root_r,
		       struct str *dir)
{
	const char *rest = name;

	*root_r = s->user_root;
	str_clear(dir);
	if (strcmp(name, "INBOX") == 0)
		return 1;
	if (s->public_root != NULL && strcmp(name, "Public") == 0) {
		*root_r = s->public_root;
		return 0;
	}
	if (s->public_root != NULL && strncmp(name, "Public/", 7) == 0) {
		*root_r = s->public_root;
		rest = name + 7;
	}
	str_putc(dir, '.');
	for (const char *p = rest; *p != '\0'; p++) {
		if (*p == '/')
			str_putc(dir, '.');
		else if (*p == '.')
			str_append_cstr(dir, "%2E");
		else if (*p == '%')
			str_append_cstr(dir, "%25");
		else
			str_putc(dir, *p);
	}
	if (dir->len > DIR_NAME_MAX)
		return mstore_error(s, "name too long");
	return 1;
}

int mdir_name_path(struct mstore *s, const char *name, char **path_r,
		   char **root_r)
{
	struct str dir, path;
	const char *root;
	int r;

	str_init(&dir, 64);
	r = name_locate(s, name, &root, &dir);
	if (r > 0) {
		str_init(&path, 0);
		str_printf(&path, "%s%s%s", root, dir.len > 0 ? "/" : "",
			   dir.data);
		*path_r = str_steal(&path);
		if (root_r != NULL)
			*root_r = mem_strdup(root);
	}
	str_deinit(&dir);
	return r;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool mdir_is_maildir(const char *path)
{
	struct str p;
	bool r;

	str_init(&p, 0);
	str_printf(&p, "%s/cur", path);
	r = is_dir(path) && is_dir(p.data);
	str_deinit(&p);
	return r;
}

int mdir_folder_create(struct mstore *s, const char *path, bool subfolder)
{
	struct str marker;
	const char *err;
	struct stat st;
	int r;

	/* never through a symlink (or onto a file) out of the store */
	if (subfolder && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return mstore_error(s, "%s exists and is not a folder", path);
	if (maildir_create(path, &err) < 0)
		return mstore_error(s, "%s", err);
	if (!subfolder)
		return 1;
	str_init(&marker, 0);
	str_printf(&marker, "%s/maildirfolder", path);
	r = file_write_atomic(marker.data, "", 0, 0600, &err);
	if (r < 0)
		mstore_error(s, "%s", err);
	str_deinit(&marker);
	return r;
}

/* Makes every missing parent of name a folder (not "INBOX", "Public"). */
static int create_parents(struct mstore *s, const char *name)
{
	struct str prefix;
	char *path;
	int r = 1;

	str_init(&prefix, 64);
	for (const char *p = strchr(name, '/'); r > 0 && p != NULL;
	     p = strchr(p + 1, '/')) {
		str_set(&prefix, name, (size_t)(p - name));
		r = mdir_name_path(s, prefix.data, &path, NULL);
		if (r == 0) {
			r = 1; /* the Public namespace */
			continue;
		}
		if (r < 0)
			break;
		if (strcmp(prefix.data, "INBOX") != 0 && !mdir_is_maildir(path))
			r = mdir_folder_create(s, path, true);
		mem_free(path);
	}
	str_deinit(&prefix);
	return r;
}

static int mdir_create(struct mstore *s, const char *name)
{
	char *path;
	int r;

	if (strcmp(name, "INBOX") == 0)
		return 0;
	r = mdir_name_path(s, name, &path, NULL);
	if (r == 0)
		return mstore_error(s, "%s is a namespace, not a mailbox",
				    name);
	if (r < 0)
		return -1;
	if (mdir_is_maildir(path))
		r = 0;
	else if (create_parents(s, name) < 0 ||
		 mdir_folder_create(s, path, true) < 0)
		r = -1;
	mem_free(path);
	return r;
}

/* 1 when some folder lies below dir (".A.B") in root. */
static int has_children(struct mstore *s, const char *root, const char *dir)
{
	struct str names;
	int r;

	str_init(&names, 0);
	r = mdir_children(s, root, dir, &names);
	if (r > 0)
		r = names.len > 0;
	str_deinit(&names);
	return r;
}

/* Moves the tree out of sight in one rename, then removes it. */
static int remove_folder(struct mstore *s, const char *root, const char *path)
{
	struct str trash;
	char rnd[17];
	int r = 1;

	mdir_random_hex(rnd, 16);
	str_init(&trash, 0);
	str_printf(&trash, "%s/tmp", root);
	if (mkdir(trash.data, 0700) < 0 && errno != EEXIST)
		r = mstore_error_sys(s, "create", trash.data);
	str_printf(&trash, "/postern-deleted.%s", rnd);
	if (r > 0 && rename(path, trash.data) < 0)
		r = mstore_error_sys(s, "rename", path);
	if (r > 0 && mdir_remove_tree(s, trash.data) < 0)
		msg_warn("%s", s->err.data); /* gone from sight already */
	str_deinit(&trash);
	return r;
}

static int mdir_remove(struct mstore *s, const char *name)
{
	struct str dir, path;
	const char *root;
	int r;

	if (strcmp(name, "INBOX") == 0)
		return mstore_error(s, "INBOX cannot be deleted");
	mdir_quiet_flush(s);
	str_init(&dir, 64);
	str_init(&path, 0);
	r = name_locate(s, name, &root, &dir);
	if (r == 0)
		r = mstore_error(s, "%s is a namespace, not a mailbox", name);
	if (r > 0) {
		str_printf(&path, "%s/%s", root, dir.data);
		if (is_dir(path.data))
			r = remove_folder(s, root, path.data);
		else if ((r = has_children(s, root, dir.data)) > 0)
			r = mstore_error(s,
					 "%s has children and is not a "
					 "mailbox itself",
					 name);
	}
	str_deinit(&dir);
	str_deinit(&path);
	return r;
}

/* Moves INBOX's messages into the new folder at path; INBOX stays. */
static int rename_inbox(struct mstore *s, const char *path)
{
	static const char *const subs[] = {"new", "cur"};
	struct str lock, from, to;
	struct dirent *e;
	int fd, r;
	DIR *d;

	if (mdir_folder_create(s, path, true) < 0)
		return -1;
	str_init(&lock, 0);
	str_init(&from, 0);
	str_init(&to, 0);
	str_printf(&lock, "%s/" MDIR_LOCK, s->user_root);
	fd = mdir_lock_path(s, lock.data);
	r = fd < 0 ? -1 : 1;
	for (size_t i = 0; r > 0 && i < 2; i++) {
		str_clear(&from);
		str_printf(&from, "%s/%s", s->user_root, subs[i]);
		if ((d = opendir(from.data)) == NULL) {
			r = mstore_error_sys(s, "open", from.data);
			break;
		}
		while (r > 0 && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			str_clear(&from);
			str_printf(&from, "%s/%s/%s", s->user_root, subs[i],
				   e->d_name);
			str_clear(&to);
			str_printf(&to, "%s/%s/%s", path, subs[i], e->d_name);
			if (rename(from.data, to.data) < 0 && errno != ENOENT)
				r = mstore_error_sys(s, "rename", from.data);
		}
		closedir(d);
	}
	if (fd >= 0)
		close(fd);
	str_deinit(&lock);
	str_deinit(&from);
	str_deinit(&to);
	return r;
}

/* INBOX's files moved without its index knowing: log their expunges now
 * (its cur/ mtime alone may not show it within the same tick). */
static void inbox_rescan(struct mstore *s)
{
	struct mdir_mailbox *mb;

	if (mdir_quiet_get(s, "INBOX", &mb) > 0) {
		if (mdir_refresh(mb, MDIR_R_SCAN) < 0)
			msg_warn("%s", s->err.data);
		mdir_quiet_put(mb);
	}
}

/* Renames the folder (when it exists) and each child: ".F.x" -> ".T.x". */
static int rename_tree(struct mstore *s, const char *root, const char *fdir,
		       const char *tdir)
{
	struct str children, a, b;
	size_t flen = strlen(fdir);
	int r = 1;

	str_init(&children, 0);
	str_init(&a, 0);
	str_init(&b, 0);
	if (mdir_children(s, root, fdir, &children) < 0)
		r = -1;
	for (const char *c = children.data;
	     r > 0 && c < children.data + children.len; c += strlen(c) + 1) {
		if (strlen(tdir) + strlen(c) - flen > DIR_NAME_MAX)
			r = mstore_error(s, "name too long");
		str_clear(&b);
		str_printf(&b, "%s/%s%s", root, tdir, c + flen);
		if (r > 0 && is_dir(b.data))
			r = mstore_error(s, "a child of the new name exists");
	}
	str_printf(&a, "%s/%s", root, fdir);
	str_clear(&b);
	str_printf(&b, "%s/%s", root, tdir);
	if (r > 0 && !is_dir(a.data) && children.len == 0)
		r = 0;
	if (r > 0 && is_dir(a.data) && rename(a.data, b.data) < 0)
		r = mstore_error_sys(s, "rename", a.data);
	for (const char *c = children.data;
	     r > 0 && c < children.data + children.len; c += strlen(c) + 1) {
		str_clear(&a);
		str_clear(&b);
		str_printf(&a, "%s/%s", root, c);
		str_printf(&b, "%s/%s%s", root, tdir, c + flen);
		if (rename(a.data, b.data) < 0)
			r = mstore_error_sys(s, "rename", a.data);
	}
	str_deinit(&children);
	str_deinit(&a);
	str_deinit(&b);
	return r;
}

/* 1 when the folder at dir or some child of it exists, else 0. */
static int source_exists(struct mstore *s, const char *root, const char *dir)
{
	struct str p;
	int r;

	str_init(&p, 0);
	str_printf(&p, "%s/%s", root, dir);
	r = is_dir(p.data) ? 1 : has_children(s, root, dir);
	str_deinit(&p);
	return r;
}

static int mdir_rename(struct mstore *s, const char *from, const char *to)
{
	struct str fdir, tdir, tpath;
	const char *froot, *troot;
	size_t flen = strlen(from);
	int r;

	if (strcmp(to, "INBOX") == 0)
		return mstore_error(s, "cannot rename to INBOX");
	mdir_quiet_flush(s);
	if (strncmp(to, from, flen) == 0 &&
	    (to[flen] == '/' || to[flen] == 0) && strcmp(from, "INBOX") != 0)
		return mstore_error(s, "cannot rename a mailbox into itself");
	str_init(&fdir, 64);
	str_init(&tdir, 64);
	str_init(&tpath, 0);
	r = name_locate(s, from, &froot, &fdir);
	if (r > 0)
		r = name_locate(s, to, &troot, &tdir);
	if (r == 0)
		r = mstore_error(s, "Public is a namespace, not a mailbox");
	if (r > 0 && strcmp(froot, troot) != 0)
		r = mstore_error(s, "cannot move mailboxes between namespaces");
	if (r > 0) {
		str_printf(&tpath, "%s/%s", troot, tdir.data);
		if (is_dir(tpath.data))
			r = mstore_error(s, "mailbox %s already exists", to);
	}
	if (r > 0 && strcmp(from, "INBOX") != 0)
		r = source_exists(s, froot, fdir.data);
	if (r > 0)
		r = create_parents(s, to);
	if (r > 0 && strcmp(from, "INBOX") == 0)
		r = rename_inbox(s, tpath.data);
	else if (r > 0)
		r = rename_tree(s, froot, fdir.data, tdir.data);
	if (r > 0 && strcmp(from, "INBOX") == 0)
		inbox_rescan(s);
	str_deinit(&fdir);
	str_deinit(&tdir);
	str_deinit(&tpath);
	return r;
}

static int mdir_status(struct mstore *s, const char *name,
		       struct mstore_status *st)
{
	struct mdir_mailbox *mb;
	int r = mdir_quiet_get(s, name, &mb);

	if (r > 0) {
		mdir_state_status(&mb->st, st);
		mdir_quiet_put(mb);
	}
	return r;
}

/* The first open: the roots, the special-use folders, subscriptions. */
static int mdir_init(struct mstore *s)
{
	const char *names[1 + sizeof(special_use) / sizeof(special_use[0])];
	const char *err;
	struct str p;
	int r = 1;

	if (maildir_create(s->user_root, &err) < 0 ||
	    (s->public_root != NULL &&
	     maildir_create(s->public_root, &err) < 0))
		return mstore_error(s, "%s", err);
	str_init(&p, 0);
	str_printf(&p, "%s/" MDIR_SUBSCRIPTIONS, s->user_root);
	if (access(p.data, F_OK) < 0) {
		names[0] = "INBOX";
		for (size_t i = 0;
		     r >= 0 && i < sizeof(special_use) / sizeof(special_use[0]);
		     i++) {
			names[i + 1] = special_use[i];
			r = mdir_create(s, special_use[i]);
		}
		if (r >= 0)
			r = mdir_subscriptions_init(
			    s, names, sizeof(names) / sizeof(names[0]));
	}
	str_deinit(&p);
	return r < 0 ? -1 : 1;
}

static void mdir_deinit(struct mstore *s)
{
	mdir_quiet_flush(s);
	mem_free(s->backend);
}

static int mdir_open_op(struct mstore *s, const char *name, bool readonly,
			struct mstore_mailbox **mb_r)
{
	struct mdir_mailbox *mb;
	int r = mdir_mailbox_open_mode(
	    s, name, readonly ? MDIR_READONLY : MDIR_WRITER, &mb);

	if (r > 0)
		*mb_r = &mb->pub;
	return r;
}

const struct mstore_ops mstore_maildir_ops = {
    .init = mdir_init,
    .deinit = mdir_deinit,
    .list = mdir_list,
    .create = mdir_create,
    .remove = mdir_remove,
    .rename = mdir_rename,
    .subscribe = mdir_subscribe,
    .status = mdir_status,
    .mailbox_open = mdir_open_op,
    .mailbox_close = mdir_mailbox_close,
    .mailbox_sync = mdir_mailbox_sync,
    .keyword_add = mdir_keyword_add,
    .msg_read = mdir_msg_read,
    .store_flags = mdir_store_flags,
    .expunge = mdir_expunge,
    .append = mdir_append,
    .copy = mdir_copy,
    .cache_get = mdir_cache_get,
    .cache_put = mdir_cache_put,
    .notify_fd = mdir_notify_fd,
    .notify_drain = mdir_notify_drain,
};
