/* instance.c: the on-disk layout of an instance, its owners, and the
 * master's pid file lock (see instance.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance.h"
#include "mem.h"
#include "privs.h"

/* Bytes of a pid file read back; a pid is at most 10 digits. */
#define INSTANCE_PID_MAX 32

enum dir_owner {
	OWN_ROOT,  /* root (the invoking user in instance mode) */
	OWN_MAIL,  /* mail_owner, its group */
	OWN_DROP,  /* mail_owner, setgid_group */
	OWN_STORE, /* mail_store_owner */
};

/* Which folders an instance has. base: the parameter naming the parent;
 * name NULL is the folder of that parameter itself. */
static const struct instance_dir {
	const char *base;
	const char *name;
	mode_t mode;
	enum dir_owner owner;
} instance_dirs[] = {
    {"queue_directory", NULL, 0755, OWN_ROOT},
    {"queue_directory", "pid", 0755, OWN_ROOT},
    {"queue_directory", "maildrop", 0730, OWN_DROP},
    {"queue_directory", "incoming", 0700, OWN_MAIL},
    {"queue_directory", "active", 0700, OWN_MAIL},
    {"queue_directory", "deferred", 0700, OWN_MAIL},
    {"queue_directory", "hold", 0700, OWN_MAIL},
    {"queue_directory", "corrupt", 0700, OWN_MAIL},
    {"queue_directory", "bounce", 0700, OWN_MAIL},
    {"queue_directory", "defer", 0700, OWN_MAIL},
    {"queue_directory", "private", 0700, OWN_MAIL},
    {"queue_directory", "public", 0710, OWN_DROP},
    {"data_directory", NULL, 0700, OWN_MAIL},
    {"mail_store", NULL, 0700, OWN_STORE},
};

static char instance_errbuf[PATH_MAX + 256];

static const char *instance_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *instance_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(instance_errbuf, sizeof(instance_errbuf), fmt, ap);
	va_end(ap);
	return instance_errbuf;
}

struct conf *instance_load(const char *override, char **dir_r,
			   struct master_cf **mcf_r, const char **error_r)
{
	const char *dir = conf_dir(override);
	char *abs = realpath(dir, NULL);
	struct conf *c;
	struct str path;

	if (abs == NULL) {
		*error_r = instance_error("configuration directory %s: %s", dir,
					  strerror(errno));
		return NULL;
	}
	c = conf_load_dir(abs, error_r);
	if (c != NULL && mcf_r != NULL) {
		str_init(&path, 0);
		str_printf(&path, "%s/master.cf", abs);
		*mcf_r = master_cf_load(path.data, c, error_r);
		str_deinit(&path);
		if (*mcf_r == NULL)
			conf_free(&c);
	}
	if (c == NULL) {
		free(abs);
		return NULL;
	}
	*dir_r = mem_strdup(abs);
	free(abs);
	return c;
}

static int lookup_user(struct conf *c, const char *param, uid_t *uid_r,
		       gid_t *gid_r, const char **error_r)
{
	const char *name = conf_get(c, param);

	if (privs_user(name, uid_r, gid_r, error_r) <= 0) {
		*error_r = instance_error("%s = %s: %s", param, name, *error_r);
		return -1;
	}
	if (*uid_r == 0) {
		*error_r = instance_error("%s = %s: a user with uid 0 cannot "
					  "be the mail system's user",
					  param, name);
		return -1;
	}
	return 1;
}

int instance_ids(struct conf *c, struct instance_ids *ids_r,
		 const char **error_r)
{
	const char *group = conf_get(c, "setgid_group");

	memset(ids_r, 0, sizeof(*ids_r));
	ids_r->root = privs_is_root();
	if (!ids_r->root) {
		ids_r->owner_uid = ids_r->store_uid = getuid();
		ids_r->owner_gid = ids_r->setgid_gid = ids_r->store_gid =
		    getgid();
		return 1;
	}
	if (lookup_user(c, "mail_owner", &ids_r->owner_uid, &ids_r->owner_gid,
			error_r) < 0 ||
	    lookup_user(c, "mail_store_owner", &ids_r->store_uid,
			&ids_r->store_gid, error_r) < 0)
		return -1;
	if (privs_group(group, &ids_r->setgid_gid, error_r) <= 0) {
		*error_r =
		    instance_error("setgid_group = %s: %s", group, *error_r);
		return -1;
	}
	return 1;
}

static void dir_ids(const struct instance_dir *d,
		    const struct instance_ids *ids, uid_t *uid_r, gid_t *gid_r)
{
	*uid_r = ids->owner_uid;
	*gid_r = ids->owner_gid;
	switch (d->owner) {
	case OWN_ROOT:
		*uid_r = ids->root ? 0 : ids->owner_uid;
		*gid_r = ids->root ? 0 : ids->owner_gid;
		break;
	case OWN_MAIL:
		break;
	case OWN_DROP:
		*uid_r = ids->owner_uid;
		*gid_r = ids->setgid_gid;
		break;
	case OWN_STORE:
		*uid_r = ids->store_uid;
		*gid_r = ids->store_gid;
		break;
	}
}

