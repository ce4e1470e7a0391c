/* args.c: the pipe service's master.cf attributes (flags=, user=, size=,
 * null_sender=, argv=) and the expansion of ${name} macros in argv=,
 * done on each argument separately: no shell ever sees the result. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "num.h"
#include "pipe.h"

static char args_errbuf[256];

static int __attribute__((format(printf, 2, 3)))
args_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args_errbuf, sizeof(args_errbuf), fmt, ap);
	va_end(ap);
	*error_r = args_errbuf;
	return -1;
}

static int parse_flags(const char *v, unsigned *flags, const char **error_r)
{
	static const char letters[] = "BDFORhuq.>";
	static const unsigned bits[] = {PIPE_FLAG_B,	   PIPE_FLAG_D,
					PIPE_FLAG_F,	   PIPE_FLAG_O,
					PIPE_FLAG_R,	   PIPE_FLAG_LOWER_H,
					PIPE_FLAG_LOWER_U, PIPE_FLAG_QUOTE,
					PIPE_FLAG_DOT,	   PIPE_FLAG_FROM};

	for (const char *p = v; *p != '\0'; p++) {
		const char *l = strchr(letters, *p);

		if (*p == 'X')
			continue; /* final delivery: always so here */
		if (l == NULL)
			return args_fail(error_r,
					 "flags=%s: unknown flag (known: "
					 "BDFORXhuq.>)",
					 v);
		*flags |= bits[l - letters];
	}
	return 1;
}

static int parse_attr(const char *a, struct pipe_config *cfg,
		      const char **error_r)
{
	if (strncmp(a, "flags=", 6) == 0)
		return parse_flags(a + 6, &cfg->flags, error_r);
	if (strncmp(a, "user=", 5) == 0) {
		cfg->user = a + 5;
		/* user=name:group: the group is the user's own here */
		return a[5] != '\0' && strchr(a + 5, ':') == NULL
			   ? 1
			   : args_fail(error_r, "%s: expected user=NAME", a);
	}
	if (strncmp(a, "size=", 5) == 0)
		return num_parse_u64(a + 5, strlen(a + 5), UINT64_MAX,
				     &cfg->size_limit) == 1
			   ? 1
			   : args_fail(error_r, "%s: expected size=BYTES", a);
	if (strncmp(a, "null_sender=", 12) == 0) {
		cfg->null_sender = a + 12;
		return 1;
	}
	return args_fail(error_r,
			 "unknown attribute \"%s\" (expected flags=, user=, "
			 "size=, null_sender= or argv=)",
			 a);
}

int pipe_args_parse(char *const *args, size_t count, struct pipe_config *cfg,
		    const char **error_r)
{
	size_t i;

	cfg->null_sender = "MAILER-DAEMON";
	for (i = 0; i < count && strncmp(args[i], "argv=", 5) != 0; i++)
		if (parse_attr(args[i], cfg, error_r) < 0)
			return -1;
	if (i == count || args[i][5] != '/')
		return args_fail(error_r, "%s",
				 "missing argv=/absolute/path/of/program "
				 "(the last attribute)");
	cfg->argv = (const char *const *)args + i;
	cfg->argc = count - i;
	for (size_t k = 0; k < cfg->argc; k++)
		if (pipe_template_check(
			k == 0 ? cfg->argv[0] + 5 : cfg->argv[k], error_r) < 0)
			return -1;
	return 1;
}

/* ---- macros */

enum macro {
	M_SENDER,
	M_NEXTHOP,
	M_QUEUE_ID,
	M_SIZE,
	M_RECIPIENT, /* the first per-recipient macro */
	M_ORIGINAL_RECIPIENT,
	M_USER,
	M_EXTENSION,
	M_MAILBOX,
	M_DOMAIN,
	M_NONE,
};

static const char *const macro_names[] = {"sender",    "nexthop",
					  "queue_id",  "size",
					  "recipient", "original_recipient",
					  "user",      "extension",
					  "mailbox",   "domain"};

