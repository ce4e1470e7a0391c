/* master_cf.c: the master.cf parser (see master_cf.h). The master reads it
 * at start and on reload; `postern conf -M` and `postern check` show it.
 * Logical lines come from conf_lines.c, so the comment and continuation
 * rules, the line length limit and the refusal of binary bytes are the
 * same as for main.cf. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "conf_internal.h"
#include "master_cf.h"
#include "mem.h"
#include "msg.h"

/* Columns before the command, and the largest numbers they accept. */
#define MASTER_FIELDS 7
#define MASTER_WAKEUP_MAX (100 * 24 * 3600)
#define MASTER_MAXPROC_MAX 100000
#define MASTER_NAME_MAX 100
#define MASTER_OVERRIDES_MAX 256

struct mparse {
	struct master_cf *m;
	struct conf *conf;
	unsigned int flags;
	size_t cap;
	int lineno;
	const char **error_r;
};

static struct str master_error;

static int mfail(struct mparse *mp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int mfail(struct mparse *mp, const char *fmt, ...)
{
	va_list ap;

	if (master_error.data == NULL)
		str_init(&master_error, 128);
	str_clear(&master_error);
	str_printf(&master_error, "%s:%d: ", mp->m->origin, mp->lineno);
	va_start(ap, fmt);
	str_vprintf(&master_error, fmt, ap);
	va_end(ap);
	*mp->error_r = master_error.data;
	return -1;
}

/* mfail() with a quoted piece of input after the text. */
static int mfail_quoted(struct mparse *mp, const char *what, const char *text,
			const char *hint)
{
	struct str q;
	int ret;

	str_init(&q, 64);
	conf_quote(&q, text, strlen(text));
	ret = mfail(mp, "%s %s%s%s%s", what, q.data, hint ? " (" : "",
		    hint ? hint : "", hint ? ")" : "");
	str_deinit(&q);
	return ret;
}

const char *master_type_name(enum master_type type)
{
	static const char *const names[] = {[MASTER_INET] = "inet",
					    [MASTER_UNIX] = "unix",
					    [MASTER_FIFO] = "fifo",
					    [MASTER_PASS] = "pass"};
	return names[type];
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *field_dup(const char *start, size_t len)
{
	/* "{ text }" is one field holding "text". */
	if (len >= 2 && start[0] == '{' && start[len - 1] == '}') {
		start++, len -= 2;
		while (len > 0 && blank(*start))
			start++, len--;
		while (len > 0 && blank(start[len - 1]))
			len--;
	}
	return mem_strndup(start, len);
}

/* Splits at blanks, except inside { }. A field that starts with '{' must
 * end with its matching '}'. */
static int split_fields(struct mparse *mp, const char *s, char ***fields_r,
			size_t *n_r)
{
	size_t n = 0, cap = 16;
	char **f = mem_calloc(cap, sizeof(*f));

	for (;;) {
		const char *start;
		int depth = 0;
		bool closed_early = false;

		while (blank(*s))
			s++;
		if (*s == '\0')
			break;
		for (start = s; *s != '\0' && (depth > 0 || !blank(*s)); s++) {
			if (depth == 0 && s > start && start[0] == '{')
				closed_early = true;
			if (*s == '{')
				depth++;
			else if (*s == '}' && --depth < 0)
				break;
		}
		if (depth != 0 || closed_early) {
			for (size_t i = 0; i < n; i++)
				mem_free(f[i]);
			mem_free(f);
			return mfail(mp, "%s",
				     depth > 0	 ? "missing '}'"
				     : depth < 0 ? "unexpected '}'"
						 : "text after '}'");
		}
		if (n + 1 >= cap) {
			cap = size_mul(cap, 2);
			f = mem_realloc(f, size_mul(cap, sizeof(*f)));
		}
		f[n++] = field_dup(start, (size_t)(s - start));
		f[n] = NULL;
	}
	*fields_r = f;
	*n_r = n;
	return 1;
}

static bool name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s != '\0'; s++)
		if (!conf_name_char(*s) && *s != '-' && !(dots && *s == '.'))
			return false;
	return true;
}

