"""t/dns_test.py: a real name server on loopback for the DNS and relay
tests: Debian's nsd, run in the foreground as the current user with its
zone files, database, pid file and log in a temporary folder, answering
on 127.0.0.1 at a free port (UDP and TCP).

As a module: NameServer(parent, {"test.": zone_text, ...}).start(), then
.addr ("127.0.0.1:PORT", for dns_servers) and .stop(). A zone named in
broken= is configured with a zone file nsd cannot load, so that nsd
answers SERVFAIL for every name in it (the temporary failure case).

As a program (for the C unit test t/unit/dns):
    python3 dns_test.py serve DIR ORIGIN=ZONEFILE... [--broken ORIGIN]
prints "PORT" (or "SKIP reason" without nsd, "FAIL reason") on a line, then serves until its
standard input closes, and stops nsd."""

import os
import shutil
import socket
import subprocess
import sys
import time

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def available():
    return os.access(NSD, os.X_OK)


def _free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


class NameServer:
    def __init__(self, parent, zones, broken=()):
        self.dir = os.path.join(parent, "nsd")
        os.makedirs(self.dir, exist_ok=True)
        self.zones = dict(zones)
        self.broken = list(broken)
        self.proc = None
        self.port = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def _config(self):
        d = self.dir
        lines = ["server:",
                 "  ip-address: 127.0.0.1@%d" % self.port,
                 "  port: %d" % self.port,
                 '  username: ""',
                 '  chroot: ""',
                 '  zonesdir: "%s"' % d,
                 '  database: ""',
                 '  pidfile: "%s/nsd.pid"' % d,
                 '  xfrdfile: "%s/xfrd.state"' % d,
                 '  zonelistfile: "%s/zone.list"' % d,
                 '  logfile: "%s/nsd.log"' % d,
                 "  server-count: 1",
                 "  verbosity: 1",
                 "remote-control:",
                 "  control-enable: no"]
        for i, origin in enumerate(self.zones):
            name = "zone%d.zone" % i
            with open(os.path.join(d, name), "w") as f:
                f.write(self.zones[origin])
            lines += ["zone:", '  name: "%s"' % origin,
                      '  zonefile: "%s"' % name]
        for i, origin in enumerate(self.broken):
            name = "broken%d.zone" % i
            with open(os.path.join(d, name), "w") as f:
                f.write("this is not a zone file\n")
            lines += ["zone:", '  name: "%s"' % origin,
                      '  zonefile: "%s"' % name]
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _answers(self):
        """True once nsd answers a query for the first zone's SOA."""
        origin = next(iter(self.zones), ".")
        qname = b"".join(bytes([len(p)]) + p.encode()
                         for p in origin.strip(".").split(".") if p)
        q = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" + qname + \
            b"\x00\x00\x06\x00\x01"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            return s.recv(512)[:2] == b"\x12\x34"
        except OSError:
            return False
        finally:
            s.close()

    def start(self, timeout=10.0):
        for _ in range(5):
            self.port = _free_port()
            conf = self._config()
            self.proc = subprocess.Popen([NSD, "-d", "-c", conf],
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            end = time.monotonic() + timeout
            while time.monotonic() < end and self.proc.poll() is None:
                if self._answers():
                    return self
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("nsd did not start; see %s/nsd.log" % self.dir)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()
        except OSError:
            return ""


def _serve(argv):
    if not available():
        print("SKIP nsd not installed (Debian package nsd)", flush=True)
        return 0
    parent, zones, broken = argv[0], {}, []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--broken":
            broken.append(args.pop(0))
            continue
        origin, _, path = a.partition("=")
        with open(path) as f:
            zones[origin] = f.read()
    ns = NameServer(parent, zones, broken)
    try:
        ns.start()
    except RuntimeError as e:
        print("FAIL %s" % e, flush=True)
        return 1
    print(ns.port, flush=True)
    try:
        sys.stdin.read()
    finally:
        ns.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        sys.exit(_serve(sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(64)
