/* sendmail_args.c: the sendmail command line, Postfix- and
 * Sendmail-compatible: the flags scripts and MUAs use, the ones that pick
 * another mode, and the ones accepted and ignored (sendmail(1)). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "addr.h"
#include "mem.h"
#include "queue_file.h"
#include "sendmail.h"

int sm_parse_notify(const char *s, unsigned *notify_r)
{
	unsigned n = 0;
	const char *p = s;

	if (strcasecmp(s, "never") == 0) {
		*notify_r = QUEUE_NOTIFY_NEVER;
		return 1;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len == 7 && strncasecmp(p, "success", 7) == 0)
			n |= QUEUE_NOTIFY_SUCCESS;
		else if (len == 7 && strncasecmp(p, "failure", 7) == 0)
			n |= QUEUE_NOTIFY_FAILURE;
		else if (len == 5 && strncasecmp(p, "delay", 5) == 0)
			n |= QUEUE_NOTIFY_DELAY;
		else
			return -1;
		p += len;
		if (*p == ',' && *++p == '\0')
			return -1;
	}
	if (n == 0)
		return -1;
	*notify_r = n;
	return 1;
}

static int set_mode(struct sm_opts *o, enum sm_mode mode, const char **error_r)
{
	if (o->mode != SM_SUBMIT && o->mode != mode) {
		*error_r = "conflicting modes";
		return -1;
	}
	o->mode = mode;
	return 1;
}

/* -bX */
static int opt_b(struct sm_opts *o, const char *v, const char **error_r)
{
	if (strcmp(v, "m") == 0)
		return 1;
	if (strcmp(v, "p") == 0)
		return set_mode(o, SM_MAILQ, error_r);
	if (strcmp(v, "i") == 0)
		return set_mode(o, SM_NEWALIASES, error_r);
	if (strcmp(v, "s") == 0)
		return set_mode(o, SM_SMTP, error_r);
	*error_r = "unsupported -b mode";
	return -1;
}

/* An option that takes a value (attached or the next argument). */
static int opt_value(struct sm_opts *o, char opt, const char *v,
		     const char **error_r)
{
	static char envid[1024];
	struct str x;

	switch (opt) {
	case 'f':
	case 'r':
		o->sender = v;
		return 1;
	case 'F':
		o->full_name = v;
		return queue_value_check("full name (-F)", v, strlen(v),
					 error_r);
	case 'C':
	case 'c':
		o->config = v;
		return 1;
	case 'N':
		if (sm_parse_notify(v, &o->notify) < 0) {
			*error_r = "bad -N value (never, or a list of "
				   "success, failure, delay)";
			return -1;
		}
		return 1;
	case 'R':
		if (strcasecmp(v, "full") == 0)
			o->ret = QUEUE_RET_FULL;
		else if (strcasecmp(v, "hdrs") == 0)
			o->ret = QUEUE_RET_HDRS;
		else {
			*error_r = "bad -R value (full or hdrs)";
			return -1;
		}
		return 1;
	case 'V':
		if (strlen(v) > 100 ||
		    queue_value_check("-V", v, strlen(v), error_r) < 0) {
			*error_r = "bad -V value (at most 100 printable "
				   "characters)";
			return -1;
		}
		str_init(&x, 0);
		addr_xtext_encode(v, strlen(v), &x);
		if (x.len >= sizeof(envid)) {
			str_deinit(&x);
			*error_r = "-V value too long";
			return -1;
		}
		memcpy(envid, x.data, x.len + 1);
		str_deinit(&x);
		o->envid = envid;
		return 1;
	default: /* -h N, -L label, -O opt=val, -X file: ignored */
		return 1;
	}
}

/* Flags without a value; 0 = not one of them. */
static int opt_flag(struct sm_opts *o, const char *arg, const char **error_r)
{
	if (strcmp(arg, "t") == 0)
		o->extract = true;
	else if (strcmp(arg, "i") == 0 || strcmp(arg, "oi") == 0)
		o->ignore_dots = true;
	else if (strcmp(arg, "I") == 0)
		return set_mode(o, SM_NEWALIASES, error_r);
	else if (arg[0] == 'q') {
		if (o->mode == SM_MAILQ) /* mailq -q: a flush, as in Postfix */
			o->mode = SM_SUBMIT;
		return set_mode(o, SM_FLUSH, error_r);
	}
	else if (arg[0] == 'b')
		return opt_b(o, arg + 1, error_r);
	else if (arg[0] == 'o' || arg[0] == 'A' || strcmp(arg, "m") == 0 ||
		 strcmp(arg, "n") == 0 || strcmp(arg, "v") == 0 ||
		 strcmp(arg, "G") == 0 || strcmp(arg, "U") == 0)
		return 1; /* -o7 -o8 -oX..., -Am -Ac, -m, -n, -v: ignored */
	else
		return 0;
	return 1;
}

int sm_parse_args(int argc, char **argv, struct sm_opts *o,
		  const char **error_r)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	int i;

	memset(o, 0, sizeof(*o));
	base = base != NULL ? base + 1 : (argc > 0 ? argv[0] : "sendmail");
	if (strcmp(base, "mailq") == 0)
		o->mode = SM_MAILQ;
	else if (strcmp(base, "newaliases") == 0)
		o->mode = SM_NEWALIASES;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i] + 1;
		int r;

		if (strcmp(a, "-") == 0) {
			i++;
			break;
		}
		if (strchr("frFCcNRVhLOX", a[0]) != NULL) {
			const char *v = a[1] != '\0' ? a + 1 : argv[++i];
			if (v == NULL || i >= argc) {
				*error_r = "option requires a value";
				return -1;
			}
			if (opt_value(o, a[0], v, error_r) < 0)
				return -1;
			continue;
		}
		r = opt_flag(o, a, error_r);
		if (r < 0)
			return -1;
		if (r == 0) {
			*error_r = "unknown option";
			return -1;
		}
	}
	o->rcpts = mem_calloc((size_t)(argc - i) + 1, sizeof(char *));
	for (; i < argc; i++)
		o->rcpts[o->rcpt_count++] = argv[i];
	return 1;
}
