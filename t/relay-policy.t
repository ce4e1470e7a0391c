#!/usr/bin/env python3
"""t/relay-policy.t: smtp_tls_policy_maps overrides smtp_tls_security_level
(may here) per next hop, "[host]:port" keys: a peer with STARTTLS gets TLS
by default (the log line says "Trusted TLS connection established to
host[ip]:port: TLSv1.x with cipher ..."), none under a "none" policy;
"verify match=localhost" with the peer's certificate in smtp_tls_CAfile
logs "Verified"; "verify match=wrong.example" defers (name mismatch);
"encrypt" to smtp-sink (no STARTTLS) defers 4.7.4; a policy that cannot
be parsed defers 4.3.5 instead of sending with a weaker level."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
b = rt.RelayInstance(top, "b", "b.test",
                     users=["u%d@b.test" % i for i in range(1, 6)],
                     extra={"p2": [], "p3": [], "p4": []})
sink = rt.Sink(top, "sink") if rt.available() else None
PB = {n: b.port[n] for n in ("smtp", "p2", "p3", "p4")}
SINK = sink.port if sink else pt.free_port()
a = rt.RelayInstance(
    top, "a", "a.test", users=["sender@a.test"],
    transport="".join("u%d@b.test smtp:[127.0.0.1]:%d\n" % (i, PB[n])
                      for i, n in ((1, "smtp"), (2, "p2"), (3, "p3"),
                                   (4, "p4"))) +
    "x@sink.test smtp:[127.0.0.1]:%d\n" % SINK +
    "u5@b.test smtp:[127.0.0.1]:%d\n" % PB["smtp"] +
    "y@junk.test smtp:[127.0.0.2]:%d\n" % SINK,
    main={"smtp_tls_policy_maps": "texthash:$config_directory/tls_policy",
          "smtp_tls_CAfile": b.path("tls", "cert.pem")})
with open(a.path("tls_policy"), "w") as f:
    f.write("[127.0.0.1]:%d none\n" % PB["p2"] +
            "[127.0.0.1]:%d verify match=localhost\n" % PB["p3"] +
            "[127.0.0.1]:%d verify match=wrong.example\n" % PB["p4"] +
            "[127.0.0.1]:%d encrypt\n" % SINK +
            "[127.0.0.2]:%d bogus\n" % SINK)
BODY = b"Subject: policy\r\n\r\ntls policy\r\n.\r\n"


def deliver(rcpt, status, dsn, name):
    qid = rt.send(a.port["smtp"], "sender@a.test", [rcpt], BODY)
    r = a.wait_result(qid, rcpt, 15)
    tap.ok(r is not None and r["status"] == status and r["dsn"] == dsn,
           "%s: %s %s" % (name, status, dsn))
    return r or {"text": ""}


def tls_line(port):
    m = re.search(r"(\w+) TLS connection established to "
                  r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: (.*)" % port, a.log())
    return m.groups() if m else None


try:
    b.start()
    a.start()
    deliver("u1@b.test", "sent", "2.0.0", "no policy entry: the default")
    t = tls_line(PB["smtp"])
    # the peer's certificate is in smtp_tls_CAfile, names are not checked
    tap.ok(t is not None and t[0] == "Trusted", "may: Trusted TLS")
    tap.like(t and t[1], r"^TLSv1\.[23] with cipher \S+",
             "the log line has the version and cipher")
    deliver("u2@b.test", "sent", "2.0.0", "policy none")
    tap.is_(tls_line(PB["p2"]), None, "none: no TLS")
    deliver("u3@b.test", "sent", "2.0.0", "policy verify match=localhost")
    t = tls_line(PB["p3"])
    tap.ok(t is not None and t[0] == "Verified", "verify: Verified TLS")
    r = deliver("u4@b.test", "deferred", "4.7.5",
                "policy verify, wrong name")
    tap.like(r["text"], r"Cannot start TLS: .*(certificate|hostname|verif)",
             "the reason names the certificate check")
    if sink:
        r = deliver("x@sink.test", "deferred", "4.7.4",
                    "policy encrypt, peer without STARTTLS")
        tap.like(r["text"], r"^TLS is required, but was not offered",
                 "the reason")
    else:
        tap.skip("policy encrypt", "smtp-sink is not installed")
    r = deliver("y@junk.test", "deferred", "4.3.5", "a bad policy")
    tap.like(r["text"], r"TLS policy lookup for \[127\.0\.0\.2\]:\d+ failed",
             "the reason")
    tap.like(a.log(), r"bad policy for \[127\.0\.0\.2\]:\d+: \"bogus\": "
             r"unknown TLS level", "the log says why")
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    b.stop_quietly()
    if sink:
        sink.stop()
    if tap.failed:
        tap.diag("log a:\n" + a.log()[-6000:])
    else:
        pt.cleanup(top)
tap.done()
