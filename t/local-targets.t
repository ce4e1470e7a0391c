#!/usr/bin/env python3
"""t/local-targets.t: alias targets that are not addresses, end to end
(smtpd -> qmgr -> local): "/file" (mbox append with a From_ line, >From
quoting and an empty line at the end), "/dir/" (a Maildir), "|command"
(quoted and unquoted, its environment and standard input, exit codes read
as sysexits: 75 defers, 67 bounces with the command's output, the time
limit defers), ":include:" files, files and commands refused from
virtual_alias_maps; the hop count (hopcount_limit); per-user quotas
(users_table quota=) and mailbox_size_limit, deferred 4.2.2 when full."""

import os
import pwd
import re
import stat
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
files = os.path.join(top, "files")
os.mkdir(files)

RECORD = os.path.join(files, "record.sh")
with open(RECORD, "w") as f:
    f.write('#!/bin/sh\n'
            'name=$1; shift\n'
            'cat > "%s/$name.in"\n'
            'env | sort > "%s/$name.env"\n'
            'echo "$@" > "%s/$name.args"\n'
            'case "$name" in\n'
            '  soft) echo "try later"; exit 75;;\n'
            '  hard) echo "no such list" >&2; exit 67;;\n'
            '  slow) sleep 30;;\n'
            'esac\n'
            'exit 0\n' % (files, files, files))
os.chmod(RECORD, 0o755)
with open(os.path.join(top, "list"), "w") as f:
    f.write("# the team\nalice\n\n  bob@localhost\n")
os.chmod(os.path.join(top, "list"), 0o644)

ALIASES = (
    "# aliases(5) syntax\n"
    "archive: %(f)s/archive.mbox\n"
    "box: %(f)s/box/\n"
    "cmd: \"|%(r)s cmd one two\"\n"
    "bare: |%(r)s bare x y, alice\n"
    "soft: \"|%(r)s soft\"\n"
    "hard: \"|%(r)s hard\"\n"
    "slow: \"|%(r)s slow\"\n"
    "inc: :include:%(t)s/list\n"
    "link: %(f)s/link.mbox\n"
    "both: :include:%(t)s/list,\n"
    "  %(f)s/both.mbox\n"
    % {"f": files, "r": RECORD, "t": top})
inst = dt.DeliverInstance(
    top, users=["alice@localhost", "bob@localhost"], aliases=ALIASES,
    main={"smtpd_reject_unlisted_recipient": "no",
          "command_time_limit": "2s", "hopcount_limit": "5",
          "mailbox_size_limit": "20000",
          "virtual_alias_maps": "texthash:" + os.path.join(top, "virtual")})
# local runs as mail_store_owner (another user when the test runs as root)
with open(inst.path("main.cf")) as f:
    owner = re.findall(r"(?m)^mail_store_owner\s*=\s*(\S+)", f.read())
os.chown(files, pwd.getpwnam(owner[-1]).pw_uid if owner else os.getuid(), -1)
with open(inst.path("users"), "a") as f:
    f.write("small@localhost x quota=3000\n")
with open(os.path.join(top, "virtual"), "w") as f:
    f.write("v@localhost %s/virtual.mbox\n" % files)
# a symlink is refused (deferred), never followed
os.symlink(os.path.join(top, "target"), os.path.join(files, "link.mbox"))
inst.start()
P = inst.port["smtp"]


def read(name):
    try:
        with open(os.path.join(files, name), "rb") as f:
            return f.read()
    except OSError:
        return b""


def status(qid, rcpt, pattern):
    if pattern.startswith("status="):
        pattern = r"dsn=[0-9.]+, " + pattern
    return inst.wait_log(qid + r": to=<%s>, relay=local, delay=[0-9.]+, "
                         r"(?:delays=\S+, )?" % re.escape(rcpt) + pattern)