static int dir_create(const char *path, mode_t mode, uid_t uid, gid_t gid,
		      struct str *problems)
{
	if (mkdir(path, 0700) < 0) {
		str_printf(problems, "%s: cannot create: %s\n", path,
			   strerror(errno));
		return 1;
	}
	/* Owner first, mode last: the folder is never open to others
	 * before it belongs to the right user. */
	if ((privs_is_root() && chown(path, uid, gid) < 0) ||
	    chmod(path, mode) < 0) {
		str_printf(problems, "%s: cannot set owner or mode: %s\n", path,
			   strerror(errno));
		return 1;
	}
	return 0;
}

static int dir_check(const struct instance_dir *d, const char *path,
		     const struct instance_ids *ids, bool create,
		     struct str *problems)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	dir_ids(d, ids, &uid, &gid);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && create)
			return dir_create(path, d->mode, uid, gid, problems);
		str_printf(problems, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		str_printf(problems, "%s: not a directory\n", path);
		return 1;
	}
	if (st.st_uid != uid || st.st_gid != gid) {
		str_printf(problems, "%s: owner %ld:%ld, expected %ld:%ld\n",
			   path, (long)st.st_uid, (long)st.st_gid, (long)uid,
			   (long)gid);
		return 1;
	}
	if ((st.st_mode & 07777) != d->mode) {
		str_printf(problems, "%s: mode %04o, expected %04o\n", path,
			   (unsigned int)(st.st_mode & 07777),
			   (unsigned int)d->mode);
		return 1;
	}
	return 0;
}

int instance_check_dirs(struct conf *c, const struct instance_ids *ids,
			bool create, struct str *problems)
{
	struct str path;
	int count = 0;

	str_init(&path, 0);
	for (size_t i = 0; i < sizeof(instance_dirs) / sizeof(instance_dirs[0]);
	     i++) {
		const struct instance_dir *d = &instance_dirs[i];
		const char *base = conf_get(c, d->base);
		if (base[0] != '/') {
			if (d->name == NULL) {
				str_printf(problems,
					   "%s = %s: not an absolute "
					   "path\n",
					   d->base, base);
				count++;
			}
			continue;
		}
		str_clear(&path);
		str_printf(&path, "%s%s%s", base, d->name ? "/" : "",
			   d->name ? d->name : "");
		count += dir_check(d, path.data, ids, create, problems);
	}
	str_deinit(&path);
	return count;
}

static char *queue_path(struct conf *c, const char *name)
{
	struct str s;

	str_init(&s, 0);
	str_printf(&s, "%s/pid/%s", conf_get(c, "queue_directory"), name);
	return str_steal(&s);
}

char *instance_pid_path(struct conf *c)
{
	return queue_path(c, "master.pid");
}

char *instance_status_path(struct conf *c)
{
	return queue_path(c, "master.sock");
}

/* The pid written in the file, or 0 when it holds none. */
static pid_t read_pid(int fd)
{
	char buf[INSTANCE_PID_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

static struct flock whole_file(short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fl;
}

int instance_lock(struct conf *c, int *fd_r, const char **error_r)
{
	char *path = instance_pid_path(c);
	struct flock fl = whole_file(F_WRLCK);
	char buf[INSTANCE_PID_MAX];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		*error_r = instance_error("open %s: %s", path, strerror(errno));
		mem_free(path);
		return -1;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;
		if (err == EAGAIN || err == EACCES)
			*error_r =
			    instance_error("the master of this instance "
					   "is already running (pid %ld, "
					   "lock %s)",
					   (long)read_pid(fd), path);
		else
			*error_r =
			    instance_error("lock %s: %s", path, strerror(err));
		close(fd);
		mem_free(path);
		return err == EAGAIN || err == EACCES ? 0 : -1;
	}
	n = snprintf(buf, sizeof(buf), "%10ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		*error_r =
		    instance_error("write %s: %s", path, strerror(errno));
		close(fd);
		mem_free(path);
		return -1;
	}
	mem_free(path);
	*fd_r = fd;
	return 1;
}

int instance_running(struct conf *c, pid_t *pid_r, const char **error_r)
{
	char *path = instance_pid_path(c);
	struct flock fl = whole_file(F_WRLCK);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	*pid_r = 0;
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
		if (ret < 0)
			*error_r = instance_error("open %s: %s", path,
						  strerror(errno));
		mem_free(path);
		return ret;
	}
	/* F_OFD_GETLK only asks: it never takes the lock, so it cannot make
	 * a master that is starting right now fail. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
		*error_r =
		    instance_error("lock test %s: %s", path, strerror(errno));
		ret = -1;
	} else if (fl.l_type == F_UNLCK) {
		ret = 0;
	} else {
		*pid_r = read_pid(fd);
		ret = 1;
	}
	close(fd);
	mem_free(path);
	return ret;
}
