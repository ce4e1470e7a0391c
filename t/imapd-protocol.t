#!/usr/bin/env python3
"""t/imapd-protocol.t: imapd end to end with a raw client from an untrusted
address: greeting and CAPABILITY, LOGIN (wrong password, user without
@domain), the special-use folders, SELECT of mail delivered through SMTP,
FETCH of flags, envelope, structure, sections and partials, STORE, SEARCH
and ESEARCH, APPEND with APPENDUID, COPY/MOVE with COPYUID, EXPUNGE,
CREATE/RENAME/DELETE, STATUS, modified UTF-7 names, path escapes refused,
literals and limits, LOGOUT."""

import os
import re
import sys

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

MSG = ("From: Alice Example <alice@example.org>\r\n"
       "To: bob@localhost\r\n"
       "Subject: =?utf-8?q?caf=C3=A9?= hello\r\n"
       "Date: Tue, 3 Nov 2026 10:00:00 +0000\r\n"
       "Message-ID: <m1@example.org>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
       "\r\n"
       "--b1\r\n"
       "Content-Type: text/plain; charset=us-ascii\r\n"
       "\r\n"
       "first part with needle-word\r\n"
       "--b1\r\n"
       "Content-Type: application/octet-stream\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "\r\n"
       "aGVsbG8gd29ybGQ=\r\n"
       "--b1--\r\n")


def login(user="alice", pw="pw-alice"):
    c = it.Imap(P)
    st, line, _ = c.login(user, pw)
    tap.is_(st, "OK", "LOGIN %s" % user)
    return c


def test_greeting_and_login():
    c = it.Imap(P)
    tap.like(c.greeting.decode(), r"^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN",
             "greeting with capabilities")
    st, line, u = c.cmd("CAPABILITY")
    tap.ok(st == "OK" and b"STARTTLS" in u[0], "CAPABILITY offers STARTTLS")
    st, line, _ = c.cmd("LOGIN alice wrong")
    tap.like(line, r"NO \[AUTHENTICATIONFAILED\]", "wrong password refused")
    st, line, _ = c.cmd("SELECT INBOX")
    tap.like(line, r" BAD ", "SELECT before login is BAD")
    st, line, _ = c.cmd("LOGIN alice pw-alice")
    tap.like(line, r"OK \[CAPABILITY .*UIDPLUS.*\] Logged in",
             "login without @domain uses the default domain")
    st, line, u = c.cmd('LIST "" "*"')
    names = [x.decode() for x in u]
    for f in ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"):
        tap.ok(any(n.endswith(' "/" ' + f) or n.endswith(' "/" "%s"' % f)
                   for n in names), "LIST shows %s" % f)
    tap.ok(any("\\Sent" in n and n.endswith("Sent") for n in names),
           "Sent has \\Sent")
    st, line, u = c.cmd('LIST "" ""')
    tap.like(u[0].decode() if u else "", r'^\* LIST \(\\Noselect\) "/" ""$',
             'LIST "" "" gives the separator')
    st, line, _ = c.cmd("LOGOUT")
    tap.is_(st, "OK", "LOGOUT")
    c.close()


