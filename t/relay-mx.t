#!/usr/bin/env python3
"""t/relay-mx.t: relaying between two instances through DNS. A name
server on loopback (nsd, t/dns_test.py) serves the zone "test."; instance
A (a.test) looks up MX records there and relays to instance B (b.test,
its smtpd at A's smtp_tcp_port). Covered: delivery into B's Maildir with
dot-stuffing intact and opportunistic STARTTLS, several recipients in one
transaction, a dead primary MX with a live backup, null MX and NXDOMAIN
bounced at once (with a DSN to the sender), SERVFAIL deferred, an MX list
that points back at A deferred as a loop, transport_maps with
smtp:[host]:port and error:, and relayhost."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import dns_test  # noqa: E402
import deliver_test as dt  # noqa: E402
import relay_test as rt  # noqa: E402

ZONE = """$ORIGIN test.
$TTL 300
@       IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
@       IN NS  ns.test.
ns      IN A   127.0.0.1
a       IN A   127.0.0.1
b       IN MX  10 mx.b.test.
mx.b    IN A   127.0.0.1
backup  IN MX  10 dead.test.
backup  IN MX  20 mx.b.test.
dead    IN A   127.0.0.2
nullmx  IN MX  0 .
self    IN MX  10 a.test.
"""

tap = pt.Tap()
if not dns_test.available():
    tap.skip("relay through MX records", "nsd is not installed")
    tap.done()

top = pt.tempdir()
ns = dns_test.NameServer(top, {"test.": ZONE}, broken=["broken."]).start()
b = rt.RelayInstance(top, "b", "b.test",
                     users=["bob@b.test", "carol@b.test", "bob@backup.test",
                            "bob@relayed.test", "bob@viarelayhost.test"])
b.start()
a = rt.RelayInstance(top, "a", "a.test", dns=ns.addr,
                     users=["alice@a.test"],
                     main={"smtp_tcp_port": str(b.port["smtp"])},
                     transport="relayed.test smtp:[127.0.0.1]:%d\n"
                               "err.test error:5.1.1 no mail here\n"
                     % b.port["smtp"])
a.start()
PA = a.port["smtp"]
# as sent over SMTP: "..hidden" and ".." are the lines ".hidden" and "."
BODY = ("Subject: relay\r\n\r\n..hidden line\r\n..\r\nlast\r\n.\r\n")


def send(rcpts, body=BODY, sender="alice@a.test"):
    return rt.send(PA, sender, rcpts, body)


def test_mx_delivery():
    qid = send(["bob@b.test", "carol@b.test"])
    r = a.wait_result(qid, "bob@b.test")
    tap.ok(r is not None and r["status"] == "sent", "relayed via MX: sent")
    if r:
        tap.is_(r["relay"], "mx.b.test[127.0.0.1]:%d" % b.port["smtp"],
                "relay=host[addr]:port of the MX host")
        tap.like(r["text"], r"^250 2\.0\.0 Ok: queued as [0-9A-Z]{16}$",
                 "the remote reply as the text")
        tap.is_(r["dsn"], "2.0.0", "dsn from the reply")
    c = a.wait_result(qid, "carol@b.test")
    tap.ok(c is not None and c["status"] == "sent", "second recipient sent")
    tap.ok(a.wait_log(r"Untrusted TLS connection established to "
                      r"mx\.b\.test\[127\.0\.0\.1\]:%d: TLSv1\.[23]"
                      % b.port["smtp"]),
           "STARTTLS used (smtp_tls_security_level may)")
    msgs = b.wait_messages("bob@b.test", 1)
    data = b"".join(msgs.values())
    tap.ok(b"\n.hidden line\n" in data,
           "a leading dot survives (dot-stuffing)")
    tap.ok(b"\n.\nlast\n" in data, "a line of one dot does not end DATA")
    tap.like(data.decode(errors="replace"), r"with ESMTPS",
             "B received it over TLS")
    tap.ok(len(b.wait_messages("carol@b.test", 1)) == 1, "carol has it")
    tap.is_(len(re.findall(r"nrcpt=2 \(queue active\)", b.log())), 1,
            "both recipients in one transaction")


def test_backup_mx():
    qid = send(["bob@backup.test"])
    r = a.wait_result(qid, "bob@backup.test", 20)
    tap.ok(r is not None and r["status"] == "sent",
           "dead primary MX: the backup takes it")
    if r:
        tap.like(r["relay"], r"^mx\.b\.test\[", "relay is the backup")
    tap.ok(len(b.wait_messages("bob@backup.test", 1)) == 1,
           "delivered at B")


def expect(rcpt, status, dsn, text, name):
    qid = send([rcpt])
    r = a.wait_result(qid, rcpt, 8)
    tap.ok(r is not None and r["status"] == status and r["dsn"] == dsn,
           "%s: %s %s" % (name, status, dsn))
    if r:
        tap.like(r["text"], text, name + ": the reason")
    else:
        tap.diag(a.log()[-3000:])
        tap.ok(False, name + ": the reason")
    return qid


def test_failures():
    expect("x@nullmx.test", "bounced", "5.1.10",
           r"^Domain nullmx\.test does not accept mail \(nullMX\)$",
           "null MX")
    expect("x@nope.test", "bounced", "5.4.4",
           r"Name service error for name=nope\.test type=MX: Host not "
           r"found$", "NXDOMAIN")
    expect("x@y.broken", "deferred", "4.4.3",
           r"name=y\.broken type=MX: Host not found, try again$",
           "SERVFAIL")
    expect("x@self.test", "deferred", "4.4.6",
           r"^mail for self\.test loops back to myself$", "MX points to us")
    dsn = b"".join(a.wait_messages("alice@a.test", 2).values())
    tap.ok(b"does not accept mail (nullMX)" in dsn and
           b"Status: 5.1.10" in dsn, "the sender got a DSN for null MX")


def test_transport_maps():
    qid = send(["bob@relayed.test"])
    r = a.wait_result(qid, "bob@relayed.test")
    tap.ok(r is not None and r["status"] == "sent" and
           r["relay"] == "127.0.0.1[127.0.0.1]:%d" % b.port["smtp"],
           "transport_maps smtp:[host]:port, no MX lookup")
    tap.ok(len(b.wait_messages("bob@relayed.test", 1)) == 1,
           "delivered at B")
    expect("x@err.test", "bounced", "5.1.1", r"^no mail here$",
           "transport_maps error:")


def test_relayhost():
    c = rt.RelayInstance(top, "c", "c.test", dns=ns.addr,
                         main={"relayhost": "[127.0.0.1]:%d"
                               % b.port["smtp"]})
    c.start()
    try:
        qid = rt.send(c.port["smtp"], "x@c.test",
                      ["bob@viarelayhost.test"], BODY)
        r = c.wait_result(qid, "bob@viarelayhost.test")
        tap.ok(r is not None and r["status"] == "sent",
               "relayhost: sent through it")
        tap.ok(len(b.wait_messages("bob@viarelayhost.test", 1)) == 1,
               "delivered at B")
        tap.is_(c.sanitizer_reports(), [], "no sanitizer reports in C")
    finally:
        c.stop_quietly()


try:
    test_mx_delivery()
    test_backup_mx()
    test_failures()
    test_transport_maps()
    test_relayhost()
    tap.is_(a.sanitizer_reports() + b.sanitizer_reports(), [],
            "no sanitizer reports")
finally:
    a.stop_quietly()
    b.stop_quietly()
    ns.stop()
    if tap.failed:
        tap.diag("A's log:\n" + a.log()[-6000:])
    else:
        pt.cleanup(top)
tap.done()
