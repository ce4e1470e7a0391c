/* str.c: growable byte strings (see str.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "str.h"

void str_init(struct str *s, size_t hint)
{
	s->cap = size_add(hint, 1);
	s->data = mem_alloc(s->cap);
	s->len = 0;
	s->max = 0;
}

void str_deinit(struct str *s)
{
	mem_free(s->data);
	s->len = s->cap = 0;
}

struct str *str_new(size_t hint)
{
	struct str *s = mem_alloc(sizeof(*s));

	str_init(s, hint);
	return s;
}

void str_free(struct str **sp)
{
	if (*sp == NULL)
		return;
	str_deinit(*sp);
	mem_free(*sp);
}

/* Makes room for n more bytes plus the NUL. */
static int str_reserve(struct str *s, size_t n)
{
	size_t need = size_add(size_add(s->len, n), 1);
	size_t cap;

	if (s->max != 0 && size_add(s->len, n) > s->max)
		return -1;
	if (need <= s->cap)
		return 1;
	cap = s->cap < 16 ? 16 : s->cap;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	s->data = mem_realloc(s->data, cap);
	s->cap = cap;
	return 1;
}

int str_append(struct str *s, const void *p, size_t n)
{
	if (str_reserve(s, n) < 0)
		return -1;
	if (n > 0)
		memmove(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
	return 1;
}

int str_append_cstr(struct str *s, const char *cstr)
{
	return str_append(s, cstr, strlen(cstr));
}

int str_putc(struct str *s, int c)
{
	char ch = (char)c;

	return str_append(s, &ch, 1);
}

int str_vprintf(struct str *s, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (s->data == NULL) /* after str_steal() */
		str_reserve(s, 0);
	va_copy(ap2, ap);
	n = vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		msg_panic("str_vprintf: bad format \"%s\"", fmt);
	if ((size_t)n >= s->cap - s->len) {
		if (str_reserve(s, (size_t)n) < 0) {
			s->data[s->len] = '\0';
			return -1;
		}
		n = vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
	} else if (s->max != 0 && s->len + (size_t)n > s->max) {
		s->data[s->len] = '\0';
		return -1;
	}
	s->len += (size_t)n;
	return 1;
}

int str_printf(struct str *s, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = str_vprintf(s, fmt, ap);
	va_end(ap);
	return ret;
}

void str_clear(struct str *s)
{
	str_truncate(s, 0);
}

void str_truncate(struct str *s, size_t len)
{
	if (len < s->len) {
		s->len = len;
		s->data[len] = '\0';
	}
}

int str_set(struct str *s, const void *p, size_t n)
{
	if (s->max != 0 && n > s->max)
		return -1;
	str_clear(s);
	return str_append(s, p, n);
}

void str_consume(struct str *s, size_t n)
{
	if (n >= s->len) {
		str_clear(s);
		return;
	}
	memmove(s->data, s->data + n, s->len - n);
	s->len -= n;
	s->data[s->len] = '\0';
}

char *str_steal(struct str *s)
{
	char *p = s->data;

	s->data = NULL;
	s->len = s->cap = 0;
	return p;
}

void str_lower(struct str *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (s->data[i] >= 'A' && s->data[i] <= 'Z')
			s->data[i] = (char)(s->data[i] - 'A' + 'a');
}

bool str_eq_cstr(const struct str *s, const char *cstr)
{
	size_t n = strlen(cstr);

	return n == s->len && (n == 0 || memcmp(s->data, cstr, n) == 0);
}
