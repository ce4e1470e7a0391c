#!/usr/bin/env python3
"""t/smtpd-multi.t: many SMTP sessions in one smtpd process (the service's
maxproc is 1, so every session below shares one process): as many
sessions as one process takes (10) are served at once, and a service
without a process limit puts more in a second process; a session waiting for the auth daemon's
delayed answer to a wrong password (0.5 s and more) does not hold up
another session's whole transaction, whose recipient is itself checked
through the auth daemon; commands pipelined behind a waiting AUTH or RCPT
are answered after it, in order; a session that leaves while it waits does
not disturb the others; the error sleep holds only its own session."""

import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
B64_WRONG = "AGFsaWNlAHdyb25n"   # "\0alice\0wrong"
B64_RIGHT = "AGFsaWNlAHB3LWFsaWNl"  # "\0alice\0pw-alice"


class MultiInstance(st.SmtpInstance):
    """One auth process (one failure table) and one process for each of
    the "one" and "sleepy" smtpd services."""

    def __init__(self, parent, **kw):
        super().__init__(parent, one_process=["one", "sleepy"], **kw)
        self.orig_master = re.sub(r"(?m)^auth .*$", "auth unix - - n - 1 auth",
                                  self.orig_master)
        self.assign_ports()


inst = MultiInstance(top, name="multi", extra={
    "one": ["smtpd_sasl_auth_enable=yes", "smtpd_tls_auth_only=no",
            "recipient_delimiter=+",
            "smtpd_relay_restrictions=permit_mynetworks,"
            "permit_sasl_authenticated,reject_unauth_destination"],
    "sleepy": ["smtpd_error_sleep_time=2s", "smtpd_soft_error_limit=0"],
})


def smtpd_pids(svc):
    """Pids of the running smtpd processes of service svc."""
    name = ("127.0.0.1:%d" % inst.port[svc]).encode()
    pids = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"smtpd") and name in argv:
            pids.append(int(p))
    return pids


def test_many():
    # One process takes SMTPD_PROCESS_CAPACITY (10) sessions; the master
    # starts another for more.
    port = inst.port["one"]
    held = [st.Smtp(port) for _ in range(10)]
    tap.is_(sorted(set(c.greeting[0] for c in held)), [220],
            "10 sessions at once, all greeted by one process")
    tap.is_(sorted(set(c.cmd("EHLO c%d.test" % i)[0]
                       for i, c in enumerate(held))), [250],
            "and all served")
    tap.is_(len(smtpd_pids("one")), 1, "one smtpd process")
    for c in held:
        c.close()
    held = [st.Smtp(inst.port["smtp"]) for _ in range(15)]
    tap.is_(sorted(set(c.cmd("EHLO c%d.test" % i)[0]
                       for i, c in enumerate(held))), [250],
            "15 sessions on a service without a process limit")
    tap.is_(len(smtpd_pids("smtp")), 2, "in two processes")
    for c in held:
        c.close()


def slow_auth(result):
    """A session that gets the delayed failure: AUTH, reply, time."""
    c = st.Smtp(inst.port["one"], src="127.0.0.3")
    c.cmd("EHLO slow.test")
    t = time.monotonic()
    result["reply"] = c.cmd("AUTH PLAIN " + B64_WRONG)
    result["time"] = time.monotonic() - t
    result["end"] = time.monotonic()
    c.close()


def test_delayed_failure():
    port = inst.port["one"]
    # Two failures first: the daemon's delay for 127.0.0.3 grows (0.5 s,
    # 1 s, then 2 s).
    for _ in range(2):
        r = {}
        slow_auth(r)
    tap.ok(r["time"] >= 0.8, "the auth daemon delays a repeated failure "
           "(%.2f s)" % r["time"])
    result = {}
    th = threading.Thread(target=slow_auth, args=(result,))
    th.start()
    time.sleep(0.2)  # the AUTH is out, its answer held back
    t = time.monotonic()
    out = st.transaction(port, "x@example.com", ["alice+tag@localhost",
                                                 "alice@localhost"],
                         "Subject: t\r\n\r\nhi\r\n.\r\n", ehlo="fast.test")
    dt = time.monotonic() - t
    done = time.monotonic()
    th.join()
    tap.is_([o[0] for o in out], [250, 250, 250, 250, 354, 250],
            "another session's transaction in the same process")
    tap.ok(dt < 0.8, "was not held up by the waiting AUTH (%.2f s)" % dt)
    tap.ok(done < result["end"],
           "and ended before the AUTH was answered")
    tap.is_(result["reply"][0], 535, "the waiting session got its 535")
    tap.ok(result["time"] >= 1.5, "after the daemon's delay (%.2f s)" %
           result["time"])


def test_pipelined():
    c = st.Smtp(inst.port["one"], src="127.0.0.4")
    c.cmd("EHLO pipe.test")
    c.send("AUTH PLAIN %s\r\nMAIL FROM:<x@example.com>\r\n"
           "RCPT TO:<alice@localhost>\r\nRCPT TO:<nobody@localhost>\r\n"
           "RCPT TO:<alice+x@localhost>\r\nRSET\r\nAUTH PLAIN %s\r\n"
           "NOOP\r\n" % (B64_WRONG, B64_RIGHT))
    got = [r[0] for r in c.replies(8)]
    tap.is_(got, [535, 250, 250, 550, 250, 250, 235, 250],
            "pipelined behind AUTH and RCPT checks: answered in order")
    c.close()
    # A session that leaves while its AUTH waits.
    c = st.Smtp(inst.port["one"], src="127.0.0.4")
    c.cmd("EHLO gone.test")
    c.send("AUTH PLAIN %s\r\n" % B64_WRONG)
    c.close()
    out = st.transaction(inst.port["one"], "x@example.com",
                         ["alice@localhost"], "Subject: t\r\n\r\nhi\r\n.\r\n")
    tap.is_([o[0] for o in out], [250, 250, 250, 354, 250],
            "a session that left while waiting disturbs nobody")
    time.sleep(2.5)
    out = st.transaction(inst.port["one"], "x@example.com",
                         ["alice@localhost"], "Subject: t\r\n\r\nhi\r\n.\r\n")
    tap.is_([o[0] for o in out], [250, 250, 250, 354, 250],
            "nor does its late answer")


def test_error_sleep():
    port = inst.port["sleepy"]
    a = st.Smtp(port)
    a.cmd("EHLO a.test")
    a.send("FOO\r\n")
    tap.is_(a.reply()[0], 502, "an error")
    a.send("NOOP\r\n")  # waits out smtpd_error_sleep_time
    t = time.monotonic()
    out = st.transaction(port, "x@example.com", ["alice@localhost"],
                         "Subject: t\r\n\r\nhi\r\n.\r\n")
    dt = time.monotonic() - t
    tap.is_([o[0] for o in out], [250, 250, 250, 354, 250],
            "another session meanwhile")
    tap.ok(dt < 1.0, "is not held by the error sleep (%.2f s)" % dt)
    t = time.monotonic()
    tap.is_(a.reply()[0], 250, "the sleeping session goes on")
    tap.ok(time.monotonic() - t > 0.5, "after its sleep")
    a.close()


try:
    inst.start()
    r = pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user", "add",
                           "alice@localhost"], input="pw-alice\n",
                          capture_output=True, text=True, timeout=30)
    tap.is_(r.returncode, 0, "user alice added")
    test_many()
    test_delayed_failure()
    test_pipelined()
    test_error_sleep()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
