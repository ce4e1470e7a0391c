/* t/unit/queue_file.c: tests for the queue file format (lib/queue_file.c,
 * lib/queue_file_read.c): round trip of every field, the encoder's
 * refusals, the decoder's strictness on crafted and damaged files (every
 * truncation, targeted corruptions, a byte-flip sweep), the checks made on
 * open (mode bit, file type, links). */
#include "config.h"

#include <errno.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "queue_file_int.h"
#include "queue_util.h"

static const char *err;
static char test_id[QUEUE_ID_SIZE];
static const char *content = "Subject: t\r\n\r\nbody line\r\n.dot\r\n";

static struct queue_rcpt rcpts[3] = {
    {"alice@example.com", "rfc822;alice@example.com",
     QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE, QUEUE_RCPT_PENDING},
    {"bob@example.net", NULL, QUEUE_NOTIFY_NEVER, QUEUE_RCPT_DONE},
    {"\"q u\"@\xe4\xbe\x8b\xe3\x81\x88.jp", NULL, 0, QUEUE_RCPT_FAILED},
};

static void full_envelope(struct queue_envelope *env)
{
	static char values[QUEUE_FIELD_COUNT][64];

	memset(env, 0, sizeof(*env));
	memcpy(env->id, test_id, QUEUE_ID_SIZE);
	env->arrival_usec = 1700000000123456ull;
	env->sender = "sender@example.org";
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++) {
		snprintf(values[f], sizeof(values[f]), "v-%s",
			 queue_field_name((enum queue_field)f));
		env->fields[f] = values[f];
	}
	env->ret = QUEUE_RET_HDRS;
	env->msg_flags = QUEUE_MSG_8BITMIME | QUEUE_MSG_SMTPUTF8;
	env->state = QUEUE_STATE_WARNED;
	env->rcpt_count = 3;
	env->rcpts = rcpts;
}

/* header + envelope + content + trailer */
static int make_image(const struct queue_envelope *env, const char *body,
		      struct str *img)
{
	str_clear(img);
	if (queue_file_encode(env, img, &err) < 0)
		return -1;
	str_append_cstr(img, body);
	queue_file_encode_trailer(strlen(body), img);
	return 1;
}

static void test_round_trip(void)
{
	struct queue_envelope env;
	const struct queue_envelope *got;
	struct queue_file *qf;
	struct str img, out;
	int same = 0;

	str_init(&img, 0);
	str_init(&out, 0);
	full_envelope(&env);
	is_int(make_image(&env, content, &img), 1, "encode everything");
	is_int(queue_file_parse_image(img.data, img.len, test_id, &qf, &err), 1,
	       "parse it back");
	got = queue_file_envelope(qf);
	is_str(got->id, test_id, "id");
	is_int((long long)got->arrival_usec, 1700000000123456ll, "arrival");
	is_str(got->sender, "sender@example.org", "sender");
	for (int f = 0; f < QUEUE_FIELD_COUNT; f++)
		same += got->fields[f] &&
			strcmp(got->fields[f], env.fields[f]) == 0;
	is_int(same, QUEUE_FIELD_COUNT, "every optional field");
	is_int(got->ret, QUEUE_RET_HDRS, "RET");
	is_int(got->msg_flags, QUEUE_MSG_8BITMIME | QUEUE_MSG_SMTPUTF8,
	       "flags");
	is_int(got->state, QUEUE_STATE_WARNED, "state");
	is_int(got->rcpt_count, 3, "recipients");
	for (int i = 0; i < 3; i++) {
		is_str(got->rcpts[i].address, rcpts[i].address, "address");
		ok((got->rcpts[i].orcpt == NULL) == (rcpts[i].orcpt == NULL) &&
		       (!rcpts[i].orcpt ||
			strcmp(got->rcpts[i].orcpt, rcpts[i].orcpt) == 0),
		   "orcpt %d", i);
		is_int(got->rcpts[i].notify, rcpts[i].notify, "notify");
		is_int(got->rcpts[i].status, rcpts[i].status, "status");
	}
	is_int((long long)queue_file_content_size(qf),
	       (long long)strlen(content), "content size");
	is_int((long long)queue_file_content_offset(qf),
	       (long long)(img.len - strlen(content) - QUEUE_TRAILER_SIZE),
	       "content offset");
	qt_read_content(qf, &out);
	is_mem(out.data, out.len, content, strlen(content), "content");
	queue_file_close(&qf);
	ok(qf == NULL, "close clears the pointer");

	/* Without the optional parts, and with the null sender. */
	memset(&env.fields, 0, sizeof(env.fields));
	env.sender = "";
	env.ret = QUEUE_RET_NONE;
	env.msg_flags = env.state = 0;
	make_image(&env, "", &img);
	is_int(queue_file_parse_image(img.data, img.len, NULL, &qf, &err), 1,
	       "minimal message parses");
	got = queue_file_envelope(qf);
	ok(got->sender[0] == '\0' && got->fields[QUEUE_FIELD_HELO] == NULL &&
	       queue_file_content_size(qf) == 0,
	   "null sender, no fields, empty content");
	queue_file_close(&qf);
	is_int(queue_file_parse_image(img.data, img.len, "0000000000000000",
				      &qf, &err),
	       -1, "name must match the header's ID");
	ok(errno == EBADMSG && strstr(err, "does not match"), "%s", err);
	str_deinit(&img);
	str_deinit(&out);
}

