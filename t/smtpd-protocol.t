#!/usr/bin/env python3
"""t/smtpd-protocol.t: the SMTP protocol core of smtpd against a throwaway
instance, from an untrusted address (127.0.0.2): greeting, EHLO keywords,
every command in every state (table-driven), command line limits (at,
above and far above; an overlong line answered once), NUL and bare LF in
commands, MAIL/RCPT parameters and numbers, recipient limit, error limit,
timeouts (idle and drip-feed) and a stalled client not starving others."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, extra={
    "errs": ["smtpd_hard_error_limit=3"],
    "small": ["smtpd_recipient_limit=3", "message_size_limit=1000"],
    "slow": ["smtpd_timeout=1s"],
    "helo": ["smtpd_helo_required=yes"],
    "sleepy": ["smtpd_soft_error_limit=1", "smtpd_error_sleep_time=1s"],
    "junk": ["smtpd_junk_command_limit=2", "smtpd_hard_error_limit=3"],
    "notls": ["smtpd_tls_security_level=none"],
    "datarestr": ["smtpd_data_restrictions=reject"],
    "novrfy": ["disable_vrfy_command=yes"],
})
with open(inst.path("users"), "w") as f:
    f.write("alice@localhost x\nbob@localhost x\ncarol@localhost x\n"
            "dave@localhost x\n")
P = inst.port["smtp"]


def test_greeting():
    c = st.Smtp(P)
    tap.is_(c.greeting, (220, "220 localhost ESMTP Postern"), "greeting")
    code, text = c.cmd("EHLO client.test")
    tap.is_(code, 250, "EHLO")
    kw = [l[4:] for l in text.splitlines()[1:]]
    for want in ("PIPELINING", "SIZE 10240000", "8BITMIME",
                 "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN", "CHUNKING",
                 "STARTTLS"):
        tap.ok(want in kw, "EHLO announces " + want)
    tap.ok(not any(k.startswith("AUTH") for k in kw), "no AUTH announced")
    tap.is_(c.cmd("HELO client.test"), (250, "250 localhost"), "HELO")
    tap.is_(c.cmd("HELO")[0], 501, "HELO without a name")
    tap.is_(c.cmd("EHLO a\tb")[0], 501, "EHLO with a control character")
    tap.is_(c.cmd("VRFY alice"), (252, "252 2.0.0 Cannot VRFY user, but "
                                  "will accept message and attempt "
                                  "delivery"), "VRFY 252")
    v = st.Smtp(inst.port["novrfy"])
    tap.is_(v.cmd("VRFY alice"), (502, "502 5.5.1 VRFY command is "
                                  "disabled"), "disable_vrfy_command: 502")
    v.close()
    tap.like(c.cmd("HELP")[1], r"^214 2\.0\.0 ", "HELP 214")
    tap.is_(c.cmd("FOO bar"), (502, "502 5.5.2 Error: command not "
                               "recognized"), "unknown command")
    tap.is_(c.cmd("QUIT"), (221, "221 2.0.0 Bye"), "QUIT")
    tap.ok(c.closed(), "closed after QUIT")


# state name -> commands that bring a new session into it
SETUP = {
    "INIT": [],
    "IDLE": ["EHLO c.test"],
    "MAIL": ["EHLO c.test", "MAIL FROM:<s@example.org>"],
    "RCPT": ["EHLO c.test", "MAIL FROM:<s@example.org>",
             "RCPT TO:<alice@localhost>"],
    "CHUNKING": ["EHLO c.test", "MAIL FROM:<s@example.org>",
                 "RCPT TO:<alice@localhost>", "BDAT 3\r\nabc"],  # raw
}
# (state, command, expected reply start)
TABLE = [
    ("INIT", "MAIL FROM:<s@example.org>", "250 2.1.0"),
    ("INIT", "RCPT TO:<alice@localhost>", "503 5.5.1 Error: need MAIL"),
    ("INIT", "DATA", "503 5.5.1 Error: need MAIL"),
    ("INIT", "BDAT 1", "503 5.5.1"),
    ("INIT", "RSET", "250 2.0.0"),
    ("INIT", "NOOP", "250 2.0.0"),
    ("IDLE", "MAIL FROM:<s@example.org>", "250 2.1.0"),
    ("IDLE", "RCPT TO:<alice@localhost>", "503 5.5.1 Error: need MAIL"),
    ("IDLE", "DATA", "503 5.5.1"),
    ("IDLE", "BDAT 1 LAST", "503 5.5.1"),
    ("IDLE", "EHLO again.test", "250-localhost"),
    ("MAIL", "MAIL FROM:<s@example.org>", "503 5.5.1 Error: nested MAIL"),
    ("MAIL", "RCPT TO:<alice@localhost>", "250 2.1.5"),
    ("MAIL", "DATA", "503 5.5.1 Error: need RCPT"),
    ("MAIL", "BDAT 1", "503 5.5.1 Error: need RCPT"),
    ("MAIL", "STARTTLS", "503 5.5.1"),
    ("MAIL", "RSET", "250 2.0.0"),
    ("MAIL", "VRFY x", "252 2.0.0"),
    ("RCPT", "MAIL FROM:<s@example.org>", "503 5.5.1 Error: nested MAIL"),
    ("RCPT", "RCPT TO:<bob@localhost>", "250 2.1.5"),
    ("RCPT", "DATA", "354 "),
    ("RCPT", "STARTTLS", "503 5.5.1"),
    ("RCPT", "NOOP", "250 2.0.0"),
    ("CHUNKING", "MAIL FROM:<s@example.org>", "503 5.5.1"),
    ("CHUNKING", "RCPT TO:<bob@localhost>", "503 5.5.1"),
    ("CHUNKING", "DATA", "503 5.5.1"),
    ("CHUNKING", "STARTTLS", "503 5.5.1"),
    ("CHUNKING", "BDAT 0 LAST", "250 2.0.0 Ok: queued as"),
    ("CHUNKING", "RSET", "250 2.0.0"),
]


def test_state_table():
    for state, cmd, want in TABLE:
        c = st.Smtp(P)
        for s in SETUP[state]:
            if s.startswith("BDAT"):
                c.send(s)
                c.reply()
            else:
                c.cmd(s)
        code, text = c.cmd(cmd)
        tap.ok(text.startswith(want), "%s in %s -> %s" % (cmd, state, want))
        if not text.startswith(want):
            tap.diag(text)
        # the session goes on after a refused command
        if code != 354:
            tap.is_(c.cmd("NOOP")[0], 250, "%s in %s: session goes on"
                    % (cmd, state))
        c.close()


def test_line_limits():
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    tap.is_(c.cmd("NOOP " + "x" * 507)[0], 250, "512-octet command line")
    tap.is_(c.cmd("NOOP " + "x" * 2043)[0], 250,
            "2048-octet command line (line_length_limit)")
    tap.is_(c.cmd("NOOP " + "x" * 2044), (500, "500 5.5.2 Error: line too "
            "long"), "2049 octets: 500 5.5.2")
    c.send("NOOP " + "x" * 200000 + "\r\nNOOP\r\n")
    tap.is_(c.reply()[0], 500, "far too long: 500 once")
    tap.is_(c.reply(), (250, "250 2.0.0 Ok"),
            "and the next command is read normally (no split)")
    # an overlong MAIL whose tail looks like a command, sent in pieces
    c.send("MAIL FROM:<" + "a" * 70000)
    time.sleep(0.05)
    c.send("RCPT TO:<x@y>\r\nRSET\r\n")
    tap.is_(c.reply()[0], 500, "overlong across reads: one 500")
    tap.is_(c.reply(), (250, "250 2.0.0 Ok"), "then RSET, nothing between")
    tap.is_(c.cmd("NOOP\0NOOP")[1], "500 5.5.2 Error: NUL byte in command",
            "NUL in a command")
    c.send("NOOP\nNOOP\r\n")
    tap.is_(c.reply(), (521, "521 5.5.2 localhost Error: bare <LF> "
                        "received"), "bare LF in a command: 521")
    tap.ok(c.closed(), "and the session ends (smtpd_forbid_bare_newline)")
    c.close()


def test_mail_params():
    def mail(arg):
        c = st.Smtp(P)
        c.cmd("EHLO c.test")
        r = c.cmd("MAIL FROM:" + arg)
        c.close()
        return r

    tap.is_(mail("s@example.org")[1][:9], "501 5.5.4", "no brackets")
    tap.is_(mail("<s@example.org> FOO=1")[1],
            "555 5.5.4 Unsupported option: FOO", "unknown parameter")
    tap.is_(mail("<s@example.org> SIZE=10240000")[0], 250, "SIZE = limit")
    tap.is_(mail("<s@example.org> SIZE=10239999")[0], 250, "SIZE = limit-1")
    tap.is_(mail("<s@example.org> SIZE=10240001")[1],
            "552 5.3.4 Message size exceeds fixed limit", "SIZE = limit+1")
    for n in ("2147483648", "4294967296", "9223372036854775808",
              "18446744073709551615", "18446744073709551616",
              "99999999999999999999999"):
        tap.is_(mail("<s@example.org> SIZE=" + n)[0], 552, "SIZE=" + n)
    for n in ("-1", "abc", "0x10", "1e3", ""):
        tap.is_(mail("<s@example.org> SIZE=" + n)[0], 501 if n else 555,
                "SIZE=%r refused" % n)
    tap.is_(mail("<s@example.org> SIZE=000100")[0], 250, "leading zeros")
    tap.is_(mail("<> BODY=8BITMIME RET=HDRS ENVID=abc+2Bd SMTPUTF8")[0],
            250, "DSN, BODY and SMTPUTF8 parameters")
    tap.is_(mail("<s@example.org> BODY=BINARYMIME")[0], 555,
            "BINARYMIME not offered")
    tap.is_(mail("<s@example.org> RET=ALL")[0], 555, "bad RET")
    tap.is_(mail("<s@example.org> ENVID=a+zz")[0], 501, "bad ENVID xtext")
    tap.is_(mail("<s@exa\x01mple.org>")[0], 501, "control character")
    tap.is_(mail("<s\u00e9@example.org>")[1][:9], "553 5.6.7",
            "8-bit address without SMTPUTF8: 553 5.6.7")
    tap.is_(mail("<s\u00e9@example.org> SMTPUTF8")[0], 250,
            "8-bit address with SMTPUTF8")
    c = st.Smtp(P)
    c.cmd("EHLO c.test")
    c.send(b"MAIL FROM:<s\xff\xfe@example.org> SMTPUTF8\r\n")
    tap.is_(c.reply()[1][:9], "501 5.6.7", "invalid UTF-8: 501 5.6.7")
    c.close()
    for arg, code in (("NOTIFY=SUCCESS,FAILURE", 250),
                      ("NOTIFY=NEVER", 250),
                      ("NOTIFY=NEVER,DELAY", 501),
                      ("NOTIFY=SOMETIMES", 501),
                      ("ORCPT=rfc822;bob+40example.org", 250),
                      ("ORCPT=rfc822", 501), ("ORCPT=rfc822;a+q", 501),
                      ("XFOO", 555)):
        c = st.Smtp(P)
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<s@example.org>")
        tap.is_(c.cmd("RCPT TO:<alice@localhost> " + arg)[0], code,
                "RCPT " + arg)
        c.close()
    c = st.Smtp(P)
    c.cmd("HELO c.test")
    tap.is_(c.cmd("MAIL FROM:<s@example.org> SIZE=10")[0], 555,
            "no parameters after HELO")
    c.close()


def test_recipient_limit():
    c = st.Smtp(inst.port["small"])
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s@example.org>")
    codes = [c.cmd("RCPT TO:<%s@localhost>" % u)[0]
             for u in ("alice", "bob", "carol")]
    tap.is_(codes, [250, 250, 250], "recipients up to the limit")
    tap.is_(c.cmd("RCPT TO:<dave@localhost>")[1],
            "452 4.5.3 Error: too many recipients", "limit+1: 452 4.5.3")
    tap.like(c.cmd("DATA")[1], r"^354", "the accepted ones go on")
    c.close()


def test_error_limit():
    c = st.Smtp(inst.port["errs"])
    c.cmd("EHLO c.test")
    tap.is_(c.cmd("FOO")[0], 502, "error 1")
    tap.is_(c.cmd("BAR")[0], 502, "error 2")
    tap.is_(c.cmd("BAZ")[0], 502, "error 3")
    tap.is_(c.reply(), (421, "421 4.7.0 localhost Error: too many errors"),
            "hard error limit: 421")
    tap.ok(c.closed(), "and the session ends")


def test_timeouts():
    port = inst.port["slow"]
    c = st.Smtp(port)
    t0 = time.monotonic()
    tap.is_(c.reply(), (421, "421 4.4.2 localhost Error: timeout exceeded"),
            "idle timeout: 421 4.4.2")
    tap.ok(time.monotonic() - t0 < 3, "after about smtpd_timeout")
    tap.ok(c.closed(), "closed")
    c = st.Smtp(port)
    t0 = time.monotonic()
    code = None
    for ch in "NOOP NOOP NOOP NOOP NOOP":
        try:
            c.send(ch)
        except OSError:
            break
        time.sleep(0.2)
        if time.monotonic() - t0 > 3:
            break
    code = c.reply()[0]
    tap.is_(code, 421, "drip-fed command: 421 (deadline per command)")
    tap.ok(time.monotonic() - t0 < 4, "within the deadline")
    stalled = st.Smtp(P)
    fresh = st.Smtp(P)
    tap.is_(fresh.greeting[0], 220, "a stalled client does not block others")
    stalled.close()
    fresh.close()


def test_settings():
    c = st.Smtp(inst.port["helo"])
    tap.is_(c.cmd("MAIL FROM:<s@example.org>"),
            (503, "503 5.5.1 Error: send HELO/EHLO first"),
            "smtpd_helo_required: MAIL before HELO refused")
    tap.is_(c.cmd("HELO c.test")[0], 250, "HELO")
    tap.is_(c.cmd("MAIL FROM:<s@example.org>")[0], 250, "then MAIL")
    c.close()
    tap.is_(st.Smtp(P).cmd("MAIL FROM:<s@example.org>")[0], 250,
            "without it MAIL needs no HELO")
    c = st.Smtp(inst.port["sleepy"])
    c.cmd("FOO")
    c.cmd("FOO")
    t0 = time.monotonic()
    tap.is_(c.cmd("NOOP")[0], 250, "past the soft error limit")
    tap.ok(time.monotonic() - t0 >= 0.9, "the next command waits "
           "smtpd_error_sleep_time")
    c.close()
    c = st.Smtp(inst.port["junk"])
    c.send("NOOP\r\n" * 5)
    tap.is_([r[0] for r in c.replies(5)], [250, 250, 250, 250, 421],
            "junk commands past the limit count as errors")
    c.close()
    c = st.Smtp(inst.port["notls"])
    tap.ok("STARTTLS" not in c.cmd("EHLO c.test")[1],
           "no STARTTLS offered without TLS")
    tap.is_(c.cmd("STARTTLS"), (502, "502 5.5.1 Error: command not "
            "implemented"), "STARTTLS without TLS: 502")
    c.close()
    for how in ("DATA", "BDAT 1 LAST\r\nx"):
        c = st.Smtp(inst.port["datarestr"])
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<s@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.send(how + "\r\n")
        tap.is_(c.reply(), (451, "451 4.3.5 Server configuration error"),
                "smtpd_data_restrictions unsupported: %s fails closed"
                % how.split()[0])
        c.close()


try:
    inst.start()
    P = inst.port["smtp"]  # start() may have moved busy ports
    test_greeting()
    test_settings()
    test_state_table()
    test_line_limits()
    test_mail_params()
    test_recipient_limit()
    test_error_limit()
    test_timeouts()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
