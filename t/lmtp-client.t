#!/usr/bin/env python3
"""t/lmtp-client.t: the smtp client speaking LMTP (RFC 2033) to Postern's
own lmtpd in another instance: transport_maps "lmtp:unix:/path" (an
absolute path and one relative to queue_directory) and
"lmtp:inet:host:port" go through the "lmtp" service (the smtp binary run
as lmtp), "lmtp:[host]:port" too; LHLO is sent, an unknown user refused at
RCPT bounces while the other recipient is delivered, and after the
content each recipient gets its own reply: one over quota bounces (552
5.2.2) while the other one in the same transaction is delivered; a next
hop "unix:" path keeps its case; the smtp service sends to an "inet:"
next hop in LMTP too. A scripted LMTP peer sees LHLO, answers the first
recipient after the content and hangs up: that one is sent, the other
deferred (the message may come twice); a peer refusing LHLO gets no HELO
and the mail is deferred."""

import os
import pwd
import re
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import lmtpd_test as lt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
b = lt.LmtpInstance(
    top,
    users=["alice@u.test", "rel@r.test", "carol@t.test", "dave@q.test",
           "erin@q.test", "fay@s.test", "kim@k.test"],
    lmtp_extra={"quota": ["mailbox_size_limit=20000",
                          "mailbox_quota_action=bounce"]})
a = rt.RelayInstance(top, "a", "a.test", users=["sender@a.test"])
b.start()


class LmtpPeer:
    """A one-connection-at-a-time LMTP server on 127.0.0.1 that records
    the commands; lhlo: its reply to LHLO; after the content it answers
    the first recipient and closes the connection."""

    def __init__(self, lhlo="250-peer.test\r\n250 PIPELINING"):
        self.lhlo = lhlo
        self.commands = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                self._session(conn)
            except OSError:
                pass
            conn.close()

    def _session(self, conn):
        f = conn.makefile("rb")
        conn.sendall(b"220 peer.test LMTP\r\n")
        for line in f:
            cmd = line.decode("latin-1").strip()
            self.commands.append(cmd.split(" ")[0].upper())
            verb = self.commands[-1]
            if verb == "LHLO":
                conn.sendall(self.lhlo.encode() + b"\r\n")
            elif verb in ("MAIL", "RCPT", "RSET"):
                conn.sendall(b"250 2.0.0 ok\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go ahead\r\n")
                for d in f:
                    if d == b".\r\n":
                        break
                conn.sendall(b"250 2.0.0 first one done\r\n")
                return
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"500 5.5.1 what\r\n")

    def stop(self):
        self.sock.close()


peer = LmtpPeer()
peer_no = LmtpPeer(lhlo="550 5.5.1 no LHLO here")
rel = os.path.relpath(b.socket, a.path("queue"))
# a socket path with capitals: qmgr must not fold it
UPPER = os.path.join(top, "B-LMTP.sock")
os.symlink(b.socket, UPPER)
a.set_transport(
    "u.test lmtp:unix:%s\n" % b.socket +
    "r.test lmtp:unix:%s\n" % rel +
    "k.test lmtp:unix:%s\n" % UPPER +
    "t.test lmtp:inet:127.0.0.1:%d\n" % b.port["lmtp"] +
    "q.test lmtp:[127.0.0.1]:%d\n" % b.port["quota"] +
    "s.test smtp:inet:127.0.0.1:%d\n" % b.port["lmtp"] +
    "p.test lmtp:inet:127.0.0.1:%d\n" % peer.port +
    "n.test lmtp:inet:127.0.0.1:%d\n" % peer_no.port)
a.start()
PA = a.port["smtp"]
BODY = b"Subject: lmtp\r\n\r\nhello over lmtp\r\n.\r\n"


def result(qid, rcpt, status, dsn, name):
    r = a.wait_result(qid, rcpt, 15)
    tap.ok(r is not None and r["status"] == status and r["dsn"] == dsn,
           "%s: %s %s" % (name, status, dsn))
    return r or {"relay": "", "text": ""}


def delivered(address, what):
    got = [m for m in b.messages(address).values()
           if what in m]
    return len(got)


