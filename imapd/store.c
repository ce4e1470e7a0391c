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

/* What a STORE asks for. */
struct store_req {
	enum mstore_flag_mode mode;
	uint32_t flags, keywords;
	bool uid, silent;
};

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

static void put_uint(struct str *out, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	str_append(out, buf + i, sizeof(buf) - i);
}

/* The new flags of the view indexes idx[0..n) are read back from the
 * store and reported: built in one buffer (no printf per message), one
 * write into the output. */
static void store_report(struct session *s, const size_t *idx, size_t n,
			 bool uid, bool silent)
{
	struct str buf, *line = &buf;

	str_init(line, silent ? 0 : size_mul(n, 32));
	for (size_t i = 0; i < n; i++) {
		const struct mstore_msg *m = imapd_view_msg(s, idx[i]);

		if (m == NULL)
			continue;
		imapd_own_change(s, m->uid);
		if (silent)
			continue;
		str_append(line, "* ", 2);
		put_uint(line, idx[i] + 1);
		str_append_cstr(line, uid ? " FETCH (UID " : " FETCH (");
		if (uid) {
			put_uint(line, m->uid);
			str_putc(line, ' ');
		}
		str_append_cstr(line, "FLAGS ");
		imapd_flags_out(s, imapd_msg_flags(s, m), m->keywords, line);
		str_append(line, ")\r\n", 3);
	}
	if (line->len > 0)
		imapd_write(s, line->data, line->len);
	str_deinit(line);
}

/* A STORE goes to the store in chunks of this many messages, each
 * reported and sent before the next is renamed: the client reads the
 * first answers while the server renames the rest. Each chunk is one
 * store call (its own MODSEQ and log record), so another session may see
 * a STORE half done, which IMAP allows. */
#define STORE_CHUNK 1000

/* 1 or -1 with *error_r. */
static int store_all(struct session *s, const size_t *idx, size_t n,
		     const struct store_req *req, const char **error_r)
{
	for (size_t start = 0; start < n; start += STORE_CHUNK) {
		size_t len = n - start < STORE_CHUNK ? n - start : STORE_CHUNK;
		size_t nuids;
		uint32_t *uids = index_uids(s, idx + start, len, &nuids);
		int r = nuids == 0
			    ? 1
			    : mstore_store_flags(s->mb, uids, nuids, req->mode,
						 req->flags, req->keywords, 0,
						 NULL, NULL, error_r);

		mem_free(uids);
		if (r < 0)
			return -1;
		store_report(s, idx + start, len, req->uid, req->silent);
		/* errors show at the session's own flush */
		(void)iobuf_flush(s->buf);
	}
	return 1;
}

void imapd_cmd_store(struct session *s, struct imap_command *cmd, bool uid)
{
	struct store_req req = {.uid = uid};
	size_t *idx = NULL, n = 0;
	const char *err;

	if (cmd->count != 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    cmd->args[1].type != IMAP_ARG_ATOM ||
	    store_mode(cmd->args[1].str, &req.mode, &req.silent) < 0) {
		imapd_tagged(s, "BAD", "Usage: STORE set (+|-)FLAGS[.SILENT] "
				       "(flags)");
		return;
	}
	if (s->readonly) {
		imapd_tagged(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imapd_flags_parse(s, &cmd->args[2], req.mode != MSTORE_FLAGS_REMOVE,
			      &req.flags, &req.keywords, &err) < 0 ||
	    imapd_seqset_indexes(s, cmd->args[0].str, uid, &idx, &n, &err) < 0) {
		imapd_tagged(s, "BAD", "%s", err);
		return;
	}
	if (store_all(s, idx, n, &req, &err) < 0) {
		msg_warn("%s: user %s: store in %s: %s", s->client_addr,
			 s->user, s->mailbox, err);
		mem_free(idx);
		imapd_done(s, uid, "NO", "[SERVERBUG] Cannot store flags");
		return;
	}
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
