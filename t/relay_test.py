"""t/relay_test.py: helpers for the relay tests (t/relay-*.t): instances
that run the built smtp client besides smtpd, qmgr and local, with their
own mail domain, a name server (t/dns_test.py) and a transport table;
and Postfix's smtp-sink as a scripted peer."""

import os
import re
import signal
import subprocess
import time

import postern_test as pt
import deliver_test as dt
import smtpd_test as st

SMTP = os.path.join(pt.TOP_BUILDDIR, "smtp", "smtp")
SMTP_SINK = "/usr/sbin/smtp-sink"


class RelayInstance(dt.DeliverInstance):
    """domain: the instance's mail domain and host name; dns: "ip:port" of
    the name server; transport: text of its transport table."""

    def __init__(self, parent, name, domain, dns=None, users=(),
                 transport="", main=None):
        settings = {"myhostname": domain, "mydomain": domain,
                    "smtp_tls_loglevel": "1",
                    "transport_maps": "texthash:$config_directory/"
                                      "transport",
                    # a test waits seconds, not minutes, for a dead peer
                    "smtp_connect_timeout": "3s",
                    "smtp_helo_timeout": "5s"}
        if dns:
            settings["dns_servers"] = dns
        settings.update(main or {})
        super().__init__(parent, name=name, users=users, main=settings)
        os.symlink(SMTP, os.path.join(self.libexec, "smtp"))
        self.set_transport(transport)

    def set_transport(self, text):
        with open(self.path("transport"), "w") as f:
            f.write(text)

    def wait_result(self, qid, rcpt, timeout=15.0):
        """The log line of rcpt's result for qid as a dict (relay, dsn,
        status, text), or None."""
        pat = (re.escape(qid) + r": to=<" + re.escape(rcpt) +
               r">, relay=(\S+), delay=[0-9.]+, dsn=(\S+), "
               r"status=(\w+) \((.*)\)")
        if not self.wait_log(pat, timeout):
            return None
        m = re.search(pat, self.log())
        return {"relay": m.group(1), "dsn": m.group(2),
                "status": m.group(3), "text": m.group(4)}


class Sink:
    """smtp-sink on 127.0.0.1 at a free port; opts: its options (e.g.
    ["-r", "RCPT"]); messages are dumped into dir (-d)."""

    def __init__(self, parent, name, opts=()):
        self.dir = os.path.join(parent, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)
        self.port = pt.free_port()
        args = [SMTP_SINK, "-d", self.dir + "/%M."] + list(opts)
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        args += ["127.0.0.1:%d" % self.port, "10"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                pt.connect(self.port, 1).close()
                break
            except OSError:
                time.sleep(0.05)

    def messages(self):
        out = []
        for root, _, files in os.walk(self.dir):
            for n in files:
                with open(os.path.join(root, n), "rb") as f:
                    out.append(f.read())
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def available():
    return os.access(SMTP_SINK, os.X_OK)


def send(port, sender, rcpts, body):
    """One transaction from the trusted address (mynetworks may relay);
    returns the queue ID or "none"."""
    r = st.transaction(port, sender, rcpts, body, src=st.TRUSTED)
    m = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})$", r[-1][1] or "")
    return m.group(1) if m else "none"
