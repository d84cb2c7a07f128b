#!/usr/bin/env python3
"""troupe chaos driver (stdlib only), bounded in time and kills.

A three-node local cluster (multicast on 127.0.0.1): n1 holds a
non-durable consumer, n2 a durable one under fsync=batch, n3 a durable
one under fsync=always.  Consumers are troupe-logger actors (one JSON line
per message).  Producers run the real CLI on n1, `troupe --json send
--confirm ACTOR@NODE -`: each {"line": L, "id": I} it prints is line L
accepted by the broker holding the mailbox (queued; on disk for a
durable mailbox); a failed line is printed with its error, and the CLI
goes on (so the line number, not the count of ids, names the message).
A CLI that stops (its target's node was killed) is started again with
the next numbers.

Meanwhile the driver kill -9s random consumer actors (pids from `troupe
actors --json`, checked to be children of their trouped) on every node,
and kill -9s the whole trouped of n2 or n3 (they hold durable mailboxes
only), restarting it on the same data dir.  n1's broker is never killed:
a non-durable mailbox survives actor kills, not broker kills.

At the end every broker is up again, the driver waits for every
confirmed message and prints per class: sent, confirmed, received, lost
(confirmed but never received), duplicated, max redelivery delay; and the
brokers' RSS at start and end.

  chaos.py [--bin DIR] [--seconds 60] [--rate 150] [--kill-every 1.0]
           [--broker-kill-every 6] [--port 17561] [--group-port 17570]
           [--json] [--keep]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "..", "build", "bin")


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


SUP = ("[supervisor root]\nstrategy = one_for_one\nintensity = 10000\n"
       "period = 1s\nbackoff_min = 10ms\nbackoff_max = 200ms\n\n")


def write_key(path):
    """A cluster key file: 32 random bytes, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32))
    return path


def cluster_conf(name, port, group_port, key, fsync="batch", data_dir=None):
    """[node] and [cluster] of one member of the local test cluster."""
    text = ("[node]\nname = %s\nlisten = tcp://127.0.0.1:%d\n"
            "fsync = %s\nfsync_interval = 10ms\n" % (name, port, fsync))
    if data_dir:
        text += "data_dir = %s\n" % data_dir
    return text + ("\n[cluster]\ndiscovery = multicast\n"
                   "group = 239.255.78.1:%d\ninterface = 127.0.0.1\n"
                   "beacon_interval = 200ms\nsuspect_after = 3s\n"
                   "dead_after = 6s\nkey_file = %s\n\n"
                   % (group_port, key))


