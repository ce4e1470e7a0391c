/* sendmail.c: the sendmail(1) compatibility command (also run as mailq and
 * newaliases). It runs as the calling user, reads the message from standard
 * input, works out the envelope (sender from -f or the caller's login at
 * $myorigin; recipients from the command line and, with -t, the To:, Cc:
 * and Bcc: headers) and hands envelope and message to postdrop, which
 * writes maildrop/ (sendmail_stream.h has the stream); as mailq or with -bp
 * it lists the queue (sendmail_mailq.c); -bs speaks SMTP on standard
 * input and output (sendmail_smtp.c); as newaliases or with -bi it builds
 * the alias database (sendmail_aliases.c). Exit codes are sysexits(3).
 * See sendmail(1). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "file.h"
#include "mem.h"
#include "msg.h"
#include "sendmail.h"
#include "sendmail_headers.h"

static int usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "sendmail: %s\n", why);
	fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F name] "
			"[-N dsn] [-R ret] [-V envid] [-C dir] "
			"[recipient ...]\n"
			"       sendmail -bp | -bi | -q | -bs\n");
	return DROP_EX_USAGE;
}

static int fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* The envelope from the options and the command line. */
static int make_envelope(const struct sm_opts *o, struct conf *c,
			 struct drop_envelope *env)
{
	const char *origin = conf_get(c, "myorigin");
	struct passwd *pw = getpwuid(getuid());
	struct str s;
	const char *err;

	if (pw == NULL)
		return fail(DROP_EX_NOUSER, "unknown user id %ld",
			    (long)getuid());
	str_init(&s, 0);
	if (o->sender != NULL) {
		if (sendmail_qualify(o->sender, strlen(o->sender), origin, true,
				     &s, &err) < 0) {
			str_deinit(&s);
			return fail(DROP_EX_USAGE, "bad sender address: %s",
				    err);
		}
	} else {
		str_printf(&s, "%s@%s", pw->pw_name, origin);
	}
	env->sender = str_steal(&s);
	env->notify = o->notify;
	env->ret = o->ret;
	for (size_t i = 0; i < o->rcpt_count; i++) {
		str_init(&s, 0);
		if (sendmail_qualify(o->rcpts[i], strlen(o->rcpts[i]), origin,
				     false, &s, &err) < 0) {
			str_deinit(&s);
			return fail(DROP_EX_USAGE, "bad recipient address: %s",
				    err);
		}
		drop_envelope_add_rcpt(env, s.data);
		str_deinit(&s);
	}
	return 0;
}

int sm_postdrop_start(struct conf *c, const char *dir, bool flush, pid_t *pid_r)
{
	struct str path;
	int fds[2];
	pid_t pid;

	str_init(&path, 0);
	str_printf(&path, "%s/postdrop", conf_get(c, "command_directory"));
	if (pipe(fds) < 0) {
		str_deinit(&path);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		str_deinit(&path);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = {"postdrop", "-c", (char *)dir,
				flush ? "-q" : NULL, NULL};
		close(fds[1]);
		if (dup2(fds[0], 0) < 0)
			_exit(DROP_EX_OSERR);
		close(fds[0]);
		execv(path.data, argv);
		fprintf(stderr, "sendmail: cannot run %s: %s\n", path.data,
			strerror(errno));
		_exit(errno == ENOENT ? DROP_EX_UNAVAILABLE : DROP_EX_OSERR);
	}
	close(fds[0]);
	str_deinit(&path);
	*pid_r = pid;
	return fds[1];
}

int sm_postdrop_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(DROP_EX_OSERR, "waitpid: %s",
				    strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return fail(DROP_EX_SOFTWARE, "postdrop killed by signal %d",
		    WTERMSIG(status));
}

static int submit(const struct sm_opts *o, struct conf *c, const char *dir)
{
	struct drop_envelope env = {0};
	struct sm_input in;
	struct str out, scratch;
	const char *err;
	pid_t pid;
	int fd, ret;

	if ((ret = make_envelope(o, c, &env)) != 0) {
		drop_envelope_free(&env);
		return ret;
	}
	sm_input_init(&in, o->ignore_dots);
	str_init(&out, 0);
	if (sm_read_head(&in, o, conf_get(c, "myorigin"), &env, &out, &err) <
	    0) {
		ret = fail(o->extract ? DROP_EX_DATAERR : DROP_EX_IOERR, "%s",
			   err);
		goto out;
	}
	if (env.rcpt_count == 0) {
		ret = fail(o->extract ? DROP_EX_DATAERR : DROP_EX_USAGE,
			   "no recipient addresses%s",
			   o->extract ? " found in the message header" : "");
		goto out;
	}
	if (env.rcpt_count > DROP_RCPT_MAX) {
		ret = fail(DROP_EX_DATAERR, "more than %d recipients",
			   DROP_RCPT_MAX);
		goto out;
	}
	if (o->full_name != NULL)
		env.full_name = mem_strdup(o->full_name);
	if (o->envid != NULL)
		env.envid = mem_strdup(o->envid);
	/* Check the envelope here, where the error can be explained. */
	str_init(&scratch, 0);
	ret = drop_envelope_encode(&env, &scratch, &err);
	str_deinit(&scratch);
	if (ret < 0) {
		ret = fail(DROP_EX_DATAERR, "%s", err);
		goto out;
	}
	fd = sm_postdrop_start(c, dir, false, &pid);
	if (fd < 0) {
		ret = fail(DROP_EX_OSERR, "cannot start postdrop: %s",
			   strerror(errno));
		goto out;
	}
	/* A write error means postdrop gave up; its exit code says why. */
	if (sm_send(&in, &env, &out, fd, &err) < 0)
		msg_debug("%s", err);
	close(fd);
	ret = sm_postdrop_wait(pid);
out:
	str_deinit(&out);
	sm_input_deinit(&in);
	drop_envelope_free(&env);
	return ret;
}

/* -q: postdrop (which may reach public/) wakes qmgr and pickup. */
static int flush(struct conf *c, const char *dir)
{
	pid_t pid;
	int fd = sm_postdrop_start(c, dir, true, &pid);

	if (fd < 0)
		return fail(DROP_EX_OSERR, "cannot start postdrop: %s",
			    strerror(errno));
	close(fd);
	return sm_postdrop_wait(pid);
}

int main(int argc, char **argv)
{
	struct sm_opts o;
	const char *dir, *err;
	struct conf *c;
	int ret;

	msg_init("sendmail", MSG_DEST_STDERR);
	signal(SIGPIPE, SIG_IGN);
	ret = sm_parse_args(argc, argv, &o, &err);
	if (ret < 0) {
		mem_free(o.rcpts);
		return usage(err);
	}
	dir = conf_dir(o.config);
	c = conf_load_dir(dir, &err);
	if (c == NULL) {
		ret = fail(DROP_EX_UNAVAILABLE, "mail system not available: %s",
			   err);
	} else {
		ret = o.mode == SM_MAILQ	? sm_mailq(c)
		      : o.mode == SM_FLUSH	? flush(c, dir)
		      : o.mode == SM_NEWALIASES ? sm_newaliases(c, dir)
		      : o.mode == SM_SMTP	? sm_smtp(c, dir)
						: submit(&o, c, dir);
		conf_free(&c);
	}
	mem_free(o.rcpts);
	return ret;
}
