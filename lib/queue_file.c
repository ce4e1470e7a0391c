/* queue_file.c: encoding of the queue file header and envelope records, and
 * the value rules shared by the writer and the reader (see queue_file.h).
 * The strict decoder is in queue_file_read.c; both follow doc/queue.md. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "queue_file.h"
#include "queue_file_int.h"

static const char *const qf_field_names[QUEUE_FIELD_COUNT] = {
    [QUEUE_FIELD_ENVID] = "envid",
    [QUEUE_FIELD_CLIENT_NAME] = "client_name",
    [QUEUE_FIELD_CLIENT_ADDR] = "client_address",
    [QUEUE_FIELD_CLIENT_PORT] = "client_port",
    [QUEUE_FIELD_HELO] = "helo_name",
    [QUEUE_FIELD_PROTOCOL] = "protocol",
    [QUEUE_FIELD_TLS_PROTOCOL] = "tls_protocol",
    [QUEUE_FIELD_TLS_CIPHER] = "tls_cipher",
    [QUEUE_FIELD_TLS_BITS] = "tls_bits",
    [QUEUE_FIELD_TLS_PEER] = "tls_peer",
    [QUEUE_FIELD_SASL_METHOD] = "sasl_method",
    [QUEUE_FIELD_SASL_USER] = "sasl_username",
    [QUEUE_FIELD_LOCAL_USER] = "local_user",
    [QUEUE_FIELD_FULL_NAME] = "full_name",
};

const unsigned char queue_field_types[QUEUE_FIELD_COUNT] = {
    [QUEUE_FIELD_ENVID] = 'V',	      [QUEUE_FIELD_CLIENT_NAME] = 'c',
    [QUEUE_FIELD_CLIENT_ADDR] = 'a',  [QUEUE_FIELD_CLIENT_PORT] = 'p',
    [QUEUE_FIELD_HELO] = 'h',	      [QUEUE_FIELD_PROTOCOL] = 'P',
    [QUEUE_FIELD_TLS_PROTOCOL] = 't', [QUEUE_FIELD_TLS_CIPHER] = 'C',
    [QUEUE_FIELD_TLS_BITS] = 'b',     [QUEUE_FIELD_TLS_PEER] = 'y',
    [QUEUE_FIELD_SASL_METHOD] = 'm',  [QUEUE_FIELD_SASL_USER] = 'u',
    [QUEUE_FIELD_LOCAL_USER] = 'l',   [QUEUE_FIELD_FULL_NAME] = 'f',
};

static char qf_errbuf[256];

const char *queue_field_name(enum queue_field field)
{
	return (unsigned)field < QUEUE_FIELD_COUNT ? qf_field_names[field]
						   : "unknown";
}

int queue_value_check(const char *what, const char *value, size_t len,
		      const char **error_r)
{
	if (len > QUEUE_VALUE_MAX) {
		snprintf(qf_errbuf, sizeof(qf_errbuf),
			 "%s is longer than %d bytes", what, QUEUE_VALUE_MAX);
		*error_r = qf_errbuf;
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(qf_errbuf, sizeof(qf_errbuf),
				 "%s contains a control character (0x%02x)",
				 what, c);
			*error_r = qf_errbuf;
			return -1;
		}
	}
	return 1;
}

bool queue_notify_valid(unsigned notify)
{
	if ((notify & ~0x0fu) != 0)
		return false;
	return !((notify & QUEUE_NOTIFY_NEVER) && notify != QUEUE_NOTIFY_NEVER);
}

bool queue_msg_flags_valid(unsigned flags)
{
	const unsigned body = QUEUE_MSG_8BITMIME | QUEUE_MSG_BINARYMIME;

	if ((flags & ~(body | QUEUE_MSG_SMTPUTF8)) != 0)
		return false;
	return (flags & body) != body;
}

void queue_put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

uint64_t queue_get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void qf_put_record(struct str *out, unsigned char type, const void *v,
			  size_t len)
{
	unsigned char h[QUEUE_REC_HEAD];

	h[0] = type;
	queue_put_le(h + 1, len, 2);
	str_append(out, h, sizeof(h));
	str_append(out, v, len);
}

static void qf_put_string(struct str *out, unsigned char type, const char *v)
{
	qf_put_record(out, type, v, strlen(v));
}

static int qf_check_rcpt(const struct queue_rcpt *r, const char **error_r)
{
	if (r->address == NULL || r->address[0] == '\0') {
		*error_r = "empty recipient address";
		return -1;
	}
	if (queue_value_check("recipient", r->address, strlen(r->address),
			      error_r) < 0)
		return -1;
	if (r->orcpt != NULL &&
	    (r->orcpt[0] == '\0' ||
	     queue_value_check("ORCPT", r->orcpt, strlen(r->orcpt), error_r) <
		 0)) {
		if (r->orcpt[0] == '\0')
			*error_r = "empty ORCPT";
		return -1;
	}
	if (!queue_notify_valid(r->notify)) {
		*error_r = "invalid NOTIFY flags";
		return -1;
	}
	if (r->status != QUEUE_RCPT_PENDING && r->status != QUEUE_RCPT_DONE &&
	    r->status != QUEUE_RCPT_FAILED) {
		*error_r = "invalid recipient status";
		return -1;
	}
	return 1;
}

static int qf_check_envelope(const struct queue_envelope *env,
			     const char **error_r)
{
	if (!queue_id_valid(env->id)) {
		*error_r = "invalid queue ID";
		return -1;
	}
	if (env->sender == NULL) {
		*error_r = "no sender";
		return -1;
	}
	if (queue_value_check("sender", env->sender, strlen(env->sender),
			      error_r) < 0)
		return -1;
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (env->fields[f] != NULL &&
		    queue_value_check(qf_field_names[f], env->fields[f],
				      strlen(env->fields[f]), error_r) < 0)
			return -1;
	if (env->ret > QUEUE_RET_HDRS ||
	    !queue_msg_flags_valid(env->msg_flags) ||
	    (env->state & ~QUEUE_STATE_ALL) != 0) {
		*error_r = "invalid RET, message flags or state";
		return -1;
	}
	if (env->rcpt_count == 0 || env->rcpt_count > QUEUE_RCPT_MAX) {
		*error_r = env->rcpt_count == 0 ? "no recipients"
						: "too many recipients";
		return -1;
	}
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (qf_check_rcpt(&env->rcpts[i], error_r) < 0)
			return -1;
	return 1;
}

static void qf_put_rcpt(struct str *out, const struct queue_rcpt *r)
{
	size_t alen = strlen(r->address);
	unsigned char h[QUEUE_REC_HEAD + 2];

	h[0] = QUEUE_REC_RCPT;
	queue_put_le(h + 1, alen + 2, 2);
	h[3] = (unsigned char)r->status;
	h[4] = (unsigned char)r->notify;
	str_append(out, h, sizeof(h));
	str_append(out, r->address, alen);
	if (r->orcpt != NULL)
		qf_put_string(out, QUEUE_REC_ORCPT, r->orcpt);
}

int queue_file_encode(const struct queue_envelope *env, struct str *out,
		      const char **error_r)
{
	unsigned char head[QUEUE_HEADER_SIZE], v[8];
	size_t start = out->len, env_len;

	if (qf_check_envelope(env, error_r) < 0)
		return -1;
	memset(head, 0, sizeof(head));
	memcpy(head, QUEUE_MAGIC, 8);
	queue_put_le(head + 8, QUEUE_FILE_VERSION, 2);
	head[10] = (unsigned char)env->state;
	memcpy(head + 16, env->id, QUEUE_ID_LEN);
	str_append(out, head, sizeof(head));

	queue_put_le(v, env->arrival_usec, 8);
	qf_put_record(out, QUEUE_REC_TIME, v, 8);
	qf_put_string(out, QUEUE_REC_SENDER, env->sender);
	if (env->msg_flags != 0) {
		queue_put_le(v, env->msg_flags, 4);
		qf_put_record(out, QUEUE_REC_FLAGS, v, 4);
	}
	if (env->ret != QUEUE_RET_NONE) {
		v[0] = (unsigned char)env->ret;
		qf_put_record(out, QUEUE_REC_RET, v, 1);
	}
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		if (env->fields[f] != NULL)
			qf_put_string(out, queue_field_types[f],
				      env->fields[f]);
	for (size_t i = 0; i < env->rcpt_count; i++)
		qf_put_rcpt(out, &env->rcpts[i]);
	qf_put_record(out, QUEUE_REC_CONTENT, "", 0);

	env_len = out->len - start - QUEUE_HEADER_SIZE;
	if (env_len > QUEUE_ENVELOPE_MAX) {
		str_truncate(out, start);
		*error_r = "envelope larger than 16 MiB";
		return -1;
	}
	queue_put_le((unsigned char *)out->data + start + 12, env_len, 4);
	return 1;
}

void queue_file_encode_trailer(uint64_t content_size, struct str *out)
{
	unsigned char t[QUEUE_TRAILER_SIZE];

	memset(t, 0, sizeof(t));
	memcpy(t, QUEUE_TRAILER_MAGIC, 4);
	queue_put_le(t + 8, content_size, 8);
	str_append(out, t, sizeof(t));
}
