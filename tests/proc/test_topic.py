"""Issue 17: topics on real processes.  A three-node cluster (ports
17541-17543, multicast 239.255.77.21:17544 on 127.0.0.1 only) with tsub
subscribers on every node: every subscriber gets every message of a
10,000-message stream in order per publisher, a slow drop-oldest one
loses only its own (counted), a published message crosses each peer
link once, and wildcards match as documented."""
import collections
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

from troupetest import (BIN, Broker, cluster_formed, wait_for,
                        whole_lines, write_key)

TOOLS = os.path.normpath(os.path.join(BIN, "..", "tests", "bin"))
TSUB = os.path.join(TOOLS, "tsub")
N = 10000
PORTS = (17541, 17542, 17543)
GROUP = "239.255.77.21:17544"
def sub(name, pattern, out, extra="", args=""):
    return ("\n[actor %s]\nexec = %s TSUB_OUT=%s %s\nsubscribe = %s\n%s"
            % (name, TSUB, out, args, pattern, extra))


def node_conf(i, d, actors, key):
    return ("[node]\nname = n%d\nlisten = tcp://127.0.0.1:%d\n\n"
            "[cluster]\ndiscovery = multicast\ngroup = %s\n"
            "interface = 127.0.0.1\nbeacon_interval = 200ms\n"
            "suspect_after = 3s\ndead_after = 6s\nkey_file = %s\n"
            % (i, PORTS[i - 1], GROUP, key)
            + actors(d))


def lines(path):
    """(to, from, body) of every complete line a subscriber wrote."""
    out = []
    for ln in whole_lines(path):
        to, frm, body = ln.split(" ", 2)
        out.append((to, frm, json.loads(body)))
    return out


def nodes_of(b):
    r = b.cli("nodes", "--json", check=False)
    if r.returncode != 0:
        return {}
    return {n["name"]: n for n in json.loads(r.stdout)}


def publish(b, topic, n, tag):
    text = "".join('{"p":"%s","n":%d}\n' % (tag, k) for k in range(n))
    return b.cli("publish", topic, "-", input=text, timeout=300)


