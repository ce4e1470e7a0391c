#!/usr/bin/env python3
"""t/imapd-clients.t: real IMAP clients against imapd: python's imaplib
(STARTTLS, AUTHENTICATE PLAIN, the Thunderbird-like first steps), curl's
IMAP support over IMAPS, mutt driven through tmux (save to a folder,
expunge on quit), and mbsync syncing a 1,000-message mailbox both
ways (pull, then flag, move, delete and add locally, push back, and the
server shows every change)."""

import imaplib
import os
import re
import shutil
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import imapd_test as it  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = it.ImapInstance(top, users={"alice@localhost": "pw-alice"},
                       main={"imapd_tls_auth_only": "yes"})
inst.start()
P = inst.port["imap"]
PS = inst.port["imaps"]
NOCHECK = ssl.create_default_context()
NOCHECK.check_hostname = False
NOCHECK.verify_mode = ssl.CERT_NONE


class Imaplib(imaplib.IMAP4):
    """imaplib from the untrusted source address."""

    def _create_socket(self, timeout):
        import socket
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(it.UNTRUSTED, 0))


def test_imaplib():
    m = Imaplib("127.0.0.1", P, timeout=10)
    tap.ok("LOGINDISABLED" in m.capabilities, "LOGINDISABLED before TLS")
    try:
        m.login("alice", "pw-alice")
        tap.ok(False, "plaintext LOGIN refused")
    except imaplib.IMAP4.error:
        tap.ok(True, "plaintext LOGIN refused")
    m.starttls(ssl_context=NOCHECK)
    tap.ok("AUTH=PLAIN" in m.capabilities, "AUTH=PLAIN after STARTTLS")
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0alice\0pw-alice")
    tap.is_(typ, "OK", "AUTHENTICATE PLAIN over STARTTLS")
    typ, data = m.list()
    tap.ok(typ == "OK" and any(b"Sent" in d for d in data), "LIST")
    typ, data = m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(0),
                         b"Subject: via imaplib\r\n\r\nhello\r\n")
    tap.is_(typ, "OK", "APPEND")
    typ, data = m.select("INBOX")
    tap.is_((typ, data), ("OK", [b"1"]), "SELECT")
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    tap.ok(typ == "OK" and b"via imaplib" in data[0][1], "FETCH")
    typ, data = m.uid("SEARCH", None, "SUBJECT", "imaplib")
    tap.is_((typ, data), ("OK", [b"1"]), "UID SEARCH")
    m.logout()


def test_curl():
    url = "imaps://127.0.0.1:%d/INBOX" % PS
    r = subprocess.run(["curl", "-s", "-k", "--interface", it.UNTRUSTED,
                        "-u", "alice:pw-alice", url + ";UID=1"],
                       capture_output=True, timeout=30)
    tap.ok(r.returncode == 0 and b"Subject: via imaplib" in r.stdout,
           "curl fetches a message over IMAPS (rc %d)" % r.returncode)
    r = subprocess.run(["curl", "-s", "-k", "--interface", it.UNTRUSTED,
                        "-u", "alice:pw-alice",
                        "imaps://127.0.0.1:%d/" % PS], capture_output=True,
                       timeout=30)
    tap.ok(r.returncode == 0 and b"Drafts" in r.stdout, "curl lists folders")
    r = subprocess.run(["curl", "-s", "-k", "--interface", it.UNTRUSTED,
                        "-u", "alice:wrong", url + ";UID=1"],
                       capture_output=True, timeout=30)
    tap.ok(r.returncode != 0, "curl with a wrong password fails")


MUTTRC = """set folder="imaps://alice@127.0.0.1:{port}/"
set imap_user="alice"
set imap_pass="pw-alice"
set spoolfile="+INBOX"
set certificate_file="{certs}"
set ssl_verify_host=no
set ssl_force_tls=yes
set delete=yes
set confirmcreate=no
set confirmappend=no
set mail_check=1
set header_cache=""
set message_cachedir=""
"""


def tmux(*args):
    return subprocess.run(["tmux", "-L", "postern-test"] + list(args),
                          capture_output=True, text=True, timeout=30)


