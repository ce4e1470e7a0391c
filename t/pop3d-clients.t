#!/usr/bin/env python3
"""t/pop3d-clients.t: real POP3 clients against pop3d with
pop3d_tls_auth_only = yes: python's poplib (USER refused before STLS,
STLS, USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, QUIT; and
POP3_SSL on the port 995 service), and fetchmail as a "leave mail on
server" client over STLS and over implicit TLS: it downloads every message
once, a second run finds nothing new, a later run only the new message,
and a final run with --nokeep empties the maildrop."""

import os
import poplib
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import pop3d_test as p3  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = p3.Pop3Instance(top, users={"alice@localhost": "pw-alice",
                                   "carol@localhost": "pw-carol"},
                       main={"pop3d_tls_auth_only": "yes"})
inst.start()
P = inst.port["pop3"]
PS = inst.port["pop3s"]
NOCHECK = ssl.create_default_context()
NOCHECK.check_hostname = False
NOCHECK.verify_mode = ssl.CERT_NONE


class Poplib(poplib.POP3):
    """poplib from the untrusted source address."""

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(p3.UNTRUSTED, 0))


class PoplibSSL(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(p3.UNTRUSTED, 0))
        return self.context.wrap_socket(sock, server_hostname=self.host)


def stored(address):
    return sorted(p3.crlf(open(p, "rb").read())
                  for p in inst.maildrop_files(address).values())


def test_poplib():
    m = Poplib("127.0.0.1", P, timeout=10)
    caps = m.capa()
    tap.ok("STLS" in caps and "USER" not in caps,
           "before TLS: STLS offered, USER not (%s)" % sorted(caps))
    try:
        m.user("alice")
        tap.ok(False, "USER refused before TLS")
    except poplib.error_proto as e:
        tap.ok(b"[AUTH]" in e.args[0], "USER refused before TLS")
    m.stls(context=NOCHECK)
    caps = m.capa()
    tap.ok("USER" in caps and "STLS" not in caps and "SASL" in caps,
           "after STLS: USER and SASL, no STLS")
    m.user("alice")
    tap.ok(m.pass_("pw-alice").startswith(b"+OK"), "USER/PASS over STLS")
    count, size = m.stat()
    tap.is_(count, 3, "stat: 3 messages")
    resp, listing, _ = m.list()
    tap.is_(len(listing), 3, "list")
    resp, uidl, _ = m.uidl()
    tap.is_(len(uidl), 3, "uidl")
    got = []
    for n in range(1, 4):
        resp, lines, octets = m.retr(n)
        got.append(b"\r\n".join(lines) + b"\r\n")
    tap.is_(sorted(got), stored("alice@localhost"),
            "retr gives the stored messages")
    resp, lines, _ = m.top(1, 0)
    tap.ok(lines and lines[-1] == b"" and b"Subject: test 0" in lines,
           "top 1 0")
    m.dele(3)
    tap.is_(m.stat()[0], 2, "dele")
    m.rset()
    tap.is_(m.stat()[0], 3, "rset")
    tap.ok(m.quit().startswith(b"+OK"), "quit")

    m = PoplibSSL("127.0.0.1", PS, timeout=10, context=NOCHECK)
    tap.ok("USER" in m.capa(), "POP3_SSL: USER offered at once")
    m.user("alice")
    m.pass_("pw-alice")
    tap.is_(m.stat()[0], 3, "POP3_SSL stat")
    tap.is_(b"\r\n".join(m.retr(1)[1]) + b"\r\n", got[0], "POP3_SSL retr")
    m.quit()


FETCHMAILRC = """set no syslog
poll 127.0.0.1 with proto POP3 port {port} uidl
  user "carol" there with password "pw-carol" is "{me}" here
  options {tls} no sslcertck
  mda "/bin/sh -c 'cat > {out}/m.$$'"
"""


def fetchmail(port, tls, extra=()):
    """Runs fetchmail once; returns (exit code, files in the output dir,
    output)."""
    out = os.path.join(top, "fetched")
    os.makedirs(out, exist_ok=True)
    rc = os.path.join(top, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(FETCHMAILRC.format(port=port, tls=tls, out=out,
                                   me=os.environ.get("USER", "root")))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=top)
    r = subprocess.run(["fetchmail", "-f", rc, "-N", "--idfile",
                        os.path.join(top, "fetchids")] + list(extra),
                       capture_output=True, text=True, timeout=120, env=env)
    return r.returncode, sorted(os.listdir(out)), r.stdout + r.stderr


def test_fetchmail():
    if shutil.which("fetchmail") is None:
        tap.skip("fetchmail", "fetchmail not installed")
        return
    tap.is_(p3.deliver(inst, "carol@localhost", ["one\r\n", "two\r\n",
                                                 ".three\r\n"]), 3,
            "3 messages for carol")
    rc, files, out = fetchmail(P, "sslproto TLS1.2+ keep")
    tap.ok(rc == 0 and len(files) == 3,
           "fetchmail over STLS, keep: 3 messages (rc %d)" % rc)
    if rc != 0:
        tap.diag(out)
    bodies = sorted(open(os.path.join(top, "fetched", f), "rb").read()
                    for f in files)
    tap.ok(any(b"\n.three\n" in b or b"\r\n.three\r\n" in b
               for b in bodies), "dot-stuffed line arrives intact")
    rc, files2, out = fetchmail(P, "sslproto TLS1.2+ keep")
    tap.ok(rc == 1 and files2 == files,
           "second run finds nothing new (rc %d, %d files)"
           % (rc, len(files2)))
    tap.is_(len(inst.maildrop_files("carol@localhost")), 3,
            "keep: all still on the server")
    p3.deliver(inst, "carol@localhost", ["four\r\n"])
    rc, files3, out = fetchmail(PS, "ssl keep")
    tap.ok(rc == 0 and len(files3) == 4,
           "over implicit TLS: only the new message (rc %d, %d files)"
           % (rc, len(files3)))
    if rc != 0:
        tap.diag(out)
    rc, files4, out = fetchmail(PS, "ssl", ["-a", "--nokeep"])
    tap.ok(rc == 0 and len(files4) == 8,
           "fetchall + nokeep downloads all 4 again (rc %d)" % rc)
    tap.is_(len(inst.maildrop_files("carol@localhost")), 0,
            "and the maildrop is empty")


try:
    tap.is_(p3.deliver(inst, "alice@localhost",
                       ["hello\r\n", "..dots\r\n", "third\r\n"]), 3,
            "3 messages for alice")
    test_poplib()
    test_fetchmail()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
