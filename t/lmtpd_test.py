"""t/lmtpd_test.py: helpers for the lmtpd tests (t/lmtpd-*.t): an instance
running the built lmtpd on the UNIX socket public/lmtp and on TCP (plus
extra TCP services with -o overrides), the auth daemon that knows the users,
raw LMTP clients over either transport, and readers for the Maildirs under
mail_store."""

import os
import socket
import time

import postern_test as pt
import smtpd_test as st

LMTPD = os.path.join(pt.TOP_BUILDDIR, "lmtpd", "lmtpd")


class LmtpInstance(st.SmtpInstance):
    """users: addresses for the users table; main: extra main.cf settings;
    lmtp_extra: {name: [-o overrides]}, each a TCP lmtpd on its own port
    (self.port[name]); self.port["lmtp"] is the plain TCP service and
    self.socket the UNIX one."""

    def __init__(self, parent, users=(), main=None, lmtp_extra=None):
        self.lmtp_extra = lmtp_extra or {}
        super().__init__(parent, main=main)
        os.symlink(LMTPD, os.path.join(self.libexec, "lmtpd"))
        with open(self.path("users"), "w") as f:
            f.write("".join("%s x\n" % u for u in users))
        self.socket = self.path("queue", "public", "lmtp")

    def assign_ports(self):
        super().assign_ports()
        lines = ["lmtp unix n n n - - lmtpd"]
        for name in ["lmtp"] + sorted(self.lmtp_extra):
            self.port[name] = pt.free_port()
            lines.append("127.0.0.1:%d inet n n n - - lmtpd" %
                         self.port[name])
            lines.extend("  -o " + o for o in self.lmtp_extra.get(name, []))
        with open(self.path("master.cf"), "a") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        super().start()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port["lmtp"]),
                                         1).close()
                if os.path.exists(self.socket):
                    return
            except OSError:
                pass
            time.sleep(0.05)

    def maildir(self, address, sub="new"):
        local, _, domain = address.rpartition("@")
        return self.path("mail", domain, local, sub)

    def messages(self, address):
        """{file name: bytes} in new/ and cur/ of address's Maildir."""
        out = {}
        for sub in ("new", "cur"):
            d = self.maildir(address, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out[n] = f.read()
        return out


class Lmtp(st.Smtp):
    """A raw LMTP client over TCP (port) or the UNIX socket (a path)."""

    def __init__(self, where, timeout=5.0):
        if isinstance(where, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(where)
        else:
            self.sock = socket.create_connection(("127.0.0.1", where),
                                                 timeout)
            self.sock.settimeout(timeout)
        self.buf = b""
        self.greeting = self.reply()


def body_of(stored):
    """The stored copy without the three headers lmtpd adds (Return-Path:,
    Delivered-To:, and the Received: lines)."""
    lines = stored.split(b"\n")
    i = 3
    while i < len(lines) and lines[i][:1] == b"\t":
        i += 1
    return b"\n".join(lines[i:])
