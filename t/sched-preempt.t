#!/usr/bin/env python3
"""t/sched-preempt.t: preemption (default_delivery_slot_cost and
friends). A message with one recipient that comes while a message with
2,000 recipients is being delivered to the same slow destination, one
transaction at a time, is delivered before the big one is done; with
TRANSPORT_delivery_slot_cost = 0 (preemption off, here for a clone of the
smtp service) it waits until the big one is done."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
BIG = 2000
slow = rt.ScriptedPeer(data_delay=0.1)
fifo = rt.ScriptedPeer(data_delay=0.1)
a = rt.RelayInstance(top, "a", "a.test", users=["alice@a.test"],
                     transport="slow.test smtp:[127.0.0.1]:%d\n"
                               "fifo.test fifo:[127.0.0.1]:%d\n"
                               % (slow.port, fifo.port),
                     main={"smtpd_recipient_limit": "3000",
                           "smtp_destination_concurrency_limit": "1",
                           "fifo_destination_concurrency_limit": "1",
                           "fifo_delivery_slot_cost": "0"})
a.orig_master += "fifo unix - - n - - smtp\n"
a.assign_ports()
a.start()
PA = a.port["smtp"]
BODY = b"Subject: preempt\r\n\r\nbody\r\n.\r\n"


def position(peer, domain):
    """(index of the small message's transaction, transactions so far)."""
    rcpts = [t[1] for t in peer.transactions]
    for i, r in enumerate(rcpts):
        if r == ["<small@%s>" % domain]:
            return i, len(rcpts)
    return None, len(rcpts)


def run(peer, domain):
    big = rt.send(PA, "alice@a.test",
                  ["r%d@%s" % (i, domain) for i in range(BIG)], BODY)
    end = time.monotonic() + 20
    while time.monotonic() < end and len(peer.transactions) < 3:
        time.sleep(0.05)
    small = rt.send(PA, "alice@a.test", ["small@" + domain], BODY)
    r = a.wait_result(small, "small@" + domain, 30)
    last = a.wait_result(big, "r%d@%s" % (BIG - 1, domain), 30)
    return big != "none" and r is not None and r["status"] == "sent" and \
        last is not None and last["status"] == "sent"


def test_preempt():
    tap.ok(run(slow, "slow.test"), "both messages sent")
    i, n = position(slow, "slow.test")
    total = BIG // 50 + 1
    tap.is_(n, total, "%d transactions of at most 50 recipients and 1"
            % (total - 1))
    tap.ok(i is not None and i < total // 2,
           "the small message went ahead of the big one (transaction %s "
           "of %d)" % (i, n))


def test_fifo():
    tap.ok(run(fifo, "fifo.test"), "both messages sent (no preemption)")
    i, n = position(fifo, "fifo.test")
    tap.is_(i, n - 1, "slot cost 0: the small message waits for the end")


try:
    test_preempt()
    test_fifo()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    slow.stop()
    fifo.stop()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-6000:])
        tap.diag("in " + top)
    else:
        pt.cleanup(top)
tap.done()
