"""Issue 15: client links through the C client API (tests/actors/tclient.c
on libtroupe's troupe_client_*): a client killed mid-stream loses nothing
it was told was accepted; a slow consumer behind `block` throttles only
the client that sends to it; a client of another uid is refused like on
the control socket; a stranger on a granted client socket is refused and
counted; the link's slots are bounded (node.max_clients) and freed."""
import json
import os
import signal
import subprocess
import time
import unittest

from troupetest import (NOBODY, BIN, BrokerTest, as_uid, copy_for_uid,
                        wait_for)

TOOLS = os.path.normpath(os.path.join(BIN, "..", "tests", "bin"))
TCLIENT = os.path.join(TOOLS, "tclient")
CRASHY = os.path.join(TOOLS, "crashy")
ECHO = "[actor echo]\nexec = troupe-echo\n"


def popen(b, *args, **kw):
    return subprocess.Popen([TCLIENT] + list(args), env=b.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def reap(p):
    """Kills p if it still runs and collects it (a cleanup)."""
    if p.poll() is None:
        p.kill()
    p.wait(timeout=10)
    for f in (p.stdin, p.stdout, p.stderr):
        if f is not None:
            f.close()


def stats(b):
    return json.loads(b.cli("stats", "--json").stdout)


@unittest.skipUnless(os.path.exists(TCLIENT), "build/tests/bin/tclient "
                     "missing (make test builds it)")
class ClientTest(BrokerTest):
    def run_tclient(self, b, *args, timeout=60, **kw):
        r = subprocess.run([TCLIENT] + list(args), env=b.env,
                           capture_output=True, text=True, timeout=timeout,
                           **kw)
        return r

    def test_send_and_ask(self):
        b = self.start()
        r = self.run_tclient(b, "send", "counter", "5000")
        self.assertEqual(r.returncode, 0, r.stderr)
        oks = [int(l.split()[1]) for l in r.stdout.split("\n")
               if l.startswith("ok ")]
        self.assertEqual(sorted(oks), list(range(1, 5001)))
        r = self.run_tclient(b, "ask", "echo")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout), "ping")
        # unknown actor: every message reported, none confirmed
        r = self.run_tclient(b, "send", "nosuch", "10")
        self.assertEqual(r.returncode, 1)
        errs = [l for l in r.stdout.split("\n") if l.startswith("err ")]
        self.assertEqual(len(errs), 10, r.stdout)
        self.assertTrue(all(" 1 unknown actor 'nosuch'" in l for l in errs),
                        errs)
        s = stats(b)
        self.assertEqual(s["clients"], 0)
        self.assertGreaterEqual(s["clients_opened"], 3)

    def test_killed_mid_stream_loses_nothing_accepted(self):
        b = self.start(lambda d: "[actor rec]\nexec = %s -o %s -s 50\n"
                       "mailbox = 100000\n" % (CRASHY, os.path.join(
                           d, "got.txt")))
        got_path = os.path.join(b.dir, "got.txt")
        p = popen(b, "send", "rec", "200000")
        self.addCleanup(reap, p)
        oks = []
        deadline = time.time() + 30
        while len(oks) < 3000 and time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            if line.startswith("ok "):
                oks.append(int(line.split()[1]))
        p.kill()
        rest, _ = p.communicate(timeout=10)
        oks += [int(l.split()[1]) for l in rest.split("\n")
                if l.startswith("ok ")]
        self.assertGreaterEqual(len(oks), 3000)
        self.assertLess(len(oks), 200000, "killed before the end")

        def received():
            try:
                with open(got_path) as f:
                    return {int(l.split()[0]) for l in f if l.strip()}
            except FileNotFoundError:
                return set()
        want = set(oks)
        self.assertTrue(wait_for(lambda: want <= received(), 60),
                        "confirmed but never delivered: %d of %d" %
                        (len(want - received()), len(want)))
        self.assertTrue(wait_for(lambda: stats(b)["clients"] == 0, 10))

    def test_block_throttles_only_its_own_client(self):
        b = self.start("[actor slow]\nexec = troupe-sink --sleep-us 2000\n"
                       "mailbox = 50\ninflight = 4\noverflow = block\n"
                       "[actor fast]\nexec = troupe-sink\n")
        alone = self.run_tclient(b, "rate", "fast", "1.5")
        self.assertEqual(alone.returncode, 0, alone.stderr)
        rate_alone = float(alone.stdout.split()[1])
        slow = popen(b, "rate", "slow", "3")
        self.addCleanup(reap, slow)
        time.sleep(0.5)
        both = self.run_tclient(b, "rate", "fast", "1.5")
        out, err = slow.communicate(timeout=30)
        self.assertEqual(slow.returncode, 0, err)
        rate_slow = float(out.split()[1])
        rate_both = float(both.stdout.split()[1])
        print("\nblock: fast alone %.0f/s, fast beside a blocked client "
              "%.0f/s, blocked client %.0f/s" % (rate_alone, rate_both,
                                                 rate_slow))
        # the consumer takes ~500/s: its client is held to about that
        self.assertLess(rate_slow, 2000)
        self.assertGreater(rate_both, 10 * rate_slow)
        self.assertGreater(rate_both, 0.4 * rate_alone)

    def test_stranger_on_granted_socket_refused(self):
        b = self.start()
        hold = popen(b, "hold", stdin=subprocess.PIPE)
        self.addCleanup(reap, hold)
        self.assertTrue(hold.stdout.readline().startswith("ready cli-"))
        socks = os.listdir(os.path.join(b.run_dir, "cli"))
        self.assertEqual(len(socks), 1, socks)
        url = "ipc://" + os.path.join(b.run_dir, "cli", socks[0])
        before = stats(b)
        r = self.run_tclient(b, "raw", url)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = stats(b)
        self.assertGreater(after["refused_client"],
                           before["refused_client"])
        self.assertEqual(after["routed"], before["routed"])
        hold.stdin.close()
        self.assertEqual(hold.wait(timeout=10), 0)
        self.assertTrue(wait_for(lambda: stats(b)["clients"] == 0, 10))
        self.assertEqual(os.listdir(os.path.join(b.run_dir, "cli")), [])

    def test_max_clients_bounded(self):
        b = self.start("[node]\nmax_clients = 2\n" + ECHO)
        holds = []
        for _ in range(2):
            h = popen(b, "hold", stdin=subprocess.PIPE)
            self.addCleanup(reap, h)
            self.assertTrue(h.stdout.readline().startswith("ready"))
            holds.append(h)
        r = self.run_tclient(b, "ask", "echo")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("all 2 client links in use", r.stderr)
        reap(holds[0])
        self.assertTrue(wait_for(lambda: stats(b)["clients"] == 1, 10))
        r = self.run_tclient(b, "ask", "echo")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