static void refuse(struct queue_envelope *env, const char *what,
		   const char *want)
{
	struct str img;

	str_init(&img, 0);
	is_int(queue_file_encode(env, &img, &err), -1, what);
	ok(strstr(err, want) != NULL, "error '%s' mentions '%s'", err, want);
	is_int(img.len, 0, "nothing appended");
	str_deinit(&img);
	full_envelope(env);
}

static void test_encoder_refuses(void)
{
	static const char *const ctl[] = {"a\rb", "a\nb", "a\tb", "a\x7f",
					  "\x01"};
	struct queue_rcpt r = rcpts[0];
	struct queue_envelope env;
	char *big = mem_alloc(QUEUE_VALUE_MAX + 2);
	struct str img;

	full_envelope(&env);
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		env.sender = ctl[i];
		refuse(&env, "control character in sender", "control");
	}
	env.fields[QUEUE_FIELD_HELO] = "x\r\nRCPT TO:<evil>";
	refuse(&env, "CRLF in HELO", "helo_name contains a control");
	env.rcpts = &r;
	env.rcpt_count = 1;
	r.address = "a\n@b";
	refuse(&env, "LF in recipient", "recipient");
	env.rcpts = &r;
	env.rcpt_count = 1;
	r = rcpts[0];
	r.address = "";
	refuse(&env, "empty recipient", "empty recipient");
	env.rcpts = &r;
	env.rcpt_count = 1;
	r = rcpts[0];
	r.orcpt = "";
	refuse(&env, "empty ORCPT", "empty ORCPT");
	env.rcpts = &r;
	env.rcpt_count = 1;
	r = rcpts[0];
	r.notify = QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_DELAY;
	refuse(&env, "NOTIFY=NEVER with another", "NOTIFY");
	env.rcpt_count = 0;
	refuse(&env, "no recipients", "no recipients");
	env.msg_flags = QUEUE_MSG_8BITMIME | QUEUE_MSG_BINARYMIME;
	refuse(&env, "8BITMIME and BINARYMIME", "flags");
	env.ret = (enum queue_ret)3;
	refuse(&env, "unknown RET", "RET");
	env.sender = NULL;
	refuse(&env, "no sender", "no sender");
	env.id[3] = 'u';
	refuse(&env, "bad ID", "queue ID");

	memset(big, 'x', QUEUE_VALUE_MAX + 1);
	env.fields[QUEUE_FIELD_TLS_PEER] = big;
	refuse(&env, "value over the limit", "longer than 2048");
	big[QUEUE_VALUE_MAX] = '\0';
	env.fields[QUEUE_FIELD_TLS_PEER] = big;
	str_init(&img, 0);
	is_int(queue_file_encode(&env, &img, &err), 1, "value at the limit");
	str_deinit(&img);
	mem_free(big);
}

