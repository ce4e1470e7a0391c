/* mem.c: checked allocation helpers used by every module. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"

void *mem_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *mem_calloc(size_t count, size_t size)
{
	return mem_alloc(size_mul(count, size));
}

void *mem_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		msg_fatal("out of memory reallocating %zu bytes", size);
	return p;
}

void *mem_memdup(const void *src, size_t len)
{
	char *p = mem_alloc(size_add(len, 1));

	if (len > 0)
		memcpy(p, src, len);
	return p;
}

char *mem_strndup(const char *s, size_t len)
{
	return mem_memdup(s, strnlen(s, len));
}

char *mem_strdup(const char *s)
{
	return mem_memdup(s, strlen(s));
}

void mem_free_ptr(void **pp)
{
	free(*pp);
	*pp = NULL;
}

void mem_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

size_t size_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		msg_panic("size overflow: %zu + %zu", a, b);
	return a + b;
}

size_t size_mul(size_t a, size_t b)
{
	if (b != 0 && a > SIZE_MAX / b)
		msg_panic("size overflow: %zu * %zu", a, b);
	return a * b;
}
