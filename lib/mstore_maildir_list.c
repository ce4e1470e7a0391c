/* mstore_maildir_list.c: the Maildir++ store backend's folder list (LIST)
 * and subscriptions. Folder names come from the directory names of the
 * user root and the public root (".A%2Eb.C" is "A.b/C"); names that do not
 * decode to a valid, reachable name are skipped. Subscriptions are one name
 * per line in ROOT/postern-subscriptions, changed under the root lock and
 * replaced atomically. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "htable.h"
#include "mem.h"
#include "mstore_internal.h"

#define FOLDERS_MAX 100000
#define SUBSCRIPTIONS_MAX 10000
#define SUBSCRIPTIONS_FILE_MAX (1024 * 1024)

struct flist {
	struct mstore_folder *v;
	size_t count, cap;
	struct htable *idx; /* name -> position + 1 */
};

static int flist_add(struct mstore *s, struct flist *fl, const char *name,
		     unsigned attrs)
{
	void *pos;

	if (htable_find(fl->idx, name, &pos)) {
		fl->v[(uintptr_t)pos - 1].attrs |= attrs;
		return 1;
	}
	if (fl->count >= FOLDERS_MAX)
		return mstore_error(s, "too many folders");
	if (fl->count == fl->cap) {
		fl->cap = fl->cap == 0 ? 32 : size_mul(fl->cap, 2);
		fl->v = mem_realloc(fl->v, size_mul(fl->cap, sizeof(*fl->v)));
	}
	fl->v[fl->count] = (struct mstore_folder){mem_strdup(name), attrs};
	fl->count++;
	htable_insert(fl->idx, name, (void *)(uintptr_t)fl->count);
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ".A%2Eb.C" -> "A.b/C"; false when it is not a name we would write. */
static bool decode_dir(const char *d, struct str *out)
{
	str_clear(out);
	for (const char *p = d + 1; *p != '\0'; p++) {
		if (*p == '.') {
			str_putc(out, '/');
		} else if (*p == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (lo < 0)
				return false;
			int c = hi * 16 + lo;
			if (c == '/' || c == 0)
				return false;
			str_putc(out, c);
			p += 2;
		} else {
			str_putc(out, *p);
		}
	}
	return out->len > 0;
}

/* Adds the folders of root (names prefixed with prefix). */
static int scan_root(struct mstore *s, struct flist *fl, const char *root,
		     const char *prefix)
{
	struct str name, norm, path;
	const char *err;
	struct dirent *e;
	int r = 1;
	DIR *d = opendir(root);

	if (d == NULL)
		return errno == ENOENT ? 1 : mstore_error_sys(s, "open", root);
	str_init(&name, 64);
	str_init(&norm, 64);
	str_init(&path, 0);
	while (r > 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		str_clear(&name);
		str_append_cstr(&name, prefix);
		if (!decode_dir(e->d_name, &path))
			continue;
		str_append(&name, path.data, path.len);
		/* only names that map back to this very directory */
		if (mstore_name_normalize(name.data, false, &norm, &err) < 0 ||
		    !str_eq_cstr(&norm, name.data) ||
		    strcmp(name.data, "INBOX") == 0 ||
		    (*prefix == '\0' && s->public_root != NULL &&
		     (strcmp(name.data, "Public") == 0 ||
		      strncmp(name.data, "Public/", 7) == 0)))
			continue;
		str_clear(&path);
		str_printf(&path, "%s/%s", root, e->d_name);
		if (mdir_is_maildir(path.data))
			r = flist_add(s, fl, name.data, 0);
	}
	closedir(d);
	str_deinit(&name);
	str_deinit(&norm);
	str_deinit(&path);
	return r;
}

/* Hierarchy-only parents, then \HasChildren / \HasNoChildren. */
static int add_parents(struct mstore *s, struct flist *fl)
{
	struct str prefix;
	void *pos;
	int r = 1;

	str_init(&prefix, 64);
	for (size_t i = 0; r > 0 && i < fl->count; i++) {
		const char *name = fl->v[i].name;

		for (const char *p = strchr(name, '/'); r > 0 && p != NULL;
		     p = strchr(p + 1, '/')) {
			str_set(&prefix, name, (size_t)(p - name));
			if (!htable_find(fl->idx, prefix.data, NULL))
				r = flist_add(s, fl, prefix.data,
					      MSTORE_A_NOSELECT);
			name = fl->v[i].name; /* fl->v may have moved */
			p = name + prefix.len;
		}
	}
	for (size_t i = 0; r > 0 && i < fl->count; i++) {
		const char *slash = strrchr(fl->v[i].name, '/');

		if (slash == NULL)
			continue;
		str_set(&prefix, fl->v[i].name,
			(size_t)(slash - fl->v[i].name));
		if (htable_find(fl->idx, prefix.data, &pos))
			fl->v[(uintptr_t)pos - 1].attrs |= MSTORE_A_HASCHILDREN;
	}
	for (size_t i = 0; i < fl->count; i++)
		if ((fl->v[i].attrs & MSTORE_A_HASCHILDREN) == 0)
			fl->v[i].attrs |= MSTORE_A_HASNOCHILDREN;
	str_deinit(&prefix);
	return r;
}

/* The subscribed names, NUL-separated, in file order. */
static int subs_read(struct mstore *s, struct str *names)
{
	struct str path, buf, norm;
	const char *err;
	int r = 1;

	str_init(&path, 0);
	str_init(&buf, 0);
	str_init(&norm, 64);
	str_printf(&path, "%s/" MDIR_SUBSCRIPTIONS, s->user_root);
	if (file_read_all(path.data, &buf, SUBSCRIPTIONS_FILE_MAX, &err) < 0 &&
	    errno != ENOENT)
		r = mstore_error(s, "%s", err);
	for (char *p = buf.data;
	     r > 0 && p != NULL && p < buf.data + buf.len;) {
		char *nl = memchr(p, '\n', (size_t)(buf.data + buf.len - p));

		if (nl != NULL)
			*nl = '\0';
		if (mstore_name_normalize(p, false, &norm, &err) > 0 &&
		    str_eq_cstr(&norm, p))
			str_append(names, p, strlen(p) + 1);
		p = nl != NULL ? nl + 1 : NULL;
	}
	str_deinit(&path);
	str_deinit(&buf);
	str_deinit(&norm);
	return r;
}

static int subs_write(struct mstore *s, const struct str *names)
{
	struct str path, buf;
	const char *err;
	int r = 1;

	str_init(&path, 0);
	str_init(&buf, names->len + 1);
	str_printf(&path, "%s/" MDIR_SUBSCRIPTIONS, s->user_root);
	for (const char *p = names->data; p < names->data + names->len;
	     p += strlen(p) + 1)
		str_printf(&buf, "%s\n", p);
	if (file_write_atomic(path.data, buf.data, buf.len, 0600, &err) < 0)
		r = mstore_error(s, "%s", err);
	str_deinit(&path);
	str_deinit(&buf);
	return r;
}

static int folder_cmp(const void *a, const void *b)
{
	const struct mstore_folder *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0,
	     yi = strcmp(y->name, "INBOX") == 0;

	if (xi || yi)
		return (int)yi - (int)xi;
	return strcmp(x->name, y->name);
}

static void special_use(struct flist *fl)
{
	static const struct {
		const char *name;
		unsigned attr;
	} su[] = {{"Sent", MSTORE_A_SENT},
		  {"Drafts", MSTORE_A_DRAFTS},
		  {"Trash", MSTORE_A_TRASH},
		  {"Junk", MSTORE_A_JUNK},
		  {"Archive", MSTORE_A_ARCHIVE}};
	void *pos;

	for (size_t i = 0; i < sizeof(su) / sizeof(su[0]); i++)
		if (htable_find(fl->idx, su[i].name, &pos) &&
		    (fl->v[(uintptr_t)pos - 1].attrs &
		     (MSTORE_A_NOSELECT | MSTORE_A_NONEXISTENT)) == 0)
			fl->v[(uintptr_t)pos - 1].attrs |= su[i].attr;
}

int mdir_list(struct mstore *s, struct mstore_folder **list_r, size_t *count_r)
{
	struct flist fl = {.idx = htable_new(64)};
	struct str subs;
	int r;

	str_init(&subs, 0);
	r = flist_add(s, &fl, "INBOX", 0);
	if (r > 0)
		r = scan_root(s, &fl, s->user_root, "");
	if (r > 0 && s->public_root != NULL) {
		r = flist_add(s, &fl, "Public", MSTORE_A_NOSELECT);
		if (r > 0)
			r = scan_root(s, &fl, s->public_root, "Public/");
	}
	if (r > 0)
		r = add_parents(s, &fl);
	if (r > 0)
		r = subs_read(s, &subs);
	for (const char *p = subs.data; r > 0 && p < subs.data + subs.len;
	     p += strlen(p) + 1)
		r = htable_find(fl.idx, p, NULL)
			? flist_add(s, &fl, p, MSTORE_A_SUBSCRIBED)
			: flist_add(s, &fl, p,
				    MSTORE_A_SUBSCRIBED | MSTORE_A_NONEXISTENT);
	special_use(&fl);
	htable_free(&fl.idx, NULL);
	str_deinit(&subs);
	if (r < 0) {
		mstore_folders_free(fl.v, fl.count);
		return -1;
	}
	qsort(fl.v, fl.count, sizeof(*fl.v), folder_cmp);
	*list_r = fl.v;
	*count_r = fl.count;
	return 1;
}

/* Removes name from (or adds it to the end of) the NUL-separated list. */
static bool subs_change(struct str *names, const char *name, bool on,
			size_t *count_r)
{
	struct str out;
	bool found = false;

	str_init(&out, names->len + strlen(name) + 2);
	*count_r = 0;
	for (const char *p = names->data; p < names->data + names->len;
	     p += strlen(p) + 1) {
		if (strcmp(p, name) == 0) {
			found = true;
			if (!on)
				continue;
		}
		str_append(&out, p, strlen(p) + 1);
		(*count_r)++;
	}
	if (on && !found) {
		str_append(&out, name, strlen(name) + 1);
		(*count_r)++;
	}
	str_deinit(names);
	*names = out;
	return found != on;
}

int mdir_subscribe(struct mstore *s, const char *name, bool on)
{
	struct str lock, names;
	size_t count;
	int fd, r;

	str_init(&lock, 0);
	str_init(&names, 0);
	str_printf(&lock, "%s/" MDIR_ROOT_LOCK, s->user_root);
	fd = mdir_lock_path(s, lock.data);
	r = fd < 0 ? -1 : subs_read(s, &names);
	if (r > 0 && subs_change(&names, name, on, &count)) {
		if (count > SUBSCRIPTIONS_MAX)
			r = mstore_error(s, "too many subscriptions");
		else
			r = subs_write(s, &names);
	}
	if (fd >= 0)
		close(fd);
	str_deinit(&lock);
	str_deinit(&names);
	return r;
}

int mdir_subscriptions_init(struct mstore *s, const char *const *names,
			    size_t count)
{
	struct str lock, path, list;
	int fd, r;

	str_init(&lock, 0);
	str_init(&path, 0);
	str_init(&list, 0);
	str_printf(&lock, "%s/" MDIR_ROOT_LOCK, s->user_root);
	str_printf(&path, "%s/" MDIR_SUBSCRIPTIONS, s->user_root);
	fd = mdir_lock_path(s, lock.data);
	r = fd < 0 ? -1 : 1;
	if (r > 0 && access(path.data, F_OK) < 0) {
		for (size_t i = 0; i < count; i++)
			str_append(&list, names[i], strlen(names[i]) + 1);
		r = subs_write(s, &list);
	}
	if (fd >= 0)
		close(fd);
	str_deinit(&lock);
	str_deinit(&path);
	str_deinit(&list);
	return r;
}

int mdir_children(struct mstore *s, const char *root, const char *dir,
		  struct str *names_r)
{
	size_t len = strlen(dir);
	struct dirent *e;
	DIR *d = opendir(root);

	if (d == NULL)
		return mstore_error_sys(s, "open", root);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, dir, len) == 0 &&
		    e->d_name[len] == '.' &&
		    (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN))
			str_append(names_r, e->d_name, strlen(e->d_name) + 1);
	closedir(d);
	return 1;
}
