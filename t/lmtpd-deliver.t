#!/usr/bin/env python3
"""t/lmtpd-deliver.t: python's smtplib.LMTP hands mail to lmtpd over the UNIX
socket and over TCP, and each Maildir holds the message byte for byte
(Return-Path:, Delivered-To:, Received: first, lines ending in LF, dots
unstuffed); one transaction with mixed results: an unknown user refused at
RCPT (550 5.1.1), a user whose Maildir cannot be written deferred after the
content (450 4.2.0) while the others get 250; a full mailbox (452 4.2.2, or
552 5.2.2 with mailbox_quota_action = bounce); extensions reach the user;
a recipient named twice gets one copy; a large message crosses the spool
blocks intact; no temporary directory is a 451 to DATA; without the auth
daemon a recipient gets 451, never 550."""

import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import lmtpd_test as lt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = lt.LmtpInstance(
    top, users=["alice@localhost", "bob@localhost", "carol@localhost",
                "dave@localhost", "erin@example.org"],
    main={"recipient_delimiter": "+", "mailbox_size_limit": "0"},
    lmtp_extra={"quota": ["mailbox_size_limit=20000"],
                "bounce": ["mailbox_size_limit=20000",
                           "mailbox_quota_action=bounce"],
                "notmp": ["lmtpd_temp_directory=/nonexistent/lmtpd"]})
inst.start()

BODY = (b"Subject: exact\r\nX-Test: 1\r\n\r\nline one\r\n..dot\r\n"
        b".\r\n\r\n8bit \xc3\xa9t\xc3\xa9\r\nlast")


def lmtp(where):
    c = smtplib.LMTP(where if isinstance(where, str) else "127.0.0.1",
                     0 if isinstance(where, str) else where)
    c.ehlo("client.test")
    return c


def transaction(where, sender, rcpts, body):
    """RCPT replies, then the per-recipient replies after the content."""
    c = lmtp(where)
    c.mail(sender)
    rr = [c.rcpt(r) for r in rcpts]
    ok = sum(1 for code, _ in rr if code == 250)
    after = []
    if ok:
        after.append(c.data(body))
        after += [c.getreply() for _ in range(ok - 1)]
    c.quit()
    return rr, after


def only(address):
    m = inst.messages(address)
    return list(m.values())[0] if len(m) == 1 else None


def test_unix_exact():
    rr, after = transaction(inst.socket, "s@example.org",
                            ["alice@localhost"], BODY)
    tap.is_(after[0][0] if after else None, 250, "UNIX socket: 250 after "
            "the content")
    tap.like((after[0][1] if after else b"").decode(),
             r"^2\.0\.0 <alice@localhost> Ok: delivered as [0-9A-Z]{16}$",
             "reply names the recipient and the transaction")
    got = only("alice@localhost") or b""
    tap.like(got.decode(errors="replace"),
             r"^Return-Path: <s@example\.org>\nDelivered-To: "
             r"alice@localhost\nReceived: from client\.test\n\tby \S+ "
             r"\(Postern\) with LMTP id [0-9A-Z]{16}\n\tfor "
             r"<alice@localhost>; \w{3}, ", "headers lmtpd adds, in order")
    # smtplib stuffs the dots, lmtpd removes them again
    tap.is_(lt.body_of(got), b"Subject: exact\nX-Test: 1\n\nline one\n"
            b"..dot\n.\n\n8bit \xc3\xa9t\xc3\xa9\nlast\n",
            "content byte for byte: LF endings, dots round trip, 8-bit kept")
    name = list(inst.messages("alice@localhost"))[0]
    tap.like(name, r"^\d+\.Q[0-9A-Z]{16}R[0-9a-f]{16}\.", "Maildir name "
             "keyed by the transaction")
    tap.like(inst.log(), r"[0-9A-Z]{16}: to=<alice@localhost>, "
             r"relay=maildir, dsn=2\.0\.0, status=sent \(delivered to "
             r"maildir\)", "log line per recipient")


def test_tcp():
    rr, after = transaction(inst.port["lmtp"], "",
                            ["bob@localhost"], b"Subject: tcp\r\n\r\nhi\r\n")
    tap.is_([a[0] for a in after], [250], "TCP: 250")
    got = only("bob@localhost") or b""
    tap.ok(got.startswith(b"Return-Path: <>\n"), "null sender as <>")
    tap.like(got.decode(), r"\nReceived: from client\.test \(unknown "
             r"\[127\.0\.0\.1\]\)\n", "Received: names the TCP client")
    tap.ok(got.endswith(b"\nSubject: tcp\n\nhi\n"), "TCP content exact")