@unittest.skipUnless(os.geteuid() == 0, "needs root: runs a client as "
                     "uid nobody (65534) against a root broker")
@unittest.skipUnless(os.path.exists(TCLIENT), "tclient missing")
class ClientUidTest(BrokerTest):
    def setUp(self):
        self.bin = copy_for_uid(self, NOBODY, [])
        dst = os.path.join(self.bin, "tclient")
        with open(TCLIENT, "rb") as src, open(dst, "wb") as out:
            out.write(src.read())
        os.chmod(dst, 0o755)

    def nobody(self, b, *args):
        return subprocess.run([os.path.join(self.bin, "tclient")] +
                              list(args), env=b.env, capture_output=True,
                              text=True, timeout=60,
                              preexec_fn=as_uid(NOBODY))

    def test_other_uid_refused_like_control(self):
        b = self.start("[node]\nallow_uids = 4242\n" + ECHO)
        os.chmod(b.dir, 0o711)
        r = self.nobody(b, "ask", "echo")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn("permission denied: uid %d is not allowed" % NOBODY,
                      r.stderr)
        self.assertEqual(stats(b)["clients_opened"], 0)

    def test_default_closed_to_other_uid(self):
        b = self.start()
        os.chmod(b.dir, 0o711)
        r = self.nobody(b, "ask", "echo")
        self.assertIn(r.returncode, (69, 77), r.stderr)
        self.assertEqual(stats(b)["clients_opened"], 0)

    def test_allowed_uid_gets_a_link(self):
        b = self.start("[node]\nallow_uids = %d\n%s" % (NOBODY, ECHO))
        os.chmod(b.dir, 0o711)
        r = self.nobody(b, "ask", "echo")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout), "ping")


if __name__ == "__main__":
    unittest.main()
