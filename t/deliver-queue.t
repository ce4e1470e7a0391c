#!/usr/bin/env python3
"""t/deliver-queue.t: the queue side of delivery: mail for a remote domain
is deferred with its reason (no relay yet) and retried after its back-off;
a temporary mailbox failure defers one recipient, records the other as
done, and the retry after the back-off delivers the rest; a retry of a
recipient whose done-mark was lost (reset on disk) finds its earlier copy,
even after an IMAP client moved it to cur/, and writes no second one; mail
still pending after maximal_queue_lifetime is returned to its sender."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import deliver_test as dt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = dt.DeliverInstance(top, users=["alice@localhost", "bob@localhost"])
inst.start()
P = inst.port["smtp"]


def test_remote_deferred():
    r = st.transaction(P, "s@localhost", ["x@example.com"],
                       "Subject: far\r\n\r\nx\r\n.\r\n", src=st.TRUSTED)
    m = re.search(r"queued as ([0-9A-Z]{16})", r[-1][1] or "")
    qid = m.group(1) if m else "none"
    pat = (qid + r": to=<x@example\.com>, relay=none, delay=[0-9.]+, delays=[0-9./]+, "
           r"dsn=4\.3\.0, status=deferred \(delivery agent smtp failed: ")
    tap.ok(inst.wait_log(pat), "remote recipient deferred with the reason")
    tap.ok(in_queue(qid), "message kept in the queue (deferred/)")
    with open(inst.path("queue", "defer", qid)) as f:
        tap.like(f.read(), r"recipient=x@example\.com\nstatus=4\.3\.0\n"
                 r"action=delayed\nreason=delivery agent smtp failed: ",
                 "defer/ID holds the reason")
    end = time.monotonic() + 10
    while time.monotonic() < end and len(re.findall(pat, inst.log())) < 2:
        time.sleep(0.05)
    tap.ok(len(re.findall(pat, inst.log())) >= 2,
           "retried after the back-off")


def in_queue(qid):
    """True once qid sits in deferred/ (or in active/ for a retry)."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if qid in inst.queue_ids("deferred"):
            return True
        time.sleep(0.02)
    return qid in inst.queue_ids("active")


def mark_pending(path, address):
    """Resets address's done-mark to pending in a queue file."""
    with open(path, "r+b") as f:
        data = f.read()
        i = data.find(address.encode())
        if i < 2 or data[i - 2:i - 1] not in (b"D", b"F"):
            return False
        f.seek(i - 2)
        f.write(b"R")
    return True


def test_partial_then_idempotent_retry():
    dt.send(P, "s@example.org", ["bob@localhost"], "Subject: a\r\n\r\nx\r\n"
            ".\r\n")
    inst.wait_messages("bob@localhost", 1)
    bobdir = os.path.dirname(inst.maildir("bob@localhost"))
    os.chmod(bobdir, 0)
    qid = dt.send(P, "s@example.org", ["alice@localhost", "bob@localhost"],
                  "Subject: b\r\n\r\nx\r\n.\r\n")
    tap.ok(inst.wait_log(qid + r": to=<bob@localhost>, relay=local, "
                         r"delay=[0-9.]+, delays=[0-9./]+, dsn=4\.2\.0, status=deferred "
                         r"\(cannot write to mailbox bob@localhost: "),
           "unwritable mailbox: deferred 4.2.0 with the reason")
    tap.ok(inst.wait_log(qid + r": to=<alice@localhost>, relay=local, .*"
                         r"status=sent"), "the other recipient delivered")
    tap.ok(in_queue(qid), "message kept in the queue")
    inst.postern("stop")
    new = inst.maildir("alice@localhost")
    names = [n for n in os.listdir(new) if qid in n]
    tap.is_(len(names), 1, "alice has the copy in new/")
    for n in names:  # what an IMAP client does when it reads the message
        os.rename(os.path.join(new, n),
                  os.path.join(inst.maildir("alice@localhost", "cur"),
                               n + ":2,S"))
    tap.ok(any(mark_pending(inst.path("queue", q, qid), "alice@localhost")
               for q in ("deferred", "active", "incoming")
               if qid in inst.queue_ids(q)),
           "alice's done-mark reset on disk (as if qmgr died before it)")
    os.chmod(bobdir, 0o700)
    inst.start()
    tap.ok(inst.wait_log(qid + r": removed", 15), "retry finished")
    sent = re.findall(qid + r": to=<alice@localhost>, .*status=sent",
                      inst.log())
    tap.is_(len(sent), 2, "alice's delivery ran twice")
    copies = [n for n in inst.messages("alice@localhost") if qid in n]
    tap.is_(len(copies), 1, "but alice has one copy (found in cur/)")
    tap.is_(len([n for n in inst.messages("bob@localhost") if qid in n]), 1,
            "bob got his copy on the retry")


def test_expiry():
    exp = dt.DeliverInstance(top, name="expire", users=["alice@localhost"],
                             main={"maximal_queue_lifetime": "2s"})
    exp.start()
    try:
        r = st.transaction(exp.port["smtp"], "alice@localhost",
                           ["x@example.com"], "Subject: far\r\n\r\nx\r\n"
                           ".\r\n", src=st.TRUSTED)
        m = re.search(r"queued as ([0-9A-Z]{16})", r[-1][1] or "")
        qid = m.group(1) if m else "none"
        tap.ok(exp.wait_log(qid + r": from=<alice@localhost>, "
                            r"status=expired, returned to sender", 15),
               "expired after maximal_queue_lifetime")
        tap.ok(exp.wait_log(qid + r": to=<x@example\.com>, relay=none, "
                            r"delay=[0-9.]+, delays=[0-9./]+, dsn=4\.4\.7, status=bounced "
                            r"\(message expired after \d+ s in the queue\)"),
               "the recipient failed with 4.4.7")
        got = exp.wait_messages("alice@localhost", 1)
        dsn = b"".join(got.values())
        tap.ok(b"Status: 4.4.7" in dsn and qid.encode() in dsn,
               "the sender got the notification")
        tap.ok(exp.wait_queue_empty(), "the queue is empty")
        tap.is_(exp.sanitizer_reports(), [], "no sanitizer reports (expiry)")
    finally:
        exp.stop_quietly()


try:
    test_remote_deferred()
    test_partial_then_idempotent_retry()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
test_expiry()
tap.done()
