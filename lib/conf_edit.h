/* conf_edit.h: changing main.cf in place (`postern conf -e` and `-X`).
 *
 * Comments, blank lines and every other setting are kept byte for byte.
 * A parameter set in the file is replaced where it first appears (its
 * continuation lines go with it, and later duplicates, which would
 * otherwise win, are removed); a new one is appended at the end. */
#ifndef POSTERN_CONF_EDIT_H
#define POSTERN_CONF_EDIT_H

#include <stddef.h>

#include "str.h"

struct conf_edit {
	const char *name;
	const char *value; /* NULL removes the parameter */
};

/* Applies edits to main.cf text, appending the result to out. When a name
 * appears in several edits the last one counts. Returns -1 for a bad name
 * or a value with line breaks or other control characters. */
int conf_edit_text(const char *text, size_t len, const struct conf_edit *edits,
		   size_t count, struct str *out, const char **error_r);

/* Edits the file at path (created when missing; a symlink is followed and
 * its target edited). The new text must load (conf_parse_buffer) or the file
 * stays unchanged and -1 is returned; it is written with
 * file_write_atomic(), keeping the file's mode. */
int conf_edit_file(const char *path, const struct conf_edit *edits,
		   size_t count, const char **error_r);

#endif