/* Many recipients, the recipient limit and the envelope size limit. */
static void test_many(void)
{
	struct queue_rcpt *many = mem_calloc(QUEUE_RCPT_MAX + 1, sizeof(*many));
	struct queue_envelope env;
	struct queue_file *qf;
	char(*addr)[32] = mem_calloc(10000, 32);
	char *big = mem_alloc(2001);
	int wrong = 0;
	struct str img;

	str_init(&img, 0);
	full_envelope(&env);
	for (int i = 0; i < 10000; i++) {
		snprintf(addr[i], 32, "user%d@example.com", i);
		many[i].address = addr[i];
		many[i].status = QUEUE_RCPT_PENDING;
		many[i].notify = (unsigned)(i % 2) * QUEUE_NOTIFY_DELAY;
	}
	env.rcpts = many;
	env.rcpt_count = 10000;
	make_image(&env, content, &img);
	is_int(queue_file_parse_image(img.data, img.len, NULL, &qf, &err), 1,
	       "10,000 recipients parse");
	for (int i = 0; i < 10000; i++) {
		const struct queue_rcpt *r = &queue_file_envelope(qf)->rcpts[i];
		wrong += strcmp(r->address, addr[i]) != 0 ||
			 r->notify != many[i].notify;
	}
	is_int(wrong, 0, "each recipient in order");
	queue_file_close(&qf);

	for (int i = 0; i <= QUEUE_RCPT_MAX; i++) {
		many[i].address = "a@b";
		many[i].status = QUEUE_RCPT_PENDING;
	}
	env.rcpt_count = QUEUE_RCPT_MAX + 1;
	refuse(&env, "recipient limit", "too many recipients");
	memset(big, 'y', 2000);
	big[2000] = '\0';
	for (int i = 0; i < 9000; i++)
		many[i].address = big;
	env.rcpts = many;
	env.rcpt_count = 9000;
	refuse(&env, "envelope over 16 MiB", "envelope larger");
	str_deinit(&img);
	mem_free(many);
	mem_free(addr);
	mem_free(big);
}

/* Every proper prefix of a valid file, and one byte too many, is refused
 * as corrupt. */
static void test_truncations(void)
{
	struct queue_envelope env;
	struct queue_file *qf;
	struct str img;
	int accepted = 0, not_badmsg = 0;

	str_init(&img, 0);
	full_envelope(&env);
	make_image(&env, content, &img);
	for (size_t len = 0; len < img.len; len++) {
		errno = 0;
		if (queue_file_parse_image(img.data, len, NULL, &qf, &err) >=
		    0) {
			accepted++;
			queue_file_close(&qf);
		} else if (errno != EBADMSG) {
			not_badmsg++;
		}
	}
	is_int(accepted, 0, "every truncation refused");
	is_int(not_badmsg, 0, "as EBADMSG");
	str_putc(&img, 'x');
	is_int(queue_file_parse_image(img.data, img.len, NULL, &qf, &err), -1,
	       "an extra byte is refused");
	str_deinit(&img);
}

static void rec(struct str *s, unsigned char type, const void *v, size_t len)
{
	unsigned char h[3] = {type, (unsigned char)(len & 0xff),
			      (unsigned char)(len >> 8)};

	str_append(s, h, 3);
	str_append(s, v, len);
}

static void rec_str(struct str *s, unsigned char type, const char *v)
{
	rec(s, type, v, strlen(v));
}

static void rec_time(struct str *s)
{
	rec(s, 'T', "\x01\x02\x03\x04\x05\x06\x07\x00", 8);
}

static void rec_rcpt(struct str *s, char status, unsigned char notify,
		     const char *addr)
{
	struct str v;

	str_init(&v, 0);
	str_putc(&v, status);
	str_putc(&v, notify);
	str_append_cstr(&v, addr);
	rec(s, 'R', v.data, v.len);
	str_deinit(&v);
}

/* A whole file around hand-made envelope records. */
static void craft(struct str *img, const struct str *records)
{
	unsigned char h[QUEUE_HEADER_SIZE] = "POSTERNQ\x01";

	queue_put_le(h + 12, records->len, 4);
	memcpy(h + 16, test_id, QUEUE_ID_LEN);
	str_clear(img);
	str_append(img, h, sizeof(h));
	str_append(img, records->data, records->len);
	str_append(img, "x\r\n", 3);
	queue_file_encode_trailer(3, img);
}

