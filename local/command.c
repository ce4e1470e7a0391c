/* command.c: alias targets that are commands, "|command args". aliases(5)
 * means a shell command line, so it runs as /bin/sh -c "command args"
 * (the text comes from the alias table the admin wrote, never from the
 * message), with the rights local runs with (mail_store_owner), in a
 * minimal environment: SENDER, RECIPIENT, LOCAL, USER, EXTENSION, DOMAIN,
 * HOME, SHELL, PATH (as local(8) exports them), stdin the message after a
 * "From " line, Return-Path:, X-Original-To: and Delivered-To:, and at
 * most command_time_limit seconds. Its exit status is read as
 * sysexits(3) says (spawn.h); what it printed goes into the bounce. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "content.h"
#include "local.h"
#include "mem.h"
#include "spawn.h"

#define ENV_COUNT 9

struct env {
	struct str vars[ENV_COUNT];
	char *ptrs[ENV_COUNT + 1];
	size_t n;
};

/* NAME=value with control characters made '?': an environment value
 * must not smuggle lines into what the command logs or writes. */
static void env_put(struct env *e, const char *name, const char *value,
		    size_t len)
{
	struct str *s = &e->vars[e->n];

	str_init(s, strlen(name) + len + 2);
	str_printf(s, "%s=", name);
	for (size_t i = 0; i < len; i++)
		str_putc(s, (unsigned char)value[i] < 0x20 ? '?' : value[i]);
	e->ptrs[e->n++] = s->data;
	e->ptrs[e->n] = NULL;
}

static void env_build(const struct local_config *cfg, struct local_msg *msg,
		      const char *rcpt, struct env *e)
{
	const char *at = strrchr(rcpt, '@');
	size_t llen = at != NULL ? (size_t)(at - rcpt) : strlen(rcpt);
	const char *delim = cfg->tables->delimiter;
	size_t ulen = llen;

	if (delim[0] != '\0') {
		ulen = strcspn(rcpt, delim);
		if (ulen > llen || ulen == 0)
			ulen = llen;
	}
	e->n = 0;
	env_put(e, "SENDER", msg->sender, strlen(msg->sender));
	env_put(e, "RECIPIENT", rcpt, strlen(rcpt));
	env_put(e, "LOCAL", rcpt, llen);
	env_put(e, "USER", rcpt, ulen);
	env_put(e, "EXTENSION", ulen < llen ? rcpt + ulen + 1 : "",
		ulen < llen ? llen - ulen - 1 : 0);
	env_put(e, "DOMAIN", at != NULL ? at + 1 : "",
		at != NULL ? strlen(at + 1) : 0);
	env_put(e, "HOME", cfg->home, strlen(cfg->home));
	env_put(e, "SHELL", "/bin/sh", 7);
	env_put(e, "PATH", "/usr/bin:/bin", 13);
}

static void env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		str_deinit(&e->vars[i]);
}

void local_deliver_command(const struct local_config *cfg,
			   struct local_msg *msg, const char *command,
			   const char *rcpt, struct local_result *res)
{
	char *argv[] = {"sh", "-c", (char *)command + 1, NULL};
	struct spawn_result sr;
	struct content_stream in;
	struct env env;
	struct str what, text;
	char dsn[16];
	enum spawn_class cls;

	if (local_loop_check(msg, rcpt, res))
		return;
	env_build(cfg, msg, rcpt, &env);
	content_init(&in, msg->fd, msg->offset, msg->size, 0);
	content_from_line(&in.prefix, msg->sender, time(NULL));
	str_printf(&in.prefix,
		   "Return-Path: <%s>\nX-Original-To: %s\nDelivered-To: %s\n",
		   msg->sender, msg->rcpt, rcpt);
	struct spawn_request req = {.path = "/bin/sh",
				    .argv = argv,
				    .envp = env.ptrs,
				    .time_limit = cfg->command_time_limit,
				    .input = &in};

	str_init(&sr.output, SPAWN_OUTPUT_MAX + 1);
	spawn_run(&req, &sr);
	str_init(&what, 64);
	str_init(&text, 256);
	str_printf(&what, "command \"%s\"", command + 1);
	cls =
	    spawn_classify(&sr, what.data, cfg->command_time_limit, dsn, &text);
	local_result_set(res,
			 cls == SPAWN_OK      ? LOCAL_SENT
			 : cls == SPAWN_DEFER ? LOCAL_DEFERRED
					      : LOCAL_BOUNCED,
			 dsn, "%s", text.data);
	str_deinit(&what);
	str_deinit(&text);
	str_deinit(&sr.output);
	content_deinit(&in);
	env_free(&env);
}
