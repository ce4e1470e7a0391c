/* selected.c: SELECT and EXAMINE, the client's view of the selected
 * mailbox and how it follows the store (untagged EXISTS, RECENT, FETCH
 * FLAGS and EXPUNGE, the last only where RFC 9051 7.5.1 allows them:
 * never during FETCH, STORE or SEARCH by message number), CLOSE,
 * UNSELECT, EXPUNGE, IDLE (changes pushed as they happen, through the
 * store's inotify descriptor), flag lists and sequence sets. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mem.h"
#include "msg.h"

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
    {"\\Answered", MSTORE_F_ANSWERED}, {"\\Flagged", MSTORE_F_FLAGGED},
    {"\\Deleted", MSTORE_F_DELETED},   {"\\Seen", MSTORE_F_SEEN},
    {"\\Draft", MSTORE_F_DRAFT},
};
#define SYSTEM_FLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

uint32_t imapd_msg_flags(const struct session *s, const struct mstore_msg *m)
{
	if (m->uid < s->recent_lo || m->uid > s->recent_hi)
		return m->flags & ~MSTORE_F_RECENT;
	return m->flags;
}

/* Claims m as \Recent for this session when no session of the process
 * has; true when it did. */
static bool claim_recent(struct session *s, const struct mstore_msg *m)
{
	uint32_t *mark = imapd_box_recent_mark(s);

	if (!(m->flags & MSTORE_F_RECENT) || m->uid <= *mark)
		return false;
	*mark = m->uid;
	if (s->recent_lo == 0 || s->recent_hi < s->recent_lo)
		s->recent_lo = m->uid;
	s->recent_hi = m->uid;
	return true;
}

void imapd_flags_out(struct session *s, uint32_t flags, uint32_t keywords,
		     struct str *out)
{
	const char *const *kw = NULL;
	size_t kw_count = 0;
	bool first = true;

	if (s->mb != NULL)
		kw = mstore_keywords(s->mb, &kw_count);
	str_putc(out, '(');
	for (size_t i = 0; i < SYSTEM_FLAGS; i++) {
		if ((flags & system_flags[i].flag) == 0)
			continue;
		if (!first)
			str_putc(out, ' ');
		str_append_cstr(out, system_flags[i].name);
		first = false;
	}
	if ((flags & MSTORE_F_RECENT) && !s->rev2) {
		str_append_cstr(out, first ? "\\Recent" : " \\Recent");
		first = false;
	}
	for (size_t i = 0; i < kw_count && i < 32; i++) {
		if ((keywords & (1u << i)) == 0)
			continue;
		if (!first)
			str_putc(out, ' ');
		str_append_cstr(out, kw[i]);
		first = false;
	}
	str_putc(out, ')');
}

/* One flag atom; 1, or -1 with *error_r. */
static int flag_parse(struct session *s, const struct imap_arg *a, bool create,
		      uint32_t *flags, uint32_t *keywords, const char **error_r)
{
	int k;

	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Flags must be atoms";
		return -1;
	}
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < SYSTEM_FLAGS; i++)
			if (strcasecmp(a->str, system_flags[i].name) == 0) {
				*flags |= system_flags[i].flag;
				return 1;
			}
		if (strcasecmp(a->str, "\\Recent") == 0)
			return 1; /* read-only flag: ignored */
		*error_r = "Invalid system flag";
		return -1;
	}
	if (s->mb == NULL) {
		*error_r = "No mailbox selected";
		return -1;
	}
	k = mstore_keyword_index(s->mb, a->str, create);
	if (k < 0 && create) {
		*error_r = "Too many keywords in this mailbox";
		return -1;
	}
	if (k >= 0 && k < 32)
		*keywords |= 1u << k;
	return 1;
}

