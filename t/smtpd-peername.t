#!/usr/bin/env python3
"""t/smtpd-peername.t: the client's name (smtpd_peername_lookup), against
a real name server on loopback (nsd, dns_servers): 127.0.0.2 has a PTR
name whose A record is 127.0.0.2 (confirmed: logged, in Received:, in
check_client_access by name and by parent domain); 127.0.0.3's PTR name
points elsewhere (unknown, but it has a reverse name); 127.0.0.4 has no
PTR; 127.0.0.5 is in a zone that fails (SERVFAIL: a temporary failure);
reject_unknown_client_hostname and reject_unknown_reverse_client_hostname
answer 450 4.7.25 as Postfix does; the greetings of other sessions are
not held up by a slow lookup; 127.0.0.1 is localhost without a query."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import dns_test  # noqa: E402

REVERSE = """$ORIGIN 0.0.127.in-addr.arpa.
$TTL 300
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@       IN NS  ns.example.test.
2       IN PTR mx.good.example.test.
3       IN PTR liar.example.test.
"""
FORWARD = """$ORIGIN example.test.
$TTL 300
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@       IN NS  ns.example.test.
ns      IN A   127.0.0.1
mx.good IN A   127.0.0.2
liar    IN A   127.0.0.99
"""

tap = pt.Tap()
if not dns_test.available():
    tap.skip("client name lookups", "nsd is not installed")
    tap.done()
    sys.exit(0)

top = pt.tempdir()
ns = dns_test.NameServer(top, {"0.0.127.in-addr.arpa.": REVERSE,
                               "example.test.": FORWARD},
                         broken=["5.0.0.127.in-addr.arpa."]).start()
with open(os.path.join(top, "clients"), "w") as f:
    f.write("good.example.test REJECT no thanks\n")
# A "name server" that never answers: a UDP socket nobody reads.
mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
mute.bind(("127.0.0.1", 0))
MUTE = "127.0.0.1:%d" % mute.getsockname()[1]


inst = st.SmtpInstance(top, name="names", one_process=["stuck"], main={
    "smtpd_peername_lookup": "yes",
    "dns_servers": ns.addr,
}, extra={
    "known": ["smtpd_client_restrictions=reject_unknown_client_hostname"],
    "reverse": ["smtpd_client_restrictions="
                "reject_unknown_reverse_client_hostname"],
    "access": ["smtpd_client_restrictions=check_client_access,"
               "texthash:" + os.path.join(top, "clients")],
    "stuck": ["dns_servers=" + MUTE],
})


def rcpt(port, src, to="postmaster@localhost"):
    c = st.Smtp(port, src=src, timeout=30)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<x@example.org>")
    r = c.cmd("RCPT TO:<%s>" % to)
    c.close()
    return r


def test_names():
    port = inst.port["smtp"]
    for src, name in (("127.0.0.2", "mx.good.example.test"),
                      ("127.0.0.3", "unknown"), ("127.0.0.4", "unknown"),
                      ("127.0.0.5", "unknown"), ("127.0.0.1", "localhost")):
        c = st.Smtp(port, src=src, timeout=30)
        tap.is_(c.greeting[0], 220, "%s greeted" % src)
        c.close()
        tap.ok(inst.wait_log(r"connect from %s\[%s\]" %
                             (name.replace(".", r"\."), src.replace(".",
                                                                    r"\."))),
               "%s logged as %s[%s]" % (src, name, src))
    out = st.transaction(port, "x@example.org", ["postmaster@localhost"],
                         "Subject: t\r\n\r\nhi\r\n.\r\n", src="127.0.0.2")
    tap.is_(out[-1][0], 250, "a message from mx.good.example.test")
    ids = inst.queue_ids()
    found = False
    for qid in ids:
        _, content = inst.qread(qid)
        if content and b"(mx.good.example.test [127.0.0.2])" in content:
            found = True
    tap.ok(found, "Received: from client.test (mx.good.example.test "
           "[127.0.0.2])")


def test_restrictions():
    k, r, a = inst.port["known"], inst.port["reverse"], inst.port["access"]
    tap.is_(rcpt(k, "127.0.0.2")[0], 250,
            "reject_unknown_client_hostname: a confirmed name passes")
    tap.is_(rcpt(k, "127.0.0.3"),
            (450, "450 4.7.25 Client host rejected: cannot find your "
             "hostname, [127.0.0.3]"),
            "a name that does not confirm: 450 4.7.25")
    tap.is_(rcpt(k, "127.0.0.5")[0], 450, "a failed lookup: 450")
    tap.is_(rcpt(r, "127.0.0.3")[0], 250,
            "reject_unknown_reverse_client_hostname: a PTR name passes")
    tap.is_(rcpt(r, "127.0.0.4"),
            (450, "450 4.7.25 Client host rejected: cannot find your "
             "reverse hostname, [127.0.0.4]"),
            "no PTR name: 450 4.7.25")
    tap.is_(rcpt(a, "127.0.0.2"),
            (554, "554 5.7.1 <mx.good.example.test[127.0.0.2]>: Client "
             "host rejected: no thanks"),
            "check_client_access: the name's parent domain matches")
    tap.is_(rcpt(a, "127.0.0.3")[0], 250,
            "an unconfirmed name is not looked up")


def test_not_held_up():
    # The "stuck" service asks a name server that never answers: its
    # lookups time out (5 s a query), while a session of the same smtpd
    # process that needs no lookup is greeted at once.
    port = inst.port["stuck"]
    res = {}

    def slow():
        t = time.monotonic()
        c = st.Smtp(port, src="127.0.0.2", timeout=60)
        res["slow"] = (c.greeting[0], time.monotonic() - t)
        c.close()

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.5)
    t = time.monotonic()
    c = st.Smtp(port, src="127.0.0.1", timeout=30)
    dt = time.monotonic() - t
    tap.is_(c.greeting[0], 220, "a session in the same process")
    c.close()
    th.join()
    tap.ok(dt < 2.0, "greeted in %.2f s while another waits for DNS" % dt)
    tap.is_(res["slow"][0], 220, "the waiting one is greeted too")
    tap.ok(res["slow"][1] >= 4.0, "after the name server's timeout "
           "(%.1f s)" % res["slow"][1])
    tap.ok(inst.wait_log(r"connect from unknown\[127\.0\.0\.2\]"),
           "as unknown")


try:
    inst.start()
    test_names()
    test_restrictions()
    test_not_held_up()
finally:
    inst.stop_quietly()
    ns.stop()
tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
tap.done()
