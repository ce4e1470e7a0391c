/* sendmail_stream.c: the sendmail -> postdrop stream (sendmail_stream.h):
 * envelope encoder and strict parser, and the line-end filter postdrop
 * applies to the content before it goes into maildrop/. */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "queue_file.h"
#include "sendmail_stream.h"

void drop_envelope_free(struct drop_envelope *env)
{
	mem_free(env->sender);
	mem_free(env->full_name);
	mem_free(env->envid);
	for (size_t i = 0; i < env->rcpt_count; i++)
		mem_free(env->rcpts[i]);
	mem_free(env->rcpts);
	memset(env, 0, sizeof(*env));
}

static void drop_envelope_add_rcpt_n(struct drop_envelope *env,
				     const char *rcpt, size_t len)
{
	if (env->rcpt_count == env->rcpt_cap) {
		env->rcpt_cap =
		    env->rcpt_cap == 0 ? 4 : size_mul(env->rcpt_cap, 2);
		env->rcpts = mem_realloc(
		    env->rcpts, size_mul(env->rcpt_cap, sizeof(char *)));
	}
	env->rcpts[env->rcpt_count++] = mem_strndup(rcpt, len);
}

void drop_envelope_add_rcpt(struct drop_envelope *env, const char *rcpt)
{
	drop_envelope_add_rcpt_n(env, rcpt, strlen(rcpt));
}

void drop_record_head(struct str *out, char type, size_t len)
{
	unsigned char head[DROP_RECORD_HEAD];

	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	str_append(out, head, sizeof(head));
}

static size_t get_u32(const unsigned char *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	       p[3];
}

int drop_chunk_head(const void *head, size_t *len_r, bool *end_r,
		    const char **error_r)
{
	const unsigned char *p = head;
	size_t len = get_u32(p + 1);

	*end_r = p[0] == 'E';
	if ((p[0] != 'C' && p[0] != 'E') || (p[0] == 'E' && len != 0) ||
	    len > DROP_CHUNK_MAX) {
		*error_r = "malformed content record";
		return -1;
	}
	*len_r = len;
	return 1;
}

static int put_record(struct str *out, char type, const char *what,
		      const void *value, size_t len, const char **error_r)
{
	if (type != 'N' && type != 'T' && type != 'M' &&
	    queue_value_check(what, value, len, error_r) < 0)
		return -1;
	drop_record_head(out, type, len);
	str_append(out, value, len);
	return 1;
}

int drop_envelope_encode(const struct drop_envelope *env, struct str *out,
			 const char **error_r)
{
	unsigned char n = (unsigned char)env->notify;
	unsigned char t = (unsigned char)env->ret;

	if (env->rcpt_count == 0) {
		*error_r = "no recipients";
		return -1;
	}
	if (env->rcpt_count > DROP_RCPT_MAX) {
		*error_r = "too many recipients";
		return -1;
	}
	str_append(out, DROP_MAGIC, DROP_MAGIC_LEN);
	if (put_record(out, 'S', "sender", env->sender, strlen(env->sender),
		       error_r) < 0)
		return -1;
	if (env->full_name != NULL &&
	    put_record(out, 'F', "full name", env->full_name,
		       strlen(env->full_name), error_r) < 0)
		return -1;
	if (env->envid != NULL && put_record(out, 'V', "ENVID", env->envid,
					     strlen(env->envid), error_r) < 0)
		return -1;
	if (env->notify != 0)
		put_record(out, 'N', NULL, &n, 1, error_r);
	if (env->ret != 0)
		put_record(out, 'T', NULL, &t, 1, error_r);
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (put_record(out, 'R', "recipient", env->rcpts[i],
			       strlen(env->rcpts[i]), error_r) < 0)
			return -1;
	return put_record(out, 'M', NULL, "", 0, error_r);
}

/* Stores one string record; a field may appear once. */
static int take_string(char **field, const char *what, const char *value,
		       size_t len, const char **error_r)
{
	if (*field != NULL) {
		*error_r = what;
		return -1;
	}
	if (queue_value_check("value", value, len, error_r) < 0)
		return -1;
	*field = mem_strndup(value, len);
	return 1;
}

static int take_byte(unsigned *field, bool *seen, const char *what,
		     const unsigned char *value, size_t len, unsigned max,
		     const char **error_r)
{
	if (*seen || len != 1 || value[0] == 0 || value[0] > max) {
		*error_r = what;
		return -1;
	}
	*seen = true;
	*field = value[0];
	return 1;
}