static void expect(struct str *records, const char *want, const char *what)
{
	struct queue_file *qf = NULL;
	struct str img;
	int r;

	str_init(&img, 0);
	craft(&img, records);
	errno = 0;
	r = queue_file_parse_image(img.data, img.len, test_id, &qf, &err);
	if (want == NULL) {
		is_int(r, 1, what);
	} else {
		ok(r == -1 && errno == EBADMSG, "refused: %s", what);
		ok(r == 1 || strstr(err, want) != NULL,
		   "error '%s' mentions '%s'", r == 1 ? "" : err, want);
	}
	queue_file_close(&qf);
	str_clear(records);
	str_deinit(&img);
}

static void start(struct str *r, bool time, bool sender)
{
	if (time)
		rec_time(r);
	if (sender)
		rec_str(r, 'S', "a@b");
}

/* Which records, how often, in which order. */
static void test_crafted(void)
{
	struct str r;

	str_init(&r, 0);
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, NULL, "the crafted baseline is valid");
	start(&r, true, true), rec_str(&r, 'S', "x@y"),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "duplicate", "two senders");
	start(&r, true, true), rec_time(&r), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec(&r, 'M', "", 0);
	expect(&r, "duplicate", "two arrival times");
	start(&r, true, true), rec_str(&r, 'h', "a"), rec_str(&r, 'h', "b"),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "duplicate", "a field twice");
	start(&r, true, true), rec_str(&r, 'O', "rfc822;c@d"),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "not after a recipient", "ORCPT before any recipient");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec_str(&r, 'O', "rfc822;c@d"), rec_str(&r, 'O', "rfc822;e@f"),
	    rec(&r, 'M', "", 0);
	expect(&r, "not after a recipient", "two ORCPTs");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'O', "", 0),
	    rec(&r, 'M', "", 0);
	expect(&r, "empty ORCPT", "empty ORCPT");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0),
	    rec_str(&r, 'h', "late");
	expect(&r, "not last", "a record after the end of the envelope");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec(&r, 'M', "z", 1);
	expect(&r, "not empty", "end record with a value");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec_str(&r, 'h', "h");
	expect(&r, "no end-of-envelope", "no end record");
	start(&r, true, false), rec_str(&r, 'h', "helo.example"),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "without", "no sender");
	start(&r, false, true), rec_str(&r, 'h', "helo.example"),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "without", "no arrival time");
	start(&r, true, false), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec(&r, 'M', "", 0);
	expect(&r, "does not fit", "envelope below the minimum size");
	start(&r, true, true), rec_str(&r, 'h', "helo.example"),
	    rec(&r, 'M', "", 0);
	expect(&r, "without", "no recipient");
	start(&r, true, true), rec(&r, 'T', "1234567", 7);
	rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "duplicate", "short second time record");
	str_deinit(&r);
}

/* Values and sizes inside otherwise well-formed records. */
static void test_crafted_values(void)
{
	struct str r;

	str_init(&r, 0);
	rec(&r, 'T', "1234567", 7), rec_str(&r, 'S', ""),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "arrival time record of 7", "time record of 7 bytes");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec(&r, 'Q', "q", 1), rec(&r, 'M', "", 0);
	expect(&r, "unknown record type 0x51", "unknown record type");
	start(&r, true, true), rec(&r, 'R', "R\x00", 2), rec(&r, 'M', "", 0);
	expect(&r, "recipient record of 2", "recipient without address");
	start(&r, true, true), rec_rcpt(&r, 'X', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "recipient status", "unknown status byte");
	start(&r, true, true), rec_rcpt(&r, 'R', 0x11, "c@d"),
	    rec(&r, 'M', "", 0);
	expect(&r, "NOTIFY", "unknown NOTIFY bit");
	rec_time(&r), rec(&r, 'S', "a\0b", 3), rec_rcpt(&r, 'R', 0, "c@d"),
	    rec(&r, 'M', "", 0);
	expect(&r, "control character (0x00)", "NUL inside the sender");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c\r\n@d"),
	    rec(&r, 'M', "", 0);
	expect(&r, "control character (0x0d)", "CR LF inside a recipient");
	start(&r, true, true), rec(&r, 'X', "\0\0\0\0", 4),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "message flags", "flags record of zero");
	start(&r, true, true), rec(&r, 'X', "\x03\0\0\0", 4),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "message flags", "8BITMIME and BINARYMIME");
	start(&r, true, true), rec(&r, 'N', "\x03", 1),
	    rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	expect(&r, "RET", "RET out of range");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	str_truncate(&r, r.len - 3);
	str_append(&r, "h\x09\x00", 3);
	str_append(&r, "abcM\0\0", 6);
	expect(&r, "overruns", "a length past the end of the envelope");
	start(&r, true, true), rec_rcpt(&r, 'R', 0, "c@d"), rec(&r, 'M', "", 0);
	str_truncate(&r, r.len - 3);
	str_append(&r, "M\0", 2);
	expect(&r, "truncated record header", "a cut record header");
	str_deinit(&r);
}

