#!/usr/bin/env python3
"""troupe soak (stdlib only): steady load at a fixed rate for a bounded
time; every --interval seconds (and at the end) prints the RSS and open fd
count of every process (trouped and each actor), then flags growth: a
process whose RSS grew more than --rss-tolerance (fraction, and at least
1 MiB) or whose fd count grew, between the first sample after --warmup
seconds and the last.  Exit status 1 when something grew.

Three local nodes (multicast on 127.0.0.1, ports 17567-17569, group
port 17572): producers on n1 send confirmed messages (`troupe send
--confirm`) to sink and counter on n1, to sink@n2 across the link, and to
dsink@n3, a durable mailbox (fsync=batch), whose log is compacted as it
goes: its segments and bytes are printed too.

  soak.py [--bin DIR] [--seconds 600] [--rate 500] [--interval 60]
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

from chaos import DEFAULT_BIN, SUP, Node, Producer, Target, cluster_conf, \
    proc_fds, proc_rss_kib, write_key

SINK = ("[actor sink]\nexec = troupe-sink\nmailbox = 4096\n"
        "overflow = block\n\n")
ACTORS = {"n1": SINK + "[actor counter]\nexec = troupe-counter\n"
                "overflow = block\n\n",
          "n2": SINK,
          "n3": "[actor dsink]\nexec = troupe-sink\nmailbox = 4096\n"
                "overflow = block\ndurable = true\n\n"}


def sample(nodes):
    """{label: (rss KiB, fds)} for each trouped and actor, by node."""
    out = {}
    for node in nodes:
        pid = node.proc.pid
        out[node.name + "/trouped"] = (proc_rss_kib(pid), proc_fds(pid))
        for name, a in sorted(node.actors().items()):
            pid = a.get("pid")
            try:
                out[node.name + "/" + name] = (proc_rss_kib(pid),
                                               proc_fds(pid))
            except (OSError, TypeError):
                out[node.name + "/" + name] = (0, 0)    # restarting
    return out


def log_usage(node):
    """dsink's log: segments and bytes (from inspect)."""
    try:
        lg = node.inspect("dsink").get("log") or {}
    except RuntimeError:
        return ""
    return "  dsink log: %s segments, %s bytes" % (lg.get("segments"),
                                                   lg.get("bytes"))


def print_sample(t, s, extra=""):
    print("t=%5.0fs  " % t + "  ".join(
        "%s rss=%dKiB fds=%d" % (k, v[0], v[1]) for k, v in s.items()) +
        extra, flush=True)


def growth(first, last, tol):
    flags = []
    for k, (rss0, fd0) in first.items():
        if k not in last or rss0 == 0 or last[k][0] == 0:
            continue
        rss1, fd1 = last[k]
        if rss1 - rss0 > max(rss0 * tol, 1024):
            flags.append("%s RSS %d -> %d KiB" % (k, rss0, rss1))
        if fd1 > fd0:
            flags.append("%s fds %d -> %d" % (k, fd0, fd1))
    return flags


def soak(a, nodes):
    stop = threading.Event()
    n1, n2, n3 = nodes
    targets = [Target("sink", n1, None), Target("counter", n1, None),
               Target("sink", n2, None), Target("dsink", n3, None)]
    prods = [Producer(t, a.rate / len(targets), stop, n1) for t in targets]
    for p in prods:
        p.start()
    t0 = time.monotonic()
    samples = [sample(nodes)]
    print_sample(0, samples[0], log_usage(n3))
    while time.monotonic() - t0 < a.seconds:
        time.sleep(min(a.interval, max(0.0, a.seconds -
                                       (time.monotonic() - t0))))
        samples.append(sample(nodes))
        print_sample(time.monotonic() - t0, samples[-1], log_usage(n3))
    stop.set()
    for p in prods:
        p.join()
    codes = [p.last_exit for p in prods]
    sent = sum(t.sent for t in targets)
    print("sent %d, confirmed %d, producer exit %s, CLI errors %s" %
          (sent, sum(len(t.confirmed) for t in targets), codes,
           [p.errors for p in prods if p.errors]))
    # warm-up: caches, and the broker's pending-request ring (max_pending
    # slots, calloc'd: its pages are touched as the ids go round once)
    times = [i * a.interval for i in range(len(samples))]
    base = next((s for t, s in zip(times, samples)
                 if t >= a.warmup and s is not samples[-1]),
                samples[1] if len(samples) > 2 else samples[0])
    return growth(base, samples[-1], a.rss_tolerance), codes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("TROUPE_BIN",
                                                   DEFAULT_BIN))
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--interval", type=float, default=60)
    p.add_argument("--rss-tolerance", type=float, default=0.10)
    p.add_argument("--warmup", type=float, default=180,
                   help="growth is measured from the first sample after "
                   "this many seconds")
    p.add_argument("--port", type=int, default=17567)
    p.add_argument("--group-port", type=int, default=17572)
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="troupe-soak-")
    key = write_key(os.path.join(work, "cluster.key"))
    nodes = []
    try:
        for i, name in enumerate(("n1", "n2", "n3")):
            node = Node(a.bin, name, "", work)
            node.write_conf(cluster_conf(name, a.port + i, a.group_port,
                                         key, "batch", node.data_dir) +
                            SUP + ACTORS[name])
            nodes.append(node)
            node.start()
        for node in nodes:
            node.wait_ready()
        time.sleep(3)           # the links form
        flags, codes = soak(a, nodes)
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(work, ignore_errors=True)
    for f in flags:
        print("GROWTH: " + f)
    if not flags:
        print("no growth (tolerance %.0f%% RSS, 0 fds)" %
              (100 * a.rss_tolerance))
    return 1 if flags or any(codes) else 0


if __name__ == "__main__":
    sys.exit(main())
