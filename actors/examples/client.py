#!/usr/bin/env python3
"""client.py — a troupe client in Python 3 (standard library only).

Any language that can start a process and read and write lines can be a
troupe client: `troupe ask -` and `troupe send -` run as long-lived
co-processes on one client link each (troupe(1), troupe(3)).  Each line
written to their stdin is one request,

    {"to": "ACTOR[@NODE]", "body": <any JSON>, "id": <any JSON>}

and each gets exactly one line back on stdout as soon as its result is
known (so in completion order, not input order), with the "id" echoed:

    ask:  {"line": K, "id": ..., "ok": true, "reply": <JSON>}
    send: {"line": K, "id": ..., "ok": true, "msg_id": N}
    both: {"line": K, "id": ..., "ok": false, "error": "...", "code": C}

At end of input the co-process waits for what is in flight and exits 0
when every request succeeded, else 1 (or the CLI's usual status when it
could not start: 69 no broker, 77 not admitted...).

This example asks echo three questions at once and matches the answers
by id, then sends COUNT messages to ACTOR without waiting for each:

    python3 client.py [-n COUNT] [-a ACTOR] [--broker URL]

The troupe program is $TROUPE, else `troupe` on PATH.  Exit status: 0
every request ok, 1 some failed, 64 usage, or the co-process's own status
when it ended before answering.
"""
import argparse
import json
import os
import subprocess
import sys
import threading


class CoProcessError(Exception):
    def __init__(self, status):
        super().__init__("the troupe co-process ended (exit status %s)"
                         % status)
        self.status = status


class CoProcess:
    """One `troupe ask -` or `troupe send -`.  submit() writes a request
    and returns its id; wait(id) returns its answer line, decoded.  A
    reader thread takes the answers as they come, so writing never waits
    on a co-process that is itself waiting for its stdout to be read."""

    def __init__(self, mode, troupe, options=()):
        self.proc = subprocess.Popen(
            [troupe] + list(options) + [mode, "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            bufsize=1)  # stderr is ours: the CLI's own error lines show
        self.answers = {}
        self.done = False
        self.next_id = 0
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            answer = json.loads(line)
            with self.cond:
                self.answers[answer["id"]] = answer
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def submit(self, to, body):
        self.next_id += 1
        line = json.dumps({"to": to, "body": body, "id": self.next_id})
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise CoProcessError(self.proc.wait()) from None
        return self.next_id

    def wait(self, request_id):
        with self.cond:
            self.cond.wait_for(lambda: request_id in self.answers or
                               self.done)
            if request_id not in self.answers:
                raise CoProcessError(self.proc.wait())
            return self.answers.pop(request_id)

    def close(self):
        """Ends the input; returns the co-process's exit status."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.reader.join()
        return self.proc.wait()


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def failure(answer):
    return "%s (code %s)" % (answer.get("error"), answer.get("code"))


def ask_echo(asker):
    """Three asks in flight at once; the answers are matched by id."""
    sent = {asker.submit("echo", {"question": k, "from": "client.py"}): k
            for k in (1, 2, 3)}
    ok = True
    for request_id, k in sent.items():
        answer = asker.wait(request_id)
        if not answer["ok"]:
            print("ask echo %d: %s" % (k, failure(answer)), file=sys.stderr)
            ok = False
        elif answer["reply"].get("question") != k:
            print("ask echo %d: answered %s" % (k, compact(answer["reply"])),
                  file=sys.stderr)
            ok = False
        else:
            print("echo replied: " + compact(answer["reply"]))
    return ok


def send_all(sender, actor, count):
    """COUNT sends written before any answer is read, then the answers."""
    ids = [sender.submit(actor, {"seq": i, "from": "client.py"})
           for i in range(1, count + 1)]
    failed = 0
    for request_id in ids:
        answer = sender.wait(request_id)
        if not answer["ok"]:
            if failed == 0:
                print("send %d to %s: %s" % (request_id, actor,
                      failure(answer)), file=sys.stderr)
            failed += 1
    print("sent %d to %s: %d ok, %d failed" % (count, actor, count - failed,
                                              failed))
    return failed == 0


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("client.py: " + message, file=sys.stderr)
        sys.exit(64)


def main():
    p = Parser(description="troupe client example (JSON-lines co-process)")
    p.add_argument("-n", type=int, default=100, metavar="COUNT",
                   help="messages to send (default 100)")
    p.add_argument("-a", default="sink", metavar="ACTOR",
                   help="actor to send them to (default sink)")
    p.add_argument("--broker", metavar="URL",
                   help="the node's control socket (default: troupe's)")
    a = p.parse_args()
    if a.n < 0:
        p.error("COUNT must be 0 or more")
    troupe = os.environ.get("TROUPE", "troupe")
    options = ["--broker", a.broker] if a.broker else []
    try:
        asker = CoProcess("ask", troupe, options)
        sender = CoProcess("send", troupe, options)
    except OSError as e:
        print("client.py: cannot run %s: %s" % (troupe, e.strerror),
              file=sys.stderr)
        return 69
    try:
        ok = ask_echo(asker)
        ok = send_all(sender, a.a, a.n) and ok
    except CoProcessError as e:
        print("client.py: " + str(e), file=sys.stderr)
        asker.close()
        sender.close()
        return e.status or 1
    statuses = (asker.close(), sender.close())
    return 0 if ok and statuses == (0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
