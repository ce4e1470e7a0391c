#!/usr/bin/env python3
"""t/auth-smtp.t: SMTP AUTH against a real instance (smtpd + the auth
daemon, real TLS): AUTH offered only where enabled and only inside TLS on
submission; relay refused without AUTH (554 5.7.1) and allowed with it on
587 and 465 (smtplib's login()); PLAIN with and without an initial
response, LOGIN; wrong password 535 with a growing delay; an unknown user
gets the same reply in a similar time; bad base64, empty, oversized,
cancelled responses, unknown mechanism; recipients checked through auth; AUTH twice and during a
transaction; authorization identity; `postern user` changes seen without a
reload; sender ownership (default and
smtpd_sender_login_maps); the Received: header and the envelope; the
auth daemon killed (recovers) and gone (454)."""

import base64
import os
import re
import signal
import smtplib
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()


class AuthInstance(st.SmtpInstance):
    def __init__(self, parent, **kw):
        super().__init__(parent, **kw)
        # One auth process keeps one failure table (see postern-auth(8)).
        self.orig_master = re.sub(r"(?m)^auth .*$", "auth unix - - n - 1 auth",
                                  self.orig_master)
        self.assign_ports()


inst = AuthInstance(top, name="auth", extra={
    "maps": ["smtpd_tls_security_level=encrypt",
             "smtpd_sasl_auth_enable=yes",
             "smtpd_relay_restrictions=permit_sasl_authenticated,reject",
             "smtpd_sender_login_maps=texthash:" +
             os.path.join(top, "auth", "senders")],
    "plain": ["smtpd_sasl_auth_enable=yes", "smtpd_tls_auth_only=no",
              "recipient_delimiter=+",
              "smtpd_relay_restrictions=permit_mynetworks,"
              "permit_sasl_authenticated,reject_unauth_destination"],
})
with open(inst.path("senders"), "w") as f:
    f.write("sales@localhost alice@localhost, bob@localhost\n"
            "@example.net alice@localhost\n")


def user(*args, stdin=None):
    return pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user"] +
                             list(args), input=stdin, capture_output=True,
                             text=True, timeout=30)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def plain(authz, authc, pw):
    return b64("%s\0%s\0%s" % (authz, authc, pw))


def tls_session(port, src=st.UNTRUSTED):
    """Connected, STARTTLS done (587) and EHLO sent."""
    c = st.Smtp(port, src)
    c.cmd("EHLO c.test")
    c.cmd("STARTTLS")
    c.wrap()
    c.cmd("EHLO c.test")
    return c


def ctx():
    x = ssl.create_default_context()
    x.check_hostname = False
    x.verify_mode = ssl.CERT_NONE
    return x


def test_offer():
    c = st.Smtp(inst.port["smtp"])
    tap.ok("AUTH" not in c.cmd("EHLO c.test")[1], "port 25: AUTH not offered")
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 503,
            "port 25: AUTH refused when not enabled")
    c.close()
    c = st.Smtp(inst.port["submission"])
    tap.ok("AUTH" not in c.cmd("EHLO c.test")[1],
           "587: AUTH not offered before STARTTLS")
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice")),
            (530, "530 5.7.0 Must issue a STARTTLS command first"),
            "587: AUTH refused before STARTTLS")
    c.cmd("STARTTLS")
    c.wrap()
    tap.like(c.cmd("EHLO c.test")[1], r"250-AUTH PLAIN LOGIN",
             "587: AUTH offered inside TLS")
    tap.is_(c.cmd("MAIL FROM:<alice@localhost>"),
            (530, "530 5.7.0 Authentication required"),
            "587: MAIL before AUTH refused")
    c.close()
    c = st.Smtp(inst.port["plain"])
    tap.like(c.cmd("EHLO c.test")[1], r"250-AUTH PLAIN LOGIN",
             "smtpd_tls_auth_only=no: AUTH offered without TLS")
    c.cmd("MAIL FROM:<alice@localhost>")
    tap.like(c.cmd("RCPT TO:<x@example.com>")[1],
             r"^554 5\.7\.1 <x@example\.com>: Relay access denied",
             "relay denied without AUTH: 554 5.7.1")
    c.cmd("RSET")
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 235,
            "AUTH works without TLS there")
    c.cmd("MAIL FROM:<alice@localhost>")
    tap.is_(c.cmd("RCPT TO:<x@example.com>")[0], 250,
            "and relay is allowed after AUTH")
    c.close()


