#!/usr/bin/env python3
"""t/queue-flow.t: the queue CLI against a running instance (smtpd, qmgr,
local) with back-off times far in the future: a deferred message shows in
`postern queue list` (and --json) with its reason, stays put, and leaves
with `postern queue flush` once the cause is fixed; held mail is not
delivered by a flush and goes once released; requeue retries at once;
show prints a live message."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = dt.DeliverInstance(top, users=["alice@localhost", "bob@localhost"],
                          main={"minimal_backoff_time": "1h",
                                "maximal_backoff_time": "2h",
                                "queue_run_delay": "1h"})
P = None
BOB = "bob@localhost"


def queue(*args, stdin=None):
    r = inst.postern("queue", *args)
    return r


def deferred_with_reason(subject):
    """Sends mail for bob while his mailbox is unwritable; returns the
    queue ID once qmgr has deferred it."""
    qid = dt.send(P, "alice@localhost", [BOB],
                  "Subject: %s\r\n\r\nx\r\n.\r\n" % subject)
    pat = (r"%s: to=<bob@localhost>, relay=local, .*status=deferred "
           r"\(cannot write to mailbox" % qid)
    ok = qid is not None and inst.wait_log(pat)
    end = time.monotonic() + 5
    while ok and time.monotonic() < end and \
            qid not in inst.queue_ids("deferred"):
        time.sleep(0.02)
    return qid if ok and qid in inst.queue_ids("deferred") else None


def attempts(qid):
    return len(re.findall(qid + r": to=<bob@localhost>, relay=local",
                          inst.log()))


def delivered(qid, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(qid in n for n in inst.messages(BOB)):
            return True
        time.sleep(0.05)
    return False


def test_flush(bobdir):
    os.chmod(bobdir, 0)
    qid = deferred_with_reason("flush me")
    tap.ok(qid is not None, "a message for an unwritable mailbox is deferred")
    if qid is None:
        os.chmod(bobdir, 0o700)
        return
    r = queue("list")
    out = r.stdout
    tap.is_(r.returncode, 0, "list: exit 0")
    tap.like(out, r"(?m)^%s +\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
             r"alice@localhost\n *\(cannot write to mailbox bob@localhost:"
             r" [^\n]*\)\n {47}bob@localhost\n\n-- \d+ Kbytes in 1 "
             r"Request\.\n$" % qid,
             "list: the message, its reason line and its recipient")
    reason = [x for x in out.splitlines() if x.endswith(")")]
    tap.ok(len(reason) == 1 and (len(reason[0]) == 78 or
                                 reason[0].startswith("(")),
           "  the reason right-aligned to column 78")
    r = queue("list", "--json")
    try:
        o = json.loads(r.stdout)
    except ValueError:
        o = {}
    tap.ok(o.get("queue_id") == qid and o.get("queue_name") == "deferred"
           and o.get("recipients", [{}])[0].get("delay_reason", "")
           .startswith("cannot write to mailbox"),
           "--json: deferred, with the delay_reason")
    r = queue("show", qid)
    tap.like(r.stdout, r"recipient: bob@localhost\nrecipient_status: "
             r"pending\ndelay_reason: 4\.2\.0 cannot write to mailbox",
             "show: the recipient's status and reason")
    n = attempts(qid)
    time.sleep(2)
    tap.ok(attempts(qid) == n and qid in inst.queue_ids("deferred"),
           "with back-off in the future it is not retried on its own")
    os.chmod(bobdir, 0o700)
    r = queue("flush")
    tap.is_(r.returncode, 0, "flush: exit 0")
    tap.ok(delivered(qid), "flush: the deferred message is delivered now")
    tap.ok(inst.wait_queue_empty(), "  and leaves the queue")
    r = queue("list")
    tap.is_(r.stdout, "Mail queue is empty\n", "list: the queue is empty")


def test_hold_release(bobdir):
    os.chmod(bobdir, 0)
    qid = deferred_with_reason("hold me")
    os.chmod(bobdir, 0o700)
    tap.ok(qid is not None, "another deferred message")
    if qid is None:
        return
    r = queue("hold", qid)
    tap.ok(r.returncode == 0 and qid in inst.queue_ids("hold"),
           "hold: moved to hold/")
    tap.like(queue("list").stdout, r"(?m)^%s! " % qid, "list: marked '!'")
    queue("flush")
    time.sleep(2)
    tap.ok(not delivered(qid, 0) and qid in inst.queue_ids("hold"),
           "flush does not deliver held mail")
    r = queue("release", qid)
    tap.is_(r.returncode, 0, "release: exit 0")
    tap.ok(delivered(qid), "released mail is delivered without a flush")


def test_requeue(bobdir):
    os.chmod(bobdir, 0)
    qid = deferred_with_reason("requeue me")
    os.chmod(bobdir, 0o700)
    tap.ok(qid is not None, "a third deferred message")
    if qid is None:
        return
    r = queue("requeue", qid)
    tap.is_(r.returncode, 0, "requeue: exit 0")
    tap.ok(delivered(qid), "requeued mail is tried again at once")


def test_delete(bobdir):
    os.chmod(bobdir, 0)
    qid = deferred_with_reason("delete me")
    os.chmod(bobdir, 0o700)
    tap.ok(qid is not None, "a fourth deferred message")
    if qid is None:
        return
    r = queue("delete", "ALL")
    tap.ok(r.returncode == 0 and inst.queue_empty() and
           not os.path.exists(inst.path("queue", "defer", qid)),
           "delete ALL: message and defer log gone")
    queue("flush")
    time.sleep(1)
    tap.ok(not delivered(qid, 0), "  and never delivered")


try:
    inst.start()
    P = inst.port["smtp"]
    first = dt.send(P, "alice@localhost", [BOB], "Subject: a\r\n\r\nx\r\n"
                    ".\r\n")
    inst.wait_messages(BOB, 1)
    bobdir = os.path.dirname(inst.maildir(BOB))
    test_flush(bobdir)
    test_hold_release(bobdir)
    test_requeue(bobdir)
    test_delete(bobdir)
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
