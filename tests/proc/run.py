#!/usr/bin/env python3
"""Runs the process tests (unittest discover, verbose) and then fails the
run when a process it started outlived it.

Every process the suite starts inherits TROUPE_TEST_RUN=<random> from
this runner (and TROUPE_TEST_ID=<the test running when it started>):
after the last test, whatever still carries this run's mark in
/proc/PID/environ (double-forked daemons included) is listed, killed by
pid, and the run exits 1.  Other runs on the same machine have marks of
their own and are left alone.

The tests use fixed loopback ports and multicast groups, which are the
machine's, not the checkout's: a run holds an flock on LOCK_PATH for
its duration, so a second run on the machine (another checkout, another
user) waits for the first instead of failing on "address in use".

  python3 tests/proc/run.py [-s DIR] [-p PATTERN] [-k SUBSTRING]...
"""
import argparse
import errno
import fcntl
import os
import sys
import time
import unittest
import uuid

from troupetest import kill_pids, marked_pids

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_MARK = "TROUPE_TEST_RUN"
TEST_MARK = "TROUPE_TEST_ID"
LOCK_PATH = os.environ.get("TROUPE_TEST_LOCK", "/tmp/troupe-test-ports.lock")
# actors killed with SIGKILL or by PDEATHSIG a moment ago may still be on
# their way out when the last test returns
GRACE_S = 3.0


class MarkingResult(unittest.TextTestResult):
    """Marks the environment with the id of the test that starts, so
    what leaks can be traced to the test that started it."""

    def startTest(self, test):
        os.environ[TEST_MARK] = test.id()
        super().startTest(test)

    def stopTest(self, test):
        # class and module fixtures run between tests
        os.environ[TEST_MARK] = "a fixture after " + test.id()
        super().stopTest(test)


def open_lock(path):
    """The lock file, read-only (enough for flock): a file another user
    created in sticky /tmp may not be opened with O_CREAT."""
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.fchmod(fd, 0o644)
        return fd
    except FileExistsError:
        return os.open(path, os.O_RDONLY)


def take_lock(path, out):
    """Holds the machine's test-port lock (released when we exit);
    says so when another run holds it."""
    fd = open_lock(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
    out.write("waiting for another test run on this machine (it holds "
              "%s: the test ports are shared)\n" % path)
    out.flush()
    t0 = time.time()
    fcntl.flock(fd, fcntl.LOCK_EX)
    out.write("got %s after %.0f s\n" % (path, time.time() - t0))
    out.flush()
    return fd


def describe(pid):
    """'cmdline (started in TEST)' of pid, from /proc."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = dict(x.split(b"=", 1) for x in f.read().split(b"\0")
                       if b"=" in x)
    except OSError:
        return "(gone)"
    test = env.get(TEST_MARK.encode(), b"a fixture before the first test")
    return "%s (started in %s)" % (cmd.strip(), test.decode())


def leftovers(mark, grace):
    """Pids of this run that are still alive after grace seconds."""
    deadline = time.time() + grace
    pids = marked_pids(RUN_MARK, mark)
    while pids and time.time() < deadline:
        time.sleep(0.1)
        pids = marked_pids(RUN_MARK, mark)
    return pids


def guard(mark, out):
    """Reports, kills and counts the processes that outlived the run."""
    pids = leftovers(mark, GRACE_S)
    for pid in pids:
        out.write("LEAK: pid %d outlived the test run: %s\n" %
                  (pid, describe(pid)))
    kill_pids(pids)
    if pids:
        out.write("process guard: FAILED, %d process(es) of this run "
                  "were still running after it (killed by pid)\n" %
                  len(pids))
    else:
        out.write("process guard: ok, no process of this run outlived "
                  "it\n")
    out.flush()
    return len(pids)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-s", "--start", default=HERE,
                   help="directory to discover in (tests/proc)")
    p.add_argument("-p", "--pattern", default="test_*.py")
    p.add_argument("-k", dest="names", action="append", default=[],
                   help="only tests whose name matches (as unittest -k)")
    a = p.parse_args(argv)
    if RUN_MARK not in os.environ:      # a run inside a run: it has it
        take_lock(LOCK_PATH, sys.stderr)
    mark = uuid.uuid4().hex
    os.environ[RUN_MARK] = mark
    loader = unittest.TestLoader()
    if a.names:
        loader.testNamePatterns = ["*%s*" % n for n in a.names]
    ok = False
    try:
        suite = loader.discover(a.start, a.pattern)
        runner = unittest.TextTestRunner(verbosity=2,
                                         resultclass=MarkingResult)
        ok = runner.run(suite).wasSuccessful()
    finally:
        os.environ.pop(TEST_MARK, None)
        leaked = guard(mark, sys.stderr)
    return 0 if ok and not leaked else 1


if __name__ == "__main__":
    sys.exit(main())
