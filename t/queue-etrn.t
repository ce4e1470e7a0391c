#!/usr/bin/env python3
"""t/queue-etrn.t: ETRN (RFC 1985) in smtpd against a running instance
whose remote mail is deferred (no smtp agent) with back-off far in the
future: the replies Postfix gives (250 Queuing started, 459 outside
fast_flush_domains, 500/501 syntax, 503 in a transaction or before
HELO when smtpd_helo_required), smtpd_etrn_restrictions, and that ETRN
retries the deferred mail of that domain (and with '@' its subdomains)
and nothing else; ETRN is announced in EHLO."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import deliver_test as dt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = dt.DeliverInstance(
    top, users=["alice@localhost"],
    main={"minimal_backoff_time": "1h", "maximal_backoff_time": "2h",
          "queue_run_delay": "1h", "fast_flush_domains": "example.com",
          "smtpd_etrn_restrictions": "permit_mynetworks, reject"},
    extra={"helo": ["smtpd_helo_required=yes"],
           "open": ["smtpd_etrn_restrictions="]})


def deferred(rcpt):
    r = st.transaction(inst.port["smtp"], "alice@localhost", [rcpt],
                       "Subject: etrn\r\n\r\nx\r\n.\r\n", src=st.TRUSTED)
    m = re.search(r"queued as ([0-9A-Z]{16})", r[-1][1] or "")
    qid = m.group(1) if m else "none"
    inst.wait_log(tries_pattern(qid, rcpt))
    end = time.monotonic() + 5
    while time.monotonic() < end and qid not in inst.queue_ids("deferred"):
        time.sleep(0.02)
    return qid


def tries_pattern(qid, rcpt):
    return (qid + r": to=<%s>, relay=none, .*status=deferred" %
            re.escape(rcpt))


def tries(qid, rcpt):
    return len(re.findall(tries_pattern(qid, rcpt), inst.log()))


def wait_tries(qid, rcpt, n, timeout=8):
    end = time.monotonic() + timeout
    while time.monotonic() < end and tries(qid, rcpt) < n:
        time.sleep(0.05)
    return tries(qid, rcpt) >= n


def etrn(arg, src=st.TRUSTED, port=None, ehlo=True):
    c = st.Smtp(port or inst.port["smtp"], src)
    if ehlo:
        c.cmd("EHLO client.test")
    r = c.cmd("ETRN" + ("" if arg is None else " " + arg))
    c.cmd("QUIT")
    c.close()
    return r


def test_replies():
    c = st.Smtp(inst.port["smtp"], st.TRUSTED)
    tap.like(c.cmd("EHLO client.test")[1], r"(?m)^250-ETRN$",
             "EHLO announces ETRN")
    c.cmd("MAIL FROM:<alice@localhost>")
    tap.is_(c.cmd("ETRN example.com"),
            (503, "503 Error: MAIL transaction in progress"),
            "503 inside a transaction")
    c.cmd("QUIT")
    c.close()
    tap.is_(etrn(None), (500, "500 Syntax: ETRN domain"), "500 without domain")
    tap.is_(etrn("a.example b.example"), (500, "500 Syntax: ETRN domain"),
            "500 with two words")
    tap.is_(etrn("bad_name!"), (501, "501 Error: invalid parameter syntax"),
            "501 for a bad host name")
    tap.is_(etrn("192.0.2.1"), (501, "501 Error: invalid parameter syntax"),
            "501 for a bare IP address")
    tap.is_(etrn("other.org"), (459, "459 <other.org>: service unavailable"),
            "459 outside fast_flush_domains")
    tap.is_(etrn("example.com", src=st.UNTRUSTED),
            (554, "554 5.7.1 <example.com>: Etrn command rejected: "
             "Access denied"),
            "smtpd_etrn_restrictions: a client outside mynetworks refused")
    tap.is_(etrn("example.com", src=st.UNTRUSTED, port=inst.port["open"]),
            (250, "250 Queuing started"),
            "empty smtpd_etrn_restrictions: anyone may (Postfix's default)")
    tap.is_(etrn("example.com", port=inst.port["helo"], ehlo=False),
            (503, "503 Error: send HELO/EHLO first"),
            "503 before HELO with smtpd_helo_required")


def test_flush():
    x = deferred("x@example.com")
    y = deferred("y@sub.example.com")
    z = deferred("z@other.org")
    tap.ok(all(q in inst.queue_ids("deferred") for q in (x, y, z)),
           "three remote messages deferred")
    base = {q: tries(q, r) for q, r in ((x, "x@example.com"),
                                       (y, "y@sub.example.com"),
                                       (z, "z@other.org"))}
    time.sleep(1.5)
    tap.ok(tries(x, "x@example.com") == base[x],
           "back-off in the future: no retry on its own")
    tap.is_(etrn("EXAMPLE.COM"), (250, "250 Queuing started"),
            "ETRN example.com: 250 Queuing started")
    tap.ok(wait_tries(x, "x@example.com", base[x] + 1),
           "  the domain's deferred message is tried again")
    tap.ok(inst.wait_log(r"ETRN example\.com: 1 deferred message due now"),
           "  and logged")
    time.sleep(1)
    tap.ok(tries(y, "y@sub.example.com") == base[y] and
           tries(z, "z@other.org") == base[z],
           "  other domains and subdomains are not")
    tap.is_(etrn("@example.com"), (250, "250 Queuing started"),
            "ETRN @example.com: 250")
    tap.ok(wait_tries(y, "y@sub.example.com", base[y] + 1),
           "  '@' includes the subdomains")
    time.sleep(1)
    tap.is_(tries(z, "z@other.org"), base[z], "  other.org still waits")


try:
    inst.start()
    test_replies()
    test_flush()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
finally:
    inst.stop_quietly()
    pt.cleanup(top)
tap.done()
