#!/usr/bin/env python3
"""t/pop3d-protocol.t: pop3d with a raw client: greeting and CAPA, USER/PASS
and AUTH PLAIN (initial response, continuation, cancel), STAT/LIST/UIDL/
RETR/TOP against the Maildir files (CRLF, dot-stuffing, sizes), DELE/RSET
and QUIT's UPDATE state (nothing changes without QUIT), pipelining, STLS
discarding plaintext sent behind it, the autologout, and bad input: long
lines, NUL, control bytes, unknown commands, huge numbers, commands in the
wrong state, the limit on errors and on failed logins; a maildrop of
1,500 messages (LIST/UIDL in pieces) and a 3 MB message read by a slow
client."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import pop3d_test as p3  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = p3.Pop3Instance(top, users={"alice@localhost": "pw alice",
                                   "bob@localhost": "pw-bob",
                                   "big@localhost": "pw-big"})
inst.start()
P = inst.port["pop3"]
ALICE = "alice@localhost"
BODIES = ["plain body\r\n",
          ".starts with a dot\r\n..two dots\r\n.\r\nend\r\n",
          "line 1\r\nline 2\r\nline 3\r\n" + "x" * 3000 + "\r\n"]


def login(user="alice", pw="pw alice", port=None):
    c = p3.Pop3(port or P)
    r = c.login(user, pw)
    if not r or not r.startswith("+OK"):
        raise RuntimeError("login: %r" % r)
    return c


def test_greeting_capa():
    c = p3.Pop3(P)
    tap.like(c.greeting, r"^\+OK Postern ready\.$", "greeting")
    tap.ok("<" not in c.greeting, "no APOP timestamp in the greeting")
    tap.like(c.cmd("CAPA"), r"^\+OK", "CAPA")
    caps = c.multi()
    for cap in ("TOP", "UIDL", "USER", "SASL PLAIN", "RESP-CODES",
                "PIPELINING", "AUTH-RESP-CODE", "STLS"):
        tap.ok(cap in caps, "CAPA lists %s" % cap)
    tap.like(c.cmd("STAT"), r"^-ERR", "STAT before login refused")
    tap.like(c.cmd("APOP alice 0123456789abcdef0123456789abcdef"),
             r"^-ERR", "APOP not offered")
    tap.like(c.cmd("PASS x"), r"^-ERR", "PASS without USER")
    tap.like(c.cmd("AUTH"), r"^\+OK", "AUTH lists mechanisms")
    tap.is_(c.multi(), ["PLAIN"], "only PLAIN")
    tap.like(c.cmd("AUTH CRAM-MD5"), r"^-ERR", "AUTH CRAM-MD5 refused")
    tap.like(c.cmd("QUIT"), r"^\+OK", "QUIT before login")
    tap.ok(c.closed(), "closed after QUIT")
    c.close()


def test_logins():
    c = p3.Pop3(P)
    tap.like(c.login("alice", "wrong"), r"^-ERR \[AUTH\]", "wrong password")
    tap.like(c.login("alice", "pw alice"),
             r"^\+OK Logged in; 3 messages \(\d+ octets\)$",
             "USER/PASS with a space in the password")
    tap.like(c.cmd("USER bob"), r"^-ERR", "USER after login refused")
    c.cmd("QUIT")
    c.close()
    c = p3.Pop3(P)
    ir = "AGFsaWNlAHB3IGFsaWNl"  # base64 of "\0alice\0pw alice"
    tap.like(c.cmd("AUTH PLAIN " + ir), r"^\+OK Logged in",
             "AUTH PLAIN with an initial response")
    c.cmd("QUIT")
    c.close()
    c = p3.Pop3(P)
    tap.is_(c.cmd("auth plain"), "+ ", "AUTH PLAIN continuation")
    tap.like(c.cmd("*"), r"^-ERR", "AUTH cancelled with *")
    tap.is_(c.cmd("AUTH PLAIN"), "+ ", "AUTH PLAIN again")
    tap.like(c.cmd("AGFsaWNlAHB3IGFsaWNl"), r"^\+OK Logged in",
             "AUTH PLAIN response line")
    c.cmd("QUIT")
    c.close()
    c = p3.Pop3(P)
    tap.like(c.cmd("AUTH PLAIN !!!"), r"^-ERR", "bad base64")
    c.login("bob", "x")
    c.login("bob", "y")
    r = c.login("bob", "z")
    tap.like(r, r"^-ERR \[AUTH\].*too many", "third failure")
    tap.ok(c.closed(), "closed after three failed logins")
    c.close()


def test_transaction():
    files = inst.maildrop_files(ALICE)
    stored = sorted(open(p, "rb").read() for p in files.values())
    c = login()
    st = c.cmd("STAT")
    total = sum(len(p3.crlf(d)) for d in stored)
    tap.is_(st, "+OK 3 %d" % total, "STAT: count and CRLF octets")
    tap.like(c.cmd("LIST"), r"^\+OK", "LIST")
    listing = c.multi()
    tap.is_(len(listing), 3, "LIST: three lines")
    sizes = [int(l.split()[1]) for l in listing]
    tap.is_(sum(sizes), total, "LIST sizes add up to STAT")
    tap.is_(c.cmd("LIST 2"), "+OK 2 %d" % sizes[1], "LIST 2")
    tap.like(c.cmd("UIDL"), r"^\+OK", "UIDL")
    uidl = c.multi()
    ids = [l.split()[1] for l in uidl]
    tap.ok(all(__import__("re").match(r"^\d+\.\d+$", i) for i in ids),
           "unique-ids are UIDVALIDITY.UID (%s)" % ids)
    tap.is_(len(set(ids)), 3, "unique-ids differ")
    tap.is_(c.cmd("UIDL 3"), "+OK 3 " + ids[2], "UIDL 3")
    got = []
    for n in (1, 2, 3):
        r = c.cmd("RETR %d" % n)
        tap.is_(r, "+OK %d octets" % sizes[n - 1], "RETR %d status" % n)
        got.append(c.multi_bytes())
    tap.is_(sorted(got), sorted(p3.crlf(d) for d in stored),
            "RETR gives the stored messages in CRLF form")
    tap.is_([len(g) for g in got], sizes, "RETR sizes match LIST")
    dotted = [g for g in got if b"..two dots" in g]
    tap.ok(dotted and b"\r\n.\r\nend" in dotted[0],
           "dot-stuffed lines come back unstuffed")
    tap.like(c.cmd("TOP 3 0"), r"^\+OK", "TOP 3 0")
    t0 = c.multi_bytes()
    tap.ok(t0.endswith(b"\r\n\r\n") and b"line 1" not in t0,
           "TOP 0: header and blank line")
    c.cmd("TOP 3 2")
    t2 = c.multi_bytes()
    tap.ok(t2.endswith(b"\r\n\r\nline 1\r\nline 2\r\n"), "TOP 3 2")
    c.cmd("TOP 3 99999999999999999999999")
    tap.is_(c.multi_bytes(), got[2], "TOP with a huge count: whole message")
    tap.like(c.cmd("DELE 1"), r"^\+OK", "DELE 1")
    tap.like(c.cmd("DELE 1"), r"^-ERR", "DELE 1 again refused")
    tap.is_(c.cmd("STAT"), "+OK 2 %d" % (total - sizes[0]),
            "STAT without the deleted one")
    tap.like(c.cmd("RETR 1"), r"^-ERR", "RETR of a deleted message")
    tap.like(c.cmd("LIST 1"), r"^-ERR", "LIST of a deleted message")
    c.cmd("LIST")
    tap.is_(len(c.multi()), 2, "LIST skips the deleted one")
    tap.like(c.cmd("RSET"), r"^\+OK", "RSET")
    tap.is_(c.cmd("STAT"), "+OK 3 %d" % total, "RSET undeletes")
    c.cmd("DELE 2")
    tap.like(c.cmd("NOOP"), r"^\+OK", "NOOP")
    c.close()  # no QUIT: nothing is deleted
    time.sleep(0.3)
    tap.is_(len(inst.maildrop_files(ALICE)), 3,
            "a session ended without QUIT deletes nothing")
    c = login()
    c.cmd("UIDL")
    tap.is_(c.multi(), uidl, "UIDL the same in the next session")
    c.cmd("DELE 2")
    tap.is_(c.cmd("QUIT"), "+OK Logging out, 1 message deleted",
            "QUIT: UPDATE state")
    tap.ok(c.closed(), "closed after QUIT")
    c.close()
    tap.is_(len(inst.maildrop_files(ALICE)), 2, "deleted from the Maildir")
    c = login()
    c.cmd("UIDL")
    tap.is_(c.multi(), ["1 " + ids[0], "2 " + ids[2]],
            "UIDL of the others unchanged, renumbered")
    c.cmd("QUIT")
    c.close()


def test_pipelining():
    c = login()
    c.send("STAT\r\nLIST\r\nUIDL 1\r\nRETR 1\r\nNOOP\r\nQUIT\r\n")
    tap.like(c.line(), r"^\+OK 2 ", "pipelined STAT")
    c.line()
    tap.is_(len(c.multi()), 2, "pipelined LIST")
    tap.like(c.line(), r"^\+OK 1 ", "pipelined UIDL 1")
    c.line()
    c.multi()
    tap.is_(c.line(), "+OK", "pipelined NOOP after RETR")
    tap.like(c.line(), r"^\+OK Logging out", "pipelined QUIT")
    c.close()


def test_bad_input():
    c = login()
    tap.like(c.cmd("NOOP " + "x" * 5000), r"^-ERR Line too long",
             "overlong line refused")
    tap.is_(c.cmd("NOOP"), "+OK", "usable after an overlong line")
    tap.like(c.cmd("LIST \0 1"), r"^-ERR NUL", "NUL refused")
    tap.like(c.cmd("LIST 1\x01"), r"^-ERR", "control byte refused")
    tap.like(c.cmd("XYZZY"), r"^-ERR Unknown command", "unknown command")
    tap.like(c.cmd("STLS"), r"^-ERR", "STLS after login refused")
    tap.like(c.cmd("RETR 99999999999999999999999999"),
             r"^-ERR No such message", "huge message number")
    tap.like(c.cmd("RETR 4294967297"), r"^-ERR No such message",
             "message number over 32 bits")
    tap.like(c.cmd("RETR 0"), r"^-ERR No such message", "message 0")
    tap.like(c.cmd("RETR -1"), r"^-ERR Invalid", "negative number")
    tap.like(c.cmd("TOP 1 -1"), r"^-ERR", "negative line count")
    tap.like(c.cmd("TOP 1"), r"^-ERR", "TOP without a count")
    tap.like(c.cmd("STAT 1"), r"^-ERR", "STAT with an argument")
    tap.is_(c.cmd("STAT")[:3], "+OK", "still usable")
    n = 0
    while n < 20:
        r = c.cmd("BOGUS")
        n += 1
        if r is None or "Too many" in r:
            break
    tap.ok(n < 20 and c.closed(), "closed after ten errors (%d)" % n)
    c.close()
    c = p3.Pop3(P)
    c.send(b"\x00\xff\xfe garbage\r\n" * 3)
    tap.like(c.line(), r"^-ERR", "binary garbage before login")
    c.close()


def test_stls_plaintext():
    c = p3.Pop3(P)
    c.send("STLS\r\nCAPA\r\n")
    tap.like(c.line(), r"^\+OK Begin TLS", "STLS")
    tap.is_(c.buf, b"", "nothing after STLS's +OK")
    c.wrap()
    tap.like(c.cmd("NOOP"), r"^-ERR", "the plaintext CAPA was dropped "
             "(the first TLS command gets its own reply)")
    tap.like(c.cmd("CAPA"), r"^\+OK", "CAPA over TLS")
    caps = c.multi()
    tap.ok("STLS" not in caps and "USER" in caps, "no STLS after TLS")
    tap.like(c.login("alice", "pw alice"), r"^\+OK", "login over STLS")
    c.cmd("QUIT")
    c.close()


def test_timeout():
    c = login(port=inst.port["pop3quick"])
    c.cmd("DELE 1")
    start = time.monotonic()
    r = c.line()
    tap.like(r, r"^-ERR Autologout", "autologout")
    tap.ok(c.closed() and time.monotonic() - start < 6,
           "closed within the timeout")
    c.close()
    tap.is_(len(inst.maildrop_files(ALICE)), 2,
            "the autologout did not enter UPDATE")


def test_large():
    user = "big@localhost"
    p3.deliver(inst, user, ["first\r\n"])
    new = inst.maildir(user, "new")
    owner = os.stat(new)
    big = b"Subject: big\n\n" + b"".join(b".%06d a dotted line of text\n" % i
                                         for i in range(100000))
    files = {"1700000000.M1P1.big": big}
    for i in range(1500):
        files["1700000001.M%dP1.many" % i] = b"Subject: n%d\n\nbody\n" % i
    for name, data in files.items():
        path = os.path.join(new, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, owner.st_uid, owner.st_gid)
    c = login("big", "pw-big")
    tap.like(c.cmd("STAT"), r"^\+OK 1502 ", "1,502 messages")
    c.cmd("LIST")
    listing = c.multi()
    tap.is_(len(listing), 1502, "LIST of 1,502 lines")
    c.cmd("UIDL")
    tap.is_(len(set(l.split()[1] for l in c.multi())), 1502,
            "UIDL: 1,502 distinct ids")
    n, size = max((l.split() for l in listing), key=lambda x: int(x[1]))
    tap.is_(int(size), len(p3.crlf(big)), "the big message's size")
    c.send("RETR %s\r\nNOOP\r\n" % n)
    time.sleep(1.5)  # the server pauses while the client does not read
    tap.like(c.line(), r"^\+OK %s octets" % size, "RETR of 3 MB")
    tap.ok(c.multi_bytes() == p3.crlf(big), "read slowly, arrives intact")
    tap.is_(c.line(), "+OK", "the pipelined NOOP after it")
    c.cmd("QUIT")
    c.close()
    # More than the socket buffers hold, so that the reply gets stuck.
    huge = b"Subject: huge\n\n" + b"x" * 100 + b"\n" * 200000 + \
        (b"y" * 1000 + b"\n") * 20000
    path = os.path.join(new, "1700000002.M1P1.huge")
    with open(path, "wb") as f:
        f.write(huge)
    os.chown(path, owner.st_uid, owner.st_gid)
    c = p3.Pop3(inst.port["pop3quick"])
    c.login("big", "pw-big")
    c.send("RETR 1503\r\n")
    time.sleep(4)  # the 2 s timer runs out while the reply is stuck
    tap.ok(c.closed(10), "a client that stops reading a message times out")
    tap.ok(len(c.buf) < len(p3.crlf(huge)) and b"Autologout" not in c.buf,
           "no text after the cut (%d bytes)" % len(c.buf))
    c.close()


try:
    tap.is_(p3.deliver(inst, ALICE, BODIES), 3, "3 messages delivered")
    test_greeting_capa()
    test_logins()
    test_transaction()
    test_pipelining()
    test_bad_input()
    test_stls_plaintext()
    test_timeout()
    test_large()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