def wait_screen(pattern, timeout=15.0):
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = tmux("capture-pane", "-p", "-t", "mutt").stdout
        if re.search(pattern, screen):
            return screen
        time.sleep(0.2)
    tap.diag(screen)
    return None


def test_mutt():
    """mutt, driven through tmux like a person at the keyboard: open the
    INBOX over IMAPS, save the message to Archive, quit (which expunges)."""
    if shutil.which("mutt") is None or shutil.which("tmux") is None:
        tap.skip("mutt saves a message to Archive", "mutt or tmux missing")
        return
    rc = os.path.join(top, "muttrc")
    with open(rc, "w") as f:
        f.write(MUTTRC.format(port=PS, certs=inst.path("tls", "cert.pem")))
    tmux("new-session", "-d", "-s", "mutt", "-x", "160", "-y", "40",
         "env TERM=xterm HOME=%s mutt -n -F %s" % (top, rc))
    try:
        tap.ok(wait_screen(r"via imaplib") is not None,
               "mutt shows the INBOX over IMAPS")
        tmux("send-keys", "-t", "mutt", "s")
        wait_screen(r"Save to mailbox", 5)
        tmux("send-keys", "-t", "mutt", "C-u", "=Archive", "Enter")
        time.sleep(1)
        tmux("send-keys", "-t", "mutt", "q")
        end = time.monotonic() + 15
        while time.monotonic() < end and tmux("has-session", "-t",
                                             "mutt").returncode == 0:
            time.sleep(0.2)
    finally:
        tmux("kill-server")
    c = it.Imap(PS, tls=True)
    c.login("alice", "pw-alice")
    st, line, u = c.cmd("STATUS Archive (MESSAGES)")
    tap.ok(it.untagged_matching(u, r"MESSAGES 1\)"), "mutt saved it to Archive")
    st, line, u = c.cmd("STATUS INBOX (MESSAGES)")
    tap.ok(it.untagged_matching(u, r"MESSAGES 0\)"),
           "and removed it from INBOX on quit")
    st, line, u = c.cmd("SELECT Archive")
    st, line, u = c.cmd("UID MOVE 1:* INBOX")
    tap.is_(st, "OK", "moved back for the next test")
    c.close()


MBSYNCRC = """IMAPAccount test
Host 127.0.0.1
Port {port}
User alice
Pass pw-alice
SSLType IMAPS
CertificateFile {cert}

IMAPStore remote
Account test

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX Archive
Create Both
Expunge Both
SyncState *
"""


def mbsync(rc):
    return subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True,
                          text=True, timeout=300)


def fill(n):
    """n messages into INBOX over one pipelined connection."""
    c = it.Imap(PS, tls=True, timeout=120)
    c.login("alice", "pw-alice")
    out = b""
    for i in range(n):
        msg = ("From: s%d@example.org\r\nSubject: bulk %d\r\n\r\n%s\r\n"
               % (i, i, "x" * (i % 300))).encode()
        out += b"b%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(msg), msg)
    c.send(out)
    ok = 0
    for i in range(n):
        while True:
            r = c.response()
            if r.startswith(b"b%d " % i):
                ok += r.split(b" ")[1] == b"OK"
                break
    c.close()
    return ok


def local_files(d):
    return [f for s in ("cur", "new") for f in os.listdir(os.path.join(d, s))]


