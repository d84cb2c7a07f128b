"""`troupe bench`: load through a real broker; the output's shape, exit
codes and the progress bar, never speed."""
import json
import os
import pty
import subprocess
import unittest

from troupetest import BrokerTest, binpath


class TestBenchCli(BrokerTest):
    def test_send_prints_rate_and_latency(self):
        b = self.start()
        r = b.cli("bench", "send", "sink", "--count", "200", "--senders",
                  "2")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertIn("send sink: 200 msgs of 128 B, 2 senders", lines[0])
        self.assertRegex(lines[1], r"^\s+\d+ msgs/s, [\d.]+ MB/s$")
        self.assertRegex(lines[2], r"p50 \d+ us, p90 \d+ us, p99 \d+ us")
        self.assertEqual(r.stderr, "")      # no bar without a terminal
        self.assertEqual(b.actors()["sink"]["received"], 200)

    def test_ask_json_has_every_figure(self):
        b = self.start()
        r = b.cli("--json", "bench", "ask", "echo", "--count=50",
                  "--size", "1024")
        j = json.loads(r.stdout)
        self.assertEqual((j["mode"], j["actor"], j["count"], j["size"],
                          j["senders"]), ("ask", "echo", 50, 1024, 1))
        for k in ("seconds", "msgs_per_s", "mb_per_s", "p50_us", "p90_us",
                  "p99_us", "max_us"):
            self.assertGreater(j[k], 0, k)
        self.assertLessEqual(j["p50_us"], j["p99_us"])
        self.assertEqual(b.actors()["echo"]["delivered"], 50)

    def test_errors_exit_with_sysexits(self):
        b = self.start()
        r = b.cli("bench", "ask", "nosuch", "--count", "5", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nosuch", r.stderr)
        r = b.cli("bench", "ask", "sink", "--count", "2", check=False)
        self.assertEqual(r.returncode, 1)       # sink never replies
        for bad in (["bench", "send", "sink", "--size", "1"],
                    ["bench", "post", "sink"],
                    ["bench", "send"],
                    ["bench", "send", "sink", "--senders", "x"]):
            r = b.cli(*bad, check=False)
            self.assertEqual(r.returncode, 64, bad)
            self.assertEqual(len(r.stderr.strip().splitlines()) >= 1, True)

    def test_unreachable_broker_exits_69(self):
        env = dict(os.environ, TROUPE_RUN_DIR="/nonexistent/troupe-bench")
        r = subprocess.run([binpath("troupe"), "bench", "send", "sink",
                            "--count", "1"], env=env, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 69, r.stderr)

    def test_progress_bar_on_a_terminal(self):
        b = self.start()
        pid, fd = pty.fork()
        if pid == 0:    # child: stdout and stderr are the terminal
            os.execve(binpath("troupe"), [binpath("troupe"), "bench",
                      "send", "sink", "--count", "300"], b.env)
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, out)
        text = out.decode()
        self.assertIn("] 100% 300/300", text)
        self.assertIn("\r[", text)
        self.assertIn("send sink: 300 msgs", text)


if __name__ == "__main__":
    unittest.main()
