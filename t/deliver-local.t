#!/usr/bin/env python3
"""t/deliver-local.t: smtpd -> qmgr -> local -> Maildir end to end: the
stored copy byte for byte (Return-Path:, Delivered-To:, CRLF -> LF), one
copy per recipient, extensions, alias fan-out, unknown users bounced with
an RFC 3464 report that python's email package parses, loops stopped by
Delivered-To: and by alias cycles, unsupported alias targets deferred."""

import email
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = dt.DeliverInstance(
    top, users=["alice@localhost", "bob@localhost", "carol@localhost"],
    aliases="team alice, bob@localhost\nloop1 loop2\nloop2 loop1\n"
            "archive /nonexistent/archive\nbuddy alice\n",
    main={"recipient_delimiter": "+",
          "smtpd_reject_unlisted_recipient": "no"})
inst.start()
P = inst.port["smtp"]


def only(address):
    m = inst.wait_messages(address, 1)
    return list(m.values())[0] if len(m) == 1 else None


def test_exact_copy():
    body = ("Subject: exact\r\nX-Test: 1\r\n\r\nline one\r\n..dot\r\n"
            "\r\nlast\r\n.\r\n")
    qid = dt.send(P, "s@example.org", ["carol@localhost"], body)
    tap.ok(qid is not None, "message accepted")
    got = only("carol@localhost")
    tap.ok(got is not None, "one file in carol's Maildir")
    got = got or b""
    tap.ok(got.startswith(b"Return-Path: <s@example.org>\nDelivered-To: "
                          b"carol@localhost\nReceived: from client.test "),
           "Return-Path: and Delivered-To: first, then Received:")
    tap.ok(got.endswith(b"\nSubject: exact\nX-Test: 1\n\nline one\n.dot\n"
                        b"\nlast\n"), "content exact, lines end in LF")
    tap.ok(b"\r" not in got, "no CR left")
    name = list(inst.messages("carol@localhost"))[0]
    tap.like(name, r"^\d+\.Q%sR[0-9a-f]{16}\.localhost$" % qid,
             "file name: SECONDS.Q<queue id>R<hash>.HOST")
    tap.ok(inst.wait_log(qid + r": to=<carol@localhost>, relay=local, "
                         r"delay=[0-9.]+, delays=[0-9./]+, dsn=2\.0\.0, status=sent "
                         r"\(delivered to maildir\)"), "to= log line")
    tap.ok(inst.wait_log(qid + r": removed"), "removed log line")
    tap.like(inst.log(), qid + r": from=<s@example\.org>, size=\d+, "
             r"nrcpt=1 \(queue active\)", "from= log line")


def test_block_edges():
    # Bodies of 80,000 empty lines (CR LF each) cross local's 64 KiB read
    # blocks; with subjects one byte apart, one of the two has a CR as the
    # last byte of a block, whose LF comes with the next block.
    for subject in ("edge", "edge2"):
        before = len(inst.messages("carol@localhost"))
        body = "Subject: %s\r\n\r\n%s.\r\n" % (subject, "\r\n" * 80000)
        dt.send(P, "s@example.org", ["carol@localhost"], body)
        m = inst.wait_messages("carol@localhost", before + 1)
        got = [v for v in m.values() if b"Subject: %s\n" % subject.encode()
               in v]
        tap.ok(len(got) == 1 and b"\r" not in got[0] and
               got[0].endswith(b"\nSubject: %s\n\n" % subject.encode() +
                               b"\n" * 80000),
               "%s: 80,000 lines, each CR LF stored as LF" % subject)


def test_two_rcpts_and_extension():
    qid = dt.send(P, "s@example.org", ["alice@localhost", "bob+x@localhost"],
                  "Subject: two\r\n\r\nhi\r\n.\r\n")
    a, b = only("alice@localhost"), only("bob@localhost")
    tap.ok(a is not None and b is not None, "one copy each")
    tap.ok(b is not None and b"Delivered-To: bob@localhost\n" in b,
           "bob+x delivered to bob's mailbox")
    tap.ok(inst.wait_log(qid + r": removed"), "message removed")
    tap.ok(inst.wait_queue_empty(), "queue empty")


def test_alias_fanout():
    before = {u: len(inst.messages(u)) for u in ("alice@localhost",
                                                 "bob@localhost")}
    qid = dt.send(P, "s@example.org", ["team@localhost", "buddy@localhost"],
                  "Subject: team\r\n\r\nhi\r\n.\r\n")
    tap.ok(inst.wait_log(qid + r": removed"), "alias message done")
    tap.is_(len(inst.messages("alice@localhost")), before["alice@localhost"]
            + 1, "alice: one copy though team and buddy both reach her")
    tap.is_(len(inst.messages("bob@localhost")), before["bob@localhost"] + 1,
            "bob: one copy via team")
    tap.like(inst.log(), qid + r": to=<team@localhost>, relay=local.*"
             r"status=sent", "team logged as sent")


