#!/usr/bin/env python3
"""t/relay-8bit.t: 8-bit mail to a server without 8BITMIME (Postfix's
smtp-sink -8 as the peer, transport_maps smtp:[127.0.0.1]:PORT). A
multipart with 8-bit parts (labelled 8bit and unlabelled), a base64
attachment and an enclosed 8-bit message, and a plain 8-bit message
without MIME, arrive 7-bit only, as valid MIME (python's email package
finds no defect) whose parts decode back to the original text; the same
message goes as it is, with BODY=8BITMIME, to a sink that offers it; a
7-bit message arrives unchanged. What cannot be converted (8-bit in a
header, 8-bit inside multipart/signed) and every 8-bit message with
disable_mime_output_conversion = yes bounce with 5.6.3 and the reason,
quoted in the DSN."""

import email
import email.policy
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402
import relay_test as rt  # noqa: E402

tap = pt.Tap()
if not rt.available():
    tap.skip("8-bit mail to smtp-sink -8", "smtp-sink is not installed")
    tap.done()

MULTI = (
    "Subject: multi\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Gr\u00fc\u00dfe aus K\u00f6ln = 100 \u20ac \r\n"
    ".a line with a dot\r\n"
    "-- \r\n"
    + "long \u00e9 " * 150 + "\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>\u00e9t\u00e9 \u00e0 Z\u00fcrich</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQFBgcICQoLDA0ODw==\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Subject: enclosed\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "\u00c0 bient\u00f4t\r\n"
    "--outer--\r\n").encode("utf-8")
PLAIN = ("Subject: plain\r\n\r\nna\u00efve caf\u00e9\r\n"
         "second line\t\r\n").encode("utf-8")
ASCII = b"Subject: ascii\r\n\r\nplain = text\r\n-- \r\nsig\r\n"
HEADER8 = "Subject: caf\u00e9\r\n\r\nbody\r\n".encode("utf-8")
SIGNED = (
    "Subject: signed\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/signed; boundary=s;"
    " protocol=\"application/pgp-signature\"\r\n"
    "\r\n"
    "--s\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "sign\u00e9\r\n"
    "--s\r\n"
    "Content-Type: application/pgp-signature\r\n"
    "\r\n"
    "-----BEGIN PGP SIGNATURE-----\r\n"
    "--s--\r\n").encode("utf-8")

top = pt.tempdir()
sinks = {"nobit": rt.Sink(top, "nobit", ["-8"]),
         "bit": rt.Sink(top, "bit")}
table = "".join("%s.test smtp:[127.0.0.1]:%d\n" % (n, s.port)
                for n, s in sinks.items())
table += "noconv.test smtpnoconv:[127.0.0.1]:%d\n" % sinks["nobit"].port
a = rt.RelayInstance(top, "a", "a.test", users=["alice@a.test"],
                     transport=table)
a.orig_master += ("smtpnoconv unix - - n - - smtp\n"
                  "  -o disable_mime_output_conversion=yes\n")
a.assign_ports()
a.start()
PA = a.port["smtp"]


def send(rcpt, body, eightbit=True):
    """Submits body with BODY=8BITMIME; returns the queue ID."""
    c = st.Smtp(PA, src=st.TRUSTED)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<alice@a.test>%s" % (" BODY=8BITMIME" if eightbit
                                          else ""))
    c.cmd("RCPT TO:<%s>" % rcpt)
    c.cmd("DATA")
    c.send(re.sub(rb"(?m)^\.", b"..", body) + b".\r\n")
    qid = (c.reply()[1].split() or ["none"])[-1]
    c.cmd("QUIT")
    c.close()
    return qid


def received(sink, subject):
    """The sink's dump of the message with this subject: (the MAIL FROM
    arguments, the message as it came, dots unstuffed, CRLF lines)."""
    for m in sink.messages():
        if ("\nSubject: %s\n" % subject).encode() not in m:
            continue
        head, _, rest = m.partition(b"\nReceived: ")
        args = re.search(rb"X-Mail-Args: (.*)\n", head)
        # drop the Received: fields of the sink and of our instance
        lines = (b"Received: " + rest).split(b"\n")
        while lines and (lines[0].startswith(b"Received: ") or
                         lines[0][:1] in (b" ", b"\t")):
            lines.pop(0)
        lines = [ln[1:] if ln.startswith(b"..") else ln for ln in lines]
        if lines and lines[-1] == b"":
            lines.pop()
        if lines and lines[-1] == b"":
            lines.pop()  # the sink's blank line after the message
        return (args.group(1) if args else b"",
                b"".join(ln + b"\r\n" for ln in lines))
    return None, None