int imapd_flags_parse(struct session *s, const struct imap_arg *a,
		      bool create, uint32_t *flags_r, uint32_t *keywords_r,
		      const char **error_r)
{
	*flags_r = 0;
	*keywords_r = 0;
	if (a->type != IMAP_ARG_LIST)
		return flag_parse(s, a, create, flags_r, keywords_r, error_r);
	for (size_t i = 0; i < a->count; i++)
		if (flag_parse(s, &a->list[i], create, flags_r, keywords_r,
			       error_r) < 0)
			return -1;
	return 1;
}

static void view_add(struct session *s, uint32_t uid)
{
	if (s->view_count == s->view_cap) {
		s->view_cap = s->view_cap == 0 ? 64 : s->view_cap * 2;
		s->view = mem_realloc(s->view,
				      size_mul(s->view_cap, sizeof(*s->view)));
	}
	s->view[s->view_count++] = uid;
}

const struct mstore_msg *imapd_view_msg(struct session *s, size_t i)
{
	const struct mstore_msg *m;
	size_t n;
	long k;

	if (i >= s->view_count || (k = mstore_find(s->mb, s->view[i])) < 0)
		return NULL;
	m = mstore_messages(s->mb, &n);
	return &m[k];
}

void imapd_own_change(struct session *s, uint32_t uid)
{
	const struct mstore_msg *m;
	size_t n;
	long k = mstore_find(s->mb, uid);

	if (k < 0)
		return;
	m = mstore_messages(s->mb, &n);
	if (s->own_count == s->own_cap) {
		s->own_cap = s->own_cap == 0 ? 16 : s->own_cap * 2;
		s->own = mem_realloc(s->own,
				     size_mul(s->own_cap, sizeof(*s->own)));
	}
	s->own[s->own_count].uid = uid;
	s->own[s->own_count++].modseq = m[k].modseq;
}