/* Patches one spot of a valid image and expects a refusal naming want. */
static void corrupt(const struct str *good, size_t off, unsigned char byte,
		    const char *want)
{
	struct queue_file *qf = NULL;
	struct str img;

	str_init(&img, 0);
	str_append(&img, good->data, good->len);
	img.data[off] = (char)byte;
	errno = 0;
	is_int(queue_file_parse_image(img.data, img.len, NULL, &qf, &err), -1,
	       want);
	ok(errno == EBADMSG && qf == NULL && strstr(err, want) != NULL,
	   "EBADMSG: %s", err);
	str_deinit(&img);
}

static size_t find(const struct str *s, const char *needle)
{
	const char *p = memmem(s->data, s->len, needle, strlen(needle));

	return p != NULL ? (size_t)(p - s->data) : 0;
}

static void test_corruptions(void)
{
	struct queue_envelope env;
	struct str img;
	size_t t, a;

	str_init(&img, 0);
	full_envelope(&env);
	make_image(&env, content, &img);
	t = img.len - QUEUE_TRAILER_SIZE;
	a = find(&img, "alice@example.com");
	corrupt(&img, 0, 'p', "not a queue file");
	corrupt(&img, 8, 2, "unsupported version 2");
	corrupt(&img, 10, 0x80, "state flags");
	corrupt(&img, 11, 1, "state flags");
	corrupt(&img, 15, 0x7f, "does not fit");
	/* A wrong envelope length that still fits is caught by the
	 * content size in the end mark. */
	corrupt(&img, 12, 3, "content is");
	corrupt(&img, 20, 'o', "invalid queue ID");
	corrupt(&img, t, 'q', "no end mark");
	corrupt(&img, t + 5, 1, "no end mark");
	corrupt(&img, t + 8, (unsigned char)(img.data[t + 8] + 1),
		"content is");
	corrupt(&img, find(&img, "sender@") + 3, '\r', "control character");
	corrupt(&img, find(&img, "sender@") - 3, 'Q', "unknown record type");
	corrupt(&img, a - 2, 'Z', "recipient status");
	corrupt(&img, a - 1, 0x03, "NOTIFY");
	str_deinit(&img);
}

/* Flips every byte of header, envelope and trailer three ways: each
 * mutant is refused or parses into an envelope that encodes again. Only
 * the state byte, the ID and the values may take other valid values. */
static void test_flip_sweep(void)
{
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	struct queue_envelope env;
	struct str img, again;
	int fixed_ok = 0, inconsistent = 0, tried = 0;
	size_t content_at;

	str_init(&img, 0);
	str_init(&again, 0);
	full_envelope(&env);
	make_image(&env, content, &img);
	content_at = img.len - QUEUE_TRAILER_SIZE - strlen(content);
	for (size_t i = 0; i < img.len; i++) {
		bool fixed;
		if (i == content_at)
			i = img.len - QUEUE_TRAILER_SIZE; /* skip content */
		fixed = i < 10 || (i > 10 && i < 16) ||
			i >= img.len - QUEUE_TRAILER_SIZE;
		for (size_t f = 0; f < sizeof(flips); f++) {
			struct queue_file *qf;
			img.data[i] ^= (char)flips[f];
			tried++;
			if (queue_file_parse_image(img.data, img.len, NULL, &qf,
						   &err) > 0) {
				fixed_ok += fixed;
				str_clear(&again);
				inconsistent +=
				    queue_file_encode(queue_file_envelope(qf),
						      &again, &err) < 0;
				queue_file_close(&qf);
			}
			img.data[i] ^= (char)flips[f];
		}
	}
	ok(tried > 600, "%d mutants tried", tried);
	is_int(fixed_ok, 0,
	       "no flip of magic, version, length or end mark "
	       "is accepted");
	is_int(inconsistent, 0, "accepted mutants are valid envelopes");
	str_deinit(&img);
	str_deinit(&again);
}

