#!/usr/bin/env python3
"""t/smtpd-connlimit.t: smtpd_client_connection_count_limit, counted across
all smtpd processes of a service: N sessions from 127.0.0.2 are served,
the next one gets 421 4.7.0 and is closed (and logged); another service is
counted apart; a client in smtpd_client_event_limit_exceptions ($mynetworks,
127.0.0.1) is not counted; the sessions of one smtpd process (many per
process) each hold a slot of their own, and one that ends gives back only
its own; slots come back when their smtpd process is killed; no lock file
is left once all are gone."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

N = 3
tap = pt.Tap()
top = pt.tempdir()
# The limited service runs one smtpd process, so that its sessions share
# it even when the machine is slow to accept.
inst = st.SmtpInstance(top, one_process=["lim"], extra={
    "lim": ["smtpd_client_connection_count_limit=%d" % N],
    "nolim": ["smtpd_client_connection_count_limit=0"],
})
LOCKS = inst.path("queue", "private", "smtpd-conn")


def greet(port, src=st.UNTRUSTED):
    c = st.Smtp(port, src)
    return c, c.greeting


def slot_holders():
    """Pid of each lock file a process holds open (one per slot)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % p):
                if os.readlink("/proc/%s/fd/%s" % (p, fd)).startswith(
                        LOCKS + "/"):
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def test_limit():
    L = inst.port["lim"]
    held = []
    for i in range(N):
        c, g = greet(L)
        tap.is_(g[0], 220, "session %d of %d greeted" % (i + 1, N))
        held.append(c)
    c, g = greet(L)
    tap.is_(g, (421, "421 4.7.0 localhost Error: too many connections "
                "from 127.0.0.2"), "session %d: 421 4.7.0" % (N + 1))
    tap.ok(c.closed(), "and closed")
    c.close()
    tap.ok(inst.wait_log(r"warning: Connection concurrency limit exceeded: "
                         r"%d from unknown\[127\.0\.0\.2\] for service "
                         r"127\.0\.0\.1:%d" % (N + 1, L)),
           "logged with the service")
    o, g = greet(inst.port["smtp"])
    tap.is_(g[0], 220, "another service counts apart")
    o.close()
    t, g = greet(L, src=st.TRUSTED)
    tap.is_(g[0], 220, "mynetworks client is not counted")
    tap.is_(t.cmd("QUIT")[0], 221, "and is served")
    t.close()

    # A session that ends gives its slot back.
    tap.is_(held[0].cmd("QUIT")[0], 221, "one session quits")
    held[0].close()
    c, g = None, (None, "")
    end = time.monotonic() + 10
    while time.monotonic() < end:
        c, g = greet(L)
        if g[0] == 220:
            break
        c.close()
        time.sleep(0.1)
    tap.is_(g[0], 220, "its slot is free again")
    held[0] = c
    c, g = greet(L)
    tap.is_(g[0], 421, "full again")
    c.close()

    # The sessions share one process; each holds a slot of its own.
    holders = slot_holders()
    tap.is_(len(holders), N, "%d sessions hold a slot" % N)
    tap.is_(len(set(holders)), 1, "in one smtpd process")

    # A killed smtpd gives its slots back (the kernel drops its locks).
    victim = holders[0] if holders else None
    tap.ok(victim is not None, "found a busy smtpd to kill")
    if victim is not None:
        os.kill(victim, signal.SIGKILL)
    for c in held:
        c.close()
    held = []
    end = time.monotonic() + 10
    while time.monotonic() < end and len(held) < N:
        c, g = greet(L)
        if g[0] == 220:
            held.append(c)
            continue
        c.close()
        time.sleep(0.1)
    tap.is_(len(held), N, "a killed process's slots are free again")
    c, g = greet(L)
    tap.is_(g[0], 421, "and counted again")
    c.close()

    for c in held:
        c.close()
    end = time.monotonic() + 10
    while time.monotonic() < end and os.listdir(LOCKS):
        time.sleep(0.1)
    tap.is_(os.listdir(LOCKS), [], "no lock file left once all are gone")


def test_unlimited():
    U = inst.port["nolim"]
    held = [greet(U) for _ in range(N + 2)]
    tap.is_([g[0] for _, g in held], [220] * (N + 2),
            "limit 0: no limit")
    for c, _ in held:
        c.close()


try:
    inst.start()
    test_limit()
    test_unlimited()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
