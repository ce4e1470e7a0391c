/* conf_lines.c: the logical-line reader that main.cf and master.cf share
 * (see conf_internal.h). It sees raw file bytes, so it is where binary junk,
 * NUL bytes and over-long lines are turned into "file:line: ..." errors
 * before any parser looks at the text. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "conf_internal.h"
#include "file.h"
#include "msg.h"

static struct str lines_error;

static int lines_fail(const char **error_r, const char *origin, int lineno,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int lines_fail(const char **error_r, const char *origin, int lineno,
		      const char *fmt, ...)
{
	va_list ap;

	if (lines_error.data == NULL)
		str_init(&lines_error, 128);
	str_clear(&lines_error);
	str_printf(&lines_error, "%s:%d: ", origin, lineno);
	va_start(ap, fmt);
	str_vprintf(&lines_error, fmt, ap);
	va_end(ap);
	*error_r = lines_error.data;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Config files are text: a control byte means a binary or corrupted file,
 * and would corrupt the log lines and files we derive from the values. */
static int check_bytes(const char *origin, int lineno, const char *line,
		       size_t len, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == 0)
			return lines_fail(error_r, origin, lineno,
					  "NUL byte in line (is this a "
					  "binary file?)");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return lines_fail(error_r, origin, lineno,
					  "control character 0x%02x in line",
					  c);
	}
	return 1;
}

struct lines_state {
	const char *origin;
	struct str logical;
	int start; /* line number of the logical line, 0 = none yet */
};

/* Adds one physical line (trailing blanks and CR already gone). */
static int lines_add(struct lines_state *st, const char *line, size_t len,
		     int lineno, const char **error_r)
{
	size_t lead = 0;

	while (lead < len && blank(line[lead]))
		lead++;
	if (lead == len || line[lead] == '#')
		return 0;
	if (lead == 0) {
		str_set(&st->logical, line, len);
		st->start = lineno;
		return 1;
	}
	if (st->start == 0)
		return lines_fail(error_r, st->origin, lineno,
				  "continuation line (it starts with blank "
				  "space) without a line to continue");
	str_putc(&st->logical, ' ');
	str_append(&st->logical, line + lead, len - lead);
	if (st->logical.len > CONF_LINE_MAX)
		return lines_fail(error_r, st->origin, st->start,
				  "logical line is longer than %d bytes",
				  CONF_LINE_MAX);
	return 0;
}

int conf_lines_parse(const char *origin, const char *buf, size_t len,
		     int (*fn)(void *ctx, const char *line, size_t len,
			       int lineno, const char **error_r),
		     void *ctx, const char **error_r)
{
	struct lines_state st = {.origin = origin};
	size_t pos = 0;
	int lineno = 0, ret = 1;

	str_init(&st.logical, 256);
	while (pos < len && ret > 0) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t plen = nl ? (size_t)(nl - line) : len - pos;

		pos += plen + (nl ? 1 : 0);
		lineno++;
		if (plen > CONF_LINE_MAX) {
			ret = lines_fail(error_r, origin, lineno,
					 "line is longer than %d bytes",
					 CONF_LINE_MAX);
			break;
		}
		if (plen > 0 && line[plen - 1] == '\r')
			plen--;
		if ((ret = check_bytes(origin, lineno, line, plen, error_r)) <
		    0)
			break;
		while (plen > 0 && blank(line[plen - 1]))
			plen--;
		/* A new logical line ends the previous one: hand that on
		 * first, since lines_add() overwrites it. */
		if (plen > 0 && !blank(line[0]) && line[0] != '#' &&
		    st.start != 0 &&
		    fn(ctx, st.logical.data, st.logical.len, st.start,
		       error_r) < 0)
			ret = -1;
		else if (lines_add(&st, line, plen, lineno, error_r) < 0)
			ret = -1;
	}
	if (ret > 0 && st.start != 0 &&
	    fn(ctx, st.logical.data, st.logical.len, st.start, error_r) < 0)
		ret = -1;
	str_deinit(&st.logical);
	return ret < 0 ? -1 : 1;
}

int conf_read_file(const char *path, struct str *out, const char **error_r)
{
	return file_read_all(path, out, CONF_FILE_MAX, error_r);
}
