/* maildir.c: idempotent Maildir++ delivery (see maildir.h). local calls it
 * once per final mailbox of a recipient. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"

static char maildir_errbuf[512];

static int maildir_fail(const char *what, const char *path,
			const char **error_r)
{
	int saved = errno;

	snprintf(maildir_errbuf, sizeof(maildir_errbuf), "%s %s: %s", what,
		 path, strerror(saved));
	*error_r = maildir_errbuf;
	errno = saved;
	return -1;
}

void maildir_key(const char *queue_id, const char *recipient, struct str *out)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */

	for (const char *p = recipient; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ULL;
	}
	str_clear(out);
	str_printf(out, "Q%sR%016llx", queue_id, (unsigned long long)h);
}

/* mkdir that counts: 1 made, 0 existed, -1 error. */
static int make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 1;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return -1;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* Creates path and its missing parents, fsyncing each parent that got a
 * new entry. */
static int make_dirs(const char *path, const char **error_r)
{
	struct str p;
	int r = 0;
	char *slash;

	str_init(&p, 0);
	str_append_cstr(&p, path);
	for (size_t i = 1; r >= 0 && i <= p.len; i++) {
		if (i < p.len && p.data[i] != '/')
			continue;
		p.data[i] = '\0';
		r = make_dir(p.data);
		if (r > 0) {
			slash = strrchr(p.data, '/');
			if (slash != NULL && slash != p.data) {
				*slash = '\0';
				r = fsync_path(p.data);
				*slash = '/';
			}
		}
		if (i < p.len)
			p.data[i] = '/';
	}
	if (r < 0)
		maildir_fail("create folder", p.data, error_r);
	str_deinit(&p);
	return r < 0 ? -1 : 1;
}

int maildir_create(const char *path, const char **error_r)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	struct str p;
	int r = 1, made = 0, m;

	if (make_dirs(path, error_r) < 0)
		return -1;
	str_init(&p, 0);
	for (size_t i = 0; r > 0 && i < 3; i++) {
		str_clear(&p);
		str_printf(&p, "%s/%s", path, subs[i]);
		m = make_dir(p.data);
		if (m < 0)
			r = maildir_fail("create folder", p.data, error_r);
		made |= m;
	}
	if (r > 0 && made && fsync_path(path) < 0)
		r = maildir_fail("fsync", path, error_r);
	str_deinit(&p);
	return r;
}

/* Is there a cur/ entry named base or base:...? */
static int in_cur(const char *path, const char *base, const char **error_r)
{
	struct str p;
	size_t blen = strlen(base);
	struct dirent *e;
	DIR *dir;
	int found = 0;

	str_init(&p, 0);
	str_printf(&p, "%s/cur", path);
	dir = opendir(p.data);
	if (dir == NULL) {
		found =
		    errno == ENOENT ? 0 : maildir_fail("open", p.data, error_r);
		str_deinit(&p);
		return found;
	}
	while (found == 0 && (e = readdir(dir)) != NULL)
		if (strncmp(e->d_name, base, blen) == 0 &&
		    (e->d_name[blen] == '\0' || e->d_name[blen] == ':'))
			found = 1;
	closedir(dir);
	str_deinit(&p);
	return found;
}

static void name_append_host(struct str *out, const char *host)
{
	for (const char *h = host; *h != '\0'; h++) {
		if (*h == '/')
			str_append_cstr(out, "\\057");
		else if (*h == ':')
			str_append_cstr(out, "\\072");
		else
			str_putc(out, *h);
	}
}

/* Writes tmp, syncs it, links it into new/; 1 linked, 0 was there. */
static int deliver_tmp(const struct maildir_delivery *d, const char *tmp,
		       const char *final, maildir_write_fn *fn, void *ctx,
		       const char **error_r)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd, r;

	/* The name holds our pid: two deliveries of one message to one
	 * mailbox (two aliases) never share a tmp/ file; a stale one left
	 * by a dead process with our pid goes first. The folders are made
	 * (with their parents) when they turn out to be missing. */
	fd = open(tmp, flags, 0600);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, 0600);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		if (maildir_create(d->path, error_r) < 0)
			return -1;
		fd = open(tmp, flags, 0600);
	}
	if (fd < 0)
		return maildir_fail("create", tmp, error_r);
	r = fn(ctx, fd, error_r);
	if (r > 0 && fsync(fd) < 0)
		r = maildir_fail("fsync", tmp, error_r);
	if (close(fd) < 0 && r > 0)
		r = maildir_fail("close", tmp, error_r);
	if (r > 0) {
		int l = link(tmp, final);

		if (l < 0 && errno == ENOENT) { /* new/ is missing */
			if (maildir_create(d->path, error_r) < 0)
				r = -1;
			else
				l = link(tmp, final);
		}
		if (r > 0 && l < 0)
			r = errno == EEXIST
				? 0
				: maildir_fail("link", final, error_r);
	}
	(void)unlink(tmp);
	if (r > 0) {
		struct str nd;

		str_init(&nd, 0);
		str_printf(&nd, "%s/new", d->path);
		if (fsync_path(nd.data) < 0)
			r = maildir_fail("fsync", nd.data, error_r);
		str_deinit(&nd);
	}
	return r;
}

int maildir_deliver(const struct maildir_delivery *d, maildir_write_fn *fn,
		    void *ctx, const char **error_r)
{
	struct str base, tmp, final;
	struct stat st;
	int r;

	str_init(&base, 64);
	str_printf(&base, "%llu.%s.", (unsigned long long)d->seconds, d->key);
	name_append_host(&base, d->hostname);
	str_init(&tmp, 0);
	str_init(&final, 0);
	str_printf(&tmp, "%s/tmp/%s.P%ld", d->path, base.data, (long)getpid());
	str_printf(&final, "%s/new/%s", d->path, base.data);
	/* found: 1 in new/ or cur/, 0 not yet delivered, -1 error */
	if (lstat(final.data, &st) == 0)
		r = 1;
	else if (errno != ENOENT && errno != ENOTDIR)
		r = maildir_fail("stat", final.data, error_r);
	else
		r = d->check_cur ? in_cur(d->path, base.data, error_r) : 0;
	if (r == 0)
		r = deliver_tmp(d, tmp.data, final.data, fn, ctx, error_r);
	else if (r > 0)
		r = 0;
	str_deinit(&base);
	str_deinit(&tmp);
	str_deinit(&final);
	return r;
}
