#!/usr/bin/env python3
"""t/sendmail-submit.t: local submission end to end on a throwaway instance:
sendmail -> postdrop -> maildrop/ -> pickup -> incoming/. The sender (the
caller's login at $myorigin, -f), recipients (command line, -t with
To/Cc/Bcc and Bcc removed), -F, the lone-dot rule with and without -i/-oi,
LF turned into CRLF, the headers pickup adds (Received with the uid,
Message-ID, Date, From), sendmail -bs (a pipelined SMTP session on
stdin/stdout, each message through postdrop), newaliases/-bi/-I (each
hash/btree/lmdb alias_database source built by postern map), exit codes
(usage, a missing instance, NUL, message_size_limit), a corrupt maildrop file moved
to corrupt/, and, as root, submission by an unprivileged user and a setgid
postdrop refusing a configuration it was not told to trust."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

B = pt.TOP_BUILDDIR
SENDMAIL = os.path.join(B, "cli", "sendmail")
POSTDROP = os.path.join(B, "cli", "postdrop")
PICKUP = os.path.join(B, "pickup", "pickup")
ROOT = os.getuid() == 0

tap = pt.Tap()


def owner_of(inst):
    """The instance's mail_owner (what runs pickup and owns maildrop/)."""
    import pwd
    with open(inst.path("main.cf")) as f:
        m = re.search(r"^mail_owner = (\S+)$", f.read(), re.M)
    return pwd.getpwnam(m.group(1))


def as_owner_fn(pw):
    def run():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return run


