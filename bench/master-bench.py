#!/usr/bin/env python3
"""bench/master-bench.py: the master's own figures, on a throwaway instance
run from the build tree with the test daemon t/svc/echo (a one-client-per-
process service on lib/server.h that greets with "220 test ready"):

  coldstart  `postern start` -> first "220" on the port (and when the start
             command returned), over --runs runs
  connrate   connections per second with --clients clients at once, each
             connecting, reading the greeting, sending QUIT, reading the
             reply and closing, --conns connections in all: every one goes
             through the master's spare-process logic
  memory     PSS of the master and its daemons: idle after start, and
             idle after the connrate run (the spare processes left)

With --postfix-port (and --postfix-pidfile) the same connrate and memory
figures are taken for a running Postfix smtpd (bench/baseline-up.sh), in the
same run. Results: one JSON object per line on stdout (and --json-out).

  bench/master-bench.py --builddir ../build [--runs 10] [--clients 100]
      [--conns 5000] [--postfix-port 20025 --postfix-pidfile FILE]
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def sh(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


class Instance:
    def __init__(self, builddir, port):
        self.postern = os.path.join(builddir, "cli", "postern")
        self.top = tempfile.mkdtemp(prefix="postern-bench.")
        os.chmod(self.top, 0o755)
        self.dir = os.path.join(self.top, "inst")
        r = sh(self.postern, "init", self.dir, "--port-base", "40000")
        if r.returncode:
            raise SystemExit("postern init: " + r.stderr)
        lib = os.path.join(self.dir, "libexec")
        os.mkdir(lib)
        os.symlink(os.path.join(builddir, "master", "master"),
                   os.path.join(lib, "master"))
        os.symlink(os.path.join(builddir, "t", "svc", "echo"),
                   os.path.join(lib, "echo"))
        # Only the test service: the suite's daemons are not measured here.
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write("127.0.0.1:%d inet n - n - - echo\n" % port)
        with open(os.path.join(self.dir, "main.cf"), "a") as f:
            f.write("daemon_directory = %s\n" % lib)
        self.pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")

    def cmd(self, *args):
        return [self.postern, "-c", self.dir] + list(args)

    def cleanup(self):
        sh(*self.cmd("stop"))
        shutil.rmtree(self.top, ignore_errors=True)


def greeting(port, timeout=0.5):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout)
    except OSError:
        return None
    try:
        s.settimeout(timeout)
        return s.recv(100)
    except OSError:
        return b""
    finally:
        s.close()


def coldstart(inst, port, runs):
    to_greeting, cmd_exit = [], []
    for _ in range(runs):
        sh(*inst.cmd("stop"))
        time.sleep(0.2)
        t0 = time.monotonic()
        p = subprocess.Popen(inst.cmd("start"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        t_exit = None
        while time.monotonic() - t0 < 10:
            if t_exit is None and p.poll() is not None:
                t_exit = time.monotonic() - t0
            g = greeting(port)
            if g and g.startswith(b"220"):
                to_greeting.append(time.monotonic() - t0)
                break
            time.sleep(0.001)
        p.wait()
        cmd_exit.append(t_exit if t_exit is not None
                        else time.monotonic() - t0)
    return {"kind": "coldstart", "runs": runs,
            "to_greeting_s_median": round(statistics.median(to_greeting), 4),
            "to_greeting_s_min": round(min(to_greeting), 4),
            "to_greeting_s_max": round(max(to_greeting), 4),
            "start_cmd_exit_s_median": round(statistics.median(cmd_exit), 4)}


async def one_conn(port, expect_quit):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    line = await r.readline()
    if not line.startswith(b"220"):
        raise RuntimeError("greeting %r" % line)
    w.write(b"QUIT\r\n")
    await w.drain()
    line = await r.readline()
    w.close()
    if not line.startswith(expect_quit):
        raise RuntimeError("quit reply %r" % line)


async def connrate_run(port, clients, conns):
    left = [conns]
    errors = []

    async def worker():
        while left[0] > 0:
            left[0] -= 1
            try:
                await one_conn(port, b"221")
            except (OSError, RuntimeError) as e:
                errors.append(str(e))

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.monotonic() - t0, errors


def connrate(label, port, clients, conns, pidfile=None):
    cpu0 = tree_cpu(pidfile) if pidfile else 0
    c0 = os.times()
    wall, errors = asyncio.run(connrate_run(port, clients, conns))
    c1 = os.times()
    row = {"kind": "connrate", "server": label, "clients": clients,
           "conns": conns, "wall_s": round(wall, 3),
           "conns_per_s": round(conns / wall, 1), "errors": len(errors),
           "client_cpu_s": round(c1.user + c1.system - c0.user - c0.system,
                                 2)}
    if pidfile:
        row["server_cpu_s"] = round(tree_cpu(pidfile) - cpu0, 2)
        row["server_cpu_ms_per_conn"] = round(
            1000 * row["server_cpu_s"] / conns, 3)
    return row


def tree(pid):
    """pid and all its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu(pidfile):
    """CPU seconds of the master's tree, with its reaped children."""
    with open(pidfile) as f:
        master = int(f.read().split()[0])
    total = 0
    for pid in tree(master):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == master:
            total += int(fields[13]) + int(fields[14])  # reaped children
    return total / os.sysconf("SC_CLK_TCK")


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(label, pidfile, when):
    with open(pidfile) as f:
        master = int(f.read().split()[0])
    pids = tree(master)
    return {"kind": "memory", "server": label, "when": when,
            "processes": len(pids),
            "pss_kib": sum(pss_kib(p) for p in pids),
            "master_pss_kib": pss_kib(master)}


def emit(a, row):
    line = json.dumps(row)
    print(line, flush=True)
    if a.json_out:
        with open(a.json_out, "a") as f:
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--postfix-port", type=int)
    ap.add_argument("--postfix-pidfile")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    inst = Instance(os.path.abspath(a.builddir), port)
    try:
        emit(a, coldstart(inst, port, a.runs))
        time.sleep(0.5)
        emit(a, memory("postern", inst.pidfile, "idle after start"))
        connrate("postern-warmup", port, a.clients, a.clients * 2)
        emit(a, connrate("postern", port, a.clients, a.conns, inst.pidfile))
        time.sleep(1)
        emit(a, memory("postern", inst.pidfile, "idle after connrate"))
        if a.postfix_port:
            connrate("postfix-warmup", a.postfix_port, a.clients,
                     a.clients * 2)
            emit(a, connrate("postfix", a.postfix_port, a.clients, a.conns,
                             a.postfix_pidfile))
            if a.postfix_pidfile:
                time.sleep(1)
                emit(a, memory("postfix", a.postfix_pidfile,
                               "idle after connrate"))
    finally:
        inst.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