/* The macro at p (just after '$'): its kind and length in *len. */
static enum macro macro_at(const char *p, size_t *len)
{
	bool brace = *p == '{';
	const char *name = p + brace;
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz_");

	if (brace && name[n] != '}')
		return M_NONE;
	for (int m = 0; m < M_NONE; m++)
		if (strlen(macro_names[m]) == n &&
		    strncmp(macro_names[m], name, n) == 0) {
			*len = n + (brace ? 2 : 0);
			return (enum macro)m;
		}
	return M_NONE;
}

int pipe_template_check(const char *arg, const char **error_r)
{
	size_t len;

	for (const char *p = strchr(arg, '$'); p != NULL; p = strchr(p, '$')) {
		if (p[1] == '$') {
			p += 2;
			continue;
		}
		if (macro_at(p + 1, &len) == M_NONE)
			return args_fail(error_r,
					 "argv=: unknown macro in \"%s\" "
					 "(known: ${sender} ${recipient} "
					 "${original_recipient} ${nexthop} "
					 "${user} ${extension} ${mailbox} "
					 "${domain} ${queue_id} ${size}; $$ "
					 "is a $)",
					 arg);
		p += 1 + len;
	}
	return 1;
}

static bool per_recipient(const char *arg)
{
	size_t len;

	for (const char *p = strchr(arg, '$'); p != NULL; p = strchr(p, '$')) {
		if (p[1] == '$') {
			p += 2;
			continue;
		}
		if (macro_at(p + 1, &len) >= M_RECIPIENT)
			return true;
		p++;
	}
	return false;
}

/* RFC 5322 quoting of a local part that is not a dot-atom. */
static void put_local(const char *p, size_t n, bool quote, bool lower,
		      struct str *out)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";
	bool plain = n > 0 && p[0] != '.' && p[n - 1] != '.';

	for (size_t i = 0; plain && i < n; i++)
		plain = ((unsigned char)p[i] >= 0x80 ||
			 (p[i] >= 'a' && p[i] <= 'z') ||
			 (p[i] >= 'A' && p[i] <= 'Z') ||
			 (p[i] >= '0' && p[i] <= '9') ||
			 strchr(atext, p[i]) != NULL) &&
			(p[i] != '.' || p[i + 1] != '.');
	quote = quote && !plain && n > 0;
	if (quote)
		str_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (quote && (c == '"' || c == '\\'))
			str_putc(out, '\\');
		str_putc(out,
			 lower && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (quote)
		str_putc(out, '"');
}

static void put_lower(const char *p, size_t n, bool lower, struct str *out)
{
	for (size_t i = 0; i < n; i++)
		str_putc(out, lower && p[i] >= 'A' && p[i] <= 'Z'
				  ? p[i] - 'A' + 'a'
				  : p[i]);
}

/* An address with the h, u and q flags applied. */
static void put_address(const struct pipe_config *cfg, const char *a,
			bool is_sender, struct str *out)
{
	const char *at = strrchr(a, '@');
	size_t llen = at != NULL ? (size_t)(at - a) : strlen(a);
	unsigned f = cfg->flags;

	put_local(a, llen, (f & PIPE_FLAG_QUOTE) != 0,
		  !is_sender && (f & PIPE_FLAG_LOWER_U), out);
	if (at != NULL) {
		str_putc(out, '@');
		put_lower(at + 1, strlen(at + 1),
			  !is_sender && (f & PIPE_FLAG_LOWER_H), out);
	}
}

/* The expansion of one macro for recipient r (NULL: global only). */
static void expand_macro(const struct pipe_config *cfg,
			 const struct pipe_msg *msg, const struct pipe_rcpt *r,
			 enum macro m, struct str *out)
{
	const char *a = r != NULL ? r->address : "";
	const char *at = strrchr(a, '@');
	size_t llen = at != NULL ? (size_t)(at - a) : strlen(a), ulen = llen;
	bool lu = cfg->flags & PIPE_FLAG_LOWER_U;

