/* cmd_data.c: DATA and BDAT, from the command to the per-recipient
 * replies. The framing is smtpd's (lib/smtp_data.c: only CRLF "." CRLF ends
 * DATA, dot-unstuffing, bare CR, bare LF, NUL and size checks across BDAT
 * chunks), so nothing a client sends can be taken for a command that the
 * MTA in front did not mean. The content goes, in the local convention
 * (lines ending in LF, as local stores it), into an unlinked spool file
 * in lmtpd_temp_directory, so a large message costs no memory; once it is
 * complete deliver.c copies it into each recipient's Maildir. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "lmtpd.h"
#include "msg.h"
#include "smtp_parse.h"

/* An unlinked read-write file: O_TMPFILE where the file system has it,
 * else a named file removed at once. */
static int spool_open(const char *dir, const char **error_r)
{
	struct str tmpl;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	str_init(&tmpl, 128);
	str_printf(&tmpl, "%s/lmtpd.XXXXXX", dir);
	fd = mkostemp(tmpl.data, O_CLOEXEC);
	if (fd >= 0)
		(void)unlink(tmpl.data);
	else
		*error_r = strerror(errno);
	str_deinit(&tmpl);
	return fd;
}

void lmtpd_spool_close(struct session *s)
{
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	s->spool_fd = -1;
}

/* Starts the content of the transaction: its ID, an empty spool. Returns
 * 1, or -1 (logged) when there is no spool to write to. */
static int data_begin(struct session *s)
{
	const char *err = "";

	if (s->spool_fd < 0)
		s->spool_fd = spool_open(s->cfg->temp_directory, &err);
	if (s->spool_fd < 0 || ftruncate(s->spool_fd, 0) < 0) {
		msg_warn("cannot create a temporary file in %s: %s",
			 s->cfg->temp_directory,
			 s->spool_fd < 0 ? err : strerror(errno));
		lmtpd_spool_close(s);
		return -1;
	}
	queue_id_new(s->queue_id);
	msg_set_queue_id(s->queue_id);
	msg_info("client=%s[%s]", s->client_name, s->client_addr);
	smtpd_data_init(&s->data, s->cfg->message_size_limit);
	str_clear(&s->content);
	s->spool_size = 0;
	s->spool_failed = false;
	return 1;
}

/* Writes the buffered content to the spool, each CRLF as LF. The framing
 * leaves no other CR while the message is good, except one at the very
 * end of a BDAT chunk, which waits for the next bytes. */
static void data_flush(struct session *s)
{
	char *p = s->content.data;
	size_t n = s->content.len, j = 0;
	bool keep_cr = false;
	const char *err;

	if (s->data.flags != 0 || s->spool_failed || n == 0) {
		str_clear(&s->content);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 == n)
			keep_cr = true;
		else if (!(p[i] == '\r' && p[i + 1] == '\n'))
			p[j++] = p[i];
	}
	if (file_write_all(s->spool_fd, p, j, &err) < 0) {
		msg_warn("write temporary file: %s", err);
		s->spool_failed = true;
	}
	s->spool_size += j;
	str_clear(&s->content);
	if (keep_cr)
		str_putc(&s->content, '\r');
}

/* The end of the content: every recipient gets its reply. */
static void data_finish(struct session *s)
{
	const char *reply;

	data_flush(s);
	reply = smtpd_data_error_reply(s->data.flags);
	if (reply != NULL)
		msg_info("reject: %s from %s[%s]: %s; from=<%s>",
			 s->state == LMTPD_DATA ? "DATA" : "BDAT",
			 s->client_name, s->client_addr, reply, s->sender);
	else if (s->spool_failed)
		reply = "451 4.3.0 Error: temporary file write error";
	lmtpd_deliver_all(s, reply);
	lmtpd_transaction_reset(s);
	lmtpd_enter_state(s, LMTPD_IDLE);
}

void lmtpd_cmd_data(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (len > 0) {
		lmtpd_reply_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (data_begin(s) < 0) {
		lmtpd_reply(s, "451 4.3.0 Error: temporary file write error");
		return;
	}
	lmtpd_enter_state(s, LMTPD_DATA);
	lmtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

void lmtpd_data_input(struct session *s, const struct iobuf_line *line,
		      bool too_long)
{
	if (too_long)
		smtpd_data_line_dropped(&s->data, line->eol);
	else if (smtpd_data_line(&s->data, line->data, line->len, line->eol,
				 &s->content) == 1) {
		data_finish(s);
		return;
	}
	if (s->data.flags & DATA_F_BARE_LF) {
		lmtpd_bare_lf_close(s);
		return;
	}
	if (s->content.len >= LMTPD_WRITE_BLOCK)
		data_flush(s);
}

static void bdat_chunk_done(struct session *s)
{
	const char *reply;

	data_flush(s);
	if (s->bdat_last) {
		smtpd_data_chunk_end(&s->data);
		data_finish(s);
		return;
	}
	lmtpd_enter_state(s, LMTPD_CHUNKING);
	reply = smtpd_data_error_reply(s->data.flags);
	if (reply == NULL && s->spool_failed)
		reply = "451 4.3.0 Error: temporary file write error";
	if (reply != NULL)
		lmtpd_reply(s, "%s", reply);
	else
		lmtpd_reply(s, "250 2.0.0 Ok: %llu bytes",
			    (unsigned long long)s->data.size);
}

void lmtpd_cmd_bdat(struct session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;

	/* Without a valid count the chunk's bytes cannot be told from the
	 * next command, so the session ends. */
	if (smtpd_parse_bdat(arg, len, &size, &last) <= 0) {
		msg_info("bad BDAT from %s[%s]", s->client_name,
			 s->client_addr);
		lmtpd_close_after(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		return;
	}
	if (s->state == LMTPD_RCPT && data_begin(s) < 0) {
		/* the chunk is still read, then refused per recipient */
		smtpd_data_init(&s->data, s->cfg->message_size_limit);
		s->spool_failed = true;
	}
	s->bdat_last = last;
	s->bdat_left = size;
	if (size == 0) {
		bdat_chunk_done(s);
		return;
	}
	lmtpd_enter_state(s, LMTPD_BDAT);
}

void lmtpd_bdat_input(struct session *s, const void *data, size_t len)
{
	smtpd_data_chunk(&s->data, data, len, &s->content);
	if (s->data.flags & DATA_F_BARE_LF) {
		lmtpd_bare_lf_close(s);
		return;
	}
	s->bdat_left -= len;
	if (s->content.len >= LMTPD_WRITE_BLOCK)
		data_flush(s);
	if (s->bdat_left == 0)
		bdat_chunk_done(s);
}
