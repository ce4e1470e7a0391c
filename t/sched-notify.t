#!/usr/bin/env python3
"""t/sched-notify.t: broken delivery agents. An agent that crashes (takes
the connection and exits without a word) defers its recipients, makes its
transport unavailable for transport_retry_time (logged; the mail that
comes meanwhile is deferred at once, without an attempt per message) and
is tried again after that time. notify_classes: "software" sends the
postmaster (error_notice_recipient) a notice about the crash, "resource"
one about a transport whose agent cannot be started (no such service);
a class that is not listed sends nothing. An agent that never answers
(its process exits before it takes the connection) is a broken one too,
after ipc_timeout."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
RETRY = 4
BODY = b"Subject: broken agent\r\n\r\nbody\r\n.\r\n"
# Takes one connection on the service's listener and exits: a crash
# before the hello, as qmgr sees it.
CRASH = """#!/usr/bin/env python3
import socket, sys
s = socket.socket(fileno=%d)
s.setblocking(True)
c, _ = s.accept()
sys.exit(1)
"""


def instance(name, classes, main=None):
    settings = {"notify_classes": classes,
                "transport_retry_time": "%ds" % RETRY}
    settings.update(main or {})
    inst = rt.RelayInstance(top, name, name + ".test",
                            users=["alice@%s.test" % name,
                                   "postmaster@%s.test" % name],
                            transport="crash.test crash:\n"
                                      "gone.test nosvc:\n"
                                      "hang.test hang:\n",
                            main=settings)
    path = os.path.join(inst.libexec, "crashagent")
    with open(path, "w") as f:
        f.write(CRASH % 4)
    os.chmod(path, 0o755)
    # "fail" is /bin/false: it exits before it takes the connection,
    # which waits in the listen queue for ipc_timeout
    inst.orig_master += ("crash unix - n n - - crashagent\n"
                         "hang unix - n n - - fail\n")
    inst.assign_ports()
    inst.start()
    return inst


a = instance("a", "software")
b = instance("b", "resource", {"ipc_timeout": "3s"})
SUBJECT = "Postmaster Warning: Mail Delivery Problem (%s)"


def notices(inst, cls):
    return [m for m in inst.messages("postmaster@%s.test" % inst_name(inst))
            .values()
            if ("Subject: " + SUBJECT % cls).encode() in m]


def inst_name(inst):
    return os.path.basename(inst.dir)


def wait_notices(inst, cls, n, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(notices(inst, cls)) < n:
        time.sleep(0.1)
    return notices(inst, cls)


def attempts(inst, transport):
    return len(re.findall(r"warning: [0-9A-Z]{16}: delivery agent %s "
                          r"failed: " % transport, inst.log()))


def test_crash_throttle():
    port = a.port["smtp"]
    q1 = rt.send(port, "alice@a.test", ["x@crash.test"], BODY)
    r = a.wait_result(q1, "x@crash.test")
    tap.ok(r is not None and r["status"] == "deferred" and
           r["dsn"] == "4.3.0" and
           r["text"].startswith("delivery agent crash failed: "),
           "a crashed agent: deferred 4.3.0 with the reason (%s)"
           % (r and r["text"]))
    t0 = time.monotonic()
    # logged after the deferral and the postmaster's notice
    unavailable = (r"warning: transport crash unavailable for %ds "
                   r"\(transport_retry_time\): delivery agent crash failed: "
                   % RETRY)
    a.wait_log(unavailable)
    tap.like(a.log(), unavailable, "the transport is logged as unavailable")
    tap.like(a.log(), r"warning: [0-9A-Z]{16}: transport crash failure -- "
             r"see a previous warning/fatal/panic logfile record",
             "Postfix's warning about the transport failure")
    ids = [rt.send(port, "alice@a.test", ["y%d@crash.test" % i], BODY)
           for i in range(5)]
    rs = [a.wait_result(q, "y%d@crash.test" % i, 5)
          for i, q in enumerate(ids)]
    tap.ok(all(r is not None and r["status"] == "deferred" and
               r["text"].startswith("delivery agent crash failed: ")
               for r in rs), "mail for it meanwhile: deferred at once")
    if time.monotonic() - t0 < RETRY - 0.5:
        tap.is_(attempts(a, "crash"), 1,
                "no attempt per message while it is unavailable")
    else:
        tap.skip("no attempt per message", "the host was too slow")
    end = time.monotonic() + 3 * RETRY
    while time.monotonic() < end and attempts(a, "crash") < 2:
        time.sleep(0.1)
    took = time.monotonic() - t0
    tap.ok(attempts(a, "crash") >= 2 and took > RETRY - 1,
           "tried again after transport_retry_time (%.1f s)" % took)
    tap.like(a.log(), r"transport crash: trying again",
             "the end of the throttle is logged")


def test_notices():
    got = wait_notices(a, "software", 1)
    tap.ok(len(got) >= 1, "notify_classes software: the postmaster is told")
    text = got[0].decode(errors="replace") if got else ""
    tap.like(text, r"Problem: delivery agent crash failed: ",
             "the notice says what failed")
    tap.like(text, r"Queue ID: [0-9A-Z]{16}\r?\nSender: <alice@a\.test>",
             "and for which message")
    tap.ok(len(got) <= 2, "not one per message (%d)" % len(got))
    # a resource problem: no agent for the transport at all
    q = rt.send(a.port["smtp"], "alice@a.test", ["x@gone.test"], BODY)
    r = a.wait_result(q, "x@gone.test")
    tap.ok(r is not None and r["status"] == "deferred" and
           "connect to transport private/nosvc: " in r["text"],
           "no such service: deferred (%s)" % (r and r["text"]))
    a.wait_log(r"warning: transport nosvc unavailable for")
    tap.like(a.log(), r"warning: transport nosvc unavailable for",
             "that transport is unavailable too")
    time.sleep(1)
    tap.is_(len(notices(a, "resource")), 0,
            "resource is not listed: no notice for it")

    qb = rt.send(b.port["smtp"], "alice@b.test", ["x@crash.test"], BODY)
    b.wait_result(qb, "x@crash.test")
    qb = rt.send(b.port["smtp"], "alice@b.test", ["x@gone.test"], BODY)
    b.wait_result(qb, "x@gone.test")
    got = wait_notices(b, "resource", 1)
    tap.ok(len(got) == 1 and b"connect to transport private/nosvc" in
           got[0], "notify_classes resource: a notice for the missing agent")
    tap.is_(len(notices(b, "software")), 0,
            "software is not listed: no notice for the crash")


def test_no_answer():
    q = rt.send(b.port["smtp"], "alice@b.test", ["x@hang.test"], BODY)
    r = b.wait_result(q, "x@hang.test", 15)
    tap.ok(r is not None and r["status"] == "deferred" and
           r["text"] == "delivery agent hang failed: timeout",
           "an agent that never answers: deferred after ipc_timeout (%s)"
           % (r and r["text"]))
    b.wait_log(r"warning: transport hang unavailable for %ds" % RETRY)
    tap.like(b.log(), r"warning: transport hang unavailable for %ds"
             % RETRY, "and its transport is unavailable")


try:
    test_crash_throttle()
    test_notices()
    test_no_answer()
    tap.is_(a.sanitizer_reports() + b.sanitizer_reports(), [],
            "no sanitizer reports")
finally:
    a.stop_quietly()
    b.stop_quietly()
    if tap.failed:
        tap.diag("log a:\n" + a.log()[-6000:])
        tap.diag("log b:\n" + b.log()[-4000:])
        tap.diag("in " + top)
    else:
        pt.cleanup(top)
tap.done()