def test_recipients():
    c = st.Smtp(inst.port["plain"])
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<x@example.com>")
    tap.is_(c.cmd("RCPT TO:<Alice@localhost>")[0], 250,
            "a user is a valid recipient (asked from auth)")
    tap.is_(c.cmd("RCPT TO:<alice+tag@localhost>")[0], 250,
            "with a recipient_delimiter extension")
    tap.like(c.cmd("RCPT TO:<nobody@localhost>")[1],
             r"^550 5\.1\.1 <nobody@localhost>: Recipient address "
             r"rejected: User unknown", "an unknown user is refused")
    c.close()


def test_relay():
    s = smtplib.SMTP("127.0.0.1", inst.port["submission"],
                     source_address=(st.UNTRUSTED, 0), timeout=20)
    s.starttls(context=ctx())
    s.login("alice", "pw-alice")
    refused = s.sendmail("alice@localhost", ["x@example.com"],
                         "Subject: relay\r\n\r\nbody\r\n")
    tap.is_(refused, {}, "587: relay allowed after smtplib login()")
    s.quit()
    s = smtplib.SMTP_SSL("127.0.0.1", inst.port["submissions"],
                         source_address=(st.UNTRUSTED, 0), timeout=20,
                         context=ctx())
    s.ehlo()
    s.login("bob@localhost", "pw-bob")
    tap.is_(s.sendmail("bob@localhost", ["y@example.com"], "x\r\n"), {},
            "465: relay allowed after login() (LOGIN or PLAIN)")
    s.quit()
    c = st.Smtp(inst.port["submissions"], tls=True)
    c.cmd("EHLO c.test")
    tap.is_(c.cmd("MAIL FROM:<bob@localhost>"),
            (530, "530 5.7.0 Authentication required"),
            "465: MAIL before AUTH refused")
    c.close()


def test_exchanges():
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH PLAIN"), (334, "334 "), "PLAIN: empty challenge")
    tap.is_(c.cmd(plain("", "alice@localhost", "pw-alice"))[0], 235,
            "PLAIN with the 334 continuation")
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 503,
            "AUTH twice: 503")
    tap.is_(c.cmd("MAIL FROM:<alice@localhost> AUTH=<>")[0], 250,
            "MAIL after AUTH, with the AUTH=<> parameter (RFC 4954 5)")
    c.close()
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH LOGIN"), (334, "334 VXNlcm5hbWU6"), "LOGIN: Username:")
    tap.is_(c.cmd(b64("alice")), (334, "334 UGFzc3dvcmQ6"), "LOGIN: Password:")
    tap.is_(c.cmd(b64("pw-alice")),
            (235, "235 2.7.0 Authentication successful"), "LOGIN ok")
    c.close()
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH LOGIN " + b64("alice"))[0], 334,
            "LOGIN with the user as initial response")
    tap.is_(c.cmd(b64("pw-alice"))[0], 235, "LOGIN ok")
    c.close()


