/* cache.c: connection reuse. After a delivery whose session ended well,
 * session.c sends RSET instead of QUIT and route.c leaves the connection
 * here, keyed by the request's next hop. qmgr sends the next request for
 * that next hop over the same IPC connection (it keeps an agent that
 * answered reuse=1 bound to the destination), and it goes out over the
 * kept session without a new TCP connection, greeting, EHLO or TLS
 * handshake. A kept session is dropped when another next hop comes,
 * when the server sent anything while it sat idle (a 421, a close),
 * after smtp_connection_reuse_count_limit transactions or
 * smtp_connection_reuse_time_limit seconds, and when qmgr's connection
 * ends (QUIT then; qmgr closes idle agents after
 * smtp_connection_cache_time_limit). */
#include "config.h"

#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mem.h"
#include "msg.h"
#include "smtp.h"

static struct {
	bool valid;
	struct smtp_conn c;
	char *nexthop;
} cache;

uint64_t smtp_now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drops the kept session; QUIT when it is still fine. */
static void cache_drop(const struct smtp_config *cfg, bool quit)
{
	struct smtp_conn *c = &cache.c;

	if (!cache.valid)
		return;
	if (quit && c->error[0] == '\0') {
		smtp_conn_put(c, "QUIT");
		if (smtp_conn_flush(c, cfg->quit_timeout, "sending QUIT") > 0)
			(void)smtp_conn_reply(c, cfg->quit_timeout,
					      "sending QUIT");
	}
	smtp_conn_close(c);
	mem_free(cache.nexthop);
	cache.nexthop = NULL;
	cache.valid = false;
}

/* Nothing may have come from the server while the session was idle. */
static bool cache_quiet(void)
{
	struct pollfd p = {.fd = cache.c.fd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

static bool cache_usable(const struct smtp_config *cfg, const char *nexthop)
{
	if (strcmp(cache.nexthop, nexthop) != 0)
		return false;
	if (cfg->reuse_count_limit > 0 &&
	    cache.c.uses >= cfg->reuse_count_limit)
		return false;
	if (mono_ms() - cache.c.opened_ms >
	    (long long)cfg->reuse_time_limit * 1000)
		return false;
	return cache_quiet();
}

bool smtp_cache_deliver(const struct smtp_config *cfg, struct smtp_msg *msg)
{
	enum smtp_session_end end;
	char fail_dsn[16];
	struct str fail_text;

	if (!cache.valid)
		return false;
	if (!cache_usable(cfg, msg->nexthop)) {
		cache_drop(cfg, cache_quiet());
		return false;
	}
	str_init(&fail_text, 128);
	end =
	    smtp_session_again(cfg, &cache.c, msg, fail_dsn, &fail_text, true);
	if (end != SMTP_SESSION_DONE) {
		/* nothing was decided: a fresh connection may do better */
		msg_info("reused connection to %s failed: %s", cache.c.relay,
			 fail_text.data);
		str_deinit(&fail_text);
		cache_drop(cfg, false);
		msg->xfer_start_usec = 0;
		return false;
	}
	str_deinit(&fail_text);
	msg->conn_use = cache.c.uses;
	if (!cache.c.kept)
		cache_drop(cfg, false);
	return true;
}

void smtp_cache_put(const struct smtp_config *cfg, struct smtp_conn *c,
		    const char *nexthop)
{
	cache_drop(cfg, true);
	cache.c = *c;
	cache.nexthop = mem_strdup(nexthop);
	cache.valid = true;
	/* the caller's copy must not be closed now */
	c->fd = -1;
	c->io = NULL;
	c->tls = NULL;
	str_init(&c->reply, 16);
}

void smtp_cache_close(const struct smtp_config *cfg)
{
	cache_drop(cfg, true);
}
