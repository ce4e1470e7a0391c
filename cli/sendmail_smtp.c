/* sendmail_smtp.c: sendmail -bs, an SMTP session on standard input and
 * output for the local user (MUAs and scripts that speak SMTP to a
 * command). RFC 5321's minimal set plus PIPELINING, SIZE and 8BITMIME:
 * HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (VRFY answers 252, HELP
 * 214). Each message goes through postdrop exactly as a piped submission
 * does (envelope from MAIL and RCPT, unqualified addresses get
 * @$myorigin), so pickup later records the caller's uid in Received:.
 * The input is the caller's own: a line may end in LF or CRLF, and "."
 * on a line of its own ends the data either way. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "file.h"
#include "mem.h"
#include "num.h"
#include "sendmail.h"
#include "sendmail_headers.h"

/* Longest command line (RFC 5321 asks for at least 512 with CRLF). */
#define BS_CMD_MAX 4096
/* A client that only makes errors is sent away. */
#define BS_ERROR_LIMIT 20

struct bs_session {
	struct conf *conf;
	const char *dir;
	struct sm_input in; /* fd 0, reused for its buffer */
	bool mail;	    /* MAIL accepted */
	unsigned long errors;
	uint64_t size_limit;
	struct drop_envelope env;
};

static void bs_reply(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One reply line; a failed write (the client is gone) is noticed by the
 * next read. */
static void bs_reply(const char *fmt, ...)
{
	struct str s;
	const char *err;
	va_list ap;

	str_init(&s, 128);
	va_start(ap, fmt);
	str_vprintf(&s, fmt, ap);
	va_end(ap);
	str_append(&s, "\r\n", 2);
	(void)file_write_all(1, s.data, s.len, &err);
	str_deinit(&s);
}

/* Reads one piece: a line or, for a longer one, max bytes of it. Returns
 * 1 with piece (line end removed) and *eol_r (the piece ended a line), 0
 * at the end of input, -1 on a read error. */
static int bs_read(struct sm_input *in, size_t max, struct str *piece,
		   bool *eol_r)
{
	char *nl;
	size_t n;

	while (!in->eof && in->buf.len <= max &&
	       memchr(in->buf.data, '\n', in->buf.len) == NULL) {
		char tmp[16384];
		ssize_t r = read(in->fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			in->eof = true;
		str_append(&in->buf, tmp, (size_t)r);
	}
	if (in->buf.len == 0)
		return 0;
	nl = memchr(in->buf.data, '\n', in->buf.len);
	n = nl != NULL ? (size_t)(nl - in->buf.data) : in->buf.len;
	*eol_r = nl != NULL && n <= max;
	if (n > max)
		n = max;
	str_set(piece, in->buf.data, n);
	str_consume(&in->buf, *eol_r ? n + 1 : n);
	if (*eol_r && piece->len > 0 && piece->data[piece->len - 1] == '\r')
		str_truncate(piece, piece->len - 1);
	return 1;
}

/* A command line: 1 with line, 0 at the end of input (or a read error),
 * 2 for an overlong line (consumed whole). */
static int bs_command_line(struct bs_session *s, struct str *line)
{
	bool eol = false;
	int r = bs_read(&s->in, BS_CMD_MAX, line, &eol);

	if (r <= 0)
		return 0;
	if (eol)
		return 1;
	while (!eol && (r = bs_read(&s->in, BS_CMD_MAX, line, &eol)) > 0)
		;
	return r < 0 ? 0 : 2;
}

static void bs_error(struct bs_session *s, const char *reply)
{
	s->errors++;
	bs_reply("%s", reply);
}

static void bs_reset(struct bs_session *s)
{
	drop_envelope_free(&s->env);
	memset(&s->env, 0, sizeof(s->env));
	s->mail = false;
}

/* "FROM:<path> PARAMS": the path (with its brackets) and the rest. */
static void bs_split_path(const char *arg, size_t *path_len_r,
			  const char **params_r)
{
	bool quoted = false;
	size_t i = 0;

	if (arg[0] == '<') {
		for (i = 1; arg[i] != '\0' && (quoted || arg[i] != '>'); i++) {
			if (arg[i] == '\\' && quoted && arg[i + 1] != '\0')
				i++;
			else if (arg[i] == '"')
				quoted = !quoted;
		}
		if (arg[i] == '>')
			i++;
	} else {
		i = strcspn(arg, " ");
	}
	*path_len_r = i;
	*params_r = arg + i + strspn(arg + i, " ");
}

/* MAIL parameters: SIZE and BODY. false after replying to a bad one. */
static bool bs_mail_params(struct bs_session *s, const char *p)
{
	uint64_t size;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		if (n > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
			int r = num_parse_u64(p + 5, n - 5, UINT64_MAX, &size);
			if (r < 0) {
				bs_error(s,
					 "501 5.5.4 Bad message size syntax");
				return false;
			}
			if (r == 0 ||
			    (s->size_limit > 0 && size > s->size_limit)) {
				bs_error(s, "552 5.3.4 Message size exceeds "
					    "fixed limit");
				return false;
			}
		} else if (!((n == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) ||
			     (n == 13 &&
			      strncasecmp(p, "BODY=8BITMIME", 13) == 0))) {
			bs_error(s, "555 5.5.4 Unsupported option");
			return false;
		}
		p += n;
		p += strspn(p, " ");
	}
	return true;
}

/* The path of MAIL FROM: / RCPT TO: qualified into out; false after
 * replying. */
static bool bs_path(struct bs_session *s, const char *arg, size_t skip,
		    bool is_mail, struct str *out, const char **params_r)
{
	const char *origin = conf_get(s->conf, "myorigin");
	const char *err;
	size_t plen;

	arg += skip;
	arg += strspn(arg, " ");
	bs_split_path(arg, &plen, params_r);
	if (plen == 0 ||
	    sendmail_qualify(arg, plen, origin, is_mail, out, &err) < 0) {
		s->errors++;
		bs_reply("501 5.1.%d Bad %s address syntax", is_mail ? 7 : 3,
			 is_mail ? "sender" : "recipient");
		return false;
	}
	return true;
}

static void bs_mail(struct bs_session *s, const char *arg)
{
	const char *params;
	struct str addr;

	if (s->mail) {
		bs_error(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		bs_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	str_init(&addr, 64);
	if (bs_path(s, arg, 5, true, &addr, &params) &&
	    bs_mail_params(s, params)) {
		bs_reset(s);
		s->env.sender = str_steal(&addr);
		s->mail = true;
		bs_reply("250 2.1.0 Ok");
	}
	str_deinit(&addr);
}

static void bs_rcpt(struct bs_session *s, const char *arg)
{
	const char *params;
	struct str addr;

	if (!s->mail) {
		bs_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0) {
		bs_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	str_init(&addr, 64);
	if (!bs_path(s, arg, 3, false, &addr, &params)) {
		/* replied */
	} else if (*params != '\0') {
		bs_error(s, "555 5.5.4 Unsupported option");
	} else if (s->env.rcpt_count >= DROP_RCPT_MAX) {
		bs_reply("452 4.5.3 Error: too many recipients");
	} else {
		drop_envelope_add_rcpt(&s->env, addr.data);
		bs_reply("250 2.1.5 Ok");
	}
	str_deinit(&addr);
}

/* Sends one content record; after postdrop went away (a write error),
 * nothing more is sent, but the data is still read to its end. */
static void bs_put(int *fd, const char *data, size_t len)
{
	struct str rec;
	const char *err;

	if (*fd < 0)
		return;
	str_init(&rec, len + DROP_RECORD_HEAD);
	drop_record_head(&rec, 'C', len);
	str_append(&rec, data, len);
	if (file_write_all(*fd, rec.data, rec.len, &err) < 0) {
		close(*fd);
		*fd = -1;
	}
	str_deinit(&rec);
}

/* Reads the data up to "." and streams it to postdrop on fd. Returns 1
 * at the end of data, 0 when the input ended first. *size_r counts the
 * content bytes (LF line ends). */
static int bs_copy_data(struct bs_session *s, int *fd, uint64_t *size_r)
{
	struct str piece, out;
	bool eol = true, bol = true;
	int r;

	str_init(&piece, 0);
	str_init(&out, 0);
	while ((r = bs_read(&s->in, SM_LINE_MAX, &piece, &eol)) > 0) {
		const char *p = piece.data;
		size_t n = piece.len;
		if (bol && eol && n == 1 && p[0] == '.')
			break;
		if (bol && n > 0 && p[0] == '.')
			p++, n--;
		str_append(&out, p, n);
		if (eol)
			str_putc(&out, '\n');
		*size_r += n + (eol ? 1 : 0);
		bol = eol;
		if (out.len >= DROP_CHUNK_MAX ||
		    (s->size_limit > 0 && *size_r > s->size_limit)) {
			if (s->size_limit == 0 || *size_r <= s->size_limit)
				bs_put(fd, out.data, out.len);
			str_clear(&out);
		}
	}
	if (r > 0 && out.len > 0)
		bs_put(fd, out.data, out.len);
	str_deinit(&piece);
	str_deinit(&out);
	return r > 0 ? 1 : 0;
}

/* postdrop's exit code as a reply. */
static const char *bs_status_reply(int code)
{
	switch (code) {
	case 0:
		return "250 2.0.0 Ok: queued";
	case DROP_EX_DATAERR:
		return "554 5.6.0 Error: message refused (see the error "
		       "output)";
	case DROP_EX_NOPERM:
		return "554 5.7.1 Error: submission not permitted";
	default:
		return "451 4.3.0 Error: queue file write error";
	}
}

/* Ends the message for postdrop: the end record and its verdict. */
static const char *bs_finish(int fd, pid_t pid, bool complete)
{
	struct str rec;
	const char *err;
	int code;

	if (fd >= 0 && complete) {
		str_init(&rec, DROP_RECORD_HEAD);
		drop_record_head(&rec, 'E', 0);
		(void)file_write_all(fd, rec.data, rec.len, &err);
		str_deinit(&rec);
	}
	if (fd >= 0)
		close(fd);
	code = sm_postdrop_wait(pid);
	return bs_status_reply(code);
}

static void bs_data(struct bs_session *s)
{
	struct str env;
	const char *err, *reply;
	uint64_t size = 0;
	pid_t pid;
	int fd, ended;

	if (!s->mail || s->env.rcpt_count == 0) {
		bs_error(s, s->mail ? "503 5.5.1 Error: need RCPT command"
				    : "503 5.5.1 Error: need MAIL command");
		return;
	}
	str_init(&env, 0);
	if (drop_envelope_encode(&s->env, &env, &err) < 0) {
		bs_reply("554 5.5.0 Error: %s", err);
		str_deinit(&env);
		return;
	}
	fd = sm_postdrop_start(s->conf, s->dir, false, &pid);
	if (fd < 0 || file_write_all(fd, env.data, env.len, &err) < 0) {
		if (fd >= 0)
			(void)bs_finish(fd, pid, false);
		bs_reply("451 4.3.0 Error: cannot start postdrop");
		str_deinit(&env);
		return;
	}
	str_deinit(&env);
	bs_reply("354 End data with <CR><LF>.<CR><LF>");
	ended = bs_copy_data(s, &fd, &size);
	if (ended && s->size_limit > 0 && size > s->size_limit) {
		(void)bs_finish(fd, pid, false);
		reply = "552 5.3.4 Error: message file too big";
	} else {
		reply = bs_finish(fd, pid, ended == 1);
	}
	if (ended)
		bs_reply("%s", reply);
	bs_reset(s);
}

/* One command; returns false when the session is over. */
static bool bs_command(struct bs_session *s, const char *line)
{
	size_t vlen = strcspn(line, " ");
	const char *arg = line + vlen + strspn(line + vlen, " ");

#define IS(v) (vlen == strlen(v) && strncasecmp(line, v, vlen) == 0)
	if (IS("HELO") || IS("EHLO")) {
		if (*arg == '\0') {
			bs_error(s, "501 5.5.4 Syntax: HELO hostname");
			return true;
		}
		bs_reset(s);
		if (IS("HELO")) {
			bs_reply("250 %s", conf_get(s->conf, "myhostname"));
			return true;
		}
		bs_reply("250-%s", conf_get(s->conf, "myhostname"));
		bs_reply("250-PIPELINING");
		bs_reply("250-SIZE %llu", (unsigned long long)s->size_limit);
		bs_reply("250-ENHANCEDSTATUSCODES");
		bs_reply("250 8BITMIME");
	} else if (IS("MAIL")) {
		bs_mail(s, arg);
	} else if (IS("RCPT")) {
		bs_rcpt(s, arg);
	} else if (IS("DATA")) {
		bs_data(s);
	} else if (IS("RSET")) {
		bs_reset(s);
		bs_reply("250 2.0.0 Ok");
	} else if (IS("NOOP")) {
		bs_reply("250 2.0.0 Ok");
	} else if (IS("VRFY")) {
		bs_reply("252 2.0.0 Cannot VRFY user, but will accept message "
			 "and attempt delivery");
	} else if (IS("HELP")) {
		bs_reply("214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET "
			 "NOOP QUIT VRFY HELP");
	} else if (IS("QUIT")) {
		bs_reply("221 2.0.0 Bye");
		return false;
	} else {
		bs_error(s, "502 5.5.2 Error: command not recognized");
	}
#undef IS
	return true;
}

int sm_smtp(struct conf *c, const char *dir)
{
	struct bs_session s = {.conf = c, .dir = dir};
	struct str line;
	bool go_on = true;
	int r;

	sm_input_init(&s.in, true);
	s.size_limit = (uint64_t)conf_get_size(c, "message_size_limit");
	str_init(&line, 0);
	bs_reply("220 %s", conf_get(c, "smtpd_banner"));
	while (go_on && (r = bs_command_line(&s, &line)) > 0) {
		if (r == 2)
			bs_error(&s, "500 5.5.2 Error: line too long");
		else if (memchr(line.data, '\0', line.len) != NULL)
			bs_error(&s, "500 5.5.2 Error: NUL byte in command");
		else
			go_on = bs_command(&s, line.data);
		if (go_on && s.errors >= BS_ERROR_LIMIT) {
			bs_reply("421 4.7.0 %s Error: too many errors",
				 conf_get(c, "myhostname"));
			go_on = false;
		}
	}
	bs_reset(&s);
	str_deinit(&line);
	sm_input_deinit(&s.in);
	return 0;
}