def test_malformed():
    c = tls_session(inst.port["submission"], src="127.0.0.9")
    tap.like(c.cmd("AUTH PLAIN !!!!")[1], r"^501 5\.5\.2 ",
             "bad base64 initial response: 501 5.5.2")
    c.cmd("AUTH PLAIN")
    tap.like(c.cmd("AG Fs")[1], r"^501 5\.5\.2 ", "bad base64 response")
    c.cmd("AUTH PLAIN")
    tap.like(c.cmd("")[1], r"^501 5\.5\.2 ", "empty response: 501")
    c.cmd("AUTH PLAIN")
    tap.like(c.cmd("A" * 5000)[1], r"^500 5\.5\.6 ", "oversized: 500 5.5.6")
    c.cmd("AUTH LOGIN")
    tap.is_(c.cmd("*"), (501, "501 5.0.0 Authentication aborted"),
            "'*' cancels")
    tap.like(c.cmd("AUTH CRAM-MD5")[1], r"^504 5\.5\.4 ",
             "unknown mechanism: 504")
    tap.like(c.cmd("AUTH PLAIN " + b64("alice\0pw-alice"))[1], r"^501 ",
             "PLAIN without two NULs: 501")
    tap.like(c.cmd("AUTH PLAIN " + plain("bob@localhost", "alice",
                                         "pw-alice"))[1],
             r"^535 5\.7\.8 ", "authzid of another user refused")
    tap.is_(c.cmd("AUTH PLAIN " + plain("alice@localhost", "alice",
                                        "pw-alice"))[0], 235,
            "authzid equal to the user accepted")
    c.close()
    c = tls_session(inst.port["submission"], src="127.0.0.9")
    c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))
    c.cmd("MAIL FROM:<alice@localhost>")
    c.cmd("RCPT TO:<z@example.com>")
    tap.like(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[1],
             r"^503 ", "AUTH during a transaction: 503")
    c.close()


def timed_auth(src, authc, pw):
    c = tls_session(inst.port["submission"], src=src)
    t = time.monotonic()
    r = c.cmd("AUTH PLAIN " + plain("", authc, pw))
    dt = time.monotonic() - t
    c.close()
    return r, dt


def test_failures():
    r1, t1 = timed_auth("127.0.0.3", "alice", "wrong")
    tap.is_(r1, (535, "535 5.7.8 Error: authentication failed: "
                 "Authentication credentials invalid"),
            "wrong password: 535 5.7.8")
    r2, t2 = timed_auth("127.0.0.3", "alice", "wrong")
    r3, t3 = timed_auth("127.0.0.3", "alice", "wrong")
    tap.ok(t1 >= 0.4 and t2 > t1 + 0.3 and t3 > t2 + 0.6,
           "failure delay grows per client (%.2f %.2f %.2f s)" % (t1, t2, t3))
    r4, t4 = timed_auth("127.0.0.4", "nobody", "wrong")
    tap.is_(r4, r1, "unknown user: the same reply as a wrong password")
    tap.ok(abs(t4 - t1) < 0.4,
           "unknown user: a similar time (%.2f vs %.2f s)" % (t4, t1))
    _, t5 = timed_auth("127.0.0.5", "alice", "pw-alice")
    tap.ok(t5 < 0.4, "another client is not slowed down (%.2f s)" % t5)
    log = inst.log()
    tap.ok("pw-alice" not in log and "wrong" not in
           re.sub(r"wrong password", "", log), "no password in the log")
    tap.like(log, r"user=<alice@localhost>, result=fail \(wrong password\)",
             "failures logged with the user")


