/* t/unit/instance.c: tests for lib/instance.c: the folders of an instance
 * (created with their modes, problems reported and never "fixed"), the
 * pid file lock (a second master refused, "running" told without taking
 * the lock), and loading a configuration directory. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "file.h"
#include "instance.h"
#include "mem.h"
#include "str.h"
#include "tap.h"

static const char *err;

static struct conf *make_conf(const char *dir, const char *owner)
{
	struct str text;
	struct conf *c;

	str_init(&text, 0);
	str_printf(&text,
		   "queue_directory = %s/queue\ndata_directory = %s/data\n"
		   "mail_store = %s/mail\nmail_owner = %s\n"
		   "mail_store_owner = %s\nsetgid_group = root\n",
		   dir, dir, dir, owner, owner);
	c = conf_parse_buffer("test", text.data, text.len, 0, &err);
	str_deinit(&text);
	return c;
}

static mode_t mode_of(const char *dir, const char *name)
{
	struct str path;
	struct stat st;

	str_init(&path, 0);
	str_printf(&path, "%s/%s", dir, name);
	if (stat(path.data, &st) < 0)
		st.st_mode = 0;
	str_deinit(&path);
	return st.st_mode & 07777;
}

static void test_dirs(const char *dir, struct conf *c)
{
	struct instance_ids ids;
	struct str problems, path;

	str_init(&problems, 0);
	str_init(&path, 0);
	is_int(instance_ids(c, &ids, &err), 1, "ids");
	/* Pretend instance mode, whoever runs the test. */
	ids.root = false;
	ids.owner_uid = ids.store_uid = getuid();
	ids.owner_gid = ids.setgid_gid = ids.store_gid = getgid();
	ok(instance_check_dirs(c, &ids, false, &problems) >= 3,
	   "missing folders are problems when not creating");
	ok(strstr(problems.data, "/queue: No such file") != NULL,
	   "the problem names the folder");
	str_clear(&problems);
	is_int(instance_check_dirs(c, &ids, true, &problems), 0,
	       "every folder created");
	is_int(mode_of(dir, "queue"), 0755, "queue_directory 0755");
	is_int(mode_of(dir, "queue/maildrop"), 0730, "maildrop 0730");
	is_int(mode_of(dir, "queue/private"), 0700, "private 0700");
	is_int(mode_of(dir, "queue/public"), 0710, "public 0710");
	is_int(mode_of(dir, "queue/pid"), 0755, "pid 0755");
	is_int(mode_of(dir, "data"), 0700, "data_directory 0700");
	is_int(mode_of(dir, "mail"), 0700, "mail_store 0700");
	is_int(instance_check_dirs(c, &ids, true, &problems), 0,
	       "a second check finds nothing");
	str_printf(&path, "%s/queue/active", dir);
	chmod(path.data, 0777);
	is_int(instance_check_dirs(c, &ids, true, &problems), 1,
	       "a wrong mode is found");
	ok(strstr(problems.data, "active: mode 0777, expected 0700") != NULL,
	   "and described");
	is_int(mode_of(dir, "queue/active"), 0777, "but not changed");
	chmod(path.data, 0700);
	str_deinit(&problems);
	str_deinit(&path);
}

static void test_lock(struct conf *c)
{
	int fd = -1, fd2 = -1;
	pid_t pid;

	is_int(instance_running(c, &pid, &err), 0, "nothing runs yet");
	is_int(instance_lock(c, &fd, &err), 1, "lock taken");
	is_int(instance_running(c, &pid, &err), 1, "now it runs");
	is_int(pid, getpid(), "with our pid");
	is_int(instance_lock(c, &fd2, &err), 0, "a second lock is refused");
	ok(err && strstr(err, "already running") &&
	       strstr(err, "master.pid") != NULL,
	   "with a clear message: %s", err);
	is_int(instance_running(c, &pid, &err), 1,
	       "asking did not take the lock");
	close(fd);
	is_int(instance_running(c, &pid, &err), 0,
	       "closing the lock: not running, though the file is there");
	is_int(instance_lock(c, &fd, &err), 1, "a new master may lock it");
	close(fd);
}

static void test_load(const char *dir)
{
	struct master_cf *mcf = NULL;
	struct str path;
	struct conf *c;
	char *abs = NULL;

	str_init(&path, 0);
	str_printf(&path, "%s/cf", dir);
	mkdir(path.data, 0755);
	str_append_cstr(&path, "/main.cf");
	file_write_atomic(path.data, "max_use = 7\n", 12, 0644, &err);
	c = instance_load(path.data, &abs, &mcf, &err);
	ok(c == NULL, "a file is not a configuration directory");
	str_truncate(&path, path.len - strlen("/main.cf"));
	c = instance_load(path.data, &abs, &mcf, &err);
	ok(c == NULL && strstr(err, "master.cf") != NULL,
	   "master.cf is required: %s", err);
	c = instance_load(path.data, &abs, NULL, &err);
	ok(c != NULL, "main.cf alone when master.cf is not asked for");
	is_int(c ? conf_get_int(c, "max_use") : 0, 7, "main.cf read");
	ok(abs != NULL && abs[0] == '/', "absolute directory: %s", abs);
	conf_free(&c);
	mem_free(abs);
	str_deinit(&path);
}

static void test_ids(const char *dir)
{
	struct instance_ids ids;
	struct conf *c = make_conf(dir, "no-such-user-postern");

	is_int(instance_ids(c, &ids, &err), getuid() == 0 ? -1 : 1,
	       "a missing mail_owner matters only to root");
	if (getuid() == 0)
		ok(strstr(err, "mail_owner = no-such-user-postern") != NULL,
		   "named: %s", err);
	conf_free(&c);
	c = make_conf(dir, "root");
	is_int(instance_ids(c, &ids, &err), getuid() == 0 ? -1 : 1,
	       "root is refused as mail_owner");
	conf_free(&c);
}

int main(void)
{
	const char *dir = tap_tmpdir();
	struct conf *c = make_conf(dir, "nobody");

	ok(c != NULL, "configuration: %s", c ? "ok" : err);
	test_ids(dir);
	test_dirs(dir, c);
	test_lock(c);
	test_load(dir);
	conf_free(&c);
	return tap_done();
}
