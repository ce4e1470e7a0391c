"""t/pop3d_test.py: helpers for the POP3 tests (t/pop3d-*.t): an instance
running the built smtpd, qmgr, local, auth and pop3d (POP3, POP3S and a
POP3 service with a short timeout, on free ports), plus imapd when it is
built; users with passwords; mail sent through SMTP and waited for; and a
raw POP3 client that connects from an untrusted source address
(127.0.0.2)."""

import os
import socket
import ssl
import time

import deliver_test as dt
import postern_test as pt

POP3D = os.path.join(pt.TOP_BUILDDIR, "pop3d", "pop3d")
IMAPD = os.path.join(pt.TOP_BUILDDIR, "imapd", "imapd")
UNTRUSTED = "127.0.0.2"


class Pop3Instance(dt.DeliverInstance):
    """users: {address: password}. main: extra main.cf settings. The
    service "pop3quick" times out after 2 s."""

    def __init__(self, parent, users=None, main=None, **kw):
        settings = {"pop3d_tls_auth_only": "no", "imapd_tls_auth_only": "no"}
        settings.update(main or {})
        super().__init__(parent, main=settings, **kw)
        os.symlink(POP3D, os.path.join(self.libexec, "pop3d"))
        self.has_imapd = os.path.exists(IMAPD)
        if self.has_imapd:
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
        if not os.path.exists(os.path.join(self.libexec, "pop3d")):
            return
        for name in ("pop3", "pop3s", "pop3quick"):
            self.port[name] = pt.free_port()
        self.add_service("127.0.0.1:%d inet n - n - - pop3d"
                         % self.port["pop3"])
        self.add_service("127.0.0.1:%d inet n - n - - pop3d\n"
                         "  -o pop3d_tls_wrappermode=yes"
                         % self.port["pop3s"])
        self.add_service("127.0.0.1:%d inet n - n - - pop3d\n"
                         "  -o pop3d_timeout=2s" % self.port["pop3quick"])
        if self.has_imapd:
            self.port["imap"] = pt.free_port()
            self.add_service("127.0.0.1:%d inet n - n - - imapd"
                             % self.port["imap"])

    def start(self):
        super().start()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port["pop3"]),
                                         1).close()
                return
            except OSError:
                time.sleep(0.05)

    def maildrop_files(self, address):
        """{base name: path} of the messages in address's INBOX."""
        out = {}
        for sub in ("new", "cur"):
            d = self.maildir(address, sub)
            if os.path.isdir(d):
                for n in os.listdir(d):
                    out[n.split(":2,")[0]] = os.path.join(d, n)
        return out


def deliver(inst, address, bodies, sender="sender@example.org"):
    """Sends each body (text after the header block) as one message through
    SMTP and waits until all are in address's Maildir; returns the count
    there."""
    have = len(inst.messages(address))
    for i, body in enumerate(bodies):
        msg = "From: <%s>\r\nSubject: test %d\r\n\r\n%s" % (sender, i, body)
        lines = msg.split("\r\n")
        msg = "\r\n".join(("." + l) if l.startswith(".") else l
                          for l in lines)
        if not msg.endswith("\r\n"):
            msg += "\r\n"
        if dt.send(inst.port["smtp"], sender, [address], msg + ".\r\n") \
                is None:
            raise RuntimeError("SMTP send failed")
    return len(inst.wait_messages(address, have + len(bodies)))


def crlf(data):
    """The CRLF form of a stored (LF) message, as RETR sends it before
    dot-stuffing."""
    out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if out and not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


class Pop3:
    """A raw POP3 client: cmd() returns the status line, multi() the
    lines of a multi-line reply (dot-unstuffed, without the final ".")."""

    def __init__(self, port, src=UNTRUSTED, timeout=10.0, tls=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        if tls:
            self.wrap()
        self.greeting = self.line()

    def wrap(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        """One line without CRLF (str), or None when the server closed."""
        while b"\r\n" not in self.buf:
            try:
                d = self.sock.recv(65536)
            except OSError:
                d = b""
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            line = self.line()
            if line is None:
                raise EOFError("connection closed in a multi-line reply")
            if line == ".":
                return out
            out.append(line[1:] if line.startswith(".") else line)

    def multi_bytes(self):
        """The body of a multi-line reply as bytes (CRLF line ends)."""
        return b"".join(l.encode("latin-1") + b"\r\n" for l in self.multi())

    def login(self, user, pw):
        r = self.cmd("USER " + user)
        if not r or not r.startswith("+OK"):
            return r
        return self.cmd("PASS " + pw)

    def closed(self, wait=5.0):
        """True once the server has closed the connection."""
        self.sock.settimeout(wait)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
