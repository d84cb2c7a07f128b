"""Step 8: 20 seconds of chaos (tests/chaos/chaos.py) on a three-node
local cluster: producers on n1 send numbered messages with `troupe send
--confirm` to a non-durable consumer on n1 and to durable ones on n2
(fsync=batch) and n3 (fsync=always), while the driver kill -9s random
consumers everywhere and the whole trouped of n2 or n3, restarting it on
the same data dir.  No confirmed message is lost: not by actor kills
(non-durable), not by broker kills (durable, both policies); duplicates
are counted, never hidden.  Ports 17564-17566, group port 17571."""
import os
import sys
import unittest

from troupetest import BIN

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "chaos"))
import chaos  # noqa: E402


class TestChaos(unittest.TestCase):
    def test_kills_lose_nothing_confirmed(self):
        res = chaos.run(["--bin", BIN, "--seconds", "20", "--rate", "120",
                         "--kill-every", "1.0", "--broker-kill-every", "5",
                         "--port", "17564", "--group-port", "17571",
                         "--seed", "8"])
        chaos.print_table(res, sys.stderr)
        self.assertGreaterEqual(res["kills"], 5)
        self.assertGreaterEqual(res["broker_kills"], 2)
        for cls, r in res["classes"].items():
            with self.subTest(cls=cls):
                self.assertGreater(r["confirmed"], 200, r)
                self.assertEqual(r["lost"], 0, res["lost_examples"])
                # every confirmed message arrived (more may: sent, not
                # confirmed before a kill)
                self.assertGreaterEqual(r["received"], r["confirmed"])
                self.assertLessEqual(r["received"], r["sent"])
        # something was in flight when the kills came: recovery was real
        self.assertGreater(res["classes"]["durable-batch"]["redelivered"] +
                           res["classes"]["durable-always"]["redelivered"],
                           0)


if __name__ == "__main__":
    unittest.main()
