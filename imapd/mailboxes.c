/* mailboxes.c: the commands on mailboxes as a whole: LIST (with the
 * LIST-EXTENDED selection and return options, LIST-STATUS and
 * SPECIAL-USE), LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * STATUS, APPEND and NAMESPACE; and mailbox names between the protocol
 * (modified UTF-7, or UTF-8 after ENABLE UTF8=ACCEPT) and the store. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mem.h"
#include "msg.h"

/* Longest mailbox name or pattern accepted from a client. */
#define IMAPD_NAME_MAX 1000

/* "inbox", "Inbox/x" ... -> "INBOX", "INBOX/x" (in place). */
static void inbox_upcase(struct str *name)
{
	if (name->len >= 5 && strncasecmp(name->data, "INBOX", 5) == 0 &&
	    (name->len == 5 || name->data[5] == '/'))
		memcpy(name->data, "INBOX", 5);
}

/* Any astring to UTF-8 (modified UTF-7 decoded unless UTF8=ACCEPT). */
static int name_decode(struct session *s, const struct imap_arg *a,
		       struct str *out)
{
	const char *v;
	size_t len;

	v = imap_arg_astring_nil(a, &len);
	if (v == NULL || len > IMAPD_NAME_MAX || memchr(v, '\0', len) != NULL)
		return -1;
	if (s->utf8_enabled) {
		if (!imap_utf8_valid(v, len))
			return -1;
		str_set(out, v, len);
	} else if (imap_mutf7_to_utf8(v, len, out) < 0) {
		return -1;
	}
	if (out->data == NULL)
		str_set(out, "", 0);
	return 1;
}

int imapd_mailbox_arg(struct session *s, const struct imap_arg *a,
		      struct str *name)
{
	if (name_decode(s, a, name) < 0) {
		imapd_tagged(s, "BAD", "Invalid mailbox name");
		return -1;
	}
	inbox_upcase(name);
	return 1;
}

void imapd_mailbox_out(struct session *s, const char *name, struct str *out)
{
	struct str enc;

	if (s->utf8_enabled) {
		imap_append_astring(out, name, strlen(name));
		return;
	}
	str_init(&enc, 64);
	if (imap_utf8_to_mutf7(name, strlen(name), &enc) < 0)
		str_set(&enc, name, strlen(name));
	imap_append_astring(out, enc.data != NULL ? enc.data : "", enc.len);
	str_deinit(&enc);
}

/* IMAP's LIST wildcards: '*' anything, '%' anything but the separator.
 * Row by row over the name (no backtracking, so no pattern of many
 * wildcards can make it slow): cur[i] says whether the first i pattern
 * bytes can match the name so far. */
static bool pattern_match(const char *p, const char *n)
{
	size_t plen = strlen(p);
	bool *cur = mem_calloc(plen + 1, sizeof(bool));
	bool *next = mem_calloc(plen + 1, sizeof(bool));
	bool *t, ok;

	cur[0] = true;
	for (size_t i = 0; i < plen && (p[i] == '*' || p[i] == '%'); i++)
		cur[i + 1] = true;
	for (; *n != '\0'; n++) {
		memset(next, 0, plen + 1);
		for (size_t i = 0; i < plen; i++) {
			if (p[i] == '*' || (p[i] == '%' && *n != '/')) {
				/* the wildcard takes this byte too */
				if (cur[i + 1] || cur[i])
					next[i + 1] = true;
			} else if (cur[i] && p[i] == *n) {
				next[i + 1] = true;
			}
			/* a wildcard may also match nothing */
			if (next[i] && (p[i] == '*' || p[i] == '%'))
				next[i + 1] = true;
		}
		t = cur;
		cur = next;
		next = t;
	}
	ok = cur[plen];
	mem_free(cur);
	mem_free(next);
	return ok;
}

static const struct {
	unsigned attr;
	const char *name;
} attr_names[] = {
    {MSTORE_A_NONEXISTENT, "\\NonExistent"},
    {MSTORE_A_NOSELECT, "\\Noselect"},
    {MSTORE_A_HASCHILDREN, "\\HasChildren"},
    {MSTORE_A_HASNOCHILDREN, "\\HasNoChildren"},
    {MSTORE_A_SUBSCRIBED, "\\Subscribed"},
    {MSTORE_A_SENT, "\\Sent"},
    {MSTORE_A_DRAFTS, "\\Drafts"},
    {MSTORE_A_TRASH, "\\Trash"},
    {MSTORE_A_JUNK, "\\Junk"},
    {MSTORE_A_ARCHIVE, "\\Archive"},
};