class DropInstance(pt.Instance):
    """An instance running only pickup; postdrop in command_directory."""

    def __init__(self, parent):
        super().__init__(parent)
        os.symlink(PICKUP, os.path.join(self.libexec, "pickup"))
        os.symlink(POSTDROP, os.path.join(self.libexec, "postdrop"))
        os.symlink(pt.POSTERN, os.path.join(self.libexec, "postern"))
        self.set("command_directory", self.libexec)
        path = self.path("master.cf")
        with open(path) as f:
            keep = [l for l in f if l.startswith("pickup ")]
        with open(path, "w") as f:
            f.writelines(keep)

    def sendmail(self, args, data, preexec=None, config=True):
        env = dict(os.environ)
        env.pop("POSTERN_CONFIG", None)
        cmd = [SENDMAIL] + (["-C", self.dir] if config else []) + args
        return subprocess.run(cmd, input=data, capture_output=True,
                              preexec_fn=preexec, env=env, timeout=30)

    def ids(self, queue):
        return sorted(f for f in os.listdir(self.path("queue", queue))
                      if len(f) == 16)

    def maildrop_drained(self, timeout=10.0):
        """maildrop/'s IDs once empty or after timeout (pickup removes a
        file just after its copy's commit)."""
        end = time.monotonic() + timeout
        while self.ids("maildrop") and time.monotonic() < end:
            time.sleep(0.05)
        return self.ids("maildrop")

    def wait_new(self, known, timeout=10.0):
        """The first incoming/ ID not in known, or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            new = [i for i in self.ids("incoming") if i not in known]
            if new:
                return new[0]
            time.sleep(0.05)
        return None

    def submit(self, args, data, preexec=None):
        """(result, env, content) of one submission that must queue."""
        known = set(self.ids("incoming"))
        r = self.sendmail(args, data, preexec)
        if r.returncode != 0:
            tap.diag("sendmail: %d %r" % (r.returncode, r.stderr))
            return r, None, b""
        qid = self.wait_new(known)
        if qid is None:
            tap.diag("nothing in incoming/; log:\n" + self.log()[-2000:])
            return r, None, b""
        # The file shows up before pickup's commit returns: until then the
        # reader says "not ready".
        end = time.monotonic() + 10
        while True:
            env, content = st.SmtpInstance.qread(self, qid)
            if env is not None or time.monotonic() > end:
                break
            time.sleep(0.05)
        if env is None:
            tap.diag("qread %s: %r" % (qid, content))
        return r, env, content


def test_simple(inst):
    pw = owner_of(inst)
    r, env, content = inst.submit(["user@localhost"], b"hi\n",
                                  preexec=as_owner_fn(pw) if ROOT else None)
    tap.is_(r.returncode, 0, "echo hi | sendmail user@localhost: exit 0")
    if env is None:
        tap.ok(False, "the message reached incoming/")
        return
    me, uid = pw.pw_name, pw.pw_uid
    tap.is_(env["sender"], ["%s@localhost" % me],
            "sender is the caller's login @$myorigin")
    tap.is_(env["rcpt"], ["user@localhost notify=0 orcpt=-"], "recipient")
    tap.is_(env.get("field.local_user"), [me], "local user recorded")
    tap.like(content.decode(errors="replace"),
             r"^Received: by localhost \(Postern, from userid %d\)\r\n"
             r"\tid [0-9A-Z]{16}; \w{3}, \d+ \w{3} \d{4} " % uid,
             "Received: by HOST (Postern, from userid UID) first")
    tap.like(content.decode(errors="replace"),
             r"\r\nMessage-ID: <\d{14}\.[0-9A-Z]{16}@localhost>\r\n",
             "Message-ID added")
    tap.like(content.decode(errors="replace"), r"\r\nDate: \w{3}, ",
             "Date added")
    tap.like(content.decode(errors="replace"),
             r"\r\nFrom: %s@localhost\r\n" % re.escape(me),
             "From added")
    tap.ok(content.endswith(b"\r\n\r\nhi\r\n"),
           "an empty line before the body, LF turned into CRLF")
    tap.is_(inst.maildrop_drained(), [], "maildrop/ is empty again")


def test_extract(inst):
    msg = (b"From: Me <me@example.org>\nTo: a@localhost, \"B, b\" "
           b"<b@localhost>\nCc: c (comment)\nBcc: hidden@localhost,\n"
           b"  hidden2@localhost\nSubject: t\nMessage-ID: <x@y>\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n")
    r, env, content = inst.submit(["-t", "extra@localhost"], msg)
    if env is None:
        tap.ok(False, "sendmail -t queued the message")
        return
    tap.is_(sorted(x.split()[0] for x in env["rcpt"]),
            ["a@localhost", "b@localhost", "c@localhost", "extra@localhost",
             "hidden2@localhost", "hidden@localhost"],
            "-t: To, Cc, Bcc (folded) and the command line")
    text = content.decode(errors="replace")
    tap.ok("Bcc" not in text and "hidden" not in text,
           "-t: the Bcc: field is gone")
    tap.like(text, r"\r\nTo: a@localhost, \"B, b\" <b@localhost>\r\n"
             r"Cc: c \(comment\)\r\n", "To: and Cc: kept")
    tap.is_(text.count("Message-ID:"), 1, "no second Message-ID")
    tap.is_(text.count("Date:"), 1, "no second Date")
    tap.ok(text.count("From:") == 1, "no second From")


def test_sender(inst):
    r, env, content = inst.submit(
        ["-f", "other@example.org", "-F", "Ann \"X\" Other", "-N",
         "success,delay", "-R", "hdrs", "-V", "id 1", "u@localhost"],
        b"Subject: s\n\nx\n")
    if env is None:
        tap.ok(False, "-f/-F message queued")
        return
    tap.is_(env["sender"], ["other@example.org"], "-f sets the sender")
    tap.is_(env.get("field.full_name"), ["Ann \"X\" Other"], "-F kept")
    tap.like(content.decode(errors="replace"),
             r"\r\nFrom: \"Ann \\\"X\\\" Other\" <other@example\.org>\r\n",
             "From: with the quoted full name")
    tap.is_(env["rcpt"], ["u@localhost notify=10 orcpt=-"], "-N")
    tap.is_(env["ret"], ["2"], "-R hdrs")
    tap.is_(env.get("field.envid"), ["id+201"], "-V as xtext")
    r, env, content = inst.submit(["-r", "<>", "u@localhost"], b"x\n")
    tap.is_(env and env["sender"], [""], "-r <> gives the null sender")
    tap.is_(env and env["flags"], ["0"], "  no SMTPUTF8 for ASCII")
    r, env, content = inst.submit(["j\u00fcrgen@localhost"], b"x\n")
    tap.is_(env and env["rcpt"], ["j\u00fcrgen@localhost notify=0 orcpt=-"],
            "a UTF-8 recipient")
    tap.is_(env and env["flags"], ["4"], "  marks the message SMTPUTF8")


def test_dots(inst):
    data = b"Subject: d\n\nline\n.\nafter\n"
    r, env, content = inst.submit(["u@localhost"], data)
    tap.ok(content.endswith(b"\r\nline\r\n") and b"after" not in content,
           "a lone dot ends the message")
    for flag in ("-i", "-oi"):
        r, env, content = inst.submit([flag, "u@localhost"], data)
        tap.ok(content.endswith(b"\r\nline\r\n.\r\nafter\r\n"),
               flag + ": a lone dot is content")
    r, env, content = inst.submit(["u@localhost"], b"a\r\n..b\r\n.\r\n")
    if not tap.ok(content.endswith(b"\r\na\r\n..b\r\n"),
                  "CRLF input, no dot-unstuffing"):
        tap.diag(repr(content))


def bs_replies(out):
    """The replies of a -bs session: [(code, text)], multi-line joined."""
    replies, cur = [], []
    for line in out.decode(errors="replace").split("\r\n"):
        if not line:
            continue
        cur.append(line)
        if len(line) < 4 or line[3] != "-":
            replies.append((int(line[:3]), "\n".join(cur)))
            cur = []
    return replies


def test_smtp(inst):
    """sendmail -bs: a pipelined SMTP session on stdin/stdout."""
    known = set(inst.ids("incoming"))
    session = (b"EHLO me.test\r\nMAIL FROM:<me@example.org> BODY=8BITMIME"
               b"\r\nRCPT TO:<u@localhost>\r\nRCPT TO:bob\r\nDATA\r\n"
               b"Subject: bs\r\n\r\n..dot\r\n8bit \xc3\xa9\nlast\r\n.\r\n"
               b"MAIL FROM:<>\r\nDATA\r\nRSET\r\nFOO\r\nQUIT\r\nNOOP\r\n")
    r = inst.sendmail(["-bs"], session)
    tap.is_(r.returncode, 0, "-bs: exit 0 after QUIT")
    rs = bs_replies(r.stdout)
    tap.like(rs[0][1] if rs else "", r"^220 localhost ESMTP", "-bs: 220")
    tap.like(rs[1][1] if len(rs) > 1 else "",
             r"^250-localhost\n(250-.*\n)*250-SIZE \d+\n(250-.*\n)*250 ",
             "-bs: EHLO with SIZE")
    tap.is_([c for c, _ in rs[2:]],
            [250, 250, 250, 354, 250, 250, 503, 250, 502, 221],
            "-bs: MAIL RCPT RCPT DATA . MAIL DATA(no rcpt) RSET FOO QUIT")
    tap.is_(rs[6][1] if len(rs) > 6 else "", "250 2.0.0 Ok: queued",
            "-bs: queued")
    qid = inst.wait_new(known)
    env, content = (st.SmtpInstance.qread(inst, qid) if qid
                    else (None, b""))
    end = time.monotonic() + 10
    while qid and env is None and time.monotonic() < end:
        time.sleep(0.05)
        env, content = st.SmtpInstance.qread(inst, qid)
    tap.is_(env and env["sender"], ["me@example.org"],
            "-bs: sender from MAIL FROM")
    tap.is_(env and sorted(x.split()[0] for x in env["rcpt"]),
            ["bob@localhost", "u@localhost"],
            "-bs: recipients, the bare one @$myorigin")
    tap.ok(content.endswith(b"\r\nSubject: bs\r\n\r\n.dot\r\n"
                            b"8bit \xc3\xa9\r\nlast\r\n"),
           "-bs: content dot-unstuffed, 8-bit kept, LF made CRLF")
    tap.like(content.decode(errors="replace"),
             r"^Received: by localhost \(Postern, from userid \d+\)",
             "-bs: pickup's Received: with the uid")
    tap.is_(inst.maildrop_drained(), [], "-bs: maildrop/ drained")

    r = inst.sendmail(["-bs"], b"HELO x\r\nMAIL FROM:<a@b.c> SIZE=99999999999"
                      b"\r\nMAIL FROM:<@@>\r\nMAIL FROM:<a@b.c> FOO=1\r\n"
                      b"RCPT TO:<u@localhost>\r\n" + b"X" * 5000 +
                      b"\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<u@localhost> "
                      b"NOTIFY=NEVER\r\nRCPT TO:<u@localhost>\r\nDATA\r\n"
                      b"cut")
    tap.is_([c for c, _ in bs_replies(r.stdout)],
            [220, 250, 552, 501, 555, 503, 500, 250, 555, 250, 354],
            "-bs: SIZE over the limit, bad address, unknown option, "
            "RCPT first, long line")
    tap.is_(r.returncode, 0, "-bs: input ending inside DATA: exit 0")
    time.sleep(0.3)
    tap.is_(inst.ids("maildrop"), [], "-bs: a cut message is not queued")


def test_newaliases(inst, top):
    """newaliases, -bi, -I: alias_database tables built by postern map."""
    src = inst.path("aliases.src")
    with open(src, "w") as f:
        f.write("info u@localhost\nsales: nobody\n")
    inst.set("alias_database", "hash:%s, texthash:%s, %s" %
             (src, src, inst.path("aliases.lmdbsrc")))
    with open(inst.path("aliases.lmdbsrc"), "w") as f:
        f.write("abuse u@localhost\n")
    inst.set("default_database_type", "lmdb")
    link = os.path.join(top, "newaliases")
    os.symlink(SENDMAIL, link)
    for how, cmd in (("newaliases", [link, "-C", inst.dir]),
                     ("sendmail -bi", [SENDMAIL, "-C", inst.dir, "-bi"]),
                     ("sendmail -I", [SENDMAIL, "-C", inst.dir, "-I"])):
        for f in (src + ".db", inst.path("aliases.lmdbsrc.lmdb")):
            if os.path.exists(f):
                os.unlink(f)
        r = subprocess.run(cmd, capture_output=True)
        tap.is_(r.returncode, 0, how + ": exit 0")
        tap.ok(os.path.exists(src + ".db"), how + ": hash: table built")
        tap.ok(os.path.exists(inst.path("aliases.lmdbsrc.lmdb")),
               how + ": bare path built as default_database_type")
    tap.like(r.stderr.decode(), r"texthash:\S+: this table type needs no "
             r"build step", "texthash: skipped with a note")
    q = inst.postern("map", "-q", "info", "hash:" + src)
    tap.is_(q.stdout, "u@localhost\n", "the built table answers")
    with open(inst.path("aliases.lmdbsrc"), "w") as f:
        f.write("broken\n")
    r = subprocess.run([link, "-C", inst.dir], capture_output=True)
    tap.is_(r.returncode, 73, "a source that does not build: exit 73")
    tap.like(r.stderr.decode(), r"aliases\.lmdbsrc:1: ", "  naming the line")
    inst.set("command_directory", os.path.join(top, "nowhere"))
    r = subprocess.run([link, "-C", inst.dir], capture_output=True)
    tap.is_(r.returncode, 69, "postern not found: exit 69")
    inst.set("command_directory", inst.libexec)
    inst.set("alias_database", "hash:/etc/aliases")
    inst.set("default_database_type", "hash")


def test_errors(inst, top):
    cases = [
        (["-Z", "u@localhost"], 64, "unknown option"),
        ([], 64, "no recipients"),
        (["-f"], 64, "-f without a value"),
        (["-N", "sometimes", "u@localhost"], 64, "bad -N"),
        (["bad@@address"], 64, "bad recipient"),
        (["-q"], 69, "-q while qmgr is down"),
        (["-t"], 65, "-t without any recipient header"),
    ]
    for args, code, name in cases:
        r = inst.sendmail(args, b"Subject: x\n\nbody\n")
        tap.is_(r.returncode, code, "%s: exit %d" % (name, code))
        tap.like(r.stderr.decode(errors="replace"),
                 r"^(sendmail|postdrop): \S", "  with a message")
    r = inst.sendmail(["-C", os.path.join(top, "nowhere"), "u@localhost"],
                      b"x\n", config=False)
    tap.is_(r.returncode, 69, "missing instance: exit 69")
    tap.like(r.stderr.decode(), r"nowhere", "  naming the configuration")
    r = inst.sendmail(["u@localhost"], b"a\0b\n")
    tap.is_(r.returncode, 65, "NUL in the message: exit 65")
    r = subprocess.run([POSTDROP, "-c", inst.dir], input=b"garbage",
                       capture_output=True)
    tap.is_(r.returncode, 65, "postdrop refuses a malformed stream")
    tap.is_(inst.ids("maildrop"), [], "  and leaves nothing in maildrop/")


def test_mailq(inst, top):
    """The queue in Postfix's mailq layout (read directly: as root or
    the instance owner)."""
    qid = inst.ids("incoming")[-1]
    env, _ = st.SmtpInstance.qread(inst, qid)
    r = inst.sendmail(["-bp"], b"")
    out = r.stdout.decode()
    tap.is_(r.returncode, 0, "-bp: exit 0")
    lines = out.splitlines()
    tap.is_(lines[0] if lines else "",
            "----Queue ID----- --Size-- ---Arrival Time---- "
            "--Sender/Recipient------", "-bp: Postfix's long-ID heading")
    sender = env["sender"][0] or "MAILER-DAEMON"
    tap.like(out, r"\n%s +\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
             r"%s\n {47}u@localhost\n\n" % (qid, re.escape(sender)),
             "-bp: message line and recipient line")
    n = len(inst.ids("incoming"))
    tap.like(out, r"\n-- \d+ Kbytes in %d Requests?\.\n$" % n,
             "-bp: the trailer counts every message")
    link = os.path.join(top, "mailq")
    os.symlink(SENDMAIL, link)
    r2 = subprocess.run([link, "-C", inst.dir], capture_output=True)
    tap.is_(r2.stdout, r.stdout, "run as mailq: the same listing")
    os.mkdir(os.path.join(top, "e"))
    empty = DropInstance(os.path.join(top, "e"))
    r = empty.sendmail(["-bp"], b"")
    tap.is_(r.stdout, b"Mail queue is empty\n", "an empty queue")


def test_flush(inst):
    """-q: postdrop sends qmgr the force trigger on public/qmgr."""
    path = inst.path("queue", "public", "qmgr")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(5)
    srv.settimeout(10)
    try:
        r = inst.sendmail(["-q"], b"")
        tap.is_(r.returncode, 0, "-q: exit 0 when qmgr listens")
        got = b""
        try:
            c, _ = srv.accept()
            c.settimeout(5)
            got = c.recv(16)
            c.close()
        except OSError:
            pass
        tap.is_(got, b"A", "-q: qmgr gets the force trigger 'A'")
    finally:
        srv.close()
        os.unlink(path)


def test_down_and_window(inst, top):
    """Submission while the mail system is down waits in maildrop/ and is
    picked up at start. Then the documented crash window: a maildrop file
    that is still there after its copy was committed (pickup killed
    between commit and unlink) is queued again: a duplicate, never a
    loss."""
    tap.is_(inst.postern("stop").returncode, 0, "stop the instance")
    r = inst.sendmail(["w@localhost"], b"Subject: window\n\nw\n")
    tap.is_(r.returncode, 0, "sendmail works while the system is down")
    md = inst.ids("maildrop")
    tap.is_(len(md), 1, "  the message waits in maildrop/")
    saved = os.path.join(top, "saved")
    if md:
        shutil.copy2(inst.path("queue", "maildrop", md[0]), saved)
    known = set(inst.ids("incoming"))
    r = inst.postern("start")
    tap.is_(r.returncode, 0, "start again")
    first = inst.wait_new(known)
    tap.ok(first is not None, "pickup moves it at start")
    if not md or first is None:
        return
    # Only once pickup has removed its maildrop file (after the commit).
    inst.maildrop_drained()
    shutil.copy2(saved, inst.path("queue", "maildrop", md[0]))
    known.add(first)
    trigger_pickup(inst)
    second = inst.wait_new(known)
    tap.ok(second is not None and second != first,
           "crash window: the leftover maildrop file is queued again")
    tap.is_(inst.maildrop_drained(), [], "  and then removed")


def trigger_pickup(inst):
    s = socket.socket(socket.AF_UNIX)
    s.connect(inst.path("queue", "public", "pickup"))
    s.send(b"W")
    s.close()


def test_corrupt(inst):
    qid = "1GA4GC208J00044J"
    path = inst.path("queue", "maildrop", qid)
    with open(path, "wb") as f:
        f.write(b"POSTERNQ" + b"\xff" * 100)
    os.chmod(path, 0o744)  # marked complete, so pickup reads it
    trigger_pickup(inst)
    end = time.monotonic() + 10
    while time.monotonic() < end and os.path.exists(path):
        time.sleep(0.05)
    tap.ok(os.path.exists(inst.path("queue", "corrupt", qid)),
           "a corrupt maildrop file goes to corrupt/")
    tap.like(inst.log(), r"maildrop/%s: .*moved to corrupt/" % qid,
             "  with a log line")
    r, env, _ = inst.submit(["u@localhost"], b"still fine\n")
    tap.ok(env is not None, "pickup still works afterwards")


def test_size(inst):
    inst.set("message_size_limit", "1000")
    r = inst.sendmail(["u@localhost"], b"x" * 2000 + b"\n")
    tap.is_(r.returncode, 65, "over message_size_limit: exit 65")
    tap.like(r.stderr.decode(), r"message_size_limit", "  saying why")
    tap.is_(inst.ids("maildrop"), [], "  nothing left in maildrop/")
    r, env, _ = inst.submit(["u@localhost"], b"small\n")
    tap.ok(env is not None, "a small message still passes")


def test_setgid(inst, top):
    """A real user with a setgid postdrop: the instance's configuration
    is not in alternate_config_directories, so postdrop refuses it."""
    user = "postern-s%d" % (os.getpid() % 100000)
    made = subprocess.run(["useradd", "--system", "--user-group",
                           "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", user],
                          capture_output=True, text=True)
    if not tap.ok(made.returncode == 0, "throwaway user " + user):
        tap.diag(made.stderr)
        return
    try:
        import pwd
        pw = pwd.getpwnam(user)
        sgdir = os.path.join(top, "sgid")
        os.mkdir(sgdir)
        os.chmod(sgdir, 0o755)
        shutil.copy(POSTDROP, os.path.join(sgdir, "postdrop"))
        os.chown(os.path.join(sgdir, "postdrop"), 0, owner_of(inst).pw_gid)
        os.chmod(os.path.join(sgdir, "postdrop"), 0o2755)
        inst.set("command_directory", sgdir)

        def as_user():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        r = inst.sendmail(["u@localhost"], b"x\n", preexec=as_user)
        tap.is_(r.returncode, 77, "setgid postdrop: another -c DIR is "
                "refused for a user (exit 77)")
        tap.like(r.stderr.decode(), r"alternate_config_directories",
                 "  naming alternate_config_directories")
        tap.is_(inst.ids("maildrop"), [], "  nothing in maildrop/")
    finally:
        inst.set("command_directory", inst.libexec)
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", user], capture_output=True)


top = pt.tempdir()
inst = DropInstance(top)
try:
    r = inst.postern("start")
    tap.is_(r.returncode, 0, "instance with pickup starts")
    if r.returncode != 0:
        tap.diag(r.stderr)
    test_simple(inst)
    test_extract(inst)
    test_sender(inst)
    test_dots(inst)
    test_errors(inst, top)
    test_smtp(inst)
    test_newaliases(inst, top)
    test_corrupt(inst)
    test_mailq(inst, top)
    test_flush(inst)
    test_down_and_window(inst, top)
    if ROOT:
        test_setgid(inst, top)
    else:
        tap.skip("setgid postdrop", "not root")
    test_size(inst)
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports in the log")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