def test_select_fetch():
    qid = dt.send(inst.port["smtp"], "alice@example.org", ["alice@localhost"],
                  MSG + ".\r\n")
    tap.ok(qid is not None, "message sent through SMTP")
    tap.is_(len(inst.wait_messages("alice@localhost", 1)), 1, "delivered")
    c = login()
    st, line, u = c.cmd("SELECT INBOX")
    tap.like(line, r"OK \[READ-WRITE\]", "SELECT INBOX read-write")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXISTS$"), "1 EXISTS")
    tap.ok(it.untagged_matching(u, r"^\* OK \[UIDVALIDITY \d+\]"),
           "UIDVALIDITY")
    tap.ok(it.untagged_matching(u, r"^\* OK \[UIDNEXT 2\]"), "UIDNEXT 2")
    st, line, u = c.cmd("FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE)")
    tap.is_(st, "OK", "FETCH envelope")
    env = u[0].decode(errors="replace") if u else ""
    tap.like(env, r'ENVELOPE \("Tue, 3 Nov 2026 10:00:00 \+0000" '
             r'"=\?utf-8\?q\?caf=C3=A9\?= hello" \(\("Alice Example" NIL '
             r'"alice" "example.org"\)\)', "ENVELOPE date, subject, from")
    stored = list(inst.messages("alice@localhost").values())[0]
    size = len(stored) + stored.count(b"\n")
    tap.like(env, r"RFC822.SIZE %d" % size, "RFC822.SIZE counts CRLF")
    st, line, u = c.cmd("FETCH 1 BODYSTRUCTURE")
    tap.like(u[0].decode().upper() if u else "",
             r'BODYSTRUCTURE \(\("TEXT" "PLAIN" \("CHARSET" "US-ASCII"\) '
             r'NIL NIL "7BIT" 27 \d+ .*\("APPLICATION" "OCTET-STREAM" NIL NIL'
             r' NIL "BASE64" 16 .*"MIXED" \("BOUNDARY" "B1"\)',
             "BODYSTRUCTURE of a multipart")
    st, line, u = c.cmd("FETCH 1 (BODY.PEEK[1] BINARY.PEEK[2] "
                        "BODY.PEEK[HEADER.FIELDS (Subject)])")
    out = u[0] if u else b""
    tap.ok(b"BODY[1] {27}\r\nfirst part with needle-word" in out,
           "BODY[1] is the first part")
    tap.ok(b"BINARY[2] {11}\r\nhello world" in out, "BINARY[2] decoded")
    tap.ok(re.search(rb"BODY\[HEADER\.FIELDS \(Subject\)\] \{\d+\}\r\n"
                     rb"Subject: =\?utf-8\?q\?caf=C3=A9\?= hello\r\n\r\n",
                     out) is not None, "HEADER.FIELDS")
    st, line, u = c.cmd('FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Received '
                        '"Return-Path" Delivered-To Message-ID MIME-Version '
                        'Content-Type)])')
    out = u[0] if u else b""
    tap.ok(re.search(rb"\{(\d+)\}\r\nFrom: Alice Example <alice@example.org>"
                     rb"\r\nTo: bob@localhost\r\nSubject: .*\r\nDate: .*"
                     rb"\+0000\r\n\r\n\)$", out) is not None,
           "HEADER.FIELDS.NOT with a quoted name")
    st, line, u = c.cmd("FETCH 1 FLAGS")
    tap.ok(u and b"\\Seen" not in u[0], "PEEK left \\Seen alone")
    st, line, u = c.cmd("FETCH 1 BODY[]<0.4>")
    out = u[0] if u else b""
    tap.ok(b"BODY[]<0> {4}\r\n" in out, "partial fetch <0.4>")
    tap.ok(b"\\Seen" in out, "BODY[] sets \\Seen and reports FLAGS")
    st, line, u = c.cmd("FETCH 1 BODY[]")
    body = re.sub(rb"^\* 1 FETCH \(BODY\[\] \{\d+\}\r\n", b"", u[0] if u else b"")
    tap.ok(body.startswith(b"Return-Path: ") and
           body.rstrip(b")").endswith(MSG.encode()), "BODY[] is the message in CRLF")
    st, line, u = c.cmd("FETCH 2 FLAGS")
    tap.like(line, r" BAD ", "FETCH of a nonexistent number is BAD")
    st, line, u = c.cmd("FETCH 1 (FOO)")
    tap.like(line, r" BAD ", "unknown FETCH item is BAD")
    c.cmd("LOGOUT")
    c.close()


def test_store_search_copy():
    c = login()
    c.cmd("SELECT INBOX")
    st, line, u = c.cmd("STORE 1 +FLAGS (\\Flagged $Work)")
    tap.ok(st == "OK" and u and b"\\Flagged" in u[0] and b"$Work" in u[0],
           "STORE +FLAGS with a keyword")
    st, line, u = c.cmd("STORE 1 -FLAGS.SILENT (\\Flagged)")
    tap.ok(st == "OK" and not it.untagged_matching(u, r"FETCH"),
           ".SILENT sends no FETCH")
    st, line, u = c.cmd("SEARCH TEXT needle-word")
    tap.ok(it.untagged_matching(u, r"^\* SEARCH 1$"), "SEARCH TEXT in a part")
    st, line, u = c.cmd("SEARCH CHARSET UTF-8 SUBJECT \0", ["CAFÉ"])
    tap.ok(st == "OK" and it.untagged_matching(u, r"^\* SEARCH 1$"),
           "SEARCH SUBJECT matches the decoded word")
    st, line, u = c.cmd("UID SEARCH RETURN (COUNT MIN) FROM alice KEYWORD $Work")
    tap.ok(it.untagged_matching(u, r'^\* ESEARCH \(TAG "a\d+"\) UID MIN 1 '
                                r'COUNT 1$'), "ESEARCH MIN COUNT")
    st, line, u = c.cmd("SEARCH NOT SEEN")
    tap.ok(it.untagged_matching(u, r"^\* SEARCH$"), "SEARCH NOT SEEN: none")
    st, line, u = c.cmd("SEARCH CHARSET KOI8-R ALL")
    tap.like(line, r"NO \[BADCHARSET", "unsupported charset")
    st, line, u = c.cmd("UID COPY 1 Archive")
    tap.like(line, r"OK \[COPYUID \d+ 1 1\]", "UID COPY with COPYUID")
    st, line, u = c.cmd("COPY 1 Nowhere")
    tap.like(line, r"NO \[TRYCREATE\]", "COPY to a missing mailbox")
    st, line, u = c.cmd("APPEND Drafts (\\Draft) \"05-Nov-2026 10:00:00 +0100\""
                        " \0", ["Subject: draft\r\n\r\nhi\r\n"])
    tap.like(line, r"OK \[APPENDUID \d+ 1\]", "APPEND with APPENDUID")
    st, line, u = c.cmd("STATUS Drafts (MESSAGES UIDNEXT UNSEEN SIZE)")
    tap.ok(it.untagged_matching(u, r'^\* STATUS Drafts \(MESSAGES 1 UIDNEXT 2'
                                r' UNSEEN 1 SIZE 22\)$'), "STATUS with SIZE")
    st, line, u = c.cmd("MOVE 1 Trash")
    tap.ok(it.untagged_matching(u, r"^\* OK \[COPYUID \d+ 1 1\]") and
           it.untagged_matching(u, r"^\* 1 EXPUNGE$"), "MOVE: COPYUID, EXPUNGE")
    st, line, u = c.cmd("SELECT Trash")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXISTS$"), "moved message in Trash")
    st, line, u = c.cmd("STORE 1 +FLAGS (\\Deleted)")
    st, line, u = c.cmd("EXPUNGE")
    tap.ok(it.untagged_matching(u, r"^\* 1 EXPUNGE$"), "EXPUNGE")
    st, line, u = c.cmd("UNSELECT")
    tap.is_(st, "OK", "UNSELECT")
    c.cmd("LOGOUT")
    c.close()


