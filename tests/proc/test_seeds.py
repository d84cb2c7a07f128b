"""Seeds that do not answer: the node says so in its log once, then with
a doubling backoff (10 s, 20 s, ...) however fast it beacons, and `troupe
nodes` shows the seeds it is trying (text and --json); once a seed
answers, the log says so and its row goes.  Ports 17661-17663 on
127.0.0.1, its own key, no multicast."""
import json
import os
import tempfile
import time
import unittest

from troupetest import Broker, wait_for, write_key

A, B, NOBODY = 17661, 17662, 17663
WARN = 'msg="cannot reach any seed"'


def conf(name, port, seeds, key):
    return """[node]
name = %s
listen = tcp://127.0.0.1:%d

[cluster]
discovery = seeds
seeds = %s
key_file = %s
beacon_interval = 100ms
suspect_after = 300ms
dead_after = 1s

[actor echo]
exec = troupe-echo
""" % (name, port, seeds, key)


class TestSeeds(unittest.TestCase):
    def start(self, text, node):
        b = Broker(text, node=node)
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b

    def seed_rows(self, b):
        r = b.cli("nodes", "--json")
        return {n["name"]: n for n in json.loads(r.stdout)
                if n.get("seed")}

    def test_unanswered_seeds_logged_with_backoff_and_listed(self):
        d = tempfile.mkdtemp(prefix="troupe-seeds-")
        key = write_key(os.path.join(d, "cluster.key"))
        seeds = "127.0.0.1:%d, localhost:%d" % (B, NOBODY)
        t0 = time.monotonic()
        a = self.start(conf("sa", A, seeds, key), "sa")
        self.assertTrue(wait_for(lambda: WARN in a.logtext(), 5),
                        a.logtext())
        first = time.monotonic() - t0
        rows = self.seed_rows(a)
        self.assertEqual(sorted(rows), ["127.0.0.1:%d" % B,
                                        "localhost:%d" % NOBODY])
        for name, n in rows.items():
            self.assertEqual((n["state"], n["link"]), ("trying", "seed"))
            self.assertEqual(n["endpoint"], "udp://127.0.0.1:%s" %
                             name.rsplit(":", 1)[1])
            self.assertNotIn("last_seen_ms", n)     # never answered
        text = a.cli("nodes").stdout
        self.assertIn("127.0.0.1:%d" % B, text)
        self.assertIn("trying", text)
        self.assertIn("never", text)
        # 100 ms beacons for ~11 s: one line per beacon would be ~110;
        # the backoff gives the first, then one 10 s later
        time.sleep(max(0, 11.0 - (time.monotonic() - t0)))
        lines = [ln for ln in a.logtext().splitlines() if WARN in ln]
        print("\n  first warning after %.2f s; %d lines in %.1f s" %
              (first, len(lines), time.monotonic() - t0), end=" ")
        self.assertEqual(len(lines), 2, "\n".join(lines))
        self.assertIn("next_report_s=10", lines[0])
        self.assertIn("next_report_s=20", lines[1])
        self.assertIn('seeds="127.0.0.1:%d, localhost:%d"' % (B, NOBODY),
                      lines[0])
        # a seed comes up: it answers, its row goes, the other stays
        b = self.start(conf("sb", B, "127.0.0.1:%d" % A, key), "sb")
        self.assertTrue(wait_for(lambda: 'msg="seed answered" seed='
                                 '127.0.0.1:%d' % B in a.logtext(), 5),
                        a.logtext())
        self.assertTrue(wait_for(lambda: sorted(self.seed_rows(a)) ==
                                 ["localhost:%d" % NOBODY], 5))
        nodes = json.loads(a.cli("nodes", "--json").stdout)
        self.assertIn("sb", [n["name"] for n in nodes
                             if n["state"] == "alive"])
        r = a.cli("ask", "echo@sb", '"across"')
        self.assertEqual(r.stdout.strip(), '"across"')
        # sb's only seed is sa, which answers: sb never complains
        self.assertTrue(wait_for(lambda: self.seed_rows(b) == {}, 5),
                        "%s\n%s\n%s" % (self.seed_rows(b),
                                        b.cli("stats").stdout, b.logtext()))
        self.assertNotIn(WARN, b.logtext())


if __name__ == "__main__":
    unittest.main()