def test_file():
    body = ("Subject: one\r\n\r\nFrom the start\r\n>From kept\r\nlast\r\n"
            ".\r\n")
    q1 = dt.send(P, "s@example.org", ["archive@localhost"], body)
    tap.ok(status(q1, "archive@localhost", r"dsn=2\.0\.0, status=sent "
                  r"\(delivered to file: "), "file target: sent")
    q2 = dt.send(P, "s@example.org", ["archive@localhost"],
                 "Subject: two\r\n\r\nno newline at the end.\r\n.\r\n")
    tap.ok(status(q2, "archive@localhost", r"status=sent"),
           "second message: sent")
    data = read("archive.mbox")
    msgs = re.split(rb"(?m)^(?=From )", data)
    msgs = [m for m in msgs if m]
    tap.is_(len(msgs), 2, "two messages in the mbox file")
    first = msgs[0] if msgs else b""
    tap.like(first.decode(errors="replace"),
             r"^From s@example\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
             r"\d{4}\nReturn-Path: <s@example\.org>\nX-Original-To: "
             r"archive@localhost\nDelivered-To: archive@localhost\n"
             r"Received: ", "From_ line, Return-Path, X-Original-To, "
             "Delivered-To first")
    tap.ok(first.endswith(b"\n\n>From the start\n>From kept\nlast\n\n"),
           "body: From quoted (mboxo, as Postfix), empty line at the end")
    tap.ok(b"\r" not in data, "lines end in LF")
    mode = os.stat(os.path.join(files, "archive.mbox")).st_mode
    tap.is_(stat.S_IMODE(mode), 0o600, "a new file gets mode 0600")


def test_maildir_target():
    qid = dt.send(P, "s@example.org", ["box@localhost"],
                  "Subject: box\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "box@localhost", r"status=sent \(delivered to "
                  r"maildir\)"), "/dir/ target: delivered to maildir")
    new = os.path.join(files, "box", "new")
    names = os.listdir(new) if os.path.isdir(new) else []
    tap.is_(len(names), 1, "one file in box/new")


def test_command():
    qid = dt.send(P, "s@example.org", ["cmd@localhost"],
                  "Subject: cmd\r\n\r\nFrom here\r\n.\r\n")
    tap.ok(status(qid, "cmd@localhost", r"dsn=2\.0\.0, status=sent "
                  r"\(delivered to command"), "quoted command: sent")
    stdin = read("cmd.in")
    tap.like(stdin.decode(errors="replace"),
             r"^From s@example\.org .*\nReturn-Path: <s@example\.org>\n"
             r"X-Original-To: cmd@localhost\nDelivered-To: cmd@localhost\n"
             r"Received: ", "stdin: From_ line and headers first")
    tap.ok(stdin.endswith(b"\n\nFrom here\n"), "stdin: body not quoted")
    env = dict(l.split("=", 1) for l in
               read("cmd.env").decode().splitlines() if "=" in l)
    for k, v in (("SENDER", "s@example.org"), ("RECIPIENT", "cmd@localhost"),
                 ("LOCAL", "cmd"), ("DOMAIN", "localhost"),
                 ("EXTENSION", ""), ("SHELL", "/bin/sh"),
                 ("PATH", "/usr/bin:/bin")):
        tap.is_(env.get(k), v, "environment: %s" % k)
    tap.ok("HOME" in env, "environment: HOME")
    extra = set(env) - {"SENDER", "RECIPIENT", "LOCAL", "USER", "DOMAIN",
                        "EXTENSION", "HOME", "SHELL", "PATH", "PWD",
                        "SHLVL", "_"}
    tap.is_(sorted(extra), [], "environment: nothing else")
    tap.is_(read("cmd.args"), b"one two\n", "arguments through /bin/sh")


def test_unquoted_command():
    before = len(inst.messages("alice@localhost"))
    qid = dt.send(P, "s@example.org", ["bare@localhost"],
                  "Subject: bare\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "bare@localhost", r"status=sent"),
           "unquoted |command, then an address: sent")
    tap.is_(read("bare.args"), b"x y\n", "unquoted command runs to the comma")
    tap.is_(len(inst.wait_messages("alice@localhost", before + 1)),
            before + 1, "the address after the comma got its copy")


