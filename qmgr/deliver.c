/* deliver.c: qmgr's side of the delivery protocol (lib/deliver_proto.h):
 * connect to private/local, pass a read-only descriptor of the queue file,
 * send one request with the recipients, read one result per recipient.
 * Any failure (agent crashed, timeout, malformed reply) defers every
 * recipient of the request with the reason: the agent is idempotent, so a
 * retry never makes a second copy. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_proto.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

static void request_put(struct attr_out *o, struct queue_file *qf,
			const size_t *indexes, size_t count, bool retry)
{
	const struct queue_envelope *env = queue_file_envelope(qf);

	attr_put_str(o, "queue_id", env->id);
	attr_put_str(o, "sender", env->sender);
	attr_put_int(o, "arrival", (int64_t)env->arrival_usec);
	attr_put_int(o, "offset", (int64_t)queue_file_content_offset(qf));
	attr_put_int(o, "size", (int64_t)queue_file_content_size(qf));
	attr_put_int(o, "retry", retry ? 1 : 0);
	attr_list_begin(o, "rcpts");
	for (size_t i = 0; i < count; i++) {
		const struct queue_rcpt *r = &env->rcpts[indexes[i]];

		attr_item_begin(o);
		attr_put_int(o, "index", (int64_t)indexes[i]);
		attr_put_str(o, "address", r->address);
		attr_put_str(o, "orcpt", r->orcpt != NULL ? r->orcpt : "");
		attr_item_end(o);
	}
	attr_list_end(o);
}

/* Reads the reply into results (matched by index). Texts are copied to
 * texts (owned by the caller). */
static int reply_get(struct attr_rec *rep, const size_t *indexes, size_t count,
		     struct qmgr_result *results, struct str *texts,
		     const char **error_r)
{
	struct attr_list list;
	struct attr_rec item;
	const char *status, *dsn, *text;
	int64_t index;
	size_t k = 0;

	if (attr_get_list(rep, "rcpts", &list, error_r) != 1 ||
	    attr_rec_done(rep, error_r) < 0)
		return -1;
	while (attr_list_next(&list, &item) == 1 && k < count) {
		if (attr_get_int(&item, "index", &index, error_r) != 1 ||
		    attr_get_cstr(&item, "status", &status, error_r) != 1 ||
		    attr_get_cstr(&item, "dsn", &dsn, error_r) != 1 ||
		    attr_get_cstr(&item, "text", &text, error_r) != 1 ||
		    attr_rec_done(&item, error_r) < 0)
			return -1;
		if ((size_t)index != indexes[k] || strlen(dsn) >= 16) {
			*error_r = "reply does not match the request";
			return -1;
		}
		results[k].status = strcmp(status, "sent") == 0 ? QMGR_SENT
				    : strcmp(status, "bounced") == 0
					? QMGR_BOUNCED
					: QMGR_DEFERRED;
		snprintf(results[k].dsn, sizeof(results[k].dsn), "%s", dsn);
		str_append_cstr(&texts[k], text);
		k++;
	}
	if (k != count) {
		*error_r = "reply has fewer results than recipients";
		return -1;
	}
	return 1;
}

static int deliver_call(struct qmgr *q, struct queue_file *qf,
			const size_t *indexes, size_t count, bool retry,
			struct qmgr_result *results, struct str *texts,
			const char **error_r)
{
	static char errbuf[512];
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct attr_client *c = NULL;
	struct attr_out o;
	struct attr_rec rep;
	const char *err;
	int qfd, r;

	qfd = openat(queue_dir_fd(q->qd, QUEUE_ACTIVE, &err), env->id,
		     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (qfd < 0) {
		*error_r = "cannot reopen the queue file read-only";
		return -1;
	}
	attr_out_init(&o);
	request_put(&o, qf, indexes, count, retry);
	r = attr_client_connect(q->local_socket, DELIVER_PROTOCOL,
				DELIVER_VERSION, (int)q->timeout_ms, &c,
				error_r);
	if (r > 0)
		attr_client_set_max(c, ATTR_DEFAULT_MAX_RECORD * 4);
	if (r > 0)
		r = deliver_fd_send(attr_client_fd(c), qfd, (int)q->timeout_ms,
				    error_r);
	if (r > 0)
		r = attr_client_call(c, &o, &rep, error_r);
	if (r > 0)
		r = reply_get(&rep, indexes, count, results, texts, error_r);
	if (r < 0) {
		/* the text may live in c */
		snprintf(errbuf, sizeof(errbuf), "%s", *error_r);
		*error_r = errbuf;
	}
	attr_client_free(&c);
	attr_out_deinit(&o);
	close(qfd);
	return r;
}

void qmgr_deliver_local(struct qmgr *q, struct queue_file *qf,
			const size_t *indexes, size_t count, bool retry,
			struct qmgr_result *results)
{
	static struct str texts[DELIVER_BATCH];
	static struct str fail;
	static bool ready;
	const char *err = NULL;

	if (!ready) {
		for (size_t i = 0; i < DELIVER_BATCH; i++)
			str_init(&texts[i], 128);
		str_init(&fail, 128);
		ready = true;
	}
	for (size_t i = 0; i < count; i++) {
		str_clear(&texts[i]);
		results[i] =
		    (struct qmgr_result){.index = indexes[i], .relay = "local"};
	}
	if (deliver_call(q, qf, indexes, count, retry, results, texts, &err) >
	    0) {
		for (size_t i = 0; i < count; i++)
			results[i].text = texts[i].data;
		return;
	}
	str_clear(&fail);
	str_printf(&fail, "delivery agent local failed: %s", err);
	msg_warn("%s", fail.data);
	for (size_t i = 0; i < count; i++) {
		results[i].status = QMGR_DEFERRED;
		memcpy(results[i].dsn, "4.3.0", 6);
		results[i].text = fail.data;
	}
}
