/* str.h: the one growable byte string, with explicit length.
 *
 * data is always NUL-terminated (data[len] == 0) so it can be passed to C
 * APIs, but may also hold NUL bytes inside: len is the truth. Growth is
 * overflow-checked; an optional max makes appends fail instead of growing
 * past a limit (for buffers fed by untrusted input).
 * Pointers into data go stale after any append. */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct str {
	char *data;
	size_t len;
	size_t cap; /* bytes allocated, including room for the NUL */
	size_t max; /* 0 = no limit; else appends beyond max bytes fail */
};

/* Embedded use: str_init() then str_deinit(). */
void str_init(struct str *s, size_t hint);
void str_deinit(struct str *s);
/* Heap use: str_new() then str_free(&s). */
struct str *str_new(size_t hint);
void str_free(struct str **sp);

/* Appends return 1 on success, -1 when the result would exceed s->max
 * (the string is then unchanged). */
int str_append(struct str *s, const void *p, size_t n);
int str_append_cstr(struct str *s, const char *cstr);
int str_putc(struct str *s, int c);
int str_printf(struct str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int str_vprintf(struct str *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

void str_clear(struct str *s);
void str_truncate(struct str *s, size_t len);
/* Replaces the content. */
int str_set(struct str *s, const void *p, size_t n);
/* Removes n bytes from the front (for consumed input). */
void str_consume(struct str *s, size_t n);
/* Returns data and gives up ownership; s is left empty with no buffer
 * (data NULL): it may be appended to again, and needs no str_deinit(). */
char *str_steal(struct str *s);
/* Lower-cases ASCII letters in place. */
void str_lower(struct str *s);
bool str_eq_cstr(const struct str *s, const char *cstr);

#endif
