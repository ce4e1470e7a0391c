#!/usr/bin/env python3
"""t/lmtpd-load.t: Postfix's smtp-source speaking LMTP (-L) hands lmtpd 200
messages over 5 parallel sessions on TCP and 100 more over the UNIX socket;
every one is in the Maildir, each a separate file."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import lmtpd_test as lt  # noqa: E402

tap = pt.Tap()
SOURCE = shutil.which("smtp-source") or (
    "/usr/sbin/smtp-source" if os.path.exists("/usr/sbin/smtp-source")
    else None)
if SOURCE is None:
    tap.skip("smtp-source load", "Postfix's smtp-source is not installed")
    tap.done()

top = pt.tempdir()
inst = lt.LmtpInstance(top, users=["load@localhost", "unix@localhost"])
inst.start()


def source(target, rcpt, count, sessions):
    return subprocess.run([SOURCE, "-L", "-s", str(sessions), "-m",
                           str(count), "-l", "2048", "-f", "s@example.org",
                           "-t", rcpt, target],
                          capture_output=True, text=True, timeout=300)


try:
    r = source("127.0.0.1:%d" % inst.port["lmtp"], "load@localhost", 200, 5)
    tap.is_(r.returncode, 0, "smtp-source -L over TCP: 200 messages, "
            "5 sessions")
    if r.returncode != 0:
        tap.diag(r.stdout + r.stderr)
    msgs = inst.messages("load@localhost")
    tap.is_(len(msgs), 200, "200 files in the Maildir")
    tap.ok(all(m.startswith(b"Return-Path: <s@example.org>\nDelivered-To: "
                            b"load@localhost\nReceived: ")
               for m in msgs.values()), "each with lmtpd's headers")
    r = source("unix:" + inst.socket, "unix@localhost", 100, 3)
    tap.is_(r.returncode, 0, "smtp-source -L over the UNIX socket")
    if r.returncode != 0:
        tap.diag(r.stdout + r.stderr)
    tap.is_(len(inst.messages("unix@localhost")), 100, "100 files there")
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
