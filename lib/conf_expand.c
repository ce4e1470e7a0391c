/* conf_expand.c: $name expansion and load-time validation of a struct conf.
 *
 * Each entry is expanded once and cached; an entry being expanded sits on
 * c->stack, so meeting it again is a loop, reported with the chain of names.
 * Nesting depth, the size of one expanded value and the total of all of
 * them are bounded (conf.h), so no main.cf can make us loop, recurse
 * without end or blow up memory ("a = $b$b$b$b", "b = $c$c$c$c", ...). */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf_internal.h"
#include "mem.h"
#include "msg.h"

struct expander {
	struct conf *c;
	const char *(*lookup)(void *ctx, const char *name);
	void *ctx;
	struct str *out;
	size_t base; /* out->len before this expansion */
	const char **error_r;
};

static struct conf_entry *stack_top(struct conf *c)
{
	return c->sp > 0 ? c->stack[c->sp - 1] : NULL;
}

static int loop_fail(struct conf *c, struct conf_entry *e, const char **error_r)
{
	struct conf_entry *blame = stack_top(c);
	struct str chain;
	int i = c->sp - 1, ret;

	while (i > 0 && c->stack[i] != e)
		i--;
	str_init(&chain, 64);
	if (c->sp - i > 10) {
		str_append_cstr(&chain, "... -> ");
		i = c->sp - 10;
	}
	for (; i < c->sp; i++) {
		str_printf(&chain, "$%s -> ", c->stack[i]->name);
		/* Blame a line of main.cf when the loop goes through one. */
		if (c->stack[i]->src != CONF_SRC_DEFAULT)
			blame = c->stack[i];
	}
	str_printf(&chain, "$%s", e->name);
	ret = conf_fail(c, blame, error_r, "expansion loop: %s", chain.data);
	str_deinit(&chain);
	return ret;
}

/* The expanded value of a configuration name: 1 with *value_r set, 0 when
 * the name is not defined, -1 on error. */
static int conf_ref(struct conf *c, const char *name, const char **value_r,
		    const char **error_r)
{
	struct conf_entry *e = conf_entry_find(c, name);

	if (e == NULL && conf_param_find(name) == NULL)
		return 0;
	if (e == NULL)
		e = conf_entry_get(c, name);
	if (e->param == NULL && e->value == NULL)
		return 0;
	e->referenced = true;
	if (e->expanding)
		return loop_fail(c, e, error_r);
	if (conf_entry_expand(c, e, error_r) < 0)
		return -1;
	*value_r = e->expanded;
	return 1;
}

static int ref(struct expander *x, const char *name, const char **value_r)
{
	if (x->lookup != NULL) {
		const char *v = x->lookup(x->ctx, name);
		if (v != NULL) {
			*value_r = v;
			return 1;
		}
	}
	return conf_ref(x->c, name, value_r, x->error_r);
}

static int emit(struct expander *x, const char *p, size_t n)
{
	if (n > CONF_VALUE_MAX || x->out->len - x->base > CONF_VALUE_MAX - n)
		return conf_fail(x->c, stack_top(x->c), x->error_r,
				 "expanded value is longer than %d bytes",
				 CONF_VALUE_MAX);
	str_append(x->out, p, n);
	return 1;
}

static void warn_undefined(struct expander *x, const char *name)
{
	struct str where;

	if (!x->c->warn)
		return;
	str_init(&where, 64);
	conf_where(x->c, stack_top(x->c), &where);
	msg_warn("%sundefined parameter $%s expands to nothing", where.data,
		 name);
	str_deinit(&where);
}

static int expand_text(struct expander *x, const char *s, size_t len);

static int expand_plain(struct expander *x, const char *s, size_t len,
			size_t *ip)
{
	size_t i = *ip, n = 0;
	const char *value = "";
	char *name;
	int ret;

	while (i + n < len && conf_name_char(s[i + n]))
		n++;
	*ip = i + n;
	if (n > CONF_NAME_MAX)
		return conf_fail(x->c, stack_top(x->c), x->error_r,
				 "parameter name after '$' is longer than %d "
				 "bytes",
				 CONF_NAME_MAX);
	name = mem_strndup(s + i, n);
	ret = ref(x, name, &value);
	if (ret == 0)
		warn_undefined(x, name);
	mem_free(name);
	return ret < 0 ? -1 : emit(x, value, strlen(value));
}

