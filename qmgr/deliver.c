/* deliver.c: qmgr's side of the delivery protocol (lib/deliver_proto.h):
 * connect to the agent's socket (private/local or private/smtp), pass a
 * read-only descriptor of the queue file, send one request with the
 * recipients (for smtp also the next hop and the DSN envelope fields),
 * read one result per recipient (smtp adds the relay it used). Any
 * failure (agent crashed, timeout, malformed reply) defers every
 * recipient of the request with the reason: local is idempotent, so a
 * retry never makes a second copy; smtp cannot be (a remote server may
 * have the message), as in every MTA. */
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
			const char *nexthop, const size_t *indexes,
			size_t count, bool retry)
{
	const struct queue_envelope *env = queue_file_envelope(qf);
	const char *envid = env->fields[QUEUE_FIELD_ENVID];

	attr_put_str(o, "queue_id", env->id);
	attr_put_str(o, "sender", env->sender);
	attr_put_int(o, "arrival", (int64_t)env->arrival_usec);
	attr_put_int(o, "offset", (int64_t)queue_file_content_offset(qf));
	attr_put_int(o, "size", (int64_t)queue_file_content_size(qf));
	attr_put_int(o, "retry", retry ? 1 : 0);
	if (nexthop != NULL) {
		attr_put_str(o, "nexthop", nexthop);
		attr_put_str(o, "envid", envid != NULL ? envid : "");
		attr_put_int(o, "ret", (int64_t)env->ret);
		attr_put_int(o, "flags", (int64_t)env->msg_flags);
	}
	attr_list_begin(o, "rcpts");
	for (size_t i = 0; i < count; i++) {
		const struct queue_rcpt *r = &env->rcpts[indexes[i]];

		attr_item_begin(o);
		attr_put_int(o, "index", (int64_t)indexes[i]);
		attr_put_str(o, "address", r->address);
		attr_put_str(o, "orcpt", r->orcpt != NULL ? r->orcpt : "");
		if (nexthop != NULL)
			attr_put_int(o, "notify", (int64_t)r->notify);
		attr_item_end(o);
	}
	attr_list_end(o);
}

/* Reads the reply into results (matched by index). Texts and relays are
 * copied to texts and relays (owned by the caller); a reply without a
 * relay (local) leaves relays[k] empty. */
static int reply_get(struct attr_rec *rep, const size_t *indexes, size_t count,
		     struct qmgr_result *results, struct str *texts,
		     struct str *relays, const char **error_r)
{
	struct attr_list list;
	struct attr_rec item;
	const char *status, *dsn, *text, *relay;
	int64_t index;
	size_t k = 0;
	int has_relay;

	if (attr_get_list(rep, "rcpts", &list, error_r) != 1 ||
	    attr_rec_done(rep, error_r) < 0)
		return -1;
	while (attr_list_next(&list, &item) == 1 && k < count) {
		has_relay = attr_get_cstr(&item, "relay", &relay, error_r);
		if (has_relay < 0 ||
		    attr_get_int(&item, "index", &index, error_r) != 1 ||
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
		if (has_relay == 1)
			str_append_cstr(&relays[k], relay);
		k++;
	}
	if (k != count) {
		*error_r = "reply has fewer results than recipients";
		return -1;
	}
	return 1;
}

struct call_out {
	struct qmgr_result *results;
	struct str *texts, *relays;
};

static int deliver_call(struct qmgr *q, struct queue_file *qf,
			const struct qmgr_route *route, const size_t *indexes,
			size_t count, bool retry, struct call_out *out,
			const char **error_r)
{
	static char errbuf[512];
	const struct queue_envelope *env = queue_file_envelope(qf);
	struct attr_client *c = NULL;
	struct attr_out o;
	struct attr_rec rep;
	struct str path;
	const char *err;
	int qfd, r;

	qfd = openat(queue_dir_fd(q->qd, QUEUE_ACTIVE, &err), env->id,
		     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (qfd < 0) {
		*error_r = "cannot reopen the queue file read-only";
		return -1;
	}
	str_init(&path, 64);
	str_printf(&path, "%s/%s", q->private_dir, route->transport);
	attr_out_init(&o);
	request_put(&o, qf, route->nexthop, indexes, count, retry);
	r = attr_client_connect(path.data, DELIVER_PROTOCOL, DELIVER_VERSION,
				(int)q->timeout_ms, &c, error_r);
	if (r > 0)
		attr_client_set_max(c, ATTR_DEFAULT_MAX_RECORD * 4);
	if (r > 0)
		r = deliver_fd_send(attr_client_fd(c), qfd, (int)q->timeout_ms,
				    error_r);
	if (r > 0)
		r = attr_client_call(c, &o, &rep, error_r);
	if (r > 0)
		r = reply_get(&rep, indexes, count, out->results, out->texts,
			      out->relays, error_r);
	if (r < 0) {
		/* the text may live in c */
		snprintf(errbuf, sizeof(errbuf), "%s", *error_r);
		*error_r = errbuf;
	}
	attr_client_free(&c);
	attr_out_deinit(&o);
	str_deinit(&path);
	close(qfd);
	return r;
}

void qmgr_deliver(struct qmgr *q, struct queue_file *qf,
		  const struct qmgr_route *route, const size_t *indexes,
		  size_t count, bool retry, struct qmgr_result *results)
{
	static struct str texts[DELIVER_BATCH], relays[DELIVER_BATCH];
	static struct str fail;
	static bool ready;
	struct call_out out = {results, texts, relays};
	const char *err = NULL;

	if (!ready) {
		for (size_t i = 0; i < DELIVER_BATCH; i++) {
			str_init(&texts[i], 128);
			str_init(&relays[i], 64);
		}
		str_init(&fail, 128);
		ready = true;
	}
	for (size_t i = 0; i < count; i++) {
		str_clear(&texts[i]);
		str_clear(&relays[i]);
		results[i] = (struct qmgr_result){
		    .index = indexes[i],
		    .relay =
			route->nexthop == NULL ? route->transport : "none"};
	}
	if (deliver_call(q, qf, route, indexes, count, retry, &out, &err) > 0) {
		for (size_t i = 0; i < count; i++) {
			results[i].text = texts[i].data;
			if (relays[i].len > 0)
				results[i].relay = relays[i].data;
		}
		return;
	}
	str_clear(&fail);
	str_printf(&fail, "delivery agent %s failed: %s", route->transport,
		   err);
	msg_warn("%s", fail.data);
	for (size_t i = 0; i < count; i++) {
		results[i].status = QMGR_DEFERRED;
		memcpy(results[i].dsn, "4.3.0", 6);
		results[i].text = fail.data;
	}
}
