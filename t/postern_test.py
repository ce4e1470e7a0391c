"""t/postern_test.py: helpers for the Python instance tests (t/master-*.t):
a TAP producer, throwaway instances made with `postern init` and run from the
build tree, and tiny line-protocol clients.

An instance's daemon_directory is DIR/libexec, a folder of symlinks to the
built master and the test daemon t/svc/echo (plus "fail" -> /bin/false, a
daemon that exits at once), so nothing needs installing.
"""

import faulthandler
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Under t/time-limit.sh: the stack of a test that hangs, shortly before
# it is killed, so its log says where it waited.
if int(os.environ.get("POSTERN_TEST_LIMIT", "0")) > 60:
    faulthandler.dump_traceback_later(
        int(os.environ["POSTERN_TEST_LIMIT"]) - 30, exit=False)

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
POSTERN = os.path.join(TOP_BUILDDIR, "cli", "postern")
MASTER = os.path.join(TOP_BUILDDIR, "master", "master")
ECHO = os.path.join(TOP_BUILDDIR, "t", "svc", "echo")


class Tap:
    """ok/is_/like/skip/done, printing TAP as it goes."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name),
              flush=True)
        if not cond:
            self.failed += 1
        return bool(cond)

    def is_(self, got, want, name):
        if not self.ok(got == want, name):
            self.diag("got: %r" % (got,))
            self.diag("expected: %r" % (want,))

    def like(self, got, pattern, name):
        if not self.ok(re.search(pattern, got or "") is not None, name):
            self.diag("got: %r" % (got,))
            self.diag("expected to match: %r" % (pattern,))

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


_given_ports = set()


def free_port():
    """A port free now on 127.0.0.1, never one this test got before (the
    kernel may hand out a port again once its probe socket is closed, and
    two services of one master.cf on one port would be one service)."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _given_ports:
            _given_ports.add(port)
            return port


def tempdir():
    d = tempfile.mkdtemp(prefix="postern-t.")
    os.chmod(d, 0o755)  # daemons that dropped to another user pass through
    return d


class Instance:
    """A throwaway instance in parent/name."""

    def __init__(self, parent, name="inst", init_args=(), preexec=None):
        self.dir = os.path.join(parent, name)
        self.preexec = preexec
        r = self.postern_in(None, "init", self.dir,
                            "--port-base", str(20000 + os.getpid() % 20000),
                            *init_args)
        self.init_result = r
        if r.returncode != 0:
            raise RuntimeError("postern init failed: " + r.stderr)
        self.libexec = os.path.join(self.dir, "libexec")
        os.mkdir(self.libexec)
        os.chmod(self.libexec, 0o755)
        os.symlink(MASTER, os.path.join(self.libexec, "master"))
        os.symlink(ECHO, os.path.join(self.libexec, "echo"))
        os.symlink("/bin/false", os.path.join(self.libexec, "fail"))
        self.set("daemon_directory", self.libexec)
        self.set("service_throttle_time", "2s")
        # Clients come from 127.0.0.2 and up: their names would be asked
        # of the system's name servers, off this host (t/smtpd-peername.t
        # turns it on with its own name server).
        self.set("smtpd_peername_lookup", "no")

    def postern_in(self, cdir, *args, timeout=60):
        cmd = [POSTERN] + (["-c", cdir] if cdir else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=self.preexec)

    def postern(self, *args, timeout=60):
        return self.postern_in(self.dir, *args, timeout=timeout)

    def set(self, name, value):
        with open(os.path.join(self.dir, "main.cf"), "a") as f:
            f.write("%s = %s\n" % (name, value))

    def add_service(self, line):
        with open(os.path.join(self.dir, "master.cf"), "a") as f:
            f.write(line + "\n")

    def remove_service(self, name):
        path = os.path.join(self.dir, "master.cf")
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            f.writelines(l for l in lines if not l.startswith(name + " "))

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def log(self):
        try:
            with open(self.path("maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0):
        """True once the log matches pattern (a regex)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.02)
        return False

    def sanitizer_reports(self):
        """Sanitizer reports (ASan, UBSan, LSan) in the log, if any."""
        return re.findall(r".*(?:Sanitizer|runtime error).*", self.log())

    def master_pid(self):
        try:
            with open(self.path("queue", "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def status(self):
        """{service/type: {state, procs, idle, restarts, pids}}"""
        r = self.postern("status")
        services = {}
        lines = r.stdout.splitlines()
        while lines and not lines[0].startswith("SERVICE"):
            lines.pop(0)
        for line in lines[1:]:
            f = line.split()
            if len(f) >= 6:
                services[f[0]] = {"state": f[1], "procs": f[2],
                                  "idle": int(f[3]), "restarts": int(f[4]),
                                  "pids": [] if f[5] == "-" else
                                  [int(p) for p in f[5].split(",")]}
        return services

    def stop_quietly(self):
        if self.master_pid():
            self.postern("stop")


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.settimeout(timeout)
    return s


class Client:
    """A line client for t/svc/echo."""

    def __init__(self, port, timeout=5.0):
        self.sock = connect(port, timeout)
        self.f = self.sock.makefile("rwb")
        self.greeting = self.readline()

    def readline(self):
        try:
            return self.f.readline().decode(errors="replace").rstrip("\r\n")
        except OSError:
            return ""

    def ask(self, line):
        self.f.write(line.encode() + b"\r\n")
        self.f.flush()
        return self.readline()

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def greeting(port, timeout=5.0):
    """The first line of a new connection, or "" on timeout or refusal."""
    try:
        c = Client(port, timeout)
    except OSError:
        return ""
    g = c.greeting
    c.close()
    return g


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)


def connect_listener(port):
    """A socket listening on 127.0.0.1:port (to make the port busy)."""
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(5)
    return s
