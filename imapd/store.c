/* store.c: STORE (+FLAGS, -FLAGS, FLAGS, .SILENT), COPY and MOVE with
 * their UID forms; COPYUID (RFC 4315) in the replies. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mem.h"
#include "msg.h"

/* The UIDs of view indexes, skipping expunged messages. */
static uint32_t *index_uids(struct session *s, const size_t *idx, size_t n,
			    size_t *count_r)
{
	uint32_t *uids = mem_alloc(size_mul(n + 1, sizeof(*uids)));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (imapd_view_msg(s, idx[i]) != NULL)
			uids[k++] = s->view[idx[i]];
	*count_r = k;
	return uids;
}

static int store_mode(const char *a, enum mstore_flag_mode *mode, bool *silent)
{
	size_t len = strlen(a);

	*mode = MSTORE_FLAGS_SET;
	if (a[0] == '+' || a[0] == '-') {
		*mode = a[0] == '+' ? MSTORE_FLAGS_ADD : MSTORE_FLAGS_REMOVE;
		a++;
		len--;
	}
	*silent = len == 12 && strncasecmp(a + 5, ".SILENT", 7) == 0;
	if (strncasecmp(a, "FLAGS", 5) != 0 || (len != 5 && !*silent))
		return -1;
	return 1;
}

/* The new flags are read back from the store and reported. */
static void store_report(struct session *s, const size_t *idx, size_t n,
			 bool uid, bool silent)
{
	struct str line;

	str_init(&line, 128);
	for (size_t i = 0; i < n; i++) {
		const struct mstore_msg *m = imapd_view_msg(s, idx[i]);

		if (m == NULL)
			continue;
		imapd_own_change(s, m->uid);
		if (silent)
			continue;
		str_clear(&line);
		str_printf(&line, "* %zu FETCH (", idx[i] + 1);
		if (uid)
			str_printf(&line, "UID %u ", m->uid);
		str_append_cstr(&line, "FLAGS ");
		imapd_flags_out(s, imapd_msg_flags(s, m), m->keywords, &line);
		str_append_cstr(&line, ")\r\n");
		imapd_write(s, line.data, line.len);
	}
	str_deinit(&line);
}

void imapd_cmd_store(struct session *s, struct imap_command *cmd, bool uid)
{
	enum mstore_flag_mode mode;
	uint32_t flags, keywords, *uids;
	size_t *idx = NULL, n = 0, nuids;
	const char *err;
	bool silent;
	int r;

	if (cmd->count != 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    cmd->args[1].type != IMAP_ARG_ATOM ||
	    store_mode(cmd->args[1].str, &mode, &silent) < 0) {
		imapd_tagged(s, "BAD", "Usage: STORE set (+|-)FLAGS[.SILENT] "
				       "(flags)");
		return;
	}
	if (s->readonly) {
		imapd_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imapd_flags_parse(s, &cmd->args[2], mode != MSTORE_FLAGS_REMOVE,
			      &flags, &keywords, &err) < 0 ||
	    imapd_seqset_indexes(s, cmd->args[0].str, uid, &idx, &n, &err) < 0) {
		imapd_tagged(s, "BAD", "%s", err);
		return;
	}
	uids = index_uids(s, idx, n, &nuids);
	r = nuids == 0 ? 1
		       : mstore_store_flags(s->mb, uids, nuids, mode, flags,
					    keywords, 0, NULL, NULL, &err);
	mem_free(uids);
	if (r < 0) {
		msg_warn("%s: user %s: store in %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
		mem_free(idx);
		imapd_done(s, uid, "NO", "[SERVERBUG] Cannot store flags");
		return;
	}
	store_report(s, idx, n, uid, silent);
	mem_free(idx);
	imapd_done(s, uid, "OK", "STORE completed");
}

void imapd_cmd_copy(struct session *s, struct imap_command *cmd, bool uid,
		    bool move)
{
	uint32_t *uids = NULL, *new_uids = NULL, *gone = NULL, uidvalidity = 0;
	size_t *idx = NULL, n = 0, nuids = 0, ngone = 0;
	struct str name, code;
	const char *err = "";
	int r;

	if (cmd->count != 2 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imapd_tagged(s, "BAD", "Usage: %s set mailbox",
			     move ? "MOVE" : "COPY");
		return;
	}
	if (move && s->readonly) {
		imapd_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	str_init(&name, 64);
	str_init(&code, 64);
	if (imapd_mailbox_arg(s, &cmd->args[1], &name) < 0)
		goto out;
	if (imapd_seqset_indexes(s, cmd->args[0].str, uid, &idx, &n, &err) < 0) {
		imapd_tagged(s, "BAD", "%s", err);
		goto out;
	}
	uids = index_uids(s, idx, n, &nuids);
	if (nuids == 0) {
		imapd_done(s, uid || move, "OK", "Nothing to do");
		goto out;
	}
	r = mstore_copy(s->mb, uids, nuids, name.data, &uidvalidity, &new_uids,
			&err);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s: user %s: copy to %s: %s", s->client_addr,
				 s->user, name.data, err);
		imapd_tagged(s, "NO", r == 0 ? "[TRYCREATE] No such mailbox"
					     : "[CANNOT] Copy failed");
		goto out;
	}
	str_printf(&code, "[COPYUID %u ", uidvalidity);
	imap_seqset_format(uids, nuids, &code);
	str_putc(&code, ' ');
	imap_seqset_format(new_uids, nuids, &code);
	str_putc(&code, ']');
	if (!move) {
		str_append_cstr(&code, " COPY completed");
		imapd_done(s, uid, "OK", code.data);
		goto out;
	}
	imapd_printf(s, "* OK %s Moved", code.data);
	if (mstore_expunge(s->mb, uids, nuids, &gone, &ngone, &err) < 0) {
		msg_warn("%s: user %s: move from %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
		imapd_done(s, true, "NO", "[SERVERBUG] Copied but not removed");
		goto out;
	}
	imapd_done(s, true, "OK", "MOVE completed");
out:
	mem_free(gone);
	mem_free(new_uids);
	mem_free(uids);
	mem_free(idx);
	str_deinit(&name);
	str_deinit(&code);
}
