/* dict_address.c: dict_lookup_address(), the address search order that
 * alias, virtual, canonical and access lookups share (see dict.h).
 *
 * Splitting: the domain starts after the LAST '@' (so a quoted or
 * source-routed local part holding '@' stays whole); the extension starts
 * at the first character of the local part that is in the delimiter set
 * (recipient_delimiter may list several, e.g. "+-"), except that a
 * delimiter in the first position does not split (the user part would be
 * empty). An address without '@' is a bare local part: it is looked up
 * only when allow_bare_user is set. The empty address (the null sender
 * "<>") is never looked up here and gives 0: callers that want a table
 * entry for it look up their own key (as Postfix's
 * smtpd_null_access_lookup_key). Forms that come out identical or empty
 * are looked up once or not at all; an error stops the search at once. */
#include "config.h"

#include <string.h>

#include "dict.h"
#include "str.h"

enum addr_form {
	FORM_FULL,
	FORM_USER_DOMAIN,
	FORM_USER_EXT,
	FORM_USER,
	FORM_DOMAIN
};

static const char *const addr_form_names[] = {
    [FORM_FULL] = "full",	  [FORM_USER_DOMAIN] = "user@domain",
    [FORM_USER_EXT] = "user+ext", [FORM_USER] = "user",
    [FORM_DOMAIN] = "@domain",
};

struct addr_search {
	struct dict *d;
	struct str key;
	struct str *value_r;
	const char **matched_r;
	const char **error_r;
};

/* Looks up the key built in s->key; returns 1/0/-1. */
static int addr_try(struct addr_search *s, enum addr_form form)
{
	int ret;

	if (s->key.len == 0)
		return 0;
	ret = dict_lookup(s->d, s->key.data, s->value_r, s->error_r);
	if (ret == 1 && s->matched_r != NULL)
		*s->matched_r = addr_form_names[form];
	return ret;
}

/* Returns the length of the user part: the position of the first
 * delimiter in the local part, or local_len when there is none. */
static size_t addr_user_len(const char *local, size_t local_len,
			    const char *delimiter)
{
	if (delimiter == NULL || *delimiter == '\0')
		return local_len;
	for (size_t i = 1; i < local_len; i++)
		if (strchr(delimiter, local[i]) != NULL)
			return i;
	return local_len;
}

static int addr_search_run(struct addr_search *s, const char *address,
			   const char *delimiter, bool allow_bare_user)
{
	const char *at = strrchr(address, '@');
	size_t len = strlen(address);
	size_t local_len = at != NULL ? (size_t)(at - address) : len;
	size_t user_len = addr_user_len(address, local_len, delimiter);
	bool has_ext = user_len < local_len;
	int ret;

	if (at != NULL || allow_bare_user) {
		str_set(&s->key, address, len);
		if ((ret = addr_try(s, FORM_FULL)) != 0)
			return ret;
	}
	if (at != NULL && has_ext) {
		str_set(&s->key, address, user_len);
		str_append(&s->key, at, len - local_len);
		if ((ret = addr_try(s, FORM_USER_DOMAIN)) != 0)
			return ret;
	}
	if (allow_bare_user && at != NULL) {
		str_set(&s->key, address, local_len);
		if ((ret = addr_try(s, has_ext ? FORM_USER_EXT : FORM_USER)) !=
		    0)
			return ret;
	}
	if (allow_bare_user && has_ext) {
		str_set(&s->key, address, user_len);
		if ((ret = addr_try(s, FORM_USER)) != 0)
			return ret;
	}
	if (at != NULL && at[1] != '\0' && local_len > 0) {
		str_set(&s->key, at, len - local_len);
		return addr_try(s, FORM_DOMAIN);
	}
	return 0;
}

int dict_lookup_address(struct dict *d, const char *address,
			const char *delimiter, bool allow_bare_user,
			struct str *value_r, const char **matched_r,
			const char **error_r)
{
	struct addr_search s = {
	    .d = d,
	    .value_r = value_r,
	    .matched_r = matched_r,
	    .error_r = error_r,
	};
	int ret;

	if (*address == '\0')
		return 0;
	str_init(&s.key, strlen(address) + 1);
	ret = addr_search_run(&s, address, delimiter, allow_bare_user);
	str_deinit(&s.key);
	return ret;
}
