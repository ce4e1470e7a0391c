/* t/unit/tls.c: tests for lib/tls.c and lib/tls_conn.c. A self-signed
 * certificate is made in a temporary directory; server and client
 * connections on the two ends of a non-blocking socketpair are driven by
 * one event loop through iobuf (t/unit/tls_side.c): lines both ways, a bulk
 * transfer, writes that block and are retried from a moved buffer; then
 * the refusals: TLS 1.1 client, wrong host name, unknown CA, missing,
 * garbage and mismatched files, garbage and truncated handshakes,
 * plaintext injected around STARTTLS, plaintext after close_notify, EOF
 * without close_notify, and DANE. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf.h"
#include "event.h"
#include "file.h"
#include "iobuf.h"
#include "mem.h"
#include "str.h"
#include "tap.h"
#include "tls.h"
#include "tls_side.h"

#define NAME "mx.example.test"
#define BULK_LINES 20000

static struct event_loop *loop;
static char cert[512], key[512], cert2[512], key2[512];

static void path(char *buf, size_t size, const char *file)
{
	snprintf(buf, size, "%s/%s", tap_tmpdir(), file);
}

/* ---- contexts */

static struct tls_ctx *server_ctx(const char *c, const char *k)
{
	struct tls_server_config cfg = {.cert_file = c, .key_file = k};
	const char *err;
	struct tls_ctx *ctx = tls_server_ctx_new(&cfg, &err);

	if (ctx == NULL)
		tap_diag("server context: %s", err);
	return ctx;
}

static struct tls_ctx *client_ctx(const char *ca_file)
{
	struct tls_client_config cfg = {.ca_file = ca_file};
	const char *err;
	struct tls_ctx *ctx = tls_client_ctx_new(&cfg, &err);

	if (ctx == NULL)
		tap_diag("client context: %s", err);
	return ctx;
}

/* A server and a client side on a fresh socketpair. */
static void connect_pair(struct side *srv, struct side *cli,
			 struct tls_ctx *sctx, struct tls_ctx *cctx,
			 enum tls_level level, const char *name)
{
	const char *err;
	int fds[2];
	struct tls_conn *s, *c;

	tls_test_pair(fds);
	s = tls_conn_server(sctx, fds[0], &err);
	c = tls_conn_client(cctx, fds[1], level, name, &err);
	if (s == NULL || c == NULL)
		abort();
	side_init(srv, loop, s, fds[0], "250 hello client\r\n", 1);
	side_init(cli, loop, c, fds[1], "EHLO client\r\n", 1);
}

/* ---- tests */

