/* t/unit/mime_util.h: helpers shared by the MIME tests (t/unit/mime.c,
 * t/unit/mime_section.c): messages written with "\n" and turned into
 * CRLF as imapd holds them, and asserts on the IMAP forms. Header-only so
 * each test stays one program. */
#ifndef POSTERN_T_MIME_UTIL_H
#define POSTERN_T_MIME_UTIL_H

#include <string.h>

#include "mime.h"
#include "str.h"
#include "tap.h"

struct msg {
	struct str data;
	struct mime_message *m;
};

static inline void msg_open_raw(struct msg *t, const char *data, size_t len,
				const struct mime_limits *limits)
{
	str_init(&t->data, len);
	str_append(&t->data, data, len);
	t->m = mime_parse(t->data.data, t->data.len, limits);
}

static inline void crlf(struct str *out, const char *lf)
{
	for (; *lf != '\0'; lf++) {
		if (*lf == '\n')
			str_putc(out, '\r');
		str_putc(out, *lf);
	}
}

static inline void msg_open(struct msg *t, const char *lf)
{
	str_init(&t->data, 0);
	crlf(&t->data, lf);
	t->m = mime_parse(t->data.data, t->data.len, NULL);
}

static inline void msg_close(struct msg *t)
{
	mime_message_free(&t->m);
	ok(t->m == NULL, "free clears the pointer");
	str_deinit(&t->data);
}

static inline void is_bs(const struct msg *t, bool ext, const char *want,
			 const char *name)
{
	struct str out;

	str_init(&out, 0);
	mime_imap_bodystructure(t->m, ext, &out);
	is_str(out.data, want, name);
	str_deinit(&out);
}

static inline void is_env(const struct msg *t, const char *want,
			  const char *name)
{
	struct str out;

	str_init(&out, 0);
	mime_imap_envelope(t->m, &out);
	is_str(out.data, want, name);
	str_deinit(&out);
}

/* want in "\n" notation (turned into CRLF) */
static inline void is_section(const struct msg *t, const char *section,
			      const char *want, const char *name)
{
	struct str out, w;
	const char *error = NULL;

	str_init(&out, 0);
	str_init(&w, 0);
	crlf(&w, want);
	is_int(mime_fetch_section(t->m, section, &out, &error), 1, name);
	is_mem(out.data, out.len, w.data, w.len, name);
	str_deinit(&out);
	str_deinit(&w);
}

static inline void is_bad_section(const struct msg *t, const char *section)
{
	struct str out, name;
	const char *error = NULL;

	str_init(&out, 0);
	str_init(&name, 0);
	for (const char *p = section; *p != '\0'; p++)
		str_putc(&name, *p == '\r' || *p == '\n' ? ' ' : *p);
	ok(mime_fetch_section(t->m, section, &out, &error) == -1 &&
	       error != NULL,
	   "section \"%s\" is a syntax error", name.data);
	str_deinit(&out);
	str_deinit(&name);
}

static inline void is_binary(const struct msg *t, const char *section, int ret,
			     const char *want, size_t want_len,
			     const char *name)
{
	struct str out;
	const char *error = NULL;

	str_init(&out, 0);
	is_int(mime_fetch_binary(t->m, section, &out, &error), ret, name);
	is_mem(out.data, out.len, want, want_len, name);
	str_deinit(&out);
}

static inline void is_header(const struct msg *t, const char *field, int ret,
			     const char *want)
{
	struct str out;

	str_init(&out, 0);
	is_int(mime_header_get(t->m, field, &out), ret, field);
	is_str(out.data, want, field);
	str_deinit(&out);
}

/* The part most messages below are made of (text/plain, us-ascii, 7bit;
 * size and lines follow), and the end of a BODYSTRUCTURE part without
 * extension data. */
#define PLAIN "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
#define NOEXT " NIL NIL NIL NIL)"
#define NIL_ENV "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

#endif
