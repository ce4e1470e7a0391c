#!/usr/bin/env python3
"""t/imapd-concurrency.t: two sessions of one user on one mailbox see each
other's flag changes, appends and expunges as untagged responses, with no
EXPUNGE during FETCH/STORE/SEARCH by number (RFC 9051 7.5.1); mail
delivered by local reaches an IDLE client within a second; the index
deleted (or damaged) between sessions is rebuilt with a new UIDVALIDITY;
one user cannot reach another's mailboxes."""

import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import deliver_test as dt  # noqa: E402
import imapd_test as it  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = it.ImapInstance(top, users={"alice@localhost": "pw-alice",
                                   "bob@localhost": "pw-bob"})
inst.start()
P = inst.port["imap"]


def session(user="alice@localhost", pw="pw-alice", box="INBOX"):
    c = it.Imap(P)
    st, line, _ = c.login(user, pw)
    if st != "OK":
        raise RuntimeError("login: " + line)
    c.cmd("SELECT " + box)
    return c


def append(c, n, box="INBOX"):
    """Appends n messages; returns the untagged responses seen."""
    seen = []
    for i in range(n):
        st, line, u = c.cmd("APPEND %s \0" % box,
                            ["Subject: m%d\r\n\r\nbody %d\r\n" % (i, i)])
        if st != "OK":
            raise RuntimeError("append: " + line)
        seen += u
    return seen


def test_two_sessions():
    a = session()
    b = session()
    u = append(a, 3)
    tap.ok(it.untagged_matching(u, r"^\* 3 EXISTS$"),
           "A sees its appends (EXISTS before APPEND's OK)")
    st, line, u = b.cmd("NOOP")
    tap.ok(it.untagged_matching(u, r"^\* 3 EXISTS$"), "B sees A's appends")
    a.cmd("STORE 2 +FLAGS (\\Flagged)")
    st, line, u = b.cmd("NOOP")
    tap.ok(it.untagged_matching(u, r"^\* 2 FETCH \(UID \d+ FLAGS \(\\Flagged\)\)$"),
           "B sees A's flag change")
    a.cmd("STORE 1 +FLAGS (\\Deleted)")
    st, line, u = a.cmd("EXPUNGE")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXPUNGE$"), "A expunges 1")
    st, line, u = b.cmd("FETCH 1:* (FLAGS)")
    tap.ok(not it.untagged_matching(u, r"EXPUNGE"),
           "no EXPUNGE to B during FETCH")
    st, line, u = b.cmd("STORE 3 +FLAGS (\\Seen)")
    tap.ok(not it.untagged_matching(u, r"EXPUNGE"),
           "no EXPUNGE to B during STORE")
    st, line, u = b.cmd("SEARCH ALL")
    tap.ok(not it.untagged_matching(u, r"EXPUNGE"),
           "no EXPUNGE to B during SEARCH")
    st, line, u = b.cmd("NOOP")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXPUNGE$"), "B gets it at NOOP")
    st, line, u = b.cmd("FETCH 1:* (UID)")
    tap.is_(len(it.untagged_matching(u, r"FETCH")), 2, "B now has 2 messages")
    st, line, u = a.cmd("NOOP")
    tap.ok(it.untagged_matching(u, r"^\* 2 FETCH \(UID \d+ FLAGS \(\\Seen( \\Recent)?\)\)$"),
           "A sees B's \\Seen")
    a.cmd("LOGOUT")
    b.cmd("LOGOUT")
    a.close()
    b.close()


