/* msg.h: logging to stderr or syslog, with the program name and queue ID.
 *
 * Levels: debug < info < warn < error. msg_fatal() logs and exits with the
 * fatal exit code (default 1; the environment is broken, not the program);
 * msg_panic() logs and abort()s (a bug: leave a core). Log text derived from
 * input must go through msg_safe() first. Not thread-safe; Postern daemons
 * are single-threaded. */
#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H

#include <stdarg.h>
#include <stddef.h>

enum msg_level { MSG_DEBUG, MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL, MSG_PANIC };

enum msg_dest {
	MSG_DEST_STDERR = 1,
	MSG_DEST_SYSLOG = 2,
};

/* progname: shown in every line (postern/smtpd, postern map, ...). */
void msg_init(const char *progname, int dests);
const char *msg_progname(void);
/* Lines below this level are dropped (default MSG_INFO). */
void msg_set_level(enum msg_level level);
/* Exit code used by msg_fatal() (default 1). */
void msg_set_fatal_exit(int code);
/* Queue ID prefixed to lines as "ID: " until cleared with NULL. */
void msg_set_queue_id(const char *queue_id);
/* Called just before exit/abort (e.g. to remove temporary files). */
void msg_set_cleanup(void (*cleanup)(void));

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Copies at most n bytes of untrusted text into buf (size bufsize) with
 * control characters and DEL shown as '?'; always NUL-terminates; returns buf. */
char *msg_safe(char *buf, size_t bufsize, const char *text, size_t n);

#endif