#define SPECIAL_USE                                                            \
	(MSTORE_A_SENT | MSTORE_A_DRAFTS | MSTORE_A_TRASH | MSTORE_A_JUNK |    \
	 MSTORE_A_ARCHIVE)

struct list_opts {
	bool lsub;
	bool sel_subscribed, sel_special, recursive;
	bool ret_subscribed, ret_children, ret_special;
	const struct imap_arg *status_items; /* RETURN (STATUS (...)) */
};

static int status_items_out(struct session *s, const char *name,
			    const struct imap_arg *items, bool quiet);

static void list_line(struct session *s, const struct mstore_folder *f,
		      const struct list_opts *o)
{
	struct str line;
	unsigned attrs = f->attrs;
	bool first = true;

	if (o->lsub) {
		attrs &= MSTORE_A_NOSELECT;
		if (f->attrs & MSTORE_A_NONEXISTENT)
			attrs |= MSTORE_A_NOSELECT;
	} else if (!o->ret_subscribed && !o->sel_subscribed) {
		attrs &= ~MSTORE_A_SUBSCRIBED;
	}
	if ((attrs & MSTORE_A_NONEXISTENT) && !o->lsub)
		attrs |= MSTORE_A_NOSELECT;
	str_init(&line, 128);
	str_printf(&line, "* %s (", o->lsub ? "LSUB" : "LIST");
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]);
	     i++) {
		if ((attrs & attr_names[i].attr) == 0)
			continue;
		if (!first)
			str_putc(&line, ' ');
		str_append_cstr(&line, attr_names[i].name);
		first = false;
	}
	str_append_cstr(&line, ") \"/\" ");
	imapd_mailbox_out(s, f->name, &line);
	str_append_cstr(&line, "\r\n");
	imapd_write(s, line.data, line.len);
	str_deinit(&line);
	if (o->status_items != NULL &&
	    (f->attrs & (MSTORE_A_NOSELECT | MSTORE_A_NONEXISTENT)) == 0)
		(void)status_items_out(s, f->name, o->status_items, true);
}

static bool list_selected(const struct mstore_folder *f,
			  const struct list_opts *o)
{
	if ((o->lsub || o->sel_subscribed) &&
	    (f->attrs & MSTORE_A_SUBSCRIBED) == 0)
		return false;
	if (o->sel_special && (f->attrs & SPECIAL_USE) == 0)
		return false;
	if (!o->lsub && !o->sel_subscribed &&
	    (f->attrs & MSTORE_A_NONEXISTENT))
		return false;
	return true;
}

static void list_run(struct session *s, const struct str *patterns,
		     size_t npat, const struct list_opts *o)
{
	struct mstore_folder *list;
	size_t count;
	const char *err;

	if (mstore_list(s->store, &list, &count, &err) < 0) {
		msg_warn("%s: user %s: list: %s", s->client_addr, s->user, err);
		imapd_tagged(s, "NO", "[SERVERBUG] Cannot list mailboxes");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		bool match = false;

		for (size_t k = 0; k < npat && !match; k++)
			match = pattern_match(patterns[k].data, list[i].name);
		if (match && list_selected(&list[i], o))
			list_line(s, &list[i], o);
	}
	mstore_folders_free(list, count);
	imapd_done(s, true, "OK", o->lsub ? "LSUB completed" : "LIST completed");
}

static int list_select_opts(const struct imap_arg *a, struct list_opts *o)
{
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_is(x, "SUBSCRIBED"))
			o->sel_subscribed = true;
		else if (imap_arg_is(x, "SPECIAL-USE"))
			o->sel_special = true;
		else if (imap_arg_is(x, "RECURSIVEMATCH"))
			o->recursive = true;
		else if (!imap_arg_is(x, "REMOTE"))
			return -1;
	}
	if (o->recursive && !o->sel_subscribed)
		return -1; /* RFC 5258: needs another selection option */
	return 1;
}

static int list_return_opts(const struct imap_arg *a, struct list_opts *o)
{
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_is(x, "SUBSCRIBED"))
			o->ret_subscribed = true;
		else if (imap_arg_is(x, "CHILDREN"))
			o->ret_children = true;
		else if (imap_arg_is(x, "SPECIAL-USE"))
			o->ret_special = true;
		else if (imap_arg_is(x, "STATUS") && i + 1 < a->count &&
			 a->list[i + 1].type == IMAP_ARG_LIST)
			o->status_items = &a->list[++i];
		else
			return -1;
	}
	return 1;
}