/* ${name}, ${name?text}, ${name:text}; *ip is at the '{'. */
static int expand_braced(struct expander *x, const char *s, size_t len,
			 size_t *ip)
{
	size_t i = *ip + 1, j, n = 0;
	const char *value = "";
	char *name;
	int depth = 1, ret;

	for (j = i; j < len; j++) {
		if (s[j] == '{')
			depth++;
		else if (s[j] == '}' && --depth == 0)
			break;
	}
	if (j == len)
		return conf_fail(x->c, stack_top(x->c), x->error_r,
				 "missing '}' after \"${\"");
	*ip = j + 1;
	while (i + n < j && conf_name_char(s[i + n]))
		n++;
	if (n == 0 || n > CONF_NAME_MAX ||
	    (i + n < j && s[i + n] != '?' && s[i + n] != ':')) {
		struct str msg;
		str_init(&msg, 64);
		conf_quote(&msg, s + i - 2, j - i + 3);
		ret = conf_fail(x->c, stack_top(x->c), x->error_r,
				"bad parameter reference %s (expected ${name}, "
				"${name?text} or ${name:text})",
				msg.data);
		str_deinit(&msg);
		return ret;
	}
	name = mem_strndup(s + i, n);
	ret = ref(x, name, &value);
	if (ret == 0 && i + n == j)
		warn_undefined(x, name);
	mem_free(name);
	if (ret < 0)
		return -1;
	if (i + n == j)
		return emit(x, value, strlen(value));
	if ((s[i + n] == '?') == (*value != '\0'))
		return expand_text(x, s + i + n + 1, j - (i + n + 1));
	return 1;
}

static int expand_text(struct expander *x, const char *s, size_t len)
{
	struct conf *c = x->c;
	size_t i = 0;
	int ret = 1;

	if (c->nest >= CONF_DEPTH_MAX)
		return conf_fail(c, stack_top(c), x->error_r,
				 "references nested more than %d deep",
				 CONF_DEPTH_MAX);
	c->nest++;
	while (i < len && ret > 0) {
		const char *dollar = memchr(s + i, '$', len - i);
		size_t lit = dollar ? (size_t)(dollar - (s + i)) : len - i;

		ret = emit(x, s + i, lit);
		i += lit;
		if (dollar == NULL || ret < 0)
			break;
		i++;
		if (i < len && s[i] == '$') {
			ret = emit(x, "$", 1);
			i++;
		} else if (i < len && s[i] == '{') {
			ret = expand_braced(x, s, len, &i);
		} else if (i < len && conf_name_char(s[i])) {
			ret = expand_plain(x, s, len, &i);
		} else {
			/* A '$' before anything else stands for itself. */
			ret = emit(x, "$", 1);
		}
	}
	c->nest--;
	return ret;
}

int conf_expand(struct conf *c, const char *text,
		const char *(*lookup)(void *ctx, const char *name), void *ctx,
		struct str *out, const char **error_r)
{
	struct expander x = {c, lookup, ctx, out, out->len, error_r};

	return expand_text(&x, text, strlen(text));
}

/* gethostname(2) only, as Postfix: no resolver query at every process
 * start (which waits for the DNS timeout on a host without a reachable
 * name server). */
const char *conf_system_hostname(void)
{
	static char *cached;
	char name[256];

	if (cached != NULL)
		return cached;
	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return cached = mem_strdup("localhost");
	name[sizeof(name) - 1] = '\0';
	return cached = mem_strdup(name);
}

/* Postfix's rule: the FQDN when the system has one, else the short name
 * plus $mydomain when main.cf sets mydomain, else plus ".localdomain". */
static int default_hostname(struct conf *c, struct str *out,
			    const char **error_r)
{
	const char *host = conf_system_hostname(), *domain = "localdomain";
	struct conf_entry *d = conf_entry_find(c, "mydomain");

	if (strchr(host, '.') == NULL && d != NULL && d->value != NULL &&
	    conf_ref(c, "mydomain", &domain, error_r) < 0)
		return -1;
	str_append_cstr(out, host);
	if (strchr(host, '.') == NULL)
		str_printf(out, ".%s", domain);
	return 1;
}

static int default_domain(struct conf *c, struct str *out, const char **error_r)
{
	const char *host = "", *dot;

	if (conf_ref(c, "myhostname", &host, error_r) < 0)
		return -1;
	dot = strchr(host, '.');
	str_append_cstr(out, dot != NULL && dot[1] != '\0' ? dot + 1
							   : "localdomain");
	return 1;
}