class TestTopics(unittest.TestCase):
    def setUp(self):
        d = tempfile.mkdtemp(prefix="troupe-key-")
        self.addCleanup(shutil.rmtree, d, True)
        self.key = os.path.join(d, "cluster.key")
        write_key(self.key)

    def start_node(self, i, actors):
        b = Broker(lambda d: node_conf(i, d, actors, self.key), (),
                   "n%d" % i)
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b

    def test_three_nodes_every_subscriber_in_order(self):
        outs = {}

        def actors_of(i):
            def actors(d):
                names = {1: [("s1", "orders.*")],
                         2: [("s2", "orders.>"), ("w2", "*.new")],
                         3: [("s3", "orders.new"), ("fast", "orders.*"),
                             ("audit", "audit.>")]}[i]
                text = ""
                for name, pat in names:
                    outs[name] = os.path.join(d, name + ".out")
                    text += sub(name, pat, outs[name])
                if i == 3:
                    outs["slow"] = os.path.join(d, "slow.out")
                    text += sub("slow", "orders.*", outs["slow"],
                                "mailbox = 64\noverflow = drop-oldest\n",
                                "TSUB_DELAY_US=1000")
                return text
            return actors

        nodes = [self.start_node(i, actors_of(i)) for i in (1, 2, 3)]
        self.assertTrue(wait_for(lambda: cluster_formed(
            nodes, ["n1", "n2", "n3"], nodes_of), 10), "no cluster")
        # the subscriptions travel with the names: n1 and n2 see n3's
        self.assertTrue(wait_for(lambda: all(
            nodes_of(b).get(o, {}).get("state") == "alive"
            for b in nodes for o in ("n1", "n2", "n3")
            if o != b.node), 10))
        time.sleep(1.0)         # a beacon interval or two for the tables
        pubs = [threading.Thread(target=publish,
                                 args=(nodes[0], "orders.new", N, "a")),
                threading.Thread(target=publish,
                                 args=(nodes[1], "orders.new", N, "b"))]
        for t in pubs:
            t.start()
        for t in pubs:
            t.join()
        fast = ("s1", "s2", "w2", "s3", "fast")
        self.assertTrue(wait_for(lambda: all(
            len(lines(outs[s])) >= 2 * N for s in fast), 120),
            {s: len(lines(outs[s])) for s in outs})
        time.sleep(0.5)         # anything extra would show by now
        for s in fast:
            got = lines(outs[s])
            self.assertEqual(len(got), 2 * N, s)
            for tag, origin in (("a", "@n1"), ("b", "@n2")):
                seq = [body["n"] for to, frm, body in got
                       if body["p"] == tag]
                self.assertEqual(seq, list(range(N)),
                                 "%s: publisher %s out of order" % (s, tag))
                self.assertTrue(all(frm.endswith(origin) and
                                    to == "orders.new"
                                    for to, frm, body in got
                                    if body["p"] == tag))
        self.assertEqual(lines(outs["audit"]), [])
        # the slow drop-oldest one lost some, its own, counted
        self.assertTrue(wait_for(lambda: json.loads(nodes[2].cli(
            "inspect", "slow", "--json").stdout)["mailbox"] == 0, 60))
        st = json.loads(nodes[2].cli("inspect", "slow", "--json").stdout)
        got = lines(outs["slow"])
        print("\nslow drop-oldest subscriber: %d of %d, dropped %d; the "
              "fast ones all %d" % (len(got), 2 * N, st["dropped"], 2 * N))
        self.assertGreater(st["dropped"], 0)
        self.assertEqual(len(got) + st["dropped"], 2 * N)
        for tag in ("a", "b"):
            seq = [body["n"] for _, _, body in got if body["p"] == tag]
            self.assertEqual(seq, sorted(seq), "kept ones stay in order")
        # across each link once: n1 forwarded N to n2 and N to n3, not
        # once per subscriber (n3 has four)
        s1 = json.loads(nodes[0].cli("stats", "--json").stdout)
        print("n1: published %d, copies %d, forwarded %d" %
              (s1["published"], s1["topic_copies"], s1["topic_forwarded"]))
        self.assertEqual(s1["published"], N + N)
        self.assertEqual(s1["topic_forwarded"], 2 * N)
        self.assertEqual(s1["topic_copies"], 2 * N)     # s1 only
        s3 = json.loads(nodes[2].cli("stats", "--json").stdout)
        self.assertEqual(s3["topic_forwarded"], 0, "peers never forward")

    def test_publish_right_after_start_waits_for_subscriptions(self):
        """A publish while a known member's link or names table is on its
        way waits for it (as an ask to a bare name does), so a node that
        just started does not miss that member's subscribers."""
        outs = {}

        def actors(d):
            outs["s"] = os.path.join(d, "s.out")
            return sub("s", "boot.*", outs["s"])
        n1 = self.start_node(1, lambda d: "")
        n2 = Broker(lambda d: node_conf(2, d, actors, self.key), (), "n2")
        self.addCleanup(n2.cleanup)
        # as soon as n1 knows n2 (its link may still be coming up)
        self.assertTrue(wait_for(lambda: "n2" in nodes_of(n1), 10))
        routable = nodes_of(n1)["n2"].get("routable")
        publish(n1, "boot.x", 100, "a")
        self.assertTrue(wait_for(lambda: len(lines(outs["s"])) >= 100, 20),
                        "published right after start (n2 routable: %s), "
                        "got %d" % (routable, len(lines(outs["s"]))))
        print("\npublished as soon as n2 was known (routable then: %s): "
              "100 of 100 there" % routable)

    def test_runtime_subscribe_and_bad_topics(self):
        d = tempfile.mkdtemp(prefix="troupe-topic-")
        self.addCleanup(shutil.rmtree, d, True)
        out = os.path.join(d, "rt.out")
        b = Broker("[node]\nname = n1\n\n[actor rt]\nexec = %s "
                   "TSUB_OUT=%s TSUB_TOPICS=jobs.*,x.>\n"
                   "[actor w]\nexec = %s\ninstances = 2\n"
                   "subscribe = jobs.>\n" % (TSUB, out, TSUB))
        self.addCleanup(b.cleanup)
        b.wait_ready()
        self.assertTrue(wait_for(lambda: b.actors()["rt"]["subscribe"] ==
                                 ["jobs.*", "x.>"], 10))
        self.assertEqual(b.actors()["w"]["subscribe"], ["jobs.>"])
        for t in ("jobs.a", "x.y.z", "jobs.a.b", "x"):
            b.cli("publish", t, '{"t":"%s"}' % t)
        self.assertTrue(wait_for(lambda: len(lines(out)) >= 2, 10))
        time.sleep(0.3)
        self.assertEqual([to for to, _, _ in lines(out)], ["jobs.a",
                                                            "x.y.z"])
        # a pool takes each once, through one instance
        st = json.loads(b.cli("inspect", "w", "--json").stdout)
        self.assertEqual(st["received"], 2)     # jobs.a, jobs.a.b
        for bad in ("", "a..b", "a.*", "a.>", "a b", "x@n1"):
            r = b.cli("publish", bad, "{}", check=False)
            self.assertEqual(r.returncode, 64, (bad, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        # a restarted process starts with its config's subscriptions only
        b.cli("restart", "rt")
        self.assertTrue(wait_for(lambda: b.actors()["rt"]["state"] ==
                                 "running", 10))
        self.assertTrue(wait_for(lambda: b.actors()["rt"]["subscribe"] ==
                                 ["jobs.*", "x.>"], 10))

    def start_one(self, actors):
        d = tempfile.mkdtemp(prefix="troupe-topic-")
        self.addCleanup(shutil.rmtree, d, True)
        b = Broker("[node]\nname = n1\n" + actors(d))
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b, d

    def test_block_subscriber_holds_only_the_publisher(self):
        """A full block subscriber keeps the publisher's credit until its
        copy is in: both subscribers get everything, the fast one is
        never behind by more than the publisher's window."""
        n = 3000
        b, d = self.start_one(lambda d: sub(
            "fast", "t.*", os.path.join(d, "fast")) + sub(
            "slow", "t.*", os.path.join(d, "slow"),
            "mailbox = 16\noverflow = block\n", "TSUB_DELAY_US=300"))
        t0 = time.time()
        publish(b, "t.x", n, "a")
        took = time.time() - t0
        self.assertTrue(wait_for(lambda: len(lines(os.path.join(
            d, "slow"))) >= n, 60))
        for s in ("fast", "slow"):
            got = [body["n"] for _, _, body in lines(os.path.join(d, s))]
            self.assertEqual(got, list(range(n)), s)
        st = json.loads(b.cli("inspect", "slow", "--json").stdout)
        self.assertEqual(st["dropped"] + st["rejected"], 0)
        print("\nblock subscriber at 0.3 ms/msg: %d published in %.2f s "
              "(held by it), high water %d of 16" % (n, took,
                                                    st["high_water"]))
        self.assertLessEqual(st["high_water"], 16)

    def test_actor_publishes(self):
        b, d = self.start_one(lambda d: sub(
            "relay", "in.*", os.path.join(d, "relay"), "",
            "TSUB_FORWARD=out.relayed") + sub(
            "end", "out.>", os.path.join(d, "end")))
        b.cli("publish", "in.one", '{"k":1}')
        self.assertTrue(wait_for(lambda: lines(os.path.join(d, "end")),
                                 10))
        self.assertEqual(lines(os.path.join(d, "end")),
                         [("out.relayed", "relay@%s" % b.node, {"k": 1})])


if __name__ == "__main__":
    unittest.main()
