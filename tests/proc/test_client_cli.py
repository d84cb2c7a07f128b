"""The CLI on client links (issue 15): `troupe send ACTOR -` streams stdin
on one link and prints one id per accepted line in input order, stops
at the first failure and accounts for every line it read (stdout or a
stderr line naming it); `troupe send -` and `troupe ask -` are a
JSON-lines co-process that answers each line as its result comes, even
to a writer that waits for every answer; `troupe bench` is asynchronous
on client links unless --sync."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading

from troupetest import BrokerTest, binpath, wait_for

SUMMARY = re.compile(r"^troupe: (\d+) of (\d+) lines accepted "
                     r"\(read up to line (\d+)\)$")
FAILED = re.compile(r"^troupe: line (\d+): (.*)$")


def lines(n, start=0):
    return "".join('{"n":%d}\n' % i for i in range(start, start + n))


def logger_conf(path):
    return ("[actor logger]\nexec = troupe-logger %s\n"
            "[actor sink]\nexec = troupe-sink\n" % path)


def reject_conf(sleep_us):
    return ("[actor slow]\nexec = troupe-sink --sleep-us %d\nmailbox = 20\n"
            "inflight = 4\noverflow = reject\n" % sleep_us)


def stalled_conf():
    return ("[actor slow]\nexec = troupe-sink --sleep-us 10000000\n"
            "mailbox = 4\ninflight = 1\noverflow = block\n")


def parse_stderr(test, text):
    """({line: why} of the failed lines, (accepted, read, read_up_to))
    from a failed stream's stderr: failed lines, then the summary last."""
    err = text.splitlines()
    test.assertTrue(err, "no stderr")
    m = SUMMARY.match(err[-1])
    test.assertIsNotNone(m, text)
    failed = {}
    for line in err[:-1]:
        f = FAILED.match(line)
        test.assertIsNotNone(f, "not a failed-line line: %r" % line)
        test.assertNotIn(int(f.group(1)), failed)
        failed[int(f.group(1))] = f.group(2)
    return failed, tuple(int(g) for g in m.groups())


