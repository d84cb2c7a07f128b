"""Step 8: overload accounting.  A producer far faster than its consumer
(troupe-sink --sleep-us), for each overflow policy: the broker's memory
stays bounded and the counters of `troupe inspect --json` account for
every message sent, exactly:

  sent = acknowledged + dropped + rejected + mailbox

where mailbox is the depth (queued + in flight).  Per policy the terms
come from different places (received = accepted into the mailbox):

  block        sent = received;            received = acked + mailbox
  drop-newest  sent = received + dropped;  received = acked + mailbox
  drop-oldest  sent = received;            received = acked + dropped
                                                      + mailbox
  reject       sent = received + rejected; received = acked + mailbox

(with inflight < mailbox, so drop-oldest always has a queued item to drop
and never drops the newest).  The CLI side agrees: drop-newest and
drop-oldest sends are confirmed (the drop is the agreed fate), a rejected
send exits 1.  Each counter snapshot comes from one inspect, taken by the
broker's loop thread at one instant, so the identity must hold exactly
even while the sink is still consuming."""
import json
import re
import subprocess
import time

from troupetest import BrokerTest, binpath, rss_kib

PAD = "x" * 512
MAILBOX = 20


def conf(policy, sleep_us):
    return ("[actor slow]\nexec = troupe-sink --sleep-us %d\n"
            "mailbox = %d\ninflight = 4\noverflow = %s\n"
            % (sleep_us, MAILBOX, policy))


def lines(lo, hi):
    return "".join('{"n":%d,"pad":"%s"}\n' % (i, PAD) for i in range(lo, hi))


class TestOverload(BrokerTest):
    def inspect(self, b):
        return json.loads(b.cli("inspect", "slow", "--json").stdout)

    def check_identity(self, a, policy, sent):
        acked, dropped = a["acknowledged"], a["dropped"]
        rejected, depth, recv = a["rejected"], a["mailbox"], a["received"]
        msg = "%s: sent %d, %s" % (policy, sent, {k: a[k] for k in (
            "received", "acknowledged", "dropped", "rejected", "mailbox",
            "delivered", "redelivered", "high_water")})
        self.assertEqual(sent, acked + dropped + rejected + depth, msg)
        if policy in ("block", "drop-oldest"):
            self.assertEqual(sent, recv, msg)
        else:
            self.assertEqual(sent, recv + dropped + rejected, msg)
        if policy == "drop-oldest":
            self.assertEqual(recv, acked + dropped + depth, msg)
        else:
            self.assertEqual(recv, acked + depth, msg)
        self.assertLessEqual(a["high_water"], MAILBOX, msg)
        self.assertLessEqual(depth, MAILBOX, msg)

    def overload(self, policy, n, sleep_us):
        b = self.start(conf(policy, sleep_us))
        rss0 = rss_kib(b.pid)
        if policy == "reject":
            confirmed, failed = self.send_keep_going(b, n)
        else:
            r = b.cli("send", "slow", "-", input=lines(0, n))
            confirmed, failed = len(r.stdout.split()), 0
        a = self.inspect(b)
        self.check_identity(a, policy, n)
        self.assertEqual(confirmed + failed, n)
        if policy == "reject":
            self.assertEqual(failed, a["rejected"])
            self.assertGreater(failed, 0)
        elif policy != "block":
            self.assertGreater(a["dropped"], 0)
        # bounded: 20 messages of ~550 bytes queued at most
        self.assertLess(rss_kib(b.pid) - rss0, 16 * 1024)
        # once drained, nothing is left unaccounted
        deadline = time.time() + 30
        while a["mailbox"] != 0 and time.time() < deadline:
            time.sleep(0.1)
            a = self.inspect(b)
        self.assertEqual(a["mailbox"], 0)
        self.check_identity(a, policy, n)
        return a

    def send_keep_going(self, b, n):
        """`troupe send -` stops reading at the first error, waits for
        what was in flight and names every failed line on stderr: start
        it again after the last line it read.  Returns (confirmed,
        rejected)."""
        confirmed = failed = 0
        i = 0
        while i < n:
            r = subprocess.run([binpath("troupe"), "send", "slow", "-"],
                               env=b.env, input=lines(i, n),
                               capture_output=True, text=True, timeout=60)
            confirmed += len(r.stdout.split())
            if r.returncode == 0:
                break
            self.assertEqual(r.returncode, 1, r.stderr)
            err = r.stderr.splitlines()
            m = re.match(r"troupe: (\d+) of (\d+) lines accepted", err[-1])
            self.assertIsNotNone(m, r.stderr)
            self.assertTrue(all("full" in e for e in err[:-1]), r.stderr)
            failed += len(err) - 1
            self.assertEqual(int(m.group(1)) + len(err) - 1,
                             int(m.group(2)))
            i += int(m.group(2))
        return confirmed, failed

    def test_block(self):
        a = self.overload("block", 300, 2000)
        self.assertEqual(a["dropped"] + a["rejected"], 0)

    def test_drop_newest(self):
        self.overload("drop-newest", 1000, 20000)

    def test_drop_oldest(self):
        self.overload("drop-oldest", 1000, 20000)

    def test_reject(self):
        self.overload("reject", 150, 50000)


if __name__ == "__main__":
    import unittest
    unittest.main()