def test_exit_codes():
    qid = dt.send(P, "s@example.org", ["soft@localhost"],
                  "Subject: soft\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "soft@localhost", r"dsn=4\.3\.0, status=deferred "
                  r"\(command \"\S+ soft\" exited with status 75 "
                  r"\(temporary failure\); output: try later\)"),
           "exit 75: deferred with the output")
    qid = dt.send(P, "s@example.org", ["hard@localhost"],
                  "Subject: hard\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "hard@localhost", r"dsn=5\.1\.1, status=bounced "
                  r"\(command \"\S+ hard\" exited with status 67 "
                  r"\(user unknown\); output: no such list\)"),
           "exit 67: bounced 5.1.1 with the output")
    qid = dt.send(P, "s@example.org", ["slow@localhost"],
                  "Subject: slow\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "slow@localhost", r"dsn=4\.3\.0, status=deferred "
                  r"\(command \"\S+ slow\" was killed: time limit of 2 s "
                  r"exceeded\)"), "command_time_limit: killed, deferred")


def test_include():
    before = {u: len(inst.messages(u)) for u in ("alice@localhost",
                                                 "bob@localhost")}
    qid = dt.send(P, "s@example.org", ["inc@localhost", "both@localhost"],
                  "Subject: inc\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "inc@localhost", r"status=sent") and
           status(qid, "both@localhost", r"status=sent"),
           ":include: targets delivered")
    for u in before:
        tap.is_(len(inst.wait_messages(u, before[u] + 1)), before[u] + 1,
                u + ": one copy through the :include: file")
    tap.ok(b"Delivered-To: both@localhost" in read("both.mbox"),
           "continuation line of the alias: the file target too")


def test_refused():
    qid = dt.send(P, "s@example.org", ["v@localhost"],
                  "Subject: v\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "v@localhost", r"dsn=5\.7\.1, status=bounced "
                  r"\(virtual_alias_maps target"),
           "file target in virtual_alias_maps: bounced")
    tap.is_(read("virtual.mbox"), b"", "and not written")
    qid = dt.send(P, "s@example.org", ["link@localhost"],
                  "Subject: link\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "link@localhost", r"dsn=4\.2\.0, status=deferred "
                  r"\(cannot append to file"), "symlinked file: deferred")


def test_hops():
    hops = "".join("Received: from h%d by h%d\r\n" % (i, i + 1)
                   for i in range(5))
    qid = dt.send(P, "s@example.org", ["alice@localhost"],
                  hops + "Subject: hops\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "alice@localhost", r"dsn=5\.4\.6, status=bounced "
                  r"\(too many hops \(more than 5 Received: headers\)"),
           "6 Received: headers, hopcount_limit 5: bounced 5.4.6")
    qid = dt.send(P, "s@example.org", ["alice@localhost"],
                  "".join(hops.splitlines(True)[:2]) + "Subject: ok\r\n\r\nx\r\n.\r\n")
    tap.ok(status(qid, "alice@localhost", r"status=sent"),
           "fewer hops: delivered")


def test_quota():
    body = "Subject: q\r\n\r\n" + "x" * 1000 + "\r\n.\r\n"
    ids = [dt.send(P, "s@example.org", ["small@localhost"], body)
           for _ in range(2)]
    tap.ok(all(status(q, "small@localhost", r"status=sent") for q in ids),
           "quota=3000: two messages of 1.2 KB fit")
    qid = dt.send(P, "s@example.org", ["small@localhost"], body)
    tap.ok(status(qid, "small@localhost", r"dsn=4\.2\.2, status=deferred "
                  r"\(mailbox small@localhost is full \(over quota\)\)"),
           "the third: deferred 4.2.2, over quota")
    tap.is_(len(inst.messages("small@localhost")), 2, "two in the mailbox")
    with open(inst.path("mail", "localhost", "small", "maildirsize")) as f:
        tap.like(f.read(), r"^3000S\n", "maildirsize names the limit")
    qid = dt.send(P, "s@example.org", ["bob@localhost"],
                  "Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 25 +
                  ".\r\n")
    tap.ok(status(qid, "bob@localhost", r"dsn=4\.2\.2, status=deferred"),
           "mailbox_size_limit 20000: a 25 KB message is deferred")


try:
    test_file()
    test_maildir_target()
    test_command()
    test_unquoted_command()
    test_exit_codes()
    test_include()
    test_refused()
    test_hops()
    test_quota()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
