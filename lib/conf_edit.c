/* conf_edit.c: in-place edits of main.cf (see conf_edit.h), used by
 * `postern conf -e/-X` and later by `postern init`. The physical-line rules
 * here must match conf_lines.c: blank and '#' lines are not part of any
 * setting; a line starting with blank space continues the setting above. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conf_edit.h"
#include "conf_internal.h"
#include "file.h"
#include "mem.h"

static struct str edit_error;

static int edit_fail(const char **error_r, const char *what, const char *text)
{
	if (edit_error.data == NULL)
		str_init(&edit_error, 128);
	str_clear(&edit_error);
	str_printf(&edit_error, "%s ", what);
	conf_quote(&edit_error, text, strlen(text));
	*error_r = edit_error.data;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static int edits_check(const struct conf_edit *edits, size_t count,
		       const char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		const char *name = edits[i].name, *v = edits[i].value;
		size_t n = strlen(name);

		for (size_t k = 0; k < n; k++)
			if (!conf_name_char(name[k]))
				n = 0;
		if (n == 0 || n > CONF_NAME_MAX)
			return edit_fail(error_r, "bad parameter name", name);
		for (; v != NULL && *v != '\0'; v++)
			if (((unsigned char)*v < 0x20 && *v != '\t') ||
			    *v == 0x7f)
				return edit_fail(error_r,
						 "line break or control "
						 "character in the value of",
						 name);
		if (edits[i].value &&
		    strlen(edits[i].value) > CONF_LINE_MAX / 2)
			return edit_fail(error_r, "value too long for", name);
	}
	return 1;
}

/* The index of the edit that counts for name (the last), or -1. */
static long edit_find(const struct conf_edit *edits, size_t count,
		      const char *name, size_t len)
{
	for (size_t i = count; i-- > 0;)
		if (strlen(edits[i].name) == len &&
		    memcmp(edits[i].name, name, len) == 0)
			return (long)i;
	return -1;
}

static void edit_write(struct str *out, const struct conf_edit *e)
{
	const char *v = e->value;
	size_t len;

	while (blank(*v))
		v++;
	len = strlen(v);
	while (len > 0 && blank(v[len - 1]))
		len--;
	str_printf(out, "%s =%s", e->name, len ? " " : "");
	str_append(out, v, len);
	str_putc(out, '\n');
}

int conf_edit_text(const char *text, size_t len, const struct conf_edit *edits,
		   size_t count, struct str *out, const char **error_r)
{
	bool *done, dropping = false;
	size_t pos = 0;

	if (edits_check(edits, count, error_r) < 0)
		return -1;
	done = mem_calloc(count ? count : 1, sizeof(*done));
	while (pos < len) {
		const char *line = text + pos,
			   *nl = memchr(line, '\n', len - pos);
		size_t plen = nl ? (size_t)(nl - line) + 1 : len - pos,
		       lead = 0;
		size_t n = 0;
		long e;

		pos += plen;
		while (lead < plen && (blank(line[lead]) || line[lead] == '\r'))
			lead++;
		if (lead == plen || line[lead] == '\n' || line[lead] == '#') {
			str_append(out, line, plen);
			continue;
		}
		if (lead > 0) {
			if (!dropping)
				str_append(out, line, plen);
			continue;
		}
		while (n < plen && conf_name_char(line[n]))
			n++;
		e = (n < plen && (blank(line[n]) || line[n] == '='))
			? edit_find(edits, count, line, n)
			: -1;
		dropping = e >= 0;
		if (e < 0)
			str_append(out, line, plen);
		else if (!done[e] && edits[e].value != NULL)
			edit_write(out, &edits[e]);
		if (e >= 0)
			done[e] = true;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = edits[i].name;
		if (done[i] || edits[i].value == NULL ||
		    edit_find(edits, count, name, strlen(name)) != (long)i)
			continue;
		if (out->len > 0 && out->data[out->len - 1] != '\n')
			str_putc(out, '\n');
		edit_write(out, &edits[i]);
	}
	mem_free(done);
	return 1;
}

int conf_edit_file(const char *path, const struct conf_edit *edits,
		   size_t count, const char **error_r)
{
	struct str text, out;
	struct stat st;
	struct conf *check;
	char *real = realpath(path, NULL);
	const char *target = real != NULL ? real : path;
	mode_t mode = 0644;
	int ret = -1;

	str_init(&text, 4096);
	str_init(&out, 4096);
	if (real == NULL && errno != ENOENT) {
		edit_fail(error_r, strerror(errno), path);
		goto out;
	}
	if (real != NULL && conf_read_file(target, &text, error_r) < 0)
		goto out;
	if (real != NULL && stat(target, &st) == 0)
		mode = st.st_mode & 07777;
	if (conf_edit_text(text.data, text.len, edits, count, &out, error_r) <
	    0)
		goto out;
	check =
	    conf_parse_buffer(target, out.data, out.len, CONF_NO_WARN, error_r);
	if (check == NULL) {
		const char *why = *error_r;
		if (edit_error.data == NULL)
			str_init(&edit_error, 128);
		str_set(&edit_error, why, strlen(why));
		str_append_cstr(&edit_error, " (the file was not changed)");
		*error_r = edit_error.data;
		goto out;
	}
	conf_free(&check);
	ret = file_write_atomic(target, out.data, out.len, mode, error_r) < 0
		  ? -1
		  : 1;
out:
	free(real);
	str_deinit(&text);
	str_deinit(&out);
	return ret;
}