static int take_record(struct drop_envelope *env, unsigned type,
		       const unsigned char *v, size_t len, bool seen[2],
		       const char **error_r)
{
	switch (type) {
	case 'S':
		return take_string(&env->sender, "duplicate sender",
				   (const char *)v, len, error_r);
	case 'F':
		return take_string(&env->full_name, "duplicate full name",
				   (const char *)v, len, error_r);
	case 'V':
		return take_string(&env->envid, "duplicate ENVID",
				   (const char *)v, len, error_r);
	case 'N':
		if (take_byte(&env->notify, &seen[0], "bad NOTIFY record", v,
			      len, 0x0f, error_r) < 0)
			return -1;
		if ((env->notify & QUEUE_NOTIFY_NEVER) &&
		    env->notify != QUEUE_NOTIFY_NEVER) {
			*error_r = "bad NOTIFY record";
			return -1;
		}
		return 1;
	case 'T':
		return take_byte(&env->ret, &seen[1], "bad RET record", v, len,
				 QUEUE_RET_HDRS, error_r);
	case 'R':
		if (len == 0 || env->rcpt_count >= DROP_RCPT_MAX) {
			*error_r = len == 0 ? "empty recipient"
					    : "too many recipients";
			return -1;
		}
		if (queue_value_check("recipient", (const char *)v, len,
				      error_r) < 0)
			return -1;
		drop_envelope_add_rcpt_n(env, (const char *)v, len);
		return 1;
	default:
		*error_r = "unknown record type";
		return -1;
	}
}

int drop_envelope_parse(const void *data, size_t len, struct drop_envelope *env,
			size_t *consumed_r, const char **error_r)
{
	const unsigned char *p = data;
	size_t pos = DROP_MAGIC_LEN;
	bool seen[2] = {false, false};

	memset(env, 0, sizeof(*env));
	if (memcmp(p, DROP_MAGIC,
		   len < DROP_MAGIC_LEN ? len : DROP_MAGIC_LEN) != 0) {
		*error_r = "bad magic";
		return -1;
	}
	if (len < DROP_MAGIC_LEN)
		return 0;
	for (;;) {
		size_t vlen;
		unsigned type;

		if (len - pos < 5)
			break;
		type = p[pos];
		vlen = get_u32(p + pos + 1);
		if (vlen > QUEUE_VALUE_MAX) {
			*error_r = "record too long";
			return -1;
		}
		if (type == 'M') {
			if (vlen != 0) {
				*error_r = "bad end record";
				return -1;
			}
			if (env->sender == NULL || env->rcpt_count == 0) {
				*error_r = env->sender == NULL
					       ? "no sender"
					       : "no recipients";
				return -1;
			}
			*consumed_r = pos + 5;
			return 1;
		}
		if (len - pos - 5 < vlen)
			break;
		if (take_record(env, type, p + pos + 5, vlen, seen, error_r) <
		    0)
			return -1;
		pos += 5 + vlen;
	}
	drop_envelope_free(env);
	return 0;
}

void drop_crlf_init(struct drop_crlf *f)
{
	memset(f, 0, sizeof(*f));
	f->at_bol = true;
}

int drop_crlf_feed(struct drop_crlf *f, const void *data, size_t len,
		   struct str *out, const char **error_r)
{
	const unsigned char *p = data;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (f->pending_cr) {
			f->pending_cr = false;
			str_append(out, "\r\n", 2);
			f->at_bol = true;
			if (c == '\n') {
				start = i + 1;
				continue;
			}
			start = i;
		}
		if (c == '\0') {
			*error_r = "the message contains a NUL byte";
			return -1;
		}
		if (c == '\r' || c == '\n') {
			str_append(out, p + start, i - start);
			start = i + 1;
			if (c == '\r') {
				f->pending_cr = true;
			} else {
				str_append(out, "\r\n", 2);
				f->at_bol = true;
			}
			continue;
		}
		f->at_bol = false;
	}
	str_append(out, p + start, len - start);
	return 1;
}

void drop_crlf_finish(struct drop_crlf *f, struct str *out)
{
	if (f->pending_cr) {
		f->pending_cr = false;
		str_append(out, "\r\n", 2);
		f->at_bol = true;
	}
	if (!f->at_bol)
		str_append(out, "\r\n", 2);
	f->at_bol = true;
}
