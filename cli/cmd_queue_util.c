/* cmd_queue_util.c: what the queue commands and mailq share (cmd_queue.h):
 * exit codes, the per-recipient reasons read back from the status logs
 * that qmgr writes (defer/ID, bounce/ID), and safe text for the terminal
 * and for JSON. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_queue.h"
#include "htable.h"
#include "mem.h"

int qcmd_exit_code(int err)
{
	return err == EACCES || err == EPERM ? QCMD_EX_NOPERM
					     : QCMD_EX_UNAVAILABLE;
}

int qcmd_parse_id(const char *arg, char id_r[QUEUE_ID_SIZE])
{
	size_t n = strcspn(arg, "*!#");

	if (n != QUEUE_ID_LEN || strspn(arg + n, "*!#") != strlen(arg + n) ||
	    !queue_id_valid_mem(arg, n))
		return 0;
	memcpy(id_r, arg, QUEUE_ID_LEN);
	id_r[QUEUE_ID_LEN] = '\0';
	return 1;
}

/* ---- status logs ---- */

struct reason {
	char *status;
	char *text;
};

struct qcmd_reasons {
	struct htable *t; /* address -> struct reason */
};

/* The block being read. */
struct block {
	struct str rcpt, status, text;
	bool has_rcpt;
};

static char reasons_errbuf[256];

static void reason_free(void *v)
{
	struct reason *r = v;

	mem_free(r->status);
	mem_free(r->text);
	mem_free(r);
}

/* Ends the block: its result replaces any earlier one of the recipient. */
static void block_commit(struct qcmd_reasons *r, struct block *b)
{
	struct reason *old;

	if (b->has_rcpt && b->rcpt.len > 0) {
		if (htable_find(r->t, b->rcpt.data, (void **)&old) == 1) {
			mem_free(old->status);
			mem_free(old->text);
		} else {
			old = mem_calloc(1, sizeof(*old));
			htable_insert(r->t, b->rcpt.data, old);
		}
		old->status = mem_strdup(b->status.data);
		old->text = mem_strdup(b->text.data);
	}
	b->has_rcpt = false;
	str_clear(&b->rcpt);
	str_clear(&b->status);
	str_clear(&b->text);
}

static void block_line(struct qcmd_reasons *r, struct block *b,
		       const char *line, size_t len)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {{"recipient=", offsetof(struct block, rcpt)},
		    {"status=", offsetof(struct block, status)},
		    {"reason=", offsetof(struct block, text)}};

	if (len == 0) {
		block_commit(r, b);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t klen = strlen(keys[i].key);

		if (len < klen || memcmp(line, keys[i].key, klen) != 0)
			continue;
		/* A new recipient without a blank line first: a new block. */
		if (i == 0 && b->has_rcpt)
			block_commit(r, b);
		if (i == 0)
			b->has_rcpt = true;
		str_set((struct str *)((char *)b + keys[i].off), line + klen,
			len - klen);
		return;
	}
}

/* Splits the bytes read so far into lines; a line longer than the limit
 * keeps its first QCMD_REASON_LINE_MAX bytes. */
static void reasons_feed(struct qcmd_reasons *r, struct block *b,
			 struct str *pending, bool *skipping, const char *data,
			 size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - data) : len;

		if (!*skipping) {
			size_t room = QCMD_REASON_LINE_MAX - pending->len;
			str_append(pending, data, n < room ? n : room);
		}
		if (nl == NULL)
			return;
		block_line(r, b, pending->data, pending->len);
		str_clear(pending);
		*skipping = false;
		data += n + 1;
		len -= n + 1;
	}
	*skipping = pending->len >= QCMD_REASON_LINE_MAX;
}

