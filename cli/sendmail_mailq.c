/* sendmail_mailq.c: mailq (sendmail -bp): the queue in Postfix's long-ID
 * mailq layout, which existing scripts parse (doc/queue.md, "Reading"):
 *   ----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
 *   1K15B0PBVEN002PV*      412 Thu Nov 26 09:40:01 alice@example.org
 *                                                  bob@example.net
 *
 *   -- 1 Kbytes in 1 Request.
 * Queues in Postfix's order (maildrop, active, incoming, deferred, hold);
 * '*' marks active, '!' hold, '#' a forced expiry; only pending recipients
 * are shown. It reads the queue directly, so it needs read access to the
 * queue folders (root or $mail_owner; in instance mode the owner). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "sendmail.h"

struct mq_totals {
	uint64_t bytes;
	unsigned long count;
};

static void mq_message(const char *id, enum queue_name q, struct queue_file *qf,
		       struct mq_totals *t)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	time_t when = (time_t)(env->arrival_usec / 1000000u);
	char name[QUEUE_ID_SIZE + 1], stamp[32];
	uint64_t size = queue_file_content_size(qf);
	struct tm tm;

	snprintf(name, sizeof(name), "%s%s", id,
		 q == QUEUE_ACTIVE			  ? "*"
		 : q == QUEUE_HOLD			  ? "!"
		 : (env->state & QUEUE_STATE_EXPIRE) != 0 ? "#"
							  : "");
	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S", &tm);
	if (t->count == 0)
		printf("----Queue ID----- --Size-- ---Arrival Time---- "
		       "--Sender/Recipient------\n");
	printf("%-17s %8llu %-19s %s\n", name, (unsigned long long)size, stamp,
	       env->sender[0] != '\0' ? env->sender : "MAILER-DAEMON");
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (env->rcpts[i].status == QUEUE_RCPT_PENDING)
			printf("%-17s %8s %-19s %s\n", "", "", "",
			       env->rcpts[i].address);
	printf("\n");
	t->bytes += size;
	t->count++;
}

/* Lists one queue. Returns 0 or an exit code. */
static int mq_queue(struct queue_dir *qd, enum queue_name q,
		    struct mq_totals *t)
{
	struct queue_id_list list = {0};
	const char *err;
	int dirfd;

	if (queue_dir_list(qd, q, &list, &err) < 0 ||
	    (dirfd = queue_dir_fd(qd, q, &err)) < 0) {
		int e = errno;
		queue_id_list_free(&list);
		fprintf(stderr, "mailq: %s\n", err);
		return e == EACCES || e == EPERM ? DROP_EX_NOPERM
						 : DROP_EX_UNAVAILABLE;
	}
	for (size_t i = 0; i < list.count; i++) {
		struct queue_file *qf;
		/* Not ready, gone or bad: not part of the listing. */
		if (queue_file_openat(dirfd, list.ids[i], 0, &qf, &err) != 1)
			continue;
		mq_message(list.ids[i], q, qf, t);
		queue_file_close(&qf);
	}
	queue_id_list_free(&list);
	return 0;
}

int sm_mailq(struct conf *c)
{
	static const enum queue_name order[] = {QUEUE_MAILDROP, QUEUE_ACTIVE,
						QUEUE_INCOMING, QUEUE_DEFERRED,
						QUEUE_HOLD};
	struct mq_totals t = {0};
	struct queue_dir *qd;
	const char *err;
	int ret = 0;

	if (queue_dir_open(conf_get(c, "queue_directory"), &qd, &err) < 0) {
		fprintf(stderr, "mailq: %s\n", err);
		return DROP_EX_UNAVAILABLE;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && ret == 0;
	     i++)
		ret = mq_queue(qd, order[i], &t);
	queue_dir_close(&qd);
	if (ret != 0)
		return ret;
	if (t.count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %llu Kbytes in %lu Request%s.\n",
		       (unsigned long long)((t.bytes + 1023) / 1024), t.count,
		       t.count == 1 ? "" : "s");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailq: write error: %s\n", strerror(errno));
		return DROP_EX_IOERR;
	}
	return 0;
}
