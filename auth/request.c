/* request.c: the requests of the auth protocol (auth_client.h) against the
 * users table, which is read again whenever its file changes, so that
 * `postern user add` takes effect without a reload. Passwords are never
 * logged; the log says who, from where, and the result. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "auth.h"
#include "auth_client.h"
#include "event.h"
#include "msg.h"

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The current table, or NULL when it cannot be read (tempfail). A table
 * that fails to parse keeps the last good one in service. */
static struct users *current_users(struct auth_state *a)
{
	struct users *u;
	struct stat st;
	const char *err;

	if (stat(a->path, &st) < 0) {
		if (errno != ENOENT) {
			msg_warn("%s: %s", a->path, strerror(errno));
			return a->users;
		}
		if (a->users == NULL || !a->missing) {
			users_free(&a->users);
			a->users = users_new();
			a->missing = true;
		}
		return a->users;
	}
	if (a->users != NULL && !a->missing && same_file(&st, &a->st))
		return a->users;
	if (users_load(a->path, &u, &err) < 0) {
		msg_warn("%s", err);
		return a->users;
	}
	if (a->users != NULL)
		msg_info("users table %s re-read: %zu user(s)", a->path,
			 users_count(u));
	users_free(&a->users);
	a->users = u;
	a->st = st;
	a->missing = false;
	return u;
}

static void log_result(const char *service, const char *client,
		       const char *user, const char *result)
{
	char su[AUTH_USER_MAX + 1], sc[64], ss[32];

	msg_info("service=%s, client=%s, user=<%s>, result=%s",
		 msg_safe(ss, sizeof(ss), service, strlen(service)),
		 msg_safe(sc, sizeof(sc), client, strlen(client)),
		 msg_safe(su, sizeof(su), user, strlen(user)), result);
}

static long op_verify(struct auth_state *a, struct attr_rec *req,
		      struct attr_out *out, const char **error_r)
{
	const char *user, *password, *service, *client;
	const struct user_entry *e = NULL;
	struct users *u;
	struct str canon;
	uint64_t now;
	int ok = 0;
	bool valid;

	if (attr_get_cstr(req, "user", &user, error_r) != 1 ||
	    attr_get_cstr(req, "password", &password, error_r) != 1 ||
	    attr_get_cstr(req, "service", &service, error_r) != 1 ||
	    attr_get_cstr(req, "client", &client, error_r) != 1 ||
	    attr_rec_done(req, error_r) < 0)
		return -1;
	if ((u = current_users(a)) == NULL) {
		attr_put_str(out, "result", "tempfail");
		attr_put_str(out, "user", "");
		log_result(service, client, user, "tempfail");
		return 0;
	}
	str_init(&canon, 64);
	valid =
	    strlen(user) <= AUTH_USER_MAX &&
	    strlen(password) <= USERS_PASSWORD_MAX &&
	    users_canonical(user, strlen(user), a->domain, &canon, error_r) > 0;
	if (valid)
		e = users_find(u, canon.data);
	/* Always one hash computation, user or not, unless this very
	 * password was verified lately (cache.c): no timing oracle. */
	now = event_loop_now(server_loop(a->srv));
	if (e != NULL && auth_cache_hit(canon.data, password, e->hash, now)) {
		ok = 1;
	} else {
		ok = users_password_verify(e != NULL ? e->hash : NULL,
					   password) > 0 &&
		     e != NULL;
		if (ok)
			auth_cache_add(canon.data, password, e->hash, now);
	}
	attr_put_str(out, "result", ok ? "ok" : "fail");
	attr_put_str(out, "user", ok ? canon.data : "");
	log_result(
	    service, client, valid ? canon.data : user,
	    ok ? "ok"
	       : (e == NULL ? "fail (unknown user)" : "fail (wrong password)"));
	str_deinit(&canon);
	if (ok) {
		auth_delay_success(client);
		return 0;
	}
	return (long)auth_delay_failure(client,
					event_loop_now(server_loop(a->srv)));
}

static long op_exists(struct auth_state *a, struct attr_rec *req,
		      struct attr_out *out, const char **error_r)
{
	const char *user;
	struct users *u;
	struct str canon;
	bool yes;

	if (attr_get_cstr(req, "user", &user, error_r) != 1 ||
	    attr_rec_done(req, error_r) < 0)
		return -1;
	if ((u = current_users(a)) == NULL) {
		attr_put_str(out, "result", "tempfail");
		return 0;
	}
	str_init(&canon, 64);
	yes = strlen(user) <= AUTH_USER_MAX &&
	      users_canonical(user, strlen(user), a->domain, &canon, error_r) >
		  0 &&
	      users_find(u, canon.data) != NULL;
	str_deinit(&canon);
	attr_put_str(out, "result", yes ? "yes" : "no");
	return 0;
}

long auth_request(struct auth_state *a, struct attr_rec *req,
		  struct attr_out *out, const char **error_r)
{
	const char *op;

	attr_out_reset(out);
	if (attr_get_cstr(req, "op", &op, error_r) != 1)
		return -1;
	if (strcmp(op, "verify") == 0)
		return op_verify(a, req, out, error_r);
	if (strcmp(op, "exists") == 0)
		return op_exists(a, req, out, error_r);
	*error_r = "unknown op";
	return -1;
}