def test_mixed():
    # dave's Maildir cannot be made: a file sits where it would go
    os.makedirs(inst.path("mail", "localhost"), exist_ok=True)
    with open(inst.path("mail", "localhost", "dave"), "w") as f:
        f.write("in the way\n")
    rr, after = transaction(
        inst.socket, "s@example.org",
        ["carol@localhost", "nobody@localhost", "dave@localhost",
         "erin+tag@example.org"], b"Subject: mixed\r\n\r\nbody\r\n")
    tap.is_([r[0] for r in rr], [250, 550, 250, 250], "RCPT: unknown user "
            "refused, others accepted")
    tap.like(rr[1][1].decode(), r"^5\.1\.1 <nobody@localhost>", "550 5.1.1 "
             "names the address")
    tap.is_([a[0] for a in after], [250, 450, 250], "one reply per accepted "
            "recipient, in order: the unwritable Maildir gets 450")
    tap.like(after[1][1].decode() if len(after) > 1 else "",
             r"^4\.2\.0 <dave@localhost> ", "450 4.2.0 names it")
    tap.ok(only("carol@localhost") is not None, "carol has it")
    got = only("erin@example.org") or b""
    tap.like(got.decode(), r"^Return-Path: <s@example\.org>\nDelivered-To: "
             r"erin@example\.org\n[\s\S]*\tfor <erin\+tag@example\.org>;",
             "extension reaches the user; Delivered-To: the mailbox")
    tap.like(inst.log(), r"to=<dave@localhost>, relay=maildir, "
             r"dsn=4\.2\.0, status=deferred \(.*dave", "deferral logged "
             "with the cause")


def test_duplicate():
    rr, after = transaction(inst.port["lmtp"], "s@example.org",
                            ["carol@localhost", "Carol@localhost"],
                            b"Subject: twice\r\n\r\nx\r\n")
    tap.is_([a[0] for a in after], [250, 250], "a recipient named twice: "
            "two replies")
    twice = [m for m in inst.messages("carol@localhost").values()
             if b"Subject: twice" in m]
    tap.is_(len(twice), 1, "and one copy")


def test_quota():
    # 12000 bytes already in alice's Maildir, limit 20000
    with open(os.path.join(inst.maildir("alice@localhost", "cur"),
                           "1.filler:2,S"), "wb") as f:
        f.write(b"y" * 12000)
    msg = b"Subject: q\r\n\r\n" + (b"z" * 998 + b"\r\n") * 9
    rr, after = transaction(inst.port["quota"], "s@example.org",
                            ["alice@localhost", "bob@localhost"], msg)
    tap.is_([a[0] for a in after], [452, 250], "over quota: 452 for that "
            "recipient only")
    tap.like(after[0][1].decode() if after else "",
             r"^4\.2\.2 <alice@localhost> Mailbox full", "4.2.2 Mailbox full")
    rr, after = transaction(inst.port["bounce"], "s@example.org",
                            ["alice@localhost"], msg)
    tap.is_([(a[0], a[1][:5]) for a in after], [(552, b"5.2.2")],
            "mailbox_quota_action = bounce: 552 5.2.2")


def test_large():
    line = b"0123456789" * 99 + b"\r\n"
    msg = b"Subject: large\r\n\r\n" + line * 300 + b".leading\r\n"
    rr, after = transaction(inst.port["lmtp"], "s@example.org",
                            ["bob@localhost"], msg)
    tap.is_([a[0] for a in after], [250], "a 300 KB message: 250")
    got = [m for m in inst.messages("bob@localhost").values()
           if b"Subject: large" in m]
    want = msg.replace(b"\r\n", b"\n")
    tap.ok(len(got) == 1 and lt.body_of(got[0]) == want,
           "stored intact across spool blocks")


def test_no_temp_dir():
    c = lmtp(inst.port["notmp"])
    c.mail("s@example.org")
    c.rcpt("bob@localhost")
    code, text = c.docmd("DATA")
    tap.is_((code, text[:5]), (451, b"4.3.0"), "no temporary file: 451 "
            "4.3.0 to DATA")
    code, _ = c.docmd("RSET")
    tap.is_(code, 250, "the session goes on")
    c.quit()


def test_auth_down():
    inst.postern("stop")
    inst.remove_service("auth")
    inst.start()
    c = lmtp(inst.port["lmtp"])
    c.mail("s@example.org")
    code, text = c.rcpt("alice@localhost")
    tap.is_((code, text[:5]), (451, b"4.3.0"), "auth daemon down: 451 "
            "4.3.0 at RCPT, not 550")
    c.quit()


try:
    test_unix_exact()
    test_tcp()
    test_mixed()
    test_duplicate()
    test_quota()
    test_large()
    test_no_temp_dir()
    test_auth_down()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
