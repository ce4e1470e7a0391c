/* mem.h: allocation that never returns NULL, and overflow-checked size arithmetic.
 *
 * Every allocation is zeroed. On exhaustion the process logs a fatal error and
 * exits (msg_fatal): a long-running daemon is restarted by the master.
 * size_add()/size_mul() abort (msg_panic) on overflow: callers validate input
 * sizes first, so an overflow here is a bug. */
#ifndef POSTERN_MEM_H
#define POSTERN_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t count, size_t size);
/* Grows or shrinks; new bytes are NOT zeroed. */
void *mem_realloc(void *ptr, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t len);
void *mem_memdup(const void *p, size_t len);
/* Frees *pp and sets it to NULL. */
void mem_free_ptr(void **pp);
#define mem_free(p) mem_free_ptr((void **)&(p))
/* Wipes len bytes (not optimised away), then frees. */
void mem_free_secret(void *p, size_t len);

size_t size_add(size_t a, size_t b);
size_t size_mul(size_t a, size_t b);

#endif
