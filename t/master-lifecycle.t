#!/usr/bin/env python3
"""t/master-lifecycle.t: `postern init`, `check`, `start`, `status`, `stop`
on throwaway instances: what init writes, what check finds and creates, a
second master refused, two instances side by side, and stop leaving no
process behind (checked by pid)."""

import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()


def test_init():
    inst = pt.Instance(top, "a")
    tap.is_(inst.init_result.returncode, 0, "init exits 0")
    tap.like(inst.init_result.stdout, r"SMTP 127\.0\.0\.1:\d+",
             "init says where it listens")
    main = open(inst.path("main.cf")).read()
    tap.like(main, r"(?m)^queue_directory = \$config_directory/queue$",
             "every path inside the folder")
    master = open(inst.path("master.cf")).read()
    base = 20000 + os.getpid() % 20000
    tap.like(master, r"(?m)^127\.0\.0\.1:%d +inet .* smtpd$" % (base + 25),
             "SMTP on port base + 25")
    tap.like(master, r"(?m)^127\.0\.0\.1:%d +inet .* imapd$" % (base + 993),
             "IMAPS on port base + 993")
    key = os.stat(inst.path("tls", "key.pem"))
    tap.is_(stat.S_IMODE(key.st_mode), 0o600, "TLS key is private")
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-ext",
                        "subjectAltName", "-in", inst.path("tls", "cert.pem")],
                       capture_output=True, text=True)
    tap.like(r.stdout, r"CN ?= ?localhost", "self-signed certificate for "
             "the domain")
    tap.like(r.stdout, r"IP Address:127\.0\.0\.1", "and for 127.0.0.1")
    tap.is_(stat.S_IMODE(os.stat(inst.path("queue", "public")).st_mode),
            0o710, "queue folders made")
    again = inst.postern_in(None, "init", inst.dir)
    tap.ok(again.returncode != 0 and "not overwritten" in again.stderr,
           "init never overwrites a configuration")
    bad = inst.postern_in(None, "init", os.path.join(top, "x"), "--domain",
                          "a b")
    tap.is_(bad.returncode, 64, "a bad domain is refused")
    d = os.path.join(top, "dom")
    r = inst.postern_in(None, "init", d, "--domain", "example.test",
                        "--port-base", "30000")
    tap.like(open(os.path.join(d, "main.cf")).read(),
             r"(?m)^mydomain = example\.test$", "--domain sets the domain")
    return inst


def test_check(inst):
    r = inst.postern("check")
    tap.is_(r.returncode, 0, "check passes on a new instance")
    tap.like(r.stderr, r"warning: .*smtpd.* it will not run",
             "missing daemons are warnings")
    pt.cleanup(inst.path("queue", "deferred"))
    os.chmod(inst.path("main.cf"), 0o666)
    os.chmod(inst.path("queue", "active"), 0o755)
    r = inst.postern("check")
    tap.is_(r.returncode, 1, "check fails on problems")
    tap.like(r.stderr, r"main\.cf: writable by group or others",
             "a writable main.cf is reported")
    tap.like(r.stderr, r"active: mode 0755, expected 0700",
             "a wrong folder mode is reported")
    tap.ok(os.path.isdir(inst.path("queue", "deferred")),
           "a missing queue folder is created")
    os.chmod(inst.path("main.cf"), 0o644)
    os.chmod(inst.path("queue", "active"), 0o700)
    tap.is_(inst.postern("check").returncode, 0, "fixed: check passes")


def test_start_stop(inst, port):
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % port)
    t0 = time.monotonic()
    r = inst.postern("start")
    tap.is_(r.returncode, 0, "start exits 0")
    tap.like(r.stderr, r"started \(pid \d+\)", "and says so")
    tap.is_(pt.greeting(port), "220 test ready",
            "the test service answers right after start")
    tap.diag("start to first greeting: %.3fs" % (time.monotonic() - t0))
    mpid = inst.master_pid()
    tap.ok(mpid and pt.alive(mpid), "pid file names the live master")
    r = inst.postern("start")
    tap.ok(r.returncode == 1 and "already running" in r.stderr,
           "a second start is refused")
    r = subprocess.run([pt.MASTER, "-c", inst.dir], capture_output=True,
                       text=True, timeout=30)
    tap.ok(r.returncode != 0 and "already running (pid %d" % mpid in r.stderr,
           "a second master refuses to run: " + r.stderr.strip())
    status = inst.postern("status")
    tap.is_(status.returncode, 0, "status exits 0")
    tap.like(status.stdout, r"(?m)^master: pid %d" % mpid, "status: master")
    tap.like(status.stdout, r"(?m)^127\.0\.0\.1:%d/inet +ready " % port,
             "status: one line per service")
    tap.like(status.stdout, r"(?m)^pickup/unix +missing ",
             "status: a service without its daemon is missing")
    clients = [pt.Client(port) for _ in range(3)]
    pids = inst.status()["127.0.0.1:%d/inet" % port]["pids"]
    tap.is_(len(pids), 3, "three clients, three processes")
    for c in clients:
        c.close()
    r = inst.postern("stop")
    tap.is_(r.returncode, 0, "stop exits 0")
    tap.ok(not any(pt.alive(p) for p in pids + [mpid]),
           "stop leaves no process behind")
    tap.ok(not os.path.exists(inst.path("queue", "pid", "master.pid")),
           "pid file removed")
    tap.is_(pt.greeting(port, 1), "", "port closed")
    r = inst.postern("status")
    tap.ok(r.returncode == 1 and "not running" in r.stderr,
           "status of a stopped instance: not running, exit 1")
    r = inst.postern("stop")
    tap.is_(r.returncode, 1, "stop when not running: exit 1")
    tap.ok(not re.search(r"exit status|killed by signal", inst.log()),
           "no daemon died abnormally")
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer report in the log")


