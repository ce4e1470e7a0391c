#!/usr/bin/env python3
"""t/sched-reuse.t: connection reuse. Messages for one next hop that
follow each other go over one SMTP connection (RSET between them); the log
line marks the reused connection with conn_use=N and carries
delays=a/b/c/d in Postfix's format; an idle connection is closed after
smtp_connection_cache_time_limit, one is used at most
smtp_connection_reuse_count_limit times, and a server that hangs up an
idle session costs a new connection, not a failed delivery."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
peer = rt.ScriptedPeer()
peer2 = rt.ScriptedPeer()
drop = rt.ScriptedPeer(close_after_rset=True)
table = ("reuse.test smtp:[127.0.0.1]:%d\n"
         "limit.test smtplim:[127.0.0.1]:%d\n"
         "drop.test smtp:[127.0.0.1]:%d\n" % (peer.port, peer2.port,
                                              drop.port))
a = rt.RelayInstance(top, "a", "a.test", users=["alice@a.test"],
                     transport=table)
a.orig_master += ("smtplim unix - - n - - smtp\n"
                  "  -o smtp_connection_reuse_count_limit=2\n")
a.assign_ports()
a.start()
PA = a.port["smtp"]
BODY = b"Subject: reuse\r\n\r\nbody\r\n.\r\n"
# Postfix's delay numbers: 2 significant digits, at most 2 decimals
D = r"(?:0|[1-9][0-9]*|[1-9]\.[1-9]|0\.0[1-9]|0\.[1-9][1-9]?)"


def one_by_one(domain, n):
    """n messages, each sent once the one before was delivered."""
    out = []
    for i in range(n):
        rcpt = "m%d@%s" % (i, domain)
        qid = rt.send(PA, "alice@a.test", [rcpt], BODY)
        r = a.wait_result(qid, rcpt, 10)
        out.append((qid, rcpt, r))
    return out


def test_reuse():
    got = one_by_one("reuse.test", 5)
    tap.ok(all(r is not None and r["status"] == "sent" for _, _, r in got),
           "5 messages sent")
    tap.is_(peer.connections, 1, "over one connection")
    tap.is_(peer.rsets, 5, "RSET after each transaction")
    qid, rcpt, _ = got[3]
    pat = (re.escape(qid) + r": to=<" + re.escape(rcpt) +
           r">, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, conn_use=4, "
           r"delay=%s, delays=%s/%s/%s/%s, dsn=2\.0\.0, status=sent "
           r"\(250 2\.0\.0 Ok: queued\)$" % (peer.port, D, D, D, D, D))
    tap.like(a.log(), "(?m)" + pat, "log line: conn_use=4 and delays=")
    qid, rcpt, _ = got[0]
    tap.like(a.log(), r"(?m)%s: to=<%s>, relay=\S+, delay=%s, "
             r"delays=%s/%s/%s/%s, dsn=2\.0\.0, status=sent" % (
                 qid, re.escape(rcpt), D, D, D, D, D),
             "first use: no conn_use")
    time.sleep(3.5)  # past smtp_connection_cache_time_limit (2s)
    got = one_by_one("reuse.test", 1)
    tap.ok(got[0][2] is not None and got[0][2]["status"] == "sent",
           "sent after the idle time")
    tap.is_(peer.connections, 2, "on a new connection")


def test_limits():
    got = one_by_one("limit.test", 4)
    tap.ok(all(r is not None and r["status"] == "sent" for _, _, r in got),
           "4 messages sent")
    tap.is_(peer2.connections, 2, "reuse count limit 2: 2 connections")
    got = one_by_one("drop.test", 3)
    tap.ok(all(r is not None and r["status"] == "sent" for _, _, r in got),
           "server hangs up idle sessions: all 3 sent anyway")
    tap.is_(drop.connections, 3, "each on a new connection")


try:
    test_reuse()
    test_limits()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    for p in (peer, peer2, drop):
        p.stop()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-6000:])
    else:
        pt.cleanup(top)
tap.done()
