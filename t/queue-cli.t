#!/usr/bin/env python3
"""t/queue-cli.t: `postern queue` on queue files written by the test (no
daemons): list byte for byte in Postfix's mailq layout (marks, columns,
reason lines from defer/ID, recipients, trailer) and as postqueue -j JSON
Lines, the same bytes from mailq and sendmail -bp, sysexits exit codes;
show (envelope, per-recipient status and reason, header and body); delete,
requeue, hold, release by ID, ALL, stdin and queue, and their safety:
a message being delivered (locked in active/) or written (locked in
incoming/) is never touched; flush, requeue and release wake qmgr."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import fcntl

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402

SENDMAIL = os.path.join(pt.TOP_BUILDDIR, "cli", "sendmail")
ENV = dict(os.environ, TZ="UTC")
tap = pt.Tap()
top = pt.tempdir()
inst = pt.Instance(top)
Q = inst.path("queue")


def qfile(queue, qid, usec, sender, rcpts, content, state=0, mark=True):
    """Writes a version 1 queue file (doc/queue.md, section 3)."""
    def rec(t, v):
        return t + struct.pack("<H", len(v)) + v
    env = rec(b"T", struct.pack("<Q", usec)) + rec(b"S", sender.encode())
    for a, st in rcpts:
        env += rec(b"R", bytes([ord(st), 0]) + a.encode())
    env += rec(b"M", b"")
    data = (b"POSTERNQ" + struct.pack("<HBBI", 1, state, 0, len(env)) +
            qid.encode() + env + content + b"QEND" +
            struct.pack("<IQ", 0, len(content)))
    path = os.path.join(Q, queue, qid)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o700 if mark else 0o600)
    return path


def defer_log(qid, entries, log="defer"):
    with open(os.path.join(Q, log, qid), "wb") as f:
        for rcpt, status, reason in entries:
            f.write(b"\nrecipient=%s\nstatus=%s\naction=delayed\n"
                    b"reason=%s\n" % (rcpt.encode(), status.encode(), reason))


def queue(*args, stdin=b"", user=None):
    return subprocess.run([pt.POSTERN, "-c", inst.dir, "queue"] + list(args),
                          input=stdin, capture_output=True, env=ENV,
                          preexec_fn=user)


def clear():
    for d in ("maildrop", "incoming", "active", "deferred", "hold",
              "corrupt", "defer", "bounce"):
        for n in os.listdir(os.path.join(Q, d)):
            os.unlink(os.path.join(Q, d, n))


def ids(q):
    return sorted(os.listdir(os.path.join(Q, q)))


def test_empty():
    r = queue("list")
    tap.is_((r.returncode, r.stdout), (0, b"Mail queue is empty\n"),
            "empty queue: 'Mail queue is empty', exit 0")
    r = queue("list", "--json")
    tap.is_((r.returncode, r.stdout), (0, b""), "empty queue: no JSON lines")


REASON_A = b"connect to mx.example.net[192.0.2.1]:25: Connection refused"
REASON_B = b"host mx2 said: 451 4.3.0 \x1b[31mtry later\xff"


def fill():
    """Five listed messages, one per queue, plus files listings skip."""
    clear()
    qfile("maildrop", "1GA4GC2000000001", 1700000000000000,
          "user@localhost", [("a@example.net", "R")], b"x" * 100)
    qfile("active", "1GA4GC2000000002", 1700000001000000, "s@example.org",
          [("r1@example.net", "R"), ("r2@example.net", "D")], b"y" * 2048)
    qfile("incoming", "1GA4GC2000000003", 1700000002000000, "",
          [("postmaster@example.org", "R")], b"z" * 10, state=2)
    qfile("deferred", "1GA4GC2000000004", 1700000003999999,
          "\u00e4lice@example.org",
          [("b1@example.net", "R"), ("b2@example.net", "R"),
           ("b3@example.net", "R"), ("b4@example.net", "R"),
           ("b1@example.net", "R"), ("b5@example.net", "F"),
           ("b6@example.net", "D")], b"w" * 5000)
    defer_log("1GA4GC2000000004", [
        ("b2@example.net", "4.0.0", b"an older reason"),
        ("b1@example.net", "4.4.1", REASON_A),
        ("b2@example.net", "4.4.1", REASON_A),
        ("b3@example.net", "4.3.0", REASON_B),
        ("b6@example.net", "4.4.1", b"delivered since")])
    qfile("hold", "1GA4GC2000000005", 1699250000000000, "h@example.org",
          [("h@example.net", "R")], b"v", state=2)
    qfile("deferred", "1GA4GC2000000006", 1700000005000000, "i@example.org",
          [("i@example.net", "R")], b"incomplete", mark=False)
    with open(os.path.join(Q, "deferred", "1GA4GC2000000007"), "wb") as f:
        f.write(b"not a queue file")
    os.chmod(os.path.join(Q, "deferred", "1GA4GC2000000007"), 0o700)
    with open(os.path.join(Q, "deferred", "README"), "w") as f:
        f.write("not a queue ID\n")


def row(qid, size, when, who):
    return "%-17s %8s %-19s %s\n" % (qid, size, when, who)


def why(text):
    return " " * (76 - len(text)) + "(" + text + ")\n"


def rcpt(a):
    return " " * 47 + a + "\n"


def expected_mailq():
    return (
        "----Queue ID----- --Size-- ---Arrival Time---- "
        "--Sender/Recipient------\n" +
        row("1GA4GC2000000001", 100, "Tue Nov 14 22:13:20",
            "user@localhost") + rcpt("a@example.net") + "\n" +
        row("1GA4GC2000000002*", 2048, "Tue Nov 14 22:13:21",
            "s@example.org") + rcpt("r1@example.net") + "\n" +
        row("1GA4GC2000000003#", 10, "Tue Nov 14 22:13:22",
            "MAILER-DAEMON") + rcpt("postmaster@example.org") + "\n" +
        row("1GA4GC2000000004", 5000, "Tue Nov 14 22:13:23",
            "\u00e4lice@example.org") +
        why(REASON_A.decode()) + rcpt("b1@example.net") +
        rcpt("b2@example.net") +
        why("host mx2 said: 451 4.3.0 ?[31mtry later?") +
        rcpt("b3@example.net") + why("reason unavailable") +
        rcpt("b4@example.net") + "\n" +
        row("1GA4GC2000000005!#", 1, "Mon Nov  6 05:53:20",
            "h@example.org") + rcpt("h@example.net") + "\n" +
        "-- 6 Kbytes in 5 Requests.\n")


def test_list():
    fill()
    r = queue("list")
    tap.is_(r.returncode, 0, "list: exit 0")
    got = r.stdout.decode(errors="replace")
    want = expected_mailq()
    tap.is_(got, want, "list: Postfix's long-ID mailq layout byte for byte")
    if got != want:
        for a, b in zip(got.splitlines(), want.splitlines()):
            if a != b:
                tap.diag("first difference:\n got: %r\nwant: %r" % (a, b))
                break
    line = [x for x in got.splitlines() if x.endswith("refused)")]
    tap.ok(len(line) == 1 and len(line[0]) == 78 and line[0][0] == " ",
           "  the reason line is right-aligned to column 78")
    r2 = subprocess.run([SENDMAIL, "-C", inst.dir, "-bp"],
                        capture_output=True, env=ENV)
    tap.is_((r2.returncode, r2.stdout), (0, r.stdout),
            "sendmail -bp prints the same bytes")
    link = os.path.join(top, "mailq")
    if not os.path.exists(link):
        os.symlink(SENDMAIL, link)
    r3 = subprocess.run([link, "-C", inst.dir], capture_output=True, env=ENV)
    tap.is_((r3.returncode, r3.stdout), (0, r.stdout),
            "mailq prints the same bytes")


def test_json():
    fill()
    r = queue("list", "--json")
    tap.is_(r.returncode, 0, "--json: exit 0")
    lines = r.stdout.decode().splitlines()
    tap.is_(len(lines), 5, "--json: one line per message")
    want0 = ('{"queue_name": "maildrop", "queue_id": "1GA4GC2000000001", '
             '"arrival_time": 1700000000, "message_size": 100, '
             '"forced_expire": false, "sender": "user@localhost", '
             '"recipients": [{"address": "a@example.net"}]}')
    tap.is_(lines[0] if lines else "", want0,
            "--json: postqueue -j members and spacing, byte for byte")
    try:
        objs = [json.loads(x) for x in lines]
    except ValueError as e:
        objs = []
        tap.diag(str(e))
    tap.is_(len(objs), 5, "--json: every line parses as JSON")
    if len(objs) < 5:
        return
    tap.is_([(o["queue_name"], o["forced_expire"]) for o in objs],
            [("maildrop", False), ("active", False), ("incoming", True),
             ("deferred", False), ("hold", True)],
            "--json: queue_name and forced_expire")
    tap.is_(objs[2]["sender"], "MAILER-DAEMON",
            "--json: the null sender as MAILER-DAEMON")
    tap.is_(objs[3]["arrival_time"], 1700000003,
            "--json: arrival_time in whole seconds")
    tap.is_(objs[3]["recipients"],
            [{"address": "b1@example.net",
              "delay_reason": REASON_A.decode()},
             {"address": "b2@example.net",
              "delay_reason": REASON_A.decode()},
             {"address": "b3@example.net",
              "delay_reason": "host mx2 said: 451 4.3.0 \x1b[31mtry later?"},
             {"address": "b4@example.net"}],
            "--json: pending recipients once each, latest delay_reason, "
            "control characters escaped, bad UTF-8 as '?'")
    tap.ok("\\u001B" in lines[3], "--json: ESC written as \\u001B")
    defer_log("1GA4GC2000000005", [("h@example.net", "4.0.0", b"r" * 6000)])
    r = queue("list", "--json")
    o = json.loads(r.stdout.decode().splitlines()[4])
    tap.is_(len(o["recipients"][0].get("delay_reason", "")), 4096 - 7,
            "a defer log line is cut at 4096 bytes")


def test_exit_codes():
    fill()
    big = []
    for i in range(300):
        big.append(qfile("deferred", "1GA4GC21%08d" % i, 1700000000000000,
                         "s@example.org", [("r@example.net", "R")], b"x"))
    p = subprocess.Popen("'%s' -c '%s' queue list | head -1 >/dev/null; "
                         "echo ${PIPESTATUS[0]}" % (pt.POSTERN, inst.dir),
                         shell=True, executable="/bin/bash",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=60)
    tap.is_(out.strip(), b"0", "a reader that goes away (| head) is no error")
    for path in big:
        os.unlink(path)
    r = queue("list", "--bogus")
    tap.is_(r.returncode, 64, "unknown option: EX_USAGE 64")
    if os.getuid() == 0:
        def nobody():
            os.setgid(65534)
            os.setuid(65534)
        r = queue("list", user=nobody)
    else:
        os.chmod(os.path.join(Q, "active"), 0)
        r = queue("list")
        os.chmod(os.path.join(Q, "active"), 0o700)
    tap.is_(r.returncode, 77, "queue not readable: EX_NOPERM 77")
    tap.like(r.stderr.decode(), r"Permission denied", "  and says why")
    saved = Q + ".away"
    os.rename(Q, saved)
    r = queue("list")
    os.rename(saved, Q)
    tap.is_(r.returncode, 69, "no queue directory: EX_UNAVAILABLE 69")


def test_show():
    fill()
    r = queue("show", "1GA4GC2000000004*")
    out = r.stdout.decode(errors="replace")
    tap.is_(r.returncode, 0, "show: exit 0 (mailq's marks accepted)")
    tap.like(out, r"^\*\*\* ENVELOPE RECORDS deferred/1GA4GC2000000004 "
             r"\*\*\*\n", "show: envelope heading names queue and ID")
    tap.like(out, r"\nmessage_arrival_time: Tue Nov 14 22:13:23 2023\n",
             "show: arrival time")
    tap.like(out, r"\nrecipient: b2@example\.net\nrecipient_status: pending\n"
             r"delay_reason: 4\.4\.1 connect to mx\.example\.net",
             "show: a pending recipient with its latest reason")
    tap.like(out, r"\nrecipient: b5@example\.net\nrecipient_status: failed\n",
             "show: a failed recipient")
    tap.like(out, r"\nrecipient: b6@example\.net\nrecipient_status: done\n",
             "show: a delivered recipient")
    qfile("deferred", "1GA4GC2000000008", 1700000000000000, "s@example.org",
          [("r@example.net", "R")],
          b"Subject: hi\r\nX-A: 1\r\n\r\nline 1\r\n\r\nline 3\r\n")
    r = queue("show", "1GA4GC2000000008")
    tap.like(r.stdout.decode(), r"\*\*\* MESSAGE CONTENTS deferred/"
             r"1GA4GC2000000008 \*\*\*\nSubject: hi\nX-A: 1\n\nline 1\n\n"
             r"line 3\n\*\*\* MESSAGE FILE END deferred/1GA4GC2000000008 "
             r"\*\*\*\n$", "show: the content with LF line ends")
    r = queue("show", "-h", "1GA4GC2000000008")
    tap.like(r.stdout.decode(), r"\*\*\*\nSubject: hi\nX-A: 1\n\*\*\* MESSAGE"
             r" FILE END", "show -h: the header only")
    r = queue("show", "-b", "1GA4GC2000000008")
    tap.like(r.stdout.decode(), r"\*\*\*\nline 1\n\nline 3\n\*\*\* MESSAGE "
             r"FILE END", "show -b: the body only")
    r = queue("show", "-e", "1GA4GC2000000008")
    tap.ok("MESSAGE CONTENTS" not in r.stdout.decode() and
           "recipient: r@example.net" in r.stdout.decode(),
           "show -e: the envelope only")
    r = queue("show", "1GA4GC200000000Z")
    tap.is_(r.returncode, 66, "show: unknown ID: EX_NOINPUT 66")
    r = queue("show", "1ga4gc2000000008")
    tap.is_(r.returncode, 64, "show: not a queue ID: EX_USAGE 64")
    r = queue("show", "1GA4GC2000000007")
    tap.is_(r.returncode, 70, "show: a file that is not a queue file: 70")


def wait_trigger(srv, got):
    try:
        c, _ = srv.accept()
        c.settimeout(5)
        got.append(c.recv(16))
        c.close()
    except OSError:
        pass


def with_qmgr(fn):
    """Runs fn() with a fake qmgr on public/qmgr; returns (result, byte)."""
    path = os.path.join(Q, "public", "qmgr")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(5)
    srv.settimeout(5)
    got = []
    t = threading.Thread(target=wait_trigger, args=(srv, got))
    t.start()
    try:
        r = fn()
    finally:
        t.join()
        srv.close()
        os.unlink(path)
    return r, got[0] if got else b""


def test_edit():
    fill()
    r = queue("hold", "1GA4GC2000000004")
    tap.is_(r.returncode, 0, "hold ID: exit 0")
    tap.ok("1GA4GC2000000004" in ids("hold") and
           "1GA4GC2000000004" not in ids("deferred"), "  now in hold/")
    tap.like(r.stderr.decode(), r"1GA4GC2000000004: placed on hold\n.*"
             r"Placed on hold: 1 message\n", "  and reported as postsuper")
    r = queue("list")
    tap.like(r.stdout.decode(), r"\n1GA4GC2000000004! ", "  '!' in the list")
    os.utime(os.path.join(Q, "hold", "1GA4GC2000000004"), (1, 1))
    r, byte = with_qmgr(lambda: queue("release", "1GA4GC2000000004!"))
    tap.is_(r.returncode, 0, "release ID: exit 0")
    tap.ok("1GA4GC2000000004" in ids("deferred"), "  back in deferred/")
    st = os.stat(os.path.join(Q, "deferred", "1GA4GC2000000004"))
    tap.ok(abs(st.st_mtime - time.time()) < 60, "  due now (mtime)")
    tap.is_(byte, b"D", "  qmgr told to scan deferred/ ('D')")
    r, byte = with_qmgr(lambda: queue("requeue", "1GA4GC2000000004"))
    tap.ok(r.returncode == 0 and "1GA4GC2000000004" in ids("incoming"),
           "requeue ID: moved to incoming/")
    tap.is_(byte, b"W", "  qmgr woken ('W')")
    for n in ("1GA4GC2000000006", "1GA4GC2000000007", "README"):
        os.unlink(os.path.join(Q, "deferred", n))
    r = queue("hold", "ALL")
    tap.ok(r.returncode == 0 and ids("hold") == [
        "1GA4GC2000000002", "1GA4GC2000000003", "1GA4GC2000000004",
        "1GA4GC2000000005"],
        "hold ALL: incoming, deferred and (not being delivered) active")
    tap.like(r.stderr.decode(), r"Placed on hold: 3 messages",
             "  summary counts them")
    qfile("deferred", "1GA4GC2000000006", 1700000005000000, "i@example.org",
          [("i@example.net", "R")], b"incomplete", mark=False)
    r = queue("hold", "1GA4GC2000000006")
    tap.ok(r.returncode == 70 and ids("deferred") == ["1GA4GC2000000006"],
           "a file without the completion mark is not moved (70)")
    r = queue("release", "ALL", "deferred")
    tap.is_(r.returncode, 64, "release from deferred/: EX_USAGE 64")
    r = queue("delete", "all")
    tap.is_(r.returncode, 64, "ALL must be upper case")
    r = queue("delete", "1GA4GC200000000Z")
    tap.is_(r.returncode, 66, "delete of an unknown ID: EX_NOINPUT 66")
    r = queue("delete", "-", stdin=b"1GA4GC2000000003!\n\n  1GA4GC2000000005"
              b"  \n")
    tap.ok(r.returncode == 0 and ids("hold") == ["1GA4GC2000000002",
                                                 "1GA4GC2000000004"],
           "delete -: IDs from standard input")
    r = queue("delete", "ALL", "deferred")
    tap.ok(r.returncode == 0 and ids("deferred") == [] and
           len(ids("hold")) == 2,
           "delete ALL deferred: only there (incomplete files too)")
    tap.is_(ids("defer"), ["1GA4GC2000000004"], "  defer/ID of held mail kept")
    r = queue("delete", "1GA4GC2000000004", "1GA4GC2000000002")
    tap.ok(r.returncode == 0 and ids("hold") == [] and ids("defer") == [],
           "delete ID ID: the messages and their defer/ID log gone")
    tap.like(r.stderr.decode(), r"Deleted: 2 messages\n$", "  summary")


def test_busy():
    """A message in active/ under qmgr's shared lock is being delivered;
    one in incoming/ under its writer's exclusive lock is being written."""
    clear()
    a = qfile("active", "1GA4GC2000000011", 1700000000000000, "s@x.org",
              [("r@example.net", "R")], b"x")
    i = qfile("incoming", "1GA4GC2000000012", 1700000000000000, "s@x.org",
              [("r@example.net", "R")], b"x")
    fa = open(a, "rb")
    fcntl.flock(fa, fcntl.LOCK_SH)
    fi = open(i, "rb")
    fcntl.flock(fi, fcntl.LOCK_EX)
    for op in ("delete", "hold", "requeue"):
        r = queue(op, "1GA4GC2000000011")
        tap.is_(r.returncode, 75, "%s of a message being delivered: "
                "EX_TEMPFAIL 75" % op)
    tap.ok(os.path.exists(a), "  it stays in active/")
    tap.like(r.stderr.decode(), r"being delivered", "  and says why")
    t0 = time.monotonic()
    r = queue("delete", "1GA4GC2000000012")
    tap.ok(r.returncode == 75 and os.path.exists(i),
           "delete of a message still being written: 75, kept")
    tap.ok(time.monotonic() - t0 < 10, "  after a bounded wait")
    r = queue("delete", "ALL")
    tap.is_(r.returncode, 75, "delete ALL with busy messages: 75")
    tap.ok(os.path.exists(a) and os.path.exists(i), "  busy ones kept")
    fcntl.flock(fa, fcntl.LOCK_UN)
    fcntl.flock(fi, fcntl.LOCK_UN)
    r = queue("delete", "ALL")
    tap.ok(r.returncode == 0 and not os.path.exists(a) and
           not os.path.exists(i), "once unlocked, delete ALL removes them")
    fa.close()
    fi.close()


def test_flush():
    r, byte = with_qmgr(lambda: queue("flush"))
    tap.is_(r.returncode, 0, "flush: exit 0")
    tap.is_(byte, b"A", "flush: qmgr gets the force trigger 'A'")
    r, byte = with_qmgr(lambda: subprocess.run(
        [pt.POSTERN, "-c", inst.dir, "flush"], capture_output=True))
    tap.ok(r.returncode == 0 and byte == b"A",
           "postern flush: the same (as postfix flush)")
    r = queue("flush")
    tap.is_(r.returncode, 69, "flush with qmgr down: EX_UNAVAILABLE 69")
    tap.like(r.stderr.decode(), r"mail system is down", "  and says so")


try:
    test_empty()
    test_list()
    test_json()
    test_exit_codes()
    test_show()
    test_edit()
    test_busy()
    test_flush()
finally:
    pt.cleanup(top)
tap.done()
