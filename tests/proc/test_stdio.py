"""Step 6: actors in any language through troupe-stdio (JSON lines)."""
import json
import os
import shutil
import signal
import tempfile
import time

from troupetest import BrokerTest, children_of

HERE = os.path.dirname(os.path.abspath(__file__))
UPPER = os.path.normpath(os.path.join(HERE, "..", "..", "actors",
                                      "examples", "upper.py"))

# A program that misbehaves before it answers: an invalid line, a line
# over the shim's --max-line, a JSON array, a reply to a message it is
# not handling; then the real answer.
NOISY = r'''
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    out = sys.stdout
    out.write("this is not json\n")
    out.write('{"to":"echo","body":"' + "x" * 5000 + '"}\n')
    out.write("[1,2,3]\n")
    out.write('{"reply_to":999999,"body":1}\n')
    out.write(json.dumps({"reply_to": m["id"], "body": m["body"]}) + "\n")
    out.flush()
'''


def conf(exec_line):
    return "[actor echo]\nexec = troupe-echo\n" \
           "[actor py]\nexec = %s\n" % exec_line


class TestStdio(BrokerTest):
    def py_pid(self, b):
        """The python process: the shim's only child."""
        shim = b.actors()["py"]["pid"]
        deadline = time.time() + 10
        while time.time() < deadline:
            kids = children_of(shim)
            if kids:
                b.actor_pids.update(kids)
                return shim, kids[0]
            time.sleep(0.05)
        self.fail("no python child under the shim")

    def test_python_actor_answers_an_ask(self):
        b = self.start(conf("troupe-stdio -- python3 " + UPPER))
        r = b.cli("ask", "py", '{"greeting":"hello","n":[1,"b"]}')
        got = json.loads(r.stdout)
        self.assertEqual(got["upper"], {"greeting": "HELLO", "n": [1, "B"]})
        self.assertEqual(got["count"], 1)
        # a send is acknowledged once the program says done
        b.cli("send", "py", '"fire"')
        r = b.cli("ask", "py", '"again"')
        self.assertEqual(json.loads(r.stdout)["count"], 3)
        a = b.actors()["py"]
        self.assertEqual(a["acknowledged"], 3)

    def test_python_actor_sends_to_another_actor(self):
        b = self.start(conf("troupe-stdio -- python3 " + UPPER))
        b.cli("send", "py", '{"forward":"echo","x":"y"}')
        deadline = time.time() + 10
        while b.actors()["echo"]["received"] < 1:
            self.assertLess(time.time(), deadline, "echo got nothing")
            time.sleep(0.05)

    def test_kill_9_of_python_restarts_the_actor(self):
        b = self.start(conf("troupe-stdio -- python3 " + UPPER))
        first = json.loads(b.cli("ask", "py", '"a"').stdout)
        shim, py = self.py_pid(b)
        self.assertEqual(first["pid"], py)
        os.kill(py, signal.SIGKILL)
        deadline = time.time() + 15
        while True:
            a = b.actors()["py"]
            if a["restarts"] >= 1 and a["state"] == "running":
                break
            self.assertLess(time.time(), deadline, "no restart: %s" % a)
            time.sleep(0.05)
        self.assertIn("9", a["last_exit"])    # died of the same signal
        again = json.loads(b.cli("ask", "py", '"b"').stdout)
        self.assertEqual(again["upper"], "B")
        self.assertEqual(again["count"], 1)
        self.assertNotEqual(again["pid"], py)
        self.assertNotEqual(b.actors()["py"]["pid"], shim)

    def script(self, text):
        d = tempfile.mkdtemp(prefix="troupe-stdio-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "actor.py")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_bad_and_overlong_lines_are_skipped(self):
        path = self.script(NOISY)
        b = self.start(conf("troupe-stdio --max-line 1024 -- python3 " +
                            path))
        for i in range(3):
            r = b.cli("ask", "py", '{"i":%d}' % i)
            self.assertEqual(json.loads(r.stdout), {"i": i})
        log = b.logtext()
        self.assertIn("invalid JSON", log)
        self.assertIn("too long", log)
        self.assertIn("not a JSON object", log)
        self.assertIn("not the message being handled", log)
        a = b.actors()["py"]
        self.assertEqual((a["restarts"], a["state"]), (0, "running"))
        self.assertEqual(b.actors()["echo"]["received"], 0)

    def test_program_exit_status_is_the_actors(self):
        path = self.script("import sys\nsys.stdin.readline()\n"
                           "sys.exit(7)\n")
        b = self.start(conf("troupe-stdio -- python3 " + path))
        b.cli("send", "py", "1")
        deadline = time.time() + 15
        while "7" not in b.actors()["py"]["last_exit"]:
            self.assertLess(time.time(), deadline, b.actors()["py"])
            time.sleep(0.05)
