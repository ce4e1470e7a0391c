#!/usr/bin/env python3
"""t/smtpd-data.t: DATA and BDAT in smtpd, up to the queue: a message
answered 250 is in incoming/ with its envelope (sender, recipients, DSN
NOTIFY/ORCPT/RET/ENVID, client facts) and its content (Received: first,
dot-unstuffed); a whole pipelined transaction; SMTP smuggling (bare LF/CR
around the dot) never ends the data nor runs a command (a bare LF ends
the session with 521, smtpd_forbid_bare_newline; with it off or for an
excluded client a bare LF is stored as CRLF); NUL; size limits
with and without SIZE=; long lines; BDAT with exact byte counts and
hostile counts; a queue write error gives 451 and no file."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, extra={
    "small": ["message_size_limit=1000"],
    "fresh": [],
    "lf": ["smtpd_forbid_bare_newline=no"],
})
with open(inst.path("users"), "w") as f:
    f.write("alice@localhost x\nbob@localhost x\n")
P = inst.port["smtp"]
QUEUED = r"^250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})$"


def queued_id(reply):
    m = re.match(QUEUED, reply[1] or "")
    return m.group(1) if m else None


def test_simple():
    body = "Subject: hi\r\n\r\n..leading dot\r\n.x\r\nend\r\n.\r\n"
    r = st.transaction(P, "s@example.org", ["alice@localhost",
                                            "bob@localhost"], body)
    qid = queued_id(r[-1])
    tap.ok(qid is not None, "DATA: 250 queued as ID")
    tap.ok(qid in inst.queue_ids(), "the file is in incoming/ at the 250")
    env, content = inst.qread(qid)
    tap.is_(env["sender"], ["s@example.org"], "sender stored")
    tap.is_(env["rcpt"], ["alice@localhost notify=0 orcpt=-",
                          "bob@localhost notify=0 orcpt=-"],
            "both recipients stored")
    tap.is_(env["field.client_address"], ["127.0.0.2"], "client address")
    tap.is_(env["field.helo_name"], ["client.test"], "HELO name")
    tap.is_(env["field.protocol"], ["ESMTP"], "protocol")
    tap.ok(content.startswith(b"Received: from client.test (unknown "
                              b"[127.0.0.2])\r\n\tby localhost (Postern) "
                              b"with ESMTP id " + qid.encode() + b"; "),
           "Received: header first")
    tap.ok(content.endswith(b"\r\nSubject: hi\r\n\r\n.leading dot\r\nx\r\n"
                            b"end\r\n"), "content dot-unstuffed, exact")
    log = inst.log()
    tap.like(log, qid + r": client=unknown\[127\.0\.0\.2\]", "client= log")
    tap.like(log, qid + r": from=<s@example\.org>, size=\d+, nrcpt=2",
             "from= log")


def test_dsn():
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org> RET=HDRS ENVID=QQ+2B1 BODY=8BITMIME "
          "SIZE=100")
    c.cmd("RCPT TO:<alice@localhost> NOTIFY=SUCCESS,DELAY "
          "ORCPT=rfc822;alice+40example.org")
    c.cmd("RCPT TO:<bob@localhost> NOTIFY=NEVER")
    c.cmd("DATA")
    c.send("x\r\n.\r\n")
    qid = queued_id(c.reply())
    c.close()
    env, _ = inst.qread(qid)
    tap.is_(env["rcpt"], ["alice@localhost notify=10 "
                          "orcpt=rfc822;alice+40example.org",
                          "bob@localhost notify=1 orcpt=-"],
            "NOTIFY and ORCPT kept per recipient")
    tap.is_(env["ret"], ["2"], "RET=HDRS kept")
    tap.is_(env["field.envid"], ["QQ+2B1"], "ENVID kept")
    tap.is_(env["flags"], ["1"], "BODY=8BITMIME kept")
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s\u00e9@example.org> SMTPUTF8")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send("x\r\n.\r\n")
    env, content = inst.qread(queued_id(c.reply()))
    c.close()
    tap.is_(env["flags"], ["4"], "SMTPUTF8 kept")
    tap.is_(env["sender"], ["s\u00e9@example.org"], "UTF-8 sender")
    tap.like(content.decode(), r"with UTF8SMTP id", "UTF8SMTP in Received:")


def test_pipelining():
    c = st.Smtp(P)
    c.send("EHLO c.test\r\nMAIL FROM:<s@example.org>\r\n"
           "RCPT TO:<alice@localhost>\r\nRCPT TO:<nobody@localhost>\r\n"
           "RCPT TO:<bob@localhost>\r\nDATA\r\nhello\r\n.\r\n"
           "MAIL FROM:<t@example.org>\r\nRCPT TO:<bob@localhost>\r\n"
           "BDAT 5 LAST\r\nhelloQUIT\r\n")
    codes = [r[0] for r in c.replies(11)]
    tap.is_(codes, [250, 250, 250, 550, 250, 354, 250, 250, 250, 250, 221],
            "a whole pipelined session in one write")
    tap.ok(c.closed(), "closed after QUIT")


# name, end-of-data look-alike, whether it holds a bare LF (the session
# ends with 521: smtpd_forbid_bare_newline = yes) or only a bare CR (the
# message is refused with 550 at the real end of data).
SMUGGLE = [
    ("LF . LF", "\n.\n", True),
    ("LF . CRLF", "\n.\r\n", True),
    ("CRLF . LF", "\r\n.\n", True),
    ("CR . CRLF", "\r.\r\n", False),
    ("CRLF . CR CRLF", "\r\n.\r\r\n", False),
]
BARE_LF = (521, "521 5.5.2 localhost Error: bare <LF> received")


def test_smuggling():
    for name, eod, lf in SMUGGLE:
        before = inst.queue_ids()
        c = st.Smtp(P)
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.cmd("DATA")
        c.send("Subject: x\r\n\r\nhello" + eod +
               "MAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@localhost>\r\n"
               "DATA\r\nsmuggled\r\n.\r\nNOOP\r\n")
        r = c.reply()
        if lf:
            tap.is_(r, BARE_LF, name + ": 521 5.5.2 bare <LF>")
            tap.ok(c.closed(), name + ": session closed, nothing ran")
        else:
            tap.is_(r, (550, "550 5.5.2 Error: bare LF or CR in message "
                        "(only CRLF ends a line)"),
                    name + ": one reply, 550 5.5.2")
            tap.is_(c.reply(), (250, "250 2.0.0 Ok"),
                    name + ": nothing smuggled ran (next reply is the NOOP)")
        tap.is_(inst.queue_ids(), before, name + ": nothing queued")
        c.close()
    tap.ok(inst.wait_log(r"bare <LF> received after DATA from "
                         r"unknown\[127\.0\.0\.2\]"), "bare LF logged")
    c = st.Smtp(P)
    for cmd in ("EHLO c.test", "MAIL FROM:<s@example.org>",
                "RCPT TO:<alice@localhost>", "DATA"):
        c.cmd(cmd)
    c.send("a\0b\r\n.\r\n")
    tap.is_(c.reply(), (550, "550 5.6.0 Error: NUL byte in message"),
            "NUL in DATA refused")
    c.close()


def data_with(port, body, size=None):
    c = st.Smtp(port)
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org>" + (" SIZE=%d" % size if size else ""))
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send(body + ".\r\n")
    r = c.reply()
    nxt = c.cmd("NOOP")
    c.close()
    return r, nxt


def test_sizes():
    sp = inst.port["small"]
    r, _ = data_with(sp, "x" * 996 + "\r\n")
    tap.ok(queued_id(r), "size limit-2: accepted")
    r, _ = data_with(sp, "x" * 998 + "\r\n")
    tap.ok(queued_id(r), "size = limit (1000): accepted")
    r, nxt = data_with(sp, "x" * 999 + "\r\n")
    tap.is_(r, (552, "552 5.3.4 Error: message file too big"),
            "limit+1: 552 5.3.4")
    tap.is_(nxt[0], 250, "session goes on")
    r, _ = data_with(sp, ("y" * 78 + "\r\n") * 30000, size=900)
    tap.is_(r[0], 552, "absurd size despite SIZE=900: 552")
    r, _ = data_with(P, "a" * 998 + "\r\n" + "b" * 999 + "\r\n")
    qid = queued_id(r)
    tap.ok(qid, "lines of 998 and 999 octets accepted")
    tap.ok(inst.qread(qid)[1].endswith(b"a" * 998 + b"\r\n" + b"b" * 999 +
                                       b"\r\n"), "and stored unchanged")
    r, nxt = data_with(P, "c" * 70000 + "\r\n")
    tap.is_(r, (552, "552 5.3.4 Error: message line too long"),
            "a 70000-octet line: 552")
    tap.is_(nxt[0], 250, "session goes on")


def test_bdat():
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.send("BDAT 7\r\nSubj: x")
    tap.is_(c.reply(), (250, "250 2.0.0 Ok: 7 bytes"), "BDAT chunk")
    c.send("BDAT 9 LAST\r\n\r\n\r\n.\r\nhi")
    qid = queued_id(c.reply())
    tap.ok(qid, "BDAT LAST: queued")
    tap.ok(inst.qread(qid)[1].endswith(b"\r\nSubj: x\r\n\r\n.\r\nhi"),
           "BDAT content exact (no unstuffing, no end at a dot)")
    c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           "BDAT 4\r\na\rbcBDAT 1 LAST\r\nxRSET\r\n")
    rs = c.replies(5)
    tap.is_([r[0] for r in rs], [250, 250, 550, 550, 250],
            "bare CR in BDAT: this and the later chunk refused, then RSET")
    c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           "BDAT 4\r\na\nbcBDAT 1 LAST\r\nxRSET\r\n")
    tap.is_(c.replies(3)[2], BARE_LF, "bare LF in BDAT: 521")
    tap.ok(c.closed(), "and the session ends")
    c.close()
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.send("BDAT 0 LAST\r\n")
    tap.ok(queued_id(c.reply()), "BDAT 0 LAST: an empty message")
    c.close()
    for count in ("18446744073709551616", "-1", "1x", "", "5 LAST x",
                  "5 FIRST"):
        c = st.Smtp(P)
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        r = c.cmd("BDAT " + count)
        tap.is_(r[0], 501, "BDAT %r: 501" % count)
        tap.ok(c.closed(), "BDAT %r: session ends (framing lost)" % count)
    c = st.Smtp(inst.port["small"])
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.send("BDAT 1000\r\n" + "z" * 1000)
    tap.is_(c.reply()[0], 250, "BDAT at the size limit")
    c.send("BDAT 1 LAST\r\nz")
    tap.is_(c.reply()[0], 552, "BDAT over the size limit: 552")
    c.close()


def test_bare_lf_allowed():
    """smtpd_forbid_bare_newline = no (service "lf"), and a client in
    smtpd_forbid_bare_newline_exclusions ($mynetworks): a bare LF ends a
    line and is stored as CRLF, but only CRLF . CRLF ends the data."""
    for what, port, src in (("forbid=no", inst.port["lf"], st.UNTRUSTED),
                            ("excluded client", P, st.TRUSTED)):
        before = set(inst.queue_ids())
        c = st.Smtp(port, src=src)
        c.send("EHLO c.test\n")
        tap.is_(c.reply()[0], 250, what + ": LF command")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.cmd("DATA")
        c.send("Subject: lf\n\nhello\n.\nRSET\r\n..x\r\n.\r\n")
        qid = queued_id(c.reply())
        tap.ok(qid, what + ": queued at CRLF . CRLF only")
        tap.is_(sorted(set(inst.queue_ids()) - before), [qid],
                what + ": one message")
        content = inst.qread(qid)[1] if qid else b""
        tap.ok(content.endswith(b"\r\nSubject: lf\r\n\r\nhello\r\n.\r\n"
                                b"RSET\r\n.x\r\n"),
               what + ": LF stored as CRLF, the LF-dot line is content")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.send("BDAT 5 LAST\r\na\nb\r\n")
        qid = queued_id(c.reply())
        tap.ok(qid and inst.qread(qid)[1].endswith(b"\r\na\r\nb\r\n"),
               what + ": BDAT bare LF stored as CRLF")
        c.cmd("QUIT")
        c.close()


def test_abort():
    before = inst.queue_ids()
    c = st.Smtp(P)
    for cmd in ("EHLO c.test", "MAIL FROM:<s@example.org>",
                "RCPT TO:<alice@localhost>", "DATA"):
        c.cmd(cmd)
    c.send("Subject: cut\r\n\r\n" + "z" * 200000 + "\r\n")
    c.close()
    tap.ok(inst.wait_log(r"lost connection after DATA(.|\n)*disconnect"),
           "client vanished")
    tap.is_(inst.queue_ids(), before, "no queue file left behind")


def test_write_error():
    inc = inst.path("queue", "incoming")
    os.rename(inc, inc + ".away")
    try:
        c = st.Smtp(inst.port["fresh"])
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        tap.is_(c.cmd("DATA"), (451, "451 4.3.0 Error: queue file write "
                                "error"), "queue cannot be written: 451")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.send("BDAT 3 LAST\r\nabc")
        tap.is_(c.reply()[0], 451, "BDAT too: 451")
        tap.is_(c.cmd("NOOP")[0], 250, "chunk bytes consumed exactly")
        c.close()
    finally:
        os.rename(inc + ".away", inc)


try:
    inst.start()
    P = inst.port["smtp"]  # start() may have moved busy ports
    test_write_error()
    test_simple()
    test_dsn()
    test_pipelining()
    test_smuggling()
    test_sizes()
    test_bdat()
    test_bare_lf_allowed()
    test_abort()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