static void test_self_signed(void)
{
	const char *err;
	struct stat st;
	struct str pem;
	char bad[600];

	path(cert, sizeof(cert), "cert.pem");
	path(key, sizeof(key), "key.pem");
	path(cert2, sizeof(cert2), "cert2.pem");
	path(key2, sizeof(key2), "key2.pem");
	is_int(tls_make_self_signed(cert, key, NAME, 30, &err), 1,
	       "self-signed certificate made");
	is_int(tls_make_self_signed(cert2, key2, "other.example", 1, &err), 1,
	       "a second one");
	ok(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "key file mode 0600");
	ok(stat(cert, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "certificate file mode 0644");
	str_init(&pem, 0);
	file_read_all(cert, &pem, 0, &err);
	ok(tls_test_has(pem.data, "-----BEGIN CERTIFICATE-----"),
	   "PEM certificate");
	str_clear(&pem);
	file_read_all(key, &pem, 0, &err);
	ok(tls_test_has(pem.data, "-----BEGIN PRIVATE KEY-----"),
	   "PEM private key");
	str_deinit(&pem);

	is_int(tls_make_self_signed(cert2, key2, "a b", 1, &err), -1,
	       "name with a space refused");
	is_int(tls_make_self_signed(cert2, key2, "", 1, &err), -1,
	       "empty name refused");
	is_int(tls_make_self_signed(cert2, key2, NAME, 0, &err), -1,
	       "zero days refused");
	snprintf(bad, sizeof(bad), "%s/no/such/dir/key.pem", tap_tmpdir());
	is_int(tls_make_self_signed(cert2, bad, NAME, 1, &err), -1,
	       "unwritable key path");
	ok(tls_test_has(err, "no/such/dir"), "  error names it: %s", err);
}

static void expect_server_error(const char *c, const char *k, const char *part,
				const char *name)
{
	struct tls_server_config cfg = {.cert_file = c, .key_file = k};
	const char *err = NULL;
	struct tls_ctx *ctx = tls_server_ctx_new(&cfg, &err);

	ok(ctx == NULL, "%s: refused", name);
	ok(tls_test_has(err, part), "  error \"%s\" has \"%s\"",
	   err ? err : "(null)", part);
	tls_ctx_free(&ctx);
}

static void test_server_ctx_errors(void)
{
	char missing[600], garbage[600], combined[600];
	struct tls_ctx *ctx;
	struct str both;
	const char *err;
	struct tls_server_config cfg = {.cert_file = cert, .key_file = key};

	snprintf(missing, sizeof(missing), "%s/missing.pem", tap_tmpdir());
	path(garbage, sizeof(garbage), "garbage.pem");
	path(combined, sizeof(combined), "combined.pem");
	file_write_atomic(garbage, "not a certificate\n", 18, 0644, &err);
	str_init(&both, 0);
	file_read_all(key, &both, 0, &err);
	file_read_all(cert, &both, 0, &err);
	file_write_atomic(combined, both.data, both.len, 0600, &err);
	str_deinit(&both);

	expect_server_error(missing, key, "missing.pem", "missing certificate");
	expect_server_error(missing, key, "No such file",
			    "missing certificate");
	expect_server_error(cert, missing, "missing.pem", "missing key");
	expect_server_error(garbage, key, "garbage.pem", "garbage certificate");
	expect_server_error(cert, garbage, "garbage.pem", "garbage key");
	expect_server_error(cert, cert, "cert.pem", "certificate as key");
	expect_server_error(cert, key2, "does not match", "mismatched key");
	expect_server_error(cert, key2, "key2.pem", "mismatched key");
	expect_server_error(NULL, key, "certificate file", "no certificate");
	if (geteuid() != 0) {
		chmod(key2, 0);
		expect_server_error(cert2, key2, "Permission denied",
				    "unreadable key");
		chmod(key2, 0600);
	}
	ctx = server_ctx(combined, combined);
	ok(ctx != NULL, "key and certificate in one file");
	tls_ctx_free(&ctx);
	ok(ctx == NULL, "free sets NULL");

	cfg.min_version = TLS_VERSION_1_1;
	ctx = tls_server_ctx_new(&cfg, &err);
	ok(ctx == NULL && tls_test_has(err, "TLSv1.2"),
	   "server minimum below TLS 1.2 refused");
	cfg.min_version = TLS_VERSION_DEFAULT;
	cfg.ciphers = "NO-SUCH-CIPHER";
	ctx = tls_server_ctx_new(&cfg, &err);
	ok(ctx == NULL && tls_test_has(err, "NO-SUCH-CIPHER"),
	   "bad cipher list named: %s", err);
}

static void test_client_ctx_errors(void)
{
	struct tls_client_config cfg = {0};
	char missing[600];
	const char *err;
	struct tls_ctx *ctx, *sctx = server_ctx(cert, key);

	snprintf(missing, sizeof(missing), "%s/missing-ca.pem", tap_tmpdir());
	cfg.ca_file = missing;
	ctx = tls_client_ctx_new(&cfg, &err);
	ok(ctx == NULL && tls_test_has(err, "missing-ca.pem"),
	   "missing CA file named: %s", err);
	ctx = client_ctx(NULL);
	ok(ctx != NULL, "client context with the system store");
	ok(tls_conn_client(ctx, 0, TLS_LEVEL_NONE, NAME, &err) == NULL,
	   "level none makes no connection");
	err = NULL;
	ok(tls_conn_client(ctx, 0, TLS_LEVEL_VERIFY, NULL, &err) == NULL,
	   "verify needs a peer name");
	ok(tls_test_has(err, "peer name"), "  error: %s", err);
	ok(tls_conn_server(ctx, 0, &err) == NULL,
	   "server connection from a client context refused");
	ok(tls_conn_client(sctx, 0, TLS_LEVEL_MAY, NULL, &err) == NULL,
	   "client connection from a server context refused");
	tls_ctx_free(&ctx);
	tls_ctx_free(&sctx);
}

static void test_names(void)
{
	enum tls_level level;
	enum tls_version version;

	ok(tls_level_parse("may", &level) == 1 && level == TLS_LEVEL_MAY,
	   "level may");
	ok(tls_level_parse("verify", &level) == 1 && level == TLS_LEVEL_VERIFY,
	   "level verify");
	ok(tls_level_parse("secure", &level) == 1 && level == TLS_LEVEL_VERIFY,
	   "level secure is verify");
	ok(tls_level_parse("dane", &level) == 1 && level == TLS_LEVEL_DANE,
	   "level dane");
	ok(tls_level_parse("MAY", &level) == -1, "levels are lower case");
	ok(tls_version_parse("TLSv1.2", &version) == 1 &&
	       version == TLS_VERSION_1_2,
	   "TLSv1.2");
	ok(tls_version_parse("SSLv3", &version) == -1, "SSLv3 unknown");
	is_str(tls_peer_text(TLS_PEER_VERIFIED), "Verified", "peer text");
	is_str(tls_peer_text(TLS_PEER_NONE), "Anonymous", "peer text none");
}

static void test_round_trip(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	struct side srv, cli;
	const char *detail;
	unsigned events;
	const char *err;

	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_VERIFY, NAME);
	ok(side_run_loop(&srv, &cli), "handshake and lines within 10 s");
	is_int(srv.state, S_DONE, "server done");
	is_int(cli.state, S_DONE, "client done");
	is_str(srv.got.data, "EHLO client|", "server read the client's line");
	is_str(cli.got.data, "250 hello client|", "client read the reply");
	ok(strncmp(tls_conn_summary(cli.c), "TLSv1.3 with cipher TLS_", 24) ==
		   0 &&
	       tls_test_has(tls_conn_summary(cli.c), " bits)"),
	   "summary: %s", tls_conn_summary(cli.c));
	is_str(tls_conn_summary(srv.c), tls_conn_summary(cli.c),
	       "both ends agree");
	is_int(tls_conn_peer(cli.c, &detail), TLS_PEER_VERIFIED,
	       "client verified the server");
	is_str(detail, NAME, "  by name");
	is_int(tls_conn_peer(srv.c, NULL), TLS_PEER_NONE,
	       "server: anonymous client");
	ok(!tls_conn_pending(cli.c), "nothing pending");

	/* close_notify, then plaintext: the client sees the end only */
	is_int(tls_conn_shutdown(srv.c, &events, &err), 1, "close_notify sent");
	ok(write(srv.fd, "RSET\r\n", 6) == 6, "plaintext after close_notify");
	{
		struct iobuf_line l;
		enum iobuf_status st;
		int guard = 0;

		while ((st = iobuf_read_line(cli.b, &l)) == IOBUF_NEED_MORE &&
		       guard++ < 1000)
			usleep(1000);
		is_int(st, IOBUF_EOF, "client: end of input, no RSET line");
	}
	side_deinit(&srv);
	side_deinit(&cli);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

static void test_tls12_and_bulk(void)
{
	struct tls_client_config ccfg = {.ca_file = cert,
					 .max_version = TLS_VERSION_1_2};
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx;
	struct side srv, cli;
	const char *err;

	cctx = tls_client_ctx_new(&ccfg, &err);
	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_ENCRYPT, NAME);
	srv.send = NULL;
	srv.bulk = BULK_LINES;
	cli.want_lines = BULK_LINES;
	cli.bulk_in = true;
	ok(side_run_loop(&srv, &cli), "bulk transfer within 10 s");
	is_int(cli.state, S_DONE, "client read everything");
	is_int(cli.lines, BULK_LINES, "all lines");
	is_int(cli.bulk_bad, 0, "none lost, split or changed");
	if (cli.state != S_DONE)
		tap_diag(
		    "server state %d sent %zu pending %zu error %s; client "
		    "error %s events %u/%u",
		    srv.state, srv.bulk_sent, iobuf_output_pending(srv.b),
		    srv.error, cli.error, event_io_events(srv.io),
		    event_io_events(cli.io));
	ok(strncmp(tls_conn_summary(cli.c), "TLSv1.2 with cipher ECDHE-", 26) ==
	       0,
	   "TLS 1.2 summary: %s", tls_conn_summary(cli.c));
	side_deinit(&srv);
	side_deinit(&cli);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

/* A write that blocked is retried from another copy of the same bytes,
 * and with more of them, as iobuf does when it moves or grows its output
 * buffer: OpenSSL must take it (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
static void test_write_retry(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	size_t total = 1024 * 1024, off = 0, got = 0, blocked = 0, bad = 0;
	char *data[2], in[16384];
	struct side srv, cli;

	data[0] = mem_alloc(total);
	for (size_t i = 0; i < total; i++)
		data[0][i] = (char)('a' + i % 26);
	data[1] = mem_memdup(data[0], total);
	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_VERIFY, NAME);
	ok(side_run_loop(&srv, &cli) && cli.state == S_DONE, "session up");
	for (int i = 0; got < total && i < 1000000; i++) {
		/* up to 64 KiB more each time, from alternating copies */
		size_t len = total - off < 65536 ? total - off : 65536;
		ssize_t n = off < total ? tls_iobuf_transport.write(
					      srv.c, data[i % 2] + off, len)
					: 0;

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			blocked++;
		else if (n < 0)
			break;
		n = tls_iobuf_transport.read(cli.c, in,
					     i % 3 ? 512 : sizeof(in));
		if (n > 0) {
			bad += memcmp(in, data[0] + got, (size_t)n) != 0;
			got += (size_t)n;
		} else if (!(n < 0 && errno == EAGAIN)) {
			break;
		}
	}
	is_int(got, total, "1 MiB through, writes retried from moved buffers");
	ok(blocked > 0, "  writes blocked %zu times", blocked);
	is_int(bad, 0, "  content intact");
	if (got != total)
		tap_diag("server: %s", tls_conn_error(srv.c));
	mem_free(data[0]);
	mem_free(data[1]);
	side_deinit(&srv);
	side_deinit(&cli);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

