#!/usr/bin/env python3
"""t/lmtp-dovecot.t: the smtp client's LMTP against Dovecot's lmtp (Debian's
dovecot-lmtpd): a private Dovecot started by the test with its own
base_dir, a UNIX LMTP listener in the temp folder and a passwd-file of
one user whose mail goes into a temp Maildir; transport_maps
"lmtp:unix:/path" sends a known and an unknown recipient: the first is
delivered into the Maildir, the second bounces with Dovecot's 550. Skips
when Dovecot is not installed or the test does not run as root (Dovecot
must switch to the mail user)."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402
import relay_test as rt  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"
LMTP = "/usr/lib/dovecot/lmtp"
# Dovecot refuses uid 0 for mail: the mail user is nobody
UID = GID = 65534

tap = pt.Tap()
if not (os.access(DOVECOT, os.X_OK) and os.access(LMTP, os.X_OK)):
    tap.skip("LMTP to Dovecot", "dovecot-lmtpd is not installed")
    tap.done()
if os.geteuid() != 0:
    tap.skip("LMTP to Dovecot", "Dovecot needs root to switch to the "
             "mail user")
    tap.done()

top = pt.tempdir()
dv = os.path.join(top, "dovecot")
for d in ("run", "state", "mail"):
    os.makedirs(os.path.join(dv, d))
# Dovecot's auth process (user dovecot) reads the passwd-file
os.chmod(top, 0o755)
os.chmod(dv, 0o755)
os.chown(os.path.join(dv, "mail"), UID, GID)
SOCK = os.path.join(dv, "lmtp.sock")
with open(os.path.join(dv, "users"), "w") as f:
    f.write("bob@d.test:x:%d:%d::%s/home/bob::\n" % (UID, GID, dv))
with open(os.path.join(dv, "dovecot.conf"), "w") as f:
    f.write("""base_dir = {dv}/run
state_dir = {dv}/state
log_path = {dv}/dovecot.log
instance_name = postern-test-{pid}
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:{dv}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = passwd-file
  args = {dv}/users
}}
service lmtp {{
  unix_listener {sock} {{
    mode = 0666
  }}
}}
""".format(dv=dv, pid=os.getpid(), uid=UID, gid=GID, sock=SOCK))
proc = subprocess.Popen([DOVECOT, "-F", "-c", os.path.join(dv,
                                                           "dovecot.conf")],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
end = time.monotonic() + 10
while time.monotonic() < end and proc.poll() is None and \
        not os.path.exists(SOCK):
    time.sleep(0.05)
if not os.path.exists(SOCK):
    err = b""
    if proc.poll() is None:
        proc.terminate()
    err = proc.communicate(timeout=10)[1]
    tap.skip("LMTP to Dovecot", "Dovecot did not start: " +
             err.decode(errors="replace").strip()[-300:])
    tap.done()

a = rt.RelayInstance(top, "a", "a.test", users=["sender@a.test"],
                     transport="d.test lmtp:unix:%s\n" % SOCK)
BODY = b"Subject: to dovecot\r\n\r\nhello dovecot\r\n.\r\n"


def maildir_has(text):
    new = os.path.join(dv, "mail", "bob", "new")
    end = time.monotonic() + 10
    while time.monotonic() < end:
        for n in os.listdir(new) if os.path.isdir(new) else []:
            with open(os.path.join(new, n), "rb") as f:
                if text in f.read():
                    return True
        time.sleep(0.05)
    return False


try:
    a.start()
    qid = rt.send(a.port["smtp"], "sender@a.test",
                  ["bob@d.test", "nobody@d.test"], BODY)
    r = a.wait_result(qid, "bob@d.test", 15)
    tap.ok(r is not None and r["status"] == "sent", "known user: sent")
    tap.like(r and r["text"], r"^250 2\.0\.0 <bob@d\.test> .*Saved",
             "Dovecot's reply")
    tap.ok(maildir_has(b"hello dovecot"), "in bob's Maildir")
    r = a.wait_result(qid, "nobody@d.test", 15)
    tap.ok(r is not None and r["status"] == "bounced" and
           r["dsn"] == "5.1.1", "unknown user: bounced 5.1.1")
    tap.like(r and r["text"], r"said: 550 5\.1\.1 .*\(in reply to RCPT TO "
             r"command\)$", "Dovecot's refusal quoted")
    tap.is_(a.sanitizer_reports(), [], "no sanitizer reports")
finally:
    a.stop_quietly()
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if tap.failed:
        tap.diag("log:\n" + a.log()[-5000:])
        try:
            with open(os.path.join(dv, "dovecot.log")) as f:
                tap.diag("dovecot log:\n" + f.read()[-3000:])
        except OSError:
            pass
    else:
        pt.cleanup(top)
tap.done()
