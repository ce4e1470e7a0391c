#!/usr/bin/env python3
"""t/auth-ipc.t: the auth daemon's protocol (postern-auth(8), doc/ipc.md)
spoken directly on $queue_directory/private/auth: the hello, verify and
exists round trips, login names qualified with $mydomain, a held failure
reply that does not hold up another client, and malformed requests
(unknown op, missing, extra or wrongly typed field, oversized record,
truncated record) dropping the connection."""

import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, name="ipc")
# One auth process: the no-blocking test must hit the same one twice.
inst.orig_master = re.sub(r"(?m)^auth .*$", "auth unix - - n - 1 auth",
                          inst.orig_master)
inst.assign_ports()


def field(name, value):
    n = name.encode()
    if isinstance(value, int):
        return (struct.pack(">BB", 1, len(n)) + n + b"\0" +
                struct.pack(">I", 8) + struct.pack(">q", value) + b"\0")
    v = value.encode() if isinstance(value, str) else value
    return (struct.pack(">BB", 2, len(n)) + n + b"\0" +
            struct.pack(">I", len(v)) + v + b"\0")


def record(**fields):
    body = b"".join(field(k, v) for k, v in fields.items())
    return struct.pack(">I", len(body)) + body


def parse(body):
    out, i = {}, 0
    while i < len(body):
        t, nl = body[i], body[i + 1]
        name = body[i + 2:i + 2 + nl].decode()
        i += 3 + nl
        vl = struct.unpack(">I", body[i:i + 4])[0]
        v = body[i + 4:i + 4 + vl]
        out[name] = struct.unpack(">q", v)[0] if t == 1 else v.decode()
        i += 5 + vl
    return out


class Peer:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(15)
        self.s.connect(inst.path("queue", "private", "auth"))
        self.hello = self.recv()

    def recv(self):
        """The next record as a dict, or None when the daemon closed."""
        try:
            head = self.s.recv(4, socket.MSG_WAITALL)
            if len(head) < 4:
                return None
            n = struct.unpack(">I", head)[0]
            return parse(self.s.recv(n, socket.MSG_WAITALL))
        except OSError:
            return None

    def call(self, raw):
        self.s.sendall(raw)
        return self.recv()


def verify(user, pw, client="192.0.2.1"):
    return record(op="verify", user=user, password=pw, service="test",
                  client=client)


def test_round_trips():
    p = Peer()
    tap.is_(p.hello, {"protocol": "auth", "version": 1}, "hello first")
    tap.is_(p.call(verify("alice", "pw-alice")),
            {"result": "ok", "user": "alice@localhost"},
            "verify: ok with the canonical user")
    tap.is_(p.call(record(op="exists", user="ALICE@localhost")),
            {"result": "yes"}, "exists: yes (any case)")
    tap.is_(p.call(record(op="exists", user="nobody@localhost")),
            {"result": "no"}, "exists: no")
    tap.is_(p.call(record(op="exists", user="a b")), {"result": "no"},
            "exists: an invalid name is simply no")
    tap.is_(p.call(verify("alice", "wrong", "192.0.2.50")),
            {"result": "fail", "user": ""}, "verify: fail")


def test_no_blocking():
    a, b = Peer(), Peer()
    a.call(verify("alice", "wrong", "192.0.2.60"))
    a.call(verify("alice", "wrong", "192.0.2.60"))
    t0 = time.monotonic()
    a.s.sendall(verify("alice", "wrong", "192.0.2.60"))
    time.sleep(0.1)
    r = b.call(record(op="exists", user="alice@localhost"))
    tb = time.monotonic() - t0
    ra = a.recv()
    ta = time.monotonic() - t0
    tap.is_(r, {"result": "yes"}, "another client is answered")
    tap.ok(tb < 0.8 < ta,
           "while a failure reply is held back (%.2f s vs %.2f s)" %
           (tb, ta))
    tap.is_(ra, {"result": "fail", "user": ""}, "the held reply arrives")


def test_malformed():
    cases = [
        ("unknown op", record(op="frob", user="x")),
        ("missing field", record(op="verify", user="alice", password="x")),
        ("extra field", record(op="exists", user="alice", more="x")),
        ("wrong type", record(op="exists", user=7)),
        ("NUL in a value", record(op="exists", user="alice\0x")),
        ("oversized record", record(op="exists", user="a" * 10000)),
        ("no op", record(user="alice")),
    ]
    for name, raw in cases:
        p = Peer()
        tap.is_(p.call(raw), None, "%s: connection dropped" % name)
    p = Peer()
    p.s.sendall(record(op="exists", user="alice")[:7])
    p.s.shutdown(socket.SHUT_WR)
    tap.is_(p.recv(), None, "truncated record: connection dropped")
    p = Peer()
    tap.is_(p.call(record(op="exists", user="alice@localhost")),
            {"result": "yes"}, "the daemon still serves afterwards")


try:
    r = pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user", "add",
                           "alice"], input="pw-alice\n", text=True,
                          capture_output=True)
    tap.is_(r.returncode, 0, "user add")
    inst.start()
    test_round_trips()
    test_no_blocking()
    test_malformed()
    log = inst.log()
    tap.ok("pw-alice" not in log, "no password in the log")
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
