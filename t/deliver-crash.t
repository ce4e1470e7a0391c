#!/usr/bin/env python3
"""t/deliver-crash.t: crash safety of delivery. 2,000 messages stream in
over SMTP while qmgr and local are killed with SIGKILL again and again, at
random moments (random pauses, a random choice of qmgr, local or both;
the master restarts them), through the load and most of its delivery;
once the kills stop and the queue drains, every accepted message is in
each recipient's Maildir exactly once, counted by Message-ID.
DELIVER_CRASH_COUNT sets the number of messages, DELIVER_CRASH_SEED the
random kill pattern (printed, so that a failure can be replayed)."""

import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402

COUNT = int(os.environ.get("DELIVER_CRASH_COUNT", "2000"))
SEED = int(os.environ.get("DELIVER_CRASH_SEED", str(random.randrange(1 << 30))))
# Kills go on after the load until this share of the copies is delivered
# (or KILL_MAX seconds): most deliveries see the kills.
KILL_UNTIL = 0.9
KILL_MAX = 12.0
SENDERS = 4
USERS = ["alice@localhost", "bob@localhost"]

tap = pt.Tap()
top = pt.tempdir()
inst = dt.DeliverInstance(top, users=USERS,
                          main={"service_throttle_time": "1s"})
inst.start()
P = inst.port["smtp"]
accepted = []
lock = threading.Lock()
sending = True
kills = {"qmgr": 0, "local": 0}


def sender(k):
    for i in range(k, COUNT, SENDERS):
        mid = "<crash-%d@t>" % i
        body = "Message-ID: %s\r\nSubject: %d\r\n\r\nbody %d\r\n.\r\n" % (
            mid, i, i)
        for _ in range(20):
            try:
                qid = dt.send(P, "s@example.org", USERS, body)
            except OSError:
                qid = None
            if qid:
                with lock:
                    accepted.append(mid)
                break
            time.sleep(0.05)


def pids(service):
    st = inst.status()
    return [p for name, s in st.items() if name.split("/")[0] == service
            for p in s["pids"]]


def killer():
    rnd = random.Random(SEED)
    while sending:
        which = rnd.choice((["qmgr"], ["local"], ["local"],
                            ["qmgr", "local"]))
        for service in which:
            for pid in pids(service):
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills[service] += 1
                except ProcessLookupError:
                    pass
        time.sleep(rnd.uniform(0.01, 0.3))


def delivered():
    n = 0
    for u in USERS:
        for sub in ("new", "cur"):
            try:
                n += len(os.listdir(inst.maildir(u, sub)))
            except OSError:
                pass
    return n


def mids(address):
    found = []
    for data in inst.messages(address).values():
        m = re.search(rb"^Message-ID: (\S+)$", data, re.M | re.I)
        found.append(m.group(1).decode() if m else None)
    return found


try:
    t0 = time.monotonic()
    k = threading.Thread(target=killer)
    k.start()
    threads = [threading.Thread(target=sender, args=(n,))
               for n in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_load = time.monotonic() - t0
    # keep killing while the backlog is delivered
    end = time.monotonic() + KILL_MAX
    while (delivered() < KILL_UNTIL * len(accepted) * len(USERS) and
           time.monotonic() < end):
        time.sleep(0.05)
    sending = False
    k.join()
    tap.diag("seed %d: accepted %d of %d in %.1f s; killed qmgr %d times, "
             "local %d times in %.1f s, until %d of %d copies were "
             "delivered" % (SEED, len(accepted), COUNT, t_load, kills["qmgr"],
                            kills["local"], time.monotonic() - t0,
                            delivered(), len(accepted) * len(USERS)))
    tap.is_(len(accepted), COUNT, "every message accepted")
    tap.ok(kills["qmgr"] >= 3 and kills["local"] >= 3,
           "qmgr and local were killed again and again during delivery")
    if not tap.ok(inst.wait_queue_empty(60),
                  "the queue drains after the kills"):
        for q in ("incoming", "active", "deferred"):
            tap.diag("%s: %s" % (q, inst.queue_ids(q)))
    for u in USERS:
        got = mids(u)
        tap.is_(len(set(got)), len(accepted), u + ": no message lost")
        tap.is_(len(got), len(set(got)), u + ": no message duplicated")
        if not tap.ok(set(got) == set(accepted),
                      u + ": exactly the accepted ones"):
            tap.diag("missing: %s" % sorted(set(accepted) - set(got)))
            tap.diag("in %s" % top)
    tap.diag("end to end %.1f s" % (time.monotonic() - t0))
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    sending = False
    inst.stop_quietly()
tap.done()
