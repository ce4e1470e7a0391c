/* target.c: the targets in an alias value, as aliases(5) writes them:
 * "a, b c" (commas and blanks separate), "quoted targets" that may hold
 * both (a command with arguments, a file name with a blank), an unquoted
 * |command that runs to the next comma (commands take arguments), and the
 * :include: files that hold more of them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A quoted target at p (on the quote); \" and \\ are escapes. Returns
 * the position after it. A quoted local part ("a b"@host) keeps its
 * quotes and takes the rest of the address. */
static const char *quoted(const char *p, struct str *out)
{
	const char *start = p++;

	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		str_putc(out, *p++);
	}
	if (*p == '"')
		p++;
	if (*p == '@') {
		const char *end = p + strcspn(p, ", \t\r\n");

		str_clear(out);
		str_append(out, start, (size_t)(end - start));
		return end;
	}
	return p;
}

int local_target_next(const char **pp, struct str *out)
{
	const char *p = *pp, *end;

	str_clear(out);
	for (;;) {
		while (is_sep(*p))
			p++;
		if (*p == '\0') {
			*pp = p;
			return 0;
		}
		if (*p == '"') {
			p = quoted(p, out);
		} else if (*p == '|') {
			end = p + strcspn(p, ",");
			while (end > p && is_sep(end[-1]))
				end--;
			str_append(out, p, (size_t)(end - p));
			p = end;
		} else {
			end = p;
			while (*end != '\0' && !is_sep(*end))
				end++;
			str_append(out, p, (size_t)(end - p));
			p = end;
		}
		if (out->len > 0)
			break; /* "" is no target */
	}
	*pp = p;
	return 1;
}

static char include_errbuf[512];

static int include_fail(const char *path, const char *why, const char **error_r)
{
	snprintf(include_errbuf, sizeof(include_errbuf),
		 ":include: file %s: %s", path, why);
	*error_r = include_errbuf;
	return -1;
}

/* Drops comment lines and joins the rest with commas. */
static void strip_comments(struct str *text)
{
	struct str out;
	const char *p = text->data, *eol;

	str_init(&out, text->len + 1);
	for (; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		const char *q = p + strspn(p, " \t\r");

		if (*q == '#' || q == eol)
			continue;
		str_append(&out, p, (size_t)(eol - p));
		str_putc(&out, ',');
	}
	str_set(text, out.data, out.len);
	str_deinit(&out);
}

int local_include_read(const struct local_config *cfg, const char *path,
		       struct str *out, const char **error_r)
{
	char buf[8192];
	struct stat st;
	ssize_t n;
	int fd;

	if (path[0] != '/')
		return include_fail(path, "not an absolute path", error_r);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return include_fail(path, strerror(errno), error_r);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return include_fail(path, "not a regular file", error_r);
	}
	if ((st.st_uid != 0 && st.st_uid != cfg->uid) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		return include_fail(path,
				    "must be owned by root or the mail store "
				    "owner and writable by nobody else",
				    error_r);
	}
	str_clear(out);
	while ((n = read(fd, buf, sizeof(buf))) > 0 &&
	       out->len + (size_t)n <= LOCAL_INCLUDE_MAX)
		str_append(out, buf, (size_t)n);
	close(fd);
	if (n != 0)
		return include_fail(
		    path, n < 0 ? strerror(errno) : "file too large", error_r);
	if (memchr(out->data, '\0', out->len) != NULL)
		return include_fail(path, "NUL byte in file", error_r);
	strip_comments(out);
	return 1;
}