def test_unix():
    qid = rt.send(PA, "sender@a.test", ["alice@u.test", "nobody@u.test"],
                  BODY)
    r = result(qid, "alice@u.test", "sent", "2.0.0", "unix socket")
    tap.is_(r["relay"], "a.test[%s]" % b.socket,
            "relay names the socket path")
    r = result(qid, "nobody@u.test", "bounced", "5.1.1",
               "unknown user over the unix socket")
    tap.like(r["text"], r"said: 550 5\.1\.1 .*\(in reply to RCPT TO "
             r"command\)$", "the refusal is quoted")
    tap.is_(delivered("alice@u.test", b"hello over lmtp"), 1,
            "in alice's Maildir")
    qid = rt.send(PA, "sender@a.test", ["rel@r.test"], BODY)
    result(qid, "rel@r.test", "sent", "2.0.0",
           "relative unix path (from queue_directory)")
    qid = rt.send(PA, "sender@a.test", ["kim@k.test"], BODY)
    result(qid, "kim@k.test", "sent", "2.0.0",
           "a unix path with capitals keeps them")


def test_inet():
    qid = rt.send(PA, "sender@a.test", ["carol@t.test"], BODY)
    r = result(qid, "carol@t.test", "sent", "2.0.0", "lmtp:inet:host:port")
    tap.is_(r["relay"], "127.0.0.1[127.0.0.1]:%d" % b.port["lmtp"],
            "relay host[addr]:port")
    qid = rt.send(PA, "sender@a.test", ["fay@s.test"], BODY)
    result(qid, "fay@s.test", "sent", "2.0.0",
           "the smtp service, an inet: next hop: LMTP too")
    tap.is_(delivered("fay@s.test", b"hello over lmtp"), 1,
            "in fay's Maildir")


def test_per_recipient():
    # 12000 bytes already in dave's Maildir (owned by the mail store
    # owner, as lmtpd would make it); the limit is 20000
    owner = re.findall(r"(?m)^mail_store_owner\s*=\s*(\S+)",
                       open(b.path("main.cf")).read())[-1]
    pw = pwd.getpwnam(owner)
    for d in (b.path("mail", "q.test"), b.path("mail", "q.test", "dave")) + \
            tuple(b.maildir("dave@q.test", s) for s in ("cur", "new", "tmp")):
        os.makedirs(d, exist_ok=True)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    with open(os.path.join(b.maildir("dave@q.test", "cur"),
                           "1.filler:2,S"), "wb") as f:
        f.write(b"y" * 12000)
    body = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 9 + b".\r\n"
    qid = rt.send(PA, "sender@a.test", ["dave@q.test", "erin@q.test"], body)
    r = result(qid, "dave@q.test", "bounced", "5.2.2",
               "over quota after the content")
    tap.like(r["text"], r"said: 552 5\.2\.2 .*\(in reply to end of DATA "
             r"command\)$", "the per-recipient reply is quoted")
    result(qid, "erin@q.test", "sent", "2.0.0",
           "the other recipient of the same transaction")
    tap.is_(delivered("erin@q.test", b"Subject: big"), 1,
            "in erin's Maildir")
    tap.is_(delivered("dave@q.test", b"Subject: big"), 0,
            "not in dave's")
    # nobody@u.test, y@n.test and dave@q.test
    tap.is_(len(a.wait_messages("sender@a.test", 3, 10)), 3,
            "the sender got the three bounces")


def test_peer():
    qid = rt.send(PA, "sender@a.test", ["x1@p.test", "x2@p.test"], BODY)
    result(qid, "x1@p.test", "sent", "2.0.0", "scripted peer: first reply")
    r = result(qid, "x2@p.test", "deferred", "4.4.2",
               "connection lost before the second reply")
    tap.like(r["text"], r"lost connection with .* while sending end of "
             r"data -- message may be sent more than once$", "the reason")
    tap.is_(peer.commands[:4], ["LHLO", "MAIL", "RCPT", "RCPT"],
            "LHLO, then the transaction")
    qid = rt.send(PA, "sender@a.test", ["y@n.test"], BODY)
    r = result(qid, "y@n.test", "bounced", "5.5.1", "LHLO refused: 5xx")
    tap.like(r["text"], r"said: 550 5\.5\.1 no LHLO here \(in reply to LHLO "
             r"command\)$", "the reason")
    tap.ok("HELO" not in peer_no.commands and "EHLO" not in
           peer_no.commands, "no HELO or EHLO fallback")


try:
    test_unix()
    test_peer()
    test_inet()
    test_per_recipient()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports (a)")
    tap.is_(b.sanitizer_reports(), [], "no sanitizer reports (b)")
finally:
    a.stop_quietly()
    b.stop_quietly()
    peer.stop()
    peer_no.stop()
    if tap.failed:
        tap.diag("log a:\n" + a.log()[-6000:])
        tap.diag("log b:\n" + b.log()[-3000:])
    else:
        pt.cleanup(top)
tap.done()
