#!/usr/bin/env python3
"""t/master-supervise.t: the master replaces a daemon killed with SIGKILL;
throttles a service whose daemon exits at once (doubling back-off, logged
once per back-off, not a crash loop) while the other services keep serving;
lets it recover by itself once the daemon is fixed; starts a new process
after max_use clients; and wakes trigger services on their timer."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = pt.Instance(top)
p_echo, p_fail, p_true, p_use = (pt.free_port() for _ in range(4))
os.symlink("/bin/true", inst.path("libexec", "true"))
inst.add_service("127.0.0.1:%d inet n - n - - echo" % p_echo)
inst.add_service("127.0.0.1:%d inet n - n - - fail" % p_fail)
inst.add_service("127.0.0.1:%d inet n - n - - true" % p_true)
inst.add_service("127.0.0.1:%d inet n - n - - echo -o max_use=2" % p_use)
inst.add_service("trig unix n - n 1 1 echo trigger")


def test_sigkill():
    c = pt.Client(p_echo)
    pid = int(c.ask("PID").split()[1])
    os.kill(pid, signal.SIGKILL)
    tap.is_(c.readline(), "", "the killed daemon's client sees the end")
    c.close()
    tap.ok(inst.wait_log(r"process %d killed by signal 9" % pid),
           "the crash is logged with service, pid and signal")
    c = pt.Client(p_echo)
    tap.is_(c.greeting, "220 test ready", "the service comes back")
    tap.ok(int(c.ask("PID").split()[1]) != pid, "in a new process")
    c.close()
    s = inst.status()["127.0.0.1:%d/inet" % p_echo]
    tap.is_(s["restarts"], 1, "status counts the restart")
    tap.ok("127.0.0.1:%d/inet: bad command" % p_echo not in inst.log(),
           "a crash after serving does not throttle")


def test_throttle():
    waiting = pt.connect(p_fail)
    label = r"127\.0\.0\.1:%d/inet" % p_fail
    tap.ok(inst.wait_log(label + r": process \d+ exit status 1"),
           "the failing daemon's exit is logged")
    tap.ok(inst.wait_log(label + r": bad command startup -- throttling for "
                         r"1\.0s"), "first back-off 1s")
    tap.ok(inst.wait_log(label + r": bad command startup -- throttling for "
                         r"2\.0s", 4), "then 2s (doubling)")
    t0 = time.monotonic()
    tap.is_(pt.greeting(p_echo), "220 test ready",
            "the other services keep serving")
    tap.ok(time.monotonic() - t0 < 1, "without delay")
    s = inst.status()["127.0.0.1:%d/inet" % p_fail]
    tap.like(s["state"], r"^throttled", "status shows the throttle")
    time.sleep(2.5)
    starts = len(re.findall(label + r": process \d+ exit status 1",
                            inst.log()))
    tap.ok(2 <= starts <= 4, "not a crash loop: %d starts in ~5s" % starts)
    # Fix the daemon: the waiting client is served once the throttle ends.
    os.unlink(inst.path("libexec", "fail"))
    os.symlink(pt.ECHO, inst.path("libexec", "fail"))
    waiting.settimeout(5)
    try:
        line = waiting.recv(100).decode()
    except OSError:
        line = ""
    tap.like(line, r"^220 test ready", "recovers by itself once fixed")
    waiting.close()
    os.unlink(inst.path("libexec", "fail"))
    os.symlink("/bin/false", inst.path("libexec", "fail"))
    # The fixed daemon's idle process goes; the next one fails again.
    for pid in inst.status()["127.0.0.1:%d/inet" % p_fail]["pids"]:
        os.kill(pid, signal.SIGTERM)
        while pt.alive(pid):
            time.sleep(0.01)
    n_before = inst.log().count("throttling for 1.0s")
    pt.connect(p_fail).close()
    tap.ok(inst.wait_log(label + r".*throttling for 1\.0s[\s\S]*" + label +
                         r".*throttling for 1\.0s"),
           "the back-off starts over after a success")
    tap.ok(inst.log().count("throttling for 1.0s") > n_before, "(logged)")


def test_exit_at_once():
    pt.connect(p_true).close()
    tap.ok(inst.wait_log(r"127\.0\.0\.1:%d/inet: process exited at once "
                         r"without serving -- throttling" % p_true),
           "a daemon that exits 0 at once is throttled too")


def test_max_use():
    pids = []
    for _ in range(3):
        c = pt.Client(p_use)
        pids.append(int(c.ask("PID").split()[1]))
        c.ask("QUIT")
        c.close()
        time.sleep(0.05)
    tap.is_(pids[0], pids[1], "one process serves max_use = 2 clients")
    tap.ok(pids[2] != pids[1], "then a new one")


def test_wakeup():
    tap.ok(inst.wait_log(r"postern/echo\[\d+\]: trigger: 1 byte\(s\): W"),
           "a trigger service is woken at start")
    tap.ok(inst.wait_log(r"trigger: 1 byte\(s\): W[\s\S]*trigger: 1 "
                         r"byte\(s\): W", 4), "and again on its timer")
    trig = inst.status()["trig/unix"]
    tap.is_(len(trig["pids"]), 1, "one process for maxproc 1")


def test_master_killed():
    c = pt.Client(p_echo)
    busy = int(c.ask("PID").split()[1])
    idle = [p for svc in inst.status().values() for p in svc["pids"]
            if p != busy]
    os.kill(inst.master_pid(), signal.SIGKILL)
    end = time.monotonic() + 5
    while any(pt.alive(p) for p in idle) and time.monotonic() < end:
        time.sleep(0.02)
    tap.ok(idle and not any(pt.alive(p) for p in idle),
           "master killed: its idle daemons exit")
    tap.is_(c.ask("still"), "250 still", "a busy one finishes its client")
    c.ask("QUIT")
    c.close()
    end = time.monotonic() + 5
    while pt.alive(busy) and time.monotonic() < end:
        time.sleep(0.02)
    tap.ok(not pt.alive(busy), "and exits then")
    r = inst.postern("start")
    tap.is_(r.returncode, 0, "the instance starts again: " + r.stderr.strip())
    tap.is_(pt.greeting(p_echo), "220 test ready", "and serves")


try:
    r = inst.postern("start")
    tap.is_(r.returncode, 0, "start")
    test_sigkill()
    test_throttle()
    test_exit_at_once()
    test_max_use()
    test_wakeup()
    test_master_killed()
    r = inst.postern("stop")
    tap.is_(r.returncode, 0, "stop")
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer report in the log")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
