#!/usr/bin/env python3
"""t/sched-dsn.t: notifications besides bounces. NOTIFY=SUCCESS gets a
success report (Action: delivered locally; relayed to a server without
DSN); delay_warning_time sends one delay report (Action: delayed) per
message however often it is retried; NOTIFY=NEVER suppresses the bounce;
notify_classes bounce and delay send the postmaster a copy of the
headers; bounce implies 2bounce (an undeliverable bounce goes to the
postmaster)."""

import email
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
peer = rt.ScriptedPeer()
refuse = rt.ScriptedPeer(greeting="450 4.3.2 try later")
table = ("never.test error:5.1.1 no such user\n"
         "nodsn.test smtp:[127.0.0.1]:%d\nslow.test smtp:[127.0.0.1]:%d\n"
         % (peer.port, refuse.port))
a = rt.RelayInstance(top, "a", "a.test",
                     users=["alice@a.test", "bob@a.test",
                            "postmaster@a.test"],
                     transport=table,
                     main={"delay_warning_time": "2s",
                           "notify_classes": "bounce, delay, resource"})
a.start()
PA = a.port["smtp"]


def send(rcpt, notify):
    c = st.Smtp(PA, src=st.TRUSTED)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<bob@a.test>")
    c.cmd("RCPT TO:<%s>%s" % (rcpt, " NOTIFY=" + notify if notify else ""))
    c.cmd("DATA")
    c.send(b"Subject: dsn test\r\n\r\nbody\r\n.\r\n")
    qid = (c.reply()[1].split() or ["none"])[-1]
    c.cmd("QUIT")
    c.close()
    return qid


def reports(user, subject):
    out = []
    for data in a.messages(user).values():
        m = email.message_from_bytes(data)
        if m["Subject"] == subject:
            out.append(m)
    return out


def wait_reports(user, subject, n, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(reports(user, subject)) < n:
        time.sleep(0.1)
    return reports(user, subject)


def status_of(m):
    for part in m.walk():
        if part.get_content_type() == "message/delivery-status":
            return str(part.get_payload()[1]) if isinstance(
                part.get_payload(), list) else str(part.get_payload())
    return ""


def test_success():
    send("alice@a.test", "SUCCESS")
    got = wait_reports("bob@a.test", "Successful Mail Delivery Report", 1)
    tap.is_(len(got), 1, "NOTIFY=SUCCESS: a success report")
    tap.like(got and got[0].as_string(), r"Action: delivered",
             "Action: delivered")
    send("x@nodsn.test", "SUCCESS,FAILURE")
    got = wait_reports("bob@a.test", "Successful Mail Delivery Report", 2)
    tap.ok(any("Action: relayed" in m.as_string() for m in got),
           "to a server without DSN: Action: relayed")
    tap.ok(got and got[0].get_content_type() == "multipart/report",
           "multipart/report")


def test_never_and_postmaster():
    q1 = send("nobody@never.test", "NEVER")
    q2 = send("nobody2@never.test", "")
    a.wait_result(q1, "nobody@never.test")
    a.wait_result(q2, "nobody2@never.test")
    got = wait_reports("bob@a.test", "Undelivered Mail Returned to Sender",
                       1)
    tap.is_(len(got), 1, "NOTIFY=NEVER: no bounce; default: one")
    tap.like(got and got[0].as_string(), r"nobody2@never\.test",
             "the bounce is about the other one")
    pm = wait_reports("postmaster@a.test",
                      "Postmaster Copy: Undelivered Mail", 1)
    tap.ok(len(pm) >= 1, "notify_classes bounce: a postmaster copy")


def test_delay_warning():
    qid = send("y@slow.test", "")
    pat = re.escape(qid) + r": to=<y@slow\.test>.*status=deferred"
    end = time.monotonic() + 20
    while time.monotonic() < end and len(re.findall(pat, a.log())) < 4:
        time.sleep(0.2)
    tap.ok(len(re.findall(pat, a.log())) >= 4, "deferred and retried")
    got = reports("bob@a.test", "Delayed Mail (still being retried)")
    tap.is_(len(got), 1, "one delay warning, however many retries")
    tap.like(got and got[0].as_string(), r"Action: delayed",
             "Action: delayed")
    tap.like(got and got[0].as_string(), r"Will-Retry-Until: ",
             "Will-Retry-Until")
    pm = reports("postmaster@a.test", "Postmaster Warning: Delayed Mail")
    tap.is_(len(pm), 1, "notify_classes delay: a postmaster copy")


def test_2bounce():
    c = st.Smtp(PA, src=st.TRUSTED)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<>")
    c.cmd("RCPT TO:<nobody3@never.test>")
    c.cmd("DATA")
    c.send(b"Subject: a bounce\r\n\r\nbody\r\n.\r\n")
    qid = (c.reply()[1].split() or ["none"])[-1]
    c.cmd("QUIT")
    c.close()
    a.wait_result(qid, "nobody3@never.test")
    end = time.monotonic() + 15
    while time.monotonic() < end and not [
            m for m in reports("postmaster@a.test",
                               "Postmaster Copy: Undelivered Mail")
            if "notification could not be delivered" in m.as_string()]:
        time.sleep(0.1)
    got = [m for m in reports("postmaster@a.test",
                              "Postmaster Copy: Undelivered Mail")
           if "notification could not be delivered" in m.as_string()]
    tap.is_(len(got), 1, "notify_classes bounce implies 2bounce: the "
            "postmaster gets the undeliverable bounce")


try:
    test_success()
    test_never_and_postmaster()
    test_2bounce()
    test_delay_warning()
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    peer.stop()
    refuse.stop()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-6000:])
    else:
        pt.cleanup(top)
tap.done()
