#!/usr/bin/env python3
"""t/pipe-transport.t: the pipe delivery agent end to end: transport_maps
routes domains to master.cf pipe services (smtpd -> qmgr -> pipe); a
script records its argv and stdin: ${sender} ${recipient} ${nexthop}
${user} ${extension} ${domain} ${mailbox} expanded without a shell, flags
F R O D h u . > applied; exit 75 defers and 69 bounces, both with the
program's output in the reason; several recipients share one run with
per-recipient arguments repeated; size= bounces 5.2.3; an address that
would become an option is refused. Also local's mailbox_quota_action =
bounce (5.2.2)."""

import os
import pwd
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402

PIPE = os.path.join(pt.TOP_BUILDDIR, "pipe", "pipe")

tap = pt.Tap()
top = pt.tempdir()
out = os.path.join(top, "out")
os.mkdir(out)
os.chmod(out, 0o777)  # the programs run as user=nobody under root
SCRIPT = os.path.join(top, "record.sh")
with open(SCRIPT, "w") as f:
    f.write('#!/bin/sh\n'
            'name=$1; shift\n'
            'for a in "$@"; do printf "%%s\\n" "$a"; done > "%s/$name.args"\n'
            'cat > "%s/$name.in"\n'
            'echo run >> "%s/$name.runs"\n'
            'id -u > "%s/$name.uid"\n'
            'case "$name" in\n'
            '  soft) echo "gateway busy, try again"; exit 75;;\n'
            '  hard) echo "gateway down" >&2; exit 69;;\n'
            'esac\n'
            'exit 0\n' % (out, out, out, out))
os.chmod(SCRIPT, 0o755)

inst = dt.DeliverInstance(
    top, users=["alice@localhost"],
    main={"mynetworks": "127.0.0.0/8", "recipient_delimiter": "+",
          "transport_maps": "texthash:" + os.path.join(top, "transport"),
          "mailbox_quota_action": "bounce"})
os.symlink(PIPE, os.path.join(inst.libexec, "pipe"))
with open(inst.path("users"), "a") as f:
    f.write("small@localhost x quota=500\n")
with open(os.path.join(top, "transport"), "w") as f:
    f.write("gw.example gw:\nsoft.example soft:\nhard.example hard:\n"
            "multi.example multi:\nsmall.example small:\n"
            "none.example none:\ntrue.example true:\n")
# user= may not be mail_owner (nobody when there is no "postern" user)
with open(inst.path("main.cf")) as f:
    RUN_AS = "daemon" if re.search(r"(?m)^mail_owner\s*=\s*nobody$",
                                   f.read()) else "nobody"
ARGS = "${sender} ${recipient} ${nexthop} ${user} ${extension} ${domain} " \
       "${mailbox}"
for line in (l.replace("user=nobody", "user=" + RUN_AS) for l in (
        "gw unix - n n - - pipe\n  flags=FRODhu.> user=nobody argv=%s gw %s"
        % (SCRIPT, ARGS),
        "soft unix - n n - - pipe\n  user=nobody argv=%s soft" % SCRIPT,
        "hard unix - n n - - pipe\n  flags=R user=nobody argv=%s hard"
        % SCRIPT,
        "multi unix - n n - - pipe\n  user=nobody argv=%s multi -r "
        "${recipient} -s$sender" % SCRIPT,
        "small unix - n n - - pipe\n  size=100 user=nobody argv=%s small"
        % SCRIPT,
        "none unix - n n - - pipe\n  user=nobody argv=/nonexistent/prog",
        "true unix - n n - - pipe\n  user=nobody argv=/bin/true")):
    inst.orig_master += line + "\n"
inst.assign_ports()
inst.start()
P = inst.port["smtp"]


def read(name):
    try:
        with open(os.path.join(out, name), "rb") as f:
            return f.read()
    except OSError:
        return b""


def status(qid, rcpt, relay, pattern):
    return inst.wait_log(qid + r": to=<%s>, relay=%s, delay=[0-9.]+, "
                         r"(?:delays=\S+, )?" % (re.escape(rcpt), relay) +
                         pattern)


def test_gateway():
    body = ("Subject: gw\r\n\r\n..dot line\r\nFrom the start\r\nend\r\n"
            ".\r\n")
    qid = dt.send(P, "s@example.org", ["Joe+Ext@GW.Example"], body)
    tap.ok(qid is not None, "accepted for gw.example")
    # smtpd keeps the local part's case and lower-cases the domain
    tap.ok(status(qid, "Joe+Ext@gw.example", "gw", r"dsn=2\.0\.0, "
                  r"status=sent \(delivered via gw service\)"),
           "sent, relay=gw: delivered via gw service")
    tap.is_(read("gw.args").decode().splitlines(),
            ["s@example.org", "joe+ext@gw.example", "gw.example", "joe",
             "ext", "gw.example", "joe+ext"],
            "argv: sender recipient nexthop user extension domain mailbox "
            "(h and u fold case)")
    want = pwd.getpwnam(RUN_AS).pw_uid if os.getuid() == 0 else os.getuid()
    tap.is_(read("gw.uid"), b"%d\n" % want,
            "the program runs as user= (as root), else as the instance user")
    data = read("gw.in").decode(errors="replace")
    tap.like(data, r"^From s@example\.org \w{3} \w{3} [ \d]\d "
             r"\d\d:\d\d:\d\d \d{4}\nReturn-Path: <s@example\.org>\n"
             r"X-Original-To: Joe\+Ext@gw\.example\nDelivered-To: "
             r"Joe\+Ext@gw\.example\nReceived: ",
             "stdin: flags F R O D prepend their lines")
    tap.ok(data.endswith("\n\n..dot line\n>From the start\nend\n"),
           "stdin: '.' doubles a leading dot, '>' quotes From, LF ends")