def dsn_for(qid):
    """The notification about qid in the sender's (alice's) Maildir."""
    for name, data in inst.wait_messages("alice@localhost", 1).items():
        if ("X-Postern-Queue-ID: " + qid).encode() in data:
            return email.message_from_bytes(data)
    return None


def wait_dsn(qid):
    for _ in range(200):
        m = dsn_for(qid)
        if m is not None:
            return m
        inst.wait_log("never", 0.05)
    return None


def test_unknown_user_bounced():
    qid = dt.send(P, "alice@localhost", ["nosuch@localhost"],
                  "Subject: lost\r\nMessage-ID: <lost@t>\r\n\r\nhi\r\n.\r\n")
    tap.ok(inst.wait_log(qid + r": to=<nosuch@localhost>, relay=local, "
                         r"delay=[0-9.]+, delays=[0-9./]+, dsn=5\.1\.1, status=bounced "
                         r"\(unknown user: \"nosuch@localhost\"\)"),
           "unknown user: status=bounced, 5.1.1")
    tap.ok(inst.wait_log(qid + r": sender non-delivery notification: "),
           "notification queued")
    m = wait_dsn(qid)
    tap.ok(m is not None, "the DSN reached the sender's Maildir")
    if m is None:
        return
    tap.is_(m.get_content_type(), "multipart/report", "multipart/report")
    tap.is_(m.get_param("report-type"), "delivery-status", "report-type")
    tap.like(m["Return-Path"], r"^<>$", "from the null sender")
    parts = [p.get_content_type() for p in m.walk()]
    tap.ok("message/delivery-status" in parts and
           "text/rfc822-headers" in parts, "status and headers parts")
    ds = [p for p in m.walk()
          if p.get_content_type() == "message/delivery-status"][0]
    fields = [f for blk in ds.get_payload() for f in blk.items()]
    tap.ok(("Status", "5.1.1") in fields, "Status: 5.1.1")
    tap.ok(("Final-Recipient", "rfc822; nosuch@localhost") in fields,
           "Final-Recipient")
    tap.ok(b"Message-ID: <lost@t>" in m.as_bytes(), "original headers")
    tap.ok(not os.path.exists(inst.path("queue", "bounce", qid)),
           "bounce log removed")


def test_loops():
    qid = dt.send(P, "s@example.org", ["bob@localhost"],
                  "Delivered-To: bob@localhost\r\nSubject: loop\r\n\r\nx\r\n"
                  ".\r\n")
    tap.ok(inst.wait_log(qid + r": to=<bob@localhost>, relay=local, "
                         r"delay=[0-9.]+, delays=[0-9./]+, dsn=5\.4\.6, status=bounced "
                         r"\(mail forwarding loop for bob@localhost\)"),
           "Delivered-To: loop bounced 5.4.6")
    qid = dt.send(P, "s@example.org", ["loop1@localhost"],
                  "Subject: loop\r\n\r\nx\r\n.\r\n")
    tap.ok(inst.wait_log(qid + r": to=<loop1@localhost>, .*dsn=5\.4\.6, "
                         r"status=bounced"), "alias cycle bounced 5.4.6")
    tap.ok(inst.wait_log(qid + r": undeliverable bounce message|" + qid +
                         r": sender non-delivery"), "notification step ran")


def test_file_target_deferred():
    qid = dt.send(P, "s@example.org", ["archive@localhost"],
                  "Subject: f\r\n\r\nx\r\n.\r\n")
    tap.ok(inst.wait_log(qid + r": to=<archive@localhost>, relay=local, "
                         r"delay=[0-9.]+, delays=[0-9./]+, dsn=4\.2\.0, status=deferred "
                         r"\(cannot append to file /nonexistent/archive: "),
           "file target: deferred with the reason")
    tap.ok(qid in inst.queue_ids("deferred") or
           qid in inst.queue_ids("active"), "message kept in the queue")
    with open(inst.path("queue", "defer", qid)) as f:
        tap.like(f.read(), r"recipient=archive@localhost\nstatus=4\.2\.0",
                 "defer/ID names the recipient and status")


try:
    test_exact_copy()
    test_two_rcpts_and_extension()
    test_alias_fanout()
    test_unknown_user_bounced()
    test_loops()
    test_file_target_deferred()
    test_block_edges()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
