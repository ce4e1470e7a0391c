#!/usr/bin/env python3
"""t/pop3d-concurrency.t: the POP3 maildrop lock and POP3 next to IMAP on
the same INBOX: a second POP3 session gets -ERR [IN-USE] until the first
one ends (also when the first one's connection just drops); mail
delivered during a session shows up in the next one; UIDL is stable
across sessions and after IMAP flag changes and equals UIDVALIDITY.UID of
IMAP; POP3's deletions reach an IMAP session as EXPUNGE, its RETRs as
\\Seen; a message IMAP expunges under a POP3 session gives an error, not a
crash; many POP3 sessions of different users in parallel."""

import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import pop3d_test as p3  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
USERS = {"alice@localhost": "pw-alice"}
USERS.update({"u%d@localhost" % i: "pw-u%d" % i for i in range(8)})
inst = p3.Pop3Instance(top, users=USERS)
inst.start()
P = inst.port["pop3"]
ALICE = "alice@localhost"


def login(user="alice", pw="pw-alice"):
    c = p3.Pop3(P)
    return c, c.login(user, pw)


def uidl(c):
    c.cmd("UIDL")
    return [l.split()[1] for l in c.multi()]


def test_lock():
    a, r = login()
    tap.like(r, r"^\+OK", "first session logs in")
    b, r = login()
    tap.like(r, r"^-ERR \[IN-USE\]", "second session: [IN-USE]")
    tap.is_(b.cmd("STAT")[:4], "-ERR", "and stays in AUTHORIZATION")
    p3.deliver(inst, ALICE, ["arrived during the session\r\n"])
    tap.like(a.cmd("STAT"), r"^\+OK 3 ", "the snapshot does not change")
    a.cmd("QUIT")
    a.close()
    tap.like(b.login("alice", "pw-alice"), r"^\+OK Logged in; 4 messages",
             "free again after QUIT; the new mail is there")
    b.close()  # dropped without QUIT: the lock goes with the connection
    end = time.monotonic() + 5
    r = None
    while time.monotonic() < end:
        c, r = login()
        if r.startswith("+OK"):
            break
        c.close()
        time.sleep(0.1)
    tap.like(r, r"^\+OK", "free again after a dropped connection")
    c.cmd("QUIT")
    c.close()


def imap_session():
    import imapd_test as it
    c = it.Imap(inst.port["imap"])
    st, line, _ = c.login("alice", "pw-alice")
    if st != "OK":
        raise RuntimeError("IMAP login: " + line)
    st, line, u = c.cmd("SELECT INBOX")
    return it, c, u


def test_with_imap():
    if not inst.has_imapd:
        tap.skip("POP3 next to IMAP", "imapd not built")
        return
    it, im, u = imap_session()
    validity = [re.search(rb"UIDVALIDITY (\d+)", x) for x in u]
    validity = [m.group(1).decode() for m in validity if m][0]
    st, line, u = im.cmd("FETCH 1:* (UID)")
    uids = [re.search(rb"UID (\d+)", x).group(1).decode() for x in u
            if b"FETCH" in x]
    c, r = login()
    ids = uidl(c)
    tap.is_(ids, ["%s.%s" % (validity, x) for x in uids],
            "UIDL = IMAP UIDVALIDITY.UID")
    im.cmd("STORE 1:* +FLAGS (\\Flagged $Label1)")
    im.cmd("STORE 2 -FLAGS (\\Flagged)")
    tap.is_(uidl(c), ids, "UIDL unchanged after IMAP flag changes")
    c.cmd("RETR 2")
    c.multi()
    c.cmd("DELE 1")
    tap.like(c.cmd("QUIT"), r"^\+OK Logging out, 1 message deleted",
             "POP3 deletes while IMAP has INBOX selected")
    c.close()
    st, line, u = im.cmd("NOOP")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXPUNGE$"),
           "IMAP sees the deletion as EXPUNGE")
    st, line, u = im.cmd("FETCH 1 (FLAGS)")
    tap.ok(u and b"\\Seen" in u[0], "the RETR'd message is \\Seen in IMAP")
    c, r = login()
    tap.is_(uidl(c), ids[1:], "UIDL stable in a new session")
    im.cmd("STORE 1 +FLAGS (\\Deleted)")
    st, line, u = im.cmd("EXPUNGE")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXPUNGE$"),
           "IMAP expunges a message POP3 holds")
    tap.like(c.cmd("RETR 1"), r"^-ERR", "POP3 RETR of it: -ERR")
    tap.like(c.cmd("RETR 2"), r"^\+OK", "the others still retrievable")
    c.multi()
    c.cmd("DELE 1")
    tap.like(c.cmd("QUIT"), r"^\+OK", "QUIT after the IMAP expunge")
    c.close()
    st, line, u = im.cmd("FETCH 1:* (UID)")
    fetched = it.untagged_matching(u, r"^\* \d+ FETCH \(UID \d+\)$")
    tap.ok(st == "OK" and len(fetched) == len(ids) - 2,
           "IMAP: %d messages left, mailbox intact" % (len(ids) - 2))
    if len(fetched) != len(ids) - 2:
        tap.diag(repr(u))
    im.cmd("LOGOUT")
    im.close()


def test_parallel():
    for i in range(8):
        p3.deliver(inst, "u%d@localhost" % i, ["m%d\r\n" % i] * 2)
    results = {}

    def worker(i):
        ok = 0
        for _ in range(5):
            c, r = login("u%d" % i, "pw-u%d" % i)
            if r and r.startswith("+OK") and c.cmd("STAT").startswith(
                    "+OK 2 "):
                c.cmd("RETR 1")
                c.multi()
                ok += c.cmd("QUIT").startswith("+OK")
            c.close()
        results[i] = ok

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    tap.is_(sum(results.values()), 40, "8 users x 5 sessions in parallel")


try:
    tap.is_(p3.deliver(inst, ALICE, ["one\r\n", "two\r\n", "three\r\n"]), 3,
            "3 messages delivered")
    test_lock()
    test_with_imap()
    test_parallel()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