class Node:
    """One trouped in its own run dir (and data dir), from a config text;
    start() may be called again after kill9() (same dirs)."""

    def __init__(self, bindir, name, conf, workdir):
        self.bin = bindir
        self.name = name
        self.dir = os.path.join(workdir, name)
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ,
                        TROUPE_RUN_DIR=os.path.join(self.dir, "run"))
        self.conf_path = os.path.join(self.dir, "troupe.conf")
        self.write_conf(conf)
        self.log = open(os.path.join(self.dir, "trouped.log"), "ab")
        self.proc = None
        self.seen_pids = set()
        self.starts = 0

    def write_conf(self, conf):
        with open(self.conf_path, "w") as f:
            f.write(conf)

    def start(self):
        self.starts += 1
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "trouped"), "--node", self.name,
             "-c", self.conf_path], env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT)

    def up(self):
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args, timeout=30):
        return subprocess.run([os.path.join(self.bin, "troupe")] +
                              list(args), env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def actors(self):
        """This node's own actors by name ({} when it does not answer)."""
        if not self.up():
            return {}
        try:
            r = self.cli("actors", "--node", self.name, "--json",
                         timeout=10)
        except subprocess.TimeoutExpired:
            return {}
        if r.returncode != 0:
            return {}
        out = {a["name"]: a for a in json.loads(r.stdout)
               if a.get("node", self.name) == self.name}
        self.seen_pids |= {a["pid"] for a in out.values() if a.get("pid")}
        return out

    def inspect(self, name):
        r = self.cli("inspect", name, "--json")
        if r.returncode != 0:
            raise RuntimeError("inspect %s: %s" % (name, r.stderr.strip()))
        return json.loads(r.stdout)

    def members(self):
        if not self.up():
            return {}
        try:
            r = self.cli("nodes", "--json", timeout=10)
        except subprocess.TimeoutExpired:
            return {}
        if r.returncode != 0:
            return {}
        return {n["name"]: n for n in json.loads(r.stdout)}

    def wait_ready(self, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("trouped %s exited %d" %
                                   (self.name, self.proc.returncode))
            acts = self.actors()
            if acts and all(a["state"] == "running" for a in acts.values()):
                return acts
            time.sleep(0.05)
        raise RuntimeError("trouped %s not ready" % self.name)

    def children(self):
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit() and proc_ppid(int(d)) == self.proc.pid:
                pids.append(int(d))
        return pids

    def _reap_orphans(self):
        """Actors left behind (they die by PDEATHSIG; this is the
        safety net), by the pids we saw only."""
        for pid in self.seen_pids:
            if proc_ppid(pid) in (0, 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def kill9(self):
        """kill -9 of trouped (a crash), then the orphan safety net."""
        self.seen_pids |= set(self.children())
        self.proc.kill()
        self.proc.wait()
        time.sleep(0.05)
        self._reap_orphans()

    def stop(self):
        """SIGTERM, then SIGKILL for anything left, by pid only."""
        if self.up():
            self.seen_pids |= set(self.children())
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reap_orphans()
        self.log.close()


class Target:
    """A consumer actor writing one line per message to its own file:
    troupe-logger (JSON lines), or with slow_us the test actor crashy
    ("N R" lines, R = redelivered) sleeping that long per message, so
    that a backlog is in flight when something is killed."""

    def __init__(self, name, node, path, durable=False, cls=None,
                 slow_us=0, inflight=64):
        self.name, self.node, self.path = name, node, path
        self.durable = durable
        self.slow_us = slow_us
        self.inflight = inflight
        self.cls = cls or ("durable" if durable else "non-durable")
        self.sent = 0
        self.confirmed = set()      # numbers the holding broker accepted
        self.send_time = {}         # n -> monotonic time sent
        self.seen = {}              # n -> monotonic time first seen
        self.copies = {}            # n -> lines seen
        self.redelivered = 0
        self.max_redelivery = 0.0
        self.garbled = 0            # lines cut by a kill (not JSON)
        self._off = 0
        self._part = b""

    def conf(self, mailbox=1024):
        if self.slow_us:
            crashy = os.path.join(self.node.bin, "..", "tests", "bin",
                                  "crashy")
            exe = "%s -o %s -s %d" % (os.path.abspath(crashy), self.path,
                                       self.slow_us)
        else:
            exe = "troupe-logger %s" % self.path
        return ("[actor %s]\nexec = %s\nmailbox = %d\ninflight = %d\n"
                "overflow = block\n%s\n" % (
                    self.name, exe, mailbox, self.inflight,
                    "durable = true\n" if self.durable else ""))

    def body(self, n):
        """The JSON line that carries number n."""
        return b"%d\n" % n if self.slow_us else b'{"n":%d}\n' % n

    def addr(self, via):
        return self.name if via is self.node else \
            "%s@%s" % (self.name, self.node.name)

    def tail(self):
        """Reads the lines the logger appended since the last call."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._off)
                data = f.read()
        except FileNotFoundError:
            return
        self._off += len(data)
        data = self._part + data
        lines = data.split(b"\n")
        self._part = lines.pop()
        now = time.monotonic()
        for line in lines:
            try:
                if self.slow_us:
                    n, r = (int(x) for x in line.split())
                else:
                    rec = json.loads(line)
                    n, r = rec["body"]["n"], rec.get("redelivered")
            except (ValueError, KeyError, TypeError):
                # a consumer killed mid-line: that message was not
                # acked, so it comes again
                self.garbled += 1
                continue
            self._line(n, r, now)

    def _line(self, n, redelivered, now):
        self.copies[n] = self.copies.get(n, 0) + 1
        self.seen.setdefault(n, now)
        if redelivered:
            self.redelivered += 1
            sent = self.send_time.get(n)
            if sent is not None:
                self.max_redelivery = max(self.max_redelivery, now - sent)

    def lost(self):
        return sorted(n for n in self.confirmed if n not in self.seen)

    def duplicated(self):
        return sum(c - 1 for c in self.copies.values())


class _Cli:
    """One `troupe --json send --confirm ADDR -` process and the numbers
    written to it, in order: a printed {"line": L, "id": ...} confirms
    nums[L-1].  The streaming CLI keeps going after a line fails (a
    later line may be confirmed when an earlier one was not), so the
    line number, not the count of ids, says which message it was."""

    def __init__(self, via, addr, target):
        self.t = target
        self.nums = []
        self.ids = 0
        self.proc = subprocess.Popen(
            [os.path.join(via.bin, "troupe"), "--json", "send",
             "--confirm", addr, "-"], env=via.env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # ids are read as they come, so a long run never fills the pipe
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if not line.strip():
                continue
            rec = json.loads(line)
            if "id" in rec:
                self.t.confirmed.add(self.nums[rec["line"] - 1])
            self.ids = max(self.ids, rec["line"])

    def write(self, n):
        self.nums.append(n)
        self.proc.stdin.write(self.t.body(n))
        self.proc.stdin.flush()

    def ahead(self):
        """Lines written and not answered yet (alive or not)."""
        return len(self.nums) - self.ids

    def close(self, timeout):
        """Ends the process; returns (exit status, stderr text)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join()
        err = self.proc.stderr.read().decode(errors="replace").strip()
        self.proc.stderr.close()
        self.proc.stdout.close()
        return self.proc.returncode, err


class Producer(threading.Thread):
    """Feeds numbered lines at a fixed rate to a confirming CLI on node
    `via`, starting a new CLI whenever one stops (the first error)."""

    AHEAD = 32

    def __init__(self, target, rate, stop, via):
        super().__init__(daemon=True)
        self.t, self.rate, self.stop_ev, self.via = target, rate, stop, via
        self.clis = 0
        self.errors = {}            # stderr text -> count
        self.last_exit = 0

    def _retire(self, cli):
        code, err = cli.close(30)
        if code != 0:
            key = err.splitlines()[-1] if err else "exit %d" % code
            self.errors[key] = self.errors.get(key, 0) + 1
        return code

    def run(self):
        period = 1.0 / self.rate
        nxt = time.monotonic()
        cli = None
        while not self.stop_ev.is_set():
            if cli is None or cli.proc.poll() is not None:
                if cli is not None:
                    self._retire(cli)
                    time.sleep(0.2)     # its node may still be down
                cli = _Cli(self.via, self.t.addr(self.via), self.t)
                self.clis += 1
                nxt = time.monotonic()
            # a full `block` mailbox slows the CLI down: stay at most
            # AHEAD lines ahead of it instead of filling the pipe
            while cli.ahead() >= self.AHEAD and cli.proc.poll() is None \
                    and not self.stop_ev.is_set():
                time.sleep(0.005)
                nxt = time.monotonic()
            if cli.proc.poll() is not None or self.stop_ev.is_set():
                continue
            n = self.t.sent
            self.t.send_time[n] = time.monotonic()
            self.t.sent += 1
            try:
                cli.write(n)
            except (BrokenPipeError, OSError):
                continue
            nxt += period
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if cli is not None:
            self.last_exit = self._retire(cli)


class Fault:
    """Kills: "actor" kill -9s a random consumer on a node that is up;
    "broker" kill -9s a random trouped of `brokers`, restarted after
    `down` seconds (the driver's loop calls tick())."""

    def __init__(self, kind, targets, rng, brokers=(), down=0.5):
        self.kind, self.targets, self.rng = kind, targets, rng
        self.brokers = list(brokers)
        self.down = down
        self.count = 0
        self.pending = []           # (restart time, node)

    def strike(self):
        if self.kind == "actor":
            return self._kill_actor()
        return self._kill_broker()

    def _kill_actor(self):
        t = self.rng.choice(self.targets)
        a = t.node.actors().get(t.name)
        if not a or not a.get("pid") or a["state"] != "running":
            return False
        pid = a["pid"]
        if not t.node.up() or proc_ppid(pid) != t.node.proc.pid:
            return False        # not (or no longer) trouped's child
        os.kill(pid, signal.SIGKILL)
        self.count += 1
        return True

    def _kill_broker(self):
        up = [n for n in self.brokers if n.up()]
        if not up:
            return False
        node = self.rng.choice(up)
        node.kill9()
        self.count += 1
        self.pending.append((time.monotonic() + self.down, node))
        return True

    def tick(self, force=False):
        """Restarts the brokers whose down time is over."""
        now = time.monotonic()
        for when, node in list(self.pending):
            if force or now >= when:
                node.start()
                self.pending.remove((when, node))


class Chaos:
    CLASSES = (("non-durable", "non-durable, actor kills"),
               ("durable-batch", "durable fsync=batch, broker+actor kills"),
               ("durable-always",
                "durable fsync=always, broker+actor kills"))

    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.work = tempfile.mkdtemp(prefix="troupe-chaos-")
        self.key = write_key(os.path.join(self.work, "cluster.key"))
        self.nodes = []
        self.targets = []

    def setup(self):
        layout = (("n1", "always", "m1", False, "non-durable"),
                  ("n2", "batch", "d2", True, "durable-batch"),
                  ("n3", "always", "d3", True, "durable-always"))
        for i, (name, fsync, tname, durable, cls) in enumerate(layout):
            node = Node(self.a.bin, name, "", self.work)
            t = Target(tname, node, os.path.join(node.dir, tname + ".out"),
                       durable=durable, cls=cls, slow_us=self.a.slow_us,
                       inflight=16)
            node.write_conf(cluster_conf(name, self.a.port + i,
                                         self.a.group_port, self.key,
                                         fsync, node.data_dir) +
                            SUP + t.conf(self.a.mailbox))
            self.nodes.append(node)
            self.targets.append(t)
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            n.wait_ready()
        self.wait_formed()

    def wait_formed(self, timeout=30.0):
        names = [n.name for n in self.nodes]
        deadline = time.time() + timeout
        while time.time() < deadline:
            ms = self.nodes[0].members()
            if all(ms.get(x, {}).get("state") == "alive" and
                   ms.get(x, {}).get("link") in ("up", "self")
                   for x in names):
                return
            time.sleep(0.1)
        raise RuntimeError("cluster did not form: %s" %
                           self.nodes[0].members())

    def rss(self):
        return {n.name: proc_rss_kib(n.proc.pid) if n.up() else 0
                for n in self.nodes}

    def run(self):
        stop = threading.Event()
        rss0 = self.rss()
        via = self.nodes[0]
        prods = [Producer(t, self.a.rate / len(self.targets), stop, via)
                 for t in self.targets]
        for p in prods:
            p.start()
        try:
            actor_f, broker_f = self.strike_until_end()
        finally:
            # however the kills end, no producer keeps starting CLIs
            stop.set()
            for p in prods:
                p.join()
        self.drain()
        return self.table(actor_f, broker_f, rss0, prods)

    def strike_until_end(self):
        """Kills at their rates for the round's seconds; returns the two
        Faults (actor, broker) with their counts."""
        actor_f = Fault("actor", self.targets, self.rng)
        broker_f = Fault("broker", self.targets, self.rng,
                         brokers=self.nodes[1:], down=self.a.broker_down)
        t_end = time.monotonic() + self.a.seconds
        next_kill = time.monotonic() + self.a.kill_every
        next_bkill = time.monotonic() + self.a.broker_kill_every
        while time.monotonic() < t_end:
            for t in self.targets:
                t.tail()
            now = time.monotonic()
            if now >= next_kill and actor_f.count < self.a.max_kills:
                actor_f.strike()
                next_kill = now + self.rng.uniform(0.5, 1.5) * \
                    self.a.kill_every
            if self.a.broker_kill_every > 0 and now >= next_bkill and \
                    not broker_f.pending:
                broker_f.strike()
                next_bkill = now + self.rng.uniform(0.7, 1.3) * \
                    self.a.broker_kill_every
            broker_f.tick()
            time.sleep(0.02)
        broker_f.tick(force=True)
        return actor_f, broker_f

    def drain(self, timeout=60.0):
        """Waits until every confirmed message was seen (or timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in self.targets:
                t.tail()
            if all(not t.lost() for t in self.targets):
                break
            time.sleep(0.05)
        time.sleep(0.5)         # late duplicates still count
        for t in self.targets:
            t.tail()

    @staticmethod
    def _sum(ts):
        return {
            "sent": sum(t.sent for t in ts),
            "confirmed": sum(len(t.confirmed) for t in ts),
            "received": sum(len(t.seen) for t in ts),
            "lost": sum(len(t.lost()) for t in ts),
            "duplicated": sum(t.duplicated() for t in ts),
            "redelivered": sum(t.redelivered for t in ts),
            "max_redelivery_delay_s": round(max([t.max_redelivery
                                                 for t in ts] + [0]), 3),
        }

    def table(self, actor_f, broker_f, rss0, prods):
        ts = self.targets
        res = {"seconds": self.a.seconds, "nodes": len(self.nodes),
               "actors": len(ts), "kills": actor_f.count,
               "broker_kills": broker_f.count}
        res.update(self._sum(ts))
        res["classes"] = {c: self._sum([t for t in ts if t.cls == c])
                          for c, _ in self.CLASSES}
        rss1 = self.rss()
        res["rss_kib"] = {n: [rss0[n], rss1[n]] for n in rss0}
        res["broker_rss_kib_start"] = rss0[self.nodes[0].name]
        res["broker_rss_kib_end"] = rss1[self.nodes[0].name]
        res["producer_exit"] = [p.last_exit for p in prods]
        res["producer_restarts"] = sum(p.clis - 1 for p in prods)
        res["producer_errors"] = {}
        for p in prods:
            for k, v in p.errors.items():
                res["producer_errors"][k] = \
                    res["producer_errors"].get(k, 0) + v
        res["garbled_lines"] = sum(t.garbled for t in ts)
        res["lost_examples"] = {t.name: t.lost()[:10] for t in ts
                                if t.lost()}
        return res

    def cleanup(self):
        for n in self.nodes:
            n.stop()
        if not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print("kept %s" % self.work, file=sys.stderr)


def print_table(res, out=sys.stdout):
    out.write("%d nodes, %.0fs, %d actor kills, %d broker kills "
              "(kill -9 + restart), %d CLI restarts\n" % (
                  res["nodes"], res["seconds"], res["kills"],
                  res["broker_kills"], res["producer_restarts"]))
    cols = ("sent", "confirmed", "received", "lost", "duplicated",
            "redelivered")
    out.write("%-42s %s %s\n" % ("class", " ".join("%10s" % c
                                                    for c in cols),
                                 "max-redelivery"))
    rows = [(label, res["classes"][c]) for c, label in Chaos.CLASSES]
    rows.append(("total", res))
    for label, r in rows:
        out.write("%-42s %s %13.3fs\n" % (
            label, " ".join("%10d" % r[c] for c in cols),
            r["max_redelivery_delay_s"]))
    out.write("broker RSS KiB start -> end: %s\n" % ", ".join(
        "%s %d -> %d" % (n, v[0], v[1])
        for n, v in sorted(res["rss_kib"].items())))
    if res["producer_errors"]:
        out.write("CLI errors (unconfirmed sends): %s\n" %
                  res["producer_errors"])
    if res["lost_examples"]:
        out.write("LOST: %s\n" % res["lost_examples"])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("TROUPE_BIN",
                                                   DEFAULT_BIN))
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=float, default=150,
                   help="messages per second, all consumers together")
    p.add_argument("--kill-every", type=float, default=1.0)
    p.add_argument("--max-kills", type=int, default=1000)
    p.add_argument("--broker-kill-every", type=float, default=6.0,
                   help="seconds between kill -9 of n2/n3 (0: none)")
    p.add_argument("--broker-down", type=float, default=0.5)
    p.add_argument("--port", type=int, default=17561,
                   help="n1's tcp port; n2, n3 the next ones")
    p.add_argument("--group-port", type=int, default=17570)
    p.add_argument("--slow-us", type=int, default=25000,
                   help="consumer sleep per message (0: troupe-logger); "
                   "a little slower than the producers, so a backlog is "
                   "always queued and in flight when a kill comes")
    p.add_argument("--mailbox", type=int, default=64)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    return p.parse_args(argv)


def run(argv=None):
    """Runs one chaos round; returns the result dict."""
    args = parse_args(argv)
    c = Chaos(args)
    try:
        c.setup()
        return c.run()
    finally:
        c.cleanup()


def main():
    res = run()
    if "--json" in sys.argv:
        print(json.dumps(res, indent=1))
    else:
        print_table(res)
    return 0 if res["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