static int own_cmp(const void *a, const void *b)
{
	const struct imapd_own_change *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Is m's last change one this session made? *pos walks the own list
 * (sorted by UID) along with the ascending UIDs asked about. */
static bool own_change(const struct session *s, const struct mstore_msg *m,
		       size_t *pos)
{
	while (*pos < s->own_count && s->own[*pos].uid < m->uid)
		(*pos)++;
	for (size_t i = *pos; i < s->own_count && s->own[i].uid == m->uid; i++)
		if (s->own[i].modseq == m->modseq)
			return true;
	return false;
}

/* The FLAGS and PERMANENTFLAGS lines. */
static void flags_lines(struct session *s)
{
	const char *const *kw;
	size_t n;

	kw = mstore_keywords(s->mb, &n);
	str_clear(&s->scratch);
	str_append_cstr(&s->scratch,
			"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (size_t i = 0; i < n; i++) {
		str_putc(&s->scratch, ' ');
		str_append_cstr(&s->scratch, kw[i]);
	}
	str_append_cstr(&s->scratch, ")\r\n");
	imapd_write(s, s->scratch.data, s->scratch.len);
	if (s->readonly) {
		imapd_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox");
		return;
	}
	str_clear(&s->scratch);
	str_append_cstr(&s->scratch, "* OK [PERMANENTFLAGS (\\Answered "
				     "\\Flagged \\Deleted \\Seen \\Draft");
	for (size_t i = 0; i < n; i++) {
		str_putc(&s->scratch, ' ');
		str_append_cstr(&s->scratch, kw[i]);
	}
	str_append_cstr(&s->scratch, n < MSTORE_KEYWORD_MAX ? " \\*)]" : ")]");
	str_append_cstr(&s->scratch, " Flags permitted\r\n");
	imapd_write(s, s->scratch.data, s->scratch.len);
}

static size_t keyword_count(struct session *s)
{
	size_t n;

	(void)mstore_keywords(s->mb, &n);
	return n;
}

/* A flag change another session (or another program) made. */
static void report_flags(struct session *s, size_t i, const struct mstore_msg *m)
{
	struct str line;

	str_init(&line, 64);
	str_printf(&line, "* %zu FETCH (UID %u FLAGS ", i + 1, m->uid);
	imapd_flags_out(s, imapd_msg_flags(s, m), m->keywords, &line);
	str_append_cstr(&line, ")\r\n");
	imapd_write(s, line.data, line.len);
	str_deinit(&line);
}

/* EXPUNGE responses for what vanished, highest number first so that the
 * numbers sent stay valid. */
static void report_expunges(struct session *s, const struct mstore_msg *m,
			    size_t n)
{
	size_t out = 0, j = 0;

	/* Both lists are in UID order: mark what the store lost (0 is
	 * never a UID), announce it, then close the gaps. */
	for (size_t i = 0; i < s->view_count; i++) {
		while (j < n && m[j].uid < s->view[i])
			j++;
		if (j >= n || m[j].uid != s->view[i])
			s->view[i] = 0;
	}
	for (size_t i = s->view_count; i-- > 0;)
		if (s->view[i] == 0)
			imapd_printf(s, "* %zu EXPUNGE", i + 1);
	for (size_t i = 0; i < s->view_count; i++)
		if (s->view[i] != 0)
			s->view[out++] = s->view[i];
	s->view_count = out;
}

void imapd_sync(struct session *s, bool allow_expunge)
{
	const struct mstore_msg *m;
	size_t n, j = 0, old_count, kw_before;
	bool any_expunged = false;
	uint64_t top = s->view_modseq;
	uint32_t recent = 0;
	const char *err;

	if (s->mb == NULL)
		return;
	kw_before = keyword_count(s);
	if (mstore_mailbox_sync(s->mb, &err) < 0) {
		/* The index was lost and rebuilt (new UIDVALIDITY), or the
		 * mailbox cannot be read: the client's view cannot be kept
		 * (RFC 9051 2.3.1.1), so the session ends. */
		msg_warn("%s: user %s: sync of %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
		imapd_close_after(s, "Mailbox state changed; please reconnect");
		return;
	}
	m = mstore_messages(s->mb, &n);
	if (keyword_count(s) != kw_before)
		flags_lines(s);
	if (s->own_count > 1)
		qsort(s->own, s->own_count, sizeof(*s->own), own_cmp);
	for (size_t i = 0, pos = 0; i < s->view_count; i++) {
		while (j < n && m[j].uid < s->view[i])
			j++;
		if (j >= n || m[j].uid != s->view[i]) {
			any_expunged = true;
			continue;
		}
		if (m[j].modseq > s->view_modseq && !own_change(s, &m[j], &pos))
			report_flags(s, i, &m[j]);
	}
	for (size_t k = 0; k < n; k++)
		if (m[k].modseq > top)
			top = m[k].modseq;
	s->view_modseq = top;
	s->own_count = 0;
	if (allow_expunge && any_expunged) {
		report_expunges(s, m, n);
		m = mstore_messages(s->mb, &n);
	}
	old_count = s->view_count;
	for (size_t k = 0; k < n; k++) {
		if (s->view_count > 0 && m[k].uid <= s->view[s->view_count - 1])
			continue;
		view_add(s, m[k].uid);
		if (claim_recent(s, &m[k]))
			recent++;
	}
	if (s->view_count != old_count || (allow_expunge && any_expunged))
		imapd_printf(s, "* %zu EXISTS", s->view_count);
	if (recent > 0 && !s->rev2) {
		s->view_recent += recent;
		imapd_printf(s, "* %u RECENT", s->view_recent);
	}
}

void imapd_unselect(struct session *s)
{
	imapd_box_close(s);
	mem_free(s->mailbox);
	mem_free(s->view);
	mem_free(s->own);
	mem_free(s->searchres);
	s->view_count = s->view_cap = 0;
	s->own_count = s->own_cap = 0;
	s->view_modseq = 0;
	s->recent_lo = 1;
	s->recent_hi = 0;
	s->searchres_count = 0;
	s->view_recent = 0;
	if (s->state == IMAPD_SELECTED)
		s->state = IMAPD_AUTH;
}

static void select_report(struct session *s)
{
	struct mstore_status st;
	size_t unseen = 0;

	mstore_mailbox_status(s->mb, &st);
	flags_lines(s);
	imapd_printf(s, "* %zu EXISTS", s->view_count);
	if (!s->rev2) {
		imapd_printf(s, "* %u RECENT", s->view_recent);
		for (size_t i = 0; i < s->view_count; i++)
			if ((imapd_view_msg(s, i)->flags & MSTORE_F_SEEN) == 0) {
				unseen = i + 1;
				break;
			}
		if (unseen > 0)
			imapd_printf(s, "* OK [UNSEEN %zu] First unseen",
				     unseen);
	}
	imapd_printf(s, "* OK [UIDVALIDITY %u] UIDs valid", st.uidvalidity);
	imapd_printf(s, "* OK [UIDNEXT %u] Predicted next UID", st.uidnext);
	if (st.mailboxid[0] != '\0')
		imapd_printf(s, "* OK [MAILBOXID (%s)] Ok", st.mailboxid);
}

void imapd_cmd_select(struct session *s, struct imap_command *cmd,
		      bool readonly)
{
	const struct mstore_msg *m;
	struct str name;
	size_t n;
	const char *err;
	int r;

	if (cmd->count < 1) {
		imapd_tagged(s, "BAD", "Usage: SELECT mailbox");
		return;
	}
	str_init(&name, 64);
	if (imapd_mailbox_arg(s, &cmd->args[0], &name) < 0) {
		str_deinit(&name);
		return;
	}
	if (s->state == IMAPD_SELECTED) {
		imapd_unselect(s);
		imapd_printf(s, "* OK [CLOSED] Previous mailbox closed");
	}
	r = imapd_box_open(s, name.data, readonly, &err);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s: user %s: open %s: %s", s->client_addr,
				 s->user, name.data, err);
		imapd_tagged(s, "NO", r == 0 ? "[NONEXISTENT] No such mailbox"
					     : "[SERVERBUG] Cannot open mailbox");
		str_deinit(&name);
		return;
	}
	s->mailbox = str_steal(&name);
	s->readonly = readonly;
	s->state = IMAPD_SELECTED;
	m = mstore_messages(s->mb, &n);
	for (size_t i = 0; i < n; i++) {
		view_add(s, m[i].uid);
		if (claim_recent(s, &m[i]))
			s->view_recent++;
		if (m[i].modseq > s->view_modseq)
			s->view_modseq = m[i].modseq;
	}
	select_report(s);
	imapd_tagged(s, "OK", "[%s] %s completed",
		     readonly ? "READ-ONLY" : "READ-WRITE",
		     readonly ? "EXAMINE" : "SELECT");
}

