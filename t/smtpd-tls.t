#!/usr/bin/env python3
"""t/smtpd-tls.t: STARTTLS and implicit TLS (port 465) in smtpd: the
handshake, EHLO required again and STARTTLS no longer offered inside TLS,
no second STARTTLS, plaintext pipelined after STARTTLS discarded (never
run inside TLS), plaintext instead of a handshake refused, TLS facts in the
queue file and the Received: header, and the submission port requiring
STARTTLS, then AUTH, before MAIL."""

import os
import re
import ssl
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, name="tls")
with open(inst.path("users"), "w") as f:
    f.write("alice@localhost x\n")
P = inst.port["smtp"]


def starttls(c):
    r = c.cmd("STARTTLS")
    if r[0] == 220:
        c.wrap()
    return r


def queued(c):
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    c.cmd("DATA")
    c.send("Subject: t\r\n\r\nx\r\n.\r\n")
    m = re.match(r"250 2\.0\.0 Ok: queued as (\S+)", c.reply()[1] or "")
    return m.group(1) if m else None


def test_starttls():
    c = st.Smtp(P)
    tap.like(c.cmd("EHLO c.test")[1], r"250-STARTTLS", "STARTTLS offered")
    tap.is_(starttls(c), (220, "220 2.0.0 Ready to start TLS"), "STARTTLS")
    tap.like(c.sock.version() or "", r"^TLSv1\.[23]$", "TLS 1.2 or newer")
    tap.is_(c.cmd("MAIL FROM:<s@example.org>"),
            (503, "503 5.5.1 Error: send HELO/EHLO first"),
            "EHLO required again inside TLS")
    ehlo = c.cmd("EHLO c.test")[1]
    tap.ok("STARTTLS" not in ehlo and "PIPELINING" in ehlo,
           "capabilities re-advertised without STARTTLS")
    tap.is_(c.cmd("STARTTLS"), (554, "554 5.5.1 Error: TLS already active"),
            "no second STARTTLS")
    qid = queued(c)
    tap.ok(qid, "mail over TLS queued")
    env, content = inst.qread(qid)
    tap.is_(env.get("field.protocol"), ["ESMTPS"], "protocol ESMTPS")
    tap.like((env.get("field.tls_protocol") or [""])[0], r"^TLSv1\.[23]$",
             "TLS protocol in the envelope")
    tap.ok(env.get("field.tls_cipher"), "TLS cipher in the envelope")
    tap.like(content.decode(), r"\A(Received: from c\.test \(unknown "
             r"\[127\.0\.0\.2\]\)\r\n\t\(using TLSv1\.[23] with cipher \S+ "
             r"\(\d+/\d+ bits\)\)\r\n\tby localhost \(Postern\) with ESMTPS)",
             "Received: has the TLS facts")
    c.close()


def test_injection():
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.send("STARTTLS\r\nHELP\r\nMAIL FROM:<evil@example.org>\r\n")
    tap.is_(c.reply(), (220, "220 2.0.0 Ready to start TLS"),
            "STARTTLS with pipelined plaintext: 220")
    c.wrap()
    tap.is_(c.cmd("NOOP"), (250, "250 2.0.0 Ok"),
            "the pipelined plaintext was never run inside TLS")
    tap.is_(c.cmd("RCPT TO:<alice@localhost>")[0], 503,
            "and the injected MAIL did not happen")
    c.close()
    tap.like(inst.log(), r"dropped \d+ byte\(s\) pipelined after STARTTLS",
             "the drop is logged")
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.cmd("STARTTLS")
    c.send("EHLO plaintext.test\r\n")
    tap.is_(c.reply()[0], None, "plaintext instead of a handshake: no reply")
    tap.ok(c.closed(), "and the connection is closed")


def test_submission():
    S = inst.port["submission"]
    c = st.Smtp(S)
    c.cmd("EHLO c.test")
    tap.is_(c.cmd("MAIL FROM:<s@example.org>"),
            (530, "530 5.7.0 Must issue a STARTTLS command first"),
            "submission: TLS required before MAIL")
    starttls(c)
    c.cmd("EHLO c.test")
    # AUTH itself is tested in t/auth-smtp.t.
    tap.is_(c.cmd("MAIL FROM:<s@example.org>"),
            (530, "530 5.7.0 Authentication required"),
            "submission: AUTH required before MAIL (...,reject)")
    c.close()


def test_wrapper():
    W = inst.port["submissions"]
    c = st.Smtp(W, tls=True)
    tap.is_(c.greeting, (220, "220 localhost ESMTP Postern"),
            "port 465: greeting inside TLS")
    tap.ok("STARTTLS" not in c.cmd("EHLO c.test")[1],
           "no STARTTLS inside implicit TLS")
    c.close()
    c = st.Smtp.__new__(st.Smtp)
    c.sock = pt.connect(W, 3)
    c.buf = b""
    c.send("EHLO plain.test\r\n")
    tap.is_(c.reply()[0], None, "plaintext client on 465: no SMTP reply")
    c.close()


try:
    inst.start()
    P = inst.port["smtp"]  # start() may have moved busy ports
    test_starttls()
    test_injection()
    test_submission()
    test_wrapper()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