	if (cfg->delimiter[0] != '\0' && strcspn(a, cfg->delimiter) < llen &&
	    strcspn(a, cfg->delimiter) > 0)
		ulen = strcspn(a, cfg->delimiter);
	if (m == M_SENDER)
		put_address(cfg,
			    msg->sender[0] != '\0' ? msg->sender
						   : cfg->null_sender,
			    true, out);
	else if (m == M_NEXTHOP)
		put_lower(msg->nexthop, strlen(msg->nexthop),
			  cfg->flags & PIPE_FLAG_LOWER_H, out);
	else if (m == M_QUEUE_ID)
		str_append_cstr(out, msg->queue_id);
	else if (m == M_SIZE)
		str_printf(out, "%llu", (unsigned long long)msg->size);
	else if (m == M_RECIPIENT || m == M_ORIGINAL_RECIPIENT)
		put_address(cfg, a, false, out);
	else if (m == M_USER)
		put_lower(a, ulen, lu, out);
	else if (m == M_EXTENSION && ulen < llen)
		put_lower(a + ulen + 1, llen - ulen - 1, lu, out);
	else if (m == M_MAILBOX)
		put_lower(a, llen, lu, out);
	else if (m == M_DOMAIN && at != NULL)
		put_lower(at + 1, strlen(at + 1),
			  cfg->flags & PIPE_FLAG_LOWER_H, out);
}

/* One argument for recipient r; 1, or 0 with *error_r (static). */
static int expand_arg(const struct pipe_config *cfg, const struct pipe_msg *msg,
		      const struct pipe_rcpt *r, const char *tmpl,
		      struct str *out, const char **error_r)
{
	size_t len;

	str_clear(out);
	for (const char *p = tmpl; *p != '\0'; p++) {
		enum macro m;

		if (*p != '$') {
			str_putc(out, *p);
		} else if (p[1] == '$') {
			str_putc(out, '$');
			p++;
		} else if ((m = macro_at(p + 1, &len)) != M_NONE) {
			expand_macro(cfg, msg, r, m, out);
			p += len;
		}
	}
	for (size_t i = 0; i < out->len; i++)
		if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f)
			return args_fail(error_r,
					 "%s: an address holds a control "
					 "character",
					 "argv=");
	if (out->len > 0 && out->data[0] == '-' && tmpl[0] != '-')
		return args_fail(error_r,
				 "an address would reach the program as the "
				 "option \"%.64s\"",
				 out->data);
	return 1;
}

static void argv_push(struct pipe_argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap == 0 ? 16 : size_mul(a->cap, 2);
		a->v = mem_realloc(a->v, size_mul(a->cap, sizeof(char *)));
	}
	a->v[a->n++] = mem_strdup(s);
	a->v[a->n] = NULL;
}

void pipe_argv_free(struct pipe_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		mem_free(a->v[i]);
	mem_free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

int pipe_argv_build(const struct pipe_config *cfg, const struct pipe_msg *msg,
		    struct pipe_rcpt *const *rcpts, size_t n,
		    struct pipe_argv *out, const char **error_r)
{
	struct str arg;
	int r = 1;

	str_init(&arg, 128);
	argv_push(out, cfg->argv[0] + 5);
	for (size_t k = 1; r > 0 && k < cfg->argc; k++) {
		bool each = per_recipient(cfg->argv[k]);

		for (size_t i = 0; r > 0 && i < (each ? n : 1); i++) {
			r = expand_arg(cfg, msg, each ? rcpts[i] : NULL,
				       cfg->argv[k], &arg, error_r) > 0
				? 1
				: 0;
			if (r > 0 && out->n >= PIPE_ARGV_MAX)
				r = args_fail(error_r, "%s",
					      "too many arguments") +
				    1;
			if (r > 0)
				argv_push(out, arg.data);
		}
	}
	str_deinit(&arg);
	return r;
}
