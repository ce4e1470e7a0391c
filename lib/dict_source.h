/* dict_source.h: reader of the table source syntax shared by `postern map`
 * (hash, btree, lmdb builds), texthash and aliases.
 *
 * Syntax (as postmap): one entry per logical line, "key whitespace value";
 * "#" at the start of a line (after optional whitespace) is a comment;
 * blank lines are skipped; a line that starts with whitespace continues the
 * previous entry; a key may be written in double quotes to hold whitespace
 * or '#' ("a b" value). An entry with a key and no value is an error.
 *
 * Every logical line has a size limit (DICT_SOURCE_LINE_MAX); an overlong
 * line is an error naming file and line, never a crash or silent cut. */
#ifndef POSTERN_DICT_SOURCE_H
#define POSTERN_DICT_SOURCE_H

#include <stddef.h>

#define DICT_SOURCE_LINE_MAX (1024 * 1024)

/* Called for each entry; line is the number of the entry's first line.
 * Returns 0 to go on, -1 to stop (the parse then returns -1 with the
 * callback's *error_r). */
typedef int dict_source_fn(void *ctx, const char *key, const char *value,
			   int line, const char **error_r);

/* Streams the file (does not load it whole). Errors read
 * "path:line: message". Returns 1 ok, -1 error. */
int dict_source_parse_file(const char *path, dict_source_fn *fn, void *ctx,
			   const char **error_r);
/* Same over a buffer; origin names it in errors. */
int dict_source_parse_buffer(const char *origin, const char *buf, size_t len,
			     dict_source_fn *fn, void *ctx,
			     const char **error_r);

#endif