/* The text of e before expansion. */
static int entry_raw(struct conf *c, struct conf_entry *e, const char **raw_r,
		     const char **error_r)
{
	struct str def;
	int ret = 1;

	if (e->value != NULL || e->param == NULL) {
		*raw_r = e->value ? e->value : "";
		return 1;
	}
	if (e->param->dynamic == CONF_DYN_NONE) {
		*raw_r = conf_param_default(e->param, c->level);
		if (*raw_r == NULL)
			*raw_r = "";
		return 1;
	}
	if (e->def == NULL) {
		str_init(&def, 64);
		if (e->param->dynamic == CONF_DYN_CONFIG_DIR)
			str_append_cstr(&def, c->config_dir);
		else if (e->param->dynamic == CONF_DYN_HOSTNAME)
			ret = default_hostname(c, &def, error_r);
		else
			ret = default_domain(c, &def, error_r);
		if (ret > 0)
			e->def = str_steal(&def);
		str_deinit(&def);
	}
	*raw_r = e->def;
	return ret;
}

int conf_entry_expand(struct conf *c, struct conf_entry *e,
		      const char **error_r)
{
	struct str out;
	const char *raw;
	int ret;

	if (e->expanded != NULL)
		return 1;
	if (c->sp > CONF_DEPTH_MAX)
		return conf_fail(c, e, error_r,
				 "references nested more than %d deep",
				 CONF_DEPTH_MAX);
	e->expanding = true;
	c->stack[c->sp++] = e;
	str_init(&out, 64);
	ret = entry_raw(c, e, &raw, error_r);
	if (ret > 0 && e->param != NULL && (e->param->flags & CONF_PARAM_RAW))
		str_append_cstr(&out, raw);
	else if (ret > 0) {
		struct expander x = {c, NULL, NULL, &out, 0, error_r};
		ret = expand_text(&x, raw, strlen(raw));
	}
	c->sp--;
	e->expanding = false;
	if (ret > 0 && out.len > CONF_EXPAND_TOTAL_MAX - c->expanded_total)
		ret = conf_fail(c, e, error_r,
				"all expanded values together are longer "
				"than %d bytes",
				CONF_EXPAND_TOTAL_MAX);
	if (ret > 0) {
		c->expanded_total += out.len;
		e->expanded = str_steal(&out);
	}
	str_deinit(&out);
	return ret < 0 ? -1 : 1;
}

static int validate_entry(struct conf *c, struct conf_entry *e,
			  const char **error_r)
{
	const char *msg;

	if (e->checked || (e->param == NULL && e->value == NULL))
		return 1;
	if (conf_entry_expand(c, e, error_r) < 0)
		return -1;
	if (e->param != NULL &&
	    conf_param_check(e->param, e->expanded, &e->num, &msg) < 0)
		return conf_fail(c, e, error_r, "%s", msg);
	e->checked = true;
	return 1;
}

/* compatibility_level picks the defaults of everything else, so it must be
 * known before any default is expanded: a plain number, no $names. */
static int level_compute(struct conf *c, const char **error_r)
{
	const struct conf_param *p = conf_param_find("compatibility_level");
	struct conf_entry *e;
	const char *raw, *msg;

	c->level = 1;
	if (p == NULL)
		return 1;
	e = conf_entry_get(c, p->name);
	raw = e->value != NULL ? e->value : conf_param_default(p, 1);
	if (strchr(raw, '$') != NULL)
		return conf_fail(c, e, error_r,
				 "must be a plain number, without $names");
	if (conf_param_check(p, raw, &c->level, &msg) < 0)
		return conf_fail(c, e, error_r, "%s", msg);
	return 1;
}

int conf_validate(struct conf *c, bool warn, const char **error_r)
{
	int ret;

	c->warn = warn;
	ret = level_compute(c, error_r);
	/* Names set in main.cf first, in file order, so that the first error
	 * reported is the first bad line; c->count grows as we go. */
	for (size_t i = 0; ret > 0 && i < c->count; i++)
		ret = validate_entry(c, c->order[i], error_r);
	for (size_t i = 0; ret > 0 && i < conf_param_count(); i++)
		ret = validate_entry(
		    c, conf_entry_get(c, conf_param_at(i)->name), error_r);
	c->warn = false;
	return ret;
}