def test_exit_codes():
    qid = dt.send(P, "s@example.org", ["a@soft.example"],
                  "Subject: s\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "a@soft.example", "soft", r"dsn=4\.3\.0, "
                  r"status=deferred \(command \"\S+record\.sh\" exited "
                  r"with status 75 \(temporary failure\); output: gateway "
                  r"busy, try again\)"), "exit 75: deferred, with output")
    tap.ok(qid in inst.queue_ids("deferred") or
           qid in inst.queue_ids("active"), "  and kept in the queue")
    qid = dt.send(P, "alice@localhost", ["b@hard.example"],
                  "Subject: h\r\nMessage-ID: <hard@t>\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "b@hard.example", "hard", r"dsn=5\.3\.0, "
                  r"status=bounced \(command \"\S+record\.sh\" exited with "
                  r"status 69 \(service unavailable\); output: gateway "
                  r"down\)"), "exit 69: bounced, with output")
    dsn = None
    for _ in range(200):
        for data in inst.messages("alice@localhost").values():
            if b"X-Postern-Queue-ID: " + qid.encode() in data:
                dsn = data
        if dsn:
            break
        inst.wait_log("never", 0.05)
    tap.ok(dsn is not None and b"gateway down" in dsn and
           b"Status: 5.3.0" in dsn, "the bounce carries the output")


def test_multi():
    qid = dt.send(P, "s@example.org", ["a@multi.example", "b@multi.example"],
                  "Subject: m\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "a@multi.example", "multi", r"dsn=2\.0\.0, "
                  r"status=sent") and
           status(qid, "b@multi.example", "multi", r"dsn=2\.0\.0, "
                  r"status=sent"),
           "two recipients sent")
    tap.is_(read("multi.args").decode().splitlines(),
            ["-r", "a@multi.example", "b@multi.example", "-ss@example.org"],
            "one run, ${recipient} repeated per recipient, $sender form")
    tap.is_(read("multi.runs"), b"run\n", "the program ran once")
    qid = dt.send(P, "s@example.org", ["-oX@multi.example"],
                  "Subject: m\r\n\r\nx\r\n.\r\n")
    if qid is None:
        tap.skip("address starting with '-'", "smtpd refused it")
    else:
        tap.ok(status(qid, "-oX@multi.example", "multi", r"dsn=5\.1\.3, "
                      r"status=bounced \(an address would reach the program "
                      r"as the option"), "an address as an option: bounced")


def test_size():
    qid = dt.send(P, "s@example.org", ["a@small.example"],
                  "Subject: big\r\n\r\n" + "x" * 200 + "\r\n.\r\n")
    tap.ok(status(qid, "a@small.example", "small", r"dsn=5\.2\.3, "
                  r"status=bounced \(message too large for the small "
                  r"service\)"), "size=100: a larger message bounces 5.2.3")
    tap.is_(read("small.runs"), b"", "  without running the program")


def test_program_problems():
    qid = dt.send(P, "s@example.org", ["a@none.example"],
                  "Subject: n\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "a@none.example", "none", r"dsn=4\.3\.5, "
                  r"status=deferred \(cannot execute command "
                  r"\"/nonexistent/prog\": No such file or directory\)"),
           "a program that cannot be executed: deferred 4.3.5")
    big = "Subject: big\r\n\r\n" + ("z" * 998 + "\r\n") * 1000 + ".\r\n"
    qid = dt.send(P, "s@example.org", ["a@true.example"], big)
    tap.ok(status(qid, "a@true.example", "true", r"dsn=2\.0\.0, "
                  r"status=sent"),
           "a program that exits without reading 1 MB of input: sent")


def test_quota_bounce():
    qid = dt.send(P, "s@example.org", ["small@localhost"],
                  "Subject: q\r\n\r\n" + "x" * 600 + "\r\n.\r\n")
    tap.ok(status(qid, "small@localhost", "local", r"dsn=5\.2\.2, "
                  r"status=bounced \(mailbox small@localhost is full"),
           "mailbox_quota_action = bounce: over quota bounces 5.2.2")


try:
    test_gateway()
    test_exit_codes()
    test_multi()
    test_size()
    test_program_problems()
    test_quota_bounce()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
