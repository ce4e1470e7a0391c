/* fuzz/queue_file_fuzz.c: libFuzzer target for the queue file reader
 * (lib/queue_file_read.c), which parses maildrop files that the less
 * trusted sendmail/postdrop path wrote. The input is a whole file. Checks:
 * a refusal is EBADMSG; an accepted file has sane values, a content range
 * that matches the input, encodes again into an envelope that parses to
 * the same values, and reads the same through the fd path (open, lock,
 * pread) as from memory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_file.h"
#include "str.h"

static const char *fz_dir;

static void fz_cleanup(void)
{
	if (fz_dir != NULL)
		rmdir(fz_dir);
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same(const struct queue_envelope *a,
		       const struct queue_envelope *b)
{
	check(strcmp(a->id, b->id) == 0 && a->arrival_usec == b->arrival_usec);
	check(same_str(a->sender, b->sender) && a->ret == b->ret);
	check(a->msg_flags == b->msg_flags && a->state == b->state);
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		check(same_str(a->fields[f], b->fields[f]));
	check(a->rcpt_count == b->rcpt_count);
	for (size_t i = 0; i < a->rcpt_count; i++) {
		check(same_str(a->rcpts[i].address, b->rcpts[i].address));
		check(same_str(a->rcpts[i].orcpt, b->rcpts[i].orcpt));
		check(a->rcpts[i].notify == b->rcpts[i].notify &&
		      a->rcpts[i].status == b->rcpts[i].status);
	}
}

static void check_values(const struct queue_envelope *env)
{
	const char *err;

	check(queue_value_check("s", env->sender, strlen(env->sender), &err) >
	      0);
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		check(env->fields[f] == NULL ||
		      queue_value_check("f", env->fields[f],
					strlen(env->fields[f]), &err) > 0);
	check(env->rcpt_count > 0 && env->rcpt_count <= QUEUE_RCPT_MAX);
	for (size_t i = 0; i < env->rcpt_count; i++)
		check(env->rcpts[i].address[0] != '\0');
}

/* Encodes the envelope again around the same content: same values. */
static void check_reencode(struct queue_file *qf, const uint8_t *data)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	uint64_t off = queue_file_content_offset(qf);
	uint64_t len = queue_file_content_size(qf);
	struct queue_file *again;
	const char *err;
	struct str img;

	str_init(&img, 0);
	check(queue_file_encode(env, &img, &err) > 0);
	str_append(&img, data + off, (size_t)len);
	queue_file_encode_trailer(len, &img);
	check(queue_file_parse_image(img.data, img.len, env->id, &again, &err) >
	      0);
	check_same(env, queue_file_envelope(again));
	queue_file_close(&again);
	str_deinit(&img);
}

/* The same bytes as a real file: the fd path must agree. */
static void check_fd_path(struct queue_file *qf, const uint8_t *data,
			  size_t size)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct queue_file *disk;
	const char *err;
	char path[4200], buf[4096];
	uint64_t pos = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_dir, env->id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	check(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	check(fchmod(fd, 0700) == 0 && close(fd) == 0);
	check(queue_file_open(path, 0, &disk, &err) == 1);
	check_same(env, queue_file_envelope(disk));
	check(queue_file_content_size(disk) == queue_file_content_size(qf));
	while ((n = queue_file_content_read(disk, pos, buf, sizeof(buf),
					    &err)) > 0) {
		check(memcmp(buf, data + queue_file_content_offset(qf) + pos,
			     (size_t)n) == 0);
		pos += (uint64_t)n;
	}
	check(n == 0 && pos == queue_file_content_size(qf));
	queue_file_close(&disk);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_file *qf = NULL;
	const char *err;

	if (fz_dir == NULL) {
		static char tmpl[] = "/tmp/postern-qfuzz.XXXXXX";
		fz_dir = mkdtemp(tmpl);
		check(fz_dir != NULL);
		atexit(fz_cleanup);
	}
	errno = 0;
	if (queue_file_parse_image(data, size, NULL, &qf, &err) < 0) {
		check(errno == EBADMSG && qf == NULL && err != NULL);
		return 0;
	}
	check(queue_file_content_offset(qf) + queue_file_content_size(qf) +
		  QUEUE_TRAILER_SIZE ==
	      size);
	check_values(queue_file_envelope(qf));
	check_reencode(qf, data);
	check_fd_path(qf, data, size);
	queue_file_close(&qf);
	return 0;
}