static bool port_ok(const char *port)
{
	long n = 0;

	if (*port >= '0' && *port <= '9') {
		for (; *port >= '0' && *port <= '9' && n <= 65535; port++)
			n = n * 10 + (*port - '0');
		return *port == '\0' && n >= 1 && n <= 65535;
	}
	return name_ok(port, 32, false);
}

/* Why host (len bytes, brackets removed) is no host, or NULL. */
static const char *host_problem(const char *host, size_t len, bool bracketed)
{
	const char *ok = bracketed ? "0123456789abcdefABCDEF:." : NULL;

	if (len == 0)
		return "empty host";
	for (size_t i = 0; i < len; i++) {
		if (bracketed && strchr(ok, host[i]) == NULL)
			return "expected an IPv6 address in brackets";
		if (!bracketed && host[i] == ':')
			return "IPv6 addresses go in brackets: [::1]:port";
		if (!bracketed && !conf_name_char(host[i]) && host[i] != '.' &&
		    host[i] != '-')
			return "expected a host name or address";
	}
	return NULL;
}

/* "port", "host:port" or "[v6addr]:port". */
static int parse_inet(struct mparse *mp, struct master_service *s)
{
	const char *name = s->name, *colon = strrchr(name, ':');
	const char *host = name, *end = colon, *why;

	if (colon == NULL) {
		s->port = mem_strdup(name);
	} else {
		if (name[0] == '[') {
			end = strchr(name, ']');
			if (end == NULL || end + 1 != colon)
				return mfail_quoted(mp, "bad inet service",
						    name,
						    "expected [address]:port");
			host++;
		}
		why = host_problem(host, (size_t)(end - host), name[0] == '[');
		if (why != NULL)
			return mfail_quoted(mp, "bad host in inet service",
					    name, why);
		s->host = mem_strndup(host, (size_t)(end - host));
		s->port = mem_strdup(colon + 1);
	}
	if (!port_ok(s->port))
		return mfail_quoted(mp, "bad port in inet service", name,
				    "a number 1-65535 or a service name");
	return 1;
}

static int parse_type(struct mparse *mp, struct master_service *s,
		      const char *type)
{
	for (int t = MASTER_INET; t <= MASTER_PASS; t++) {
		if (strcmp(type, master_type_name(t)) == 0) {
			s->type = t;
			if (t == MASTER_INET)
				return parse_inet(mp, s);
			if (!name_ok(s->name, MASTER_NAME_MAX, true))
				return mfail_quoted(mp, "bad service name",
						    s->name,
						    "letters, digits, '.', "
						    "'-' and '_'");
			return 1;
		}
	}
	return mfail_quoted(mp, "bad service type", type,
			    "expected inet, unix, fifo or pass");
}

static int parse_yn(struct mparse *mp, const char *col, const char *v, bool def,
		    bool *out)
{
	if (strcmp(v, "-") == 0)
		*out = def;
	else if (strcmp(v, "y") == 0)
		*out = true;
	else if (strcmp(v, "n") == 0)
		*out = false;
	else
		return mfail_quoted(mp, col, v, "expected y, n or -");
	return 1;
}

static int parse_uint(const char *v, unsigned int max, bool question,
		      unsigned int *out, bool *q_r)
{
	unsigned long n = 0;

	if (*v < '0' || *v > '9')
		return -1;
	for (; *v >= '0' && *v <= '9'; v++) {
		n = n * 10 + (unsigned long)(*v - '0');
		if (n > max)
			return -1;
	}
	if (question && *v == '?') {
		*q_r = true;
		v++;
	}
	if (*v != '\0')
		return -1;
	*out = (unsigned int)n;
	return 1;
}

/* Columns 3 to 7. Our chroot default is n, as Postfix's is since 3.0: a
 * chroot needs a populated jail (resolv.conf, time zone, certificates) that
 * a package cannot keep right on every system, and instance mode runs
 * without root, where chroot is impossible. */