def test_idle_push():
    c = session()
    t = c.tag()
    c.send(t + " IDLE\r\n")
    r = c.response()
    tap.ok(r.startswith(b"+"), "IDLE continuation")
    start = time.monotonic()
    qid = dt.send(inst.port["smtp"], "x@example.org", ["alice@localhost"],
                  "Subject: push\r\n\r\nhi\r\n.\r\n")
    tap.ok(qid is not None, "mail sent")
    c.sock.settimeout(5)
    got = None
    try:
        got = c.response()
    except (OSError, EOFError):
        pass
    latency = time.monotonic() - start
    tap.ok(got is not None and got.endswith(b"EXISTS"),
           "EXISTS pushed during IDLE")
    tap.ok(latency < 1.5, "within a second of sending (%.3f s incl. SMTP "
           "and delivery)" % latency)
    c.send("DONE\r\n")
    st, line, u = c.finish(t)
    tap.is_(st, "OK", "IDLE terminated by DONE")
    c.close()


def test_index_rebuilt():
    c = session()
    st, line, u = c.cmd("STATUS INBOX (UIDVALIDITY MESSAGES)")
    c.cmd("LOGOUT")
    c.close()
    before = u[0].decode() if u else ""
    inbox = inst.mailbox_dir("alice@localhost")
    index = [f for f in glob.glob(os.path.join(inbox, "postern*"))
             if "index" in f]
    tap.ok(index, "the index exists on disk")
    for f in index:
        os.unlink(f)
    c = session()
    st, line, u = c.cmd("STATUS INBOX (UIDVALIDITY MESSAGES)")
    after = u[0].decode() if u else ""
    tap.ok(after != before and after.split("MESSAGES")[1] ==
           before.split("MESSAGES")[1],
           "rebuilt: same messages, new UIDVALIDITY (%s -> %s)"
           % (before, after))
    st, line, u = c.cmd("FETCH 1:* (UID FLAGS)")
    tap.ok(st == "OK" and len(u) >= 3, "messages readable after the rebuild")
    c.cmd("LOGOUT")
    c.close()
    for f in index:
        with open(f, "wb") as fh:
            fh.write(os.urandom(300))
    c = session()
    st, line, u = c.cmd("FETCH 1:* (UID)")
    tap.ok(st == "OK" and len(u) >= 3, "damaged index: rebuilt, no crash")
    c.close()


def test_isolation():
    b = it.Imap(P)
    b.login("bob", "pw-bob")
    for name in ('"../alice"', '"../alice/INBOX"', '"~alice"',
                 '"/%s"' % inst.mailbox_dir("alice@localhost")):
        st, line, _ = b.cmd("SELECT " + name)
        tap.ok(st in ("NO", "BAD"), "bob cannot SELECT %s" % name)
    st, line, u = b.cmd('LIST "" "*"')
    tap.ok(not it.untagged_matching(u, r"alice"), "bob's LIST shows no alice")
    st, line, _ = b.cmd("CREATE Public/Shared")
    tap.is_(st, "OK", "bob creates a public folder")
    append(b, 1, "Public/Shared")
    b.close()
    a = session(box="Public/Shared")
    st, line, u = a.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])")
    tap.ok(st == "OK" and u and b"Subject: m0" in u[0],
           "alice reads the public folder")
    a.close()


def test_auth_cache():
    """The auth daemon remembers successful logins (auth_cache_ttl), but
    a changed password is refused at once."""
    for _ in range(3):
        c = it.Imap(P)
        st, line, _ = c.login("bob", "pw-bob")
        c.close()
    tap.is_(st, "OK", "repeated logins (served from the auth cache)")
    r = pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user", "passwd",
                           "bob@localhost"], input="pw-new\n", text=True,
                          capture_output=True, timeout=30)
    tap.is_(r.returncode, 0, "password changed")
    c = it.Imap(P)
    st, line, _ = c.login("bob", "pw-bob")
    tap.is_(st, "NO", "the old password fails at once, cached or not")
    c.close()
    c = it.Imap(P)
    st, line, _ = c.login("bob", "pw-new")
    tap.is_(st, "OK", "the new password works")
    c.close()


try:
    test_two_sessions()
    test_idle_push()
    test_index_rebuilt()
    test_isolation()
    test_auth_cache()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