/* reference + pattern -> the UTF-8 pattern in out. */
static int list_pattern(struct session *s, const struct str *ref,
			const struct imap_arg *pat, struct str *out)
{
	struct str p;

	str_init(&p, 64);
	if (name_decode(s, pat, &p) < 0) {
		str_deinit(&p);
		return -1;
	}
	str_set(out, ref->data, ref->len);
	if (p.data[0] == '/' || out->data == NULL)
		str_set(out, p.data, p.len);
	else
		str_append(out, p.data, p.len);
	str_deinit(&p);
	inbox_upcase(out);
	return 1;
}

void imapd_cmd_list(struct session *s, struct imap_command *cmd, bool lsub)
{
	struct list_opts o = {.lsub = lsub};
	const struct imap_arg *a = cmd->args, *pats;
	size_t n = cmd->count, npat;
	struct str ref, *patterns;

	if (!lsub && n > 0 && a[0].type == IMAP_ARG_LIST) {
		if (list_select_opts(&a[0], &o) < 0) {
			imapd_tagged(s, "BAD", "Invalid LIST selection option");
			return;
		}
		a++;
		n--;
	}
	if (!lsub && n == 4 && imap_arg_is(&a[2], "RETURN")) {
		if (list_return_opts(&a[3], &o) < 0) {
			imapd_tagged(s, "BAD", "Invalid LIST return option");
			return;
		}
		n = 2;
	}
	if (n != 2 || (lsub && a[1].type == IMAP_ARG_LIST)) {
		imapd_tagged(s, "BAD", "Usage: LIST reference pattern");
		return;
	}
	str_init(&ref, 64);
	if (name_decode(s, &a[0], &ref) < 0) {
		str_deinit(&ref);
		imapd_tagged(s, "BAD", "Invalid reference name");
		return;
	}
	pats = a[1].type == IMAP_ARG_LIST ? a[1].list : &a[1];
	npat = a[1].type == IMAP_ARG_LIST ? a[1].count : 1;
	if (npat == 1 && !lsub && pats[0].type != IMAP_ARG_LIST &&
	    imap_arg_astring(&pats[0], &n) != NULL && n == 0) {
		/* LIST "" "": the hierarchy separator and root. */
		imapd_printf(s, "* LIST (\\Noselect) \"/\" \"\"");
		str_deinit(&ref);
		imapd_done(s, true, "OK", "LIST completed");
		return;
	}
	patterns = mem_calloc(npat + 1, sizeof(*patterns));
	for (size_t i = 0; i < npat; i++) {
		str_init(&patterns[i], 64);
		if (list_pattern(s, &ref, &pats[i], &patterns[i]) < 0) {
			imapd_tagged(s, "BAD", "Invalid mailbox pattern");
			npat = i + 1;
			goto out;
		}
	}
	list_run(s, patterns, npat, &o);
out:
	for (size_t i = 0; i < npat; i++)
		str_deinit(&patterns[i]);
	mem_free(patterns);
	str_deinit(&ref);
}

/* One name argument for CREATE/DELETE/... ; 1 or -1 (reply sent). */
static int one_name(struct session *s, struct imap_command *cmd, size_t want,
		    const char *usage, struct str *name)
{
	if (cmd->count != want) {
		imapd_tagged(s, "BAD", "Usage: %s", usage);
		return -1;
	}
	return imapd_mailbox_arg(s, &cmd->args[0], name);
}

static void store_result(struct session *s, int r, const char *err,
			 const char *zero, const char *ok)
{
	if (r > 0)
		imapd_done(s, true, "OK", ok);
	else if (r == 0)
		imapd_done(s, true, "NO", zero);
	else
		imapd_tagged(s, "NO", "[CANNOT] %s", err);
}

void imapd_cmd_create(struct session *s, struct imap_command *cmd)
{
	struct str name;
	const char *err = "";
	int r;

	str_init(&name, 64);
	if (one_name(s, cmd, 1, "CREATE mailbox", &name) > 0) {
		while (name.len > 0 && name.data[name.len - 1] == '/')
			str_truncate(&name, name.len - 1);
		r = strcmp(name.data, "INBOX") == 0
			? 0
			: mstore_create(s->store, name.data, &err);
		store_result(s, r, err, "[ALREADYEXISTS] Mailbox exists",
			     "CREATE completed");
	}
	str_deinit(&name);
}