/* Runs a handshake that must fail; returns both error texts. */
static void failing_pair(struct tls_ctx *sctx, struct tls_ctx *cctx,
			 enum tls_level level, const char *name,
			 struct str *serr, struct str *cerr)
{
	struct side srv, cli;

	connect_pair(&srv, &cli, sctx, cctx, level, name);
	ok(side_run_loop(&srv, &cli), "over within 10 s");
	ok(srv.state == S_FAILED || cli.state == S_FAILED, "  failed");
	str_set(serr, srv.error, strlen(srv.error));
	str_set(cerr, cli.error, strlen(cli.error));
	side_deinit(&srv);
	side_deinit(&cli);
}

static void test_refusals(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	struct tls_ctx *sysctx = client_ctx(NULL), *oldctx;
	struct tls_client_config old = {.min_version = TLS_VERSION_1_1,
					.max_version = TLS_VERSION_1_1,
					.ciphers = "DEFAULT:@SECLEVEL=0"};
	struct str serr, cerr;
	struct side srv, cli;
	const char *detail, *err;

	str_init(&serr, 0);
	str_init(&cerr, 0);
	tap_diag("wrong host name under verify");
	failing_pair(sctx, cctx, TLS_LEVEL_VERIFY, "other.example", &serr,
		     &cerr);
	ok(tls_test_has(cerr.data, "certificate verify failed") &&
	       tls_test_has(cerr.data, "hostname mismatch"),
	   "client: %s", cerr.data);
	ok(serr.len > 0, "server failed too: %s", serr.data);

	tap_diag("unknown CA under verify");
	failing_pair(sctx, sysctx, TLS_LEVEL_VERIFY, NAME, &serr, &cerr);
	ok(tls_test_has(cerr.data, "certificate verify failed") &&
	       tls_test_has(cerr.data, "self"),
	   "client: %s", cerr.data);

	tap_diag("TLS 1.1 client");
	oldctx = tls_client_ctx_new(&old, &err);
	ok(oldctx != NULL, "a TLS 1.1-only client context");
	failing_pair(sctx, oldctx, TLS_LEVEL_MAY, NULL, &serr, &cerr);
	ok(tls_test_has(serr.data, "unsupported protocol"), "server: %s",
	   serr.data);
	tls_ctx_free(&oldctx);

	tap_diag("opportunistic levels complete and report");
	connect_pair(&srv, &cli, sctx, sysctx, TLS_LEVEL_MAY, NAME);
	ok(side_run_loop(&srv, &cli) && cli.state == S_DONE,
	   "may: unknown CA accepted");
	is_int(tls_conn_peer(cli.c, &detail), TLS_PEER_UNTRUSTED,
	       "  untrusted");
	ok(tls_test_has(detail, "self"), "  because: %s", detail);
	side_deinit(&srv);
	side_deinit(&cli);
	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_ENCRYPT,
		     "other.example");
	ok(side_run_loop(&srv, &cli) && cli.state == S_DONE,
	   "encrypt: wrong name ok");
	is_int(tls_conn_peer(cli.c, NULL), TLS_PEER_TRUSTED,
	       "  trusted, not verified");
	side_deinit(&srv);
	side_deinit(&cli);

	str_deinit(&serr);
	str_deinit(&cerr);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
	tls_ctx_free(&sysctx);
}

