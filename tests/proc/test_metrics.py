"""Step 6: Prometheus exposition on node.metrics, checked by a strict
parser of the text format (0.0.4), with counters moving as messages flow.
Ports 17481-17489 belong to these tests."""
import math
import os
import re
import signal
import time
import urllib.error
import urllib.request

from troupetest import Broker, BrokerTest

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
        raise ValueError("bad value %r" % text)
    return float(text)


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels at %r" % text[pos:])
        if m.group(1) in labels:
            raise ValueError("duplicate label %s" % m.group(1))
        labels[m.group(1)] = m.group(2)
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError("expected ',' in %r" % text)
            pos += 1
    return labels


def parse_exposition(text):
    """Returns {(name, frozenset(labels)): value}; raises ValueError on
    anything the text format 0.0.4 does not allow (strictly: HELP and
    TYPE before a family's samples, one TYPE per family, a family's
    samples together, no duplicate series)."""
    if not text.endswith("\n"):
        raise ValueError("exposition must end with a newline")
    samples, typed, helped, done, current = {}, {}, set(), set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not NAME.match(parts[2]):
                raise ValueError("line %d: bad comment %r" % (n, line))
            name = parts[2]
            if name in done:
                raise ValueError("line %d: family %s split" % (n, name))
            if parts[1] == "TYPE":
                if name in typed or parts[3] not in TYPES:
                    raise ValueError("line %d: bad TYPE" % n)
                typed[name] = parts[3]
            else:
                if name in helped:
                    raise ValueError("line %d: second HELP" % n)
                helped.add(name)
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        if line.startswith("#") or line == "":
            raise ValueError("line %d: unexpected %r" % (n, line))
        m = re.fullmatch(r"([^{ ]+)(\{(.*)\})? (\S+)( -?\d+)?", line)
        if not m or not NAME.match(m.group(1)):
            raise ValueError("line %d: bad sample %r" % (n, line))
        name = m.group(1)
        if name != current or name not in typed:
            raise ValueError("line %d: %s without its HELP/TYPE" %
                             (n, name))
        labels = frozenset(parse_labels(m.group(3) or "").items())
        if (name, labels) in samples:
            raise ValueError("line %d: duplicate series" % n)
        v = parse_value(m.group(4))
        if typed[name] == "counter" and (v < 0 or math.isnan(v)):
            raise ValueError("line %d: bad counter value" % n)
        samples[(name, labels)] = v
    return samples


def metric(samples, name, **labels):
    want = frozenset(labels.items())
    for (n, ls), v in samples.items():
        if n == name and want <= ls:
            return v
    raise KeyError("%s%r not exported" % (name, labels))


class TestParser(BrokerTest):
    def test_parser_rejects_what_it_must(self):
        ok = "# HELP a x\n# TYPE a counter\na{n=\"1\"} 3\n"
        self.assertEqual(len(parse_exposition(ok)), 1)
        for bad in ["a 1\n", "# TYPE a counter\na 1",
                    "# HELP a x\n# TYPE a counter\na{n=1} 3\n",
                    "# HELP a x\n# TYPE a counter\na -1\n",
                    "# HELP a x\n# TYPE a gauge\na one\n",
                    "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",
                    "# HELP a x\n# TYPE a gauge\na 1\na 2\n"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_exposition(bad)


class TestMetrics(BrokerTest):
    PORT = 17481

    def scrape(self, port):
        url = "http://127.0.0.1:%d/metrics" % port
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("text/plain; version=0.0.4",
                          r.headers["Content-Type"])
            return parse_exposition(r.read().decode("utf-8"))

    def wait_metric(self, port, pred, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            s = self.scrape(port)
            if pred(s):
                return s
            self.assertLess(time.time(), deadline, "metrics never moved")
            time.sleep(0.1)

    def test_valid_exposition_and_counters_move(self):
        port = self.PORT
        b = self.start(args=["--set", "node.metrics=http://127.0.0.1:%d"
                             "/metrics" % port])
        def echo_running(s):
            try:
                return metric(s, "troupe_actor_state", actor="echo",
                              state="running") == 1
            except KeyError:
                return False
        # the page is rendered every 500 ms: the first one may still
        # show the actors starting
        s = self.wait_metric(port, echo_running)
        self.assertEqual(metric(s, "troupe_actor_received_total",
                                actor="counter", node="t1"), 0)
        for _ in range(5):
            b.cli("send", "counter", '{"n":1}')
        b.cli("ask", "echo", "1")
        s = self.wait_metric(port, lambda s: metric(
            s, "troupe_actor_acknowledged_total", actor="counter") == 5)
        self.assertEqual(metric(s, "troupe_actor_received_total",
                                actor="counter"), 5)
        self.assertGreaterEqual(metric(s, "troupe_routed_total"), 6)
        self.assertGreaterEqual(metric(s, "troupe_asks_total"), 1)
        self.assertEqual(metric(s, "troupe_actor_mailbox_depth",
                                actor="counter"), 0)
        self.assertEqual(metric(s, "troupe_tap_records_total"), 0)

    def test_restarts_are_counted(self):
        port = self.PORT + 1
        b = self.start(args=["--set", "node.metrics=http://127.0.0.1:%d"
                             "/metrics" % port])
        os.kill(b.actors()["echo"]["pid"], signal.SIGKILL)
        self.wait_metric(port, lambda s: metric(
            s, "troupe_actor_restarts_total", actor="echo") >= 1)

    def test_pool_and_topic_series(self):
        port = self.PORT + 4
        conf = ("[node]\nname = t1\nmetrics = http://127.0.0.1:%d/metrics\n"
                "\n[actor w]\nexec = troupe-sink\ninstances = 3\n"
                "subscribe = jobs.*\n\n[actor c]\nexec = troupe-counter\n"
                "subscribe = jobs.>, x\n" % port)
        b = self.start(conf)
        for t in ("jobs.a", "jobs.a.b", "nobody"):
            b.cli("publish", t, "1")
        s = self.wait_metric(port, lambda s: metric(
            s, "troupe_actor_acknowledged_total", actor="w") == 1 and
            metric(s, "troupe_actor_acknowledged_total", actor="c") == 2)
        self.assertEqual(metric(s, "troupe_pool_instances", actor="w"), 3)
        self.assertEqual(metric(s, "troupe_pool_running", actor="w"), 3)
        self.assertEqual(metric(s, "troupe_subscription_copies_total",
                                topic="jobs.*"), 1)
        self.assertEqual(metric(s, "troupe_subscription_copies_total",
                                topic="jobs.>"), 2)
        self.assertEqual(metric(s, "troupe_subscription_copies_total",
                                topic="x"), 0)
        self.assertEqual(metric(s, "troupe_published_total"), 3)
        self.assertEqual(metric(s, "troupe_actor_state", actor="w#2",
                                state="running"), 1)
        self.assertNotIn("nobody", str(s), "published names are no label")

    def test_off_unless_configured(self):
        port = self.PORT + 2
        self.start()
        with self.assertRaises(urllib.error.URLError):
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                   timeout=2)

    def test_port_in_use_fails_start_clearly(self):
        port = self.PORT + 3
        self.start(args=["--set", "node.metrics=http://127.0.0.1:%d"
                         "/metrics" % port])
        b2 = Broker(args=["--set", "node.metrics=http://127.0.0.1:%d"
                          "/metrics" % port], node="t2")
        self.addCleanup(b2.cleanup)
        self.assertNotEqual(b2.proc.wait(20), 0)
        self.assertIn("cannot serve metrics", b2.logtext())
