"""The troupe CLI without a broker: usage errors, bad data, help and the
unreachable-broker error, each with its sysexits code and one clear line.

Runs the built binary from $TROUPE_BIN (default build/bin of the repo).
Every test gets a fresh, empty TROUPE_RUN_DIR, so no broker can answer.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("TROUPE_BIN",
                     os.path.join(HERE, "..", "..", "build", "bin"))
TROUPE = os.path.join(BIN, "troupe")

EX_USAGE, EX_DATAERR, EX_UNAVAILABLE = 64, 65, 69
USAGE_LINE = "usage: troupe [--broker URL] [--json] [--timeout DUR] COMMAND"


class CliUsage(unittest.TestCase):
    def setUp(self):
        if not os.access(TROUPE, os.X_OK):
            self.fail("no troupe binary at %s (set TROUPE_BIN)" % TROUPE)
        self.run_dir = tempfile.mkdtemp(prefix="troupe-cli-")
        self.addCleanup(shutil.rmtree, self.run_dir, True)
        self.url = "ipc://%s/ctl.sock" % self.run_dir

    def troupe(self, *args, stdin=None, env=None):
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e["TROUPE_RUN_DIR"] = self.run_dir
        if env is not None:
            e.update(env)
            for k in [k for k, v in env.items() if v is None]:
                del e[k]
        return subprocess.run([TROUPE] + list(args), input=stdin,
                              capture_output=True, text=True, env=e,
                              timeout=20)

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code,
                         "exit %d, stderr %r" % (r.returncode, r.stderr))

    def assertOneLine(self, r, *needles):
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("troupe: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])

    def assertUsageError(self, r, *needles):
        self.assertExit(r, EX_USAGE)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 2, r.stderr)
        self.assertTrue(lines[0].startswith("troupe: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertTrue(lines[1].startswith("usage: troupe"), lines[1])
        self.assertEqual(r.stdout, "")

    # -- broker unreachable ------------------------------------------------

    def test_send_no_broker_is_69_naming_url(self):
        r = self.troupe("send", "echo", "{}")
        self.assertExit(r, EX_UNAVAILABLE)
        self.assertOneLine(r, "cannot reach broker at " + self.url + ": ")
        self.assertEqual(r.stdout, "")

    def test_every_command_no_broker_is_69(self):
        for args in (["ask", "echo", "[1]"], ["actors"], ["ls"],
                     ["--json", "ls"], ["inspect", "echo"], ["stats"],
                     ["send", "echo@n2", "-1"],
                     ["ask", "echo", "{}", "--timeout", "500ms"]):
            with self.subTest(args=args):
                r = self.troupe(*args)
                self.assertExit(r, EX_UNAVAILABLE)
                self.assertOneLine(r, self.url)

    def test_send_stdin_no_broker_is_69(self):
        r = self.troupe("send", "echo", "-", stdin='{"a":1}\n')
        self.assertExit(r, EX_UNAVAILABLE)
        self.assertOneLine(r, self.url)

    def test_broker_option_wins(self):
        url = "ipc://%s/other.sock" % self.run_dir
        for args in (["--broker", url], ["--broker=" + url]):
            with self.subTest(args=args):
                r = self.troupe(*(args + ["send", "echo", "{}"]))
                self.assertExit(r, EX_UNAVAILABLE)
                self.assertOneLine(r, "at " + url + ": ")

    def test_run_dir_rule_without_env(self):
        env = {"TROUPE_RUN_DIR": None, "XDG_RUNTIME_DIR": self.run_dir}
        if os.geteuid() == 0:
            want = "ipc:///run/troupe/ctl.sock"
            if os.path.exists("/run/troupe/ctl.sock"):
                self.skipTest("a broker may be listening in /run/troupe")
        else:
            want = "ipc://%s/troupe/ctl.sock" % self.run_dir
        r = self.troupe("stats", env=env)
        self.assertExit(r, EX_UNAVAILABLE)
        self.assertOneLine(r, want)

    # -- usage errors ------------------------------------------------------

    def test_unknown_command_is_64_with_usage(self):
        r = self.troupe("bogus")
        self.assertUsageError(r, "unknown command 'bogus'")
        self.assertTrue(r.stderr.splitlines()[1].startswith(USAGE_LINE))

    def test_no_command_is_64(self):
        self.assertUsageError(self.troupe(), "missing command")

    def test_missing_args_is_64(self):
        for args in (["send"], ["send", "echo"], ["ask", "echo"],
                     ["inspect"]):
            with self.subTest(args=args):
                r = self.troupe(*args)
                self.assertUsageError(r, "missing")
                self.assertIn(args[0], r.stderr.splitlines()[1])

    def test_extra_args_is_64(self):
        for args in (["send", "a", "{}", "x"], ["stats", "x"],
                     ["ls", "x"]):
            with self.subTest(args=args):
                self.assertUsageError(self.troupe(*args),
                                      "unexpected argument")

    def test_unknown_option_is_64(self):
        for args in (["--frob", "send", "echo", "{}"],
                     ["send", "--frob", "echo", "{}"],
                     ["send", "echo", "{}", "-x"],
                     ["--json=1", "stats"]):
            with self.subTest(args=args):
                self.assertUsageError(self.troupe(*args), "unknown option")

    def test_bad_option_values_are_64(self):
        for args, needle in ((["--timeout", "soon", "stats"], "duration"),
                             (["--timeout", "0", "stats"], "duration"),
                             (["--timeout", "5x", "stats"], "duration"),
                             (["stats", "--timeout"], "needs a value"),
                             (["--broker"], "needs a value"),
                             (["--broker=", "stats"], "--broker")):
            with self.subTest(args=args):
                self.assertUsageError(self.troupe(*args), needle)

    def test_help_unknown_command_is_64(self):
        self.assertUsageError(self.troupe("help", "bogus"),
                              "unknown command 'bogus'")

    # -- bad data, checked before dialing ----------------------------------

    def test_bad_json_is_65_with_line_column(self):
        for cmd in ("send", "ask"):
            with self.subTest(cmd=cmd):
                r = self.troupe(cmd, "echo", "{bad")
                self.assertExit(r, EX_DATAERR)
                self.assertOneLine(r, "invalid JSON at line 1 column ")
                self.assertEqual(r.stdout, "")

    def test_bad_json_line_number(self):
        r = self.troupe("send", "echo", '{"a":\n\n  nope}')
        self.assertExit(r, EX_DATAERR)
        self.assertOneLine(r, "invalid JSON at line 3 column ")

    def test_duplicate_key_and_too_deep_are_65(self):
        deep = "[" * 17 + "]" * 17
        for text, needle in (('{"a":1,"a":2}', "invalid JSON"),
                             (deep, "16")):
            with self.subTest(text=text):
                r = self.troupe("send", "echo", text)
                self.assertExit(r, EX_DATAERR)
                self.assertOneLine(r, needle)

    def test_json_flag_errors_still_one_stderr_line(self):
        r = self.troupe("--json", "send", "echo", "{bad")
        self.assertExit(r, EX_DATAERR)
        self.assertOneLine(r, "invalid JSON")
        self.assertEqual(r.stdout, "")

    # -- help --------------------------------------------------------------

    def test_top_help_is_0_on_stdout(self):
        for args in (["--help"], ["-h"], ["help"], ["--json", "--help"]):
            with self.subTest(args=args):
                r = self.troupe(*args)
                self.assertExit(r, 0)
                self.assertTrue(r.stdout.startswith(USAGE_LINE), r.stdout)
                for cmd in ("send", "ask", "actors", "inspect", "stats"):
                    self.assertIn("\n  " + cmd, r.stdout)
                self.assertEqual(r.stderr, "")

    def test_command_help_is_0_on_stdout(self):
        for cmd in ("send", "ask", "actors", "ls", "inspect", "stats",
                    "help"):
            for args in ([cmd, "--help"], ["help", cmd], [cmd, "-h"]):
                with self.subTest(args=args):
                    r = self.troupe(*args)
                    self.assertExit(r, 0)
                    self.assertTrue(r.stdout.startswith("usage: troupe"))
                    self.assertEqual(r.stderr, "")

    def test_help_wins_over_missing_args(self):
        r = self.troupe("send", "--help")
        self.assertExit(r, 0)
        self.assertIn("send ACTOR[@NODE] JSON", r.stdout)


if __name__ == "__main__":
    unittest.main()