static int parse_columns(struct mparse *mp, struct master_service *s, char **f)
{
	bool inet = s->type == MASTER_INET;

	if (parse_yn(mp, "bad private column", f[2], !inet,
		     &s->private_socket) < 0 ||
	    parse_yn(mp, "bad unpriv column", f[3], true, &s->unpriv) < 0 ||
	    parse_yn(mp, "bad chroot column", f[4], false, &s->chroot) < 0)
		return -1;
	if (inet && s->private_socket)
		return mfail(mp,
			     "inet service %s cannot be private (use n or "
			     "- in the private column)",
			     s->name);
	if (strcmp(f[5], "-") != 0 &&
	    parse_uint(f[5], MASTER_WAKEUP_MAX, true, &s->wakeup,
		       &s->wakeup_if_used) < 0)
		return mfail_quoted(mp, "bad wakeup column", f[5],
				    "expected seconds, seconds followed by "
				    "'?', or -");
	if (strcmp(f[6], "-") == 0)
		s->maxproc = (unsigned int)conf_get_int(
		    mp->conf, "default_process_limit");
	else if (parse_uint(f[6], MASTER_MAXPROC_MAX, false, &s->maxproc,
			    NULL) < 0)
		return mfail_quoted(mp, "bad maxproc column", f[6],
				    "expected a number (0 = no limit) or -");
	return 1;
}

static void service_free(struct master_service *s)
{
	mem_free(s->name);
	mem_free(s->host);
	mem_free(s->port);
	for (size_t i = 0; i < s->argc; i++)
		mem_free(s->argv[i]);
	mem_free(s->argv);
	for (size_t i = 0; i < s->override_count; i++) {
		char *name = (char *)s->overrides[i].name;
		char *value = (char *)s->overrides[i].value;
		mem_free(name);
		mem_free(value);
	}
	mem_free(s->overrides);
}

/* One "-o" argument: "name=value", blanks around '=' allowed. */
static int add_override(struct mparse *mp, struct master_service *s,
			const char *arg)
{
	const char *eq = strchr(arg, '='), *v;
	size_t n;
	struct conf_setting *o;

	if (eq == NULL)
		return mfail_quoted(mp, "bad -o argument", arg,
				    "expected name=value");
	for (n = (size_t)(eq - arg); n > 0 && blank(arg[n - 1]); n--)
		;
	for (size_t i = 0; i < n; i++)
		if (!conf_name_char(arg[i]))
			n = 0;
	if (n == 0 || n > CONF_NAME_MAX)
		return mfail_quoted(mp, "bad parameter name in -o", arg, NULL);
	if (s->override_count >= MASTER_OVERRIDES_MAX)
		return mfail(mp, "more than %d -o options",
			     MASTER_OVERRIDES_MAX);
	for (v = eq + 1; blank(*v); v++)
		;
	s->overrides = mem_realloc(s->overrides,
				   size_mul(s->override_count + 1, sizeof(*o)));
	o = &s->overrides[s->override_count++];
	o->name = mem_strndup(arg, n);
	o->value = mem_strdup(v);
	o->origin = mp->m->origin;
	o->line = mp->lineno;
	if (conf_param_find(o->name) == NULL &&
	    !(mp->flags & MASTER_CF_NO_WARN))
		msg_warn("%s:%d: unknown parameter %s", mp->m->origin,
			 mp->lineno, o->name);
	return 1;
}

/* The command column and its arguments; "-o x" pairs go to overrides. */
static int parse_command(struct mparse *mp, struct master_service *s, char **f,
			 size_t n)
{
	if (!name_ok(f[MASTER_FIELDS], MASTER_NAME_MAX, true))
		return mfail_quoted(mp, "bad command", f[MASTER_FIELDS],
				    "a program in daemon_directory, "
				    "without '/'");
	s->argv = mem_calloc(n - MASTER_FIELDS + 1, sizeof(char *));
	for (size_t i = MASTER_FIELDS; i < n; i++) {
		const char *o = NULL;
		if (strcmp(f[i], "-o") == 0) {
			if (++i == n)
				return mfail(mp, "-o at the end of the line "
						 "(expected -o name=value)");
			o = f[i];
		} else if (i > MASTER_FIELDS && strncmp(f[i], "-o", 2) == 0) {
			o = f[i] + 2;
		}
		if (o != NULL && add_override(mp, s, o) < 0)
			return -1;
		if (o == NULL)
			s->argv[s->argc++] = mem_strdup(f[i]);
	}
	return 1;
}

