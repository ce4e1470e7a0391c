#!/usr/bin/env python3
"""t/smtpd-policy.t: smtpd's access policy, from an untrusted client
(127.0.0.2) and from mynetworks (127.0.0.1): relaying deferred by default
and refused with reject_unauth_destination, never open; unknown local
users refused at RCPT (users table, aliases, postmaster; and
local_recipient_maps set to another table or empty); hostile address
forms refused for relay; check_client/sender/recipient_access with OK,
DUNNO, REJECT, DEFER, 4xx/5xx results; a broken restriction fails closed."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import smtpd_test as st  # noqa: E402

tap = pt.Tap()
top = pt.tempdir()
inst = st.SmtpInstance(top, name="p", extra={
    "strict": ["smtpd_relay_restrictions=permit_mynetworks,"
               "reject_unauth_destination"],
    "access": ["smtpd_recipient_restrictions=check_client_access,"
               "texthash:$config_directory/client_access,"
               "check_sender_access,texthash:$config_directory/sender_access,"
               "check_recipient_access,texthash:$config_directory/rcpt_access"],
    "broken": ["smtpd_recipient_restrictions=frobnicate"],
    "relaydom": ["smtpd_relay_restrictions=permit_mynetworks,"
                 "reject_unauth_destination", "relay_domains=example.com"],
    "anyrcpt": ["local_recipient_maps="],
    "lrmaps": ["local_recipient_maps=texthash:$config_directory/rcpts"],
})
files = {
    "users": "alice@localhost x\nbob@localhost x\n",
    "aliases": "info alice\n",
    "rcpts": "carol@localhost x\ndave x\n",
    "client_access": "127.0.0.1 REJECT\n",
    "sender_access": "bad@example.org REJECT\nexample.net 450 greylisted\n"
                     "good@example.org OK\n",
    "rcpt_access": "bob@localhost 550 5.1.1 gone away\n"
                   "alice@localhost DUNNO\nweird@localhost FROB\n",
}
for name, text in files.items():
    with open(inst.path(name), "w") as f:
        f.write(text)
P = inst.port["smtp"]


def rcpt(port, to, sender="s@example.org", src=st.UNTRUSTED):
    c = st.Smtp(port, src)
    c.cmd("EHLO c.test")
    m = c.cmd("MAIL FROM:<%s>" % sender)
    r = c.cmd("RCPT TO:" + (to if to.startswith("<") else "<%s>" % to))
    c.close()
    return r if m[0] == 250 else m


def test_relay():
    tap.is_(rcpt(P, "x@example.com"),
            (450, "450 4.7.1 <x@example.com>: Relay access denied"),
            "default: relay from outside deferred (defer_unauth_destination)")
    tap.is_(rcpt(P, "x@example.com", src=st.TRUSTED)[0], 250,
            "relay from mynetworks allowed")
    S = inst.port["strict"]
    tap.is_(rcpt(S, "x@example.com"),
            (554, "554 5.7.1 <x@example.com>: Relay access denied"),
            "reject_unauth_destination: 554 5.7.1")
    tap.is_(rcpt(S, "x@example.com", src=st.TRUSTED)[0], 250,
            "mynetworks still relays")
    tap.is_(rcpt(S, "alice@localhost")[0], 250, "local domain accepted")
    tap.is_(rcpt(P, "x@example.com", src="127.0.0.3")[0], 450,
            "127.0.0.3 is not in mynetworks (127.0.0.1/32 only)")


def test_hostile_forms():
    S = inst.port["strict"]
    for to, why in (("<alice%example.com@localhost>", "percent hack"),
                    ("<example.com!alice@localhost>", "bang path"),
                    ('<"alice@example.com"@localhost>', "quoted @"),
                    ("<@localhost:alice@example.com>", "source route out"),
                    ("<@example.com:alice@localhost>", "source route in"),
                    ("<alice@[127.0.0.1]>", "IP literal"),
                    ("<alice@[IPv6:::1]>", "IPv6 literal"),
                    ("<alice@xn--lcalhost-9za>", "look-alike ACE domain"),
                    ("<alice@localhost.example.com>", "suffix look-alike"),
                    ("<alice@example.com.>", "trailing dot elsewhere")):
        code = rcpt(S, to)[0]
        tap.ok(code in (501, 553, 554), "%s refused for relay (%s)"
               % (why, code))
    for to in ("<alice@localhost@example.com>", "<alice@>", "<@localhost>",
               "<alice@local\x01host>", "<alice>"):
        tap.is_(rcpt(S, to)[0], 501, "syntax refused: %r" % to)
    tap.is_(rcpt(S, "<alice@LocalHost.>")[0], 250,
            "case and trailing dot normalised to a local address")
    R = inst.port["relaydom"]
    tap.is_(rcpt(R, "x@example.com")[0], 250, "relay_domains: relayed")
    tap.is_(rcpt(R, "x@sub.example.com")[0], 554, "not its subdomains")
    for to, why in (("<x%y.test@example.com>", "percent hack"),
                    ('<"a b"@example.com>', "quoted local part"),
                    ("<y.test!x@example.com>", "bang path")):
        tap.is_(rcpt(R, to)[0], 554, "relay_domains: %s refused" % why)


def test_recipients():
    tap.is_(rcpt(P, "nobody@localhost"),
            (550, "550 5.1.1 <nobody@localhost>: Recipient address "
             "rejected: User unknown in local recipient table"),
            "unknown local user: 550 5.1.1")
    tap.is_(rcpt(P, "nobody@localhost", src=st.TRUSTED)[0], 550,
            "unknown user refused for mynetworks too")
    tap.is_(rcpt(P, "alice@localhost")[0], 250, "user in the users table")
    tap.is_(rcpt(P, "ALICE@localhost")[0], 250, "any case of the local part")
    tap.is_(rcpt(P, "info@localhost")[0], 250, "alias")
    tap.is_(rcpt(P, "postmaster@localhost")[0], 250, "postmaster always")
    tap.is_(rcpt(P, "<Postmaster>")[0], 250, "<Postmaster> unqualified")
    tap.is_(rcpt(P, "<nobody>")[0], 501, "other unqualified refused")
    L = inst.port["lrmaps"]
    tap.is_(rcpt(L, "carol@localhost")[0], 250,
            "local_recipient_maps: listed by address")
    tap.is_(rcpt(L, "dave@localhost")[0], 250,
            "local_recipient_maps: listed by local part")
    tap.is_(rcpt(L, "alice@localhost")[0], 550,
            "local_recipient_maps without the users table: user refused")
    tap.is_(rcpt(L, "postmaster@localhost")[0], 250, "postmaster still")
    tap.is_(rcpt(inst.port["anyrcpt"], "nobody@localhost")[0], 250,
            "local_recipient_maps empty: any local part accepted")
    tap.is_(rcpt(inst.port["anyrcpt"], "x@example.com")[0], 450,
            "but relaying is still not")


def test_access():
    A = inst.port["access"]
    tap.is_(rcpt(A, "alice@localhost", src=st.TRUSTED),
            (554, "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: "
             "Access denied"), "check_client_access REJECT")
    tap.is_(rcpt(A, "alice@localhost", sender="bad@example.org"),
            (554, "554 5.7.1 <bad@example.org>: Sender address rejected: "
             "Access denied"), "check_sender_access REJECT")
    tap.is_(rcpt(A, "alice@localhost", sender="x@example.net"),
            (450, "450 4.7.1 <x@example.net>: Sender address rejected: "
             "greylisted"), "check_sender_access domain 450 text")
    tap.is_(rcpt(A, "alice@localhost", sender="good@example.org")[0], 250,
            "check_sender_access OK")
    tap.is_(rcpt(A, "x@example.com", sender="good@example.org")[0], 450,
            "OK in recipient restrictions does not open the relay")
    tap.is_(rcpt(A, "bob@localhost"),
            (550, "550 5.1.1 <bob@localhost>: Recipient address rejected: "
             "gone away"), "check_recipient_access 550 with its status")
    tap.is_(rcpt(A, "alice@localhost", sender="")[0], 250,
            "null sender, DUNNO")
    tap.is_(rcpt(A, "weird@localhost"),
            (451, "451 4.3.5 Server configuration error"),
            "unknown table result: 451 4.3.5")
    tap.is_(rcpt(inst.port["broken"], "alice@localhost"),
            (451, "451 4.3.5 Server configuration error"),
            "unknown restriction fails closed")
    tap.like(inst.log(), r"restriction \"frobnicate\": not supported",
             "and is logged")


try:
    inst.start()
    P = inst.port["smtp"]  # start() may have moved busy ports
    test_relay()
    test_hostile_forms()
    test_recipients()
    test_access()
finally:
    inst.stop_quietly()
    tap.is_(inst.sanitizer_reports(), [], "no sanitizer reports")
    pt.cleanup(top)
tap.done()
