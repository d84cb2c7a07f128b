"""Step 6: `make install` into a DESTDIR, an actor built out of tree
against the installed header and `pkg-config --cflags --libs troupe`,
the man pages lint clean, and `make uninstall` removes every file."""
import os
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
                    "share/man/man1/troupe.1", "share/man/man5/troupe.conf.5",
                    "share/man/man8/trouped.8",
                    "share/troupe/troupe.conf.example",
                    "share/troupe/examples/upper.py",
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

    def test_man_pages_lint_clean(self):
        pages = [self.path(p) for p in ["share/man/man1/troupe.1",
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