void imapd_cmd_delete(struct session *s, struct imap_command *cmd)
{
	struct str name;
	const char *err = "";
	int r;

	str_init(&name, 64);
	if (one_name(s, cmd, 1, "DELETE mailbox", &name) > 0) {
		if (strcmp(name.data, "INBOX") == 0) {
			imapd_tagged(s, "NO", "[CANNOT] INBOX cannot be "
					      "deleted");
		} else {
			r = mstore_delete(s->store, name.data, &err);
			store_result(s, r, err, "[NONEXISTENT] No such mailbox",
				     "DELETE completed");
		}
	}
	str_deinit(&name);
}

void imapd_cmd_rename(struct session *s, struct imap_command *cmd)
{
	struct str from, to;
	const char *err = "";
	int r;

	str_init(&from, 64);
	str_init(&to, 64);
	if (one_name(s, cmd, 2, "RENAME from to", &from) > 0 &&
	    imapd_mailbox_arg(s, &cmd->args[1], &to) > 0) {
		r = mstore_rename(s->store, from.data, to.data, &err);
		store_result(s, r, err, "[NONEXISTENT] No such mailbox",
			     "RENAME completed");
	}
	str_deinit(&from);
	str_deinit(&to);
}

void imapd_cmd_subscribe(struct session *s, struct imap_command *cmd, bool on)
{
	struct str name;
	const char *err = "";
	int r;

	str_init(&name, 64);
	if (one_name(s, cmd, 1, "SUBSCRIBE mailbox", &name) > 0) {
		r = mstore_subscribe(s->store, name.data, on, &err);
		store_result(s, r, err, "[NONEXISTENT] No such mailbox",
			     on ? "SUBSCRIBE completed"
				: "UNSUBSCRIBE completed");
	}
	str_deinit(&name);
}

/* "* STATUS name (ITEM n ...)"; 1, 0 no such mailbox, -1 bad items
 * (replies only when !quiet). */
static int status_items_out(struct session *s, const char *name,
			    const struct imap_arg *items, bool quiet)
{
	struct mstore_status st;
	struct str line;
	const char *err;
	int r;

	r = mstore_status(s->store, name, &st, &err);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s: user %s: status %s: %s", s->client_addr,
				 s->user, name, err);
		return quiet ? 0 : r;
	}
	str_init(&line, 128);
	str_append_cstr(&line, "* STATUS ");
	imapd_mailbox_out(s, name, &line);
	str_append_cstr(&line, " (");
	for (size_t i = 0; i < items->count; i++) {
		const struct imap_arg *x = &items->list[i];

		if (i > 0)
			str_putc(&line, ' ');
		if (imap_arg_is(x, "MESSAGES"))
			str_printf(&line, "MESSAGES %u", st.messages);
		else if (imap_arg_is(x, "RECENT"))
			str_printf(&line, "RECENT %u", st.recent);
		else if (imap_arg_is(x, "UIDNEXT"))
			str_printf(&line, "UIDNEXT %u", st.uidnext);
		else if (imap_arg_is(x, "UIDVALIDITY"))
			str_printf(&line, "UIDVALIDITY %u", st.uidvalidity);
		else if (imap_arg_is(x, "UNSEEN"))
			str_printf(&line, "UNSEEN %u", st.unseen);
		else if (imap_arg_is(x, "DELETED"))
			str_printf(&line, "DELETED %u", st.deleted);
		else if (imap_arg_is(x, "SIZE"))
			str_printf(&line, "SIZE %llu",
				   (unsigned long long)st.size);
		else if (imap_arg_is(x, "HIGHESTMODSEQ"))
			str_printf(&line, "HIGHESTMODSEQ %llu",
				   (unsigned long long)st.highestmodseq);
		else if (imap_arg_is(x, "MAILBOXID"))
			str_printf(&line, "MAILBOXID (%s)", st.mailboxid);
		else {
			str_deinit(&line);
			return -1;
		}
	}
	str_append_cstr(&line, ")\r\n");
	imapd_write(s, line.data, line.len);
	str_deinit(&line);
	return 1;
}

