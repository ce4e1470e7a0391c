"""t/imapd_test.py: helpers for the IMAP tests (t/imapd-*.t): an instance
running the built smtpd, qmgr, local, auth and imapd (IMAP and IMAPS on
free ports), users with passwords, and a raw IMAP client that connects
from an untrusted source address (127.0.0.2) and reads whole responses,
literals included."""

import os
import re
import socket
import ssl
import time

import deliver_test as dt
import postern_test as pt

IMAPD = os.path.join(pt.TOP_BUILDDIR, "imapd", "imapd")
UNTRUSTED = "127.0.0.2"


class ImapInstance(dt.DeliverInstance):
    """users: {address: password}. main: extra main.cf settings."""

    def __init__(self, parent, users=None, main=None, **kw):
        settings = {"imapd_tls_auth_only": "no"}
        settings.update(main or {})
        super().__init__(parent, main=settings, **kw)
        os.symlink(IMAPD, os.path.join(self.libexec, "imapd"))
        self.assign_ports()
        for addr, pw in (users or {}).items():
            r = pt.subprocess.run([pt.POSTERN, "-c", self.dir, "user", "add",
                                   addr], input=pw + "\n", text=True,
                                  capture_output=True, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("user add: " + r.stderr)

    def assign_ports(self):
        super().assign_ports()
        if not os.path.exists(os.path.join(self.libexec, "imapd")):
            return
        self.port["imap"] = pt.free_port()
        self.port["imaps"] = pt.free_port()
        self.add_service("127.0.0.1:%d inet n - n - - imapd"
                         % self.port["imap"])
        self.add_service("127.0.0.1:%d inet n - n - - imapd\n"
                         "  -o imapd_tls_wrappermode=yes" % self.port["imaps"])

    def start(self):
        super().start()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port["imap"]),
                                         1).close()
                return
            except OSError:
                time.sleep(0.05)

    def mailbox_dir(self, address, folder=""):
        local, _, domain = address.rpartition("@")
        d = self.path("mail", domain, local)
        return os.path.join(d, "." + folder) if folder else d


LITERAL = re.compile(rb"[~]?\{(\d+)\+?\}$")


class Imap:
    """A raw IMAP client. cmd() sends a tagged command and returns
    (status, tagged line, [untagged responses]) where each untagged
    response is bytes with its literals inline."""

    def __init__(self, port, src=UNTRUSTED, timeout=10.0, tls=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.n = 0
        if tls:
            self.wrap()
        self.greeting = self.response()

    def wrap(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            try:
                d = self.sock.recv(65536)
            except OSError:
                d = b""
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """One whole response line with its literals."""
        out = b""
        while True:
            line = self._line()
            out += line
            m = LITERAL.search(line)
            if not m:
                return out
            out += b"\r\n" + self._bytes(int(m.group(1)))

    def tag(self):
        self.n += 1
        return "a%d" % self.n

    def cmd(self, text, literals=()):
        """Sends text (with literals sent after their continuation)."""
        t = self.tag()
        parts = text.split("\0")
        untagged = []
        self.send(t + " " + parts[0])
        for i, lit in enumerate(literals):
            if isinstance(lit, str):
                lit = lit.encode()
            self.send(" {%d}\r\n" % len(lit))
            while True:
                r = self.response()
                if r.startswith(b"+"):
                    break
                if r.startswith(t.encode() + b" "):
                    return self._split(r), r.decode(errors="replace"), untagged
                untagged.append(r)
            self.send(lit + parts[i + 1].encode() if i + 1 < len(parts)
                      else lit)
        self.send("\r\n")
        return self.finish(t, untagged)

    def finish(self, t, untagged=None):
        untagged = untagged if untagged is not None else []
        while True:
            r = self.response()
            if r.startswith(t.encode() + b" "):
                return self._split(r), r.decode(errors="replace"), untagged
            untagged.append(r)

    @staticmethod
    def _split(r):
        return r.split(b" ", 2)[1].decode()

    def login(self, user, pw):
        return self.cmd('LOGIN "%s" "%s"' % (user, pw))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def untagged_matching(untagged, pattern):
    rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern,
                    re.S)
    return [u for u in untagged if rx.search(u)]
