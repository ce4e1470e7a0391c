/* t/unit/dict_address.c: tests for lib/dict_address.c: the search order
 * user+ext@domain, user@domain, user+ext, user, @domain, with inline:
 * tables, and that an error stops the search. */
#include "config.h"

#include <string.h>

#include "dict.h"
#include "str.h"
#include "tap.h"

/* Returns "VALUE (FORM)", "(none)" or "ERR:..." */
static const char *look(struct str *out, const char *spec, const char *addr,
			const char *delim, bool bare)
{
	const char *error = NULL, *matched = NULL;
	struct dict *d = dict_open(spec, 0, &error);
	struct str val;
	int ret;

	str_clear(out);
	if (d == NULL) {
		str_printf(out, "ERR:%s", error);
		return out->data;
	}
	str_init(&val, 0);
	ret = dict_lookup_address(d, addr, delim, bare, &val, &matched, &error);
	if (ret == 1)
		str_printf(out, "%s (%s)", val.data, matched);
	else if (ret == 0)
		str_append_cstr(out, "(none)");
	else
		str_printf(out, "ERR:%s", error);
	str_deinit(&val);
	dict_close(&d);
	return out->data;
}

static void test_order(struct str *o)
{
	const char *all = "inline:{u+e@d=full, u@d=user-domain, u+e=bare-ext, "
			  "u=bare-user, @d=catchall}";

	is_str(look(o, all, "u+e@d", "+", true), "full (full)", "full first");
	is_str(look(o, "inline:{u@d=ud, u+e=x, u=y, @d=z}", "u+e@d", "+", true),
	       "ud (user@domain)", "then user@domain");
	is_str(look(o, "inline:{u+e=ue, u=y, @d=z}", "u+e@d", "+", true),
	       "ue (user+ext)", "then user+ext");
	is_str(look(o, "inline:{u=uu, @d=z}", "u+e@d", "+", true), "uu (user)",
	       "then user");
	is_str(look(o, "inline:{@d=dd}", "u+e@d", "+", true), "dd (@domain)",
	       "then @domain");
	is_str(look(o, "inline:{x=y}", "u+e@d", "+", true), "(none)",
	       "not found");
	is_str(look(o, "inline:{u+e=ue, u=uu, @d=dd}", "u+e@d", "+", false),
	       "dd (@domain)",
	       "bare user forms skipped without allow_bare_user");
	is_str(look(o, "inline:{u@d=ud}", "u+e@d", NULL, false), "(none)",
	       "no delimiter: no extension stripped");
	is_str(look(o, "inline:{u+e@d=f}", "u+e@d", "", false), "f (full)",
	       "empty delimiter: full address only");
	is_str(look(o, "inline:{u@d=ud}", "u@d", "+", false), "ud (full)",
	       "without an extension the address is full");
}

static void test_split(struct str *o)
{
	is_str(look(o, "inline:{u@d=ud}", "u-e@d", "+-", false),
	       "ud (user@domain)", "delimiter set: any member splits");
	is_str(look(o, "inline:{u@d=ud, u+a@d=no}", "u+a-b@d", "-+", false),
	       "ud (user@domain)", "the first delimiter of the set splits");
	is_str(look(o, "inline:{a-b@d=ab}", "a-b+c@d", "+", false),
	       "ab (user@domain)", "other characters do not split");
	is_str(look(o, "inline:{@d=dd, +x@d=full}", "+x@d", "+", false),
	       "full (full)", "a leading delimiter does not split");
	is_str(look(o, "inline:{@d=dd}", "+x@d", "+", false), "dd (@domain)",
	       "... and @domain still applies");
	is_str(
	    look(o, "inline:{@example.com=dd}", "User@EXAMPLE.com", "+", false),
	    "dd (@domain)", "domain compared through the table's folding");
	is_str(look(o, "inline:{a@b@c=x}", "a@b@c", "+", false), "x (full)",
	       "several @: whole address first");
	is_str(look(o, "inline:{@c=x}", "a@b@c", "+", false), "x (@domain)",
	       "several @: the last one splits off the domain");
	is_str(look(o, "inline:{a@b+e@c=x}", "a@b+e@c", "+", false), "x (full)",
	       "source route kept whole");
	is_str(look(o, "inline:{u=uu}", "u+e", "+", true), "uu (user)",
	       "bare address: user");
	is_str(look(o, "inline:{u+e=ue}", "u+e", "+", true), "ue (full)",
	       "bare address: as given first");
	is_str(look(o, "inline:{u=uu}", "u+e", "+", false), "(none)",
	       "bare address not looked up without allow_bare_user");
	is_str(look(o, "inline:{@d=x}", "", "+", true), "(none)",
	       "empty address is not looked up");
	is_str(look(o, "inline:{@d=x}", "@d", "+", true), "x (full)",
	       "address that is only @domain");
	is_str(look(o, "inline:{u=uu}", "u@", "+", true), "uu (user)",
	       "empty domain: no @domain form, bare user still");
}

/* A table whose lookups fail: the search must stop at the first error. */
static int fail_count;

static int failing_lookup(struct dict *d, const char *key, struct str *value_r,
			  const char **error_r)
{
	fail_count++;
	*error_r = "backend down";
	return -1;
}

static void failing_close(struct dict *d)
{
	dict_free_common(d);
}

static const struct dict_ops failing_ops = {
    .lookup = failing_lookup,
    .close = failing_close,
};

static void test_error(void)
{
	struct dict *d = dict_alloc(sizeof(*d), &failing_ops, "fail", "x", 0);
	const char *error = NULL, *matched = "unset";
	struct str val;

	str_init(&val, 0);
	is_int(
	    dict_lookup_address(d, "u+e@d", "+", true, &val, &matched, &error),
	    -1, "a lookup error is returned, not 'not found'");
	is_int(fail_count, 1, "... and stops the search");
	is_str(error, "backend down", "... with the backend's error");
	is_str(matched, "unset", "matched untouched on error");
	str_deinit(&val);
	dict_close(&d);
}

int main(void)
{
	struct str o;

	str_init(&o, 0);
	test_order(&o);
	test_split(&o);
	test_error();
	str_deinit(&o);
	return tap_done();
}
