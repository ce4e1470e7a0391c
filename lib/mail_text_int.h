/* mail_text_int.h: UTF-8 helpers shared by mail_text.c, mail_text_fold.c
 * and the MIME code; not an API for other modules. */
#ifndef POSTERN_MAIL_TEXT_INT_H
#define POSTERN_MAIL_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "str.h"

/* Decodes one UTF-8 character at s[0..n) (n >= 1): returns its length
 * and sets *cp_r, or returns 0 when the bytes are not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
size_t mail_utf8_decode(const char *s, size_t n, uint32_t *cp_r);
/* Writes cp (<= U+10FFFF) as UTF-8 into buf (4 bytes room); returns the
 * length. */
size_t mail_utf8_encode(uint32_t cp, char *buf);
/* Appends raw header bytes as UTF-8: valid UTF-8 is kept, other 8-bit
 * bytes are read as windows-1252, CR and LF are dropped. */
void mail_text_append_raw(const char *in, size_t len, struct str *out);

#endif
