#!/usr/bin/env python3
"""t/store-owner.t: with mail_store_owner other than mail_owner (the
packaged default: postern-mail and postern), imapd, pop3d and lmtpd start
as root (master.cf unprivileged = n), become mail_store_owner, and still
reach the auth daemon's socket in private/, which only mail_owner may
enter: LOGIN, USER/PASS and an LMTP recipient check work. Needs root (to
change users); skipped otherwise."""

import imaplib
import os
import poplib
import pwd
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import pop3d_test as p3  # noqa: E402

tap = pt.Tap()
LMTPD = os.path.join(pt.TOP_BUILDDIR, "lmtpd", "lmtpd")


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def pids_of(name, parent):
    """The processes called name that parent (our master) started."""
    out = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/status" % p) as f:
                status = f.read()
        except OSError:
            continue
        if "\nPPid:\t%d\n" % parent in status and \
                status.startswith("Name:\t%s\n" % name):
            out.append(int(p))
    return out


def lmtp_rcpt(port, rcpt):
    s = socket.create_connection(("127.0.0.1", port), 10)
    f = s.makefile("rwb")

    def reply():
        while True:
            line = f.readline().decode()
            if len(line) < 4 or line[3] != "-":
                return line

    reply()
    for cmd in ("LHLO client.test", "MAIL FROM:<x@example.org>"):
        f.write((cmd + "\r\n").encode())
        f.flush()
        reply()
    f.write(("RCPT TO:<%s>\r\n" % rcpt).encode())
    f.flush()
    r = reply()
    s.close()
    return r


def main():
    if os.geteuid() != 0:
        tap.skip("store owner", "needs root")
        tap.done()
        return
    nobody = pwd.getpwnam("nobody").pw_uid
    top = pt.tempdir()
    inst = p3.Pop3Instance(top, users={"alice@localhost": "pw-alice"},
                           main={"mail_store_owner": "nobody"})
    os.symlink(LMTPD, os.path.join(inst.libexec, "lmtpd"))
    lport = pt.free_port()
    inst.add_service("127.0.0.1:%d inet n - n - - lmtpd" % lport)
    path = inst.path("master.cf")
    with open(path) as f:
        text = f.read()
    for d in ("imapd", "pop3d", "lmtpd"):
        text = text.replace("inet n - n - - " + d, "inet n n n - - " + d)
    with open(path, "w") as f:
        f.write(text)
    subprocess.run(["chown", "-R", "nobody", inst.path("mail")], check=True)
    inst.start()
    try:
        c = imaplib.IMAP4("127.0.0.1", inst.port["imap"])
        try:
            r = c.login("alice@localhost", "pw-alice")[0]
        except imaplib.IMAP4.error as e:
            r = str(e)
        tap.is_(r, "OK", "IMAP LOGIN as mail_store_owner")
        tap.is_(sorted(set(uid_of(p) for p in pids_of("imapd",
                                                     inst.master_pid()))), [nobody],
                "imapd runs as mail_store_owner")
        c.logout()
        p = poplib.POP3("127.0.0.1", inst.port["pop3"], timeout=10)
        p.user("alice@localhost")
        try:
            r = p.pass_("pw-alice").split()[0]
        except poplib.error_proto as e:
            r = str(e)
        tap.is_(r, b"+OK", "POP3 USER/PASS as mail_store_owner")
        p.quit()
        tap.like(lmtp_rcpt(lport, "alice@localhost"), r"^250 ",
                 "LMTP RCPT of a user: the auth daemon was asked")
        tap.like(lmtp_rcpt(lport, "nobody-here@localhost"), r"^550 ",
                 "and an unknown user refused")
        tap.ok("Permission denied" not in inst.log(),
               "no permission errors logged")
    finally:
        inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    tap.done()


main()
