#!/usr/bin/env python3
"""t/lmtpd-protocol.t: lmtpd's LMTP dialogue with a raw client: the greeting
and LHLO extensions, HELO/EHLO refused, command order, MAIL and RCPT
parameters, a whole pipelined transaction in one write with one reply per
recipient after the content, dot-unstuffing and the smuggling-safe end of
data, bare LF (521, nothing delivered), NUL, overlong lines and the size
limit (refused per recipient, the session goes on), BDAT chunks, RSET,
the recipient limit, the error limit and the timeout."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import lmtpd_test as lt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = lt.LmtpInstance(
    top, users=["alice@localhost", "bob@localhost", "carol@localhost"],
    lmtp_extra={"small": ["message_size_limit=2000",
                          "lmtpd_recipient_limit=2"],
                "slow": ["lmtpd_timeout=1s"]})
inst.start()
P = inst.port["lmtp"]


def session(where=P):
    c = lt.Lmtp(where)
    c.cmd("LHLO client.test")
    return c


def count(address, marker):
    return sum(1 for m in inst.messages(address).values() if marker in m)


def test_greeting_and_lhlo():
    c = lt.Lmtp(inst.port["small"])
    tap.like(c.greeting[1], r"^220 \S+ LMTP Postern$", "greeting says LMTP")
    tap.is_(c.cmd("MAIL FROM:<s@example.org>")[0], 503, "MAIL before LHLO: "
            "503")
    tap.like(c.cmd("EHLO client.test")[1], r"^500 5\.5\.1 .*LHLO",
             "EHLO refused: use LHLO")
    tap.is_(c.cmd("HELO client.test")[0], 500, "HELO refused")
    tap.is_(c.cmd("LHLO")[0], 501, "LHLO without a name: 501")
    code, text = c.cmd("LHLO client.test")
    exts = [ln[4:] for ln in text.splitlines()[1:]]
    tap.is_(exts, ["PIPELINING", "SIZE 2000", "ENHANCEDSTATUSCODES",
                   "8BITMIME", "SMTPUTF8", "CHUNKING"], "LHLO extensions")
    tap.like(c.cmd("MAIL FROM:<s@example.org> SIZE=5000")[1],
             r"^552 5\.3\.4 ", "SIZE over message_size_limit: 552 at MAIL")
    tap.like(c.cmd("MAIL FROM:<s@example.org> RET=FULL")[1],
             r"^555 5\.5\.4 ", "no DSN: RET refused (555)")
    tap.is_(c.cmd("MAIL FROM:<s@example.org> BODY=8BITMIME SMTPUTF8 "
                  "SIZE=100")[0], 250, "BODY, SMTPUTF8, SIZE accepted")
    tap.is_(c.cmd("MAIL FROM:<s@example.org>")[0], 503, "nested MAIL: 503")
    tap.is_(c.cmd("DATA")[0], 503, "DATA before RCPT: 503")
    tap.like(c.cmd("RCPT TO:<alice@localhost> NOTIFY=NEVER")[1],
             r"^555 5\.5\.4 ", "RCPT parameters refused (555)")
    tap.like(c.cmd("RCPT TO:alice@localhost")[1], r"^501 5\.5\.4 ",
             "RCPT without brackets: 501")
    tap.is_([c.cmd("RCPT TO:<%s@localhost>" % u)[0]
             for u in ("alice", "bob", "carol")], [250, 250, 452],
            "lmtpd_recipient_limit: the third gets 452")
    tap.is_(c.cmd("RSET")[0], 250, "RSET")
    tap.is_(c.cmd("DATA")[0], 503, "after RSET no transaction")
    tap.is_(c.cmd("NOOP")[0], 250, "NOOP")
    tap.is_(c.cmd("VRFY alice@localhost")[0], 252, "VRFY says 252")
    tap.is_(c.cmd("HELP")[0], 214, "HELP")
    tap.is_(c.cmd("XYZZY")[0], 502, "unknown command: 502")
    tap.like(c.cmd("QUIT")[1], r"^221 2\.0\.0 ", "QUIT: 221")
    tap.ok(c.closed(), "closed after QUIT")


def test_pipelined():
    c = lt.Lmtp(P)
    c.send("LHLO client.test\r\nMAIL FROM:<s@example.org>\r\n"
           "RCPT TO:<alice@localhost>\r\nRCPT TO:<ghost@localhost>\r\n"
           "RCPT TO:<bob@localhost>\r\nDATA\r\n"
           "Subject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    got = [r[0] for r in c.replies(9)]
    tap.is_(got, [250, 250, 250, 550, 250, 354, 250, 250, 221],
            "one write: every reply in order, one per recipient after "
            "the content")
    c.close()
    tap.is_([count(u, b"piped") for u in ("alice@localhost",
                                          "bob@localhost")], [1, 1],
            "both recipients have it")


def test_smuggling():
    c = session()
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("RCPT TO:<bob@localhost>")
    c.cmd("DATA")
    c.send("Subject: smuggle\r\n\r\nhello\r.\r\nRSET\r\nMAIL FROM:<x@y>"
           "\r\n.\r\n")
    got = [r[1][:9] for r in c.replies(2)]
    tap.is_(got, ["550 5.5.2"] * 2, "<CR>.<CR><LF> does not end the data; "
            "bare CR: 550 5.5.2 per recipient at the real end")
    tap.is_(c.cmd("NOOP")[0], 250, "the lines after it were content, not "
            "commands")
    c.close()
    tap.is_(count("alice@localhost", b"smuggle"), 0, "nothing delivered")


def test_dots():
    c = session()
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send("Subject: dots\r\n\r\n..one\r\n...two\r\n.\r\n")
    tap.is_(c.reply()[0], 250, "dotted content delivered")
    c.close()
    got = [lt.body_of(m) for m in inst.messages("alice@localhost").values()
           if b"Subject: dots" in m]
    tap.is_(got, [b"Subject: dots\n\n.one\n..two\n"], "leading dots "
            "unstuffed once")


def test_bare_lf():
    c = session()
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<bob@localhost>")
    c.cmd("DATA")
    c.send("Subject: smuggle\r\n\r\nhello\n.\nMAIL FROM:<x@y>\r\n")
    code, text = c.reply()
    tap.like(text, r"^521 5\.5\.2 .*bare <LF>", "bare LF in content: 521")
    tap.ok(c.closed(), "and the session ends")
    tap.is_(count("bob@localhost", b"smuggle"), 0, "nothing delivered")
    c = session()
    c.send("NOOP\n")
    tap.is_(c.reply()[0], 521, "bare LF after a command: 521")
    tap.ok(c.closed(), "and the session ends")


def test_refused_content():
    c = session(inst.port["small"])
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("RCPT TO:<bob@localhost>")
    c.cmd("DATA")
    c.send("Subject: toobig\r\n\r\n" + ("x" * 100 + "\r\n") * 30 + ".\r\n")
    got = [r[1][:9] for r in c.replies(2)]
    tap.is_(got, ["552 5.3.4"] * 2, "over message_size_limit: 552 for "
            "each recipient")
    tap.is_(c.cmd("NOOP")[0], 250, "the session goes on")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send("Subject: nul\r\n\r\na\0b\r\n.\r\n")
    tap.like(c.reply()[1], r"^550 5\.6\.0 ", "NUL byte: 550 5.6.0")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send("Subject: long\r\n\r\n" + "y" * 70000 + "\r\n.\r\n")
    tap.like(c.reply()[1], r"^552 5\.3\.4 .*line too long",
             "line over 64 KiB: 552 5.3.4")
    c.close()
    tap.is_(sum(count("alice@localhost", m) for m in
                (b"toobig", b"nul", b"long")), 0, "none of them stored")


def test_bdat():
    c = session()
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("RCPT TO:<carol@localhost>")
    one, two = b"Subject: chunk\r\n\r\na\r", b"\n.b\r\n\r\n"
    c.send(b"BDAT %d\r\n%s" % (len(one), one))
    tap.like(c.reply()[1], r"^250 2\.0\.0 Ok: 20 bytes", "BDAT chunk: one "
             "reply")
    c.send(b"BDAT %d LAST\r\n%s" % (len(two), two))
    tap.is_([r[0] for r in c.replies(2)], [250, 250], "BDAT LAST: one "
            "reply per recipient")
    c.close()
    got = [lt.body_of(m) for m in inst.messages("carol@localhost").values()
           if b"chunk" in m]
    tap.is_(got, [b"Subject: chunk\n\na\n.b\n\n"], "CRLF split across "
            "chunks stored as LF, no unstuffing in BDAT")


def test_error_limit():
    c = session()
    codes = [c.cmd("BOGUS")[0] for _ in range(50)]
    tap.is_(codes, [502] * 50, "50 bad commands: 502 each")
    tap.like(c.reply()[1], r"^421 4\.7\.0 .*too many errors", "then 421")
    tap.ok(c.closed(), "and the session ends")


def test_timeout():
    c = lt.Lmtp(inst.port["slow"])
    t0 = time.monotonic()
    code, text = c.reply()
    tap.like(text, r"^421 4\.4\.2 .*timeout", "idle client: 421 4.4.2")
    tap.ok(time.monotonic() - t0 < 4, "after lmtpd_timeout")
    tap.ok(c.closed(), "and closed")


try:
    test_greeting_and_lhlo()
    test_pipelined()
    test_smuggling()
    test_dots()
    test_bare_lf()
    test_refused_content()
    test_bdat()
    test_error_limit()
    test_timeout()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
