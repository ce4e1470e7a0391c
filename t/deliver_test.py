"""t/deliver_test.py: helpers for the delivery tests (t/deliver-*.t): an
instance running the built smtpd, qmgr and local with fast retry settings,
users in its users table, and readers for the Maildirs under mail_store."""

import os
import re
import time

import postern_test as pt
import smtpd_test as st

QMGR = os.path.join(pt.TOP_BUILDDIR, "qmgr", "qmgr")
LOCAL = os.path.join(pt.TOP_BUILDDIR, "local", "local")


class DeliverInstance(st.SmtpInstance):
    """users: addresses for the users table; aliases: text of the aliases
    file; main: extra main.cf settings."""

    def __init__(self, parent, users=(), aliases="", main=None, **kw):
        # a crashed agent leaves its transport alone for
        # transport_retry_time (60 s): tests kill agents
        settings = {"queue_run_delay": "1s", "minimal_backoff_time": "1s",
                    "maximal_backoff_time": "2s",
                    "transport_retry_time": "1s"}
        settings.update(main or {})
        super().__init__(parent, main=settings, **kw)
        # The master restarts a killed qmgr on its next wakeup (300 s in
        # the default master.cf); tests wake it every second.
        self.orig_master = re.sub(r"(?m)^(qmgr\s+unix\s+\S+\s+\S+\s+\S+\s+)"
                                  r"300(\s)", r"\g<1>1\2", self.orig_master)
        self.assign_ports()
        os.symlink(QMGR, os.path.join(self.libexec, "qmgr"))
        os.symlink(LOCAL, os.path.join(self.libexec, "local"))
        with open(self.path("users"), "w") as f:
            f.write("".join("%s x\n" % u for u in users))
        with open(self.path("aliases"), "w") as f:
            f.write(aliases)

    def maildir(self, address, sub="new"):
        local, _, domain = address.rpartition("@")
        return self.path("mail", domain, local, sub)

    def messages(self, address):
        """{file name: bytes} in new/ and cur/ of address's Maildir."""
        out = {}
        for sub in ("new", "cur"):
            d = self.maildir(address, sub)
            if os.path.isdir(d):
                for n in os.listdir(d):
                    with open(os.path.join(d, n), "rb") as f:
                        out[n] = f.read()
        return out

    def wait_messages(self, address, count, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = self.messages(address)
            if len(m) >= count:
                return m
            time.sleep(0.02)
        return self.messages(address)

    def queue_empty(self):
        return not any(self.queue_ids(q) for q in
                       ("incoming", "active", "deferred"))

    def wait_queue_empty(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.queue_empty():
                return True
            time.sleep(0.02)
        return False


def send(port, sender, rcpts, body):
    """One transaction; returns the queue ID or None."""
    r = st.transaction(port, sender, rcpts, body)
    m = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})$", r[-1][1] or "")
    return m.group(1) if m else None
