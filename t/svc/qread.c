/* qread.c: a test tool for t/smtpd-*.t: prints a queue file through
 * lib/queue_file's reader, so tests check what smtpd committed (envelope,
 * recipients with DSN options, content) the way qmgr will read it.
 *   qread PATH
 * Output: "key=value" lines (id, sender, ret, flags, each set field as
 * field.NAME, each recipient as "rcpt=ADDR notify=N orcpt=X"), a line
 * "--", then the content as stored. Exit 0, or 1 with a message. */
#include "config.h"

#include <stdio.h>

#include "queue_file.h"

int main(int argc, char **argv)
{
	struct queue_file *qf;
	const struct queue_envelope *env;
	const char *err;
	char buf[65536];
	uint64_t pos = 0;
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: qread PATH\n");
		return 1;
	}
	if (queue_file_open(argv[1], 0, &qf, &err) != 1) {
		fprintf(stderr, "qread: %s: %s\n", argv[1], err);
		return 1;
	}
	env = queue_file_envelope(qf);
	printf("id=%s\nsender=%s\nret=%d\nflags=%u\n", env->id, env->sender,
	       (int)env->ret, env->msg_flags);
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (env->fields[f] != NULL)
			printf("field.%s=%s\n", queue_field_name(f),
			       env->fields[f]);
	for (size_t i = 0; i < env->rcpt_count; i++)
		printf("rcpt=%s notify=%u orcpt=%s\n", env->rcpts[i].address,
		       env->rcpts[i].notify,
		       env->rcpts[i].orcpt ? env->rcpts[i].orcpt : "-");
	printf("--\n");
	fflush(stdout);
	while ((n = queue_file_content_read(qf, pos, buf, sizeof(buf), &err)) >
	       0) {
		fwrite(buf, 1, (size_t)n, stdout);
		pos += (uint64_t)n;
	}
	queue_file_close(&qf);
	if (n < 0) {
		fprintf(stderr, "qread: %s\n", err);
		return 1;
	}
	return 0;
}
