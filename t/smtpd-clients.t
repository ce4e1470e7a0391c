#!/usr/bin/env python3
"""t/smtpd-clients.t: smtpd against real SMTP clients. swaks, from
127.0.0.2 (--local-interface): STARTTLS on the submission port with AUTH
PLAIN and with AUTH LOGIN, implicit TLS on submissions (--tlsc), PIPELINING
(--pipeline), an 8-bit body (8BITMIME) stored byte for byte, SIZE announced
and message_size_limit enforced, relay refused without AUTH (554 5.7.1) and
allowed with it, an unknown user refused (550 5.1.1). Postfix's
smtp-source: 200 messages over 5 parallel sessions, every one of them in
incoming/. smtp-source cannot bind a source address, so it connects from
127.0.0.1 to a service whose mynetworks is empty: the client is then as
untrusted as 127.0.0.2 would be. Each client is skipped when missing
(scripts/deps.sh test installs swaks; smtp-source comes with postfix)."""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

SWAKS = shutil.which("swaks")
SMTP_SOURCE = shutil.which("smtp-source") or (
    "/usr/sbin/smtp-source" if os.access("/usr/sbin/smtp-source", os.X_OK)
    else None)
QUEUED = r"(?m)^<[-~]  250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})$"

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, extra={
    # AUTH offered on a plain port too, relaying only with it.
    "relay": ["smtpd_sasl_auth_enable=yes", "smtpd_tls_auth_only=no",
              "smtpd_relay_restrictions=permit_sasl_authenticated,"
              "reject_unauth_destination"],
    "small": ["message_size_limit=2000"],
    "nonet": ["mynetworks=", "smtpd_client_connection_count_limit=5"],
})


def swaks(port, *args, data=None):
    """Runs swaks from 127.0.0.2; returns (exit code, transcript)."""
    cmd = [SWAKS, "--server", "127.0.0.1", "--port", str(port),
           "--local-interface", "127.0.0.2", "--timeout", "20",
           "--helo", "client.test"] + list(args)
    r = subprocess.run(cmd, capture_output=True, timeout=60, input=data)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def queued(out):
    """The queue ID swaks saw in "250 Ok: queued as ID", or None."""
    m = re.search(QUEUED, out)
    return m.group(1) if m else None


def check_queued(name, code, out):
    qid = queued(out)
    if not tap.ok(code == 0 and qid, name):
        tap.diag("exit %d\n%s" % (code, out[-3000:]))
    return qid


def test_submission():
    relay = ["--from", "alice@localhost", "--to", "someone@example.com",
             "--auth-user", "alice@localhost", "--auth-password", "pw-alice"]
    code, out = swaks(inst.port["submission"], "--tls", "--auth", "PLAIN",
                      *relay)
    qid = check_queued("587 STARTTLS + AUTH PLAIN: relayed", code, out)
    tap.like(out, r"(?m)^<~  235 2\.7\.0 ", "  235 inside TLS")
    if qid:
        env, _ = inst.qread(qid)
        tap.is_(env and env.get("field.sasl_method"), ["PLAIN"],
                "  AUTH PLAIN recorded in the envelope")
        tap.is_(env and env.get("field.protocol"), ["ESMTPSA"],
                "  protocol ESMTPSA")
    code, out = swaks(inst.port["submission"], "--tls", "--auth", "LOGIN",
                      *relay)
    qid = check_queued("587 STARTTLS + AUTH LOGIN: relayed", code, out)
    if qid:
        env, _ = inst.qread(qid)
        tap.is_(env and env.get("field.sasl_method"), ["LOGIN"],
                "  AUTH LOGIN recorded")
    code, out = swaks(inst.port["submissions"], "--tls-on-connect",
                      "--auth", "PLAIN", *relay)
    check_queued("465 implicit TLS + AUTH PLAIN: relayed", code, out)
    tap.like(out, r"(?m)^<~  220 ", "  greeting inside TLS")
    code, out = swaks(inst.port["submission"], "--tls", "--auth", "PLAIN",
                      "--from", "alice@localhost", "--to", "x@example.com",
                      "--auth-user", "alice@localhost", "--auth-password",
                      "wrong")
    tap.like(out, r"(?m)^<~\* 535 5\.7\.8 ", "wrong password: 535 5.7.8")
    tap.ok(code != 0, "  swaks fails")


