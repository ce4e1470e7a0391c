#!/usr/bin/env python3
"""t/master-root.t: privileges. Started as root, the master stays root and
each daemon runs as the user master.cf and main.cf say (mail_owner, here a
throwaway system user; root for unpriv=n), read from /proc/PID/status, and a
chrooted daemon sees only the queue directory. Started as another user
(instance mode), everything runs as that user and nothing is chrooted.
Needs root (skipped otherwise); creates and removes its own user."""

import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t"))
import postern_test as pt  # noqa: E402

tap = pt.Tap()


def proc_ids(pid):
    """(uids, gids, groups) from /proc/PID/status."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(v) for v in value.split()]
    return ids["Uid"], ids["Gid"], ids["Groups"]


def pid_of(client):
    return int(client.ask("PID").split()[1])


def test_as_root(top, user):
    pw = pwd.getpwnam(user)
    inst = pt.Instance(top, "root", init_args=("--owner", user))
    pa, pb, pc = pt.free_port(), pt.free_port(), pt.free_port()
    inst.add_service("127.0.0.1:%d inet n - n - - echo" % pa)
    inst.add_service("127.0.0.1:%d inet n y y - - echo" % pb)
    inst.add_service("127.0.0.1:%d inet n n n - - echo" % pc)
    try:
        tap.is_(inst.postern("start").returncode, 0, "start as root")
        mpid = inst.master_pid()
        tap.is_(proc_ids(mpid)[0], [0, 0, 0, 0], "the master stays root")
        a, b, c = pt.Client(pa), pt.Client(pb), pt.Client(pc)
        uids, gids, groups = proc_ids(pid_of(a))
        tap.is_(uids, [pw.pw_uid] * 4, "unpriv daemon: uid of mail_owner "
                "(real, effective, saved, fs)")
        tap.is_(gids, [pw.pw_gid] * 4, "unpriv daemon: gid of mail_owner")
        tap.is_(groups, [pw.pw_gid], "unpriv daemon: only its own group")
        tap.is_(a.ask("ID"), "250 uid=%d gid=%d groups=%d" %
                (pw.pw_uid, pw.pw_gid, pw.pw_gid), "the daemon agrees")
        bpid = pid_of(b)
        queue = inst.path("queue")
        tap.is_(os.readlink("/proc/%d/root" % bpid), queue,
                "chrooted daemon: its root is the queue directory")
        tap.is_(b.ask("LS /"), "250 " + " ".join(sorted(os.listdir(queue))),
                "and it sees only the queue directory")
        tap.is_(proc_ids(bpid)[0], [pw.pw_uid] * 4, "chrooted as mail_owner")
        tap.is_(proc_ids(pid_of(c))[0], [0, 0, 0, 0],
                "unpriv=n daemon stays root")
        tap.is_(os.readlink("/proc/%d/root" % pid_of(a)), "/",
                "chroot=n: not chrooted")
        for cl in (a, b, c):
            cl.close()
        tap.is_(inst.postern("stop").returncode, 0, "stop")
    finally:
        inst.stop_quietly()


def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_instance_mode(top):
    home = os.path.join(top, "nobody")
    os.mkdir(home)
    os.chown(home, 65534, 65534)
    inst = pt.Instance(home, "inst", preexec=as_nobody)
    port = pt.free_port()
    inst.add_service("127.0.0.1:%d inet n y y - - echo" % port)
    try:
        r = inst.postern("start")
        tap.is_(r.returncode, 0, "start as nobody (instance mode)")
        tap.is_(proc_ids(inst.master_pid())[0], [65534] * 4,
                "the master runs as nobody")
        c = pt.Client(port)
        pid = pid_of(c)
        tap.is_(proc_ids(pid)[0], [65534] * 4, "so does the daemon")
        tap.is_(os.readlink("/proc/%d/root" % pid), "/",
                "and chroot=y is not applied")
        tap.like(c.ask("LS /"), r" proc ", "it sees the whole file system")
        c.close()
        tap.is_(inst.postern("stop").returncode, 0, "stop as nobody")
    finally:
        inst.stop_quietly()


if os.getuid() != 0:
    tap.skip("privileges", "not root")
    tap.done()
top = pt.tempdir()
user = "postern-t%d" % (os.getpid() % 100000)
made = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                       "--home-dir", "/nonexistent", "--shell",
                       "/usr/sbin/nologin", user], capture_output=True,
                      text=True)
try:
    if tap.ok(made.returncode == 0, "throwaway user " + user):
        test_as_root(top, user)
    else:
        tap.diag(made.stderr)
    test_instance_mode(top)
finally:
    if made.returncode == 0:
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", user], capture_output=True)
    pt.cleanup(top)
tap.done()