void imapd_cmd_status(struct session *s, struct imap_command *cmd)
{
	struct str name;
	int r;

	str_init(&name, 64);
	if (cmd->count != 2 || cmd->args[1].type != IMAP_ARG_LIST ||
	    cmd->args[1].count == 0) {
		imapd_tagged(s, "BAD", "Usage: STATUS mailbox (items)");
	} else if (imapd_mailbox_arg(s, &cmd->args[0], &name) > 0) {
		r = status_items_out(s, name.data, &cmd->args[1], false);
		if (r < 0)
			imapd_tagged(s, "BAD", "Invalid STATUS item");
		else if (r == 0)
			imapd_tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		else
			imapd_done(s, true, "OK", "STATUS completed");
	}
	str_deinit(&name);
}

/* APPEND flags: system flags as bits, keywords as names. */
static int append_flags(const struct imap_arg *a, uint32_t *flags,
			const char **kw, size_t *nkw)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} sys[] = {{"\\Seen", MSTORE_F_SEEN},	    {"\\Answered", MSTORE_F_ANSWERED},
		   {"\\Flagged", MSTORE_F_FLAGGED}, {"\\Deleted", MSTORE_F_DELETED},
		   {"\\Draft", MSTORE_F_DRAFT}};

	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];
		bool known = false;

		if (x->type != IMAP_ARG_ATOM)
			return -1;
		for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
			if (strcasecmp(x->str, sys[k].name) == 0) {
				*flags |= sys[k].flag;
				known = true;
			}
		if (known || strcasecmp(x->str, "\\Recent") == 0)
			continue;
		if (x->str[0] == '\\' || *nkw >= MSTORE_KEYWORD_MAX)
			return -1;
		kw[(*nkw)++] = x->str;
	}
	return 1;
}

void imapd_cmd_append(struct session *s, struct imap_command *cmd)
{
	const char *kw[MSTORE_KEYWORD_MAX], *err = "";
	const struct imap_arg *a = cmd->args, *msg;
	size_t n = cmd->count, nkw = 0;
	uint32_t flags = 0, uidvalidity = 0, uid = 0;
	time_t when = 0;
	int tz, r;
	struct str name;

	str_init(&name, 64);
	if (n < 2 || imapd_mailbox_arg(s, &a[0], &name) < 0) {
		if (n < 2)
			imapd_tagged(s, "BAD", "Usage: APPEND mailbox [flags] "
					       "[date-time] message");
		str_deinit(&name);
		return;
	}
	a++;
	n--;
	if (n > 1 && a->type == IMAP_ARG_LIST) {
		if (append_flags(a, &flags, kw, &nkw) < 0) {
			imapd_tagged(s, "BAD", "Invalid flags");
			str_deinit(&name);
			return;
		}
		a++;
		n--;
	}
	if (n > 1 && a->type == IMAP_ARG_QUOTED) {
		if (imap_parse_datetime(a->str, &when, &tz) < 0) {
			imapd_tagged(s, "BAD", "Invalid date-time");
			str_deinit(&name);
			return;
		}
		a++;
		n--;
	}
	msg = a;
	if (n != 1 || msg->type != IMAP_ARG_LITERAL) {
		imapd_tagged(s, "BAD", "APPEND needs the message as a literal");
		str_deinit(&name);
		return;
	}
	if (msg->len == 0) {
		imapd_tagged(s, "NO", "Empty message");
		str_deinit(&name);
		return;
	}
	r = mstore_append(s->store, name.data, msg->str, msg->len, flags, kw,
			  nkw, (int64_t)when, &uidvalidity, &uid, &err);
	if (r == 0)
		imapd_tagged(s, "NO", "[TRYCREATE] No such mailbox");
	else if (r < 0) {
		msg_warn("%s: user %s: append to %s: %s", s->client_addr,
			 s->user, name.data, err);
		imapd_tagged(s, "NO", "[CANNOT] %s", err);
	} else {
		str_clear(&name);
		str_printf(&name, "[APPENDUID %u %u] APPEND completed",
			   uidvalidity, uid);
		imapd_done(s, true, "OK", name.data);
	}
	str_deinit(&name);
}

void imapd_cmd_namespace(struct session *s, struct imap_command *cmd)
{
	(void)cmd;
	if (s->cfg->public_root != NULL)
		imapd_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL "
				"((\"Public/\" \"/\"))");
	else
		imapd_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	imapd_done(s, true, "OK", "NAMESPACE completed");
}
