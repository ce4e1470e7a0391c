/* retrieve.c: the commands with multi-line replies: LIST and UIDL (one
 * line per message) and RETR and TOP (a message, CRLF and dot-stuffed by
 * parse.c). Each runs as a job so that a large maildrop or message is sent
 * in pieces while the client reads, never held whole in the output. */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "msg.h"
#include "pop3d.h"

/* Listing lines written per step of a LIST/UIDL job. */
#define LISTING_STEP 512
/* Message bytes converted per step of RETR/TOP (the output is at most
 * twice as long: CRLF and dot-stuffing). */
#define MESSAGE_STEP 65536

struct listing {
	size_t next;
	bool uidl;
};

/* One listing line: "n size" or "n unique-id". The unique-id is
 * "UIDVALIDITY.UID" of the message in INBOX: the same for every session
 * and for IMAP, whatever happens to the flags (postern-pop3d(8)). */
static void listing_line(struct session *s, size_t idx, bool uidl)
{
	if (uidl)
		pop3d_printf(s, "%zu %lu.%lu", idx + 1,
			     (unsigned long)s->uidvalidity,
			     (unsigned long)s->msgs[idx].uid);
	else
		pop3d_printf(s, "%zu %llu", idx + 1,
			     (unsigned long long)s->msgs[idx].size);
}

static bool listing_run(struct session *s, void *ctx)
{
	struct listing *l = ctx;

	for (unsigned n = 0; n < LISTING_STEP && l->next < s->msg_count;
	     l->next++) {
		if (s->msgs[l->next].deleted)
			continue;
		listing_line(s, l->next, l->uidl);
		n++;
	}
	if (l->next < s->msg_count)
		return false;
	pop3d_printf(s, ".");
	return true;
}

static void listing_free(void *ctx)
{
	mem_free(ctx);
}

static void cmd_listing(struct session *s, const struct pop3_cmd *cmd,
			bool uidl)
{
	struct pop3d_job job = {.run = listing_run, .free = listing_free};
	struct listing *l;
	size_t idx;

	if (cmd->argc > 1) {
		pop3d_err(s, true, "Usage: %s [msg]", cmd->verb);
		return;
	}
	if (cmd->argc == 1) {
		if (pop3d_msg_arg(s, cmd->args[0], cmd->arg_lens[0], &idx) < 0)
			return;
		pop3d_write(s, "+OK ", 4);
		listing_line(s, idx, uidl);
		return;
	}
	pop3d_printf(s, "+OK %s",
		     uidl ? "Unique-ID listing follows"
			  : "Scan listing follows");
	l = mem_calloc(1, sizeof(*l));
	l->uidl = uidl;
	job.ctx = l;
	pop3d_job_start(s, &job);
}

void pop3d_cmd_list(struct session *s, const struct pop3_cmd *cmd)
{
	cmd_listing(s, cmd, false);
}

void pop3d_cmd_uidl(struct session *s, const struct pop3_cmd *cmd)
{
	cmd_listing(s, cmd, true);
}

struct message {
	struct str content; /* the stored message (LF form) */
	size_t pos;
	struct pop3_msgout conv;
	struct str out;
};

static bool message_run(struct session *s, void *ctx)
{
	struct message *m = ctx;
	size_t n = m->content.len - m->pos;
	bool end;

	if (n > MESSAGE_STEP)
		n = MESSAGE_STEP;
	str_clear(&m->out);
	m->pos +=
	    pop3_msgout_add(&m->conv, m->content.data + m->pos, n, &m->out);
	end = m->pos == m->content.len || m->conv.done;
	if (end)
		pop3_msgout_finish(&m->conv, &m->out);
	pop3d_write(s, m->out.data, m->out.len);
	return end;
}

static void message_free(void *ctx)
{
	struct message *m = ctx;

	str_deinit(&m->content);
	str_deinit(&m->out);
	mem_free(m);
}

/* Sends message idx: whole, or (top) its header and first lines lines. */
static void send_message(struct session *s, size_t idx, bool top,
			 uint64_t lines)
{
	struct pop3d_job job = {.run = message_run, .free = message_free};
	struct message *m = mem_calloc(1, sizeof(*m));
	const char *err;
	int r;

	str_init(&m->content, 0);
	r = pop3d_maildrop_read(s, idx, &m->content, &err);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s: user %s: %s", s->client_addr, s->user,
				 err);
		message_free(m);
		pop3d_err(s, false,
			  r == 0 ? "Message was removed by another session"
				 : "[SYS/TEMP] Cannot read the message");
		return;
	}
	if (top) {
		pop3d_printf(s, "+OK Top of message follows");
	} else {
		pop3d_printf(s, "+OK %llu octets",
			     (unsigned long long)s->msgs[idx].size);
		s->msgs[idx].retrieved = true;
		s->retr_count++;
		s->retr_bytes += s->msgs[idx].size;
	}
	pop3_msgout_init(&m->conv, top, lines);
	str_init(&m->out, 2 * MESSAGE_STEP + 16);
	job.ctx = m;
	pop3d_job_start(s, &job);
}

void pop3d_cmd_retr(struct session *s, const struct pop3_cmd *cmd)
{
	size_t idx;

	if (cmd->argc != 1) {
		pop3d_err(s, true, "Usage: RETR msg");
		return;
	}
	if (pop3d_msg_arg(s, cmd->args[0], cmd->arg_lens[0], &idx) < 0)
		return;
	send_message(s, idx, false, 0);
}

void pop3d_cmd_top(struct session *s, const struct pop3_cmd *cmd)
{
	size_t idx;
	uint64_t lines;
	int r;

	if (cmd->argc != 2) {
		pop3d_err(s, true, "Usage: TOP msg n");
		return;
	}
	r = pop3_parse_number(cmd->args[1], cmd->arg_lens[1], UINT64_MAX,
			      &lines);
	if (r < 0) {
		pop3d_err(s, true, "Invalid number of lines");
		return;
	}
	if (r == 0)
		lines = UINT64_MAX; /* more than any message has */
	if (pop3d_msg_arg(s, cmd->args[0], cmd->arg_lens[0], &idx) < 0)
		return;
	send_message(s, idx, true, lines);
}