static int reasons_read(struct qcmd_reasons *r, int fd, const char **error_r)
{
	struct block b = {.has_rcpt = false};
	struct str pending;
	char buf[65536];
	size_t total = 0;
	bool skipping = false;
	ssize_t n;
	int ret = 1;

	str_init(&b.rcpt, 64);
	str_init(&b.status, 16);
	str_init(&b.text, 128);
	str_init(&pending, 256);
	while (total < QCMD_REASON_LOG_MAX &&
	       (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(reasons_errbuf, sizeof(reasons_errbuf),
				 "read status log: %s", strerror(errno));
			*error_r = reasons_errbuf;
			ret = -1;
			break;
		}
		reasons_feed(r, &b, &pending, &skipping, buf, (size_t)n);
		total += (size_t)n;
	}
	if (pending.len > 0)
		block_line(r, &b, pending.data, pending.len);
	block_commit(r, &b);
	str_deinit(&pending);
	str_deinit(&b.rcpt);
	str_deinit(&b.status);
	str_deinit(&b.text);
	return ret;
}

int qcmd_reasons_load(struct queue_dir *qd, enum queue_name log, const char *id,
		      struct qcmd_reasons **r_r, const char **error_r)
{
	struct qcmd_reasons *r = mem_calloc(1, sizeof(*r));
	int dfd = queue_dir_fd(qd, log, error_r), fd, ret = 1;

	r->t = htable_new(0);
	*r_r = r;
	if (dfd < 0 && errno == ENOENT)
		return 1; /* no such folder: no log */
	if (dfd < 0) {
		qcmd_reasons_free(r_r);
		return -1;
	}
	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(reasons_errbuf, sizeof(reasons_errbuf),
			 "open %s/%s: %s", queue_name_str(log), id,
			 strerror(errno));
		*error_r = reasons_errbuf;
		qcmd_reasons_free(r_r);
		return -1;
	}
	ret = reasons_read(r, fd, error_r);
	close(fd);
	if (ret < 0)
		qcmd_reasons_free(r_r);
	return ret;
}

const char *qcmd_reasons_get(const struct qcmd_reasons *r, const char *address,
			     const char **status_r)
{
	struct reason *v;

	if (r == NULL || htable_find(r->t, address, (void **)&v) != 1)
		return NULL;
	if (status_r != NULL)
		*status_r = v->status;
	return v->text;
}

void qcmd_reasons_free(struct qcmd_reasons **rp)
{
	if (*rp == NULL)
		return;
	htable_free(&(*rp)->t, reason_free);
	mem_free(*rp);
}

/* ---- text ---- */

void qcmd_time_str_year(time_t t, char *buf)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
					"Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(buf, 32, "%-24s", "??");
		return;
	}
	snprintf(buf, 32, "%s %s%3d %02d:%02d:%02d %d", days[tm.tm_wday],
		 months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, tm.tm_year + 1900);
}

void qcmd_time_str(time_t t, char *buf)
{
	char full[32];

	qcmd_time_str_year(t, full);
	memcpy(buf, full, 19);
	buf[19] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0. C1 controls
 * (U+0080-U+009F) count as invalid: terminals obey some of them. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	if (c == 0xc2 && p[1] < 0xa0)
		return 0;
	return n;
}

void qcmd_put_printable(struct str *out, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t left = strlen(text);

	while (left > 0) {
		size_t n = utf8_len(p, left);

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			str_putc(out, '?');
			n = n == 0 ? 1 : n;
		} else {
			str_append(out, p, n);
		}
		p += n;
		left -= n;
	}
}

void qcmd_put_json(struct str *out, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t left = strlen(text);

	while (left > 0) {
		size_t n = utf8_len(p, left);
		const char *esc = NULL;

		if (n == 0) {
			str_putc(out, '?');
			n = 1;
		} else if (n > 1) {
			str_append(out, p, n);
		} else if (*p == '"' || *p == '\\') {
			str_putc(out, '\\');
			str_putc(out, *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			esc = *p == '\b'   ? "\\b"
			      : *p == '\f' ? "\\f"
			      : *p == '\n' ? "\\n"
			      : *p == '\r' ? "\\r"
			      : *p == '\t' ? "\\t"
					   : NULL;
			if (esc != NULL)
				str_append_cstr(out, esc);
			else
				str_printf(out, "\\u%04X", *p);
		} else {
			str_putc(out, *p);
		}
		p += n;
		left -= n;
	}
}

int qcmd_write_stdout(const struct str *s)
{
	size_t done = 0;

	while (done < s->len) {
		ssize_t n = write(STDOUT_FILENO, s->data + done, s->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE ? 0 : -1;
		done += (size_t)n;
	}
	return 1;
}
