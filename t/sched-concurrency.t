#!/usr/bin/env python3
"""t/sched-concurrency.t: qmgr's scheduler. Deliveries run in parallel
without blocking qmgr (a peer that never greets does not hold up local
mail); per destination at most the concurrency limit, starting at
initial_destination_concurrency and growing as deliveries work; a
destination whose connections fail is marked dead, so that the rest of
its mail is deferred without a connection per message; recipients of one
message are grouped per destination up to the recipient limit."""

import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
slow = rt.ScriptedPeer(data_delay=1.0)
fast = rt.ScriptedPeer()
dead = rt.ScriptedPeer(greeting="421 4.3.2 go away")
stall = rt.ScriptedPeer(greeting=None)
table = ("slow.test smtp:[127.0.0.1]:%d\nfast.test smtp:[127.0.0.1]:%d\n"
         "dead.test smtp:[127.0.0.1]:%d\nstall.test smtp:[127.0.0.1]:%d\n"
         % (slow.port, fast.port, dead.port, stall.port))
a = rt.RelayInstance(top, "a", "a.test", users=["alice@a.test"],
                     transport=table,
                     main={"initial_destination_concurrency": "2",
                           "smtp_destination_concurrency_limit": "4",
                           "smtp_destination_recipient_limit": "2",
                           "smtp_helo_timeout": "6s",
                           "minimal_backoff_time": "30s",
                           "maximal_backoff_time": "60s"})
a.start()
PA = a.port["smtp"]
BODY = b"Subject: sched\r\n\r\nbody\r\n.\r\n"


def send_all(rcpts):
    """One message per recipient, sent in parallel; their queue IDs."""
    ids = [None] * len(rcpts)

    def one(i):
        ids[i] = rt.send(PA, "alice@a.test", [rcpts[i]], BODY)
    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(rcpts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids


def test_nonblocking():
    t0 = time.monotonic()
    q1 = rt.send(PA, "alice@a.test", ["x@stall.test"], BODY)
    rt.send(PA, "bob@a.test", ["alice@a.test"], BODY)
    got = a.wait_messages("alice@a.test", 1, 5)
    took = time.monotonic() - t0
    tap.ok(len(got) == 1 and took < 4,
           "local mail delivered while a peer stalls (%.1f s)" % took)
    tap.ok(not re.search(q1 + r": to=<x@stall\.test>", a.log()),
           "the stalled delivery is still going on meanwhile")
    r = a.wait_result(q1, "x@stall.test", 15)
    tap.ok(r is not None and r["status"] == "deferred" and
           "timed out" in r["text"], "the stalled one times out later")


def test_concurrency():
    t0 = time.monotonic()
    ids = send_all(["u%d@slow.test" % i for i in range(10)])
    results = [a.wait_result(q, "u%d@slow.test" % i, 30)
               for i, q in enumerate(ids)]
    took = time.monotonic() - t0
    tap.ok(all(r is not None and r["status"] == "sent" for r in results),
           "10 messages to a slow peer (1 s each) sent")
    tap.ok(took < 7, "in parallel: %.1f s, not 10 s" % took)
    tap.ok(slow.max_active > 2,
           "the window grew past initial_destination_concurrency 2 "
           "(%d at once)" % slow.max_active)
    tap.ok(slow.max_active <= 4,
           "never more than smtp_destination_concurrency_limit 4 "
           "(%d at once)" % slow.max_active)


def test_dead():
    rcpts = ["d%d@dead.test" % i for i in range(12)]
    ids = send_all(rcpts)
    results = [a.wait_result(q, r, 20) for q, r in zip(ids, rcpts)]
    tap.ok(all(r is not None and r["status"] == "deferred"
               for r in results), "12 messages to a refusing peer deferred")
    tap.ok(all(r is not None and "refused to talk to me: 421" in r["text"]
               for r in results), "each with the peer's reason")
    tap.ok(dead.connections <= 4,
           "dead destination: %d connections for 12 messages"
           % dead.connections)
    tap.like(a.log(), r"destination smtp\001|destination \[127\.0\.0\.1\]:"
             r"%d is dead" % dead.port, "logged as dead")


def test_grouping():
    qid = rt.send(PA, "alice@a.test",
                  ["r1@fast.test", "r2@fast.test", "r3@fast.test"], BODY)
    for r in ("r1", "r2", "r3"):
        a.wait_result(qid, r + "@fast.test", 10)
    sizes = sorted(len(t[1]) for t in fast.transactions)
    tap.is_(sizes, [1, 2], "3 recipients, limit 2: transactions of 2 and 1")


try:
    test_nonblocking()
    test_concurrency()
    test_dead()
    test_grouping()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    for p in (slow, fast, dead, stall):
        p.stop()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-6000:])
        tap.diag("in " + top)
    else:
        pt.cleanup(top)
tap.done()
