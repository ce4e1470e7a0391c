#!/usr/bin/env python3
"""t/master-reload.t: `postern reload` (SIGHUP) adds a service and removes
another while clients stay connected: their sessions go on undisturbed, the
unchanged listener never refuses a connection during the reload, the removed
port closes, old processes exit once their clients are done. A broken
master.cf is refused and the running configuration stays; a port that
cannot be opened disables only its own service."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = pt.Instance(top)
pa, pb, pc, pd = (pt.free_port() for _ in range(4))
inst.add_service("127.0.0.1:%d inet n - n - - echo" % pa)
inst.add_service("127.0.0.1:%d inet n - n - - echo" % pc)


class Hammer(threading.Thread):
    """Connects to a port again and again; counts what was not greeted."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = False
        self.ok = 0
        self.failed = []

    def run(self):
        while not self.stop:
            g = pt.greeting(self.port, 5)
            if g == "220 test ready":
                self.ok += 1
            else:
                self.failed.append(g)


def test_reload():
    ca, cc = pt.Client(pa), pt.Client(pc)
    old_a = int(ca.ask("PID").split()[1])
    old_c = int(cc.ask("PID").split()[1])
    hammer = Hammer(pa)
    hammer.start()
    time.sleep(0.2)
    inst.remove_service("127.0.0.1:%d" % pc)
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % pb)
    r = inst.postern("reload")
    tap.is_(r.returncode, 0, "reload exits 0")
    tap.like(r.stderr, r"reloaded", "and says so")
    time.sleep(0.3)
    hammer.stop = True
    hammer.join()
    tap.ok(hammer.ok > 0 and not hammer.failed,
           "no connection refused during the reload (%d served, %d not)"
           % (hammer.ok, len(hammer.failed)))
    tap.is_(pt.greeting(pb), "220 test ready", "the new service answers")
    try:
        socket.create_connection(("127.0.0.1", pc), 2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    tap.ok(refused, "the removed service's port is closed")
    tap.is_(ca.ask("still here"), "250 still here",
            "a session of a kept service goes on")
    tap.is_(cc.ask("still here"), "250 still here",
            "a session of a removed service goes on")
    st = inst.postern("status").stdout
    tap.like(st, r"process\(es\) of an older configuration finishing",
             "status shows the old processes finishing")
    c = pt.Client(pa)
    tap.ok(int(c.ask("PID").split()[1]) != old_a,
           "new clients get processes of the new configuration")
    c.close()
    ca.ask("QUIT")
    cc.ask("QUIT")
    ca.close()
    cc.close()
    end = time.monotonic() + 5
    while (pt.alive(old_a) or pt.alive(old_c)) and time.monotonic() < end:
        time.sleep(0.02)
    tap.ok(not pt.alive(old_a) and not pt.alive(old_c),
           "old processes exit once their clients are done")


def test_bad_reload():
    with open(inst.path("master.cf"), "a") as f:
        f.write("bogus tcp n - n - - echo\n")
    r = inst.postern("reload")
    tap.is_(r.returncode, 1, "a broken master.cf is refused")
    tap.like(r.stderr, r"master\.cf:\d+: ", "with file and line")
    tap.is_(pt.greeting(pa), "220 test ready", "the running services stay")
    inst.remove_service("bogus")
    blocker = pt.connect_listener(pd)
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % pd)
    r = inst.postern("reload")
    tap.is_(r.returncode, 0, "reload with a busy port")
    s = inst.status()
    tap.is_(s["127.0.0.1:%d/inet" % pd]["state"], "failed",
            "only that service fails")
    tap.is_(pt.greeting(pa), "220 test ready", "the others serve")
    tap.ok(inst.wait_log(r"127\.0\.0\.1:%d/inet: .*[Aa]ddress already in use"
                         % pd), "and the log says why")
    blocker.close()
    r = inst.postern("reload")
    tap.is_(pt.greeting(pd), "220 test ready",
            "a later reload opens it once the port is free")


try:
    tap.is_(inst.postern("start").returncode, 0, "start")
    test_reload()
    test_bad_reload()
    tap.is_(inst.postern("stop").returncode, 0, "stop")
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer report in the log")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
