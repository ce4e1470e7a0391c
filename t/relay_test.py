"""t/relay_test.py: helpers for the relay and scheduler tests (t/relay-*.t,
t/sched-*.t): instances that run the built smtp client besides smtpd, qmgr
and local, with their own mail domain, a name server (t/dns_test.py) and a
transport table; Postfix's smtp-sink as a scripted peer, and a small
Python peer that counts connections and transactions."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import postern_test as pt
import deliver_test as dt
import smtpd_test as st

SMTP = os.path.join(pt.TOP_BUILDDIR, "smtp", "smtp")
SMTP_SINK = "/usr/sbin/smtp-sink"


class RelayInstance(dt.DeliverInstance):
    """domain: the instance's mail domain and host name; dns: "ip:port" of
    the name server; transport: text of its transport table; extra: more
    smtpd services ({name: [-o overrides]}, port in self.port[name])."""

    def __init__(self, parent, name, domain, dns=None, users=(),
                 transport="", main=None, extra=None):
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
        super().__init__(parent, name=name, users=users, main=settings,
                         extra=extra)
        os.symlink(SMTP, os.path.join(self.libexec, "smtp"))
        self.set_transport(transport)

    def set_transport(self, text):
        with open(self.path("transport"), "w") as f:
            f.write(text)

    def wait_result(self, qid, rcpt, timeout=15.0):
        """The log line of rcpt's result for qid as a dict (relay, dsn,
        status, text), or None."""
        pat = (re.escape(qid) + r": to=<" + re.escape(rcpt) +
               r">, relay=(\S+), (?:conn_use=\d+, )?delay=[0-9.]+, "
               r"delays=[0-9./]+, dsn=(\S+), "
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


class ScriptedPeer:
    """A small SMTP server on 127.0.0.1 (a thread per connection) that
    counts what the client does: connections, the most at once,
    transactions and their recipients per connection, RSETs. greeting:
    the first reply ("421 ..." refuses), None = never greet (a stalled
    peer); data_delay: seconds before the reply to the end of DATA;
    close_after_rset: hang up after answering RSET (an idle session the
    server drops)."""

    def __init__(self, greeting="220 peer.test ESMTP", data_delay=0.0,
                 pipelining=True, close_after_rset=False):
        self.close_after_rset = close_after_rset
        self.greeting = greeting
        self.data_delay = data_delay
        self.pipelining = pipelining
        self.lock = threading.Lock()
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.rsets = 0
        self.transactions = []  # (connection number, [rcpts])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                n = self.connections
            threading.Thread(target=self._serve, args=(conn, n),
                             daemon=True).start()

    def _serve(self, conn, n):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self._session(conn, n)
        except OSError:
            pass
        finally:
            with self.lock:
                self.active -= 1
            conn.close()

    def _session(self, conn, n):
        f = conn.makefile("rb")
        if self.greeting is None:
            while self.running and f.readline():
                pass
            return
        conn.sendall(self.greeting.encode() + b"\r\n")
        if not self.greeting.startswith("220"):
            return
        rcpts = []
        for line in f:
            cmd = line.decode("latin-1").strip().upper()
            if cmd.startswith("EHLO"):
                ext = "250-PIPELINING\r\n" if self.pipelining else ""
                conn.sendall(("250-peer.test\r\n%s250 8BITMIME\r\n"
                              % ext).encode())
            elif cmd.startswith("HELO") or cmd.startswith("NOOP"):
                conn.sendall(b"250 ok\r\n")
            elif cmd.startswith("MAIL"):
                rcpts = []
                conn.sendall(b"250 2.1.0 ok\r\n")
            elif cmd.startswith("RCPT"):
                rcpts.append(line.decode("latin-1").strip()[8:])
                conn.sendall(b"250 2.1.5 ok\r\n")
            elif cmd == "DATA":
                conn.sendall(b"354 go ahead\r\n")
                for d in f:
                    if d in (b".\r\n", b".\n"):
                        break
                time.sleep(self.data_delay)
                with self.lock:
                    self.transactions.append((n, rcpts))
                conn.sendall(b"250 2.0.0 Ok: queued\r\n")
            elif cmd == "RSET":
                with self.lock:
                    self.rsets += 1
                conn.sendall(b"250 2.0.0 ok\r\n")
                if self.close_after_rset:
                    return
            elif cmd == "QUIT":
                conn.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                conn.sendall(b"502 5.5.2 what\r\n")

    def stop(self):
        self.running = False
        self.sock.close()
