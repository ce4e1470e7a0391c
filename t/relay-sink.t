#!/usr/bin/env python3
"""t/relay-sink.t: the smtp client against Postfix's smtp-sink as a
scripted peer (transport_maps smtp:[127.0.0.1]:PORT, no DNS): a 4xx to
RCPT defers and a 5xx to RCPT bounces with the remote reply quoted, a 5xx
to MAIL bounces every recipient, a 4xx greeting defers; ESMTP options go
out (SIZE, BODY=8BITMIME, RET, ENVID, NOTIFY, ORCPT) over a pipelined
session; a peer without STARTTLS gets the mail in plaintext under
smtp_tls_security_level=may and none under encrypt (a clone of the smtp
service with -o, chosen by transport_maps)."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
if not rt.available():
    tap.skip("smtp client against smtp-sink", "smtp-sink is not installed")
    tap.done()

top = pt.tempdir()
sinks = {"ok": rt.Sink(top, "ok"),
         "rcpt4": rt.Sink(top, "rcpt4", ["-r", "RCPT"]),
         "rcpt5": rt.Sink(top, "rcpt5", ["-f", "RCPT"]),
         "mail5": rt.Sink(top, "mail5", ["-f", "MAIL"]),
         "greet4": rt.Sink(top, "greet4", ["-r", "CONNECT"])}
table = "".join("%s.test smtp:[127.0.0.1]:%d\n" % (n, s.port)
                for n, s in sinks.items())
table += "enc.test smtpenc:[127.0.0.1]:%d\n" % sinks["ok"].port
a = rt.RelayInstance(top, "a", "a.test", users=["alice@a.test"],
                     transport=table)
a.orig_master += ("smtpenc unix - - n - - smtp\n"
                  "  -o smtp_tls_security_level=encrypt\n")
a.assign_ports()
a.start()
PA = a.port["smtp"]
BODY = "Subject: sink\r\n\r\n8bit: \xe9t\xe9\r\n.\r\n"


def result(rcpts, status, dsn, text, name, sender="alice@a.test"):
    qid = rt.send(PA, sender, rcpts, BODY.encode("latin-1"))
    for rcpt in rcpts:
        r = a.wait_result(qid, rcpt, 10)
        tap.ok(r is not None and r["status"] == status and r["dsn"] == dsn,
               "%s: %s %s (%s)" % (name, status, dsn, rcpt))
        tap.like(r and r["text"], text, name + ": the reason")
    return qid


def test_replies():
    result(["x@rcpt4.test"], "deferred", "4.3.0",
           r"^host 127\.0\.0\.1\[127\.0\.0\.1\] said: 450 4\.3\.0 Error: "
           r"command failed \(in reply to RCPT TO command\)$", "RCPT 4xx")
    result(["x@rcpt5.test"], "bounced", "5.3.0",
           r"said: 500 5\.3\.0 Error: command failed \(in reply to RCPT "
           r"TO command\)$", "RCPT 5xx")
    result(["x@mail5.test", "y@mail5.test"], "bounced", "5.3.0",
           r"\(in reply to MAIL FROM command\)$", "MAIL 5xx")
    result(["x@greet4.test"], "deferred", "4.3.0",
           r"^host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk to me: "
           r"450", "greeting 4xx")
    dsn = b"".join(a.wait_messages("alice@a.test", 2).values())
    tap.ok(b"in reply to RCPT TO command" in dsn and
           b"in reply to MAIL FROM command" in dsn,
           "the DSNs quote the remote replies")


def test_esmtp_and_tls():
    c = st.Smtp(PA, src=st.TRUSTED)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<alice@a.test> BODY=8BITMIME RET=HDRS ENVID=env1")
    c.cmd("RCPT TO:<x@ok.test> NOTIFY=SUCCESS,FAILURE "
          "ORCPT=rfc822;orig@ok.test")
    c.cmd("RCPT TO:<y@ok.test>")
    c.cmd("DATA")
    c.send(BODY.encode("latin-1"))
    qid = (c.reply()[1].split() or ["none"])[-1]
    c.cmd("QUIT")
    c.close()
    r = a.wait_result(qid, "y@ok.test")
    tap.ok(r is not None and r["status"] == "sent",
           "STARTTLS not offered, level may: sent in plaintext")
    tap.ok("TLS connection established to 127.0.0.1[127.0.0.1]:%d"
           % sinks["ok"].port not in a.log(), "no TLS with the sink")
    msgs = sinks["ok"].messages()
    dump = msgs[0].decode("latin-1") if msgs else ""
    # smtp-sink offers no SIZE: no SIZE= then
    tap.like(dump, r"X-Mail-Args: <alice@a\.test> BODY=8BITMIME RET=HDRS "
             r"ENVID=env1\n", "MAIL FROM parameters (DSN offered)")
    tap.like(dump, r"X-Rcpt-Args: <x@ok\.test> NOTIFY=SUCCESS,FAILURE "
             r"ORCPT=rfc822;orig@ok\.test\n", "RCPT TO parameters")
    tap.like(dump, r"X-Rcpt-Args: <y@ok\.test>\n", "plain RCPT TO")
    tap.like(dump, "8bit: \xe9t\xe9", "8-bit body as it was")
    result(["x@enc.test"], "deferred", "4.7.4",
           r"^TLS is required, but was not offered by host "
           r"127\.0\.0\.1\[127\.0\.0\.1\]$", "level encrypt")


try:
    test_replies()
    test_esmtp_and_tls()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    for s in sinks.values():
        s.stop()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-5000:])
    else:
        pt.cleanup(top)
tap.done()
