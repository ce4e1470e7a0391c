#!/usr/bin/env python3
"""t/smtpd-commit.t: the queue file's fsyncs do not hold the smtpd process.
smtpd runs here with an LD_PRELOAD shim (t/svc/fsync_delay.so) that makes
each of its fsync() calls 300 ms slower, as on a slow disk; one smtpd
process (maxproc 1) serves every session. Six sessions that end their
messages at once all get their 250 in about two fsync delays (the commits
overlap, and their folder fsyncs are shared), not in twelve, as when each
commit held the process; a session in the process is answered at once
while commits wait; commands pipelined behind the end of data are
answered after its 250, in order; every message is in the queue, complete
(the execute bit set), and a client that leaves before its 250 does not
lose its message."""

import os
import re
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

DELAY = 0.3
os.environ["LD_PRELOAD"] = os.path.join(pt.TOP_BUILDDIR, "t", "svc",
                                        "fsync_delay.so")
os.environ["FSYNC_DELAY_MS"] = str(int(DELAY * 1000))
# A shared libasan (gcc) wants to come first in the library list.
os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                              ":verify_asan_link_order=0").lstrip(":")

tap = pt.Tap()
top = pt.tempdir()


inst = st.SmtpInstance(top, name="commit", one_process=["smtp"])
BODY = "Subject: commit test\r\n\r\nhello\r\n.\r\n"


def up_to_data(c, i):
    """EHLO, MAIL, RCPT, DATA, the content but not the final dot."""
    replies = [c.cmd("EHLO c%d.test" % i),
               c.cmd("MAIL FROM:<s%d@example.com>" % i),
               c.cmd("RCPT TO:<alice@localhost>"), c.cmd("DATA")]
    c.send("Subject: commit %d\r\n\r\nhello\r\n" % i)
    return [r[0] for r in replies]


def test_overlap():
    port = inst.port["smtp"]
    sessions = [st.Smtp(port, timeout=20) for _ in range(6)]
    codes = [up_to_data(c, i) for i, c in enumerate(sessions)]
    tap.is_(sorted(set(tuple(x) for x in codes)), [(250, 250, 250, 354)],
            "six transactions up to the content")
    result = [None] * 6
    start = time.monotonic()

    def finish(i):
        sessions[i].send(".\r\n")
        result[i] = (sessions[i].reply(), time.monotonic() - start)

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(DELAY / 2)
    # Meanwhile another session in the same process is served at once.
    other = st.Smtp(port, timeout=20)
    t0 = time.monotonic()
    other_ehlo = other.cmd("EHLO other.test")
    other_time = time.monotonic() - t0
    for t in threads:
        t.join()
    codes = [r[0][0] for r in result]
    slowest = max(r[1] for r in result)
    tap.is_(codes, [250] * 6, "all six queued")
    # Held one after the other: 6 x (file + folder) = 12 delays (3.6 s).
    tap.ok(slowest < 6 * DELAY,
           "the last 250 after %.2f s (< %.1f s: commits overlap)" %
           (slowest, 6 * DELAY))
    tap.ok(slowest >= 2 * DELAY * 0.9,
           "but not before the fsyncs were done (%.2f s)" % slowest)
    tap.is_(other_ehlo[0], 250, "a session in the same process meanwhile")
    # Held behind the commits it would wait seconds (the old way: 3.6 s).
    tap.ok(other_time < 1.0,
           "answered at once (%.2f s), not after the commits" % other_time)
    other.close()
    ids = set(re.search(r"queued as (\w+)", r[0][1]).group(1)
              for r in result)
    tap.is_(len(ids), 6, "six queue IDs")
    return sessions, ids


def test_pipelined(sessions):
    # After the dot: RSET, NOOP and a whole transaction, in one write.
    c = sessions[0]
    c.cmd("RSET")
    up_to_data(c, 10)
    c.send(".\r\nRSET\r\nNOOP\r\nMAIL FROM:<p@example.com>\r\n"
           "RCPT TO:<alice@localhost>\r\nDATA\r\n")
    got = [r[0] for r in c.replies(6)]
    tap.is_(got, [250, 250, 250, 250, 250, 354],
            "pipelined commands answered after the 250, in order")
    c.send(BODY)
    tap.is_(c.reply()[0], 250, "and their message queued")


def test_leave_early():
    before = set(inst.queue_ids())
    c = st.Smtp(inst.port["smtp"], timeout=20)
    up_to_data(c, 20)
    c.send(".\r\nQUIT\r\n")
    c.close()  # gone before the 250
    end = time.monotonic() + 10
    new = set()
    while time.monotonic() < end:
        new = set(inst.queue_ids()) - before
        if new and all(os.stat(inst.path("queue", "incoming", q)).st_mode &
                       stat.S_IXUSR for q in new):
            break
        time.sleep(0.1)
    tap.is_(len(new), 1, "a client gone before its 250: message kept")
    tap.ok(inst.wait_log(r"%s: from=<s20@example.com>, size=\d+, nrcpt=1 "
                         r"\(queued\)" % list(new)[0] if new else "^$"),
           "and logged as queued")


def main():
    inst.start()
    try:
        r = pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user", "add",
                               "alice@localhost"], input="pw-alice\n",
                              capture_output=True, text=True, timeout=30)
        tap.is_(r.returncode, 0, "user alice added")
        sessions, ids = test_overlap()
        for q in ids:
            mode = os.stat(inst.path("queue", "incoming", q)).st_mode
            if not mode & stat.S_IXUSR:
                tap.ok(False, "%s complete" % q)
                break
        else:
            tap.ok(True, "each queue file complete (execute bit)")
        test_pipelined(sessions)
        for c in sessions:
            c.close()
        test_leave_early()
    finally:
        inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    tap.done()


main()