def test_mbsync():
    if shutil.which("mbsync") is None:
        tap.skip("mbsync two-way sync", "mbsync (isync) not installed")
        return
    tap.is_(fill(1000), 1000, "1,000 messages appended")
    local = os.path.join(top, "local")
    os.mkdir(local)
    rc = os.path.join(top, "mbsyncrc")
    with open(rc, "w") as f:
        f.write(MBSYNCRC.format(port=PS, cert=inst.path("tls", "cert.pem"),
                                local=local))
    r = mbsync(rc)
    tap.is_(r.returncode, 0, "mbsync pull")
    if r.returncode != 0:
        tap.diag(r.stdout + r.stderr)
    inbox = os.path.join(local, "INBOX")
    files = sorted(local_files(inbox))
    tap.is_(len(files), 1001, "all messages pulled")
    # Flag 10, delete 5, move 3 to Archive, add one new message (mbsync
    # keeps unseen mail in new/, the rest in cur/).
    paths = sorted(os.path.join(inbox, s, n) for s in ("cur", "new")
                   for n in os.listdir(os.path.join(inbox, s)))
    cur = os.path.join(inbox, "cur")
    for p in paths[:10]:
        base, _, flags = os.path.basename(p).partition(":2,")
        os.rename(p, os.path.join(cur, base + ":2," +
                                  "".join(sorted(set(flags + "F")))))
    for p in paths[10:15]:
        os.unlink(p)
    arch = os.path.join(local, "Archive")
    for s in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(arch, s), exist_ok=True)
    for p in paths[15:18]:
        base = os.path.basename(p).split(",U=")[0].split(":2,")[0]
        os.rename(p, os.path.join(arch, "cur", base + ":2,S"))
    with open(os.path.join(inbox, "new", "1.local.new"), "wb") as f:
        f.write(b"Subject: written locally\n\nnew\n")
    r = mbsync(rc)
    tap.is_(r.returncode, 0, "mbsync push")
    if r.returncode != 0:
        tap.diag(r.stdout + r.stderr)
    c = it.Imap(PS, tls=True)
    c.login("alice", "pw-alice")
    st, line, u = c.cmd("STATUS INBOX (MESSAGES)")
    tap.ok(it.untagged_matching(u, r"MESSAGES 994\)"),
           "server INBOX: 1001 - 5 deleted - 3 moved + 1 new = 994 (%s)"
           % (u[0].decode() if u else ""))
    st, line, u = c.cmd("STATUS Archive (MESSAGES)")
    tap.ok(it.untagged_matching(u, r"MESSAGES 3\)"), "3 moved to Archive")
    c.cmd("SELECT INBOX")
    st, line, u = c.cmd("SEARCH FLAGGED")
    tap.is_(len(u[0].split()) - 2 if u else 0, 10, "10 flagged on the server")
    st, line, u = c.cmd("SEARCH SUBJECT \"written locally\"")
    tap.ok(u and len(u[0].split()) == 3, "the local message reached the server")
    c.close()
    r = mbsync(rc)
    tap.ok(r.returncode == 0 and len(local_files(inbox)) == 994,
           "a third sync changes nothing")


def test_big_store():
    # STORE over more than one output chunk (1,000 messages): every
    # message answered once, in order, with its new flags; another session
    # sees them all.
    c = it.Imap(PS, tls=True, timeout=120)
    c.login("alice", "pw-alice")
    st, line, u = c.cmd("STATUS INBOX (MESSAGES)")
    have = int(re.search(rb"MESSAGES (\d+)", u[0]).group(1))
    fill(max(1100 - have, 0))
    st, line, u = c.cmd("SELECT INBOX")
    n = int(next(x for x in u if x.endswith(b" EXISTS")).split()[1])
    tap.ok(n > 1000, "%d messages in INBOX" % n)
    st, line, u = c.cmd("STORE 1:* +FLAGS (\\Answered)")
    seqs = [int(x.split()[1]) for x in u if b" FETCH " in x]
    tap.is_(seqs, list(range(1, n + 1)),
            "STORE 1:*: one FETCH per message, in order")
    tap.ok(all(b"\\Answered" in x for x in u if b" FETCH " in x),
           "each with the new flag")
    st, line, u = c.cmd("STORE 1:* -FLAGS.SILENT (\\Answered)")
    tap.is_([x for x in u if b" FETCH " in x], [], ".SILENT: no FETCH")
    c.cmd("STORE 1:* +FLAGS.SILENT (\\Answered)")
    d = it.Imap(PS, tls=True, timeout=120)
    d.login("alice", "pw-alice")
    d.cmd("SELECT INBOX")
    st, line, u = d.cmd("SEARCH ANSWERED")
    tap.is_(len(u[0].split()) - 2 if u else 0, n,
            "another session sees all %d answered" % n)
    d.close()
    c.close()


try:
    test_imaplib()
    test_curl()
    test_mutt()
    test_mbsync()
    test_big_store()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