void imapd_cmd_close(struct session *s, struct imap_command *cmd, bool expunge)
{
	uint32_t *gone = NULL;
	size_t n = 0;
	const char *err;

	(void)cmd;
	if (expunge && !s->readonly &&
	    mstore_expunge(s->mb, NULL, 0, &gone, &n, &err) < 0)
		msg_warn("%s: user %s: expunge %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
	mem_free(gone);
	imapd_unselect(s);
	imapd_tagged(s, "OK", expunge ? "CLOSE completed" : "UNSELECT completed");
}

void imapd_cmd_expunge(struct session *s, struct imap_command *cmd, bool uid)
{
	uint32_t *uids = NULL, *gone = NULL;
	size_t *idx = NULL, count = 0, n = 0, k = 0;
	const char *err;
	int r;

	if (s->readonly) {
		imapd_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (uid) {
		if (cmd->count != 1 || cmd->args[0].type != IMAP_ARG_ATOM) {
			imapd_tagged(s, "BAD", "Usage: UID EXPUNGE uid-set");
			return;
		}
		if (imapd_seqset_indexes(s, cmd->args[0].str, true, &idx,
					 &count, &err) < 0) {
			imapd_tagged(s, "BAD", "%s", err);
			return;
		}
		uids = mem_alloc(size_mul(count + 1, sizeof(*uids)));
		for (size_t i = 0; i < count; i++) {
			const struct mstore_msg *m = imapd_view_msg(s, idx[i]);

			if (m != NULL && (m->flags & MSTORE_F_DELETED))
				uids[k++] = m->uid;
		}
		mem_free(idx);
	} else if (cmd->count != 0) {
		imapd_tagged(s, "BAD", "EXPUNGE takes no arguments");
		return;
	}
	r = uid && k == 0 ? 1
			  : mstore_expunge(s->mb, uid ? uids : NULL, k, &gone,
					   &n, &err);
	mem_free(uids);
	mem_free(gone);
	if (r < 0) {
		msg_warn("%s: user %s: expunge %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
		imapd_done(s, true, "NO", "[SERVERBUG] Expunge failed");
		return;
	}
	imapd_done(s, true, "OK", "EXPUNGE completed");
}

void imapd_cmd_idle(struct session *s, struct imap_command *cmd)
{
	if (cmd->count != 0) {
		imapd_tagged(s, "BAD", "IDLE takes no arguments");
		return;
	}
	/* Watch first, then sync: nothing slips in between. */
	imapd_box_idle(s);
	imapd_sync(s, true);
	imapd_continue(s, "idling");
	imapd_set_input(s, IMAPD_IN_IDLE);
}

void imapd_idle_input(struct session *s, const char *line, size_t len)
{
	imapd_set_input(s, IMAPD_IN_COMMAND);
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imapd_done(s, true, "OK", "IDLE terminated");
	else
		imapd_tagged(s, "BAD", "Expected DONE");
}

static long view_find_uid(const struct session *s, uint32_t uid)
{
	size_t lo = 0, hi = s->view_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->view[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The view indexes of the saved search result ("$"). */
static void searchres_indexes(struct session *s, size_t *idx, size_t *n)
{
	for (size_t i = 0; i < s->searchres_count; i++) {
		size_t k = (size_t)view_find_uid(s, s->searchres[i]);

		if (k < s->view_count && s->view[k] == s->searchres[i])
			idx[(*n)++] = k;
	}
}

int imapd_seqset_indexes(struct session *s, const char *set, bool uid,
			 size_t **idx_r, size_t *count_r, const char **error_r)
{
	struct imap_seqset ss;
	size_t *idx, n = 0, cap;
	uint32_t star;

	if (imap_seqset_parse(set, &ss, error_r) < 0)
		return -1;
	star = uid ? (s->view_count > 0 ? s->view[s->view_count - 1] : 0)
		   : (uint32_t)s->view_count;
	imap_seqset_resolve(&ss, star);
	cap = s->view_count + 1;
	idx = mem_alloc(size_mul(cap, sizeof(*idx)));
	if (ss.dollar)
		searchres_indexes(s, idx, &n);
	for (size_t r = 0; r < ss.count; r++) {
		struct imap_range rg = ss.ranges[r];

		if (!uid && (rg.lo == 0 || rg.hi > s->view_count)) {
			imap_seqset_free(&ss);
			mem_free(idx);
			*error_r = "Invalid message sequence number";
			return -1;
		}
		if (!uid) {
			for (uint32_t m = rg.lo; m <= rg.hi && n < cap; m++)
				idx[n++] = m - 1;
			continue;
		}
		for (size_t k = (size_t)view_find_uid(s, rg.lo);
		     k < s->view_count && s->view[k] <= rg.hi && n < cap;
		     k++)
			idx[n++] = k;
	}
	imap_seqset_free(&ss);
	*idx_r = idx;
	*count_r = n;
	return 1;
}