static void put_file(const char *path, const void *data, size_t len,
		     mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    fchmod(fd, mode) < 0 || close(fd) < 0) {
		tap_diag("put_file %s failed", path);
		exit(2);
	}
}

static int try_open(const char *path, unsigned flags)
{
	struct queue_file *qf = NULL;
	int r;

	errno = 0;
	r = queue_file_open(path, flags, &qf, &err);
	queue_file_close(&qf);
	return r;
}

/* What open checks beyond the format: mode bit, lock, type, links. */
static void test_open_kinds(const char *path, const struct str *img)
{
	struct str other;
	int fd;

	struct queue_file *qf;
	char buf[64];

	put_file(path, img->data, img->len, 0700);
	is_int(try_open(path, 0), 1, "complete file opens");
	queue_file_open(path, 0, &qf, &err);
	ok(truncate(path, (off_t)queue_file_content_offset(qf) + 2) == 0,
	   "the owner shrinks the file after open");
	ok(queue_file_content_read(qf, 0, buf, sizeof(buf), &err) == 2 &&
	       queue_file_content_read(qf, 2, buf, sizeof(buf), &err) == -1 &&
	       errno == EBADMSG,
	   "content read: a short file is an error, not the end: %s", err);
	queue_file_close(&qf);
	put_file(path, img->data, img->len, 0700);
	chmod(path, 0600);
	is_int(try_open(path, 0), 0, "no execute bit: not ready");
	ok(strstr(err, "incomplete") != NULL, "%s", err);
	chmod(path, 0700);
	fd = open(path, O_RDONLY);
	flock(fd, LOCK_EX);
	is_int(try_open(path, 0), 0, "locked by a writer: not ready");
	ok(strstr(err, "locked") != NULL, "%s", err);
	close(fd);

	str_init(&other, 0);
	str_printf(&other, "%s/0000000000000000", tap_tmpdir());
	ok(link(path, other.data) == 0, "hard link");
	ok(try_open(path, 0) == -1 && errno == EBADMSG, "two links refused");
	unlink(other.data);
	ok(symlink(path, other.data) == 0, "symlink");
	ok(try_open(other.data, 0) == -1 && errno == EBADMSG,
	   "symlink refused as corrupt");
	unlink(other.data);
	ok(mkfifo(other.data, 0700) == 0, "fifo");
	ok(try_open(other.data, 0) == -1 && errno == EBADMSG,
	   "fifo refused without hanging");
	unlink(other.data);
	ok(mkdir(other.data, 0700) == 0, "directory");
	ok(try_open(other.data, 0) == -1 && errno == EBADMSG,
	   "directory refused");
	rmdir(other.data);
	ok(try_open(other.data, 0) == -1 && errno == ENOENT,
	   "missing file: ENOENT");
	put_file(other.data, img->data, img->len, 0700);
	ok(try_open(other.data, 0) == -1 && errno == EBADMSG &&
	       strstr(err, "does not match"),
	   "file under another ID refused: %s", err);
	unlink(other.data);
	str_deinit(&other);
}