class TestStream(BrokerTest):
    def test_ten_thousand_ids_in_input_order(self):
        """Each printed id is the id the actor saw with that very line."""
        log = os.path.join(self.id_dir(), "logger.jsonl")
        b = self.start(logger_conf(log))
        r = b.cli("send", "logger", "-", input=lines(10000))
        self.assertEqual(r.stderr, "")
        ids = [int(x) for x in r.stdout.split()]
        self.assertEqual(len(ids), 10000)

        def logged():
            with open(log) as f:
                return [json.loads(x) for x in f]
        self.assertTrue(wait_for(lambda: len(logged()) >= 10000, 30))
        body_of = {e["id"]: e["body"]["n"] for e in logged()}
        self.assertEqual(len(body_of), 10000)
        self.assertEqual([body_of[i] for i in ids], list(range(10000)))

    def test_bad_json_at_line_k_exits_65(self):
        k = 5000
        text = lines(k - 1) + '{"n": oops}\n' + lines(10000 - k, k)
        b = self.start()
        r = b.cli("send", "sink", "-", input=text, check=False)
        self.assertEqual(r.returncode, 65, r.stderr)
        failed, (ok, read, upto) = parse_stderr(self, r.stderr)
        self.assertEqual(list(failed), [k])
        self.assertIn("invalid JSON", failed[k])
        # the bad line is seen when read: nothing after it is sent
        self.assertEqual((ok, read, upto), (k - 1, k, k))
        ids = [int(x) for x in r.stdout.split()]
        self.assertEqual(len(ids), k - 1)
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(b.actors()["sink"]["received"], k - 1)

    def test_json_form_one_object_per_line_read(self):
        b = self.start()
        r = b.cli("--json", "send", "sink", "-", check=False,
                  input='1\n2\n{"n":\n4\n')
        self.assertEqual(r.returncode, 65)
        out = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual([o["line"] for o in out], [1, 2, 3])
        self.assertEqual(out[2]["code"], 4)
        self.assertIn("invalid JSON", out[2]["error"])
        self.assertLess(out[0]["id"], out[1]["id"])

    def test_rejected_lines_all_accounted_for(self):
        """A reject mailbox of 20 and a slow consumer: every line read is
        either printed (accepted) or named on stderr, and the actor got
        exactly the accepted ones."""
        b = self.start(reject_conf(200))
        r = b.cli("send", "slow", "-", input=lines(10000), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        failed, (ok, read, upto) = parse_stderr(self, r.stderr)
        self.assertEqual(read, upto)
        self.assertGreater(len(failed), 0)
        for why in failed.values():
            self.assertIn("full", why)
        ids = [int(x) for x in r.stdout.split()]
        self.assertEqual(len(ids), ok)
        self.assertEqual(ids, sorted(set(ids)))
        # one link, one id per line sent: line K has id ids[0] + K - 1
        accepted = {i - ids[0] + 1 for i in ids}
        self.assertEqual(accepted & set(failed), set())
        self.assertEqual(accepted | set(failed), set(range(1, read + 1)))
        self.assertLess(read, 10000, "the failure did not stop reading")

        def inspect():
            return json.loads(b.cli("inspect", "slow", "--json").stdout)
        self.assertTrue(wait_for(lambda: inspect()["mailbox"] == 0, 30))
        a = inspect()
        self.assertEqual(a["received"], ok)
        self.assertEqual(a["rejected"], len(failed))

    def test_no_result_within_timeout_exits_75(self):
        b = self.start(stalled_conf())
        r = b.cli("send", "slow", "-", "--timeout", "1s", input=lines(20),
                  check=False)
        self.assertEqual(r.returncode, 75, r.stderr)
        failed, (ok, read, _) = parse_stderr(self, r.stderr)
        self.assertEqual(read, 20)
        self.assertEqual(ok + len(failed), 20)
        self.assertGreater(ok, 0)
        for why in failed.values():
            self.assertIn("timed out after 1s", why)

    def id_dir(self):
        d = tempfile.mkdtemp(prefix="troupe-cc-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


class TestCoprocess(BrokerTest):
    def test_unknown_actor_at_line_k_fails_that_line_only(self):
        k, n = 777, 10000
        text = "".join(json.dumps({"to": "nosuch" if i == k else "sink",
                                   "body": {"n": i}, "id": "x%d" % i}) +
                       "\n" for i in range(1, n + 1))
        b = self.start()
        r = b.cli("send", "-", input=text, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        out = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(sorted(o["line"] for o in out),
                         list(range(1, n + 1)))
        for o in out:
            self.assertEqual(o["id"], "x%d" % o["line"])
            if o["line"] == k:
                self.assertEqual((o["ok"], o["code"]), (False, 1), o)
                self.assertIn("nosuch", o["error"])
            else:
                self.assertTrue(o["ok"], o)
                self.assertIsInstance(o["msg_id"], int)
        self.assertEqual(b.actors()["sink"]["received"], n - 1)

    def test_bad_lines_get_code_4_and_it_goes_on(self):
        b = self.start()
        r = b.cli("ask", "-", check=False, input="\n".join([
            '{"to":"echo","body":[1,2],"id":1}', "nope", '{"body":1}',
            '{"to":"echo","bdy":1}', "", '{"to":"echo","id":6}']) + "\n")
        self.assertEqual(r.returncode, 1)
        out = {o["line"]: o for o in map(json.loads, r.stdout.splitlines())}
        self.assertEqual(sorted(out), [1, 2, 3, 4, 5, 6])
        self.assertEqual(out[1]["reply"], [1, 2])
        self.assertEqual(out[6], {"line": 6, "id": 6, "ok": True,
                                  "reply": None})
        for k in (2, 3, 4, 5):
            self.assertEqual((out[k]["ok"], out[k]["code"]), (False, 4))

    def lockstep(self, mode, to, rounds=200):
        """Writes a line, reads its answer, again: a co-process that held
        answers back until more input came would hang here (the timer
        kills it and the read sees EOF)."""
        b = self.start()
        p = subprocess.Popen([binpath("troupe"), mode, "-"], env=b.env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, bufsize=1)
        timer = threading.Timer(30, p.kill)
        timer.start()
        self.addCleanup(timer.cancel)
        try:
            for i in range(rounds):
                p.stdin.write(json.dumps({"to": to, "body": {"i": i},
                                          "id": i}) + "\n")
                p.stdin.flush()
                line = p.stdout.readline()
                self.assertTrue(line, "no answer to line %d" % (i + 1))
                a = json.loads(line)
                self.assertEqual((a["line"], a["id"], a["ok"]),
                                 (i + 1, i, True), a)
                if mode == "ask":
                    self.assertEqual(a["reply"], {"i": i})
            p.stdin.close()
            self.assertEqual(p.wait(10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        return b

    def test_send_lockstep(self):
        b = self.lockstep("send", "sink")
        self.assertEqual(b.actors()["sink"]["received"], 200)

    def test_ask_lockstep(self):
        self.lockstep("ask", "echo")


class TestBenchFlow(BrokerTest):
    def test_async_by_default_and_sync(self):
        b = self.start()
        r = b.cli("bench", "send", "sink", "--count", "3000")
        self.assertIn("send sink: 3000 msgs of 128 B, 1 sender, async",
                      r.stdout)
        r = b.cli("--json", "bench", "send", "sink", "--count", "300",
                  "--sync")
        j = json.loads(r.stdout)
        self.assertEqual((j["mode"], j["flow"], j["count"]),
                         ("send", "sync", 300))
        r = b.cli("--json", "bench", "ask", "echo", "--count", "500",
                  "--senders", "2")
        j = json.loads(r.stdout)
        self.assertEqual((j["mode"], j["flow"], j["senders"]),
                         ("ask", "async", 2))
        self.assertLessEqual(j["p50_us"], j["max_us"])
        a = b.actors()
        self.assertEqual(a["sink"]["received"], 3300)
        self.assertEqual(a["echo"]["delivered"], 500)
        r = b.cli("bench", "send", "sink", "--sync=1", check=False)
        self.assertEqual(r.returncode, 64)


if __name__ == "__main__":
    import unittest
    unittest.main()