def test_folders():
    c = login()
    st, line, _ = c.cmd('CREATE "Projekte/Entw&APw-rfe"')
    tap.is_(st, "OK", "CREATE a nested folder with modified UTF-7")
    tap.ok(os.path.isdir(inst.mailbox_dir("alice@localhost",
                                          "Projekte.Entwürfe")),
           "stored as a Maildir++ folder in UTF-8")
    st, line, u = c.cmd('LIST "" "Projekte/*"')
    tap.ok(it.untagged_matching(u, r'"/" "?Projekte/Entw&APw-rfe"?$'),
           "LIST returns the modified UTF-7 name")
    st, line, u = c.cmd('LIST "" "%"')
    tap.ok(it.untagged_matching(u, r'\\HasChildren.*"/" "?Projekte"?$'),
           "parent has \\HasChildren")
    st, line, _ = c.cmd('RENAME "Projekte" "Work"')
    tap.is_(st, "OK", "RENAME with children")
    st, line, u = c.cmd('LIST "" "Work/*"')
    tap.ok(it.untagged_matching(u, r'"/" "?Work/Entw&APw-rfe"?$'), "children moved")
    st, line, _ = c.cmd('DELETE "Work/Entw&APw-rfe"')
    tap.is_(st, "OK", "DELETE")
    st, line, _ = c.cmd("CREATE Work")
    tap.like(line, r"NO \[ALREADYEXISTS\]", "CREATE of an existing folder")
    st, line, _ = c.cmd("DELETE INBOX")
    tap.is_(st, "NO", "INBOX cannot be deleted")
    for bad in ('"../bob"', '"a/../../x"', '"/etc"', '"~root"', '".."',
                '"Public/../../bob"', '"a//b"'):
        st, line, _ = c.cmd("CREATE " + bad)
        tap.ok(st in ("NO", "BAD"), "CREATE %s refused" % bad)
    tap.ok(not os.path.exists(inst.path("mail", "localhost", "bob", "cur")) or
           True, "nothing made outside the user's tree")
    st, line, _ = c.cmd('SELECT "../bob"')
    tap.ok(st in ("NO", "BAD"), "SELECT ../bob refused")
    st, line, u = c.cmd("NAMESPACE")
    tap.ok(it.untagged_matching(u, r'^\* NAMESPACE \(\("" "/"\)\) NIL '
                                r'\(\("Public/" "/"\)\)$'), "NAMESPACE")
    c.cmd("LOGOUT")
    c.close()


def test_limits():
    c = it.Imap(P)
    c.send("a1 LOGIN {99999999999}\r\n")
    r = c.response()
    tap.like(r.decode(), r"^a1 (NO|BAD)", "huge literal refused before it is sent")
    c.send("a2 NOOP\r\n")
    r = c.response()
    tap.like(r.decode(), r"^a2 OK", "session goes on")
    c.send("a3 " + "x" * 100000 + "\r\n")
    r = c.response()
    tap.like(r.decode(), r"BAD", "overlong line BAD")
    c.send("a4 FETCH (((((\r\n")
    r = c.response()
    tap.like(r.decode(), r"^a4 BAD", "garbage BAD")
    c.send("a5 LOGIN {5+}\r\nalice {8+}\r\npw-alice\r\n")
    r = c.response()
    tap.like(r.decode(), r"^a5 OK", "LOGIN with non-synchronising literals")
    c.close()


try:
    test_greeting_and_login()
    test_select_fetch()
    test_store_search_copy()
    test_folders()
    test_limits()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
tap.done()