static void test_marks(const char *path, const struct str *img)
{
	struct queue_file *qf;
	struct str disk;
	int diff = 0;

	put_file(path, img->data, img->len, 0700);
	queue_file_open(path, 0, &qf, &err);
	is_int(queue_file_mark(qf, 0, QUEUE_RCPT_DONE, &err), -1,
	       "no marks through a read-only handle");
	queue_file_close(&qf);
	is_int(queue_file_open(path, QUEUE_OPEN_WRITE, &qf, &err), 1,
	       "open for marks");
	is_int(queue_file_mark_done(qf, 0, &err), 1, "mark 0 done + sync");
	is_int(queue_file_mark(qf, 2, QUEUE_RCPT_FAILED, &err), 1,
	       "same mark again is a no-op");
	is_int(queue_file_mark(qf, 1, QUEUE_RCPT_FAILED, &err), -1,
	       "done cannot become failed");
	is_int(queue_file_mark(qf, 0, QUEUE_RCPT_PENDING, &err), -1,
	       "nothing goes back to pending");
	is_int(queue_file_mark(qf, 3, QUEUE_RCPT_DONE, &err), -1,
	       "index past the recipients");
	is_int(queue_file_set_state(qf, QUEUE_STATE_EXPIRE, &err), 1, "state");
	is_int(queue_file_set_state(qf, 0x40, &err), -1, "unknown state bit");
	is_int(queue_file_sync(qf, &err), 1, "sync");
	queue_file_close(&qf);

	is_int(queue_file_open(path, 0, &qf, &err), 1, "reopen");
	is_int(queue_file_envelope(qf)->rcpts[0].status, QUEUE_RCPT_DONE,
	       "mark survived");
	is_int(queue_file_envelope(qf)->state,
	       QUEUE_STATE_WARNED | QUEUE_STATE_EXPIRE, "state survived");
	queue_file_close(&qf);
	str_init(&disk, 0);
	file_read_all(path, &disk, 0, &err);
	for (size_t i = 0; i < disk.len && disk.len == img->len; i++)
		diff += disk.data[i] != img->data[i];
	is_int(diff, 2, "exactly two bytes changed on disk");
	str_deinit(&disk);
}

/* An envelope larger than the reader's first read (64 KiB). */
static void test_open_big(const char *path)
{
	struct queue_rcpt *many = mem_calloc(5000, sizeof(*many));
	char(*addr)[40] = mem_calloc(5000, 40);
	struct queue_envelope env;
	struct queue_file *qf;
	struct str img, got;

	str_init(&img, 0);
	str_init(&got, 0);
	full_envelope(&env);
	for (int i = 0; i < 5000; i++) {
		snprintf(addr[i], 40, "some.user.%d@example.com", i);
		many[i].address = addr[i];
		many[i].status = QUEUE_RCPT_PENDING;
	}
	env.rcpts = many;
	env.rcpt_count = 5000;
	make_image(&env, content, &img);
	ok(img.len > 100000, "envelope of %zu bytes", img.len);
	put_file(path, img.data, img.len, 0700);
	is_int(queue_file_open(path, QUEUE_OPEN_WRITE, &qf, &err), 1,
	       "big envelope opens from disk");
	is_int(queue_file_envelope(qf)->rcpt_count, 5000, "all recipients");
	is_str(queue_file_envelope(qf)->rcpts[4999].address,
	       "some.user.4999@example.com", "the last one");
	qt_read_content(qf, &got);
	is_mem(got.data, got.len, content, strlen(content), "content after it");
	is_int(queue_file_mark_done(qf, 4999, &err), 1, "mark the last one");
	queue_file_close(&qf);
	queue_file_open(path, 0, &qf, &err);
	is_int(queue_file_envelope(qf)->rcpts[4999].status, QUEUE_RCPT_DONE,
	       "its mark is at the right offset");
	is_int(queue_file_envelope(qf)->rcpts[4998].status, QUEUE_RCPT_PENDING,
	       "its neighbour's is untouched");
	queue_file_close(&qf);
	str_deinit(&img);
	str_deinit(&got);
	mem_free(many);
	mem_free(addr);
}

static void test_open_checks(void)
{
	struct queue_envelope env;
	struct str img, path;
	int bad = 0;

	str_init(&img, 0);
	str_init(&path, 0);
	str_printf(&path, "%s/%s", tap_tmpdir(), test_id);
	full_envelope(&env);
	make_image(&env, content, &img);
	test_open_kinds(path.data, &img);
	test_marks(path.data, &img);
	test_open_big(path.data);
	for (size_t len = 0; len < img.len; len++) {
		put_file(path.data, img.data, len, 0700);
		bad += try_open(path.data, 0) != -1 || errno != EBADMSG;
	}
	is_int(bad, 0, "every truncated file on disk is EBADMSG");
	str_deinit(&img);
	str_deinit(&path);
}

int main(void)
{
	queue_id_make(1700000000123456ull, 4242, test_id);
	test_round_trip();
	test_encoder_refuses();
	test_many();
	test_truncations();
	test_crafted();
	test_crafted_values();
	test_corruptions();
	test_flip_sweep();
	test_open_checks();
	return tap_done();
}