/* The -o values must be valid where they will be used: on top of main.cf,
 * with each other's $names in view. */
static int check_overrides(struct mparse *mp, struct master_service *s)
{
	struct conf *tmp;
	int ret;

	if (s->override_count == 0)
		return 1;
	tmp = conf_dup(mp->conf);
	ret = conf_override_all(tmp, s->overrides, s->override_count,
				mp->error_r);
	conf_free(&tmp);
	return ret;
}

static void add_service(struct mparse *mp, struct master_service *s)
{
	struct master_cf *m = mp->m;

	for (size_t i = 0; i < m->count; i++) {
		struct master_service *old = &m->services[i];
		if (old->type == s->type && strcmp(old->name, s->name) == 0) {
			if (!(mp->flags & MASTER_CF_NO_WARN))
				msg_warn("%s:%d: service %s/%s is defined "
					 "again; this replaces line %d",
					 m->origin, s->line, s->name,
					 master_type_name(s->type), old->line);
			service_free(old);
			*old = *s;
			return;
		}
	}
	if (m->count == mp->cap) {
		mp->cap = mp->cap ? size_mul(mp->cap, 2) : 16;
		m->services =
		    mem_realloc(m->services, size_mul(mp->cap, sizeof(*s)));
	}
	m->services[m->count++] = *s;
}

static int parse_line(void *ctx, const char *line, size_t len, int lineno,
		      const char **error_r)
{
	struct mparse *mp = ctx;
	struct master_service s = {.origin = mp->m->origin, .line = lineno};
	char **f = NULL;
	size_t n = 0;
	int ret = -1;

	mp->lineno = lineno;
	if (split_fields(mp, line, &f, &n) < 0)
		return -1;
	if (n <= MASTER_FIELDS)
		mfail(mp,
		      "%zu fields, expected at least 8: service type "
		      "private unpriv chroot wakeup maxproc command",
		      n);
	else {
		s.name = mem_strdup(f[0]);
		if (parse_type(mp, &s, f[1]) > 0 &&
		    parse_columns(mp, &s, f) > 0 &&
		    parse_command(mp, &s, f, n) > 0 &&
		    check_overrides(mp, &s) > 0)
			ret = 1;
	}
	for (size_t i = 0; i < n; i++)
		mem_free(f[i]);
	mem_free(f);
	if (ret > 0)
		add_service(mp, &s);
	else
		service_free(&s);
	return ret;
}

struct master_cf *master_cf_parse_buffer(const char *origin, const char *buf,
					 size_t len, struct conf *conf,
					 unsigned int flags,
					 const char **error_r)
{
	struct master_cf *m = mem_alloc(sizeof(*m));
	struct mparse mp = {m, conf, flags, 0, 0, error_r};

	m->origin = mem_strdup(origin);
	if (conf_lines_parse(origin, buf, len, parse_line, &mp, error_r) < 0)
		master_cf_free(&m);
	return m;
}

struct master_cf *master_cf_load(const char *path, struct conf *conf,
				 const char **error_r)
{
	struct str text;
	struct master_cf *m = NULL;

	str_init(&text, 4096);
	if (conf_read_file(path, &text, error_r) > 0)
		m = master_cf_parse_buffer(path, text.data, text.len, conf, 0,
					   error_r);
	str_deinit(&text);
	return m;
}

const struct master_service *master_cf_find(const struct master_cf *m,
					    const char *name,
					    enum master_type type)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->services[i].type == type &&
		    strcmp(m->services[i].name, name) == 0)
			return &m->services[i];
	return NULL;
}

int master_service_apply(const struct master_service *s, struct conf *conf,
			 const char **error_r)
{
	return conf_override_all(conf, s->overrides, s->override_count,
				 error_r);
}

void master_cf_free(struct master_cf **mp)
{
	struct master_cf *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		service_free(&m->services[i]);
	mem_free(m->services);
	mem_free(m->origin);
	mem_free(m);
	*mp = NULL;
}
