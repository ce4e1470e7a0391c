/* t/unit/mstore_util.c: helpers for the mail store unit tests (see
 * mstore_util.h). */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "maildir.h"
#include "mstore_util.h"
#include "str.h"
#include "tap.h"

const char *t_path(const char *fmt, ...)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

const char *t_user_root(const char *user)
{
	static char roots[4][512];
	static char users[4][64];

	for (int i = 0; i < 4; i++) {
		if (users[i][0] == '\0') {
			snprintf(users[i], sizeof(users[i]), "%s", user);
			snprintf(roots[i], sizeof(roots[i]),
				 "%s/store/example.org/%s", tap_tmpdir(), user);
		}
		if (strcmp(users[i], user) == 0)
			return roots[i];
	}
	return "/nonexistent";
}

const char *t_public_root(void)
{
	static char root[512];

	snprintf(root, sizeof(root), "%s/store/Public", tap_tmpdir());
	return root;
}

const char *t_show(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];
	size_t len = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	     *p != '\0' && len + 5 < sizeof(bufs[0]); p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '#' || *p == '\\')
			len += (size_t)snprintf(b + len, 5, "\\x%02x", *p);
		else
			b[len++] = (char)*p;
	}
	b[len] = '\0';
	return b;
}

struct mstore *t_store_open(const char *user)
{
	struct mstore_settings set = {
	    .user_root = t_user_root(user),
	    .public_root = t_public_root(),
	    .hostname = "mx.test",
	};
	struct mstore *s = NULL;
	const char *err = NULL;

	if (mstore_open(&set, &s, &err) < 0) {
		printf("Bail out! mstore_open: %s\n", err);
		exit(1);
	}
	return s;
}

static int write_body(void *ctx, int fd, const char **error_r)
{
	return file_write_all(fd, ctx, strlen(ctx), error_r);
}

int t_deliver(const char *path, unsigned n, const char *body)
{
	struct maildir_delivery d = {.path = path, .hostname = "mx.test"};
	char qid[32];
	struct str key;
	const char *err;
	int r;

	str_init(&key, 0);
	snprintf(qid, sizeof(qid), "Q%08u", n);
	maildir_key(qid, "alice@example.org", &key);
	d.key = key.data;
	d.seconds = 1700000000u + n;
	r = maildir_deliver(&d, write_body, (void *)body, &err);
	if (r < 0)
		tap_diag("deliver: %s", err);
	str_deinit(&key);
	return r;
}

int t_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

bool t_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

const char *t_uids(struct mstore_mailbox *mb)
{
	static char buf[4096];
	size_t count, len = 0;
	const struct mstore_msg *m = mstore_messages(mb, &count);

	buf[0] = '\0';
	for (size_t i = 0; i < count && len + 16 < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i > 0 ? "," : "", m[i].uid);
	return buf;
}

const char *t_only_file(const char *dir)
{
	static char name[512];
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	name[0] = '\0';
	if (d == NULL)
		return name;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && n++ == 0)
			snprintf(name, sizeof(name), "%s", e->d_name);
	closedir(d);
	if (n != 1)
		name[0] = '\0';
	return name;
}

struct mstore_mailbox *t_mb_open(struct mstore *s, const char *name,
				 bool readonly)
{
	struct mstore_mailbox *mb = NULL;
	const char *err = NULL;
	int r = mstore_mailbox_open(s, name, readonly, &mb, &err);

	if (r <= 0) {
		printf("Bail out! open %s: %d %s\n", name, r, err ? err : "");
		exit(1);
	}
	return mb;
}