def test_sender():
    c = tls_session(inst.port["submission"])
    c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))
    tap.is_(c.cmd("MAIL FROM:<bob@localhost>"),
            (553, "553 5.7.1 <bob@localhost>: Sender address rejected: "
             "not owned by user alice@localhost"),
            "sender owned by another user: 553 5.7.1")
    tap.is_(c.cmd("MAIL FROM:<Alice@LOCALHOST>")[0], 250,
            "own address (any case) accepted")
    c.cmd("RSET")
    tap.is_(c.cmd("MAIL FROM:<>")[0], 250, "null sender accepted")
    c.cmd("RSET")
    c.cmd("MAIL FROM:<alice@localhost>")
    c.cmd("RCPT TO:<bob@localhost>")
    c.cmd("DATA")
    c.send("Subject: t\r\n\r\nx\r\n.\r\n")
    m = re.match(r"250 2\.0\.0 Ok: queued as (\S+)", c.reply()[1] or "")
    tap.ok(m, "authenticated mail queued")
    tap.ok(m and inst.wait_log(
        re.escape(m.group(1)) + r": client=\S+, sasl_method=PLAIN, "
        r"sasl_username=alice@localhost"), "logged with the SASL user")
    c.close()
    if m:
        env, content = inst.qread(m.group(1))
        tap.like(content.decode(errors="replace"),
                 r"\(Authenticated sender: alice@localhost\)\r\n\s+by .* "
                 r"with ESMTPSA id", "Received: says who authenticated")
        tap.is_((env.get("field.sasl_username") or [""])[0], "alice@localhost",
                "SASL user in the envelope")
        tap.is_((env.get("field.protocol") or [""])[0], "ESMTPSA",
                "protocol ESMTPSA")
    c = tls_session(inst.port["maps"])
    c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))
    tap.is_(c.cmd("MAIL FROM:<sales@localhost>")[0], 250,
            "smtpd_sender_login_maps: listed owner accepted")
    c.cmd("RSET")
    tap.is_(c.cmd("MAIL FROM:<any@example.net>")[0], 250,
            "smtpd_sender_login_maps: @domain entry")
    c.cmd("RSET")
    tap.is_(c.cmd("MAIL FROM:<bob@localhost>")[0], 553,
            "smtpd_sender_login_maps: unlisted refused")
    c.close()


def test_table_change():
    tap.is_(user("add", "carol", stdin="pw-carol\n").returncode, 0,
            "user add carol while running")
    r, _ = timed_auth("127.0.0.6", "carol", "pw-carol")
    tap.is_(r[0], 235, "a new user can log in without a reload")
    user("passwd", "carol", stdin="pw-new\n")
    r, _ = timed_auth("127.0.0.6", "carol", "pw-new")
    tap.is_(r[0], 235, "a changed password works at once")
    r, _ = timed_auth("127.0.0.6", "carol", "pw-carol")
    tap.is_(r[0], 535, "and the old one no longer does")
    user("del", "carol")
    r, _ = timed_auth("127.0.0.7", "carol", "pw-new")
    tap.is_(r[0], 535, "a deleted user can no longer log in")


def auth_pids():
    return inst.status().get("auth/unix", {}).get("pids", [])


def test_daemon_down():
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 235,
            "AUTH works before the auth daemon is killed")
    c.close()
    for pid in auth_pids():
        os.kill(pid, signal.SIGKILL)
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 235,
            "auth daemon killed: restarted by the master, AUTH recovers")
    c.close()
    inst.remove_service("auth")
    inst.postern("reload")
    time.sleep(1.5)
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice")),
            (454, "454 4.7.0 Temporary authentication failure"),
            "auth service gone: 454 4.7.0")
    c.close()
    c = st.Smtp(inst.port["smtp"])
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<x@example.com>")
    tap.like(c.cmd("RCPT TO:<alice@localhost>")[1], r"^451 4\.3\.0 ",
             "auth service gone: local recipients deferred (smtpd does "
             "not read the users table itself)")
    c.close()
    inst.add_service("auth unix - - n - 1 auth")
    inst.postern("reload")
    time.sleep(1.5)
    c = tls_session(inst.port["submission"])
    tap.is_(c.cmd("AUTH PLAIN " + plain("", "alice", "pw-alice"))[0], 235,
            "auth service back: AUTH works again")
    c.close()


try:
    tap.is_(user("add", "alice", stdin="pw-alice\n").returncode, 0,
            "user add alice")
    tap.is_(user("add", "bob@localhost", stdin="pw-bob\n").returncode, 0,
            "user add bob")
    inst.start()
    test_offer()
    test_recipients()
    test_relay()
    test_exchanges()
    test_malformed()
    test_failures()
    test_sender()
    test_table_change()
    test_daemon_down()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
