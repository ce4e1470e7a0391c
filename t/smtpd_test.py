"""t/smtpd_test.py: helpers for the smtpd tests (t/smtpd-*.t) on top of
postern_test.py: a throwaway instance with the built smtpd and auth (and extra smtpd
services with -o overrides on their own ports), a raw SMTP client that
connects from an untrusted source address (127.0.0.2) unless told
otherwise, and reading committed queue files back with t/svc/qread (the
queue file reader qmgr will use)."""

import os
import re
import socket
import subprocess
import time

import postern_test as pt

SMTPD = os.path.join(pt.TOP_BUILDDIR, "smtpd", "smtpd")
AUTH = os.path.join(pt.TOP_BUILDDIR, "auth", "auth")
QREAD = os.path.join(pt.TOP_BUILDDIR, "t", "svc", "qread")
UNTRUSTED = "127.0.0.2"
TRUSTED = "127.0.0.1"


class SmtpInstance(pt.Instance):
    """An instance running the built smtpd. extra: {name: [-o overrides]}
    gives more smtpd services, each on its own port (self.port[name]);
    the services named in one_process run one smtpd process (maxproc 1),
    so that their sessions share it."""

    def __init__(self, parent, name="inst", main=None, extra=None,
                 one_process=()):
        super().__init__(parent, name)
        os.symlink(SMTPD, os.path.join(self.libexec, "smtpd"))
        # smtpd asks the auth daemon which users exist (postern-auth(8)).
        os.symlink(AUTH, os.path.join(self.libexec, "auth"))
        self.set("smtpd_error_sleep_time", "0")
        for k, v in (main or {}).items():
            self.set(k, v)
        self.port = {}
        self.extra = extra or {}
        self.one_process = one_process
        self.assign_ports()

    def assign_ports(self):
        """Rewrites master.cf with free ports: the three smtpd services
        of `postern init` (smtp, submission, submissions) and the extra
        ones; services whose daemons do not exist yet are dropped. Other
        tests run in parallel, so fixed port numbers would collide."""
        path = self.path("master.cf")
        if not hasattr(self, "orig_master"):
            with open(path) as f:
                self.orig_master = f.read()
        out, skip, names = [], False, ["smtp", "submission", "submissions"]
        for line in self.orig_master.splitlines():
            if skip and line[:1] in (" ", "\t"):
                continue
            skip = False
            m = re.match(r"^127\.0\.0\.1:(\d+)(\s.*\s)(\S+)$", line)
            if m and m.group(3) != "smtpd":
                skip = True
                continue
            if m and names:
                port = pt.free_port()
                self.port[names.pop(0)] = port
                line = "127.0.0.1:%d%s%s" % (port, m.group(2), m.group(3))
            out.append(line)
        for svc, opts in sorted(self.extra.items()):
            port = pt.free_port()
            self.port[svc] = port
            out.append("127.0.0.1:%d inet n - n - - smtpd" % port)
            out.extend("  -o " + o for o in opts)
        for svc in self.one_process:
            for i, line in enumerate(out):
                f = line.split()
                if f and f[0] == "127.0.0.1:%d" % self.port[svc]:
                    f[6] = "1"
                    out[i] = " ".join(f)
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")

    def start(self):
        for attempt in range(5):
            r = self.postern("start")
            if r.returncode == 0:
                break
            if "already in use" not in r.stderr or attempt == 4:
                raise RuntimeError("start failed: " + r.stderr)
            self.assign_ports()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port["smtp"]),
                                         1).close()
                return
            except OSError:
                time.sleep(0.05)

    def queue_ids(self, queue="incoming"):
        d = self.path("queue", queue)
        return sorted(f for f in os.listdir(d) if len(f) == 16)

    def qread(self, qid, queue="incoming"):
        """(dict of key -> list of values, content bytes) or (None, err)."""
        r = subprocess.run([QREAD, self.path("queue", queue, qid)],
                           capture_output=True)
        if r.returncode != 0:
            return None, r.stderr
        head, _, content = r.stdout.partition(b"--\n")
        env = {}
        for line in head.decode(errors="replace").splitlines():
            k, _, v = line.partition("=")
            env.setdefault(k, []).append(v)
        return env, content


class Smtp:
    """A raw SMTP client: send bytes, read whole replies."""

    def __init__(self, port, src=UNTRUSTED, timeout=5.0, tls=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        if tls:
            self.wrap()
        self.greeting = self.reply()

    def wrap(self):
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            try:
                d = self.sock.recv(65536)
            except OSError:
                d = b""
            if not d:
                rest, self.buf = self.buf, b""
                return rest.decode(errors="replace") if rest else None
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """The next reply: (code, text of all lines joined by \\n), or
        (None, "") when the connection closed or timed out."""
        lines = []
        while True:
            ln = self.line()
            if ln is None:
                return (None, "\n".join(lines))
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                break
        try:
            code = int(lines[-1][:3])
        except ValueError:
            code = None
        return (code, "\n".join(lines))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def closed(self):
        """True when the server has closed the connection (EOF)."""
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def transaction(port, sender, rcpts, body, src=UNTRUSTED, ehlo="client.test"):
    """One whole transaction; returns the list of (code, text) replies to
    EHLO, MAIL, each RCPT, DATA, end of data."""
    c = Smtp(port, src)
    out = [c.cmd("EHLO " + ehlo), c.cmd("MAIL FROM:<%s>" % sender)]
    out += [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    out.append(c.cmd("DATA"))
    if out[-1][0] == 354:
        c.send(body)
        out.append(c.reply())
    c.cmd("QUIT")
    c.close()
    return out
