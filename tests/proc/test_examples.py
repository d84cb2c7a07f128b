"""actors/examples/client.py, the Python client on the CLI's JSON-lines
co-process (`troupe ask -`, `troupe send -`: troupe(1), the contract of
issue 15), run against a real trouped through the real troupe CLI.

Written against that contract while the co-process was being built on
another branch (i15-cli): with a troupe that has no `ask -` / `send -`
mode these tests fail, and they pass once it has.  The C example
(client.c) is built and run against an installed tree by test_install."""
import os
import subprocess
import sys
import tempfile

from troupetest import BrokerTest, binpath

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_PY = os.path.join(HERE, "..", "..", "actors", "examples",
                         "client.py")
ECHO = ['echo replied: {"question":%d,"from":"client.py"}' % k
        for k in (1, 2, 3)]


class TestPythonClient(BrokerTest):
    def run_client(self, env, *args):
        return subprocess.run([sys.executable, CLIENT_PY] + list(args),
                              env=dict(env, TROUPE=binpath("troupe")),
                              capture_output=True, text=True, timeout=60)

    def test_asks_and_sends_through_the_co_process(self):
        """Three asks in flight at once matched by id, then 500 sends
        written before any answer is read: every one ok, the sink got
        them all, both co-processes exit 0."""
        b = self.start()
        r = self.run_client(b.env, "-n", "500")
        self.assertEqual((r.returncode, r.stderr), (0, ""), r.stdout)
        self.assertEqual(r.stdout.splitlines(),
                         ECHO + ["sent 500 to sink: 500 ok, 0 failed"])
        self.assertEqual(b.actors()["sink"]["received"], 500)

    def test_refusals_come_back_per_line(self):
        """An unknown actor: each line gets its ok:false answer with the
        broker's code; the co-process goes on (echo still answers) and
        the example exits 1."""
        b = self.start()
        r = self.run_client(b.env, "-a", "nosuch", "-n", "4")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ECHO + ["sent 4 to nosuch: 0 ok, 4 failed"])
        self.assertRegex(r.stderr, r"^send 1 to nosuch: .*unknown actor.* "
                         r"\(code 1\)\n")

    def test_no_broker(self):
        """Nothing listens: the co-process ends without answering, and
        the example says so and exits with its status."""
        d = tempfile.mkdtemp(prefix="troupe-nobroker-")
        self.addCleanup(os.rmdir, d)
        env = dict(os.environ, TROUPE_RUN_DIR=d)
        env.pop("TROUPE_NODE", None)
        r = self.run_client(env)
        self.assertEqual((r.returncode, r.stdout), (69, ""), r.stderr)
        self.assertIn("client.py: the troupe co-process ended (exit "
                      "status 69)\n", r.stderr)
