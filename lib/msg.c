/* msg.c: the logging module (see msg.h). Each line is written with one
 * write(2) so that lines of concurrent processes do not interleave. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "msg.h"

#define MSG_LINE_MAX 4096
#define MSG_QID_MAX 64

static char msg_prog[64] = "postern";
static int msg_dests = MSG_DEST_STDERR;
static enum msg_level msg_min = MSG_INFO;
static int msg_fatal_code = 1;
static char msg_qid[MSG_QID_MAX];
static void (*msg_cleanup)(void);
static int msg_in_fatal;

static const char *const msg_level_names[] = {
	[MSG_DEBUG] = "debug", [MSG_INFO] = NULL, [MSG_WARN] = "warning",
	[MSG_ERROR] = "error", [MSG_FATAL] = "fatal", [MSG_PANIC] = "panic",
};

static const int msg_syslog_prio[] = {
	[MSG_DEBUG] = LOG_DEBUG, [MSG_INFO] = LOG_INFO, [MSG_WARN] = LOG_WARNING,
	[MSG_ERROR] = LOG_ERR, [MSG_FATAL] = LOG_CRIT, [MSG_PANIC] = LOG_CRIT,
};

void msg_init(const char *progname, int dests)
{
	snprintf(msg_prog, sizeof(msg_prog), "%s", progname);
	msg_dests = dests;
	if (dests & MSG_DEST_SYSLOG)
		openlog(msg_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

const char *msg_progname(void)
{
	return msg_prog;
}

void msg_set_level(enum msg_level level)
{
	msg_min = level;
}

void msg_set_fatal_exit(int code)
{
	msg_fatal_code = code;
}

void msg_set_queue_id(const char *queue_id)
{
	if (queue_id == NULL)
		msg_qid[0] = '\0';
	else
		msg_safe(msg_qid, sizeof(msg_qid), queue_id, strlen(queue_id));
}

void msg_set_cleanup(void (*cleanup)(void))
{
	msg_cleanup = cleanup;
}

void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
{
	char body[MSG_LINE_MAX];
	char line[MSG_LINE_MAX + 200];
	const char *lname = msg_level_names[level];
	int saved_errno = errno;
	int n;

	if (level < msg_min)
		return;
	vsnprintf(body, sizeof(body), fmt, ap);
	if (msg_dests & MSG_DEST_STDERR) {
		n = snprintf(line, sizeof(line), "%s: %s%s%s%s%s\n", msg_prog,
			     lname ? lname : "", lname ? ": " : "", msg_qid,
			     msg_qid[0] ? ": " : "", body);
		if (n > (int)sizeof(line) - 1) {
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* nowhere left to report it */
		}
	}
	if (msg_dests & MSG_DEST_SYSLOG)
		syslog(msg_syslog_prio[level], "%s%s%s%s%s", lname ? lname : "",
		       lname ? ": " : "", msg_qid, msg_qid[0] ? ": " : "", body);
	errno = saved_errno;
}

#define MSG_FN(name, level)                                                    \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		msg_vlog(level, fmt, ap);                                      \
		va_end(ap);                                                    \
	}
MSG_FN(msg_debug, MSG_DEBUG)
MSG_FN(msg_info, MSG_INFO)
MSG_FN(msg_warn, MSG_WARN)
MSG_FN(msg_error, MSG_ERROR)

static void msg_run_cleanup(void)
{
	if (msg_in_fatal++ == 0 && msg_cleanup != NULL)
		msg_cleanup();
}

void msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_FATAL, fmt, ap);
	va_end(ap);
	msg_run_cleanup();
	exit(msg_fatal_code);
}

void msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_PANIC, fmt, ap);
	va_end(ap);
	msg_run_cleanup();
	abort();
}

char *msg_safe(char *buf, size_t bufsize, const char *text, size_t n)
{
	size_t i;

	if (bufsize == 0)
		return buf;
	for (i = 0; i < n && i + 1 < bufsize; i++) {
		unsigned char c = (unsigned char)text[i];
		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}