def test_side_by_side():
    a = pt.Instance(top, "side-a")
    b = pt.Instance(top, "side-b")
    pa, pb = pt.free_port(), pt.free_port()
    a.add_service("127.0.0.1:%d inet n - n - - echo" % pa)
    b.add_service("127.0.0.1:%d inet n - n - - echo" % pb)
    tap.is_((a.postern("start").returncode, b.postern("start").returncode),
            (0, 0), "two instances start side by side")
    ca, cb = pt.Client(pa), pt.Client(pb)
    tap.is_((ca.greeting, cb.greeting), ("220 test ready", "220 test ready"),
            "both serve")
    tap.ok(a.master_pid() != b.master_pid(), "with their own masters")
    ca.close()
    cb.close()
    a.postern("stop")
    tap.is_(pt.greeting(pb), "220 test ready", "stopping one leaves the other")
    b.postern("stop")


def test_start_fails(inst):
    port = pt.free_port()
    blocker = pt.connect_listener(port)
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % port)
    r = inst.postern("start")
    tap.is_(r.returncode, 1, "start fails when a port is taken")
    tap.like(r.stderr, r"127\.0\.0\.1:%d.*[Aa]ddress already in use" % port,
             "and says why")
    tap.ok(inst.master_pid() is None or not pt.alive(inst.master_pid()),
           "no master left running")
    blocker.close()
    inst.remove_service("127.0.0.1:%d" % port)


def has_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def test_interfaces():
    """A service given only a port listens on every inet_interfaces
    address."""
    inst = pt.Instance(top, "ifs")
    port = pt.free_port()
    v6 = has_ipv6_loopback()
    inst.set("inet_interfaces", "loopback-only")
    inst.set("inet_protocols", "all" if v6 else "ipv4")
    inst.add_service("%d inet n - n - - echo" % port)
    tap.is_(inst.postern("start").returncode, 0, "start: bare port service")
    tap.is_(pt.greeting(port), "220 test ready", "served on 127.0.0.1")
    if v6:
        try:
            s = socket.create_connection(("::1", port), 5)
            s.settimeout(5)
            got = s.recv(100).decode().strip()
            s.close()
        except OSError as e:
            got = str(e)
        tap.is_(got, "220 test ready", "and on ::1")
    else:
        tap.skip("and on ::1", "no IPv6 loopback")
    inst.postern("stop")


def test_start_fg():
    inst = pt.Instance(top, "fg")
    port = pt.free_port()
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % port)
    inst.add_service("trig unix n - n 60 1 echo trigger")
    sock_path = os.path.join(top, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(sock_path)
    notify.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    p = subprocess.Popen([pt.POSTERN, "-c", inst.dir, "start-fg"], env=env,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr),
                              daemon=True)
    reader.start()
    try:
        tap.is_(notify.recv(100), b"READY=1", "start-fg tells systemd: ready")
        tap.is_(inst.master_pid(), p.pid,
                "start-fg becomes the master (systemd's main pid)")
        tap.is_(pt.greeting(port), "220 test ready", "and serves")
        end = time.monotonic() + 5
        while (not any("trigger" in l for l in lines) and
               time.monotonic() < end):
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGHUP)
        tap.is_((notify.recv(100), notify.recv(100)),
                (b"RELOADING=1", b"READY=1"), "reload: reloading, ready")
        os.kill(p.pid, signal.SIGTERM)
        tap.is_(notify.recv(100), b"STOPPING=1", "stop: stopping")
        p.wait(timeout=15)
        reader.join(5)
        err = "".join(lines)
        tap.is_(p.returncode, 0, "exit 0 after SIGTERM")
        tap.like(err, r"postern/master\[%d\]: daemon started" % p.pid,
                 "logs to standard error")
        tap.like(err, r"postern/echo\[\d+\]: trigger", "so do the daemons")
        tap.ok("maillog" not in os.listdir(inst.dir),
               "and not to maillog_file")
    finally:
        if p.poll() is None:
            p.kill()
        notify.close()


try:
    inst = test_init()
    test_check(inst)
    test_start_stop(inst, pt.free_port())
    test_start_fails(inst)
    test_side_by_side()
    test_interfaces()
    test_start_fg()
finally:
    for name in ("a", "side-a", "side-b", "ifs", "fg"):
        d = os.path.join(top, name)
        if os.path.exists(os.path.join(d, "queue", "pid", "master.pid")):
            subprocess.run([pt.POSTERN, "-c", d, "stop"], capture_output=True)
    pt.cleanup(top)
tap.done()
