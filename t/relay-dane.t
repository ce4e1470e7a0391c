#!/usr/bin/env python3
"""t/relay-dane.t: smtp_tls_security_level = dane. nsd (t/dns_test.py)
serves TLSA records for the peer's self-signed certificate; nsd does not
validate, so a small UDP proxy in front of it sets the AD bit, as a
validating resolver on a trusted path would (except for names with
"noad" in them). DANE-EE records match the peer: 3 1 1 (SPKI SHA-256),
3 0 1 (certificate SHA-256) and 3 1 2 (SPKI SHA-512) give a "Verified"
TLS session; a record that does not match defers (4.7.5); records
without the AD bit, or no records at all, give TLS without authentication
(as level may); records of an unknown type only (none usable) give
mandatory TLS without authentication."""

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import dns_test  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
if not dns_test.available():
    tap.skip("DANE", "nsd is not installed")
    tap.done()


class AdProxy:
    """UDP on 127.0.0.1: forwards each query to the name server and sets
    the AD bit of the answer unless the query mentions "noad"."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self.running:
            try:
                q, client = self.sock.recvfrom(4096)
            except OSError:
                return
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.settimeout(2)
            try:
                up.sendto(q, ("127.0.0.1", self.up))
                r = bytearray(up.recv(4096))
            except OSError:
                continue
            finally:
                up.close()
            if b"noad" not in q.lower():
                r[3] |= 0x20
            self.sock.sendto(bytes(r), client)

    def stop(self):
        self.running = False
        self.sock.close()


def der(cmd, pem):
    return subprocess.run(cmd, input=pem, capture_output=True,
                          check=True).stdout


top = pt.tempdir()
b = rt.RelayInstance(top, "b", "b.test",
                     users=["u%d@b.test" % i for i in range(1, 8)])
PB = b.port["smtp"]
with open(b.path("tls", "cert.pem"), "rb") as f:
    pem = f.read()
cert = der(["openssl", "x509", "-outform", "DER"], pem)
spki = der(["openssl", "pkey", "-pubin", "-outform", "DER"],
           der(["openssl", "x509", "-pubkey", "-noout"], pem))
S256 = hashlib.sha256(spki).hexdigest()
C256 = hashlib.sha256(cert).hexdigest()
S512 = hashlib.sha512(spki).hexdigest()
HOSTS = {"spki": "3 1 1 " + S256, "cert": "3 0 1 " + C256,
         "sha512": "3 1 2 " + S512, "bad": "3 1 1 " + "00" * 32,
         "noad": "3 1 1 " + S256, "none": None,
         "unusable": "3 1 7 " + S256}
ZONE = "$ORIGIN test.\n$TTL 300\n" \
       "@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n" \
       "@ IN NS ns.test.\nns IN A 127.0.0.1\n"
for h, rec in HOSTS.items():
    ZONE += "%s IN A 127.0.0.1\n" % h
    if rec:
        ZONE += "_%d._tcp.%s IN TLSA %s\n" % (PB, h, rec)
ns = dns_test.NameServer(top, {"test.": ZONE}).start()
proxy = AdProxy(ns.port)
RCPT = {h: "u%d@b.test" % (i + 1) for i, h in enumerate(HOSTS)}
a = rt.RelayInstance(
    top, "a", "a.test", users=["sender@a.test"],
    dns="127.0.0.1:%d" % proxy.port,
    transport="".join("%s smtp:[%s.test]:%d\n" % (RCPT[h], h, PB)
                      for h in HOSTS),
    main={"smtp_tls_security_level": "dane"})
BODY = b"Subject: dane\r\n\r\ndane\r\n.\r\n"


def deliver(host, status, dsn, name):
    qid = rt.send(a.port["smtp"], "sender@a.test", [RCPT[host]], BODY)
    r = a.wait_result(qid, RCPT[host], 15)
    tap.ok(r is not None and r["status"] == status and r["dsn"] == dsn,
           "%s: %s %s" % (name, status, dsn))
    return r or {"text": ""}


def tls_peer(host):
    m = re.search(r"(\w+) TLS connection established to %s\.test"
                  r"\[127\.0\.0\.1\]:%d: TLSv" % (host, PB), a.log())
    return m.group(1) if m else None


try:
    b.start()
    a.start()
    for h, name in (("spki", "3 1 1"), ("cert", "3 0 1"),
                    ("sha512", "3 1 2")):
        deliver(h, "sent", "2.0.0", "DANE-EE " + name)
        tap.is_(tls_peer(h), "Verified", "DANE-EE %s: Verified TLS" % name)
    r = deliver("bad", "deferred", "4.7.5", "a TLSA record that does not "
                "match")
    tap.like(r["text"], r"Cannot start TLS: .*(verify|DANE|dane|TLSA)",
             "the reason")
    tap.is_(tls_peer("bad"), None, "no TLS session")
    deliver("noad", "sent", "2.0.0", "records without AD bit: as may")
    tap.ok(tls_peer("noad") in ("Untrusted", "Trusted"),
           "... TLS without authentication")
    tap.like(a.log(), r"TLSA records of noad\.test are not "
             r"DNSSEC-validated", "... logged")
    deliver("none", "sent", "2.0.0", "no TLSA records: as may")
    tap.ok(tls_peer("none") in ("Untrusted", "Trusted"),
           "... TLS without authentication")
    deliver("unusable", "sent", "2.0.0", "no usable record: encrypt")
    tap.like(a.log(), r"no usable TLSA records for unusable\.test",
             "... logged")
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    b.stop_quietly()
    proxy.stop()
    ns.stop()
    if tap.failed:
        tap.diag("log a:\n" + a.log()[-6000:])
    else:
        pt.cleanup(top)
tap.done()
