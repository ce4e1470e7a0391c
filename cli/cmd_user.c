/* cmd_user.c: `postern user add|passwd|del|list`: the users table
 * (users_table, lib/users.h). The password comes from a prompt without
 * echo (asked twice) when standard input is a terminal, else from the
 * first line of standard input. Edits hold a lock (users_table + ".lock")
 * and replace the file atomically with mode 0600; the auth daemon sees the
 * change on its next request. See postern-user(1). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "conf.h"
#include "instance.h"
#include "lifecycle.h"
#include "mem.h"
#include "num.h"
#include "users.h"

struct user_cmd {
	struct conf *conf;
	const char *path;
	const char *domain;
	struct users *users;
	struct str address;
};

static int usage(void)
{
	fprintf(stderr, "usage: postern user add [-q QUOTA] ADDRESS\n"
			"       postern user passwd ADDRESS\n"
			"       postern user del ADDRESS\n"
			"       postern user list\n");
	return LIFECYCLE_EXIT_USAGE;
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "postern user: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	return LIFECYCLE_EXIT_FAIL;
}

/* Saves the table. Run by root, the file goes to mail_owner: the auth
 * daemon runs as that user and must read it (nobody else may). */
static int save(struct user_cmd *uc, const char **error_r)
{
	struct instance_ids ids;

	if (users_save(uc->users, uc->path, error_r) < 0)
		return -1;
	if (geteuid() != 0)
		return 1;
	if (instance_ids(uc->conf, &ids, error_r) < 0)
		return -1;
	if (chown(uc->path, ids.owner_uid, ids.owner_gid) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 1;
}

/* One line from fd into pw (no terminator kept). -1 if too long/empty. */
static int read_line(int fd, struct str *pw)
{
	char ch;
	ssize_t n;

	str_clear(pw);
	while ((n = read(fd, &ch, 1)) == 1 && ch != '\n') {
		if (pw->len >= USERS_PASSWORD_MAX)
			return -1;
		str_putc(pw, ch);
	}
	if (n < 0)
		return -1;
	if (pw->len > 0 && pw->data[pw->len - 1] == '\r')
		str_truncate(pw, pw->len - 1);
	return pw->len > 0 && strlen(pw->data) == pw->len ? 1 : -1;
}

static int prompt(const char *text, struct str *pw)
{
	struct termios old, quiet;
	int r;

	fputs(text, stderr);
	fflush(stderr);
	if (tcgetattr(0, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	(void)tcsetattr(0, TCSAFLUSH, &quiet);
	r = read_line(0, pw);
	(void)tcsetattr(0, TCSAFLUSH, &old);
	fputs("\n", stderr);
	return r;
}

static int read_password(struct str *pw, const char **error_r)
{
	struct str again;
	int r = 1;

	if (!isatty(0)) {
		if (read_line(0, pw) < 0) {
			*error_r = "expected one non-empty password line (at "
				   "most 1024 bytes) on standard input";
			return -1;
		}
		return 1;
	}
	str_init(&again, 64);
	if (prompt("New password: ", pw) < 0 ||
	    prompt("Retype new password: ", &again) < 0) {
		*error_r = "empty or too long password";
		r = -1;
	} else if (!str_eq_cstr(pw, again.data)) {
		*error_r = "the passwords differ";
		r = -1;
	}
	OPENSSL_cleanse(again.data, again.len);
	str_deinit(&again);
	return r;
}

/* "1000", "10K", "5M", "2G" (powers of 1024). */
static int parse_quota(const char *s, uint64_t *q_r)
{
	size_t n = strspn(s, "0123456789");
	uint64_t mul = 1;

	if (n == 0 ||
	    num_parse_u64(s, n, UINT64_MAX / 1024 / 1024 / 1024, q_r) <= 0)
		return -1;
	if (s[n] != '\0') {
		const char *u = strchr("KMG", s[n] & ~0x20);

		if (u == NULL || s[n + 1] != '\0')
			return -1;
		for (const char *p = "KMG"; p <= u; p++)
			mul *= 1024;
	}
	*q_r *= mul;
	return 1;
}

static int set_password(struct user_cmd *uc, bool adding, bool quota_set,
			uint64_t quota)
{
	struct str pw, hash;
	const char *err;
	int r = LIFECYCLE_EXIT_FAIL;

	if (adding && users_find(uc->users, uc->address.data) != NULL)
		return fail(uc->address.data, "exists already (use passwd)");
	if (!adding && users_find(uc->users, uc->address.data) == NULL)
		return fail(uc->address.data, "no such user");
	str_init(&pw, 64);
	str_init(&hash, 128);
	if (read_password(&pw, &err) < 0 ||
	    users_password_hash(pw.data, &hash, &err) < 0) {
		fail(err, NULL);
	} else {
		users_set(uc->users, uc->address.data, hash.data, quota_set,
			  quota);
		if (save(uc, &err) < 0)
			fail(err, NULL);
		else
			r = 0;
	}
	OPENSSL_cleanse(pw.data, pw.len);
	str_deinit(&pw);
	str_deinit(&hash);
	return r;
}

static int run(struct user_cmd *uc, int argc, char **argv)
{
	const char *verb = argv[1], *err;
	bool quota_set = false;
	uint64_t quota = 0;
	int i = 2;

	if (strcmp(verb, "list") == 0) {
		if (argc != 2)
			return usage();
		for (size_t k = 0; k < users_count(uc->users); k++) {
			const struct user_entry *e = users_at(uc->users, k);

			if (e->quota > 0)
				printf("%s %llu\n", e->address,
				       (unsigned long long)e->quota);
			else
				printf("%s -\n", e->address);
		}
		return 0;
	}
	if (strcmp(verb, "add") == 0 && argc == 5 &&
	    strcmp(argv[2], "-q") == 0) {
		if (parse_quota(argv[3], &quota) < 0)
			return fail("bad quota (a number with K, M or G)",
				    argv[3]);
		quota_set = true;
		i = 4;
	}
	if (argc != i + 1)
		return usage();
	if (users_canonical(argv[i], strlen(argv[i]), uc->domain, &uc->address,
			    &err) < 0)
		return fail(argv[i], err);
	if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0)
		return set_password(uc, verb[0] == 'a', quota_set, quota);
	if (strcmp(verb, "del") != 0)
		return usage();
	if (users_delete(uc->users, uc->address.data) == 0)
		return fail(uc->address.data, "no such user");
	if (save(uc, &err) < 0)
		return fail(err, NULL);
	return 0;
}

/* Serializes editors; the lock goes when the process does. */
static int lock_table(const char *path, const char **error_r)
{
	struct str lp;
	int fd;

	str_init(&lp, 128);
	str_printf(&lp, "%s.lock", path);
	fd = open(lp.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	str_deinit(&lp);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return fd;
}

int cmd_user_main(int argc, char **argv)
{
	struct user_cmd uc = {0};
	struct str cf;
	struct conf *c;
	const char *err;
	int r, lock = -1;

	if (argc < 2)
		return usage();
	str_init(&cf, 128);
	str_printf(&cf, "%s/main.cf", conf_dir(postern_config_dir));
	c = conf_load(cf.data, &err);
	str_deinit(&cf);
	if (c == NULL)
		return fail(err, NULL);
	uc.conf = c;
	uc.path = users_table_path(conf_get(c, "users_table"), &err);
	uc.domain = conf_get(c, "mydomain");
	str_init(&uc.address, 64);
	if (uc.path == NULL)
		r = fail(err, NULL);
	else if (strcmp(argv[1], "list") != 0 &&
		 (lock = lock_table(uc.path, &err)) < 0)
		r = fail("cannot lock the users table", err);
	else if (users_load(uc.path, &uc.users, &err) < 0)
		r = fail(err, NULL);
	else
		r = run(&uc, argc, argv);
	if (lock >= 0)
		close(lock);
	users_free(&uc.users);
	str_deinit(&uc.address);
	conf_free(&c);
	return r;
}
