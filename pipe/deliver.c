/* deliver.c: one request of the pipe agent: the program runs once for
 * all recipients of the request (arguments with per-recipient macros
 * repeated), or once per recipient when flags D or O put a recipient
 * into the message. The result of a run, read as sysexits(3) says
 * (local/spawn.h), is every one of its recipients' result, with the
 * program's output in the text that reaches the bounce. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "content.h"
#include "mem.h"
#include "pipe.h"
#include "spawn.h"

static void rcpt_set(struct pipe_rcpt *r, enum pipe_status status,
		     const char *dsn, const char *text)
{
	r->status = status;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	str_clear(&r->text);
	str_append_cstr(&r->text, text);
	r->done = true;
}

static void prefix_build(const struct pipe_config *cfg,
			 const struct pipe_msg *msg,
			 const struct pipe_rcpt *one, struct str *p)
{
	unsigned f = cfg->flags;

	if (f & PIPE_FLAG_F)
		content_from_line(p, msg->sender, time(NULL));
	if (f & PIPE_FLAG_R)
		str_printf(p, "Return-Path: <%s>\n", msg->sender);
	if (one != NULL && (f & PIPE_FLAG_O))
		str_printf(p, "X-Original-To: %s\n", one->address);
	if (one != NULL && (f & PIPE_FLAG_D))
		str_printf(p, "Delivered-To: %s\n", one->address);
}

static void run_result(const struct pipe_config *cfg, struct spawn_result *sr,
		       struct pipe_rcpt **rs, size_t n)
{
	struct str what, text;
	char dsn[16];
	enum spawn_class cls;

	str_init(&what, 64);
	str_init(&text, 256);
	str_printf(&what, "command \"%s\"", cfg->argv[0] + 5);
	cls = spawn_classify(sr, what.data, cfg->time_limit, dsn, &text);
	if (cls == SPAWN_OK) {
		str_clear(&text);
		str_printf(&text, "delivered via %s service", cfg->service);
	}
	for (size_t i = 0; i < n; i++)
		rcpt_set(rs[i],
			 cls == SPAWN_OK      ? PIPE_SENT
			 : cls == SPAWN_DEFER ? PIPE_DEFERRED
					      : PIPE_BOUNCED,
			 dsn, text.data);
	str_deinit(&what);
	str_deinit(&text);
}

/* Runs the program once for rs[0..n). */
static void run_once(const struct pipe_config *cfg, struct pipe_msg *msg,
		     struct pipe_rcpt **rs, size_t n)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	struct pipe_argv argv = {0};
	struct content_stream in;
	struct spawn_result sr;
	const char *err;
	unsigned cf = (cfg->flags & PIPE_FLAG_DOT ? CONTENT_DOT : 0) |
		      (cfg->flags & PIPE_FLAG_FROM ? CONTENT_QUOTE_FROM : 0) |
		      (cfg->flags & PIPE_FLAG_B ? CONTENT_BLANK_END : 0);

	if (pipe_argv_build(cfg, msg, rs, n, &argv, &err) <= 0) {
		for (size_t i = 0; i < n; i++)
			rcpt_set(rs[i], PIPE_BOUNCED, "5.1.3", err);
		pipe_argv_free(&argv);
		return;
	}
	content_init(&in, msg->fd, msg->offset, msg->size, cf);
	prefix_build(cfg, msg, n == 1 ? rs[0] : NULL, &in.prefix);
	struct spawn_request req = {.path = argv.v[0],
				    .argv = argv.v,
				    .envp = env,
				    .time_limit = cfg->time_limit,
				    .input = &in};

	str_init(&sr.output, SPAWN_OUTPUT_MAX + 1);
	spawn_run(&req, &sr);
	run_result(cfg, &sr, rs, n);
	str_deinit(&sr.output);
	content_deinit(&in);
	pipe_argv_free(&argv);
}

/* Flag D: a message that already went to this recipient is a loop. */
static bool loop_found(const struct pipe_config *cfg, struct pipe_msg *msg,
		       struct pipe_rcpt *r)
{
	char text[600];

	if (!(cfg->flags & PIPE_FLAG_D) ||
	    content_header_count(&msg->headers, "Delivered-To", r->address) ==
		0)
		return false;
	snprintf(text, sizeof(text), "mail forwarding loop for %s", r->address);
	rcpt_set(r, PIPE_BOUNCED, "5.4.6", text);
	return true;
}

static bool precheck(const struct pipe_config *cfg, struct pipe_msg *msg)
{
	const char *err;
	char text[300];

	if (cfg->size_limit != 0 && msg->size > cfg->size_limit) {
		snprintf(text, sizeof(text),
			 "message too large for the %s service", cfg->service);
		for (size_t i = 0; i < msg->rcpt_count; i++)
			rcpt_set(&msg->rcpts[i], PIPE_BOUNCED, "5.2.3", text);
		return false;
	}
	if ((cfg->flags & PIPE_FLAG_D) &&
	    content_read_headers(msg->fd, msg->offset, msg->size, &msg->headers,
				 &err) < 0) {
		snprintf(text, sizeof(text), "cannot read queue file: %s", err);
		for (size_t i = 0; i < msg->rcpt_count; i++)
			rcpt_set(&msg->rcpts[i], PIPE_DEFERRED, "4.3.0", text);
		return false;
	}
	return true;
}

void pipe_deliver(const struct pipe_config *cfg, struct pipe_msg *msg)
{
	bool each = cfg->flags & (PIPE_FLAG_D | PIPE_FLAG_O);
	struct pipe_rcpt **rs;
	size_t n = 0;

	if (!precheck(cfg, msg))
		return;
	rs = mem_calloc(msg->rcpt_count, sizeof(*rs));
	for (size_t i = 0; i < msg->rcpt_count; i++) {
		struct pipe_rcpt *r = &msg->rcpts[i];

		if (loop_found(cfg, msg, r))
			continue;
		if (each)
			run_once(cfg, msg, &r, 1);
		else
			rs[n++] = r;
	}
	if (n > 0)
		run_once(cfg, msg, rs, n);
	mem_free(rs);
}