/* Runs only a server on fds[0] against raw bytes; returns its side. */
static void raw_server(struct side *srv, struct tls_ctx *sctx, int fd)
{
	const char *err;
	struct tls_conn *s = tls_conn_server(sctx, fd, &err);

	side_init(srv, loop, s, fd, NULL, 1);
	ok(side_run_loop(srv, NULL), "over within 10 s");
}

static void test_hostile_handshakes(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	struct side srv;
	int fds[2], fds2[2];
	unsigned events;
	char hello[4096];
	ssize_t n;
	const char *err;
	struct tls_conn *c;

	tls_test_pair(fds);
	ok(write(fds[1], "EHLO evil\r\nGET / HTTP/1.0\r\n\r\n", 29) == 29,
	   "garbage written");
	raw_server(&srv, sctx, fds[0]);
	is_int(srv.state, S_FAILED, "garbage: handshake failed");
	ok(srv.error[0] != '\0', "  error: %s", srv.error);
	{
		char buf[16];

		errno = 0;
		ok(tls_iobuf_transport.read(srv.c, buf, sizeof(buf)) == -1 &&
		       errno == EPROTO,
		   "  no reading after a failed handshake");
	}
	side_deinit(&srv);
	close(fds[1]);

	/* a real ClientHello, cut in half, then EOF */
	tls_test_pair(fds);
	c = tls_conn_client(cctx, fds[1], TLS_LEVEL_MAY, NAME, &err);
	is_int(tls_conn_handshake(c, &events, &err), 0, "client hello sent");
	n = read(fds[0], hello, sizeof(hello));
	ok(n > 100, "client hello of %zd bytes", n);
	tls_conn_free(&c);
	close(fds[0]);
	close(fds[1]);
	tls_test_pair(fds2);
	ok(write(fds2[1], hello, (size_t)n / 2) == n / 2, "half written");
	shutdown(fds2[1], SHUT_WR);
	raw_server(&srv, sctx, fds2[0]);
	is_int(srv.state, S_FAILED, "truncated hello: handshake failed");
	ok(srv.error[0] != '\0', "  error: %s", srv.error);
	side_deinit(&srv);
	close(fds2[1]);

	/* the server end vanishes during the client's handshake */
	tls_test_pair(fds);
	c = tls_conn_client(cctx, fds[1], TLS_LEVEL_MAY, NAME, &err);
	close(fds[0]);
	is_int(tls_conn_handshake(c, &events, &err), -1,
	       "peer gone: handshake fails, no SIGPIPE");
	ok(err[0] != '\0', "  error: %s", err);
	is_str(tls_conn_summary(c), "", "  no summary");
	tls_conn_free(&c);
	close(fds[1]);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

/* Drives one handshake step pair until both are done (plain loop: the
 * STARTTLS test has no iobuf sides). */
static int handshake_both(struct tls_conn *a, struct tls_conn *b)
{
	unsigned ev;
	const char *err;

	for (int i = 0; i < 1000; i++) {
		int ra = tls_conn_handshake(a, &ev, &err);
		int rb = tls_conn_handshake(b, &ev, &err);

		if (ra < 0 || rb < 0)
			return -1;
		if (ra == 1 && rb == 1)
			return 1;
	}
	return 0;
}

static enum iobuf_status read_line_wait(struct iobuf *b, struct iobuf_line *l)
{
	enum iobuf_status st;

	for (int i = 0; i < 2000; i++) {
		st = iobuf_read_line(b, l);
		if (st != IOBUF_NEED_MORE)
			return st;
		usleep(1000);
	}
	return st;
}

static void test_starttls_injection(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	struct tls_conn *s, *c;
	struct iobuf *sb, *cb;
	struct iobuf_line l;
	int fds[2];
	const char *err;
	const char cmd[] = "STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n";

	tls_test_pair(fds);
	sb = iobuf_new(fds[0], NULL);
	ok(write(fds[1], cmd, sizeof(cmd) - 1) == sizeof(cmd) - 1,
	   "STARTTLS with a pipelined command");
	is_int(read_line_wait(sb, &l), IOBUF_OK, "server reads a line");
	is_str(l.data, "STARTTLS", "  STARTTLS");
	is_int(iobuf_take_input(sb, NULL), sizeof(cmd) - 1 - 10,
	       "pipelined plaintext dropped");
	iobuf_write(sb, "220 2.0.0 Ready\r\n", 17);
	is_int(iobuf_flush(sb), 1, "220 sent in plaintext");
	s = tls_conn_server(sctx, fds[0], &err);
	c = tls_conn_client(cctx, fds[1], TLS_LEVEL_VERIFY, NAME, &err);
	cb = iobuf_new(fds[1], NULL);
	is_int(read_line_wait(cb, &l), IOBUF_OK, "client reads the 220");
	is_int(iobuf_take_input(cb, NULL), 0, "  nothing injected after it");
	is_int(handshake_both(s, c), 1, "handshake");
	iobuf_set_transport(sb, &tls_iobuf_transport, s);
	iobuf_set_transport(cb, &tls_iobuf_transport, c);
	iobuf_write(cb, "EHLO again\r\n", 12);
	is_int(iobuf_flush(cb), 1, "client sends through TLS");
	is_int(read_line_wait(sb, &l), IOBUF_OK, "server reads through TLS");
	is_str(l.data, "EHLO again", "  the TLS line, not the injected one");
	iobuf_free(&sb);
	iobuf_free(&cb);
	tls_conn_free(&s);
	tls_conn_free(&c);
	close(fds[0]);
	close(fds[1]);

	/* plaintext that arrives after the 220: read as TLS, refused */
	tls_test_pair(fds);
	s = tls_conn_server(sctx, fds[0], &err);
	c = tls_conn_client(cctx, fds[1], TLS_LEVEL_VERIFY, NAME, &err);
	ok(write(fds[1], "MAIL FROM:<evil@example.net>\r\n", 30) == 30,
	   "plaintext after the 220");
	is_int(handshake_both(s, c), -1, "handshake refused");
	ok(tls_test_has(tls_conn_error(s), "wrong version") ||
	       tls_conn_error(s)[0] != '\0',
	   "  server: %s", tls_conn_error(s));
	tls_conn_free(&s);
	tls_conn_free(&c);
	close(fds[0]);
	close(fds[1]);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

static void test_unexpected_eof(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(cert);
	struct side srv, cli;
	struct iobuf_line l;

	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_VERIFY, NAME);
	ok(side_run_loop(&srv, &cli) && cli.state == S_DONE, "session up");
	shutdown(srv.fd, SHUT_RDWR); /* no close_notify */
	is_int(read_line_wait(cli.b, &l), IOBUF_ERROR,
	       "EOF without close_notify is an error, not an end");
	ok(iobuf_error(cli.b)[0] != '\0', "  %s", iobuf_error(cli.b));
	side_deinit(&srv);
	side_deinit(&cli);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

/* SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA 3 1 1). */
static size_t spki_sha256(const char *file, unsigned char *md)
{
	FILE *f = fopen(file, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int len =
	    x != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;
	unsigned mdlen = 0;

	if (len > 0)
		EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	X509_free(x);
	if (f != NULL)
		fclose(f);
	return mdlen;
}

static void test_dane(void)
{
	struct tls_ctx *sctx = server_ctx(cert, key), *cctx = client_ctx(NULL);
	unsigned char md[64];
	size_t mdlen = spki_sha256(cert, md);
	struct tls_tlsa rr = {3, 1, 1, md, mdlen}, bad = {9, 1, 1, md, mdlen};
	struct str serr, cerr;
	struct side srv, cli;
	const char *detail, *err;

	is_int(mdlen, 32, "SPKI digest");
	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_DANE, NAME);
	is_int(tls_conn_set_tlsa(cli.c, NAME, &rr, 1, &err), 1,
	       "TLSA 3 1 1 usable");
	ok(side_run_loop(&srv, &cli) && cli.state == S_DONE,
	   "DANE-EE handshake");
	is_int(tls_conn_peer(cli.c, &detail), TLS_PEER_VERIFIED,
	       "  verified without any CA");
	is_str(detail, "dane", "  by DANE");
	side_deinit(&srv);
	side_deinit(&cli);

	connect_pair(&srv, &cli, sctx, cctx, TLS_LEVEL_DANE, NAME);
	is_int(tls_conn_set_tlsa(cli.c, NAME, &bad, 1, &err), 0,
	       "unknown usage: no usable record");
	side_deinit(&srv);
	side_deinit(&cli);

	md[0] ^= 0xff;
	str_init(&serr, 0);
	str_init(&cerr, 0);
	{
		int fds[2];
		struct tls_conn *s, *c;

		tls_test_pair(fds);
		s = tls_conn_server(sctx, fds[0], &err);
		c = tls_conn_client(cctx, fds[1], TLS_LEVEL_DANE, NAME, &err);
		is_int(tls_conn_set_tlsa(c, NAME, &rr, 1, &err), 1,
		       "wrong digest record added");
		is_int(handshake_both(s, c), -1, "wrong digest: refused");
		ok(tls_test_has(tls_conn_error(c), "certificate verify failed"),
		   "  client: %s", tls_conn_error(c));
		tls_conn_free(&s);
		tls_conn_free(&c);
		close(fds[0]);
		close(fds[1]);
	}
	str_deinit(&serr);
	str_deinit(&cerr);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
}

/* tls_server_ctx_from_conf(): imapd's and pop3d's PREFIX_tls_* set. */
static struct tls_ctx *from_conf(const char *text, bool *wrapper,
				 const char **err)
{
	struct conf *c = conf_parse_buffer("test", text, strlen(text), 0, err);
	struct tls_ctx *ctx = NULL;
	int r = c == NULL
		    ? -1
		    : tls_server_ctx_from_conf(c, "imapd", wrapper, &ctx, err);

	if (r < 0)
		ctx = NULL;
	conf_free(&c);
	return r < 0 ? (struct tls_ctx *)-1 : ctx;
}

static void test_from_conf(void)
{
	struct str text;
	struct tls_ctx *ctx;
	bool wrapper = true;
	const char *err = "";

	ctx = from_conf("", &wrapper, &err);
	ok(ctx == NULL && !wrapper, "no certificate: no context, no error");
	ctx = from_conf("imapd_tls_wrappermode = yes\n", &wrapper, &err);
	ok(ctx == (struct tls_ctx *)-1, "wrapper mode without a certificate:");
	is_str(err,
	       "imapd_tls_wrappermode is set but imapd_tls_cert_file is empty",
	       "the error says which parameters");
	str_init(&text, 0);
	str_printf(&text,
		   "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
		   "imapd_tls_wrappermode = yes\n",
		   cert, key);
	ctx = from_conf(text.data, &wrapper, &err);
	ok(ctx != NULL && ctx != (struct tls_ctx *)-1 && wrapper,
	   "the smtpd certificate by default, wrapper mode on");
	if (ctx != NULL && ctx != (struct tls_ctx *)-1)
		tls_ctx_free(&ctx);
	str_deinit(&text);
}

int main(void)
{
	const char *err;

	loop = event_loop_new(&err);
	test_self_signed();
	test_server_ctx_errors();
	test_from_conf();
	test_client_ctx_errors();
	test_names();
	test_round_trip();
	test_tls12_and_bulk();
	test_write_retry();
	test_refusals();
	test_hostile_handshakes();
	test_starttls_injection();
	test_unexpected_eof();
	test_dane();
	event_loop_free(&loop);
	return tap_done();
}
