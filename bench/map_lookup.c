/* map_lookup.c: the lookup side of bench/map-bench.sh. Opens a table with
 * dict_open() and looks up every key read from standard input (one per
 * line), writing "key<TAB>value" for each key found, as `postmap -q -`
 * does, so that both sides do the same work. -c counts instead of
 * printing. Reports the counts on standard error; exit 0, or 2 on error. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "msg.h"
#include "str.h"

#define LOOKUP_LINE_MAX 4096

static int lookup_all(struct dict *d, bool print, long *count_r, long *found_r)
{
	struct str value;
	char line[LOOKUP_LINE_MAX];
	const char *err;
	int ret = 1;

	str_init(&value, 256);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t len = strlen(line);
		int r;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			msg_error("key longer than %d bytes", LOOKUP_LINE_MAX);
			ret = -1;
			break;
		}
		(*count_r)++;
		if ((r = dict_lookup(d, line, &value, &err)) < 0) {
			msg_error("%s", err);
			ret = -1;
			break;
		}
		if (r == 0)
			continue;
		(*found_r)++;
		if (print) {
			fwrite(line, 1, len, stdout);
			putchar('\t');
			fwrite(value.data, 1, value.len, stdout);
			putchar('\n');
		}
	}
	str_deinit(&value);
	return ret;
}

int main(int argc, char **argv)
{
	static char outbuf[256 * 1024];
	bool print = true;
	long count = 0, found = 0;
	const char *err;
	struct dict *d;
	int ret;

	msg_init("map_lookup", MSG_DEST_STDERR);
	if (argc == 3 && strcmp(argv[1], "-c") == 0) {
		print = false;
		argv++;
	} else if (argc != 2) {
		fprintf(stderr, "usage: map_lookup [-c] type:name < keys\n");
		return 2;
	}
	if ((d = dict_open(argv[1], 0, &err)) == NULL) {
		msg_error("%s", err);
		return 2;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	ret = lookup_all(d, print, &count, &found);
	dict_close(&d);
	if (fflush(stdout) != 0)
		ret = -1;
	fprintf(stderr, "lookups %ld found %ld\n", count, found);
	return ret < 0 ? 2 : 0;
}
