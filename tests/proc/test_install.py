"""Step 6: `make install` into a DESTDIR, an actor built out of tree
against the installed header and `pkg-config --cflags --libs troupe`,
the installed example client (share/troupe/examples/client.c) and
troupe(3)'s EXAMPLES built the same way (and statically) and run against
a real trouped, the man pages lint clean, and `make uninstall` removes
every file."""
import os
import re
import shutil
import subprocess
import tempfile

from troupetest import BIN, BrokerTest

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
PREFIX = "/usr/local"

ACTOR_C = r'''
#include <troupe.h>

static void
on_msg(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct troupe_body b;

	if (msg->m_kind != TROUPE_ASK)
		return;
	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "installed");
	troupe_body_bool(&b, true);
	troupe_body_str(&b, "got");
	troupe_body_object(&b, &msg->m_obj);
	troupe_reply(ctx, msg, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
}

int
main(void)
{
	static const struct troupe_actor_ops ops = { .receive = on_msg };

	return troupe_actor_main(&ops, NULL);
}
'''


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       **kw)
    if r.returncode != 0:
        raise AssertionError("%s -> %d\n%s%s" % (" ".join(cmd),
                             r.returncode, r.stdout, r.stderr))
    return r


class TestInstall(BrokerTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="troupe-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        cls.build = os.path.dirname(os.path.abspath(BIN))
        cls.make = ["make", "-C", ROOT, "-s", "BUILD=" + cls.build,
                    "PREFIX=" + PREFIX, "DESTDIR=" + cls.dest]
        run(cls.make + ["install"])
        cls.pre = cls.dest + PREFIX

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.pre, rel)

    def test_layout(self):
        for rel in ["bin/trouped", "bin/troupe", "bin/troupe-echo",
                    "bin/troupe-stdio", "lib/libtroupe.a",
                    "lib/libtroupe.so.1", "include/troupe/troupe.h",
                    "include/troupe/tp_err.h", "lib/pkgconfig/troupe.pc",
                    "share/man/man1/troupe.1", "share/man/man3/troupe.3",
                    "share/man/man5/troupe.conf.5",
                    "share/man/man8/trouped.8",
                    "share/troupe/troupe.conf.example",
                    "share/troupe/examples/upper.py",
                    "share/troupe/examples/client.c",
                    "share/troupe/examples/client.py",
                    "lib/systemd/system/trouped.service"]:
            self.assertTrue(os.path.isfile(self.path(rel)), rel)
        self.assertEqual(os.readlink(self.path("lib/libtroupe.so")),
                         "libtroupe.so.1")
        if shutil.which("readelf"):
            d = run(["readelf", "-d", self.path("lib/libtroupe.so.1")])
            self.assertIn("[libtroupe.so.1]", d.stdout)
        with open(self.path("lib/systemd/system/trouped.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=%s/bin/trouped" % PREFIX, unit)
        self.assertIn("Type=notify", unit)
        # the example config is a valid config
        run([self.path("bin/trouped"), "--check-config", "-c",
             self.path("share/troupe/troupe.conf.example")])

    def pkg_env(self):
        return dict(os.environ,
                    PKG_CONFIG_PATH=self.path("lib/pkgconfig"),
                    PKG_CONFIG_SYSROOT_DIR=self.dest)

    def test_actor_builds_against_installed_header_and_runs(self):
        flags = run(["pkg-config", "--cflags", "--libs", "troupe"],
                    env=self.pkg_env()).stdout.split()
        self.assertIn("-I%s%s/include/troupe" % (self.dest, PREFIX), flags)
        src = os.path.join(self.tmp, "my_actor.c")
        exe = os.path.join(self.tmp, "my-actor")
        with open(src, "w") as f:
            f.write(ACTOR_C)
        # -nostdinc would be too strict for libc; the tree's own include
        # dirs are simply never named, so only the installed header works
        # the tree's include dirs are never named: only the installed
        # header can satisfy <troupe.h>; rpath finds the installed .so
        # a sanitizer build installs a sanitized libtroupe: its users
        # must link the sanitizer runtime first
        san = (["-fsanitize=address,undefined"]
               if os.environ.get("TROUPE_SANITIZE") else [])
        run(["cc", "-std=gnu11", "-Wall", "-Werror", "-o", exe, src] +
            san + flags + ["-Wl,-rpath," + self.path("lib")], cwd=self.tmp)
        b = self.start("[actor mine]\nexec = %s\n" % exe)
        r = b.cli("ask", "mine", '{"x":1}')
        self.assertEqual(r.stdout.strip(), '{"installed":true,"got":{"x":1}}')
        ldd = run(["ldd", exe]).stdout
        self.assertIn(self.path("lib/libtroupe.so.1"), ldd)

    def compile(self, src, exe, static=False):
        """src built out of tree as troupe(3) says: the installed header
        and `pkg-config --cflags --libs troupe` (rpath to the installed
        .so), or with --static and libtroupe.a named instead of -ltroupe,
        which proves that troupe.pc's private flags are complete."""
        pc = ["pkg-config", "--cflags", "--libs", "troupe"]
        flags = run(pc + (["--static"] if static else []),
                    env=self.pkg_env()).stdout.split()
        if static:
            self.assertIn("-ltroupe", flags)
            flags = ["-l:libtroupe.a" if f == "-ltroupe" else f
                     for f in flags]
        san = (["-fsanitize=address,undefined"]
               if os.environ.get("TROUPE_SANITIZE") else [])
        run(["cc", "-Wall", "-Wextra", "-Werror", "-o", exe, src] + san +
            flags + ["-Wl,-rpath," + self.path("lib")], cwd=self.tmp)
        ldd = run(["ldd", exe]).stdout
        if static:
            self.assertNotIn("libtroupe", ldd)
        else:
            self.assertIn(self.path("lib/libtroupe.so.1"), ldd)
        return exe

    def client(self, b, exe, *args):
        return subprocess.run([exe] + list(args), env=b.env, text=True,
                              capture_output=True, timeout=60)

    def test_example_client_builds_and_runs(self):
        """The installed client.c, dynamic and static, against the
        built-in configuration's sink and echo: every result ok, the
        sink got them all, echo's reply printed as JSON; then a refusal
        per message and no broker at all, each with its exit status."""
        src = self.path("share/troupe/examples/client.c")
        exes = [self.compile(src, os.path.join(self.tmp, "client")),
                self.compile(src, os.path.join(self.tmp, "client-static"),
                           static=True)]
        b = self.start()
        for exe, n in zip(exes, (1000, 300)):
            r = self.client(b, exe, "-n", str(n))
            self.assertEqual((r.returncode, r.stderr), (0, ""), exe)
            m = re.fullmatch(r"client (cli-\d+) on node t1\n"
                             r"sent %d to sink: %d ok, 0 failed\n"
                             r'echo replied: \{"hello":"(cli-\d+)",'
                             r'"sent":%d\}\n' % (n, n, n), r.stdout)
            self.assertIsNotNone(m, r.stdout)
            self.assertEqual(m.group(1), m.group(2))
        self.assertEqual(b.actors()["sink"]["received"], 1300)
        r = self.client(b, exes[0], "-a", "nosuch", "-n", "5")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("sent 5 to nosuch: 0 ok, 5 failed\n", r.stdout)
        self.assertEqual(r.stderr, "client: message 1: unknown actor "
                         "'nosuch' (code 1)\n")
        r = self.client(b, exes[0], "ipc://" + self.tmp + "/none.sock")
        self.assertEqual((r.returncode, r.stdout), (69, ""))
        self.assertRegex(r.stderr, r"^client: cannot reach the broker at "
                         r"ipc://.*/none.sock: .*\n$")
        r = self.client(b, exes[0], "-n", "many")
        self.assertEqual((r.returncode, r.stdout), (64, ""))
        self.assertTrue(r.stderr.startswith("usage: client"), r.stderr)

    def test_man_page_example_builds_and_runs(self):
        """troupe(3)'s EXAMPLES program, cut out of the installed page."""
        with open(self.path("share/man/man3/troupe.3")) as f:
            page = f.read()
        blocks = re.findall(r"^\.Bd -literal -offset indent\n(.*?)^\.Ed$",
                            page, re.S | re.M)
        progs = [x for x in blocks if "main(void)" in x]
        self.assertEqual(len(progs), 1)
        src = os.path.join(self.tmp, "man_example.c")
        with open(src, "w") as f:
            f.write(progs[0].replace("\\e", "\\"))
        exe = self.compile(src, os.path.join(self.tmp, "man-example"))
        b = self.start()
        r = self.client(b, exe)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, '"hello"\n', ""))
        self.assertEqual(b.actors()["sink"]["received"], 1000)

    def test_man_pages_lint_clean(self):
        pages = [self.path(p) for p in ["share/man/man1/troupe.1",
                                        "share/man/man3/troupe.3",
                                        "share/man/man5/troupe.conf.5",
                                        "share/man/man8/trouped.8"]]
        for p in pages:
            r = run(["groff", "-ww", "-mandoc", "-z", p])
            self.assertEqual(r.stderr, "", p)
            r = run(["man", "-l", p], env=dict(os.environ, MANWIDTH="80",
                                               MANPAGER="cat"))
            self.assertEqual(r.stderr, "", p)
            self.assertGreater(len(r.stdout), 500)
        if not shutil.which("mandoc"):
            self.skipTest("mandoc not installed (apt-get install mandoc)")
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning"] + pages,
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_uninstall_removes_every_file(self):
        dest = os.path.join(self.tmp, "dest2")
        mk = [a.replace(self.dest, dest) for a in self.make]
        run(mk + ["install"])
        run(mk + ["uninstall"])
        left = [os.path.join(d, f) for d, _, fs in os.walk(dest)
                for f in fs]
        self.assertEqual(left, [])