def leaves(msg):
    """The decoded payloads of the leaf parts, in order."""
    out = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        if p.get_content_type() == "message/rfc822":
            continue
        out.append(p.get_payload(decode=True))
    return out


def is_sent(qid, rcpt, name):
    r = a.wait_result(qid, rcpt, 15)
    tap.ok(r is not None and r["status"] == "sent", name + ": sent")


def check_converted(body, subject, rcpt, name):
    qid = send(rcpt, body)
    is_sent(qid, rcpt, name)
    args, got = received(sinks["nobit"], subject)
    got = got or b""
    tap.ok(got != b"" and all(b < 0x80 for b in got),
           name + ": the sink got 7-bit content only")
    tap.ok(all(len(ln) <= 78 for ln in got.split(b"\n")),
           name + ": lines of at most 76 bytes and CRLF")
    tap.ok(args is not None and b"BODY=8BITMIME" not in args,
           name + ": no BODY=8BITMIME (%s)" % args)
    want = email.message_from_bytes(body, policy=email.policy.default)
    have = email.message_from_bytes(got, policy=email.policy.default)
    defects = [d for p in have.walk() for d in p.defects]
    tap.is_(defects, [], name + ": valid MIME, no defects")
    norm = [p.replace(b"\r\n", b"\n") for p in leaves(want)]
    tap.is_([p.replace(b"\r\n", b"\n") for p in leaves(have)], norm,
            name + ": every part decodes back to the original")
    return got


def test_converted():
    got = check_converted(MULTI, "multi", "x@nobit.test", "multipart")
    tap.like(got.decode(), r"Content-Transfer-Encoding: base64\r\n\r\n"
             r"AAECAwQFBgcICQoLDA0ODw==\r\n", "multipart: base64 as it was")
    tap.like(got.decode(), r"Content-Type: message/rfc822\r\n"
             r"Content-Transfer-Encoding: 7bit\r\n",
             "multipart: message/rfc822 relabelled 7bit")
    tap.ok(got.count(b"Content-Transfer-Encoding: quoted-printable") == 3,
           "multipart: three parts encoded quoted-printable")
    got = check_converted(PLAIN, "plain", "y@nobit.test", "no MIME")
    tap.like(got.decode(), r"^Subject: plain\r\nMIME-Version: 1\.0\r\n"
             r"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             r"na=C3=AFve caf=C3=A9\r\nsecond line=09\r\n$",
             "no MIME: MIME-Version and the encoding added")
    qid = send("z@nobit.test", ASCII, eightbit=False)
    is_sent(qid, "z@nobit.test", "7-bit")
    tap.is_(received(sinks["nobit"], "ascii")[1], ASCII,
            "7-bit: arrived unchanged")
    qid = send("x@bit.test", MULTI)
    is_sent(qid, "x@bit.test", "peer with 8BITMIME")
    args, got = received(sinks["bit"], "multi")
    tap.ok(args is not None and b"BODY=8BITMIME" in args,
           "peer with 8BITMIME: BODY=8BITMIME")
    tap.is_(got, MULTI, "peer with 8BITMIME: the content as it was")


def bounced(rcpt, body, reason, name):
    qid = send(rcpt, body)
    r = a.wait_result(qid, rcpt, 15)
    tap.ok(r is not None and r["status"] == "bounced" and
           r["dsn"] == "5.6.3", name + ": bounced 5.6.3")
    tap.like(r and r["text"], r"^message has 8-bit content, but host "
             r"127\.0\.0\.1\[127\.0\.0\.1\] does not support 8BITMIME, and "
             r"it cannot be sent as 7-bit MIME: " + reason,
             name + ": the reason")


def test_bounced():
    bounced("h@nobit.test", HEADER8, "8-bit characters in a header",
            "8-bit header")
    bounced("s@nobit.test", SIGNED, "8-bit content inside a signed",
            "multipart/signed")
    bounced("n@noconv.test", PLAIN, r"conversion to 7-bit is disabled",
            "disable_mime_output_conversion = yes")
    dsn = b"".join(a.wait_messages("alice@a.test", 3).values())
    tap.ok(dsn.count(b"does not support 8BITMIME") >= 3,
           "the DSNs carry the reason")
    subjects = [m for m in sinks["nobit"].messages()
                if re.search(rb"\nSubject: (caf|signed)", m)]
    tap.is_(subjects, [], "nothing of them reached the sink")


try:
    test_converted()
    test_bounced()
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