def test_relay():
    P = inst.port["relay"]
    code, out = swaks(P, "--from", "alice@localhost", "--to",
                      "someone@example.com")
    tap.like(out, r"(?m)^<\*\* 554 5\.7\.1 <someone@example\.com>: Relay "
             r"access denied", "no AUTH: relay refused, 554 5.7.1")
    tap.ok(code != 0 and queued(out) is None, "  nothing queued")
    code, out = swaks(P, "--auth", "PLAIN", "--auth-user", "alice@localhost",
                      "--auth-password", "pw-alice", "--from",
                      "alice@localhost", "--to", "someone@example.com")
    check_queued("with AUTH: relayed", code, out)
    code, out = swaks(inst.port["smtp"], "--from", "s@example.org", "--to",
                      "nobody@localhost")
    tap.like(out, r"(?m)^<\*\* 550 5\.1\.1 <nobody@localhost>: Recipient "
             r"address rejected: User unknown", "unknown user: 550 5.1.1")


def test_extensions():
    P = inst.port["smtp"]
    code, out = swaks(P, "--pipeline", "--from", "s@example.org", "--to",
                      "alice@localhost,bob@localhost")
    tap.like(out, r"(?m)^<-  250-PIPELINING$", "PIPELINING announced")
    qid = check_queued("--pipeline: queued", code, out)
    tap.like(out, r"(?m)^ -> MAIL FROM:<s@example\.org>\n -> RCPT TO:"
             r"<alice@localhost>\n -> RCPT TO:<bob@localhost>\n -> DATA\n",
             "  MAIL, RCPT, RCPT, DATA sent as one group")
    if qid:
        env, _ = inst.qread(qid)
        tap.is_(env and len(env.get("rcpt", [])), 2, "  two recipients")
    body = ("Subject: 8bit\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\nGr\u00fc\u00dfe, "
            "\u00e9t\u00e9 \u2014 \U0001F600\n").encode()
    path = os.path.join(top, "body8")
    with open(path, "wb") as f:
        f.write(body)
    code, out = swaks(P, "--from", "s@example.org", "--to",
                      "alice@localhost", "--data", path)
    tap.like(out, r"(?m)^<-  250-8BITMIME$", "8BITMIME announced")
    qid = check_queued("8-bit body: queued", code, out)
    if qid:
        _, content = inst.qread(qid)
        # swaks ends the data with one more empty line.
        if not tap.ok(content.endswith(b"\r\n" + body.replace(b"\n", b"\r\n")
                                       + b"\r\n"),
                      "  8-bit body stored byte for byte"):
            tap.diag(repr(content[-300:]))
    code, out = swaks(P, "--from", "s@example.org", "--to",
                      "alice@localhost", "--quit-after", "EHLO")
    tap.like(out, r"(?m)^<-  250-SIZE 10240000$", "SIZE announced")
    S = inst.port["small"]
    code, out = swaks(S, "--from", "s@example.org", "--to",
                      "alice@localhost", "--body", "x" * 3000)
    tap.like(out, r"(?m)^<\*\* 552 5\.3\.4 Error: message file too big",
             "over message_size_limit (SIZE 2000): 552 5.3.4")
    tap.ok(queued(out) is None, "  not queued")


def test_smtp_source():
    before = set(inst.queue_ids())
    r = subprocess.run([SMTP_SOURCE, "-s", "5", "-m", "200", "-d", "-l",
                        "1024", "-f", "source@example.org", "-t",
                        "alice@localhost", "-M", "source.test",
                        "127.0.0.1:%d" % inst.port["nonet"]],
                       capture_output=True, timeout=300)
    tap.is_(r.returncode, 0, "smtp-source: 200 messages, 5 sessions")
    if r.returncode != 0:
        tap.diag(r.stderr.decode(errors="replace")[-2000:])
    new = set(inst.queue_ids()) - before
    tap.is_(len(new), 200, "all 200 in incoming/")
    bad = 0
    for qid in sorted(new):
        env, content = inst.qread(qid)
        if (env is None or env.get("sender") != ["source@example.org"] or
                env.get("field.client_address") != ["127.0.0.1"] or
                len(content) < 1024):
            bad += 1
    tap.is_(bad, 0, "each one readable, with its envelope and content")
    log = inst.log()
    tap.is_(len(re.findall(r": connect from unknown\[127\.0\.0\.1\]", log)) -
            len(re.findall(r"disconnect from unknown\[127\.0\.0\.1\]", log)),
            0, "every session ended")


try:
    inst.start()
    r = pt.subprocess.run([pt.POSTERN, "-c", inst.dir, "user", "add",
                           "alice@localhost"], input="pw-alice\n",
                          capture_output=True, text=True, timeout=30)
    tap.is_(r.returncode, 0, "user alice added")
    with open(inst.path("users"), "a") as f:
        f.write("bob@localhost x\n")
    if SWAKS:
        test_submission()
        test_relay()
        test_extensions()
    else:
        tap.skip("swaks tests", "swaks not installed")
    if SMTP_SOURCE:
        test_smtp_source()
    else:
        tap.skip("smtp-source test", "smtp-source not installed")
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
