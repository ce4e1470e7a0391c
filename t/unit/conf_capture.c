/* t/unit/conf_capture.c: stderr capture for the configuration unit tests,
 * which check the exact warnings a parse logs (and that good files log
 * none). Linked into each of them; they declare the two functions. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "file.h"
#include "str.h"
#include "tap.h"

void capture_start(void);
const char *capture_end(void);

static int capture_saved_fd = -1;
static struct str capture_text;

/* Sends stderr (fd 2) to a file until capture_end(). */
void capture_start(void)
{
	struct str path;
	int fd;

	str_init(&path, 64);
	str_printf(&path, "%s/stderr", tap_tmpdir());
	fflush(stderr);
	capture_saved_fd = dup(2);
	fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	str_deinit(&path);
}

/* Restores stderr and returns what was written, lines joined with '|'
 * (valid until the next capture_end()). */
const char *capture_end(void)
{
	struct str path;
	const char *err;

	fflush(stderr);
	dup2(capture_saved_fd, 2);
	close(capture_saved_fd);
	str_init(&path, 64);
	str_printf(&path, "%s/stderr", tap_tmpdir());
	if (capture_text.data == NULL)
		str_init(&capture_text, 256);
	str_clear(&capture_text);
	file_read_all(path.data, &capture_text, 0, &err);
	str_deinit(&path);
	/* One line, so that it can go into a TAP test name. */
	while (capture_text.len > 0 &&
	       capture_text.data[capture_text.len - 1] == '\n')
		str_truncate(&capture_text, capture_text.len - 1);
	for (size_t i = 0; i < capture_text.len; i++)
		if (capture_text.data[i] == '\n')
			capture_text.data[i] = '|';
	return capture_text.data;
}
