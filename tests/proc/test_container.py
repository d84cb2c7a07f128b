"""deploy/ in a real container engine: Debian's docker.io (dockerd
20.10), the image deploy/Dockerfile builds, both compose files under
Debian's docker-compose (v1.29, the only compose Debian 12 has), the
seeds-by-DNS path of deploy/k8s/troupe.yaml between three containers, and
`systemd-analyze verify` of the unit.

No registry is reachable here, so the two base images are made locally
and cached under troupe-test/ (rebuilt only when missing): debian:12 by
`debootstrap --variant=minbase bookworm` + `docker import`, and an
equivalent of gcr.io/distroless/cc-debian12 from the Debian packages that
image is made of (`apt-get download` + `dpkg-deb -x`, passwd/group with
root, nobody and nonroot 65532, no shell).

Skipped with one line when no engine can start (not root, the packages
cannot be installed, dockerd does not come up).  Everything a run creates
(containers, networks, compose projects, temp dirs) carries this run's
name and is removed at the end however the run ends; a dockerd the test
started is stopped by its pid.  One container test runs at a time on a
machine (a lock file): a second waits, so that nobody stops a dockerd
another run is using."""
import atexit
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from troupetest import cluster_formed, terminate
from troupetest import wait_for as poll_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")
UID = 65532

DEBIAN_IMG = "troupe-test/debian:12"
BASE_IMG = "troupe-test/distroless-cc-debian12:equiv"
IMAGE = "troupe-test/troupe:test"
# what gcr.io/distroless/cc-debian12 is made of
DISTROLESS_PKGS = ["base-files", "netbase", "tzdata", "ca-certificates",
                   "libc6", "libgcc-s1", "libssl3", "libgomp1",
                   "libstdc++6"]
ENGINE_PKGS = ["docker.io", "docker-compose", "debootstrap"]
LOCK = "/run/lock/troupe-container-test.lock"
# the pid of a dockerd this test started, so that a later run adopts one
# left by a run that was killed before it could stop it
DOCKERD_PID = "/run/lock/troupe-container-test.dockerd.pid"
RUN = "trt%dx%x" % (os.getpid(), int(time.time()) & 0xffff)
RUN_RE = re.compile(r"^/?trt(\d+)x")
LABEL = "org.troupe.test.run"

STATE = {"dockerd": None, "adopted": None, "lock": None, "tmp": None, "projects": [],
         "why": None}


def log(msg):
    print("\n[container] " + msg, flush=True)


def run(cmd, timeout=300, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s -> %d: %s" % (" ".join(cmd[:4]),
                                             r.returncode,
                                             (r.stderr or r.stdout)[-2000:]))
    return r


def docker_bin():
    # Debian's client matches Debian's daemon; another on PATH may not
    return "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else \
        shutil.which("docker")


def docker(*args, timeout=300, check=True, **kw):
    return run([docker_bin()] + list(args), timeout=timeout, check=check,
               **kw)


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False)
    return "ok installed" in r.stdout


def install_packages(pkgs):
    """apt-get as the Makefile does it; returns why not, or None."""
    missing = [p for p in pkgs if not installed(p)]
    if not missing:
        return None
    log("installing " + " ".join(missing))
    t0 = time.time()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq"] + missing):
        r = run(cmd, timeout=600, check=False, env=env)
        if r.returncode != 0:
            return "cannot install %s: %s" % (
                " ".join(missing), (r.stderr.strip().splitlines() or
                                    ["apt-get failed"])[-1])
    log("installed in %.0f s" % (time.time() - t0))
    return None


def engine_answers():
    return docker_bin() and docker("info", "--format", "{{.ServerVersion}}",
                                   timeout=30, check=False).returncode == 0


def start_dockerd(tmp):
    """dockerd with its default data root (the cached images live there)
    and default iptables NAT, its own pidfile; returns why not, or None."""
    pidfile = DOCKERD_PID
    logf = open(os.path.join(tmp, "dockerd.log"), "w")
    p = subprocess.Popen(["/usr/sbin/dockerd", "--storage-driver=overlay2",
                          "--pidfile", pidfile], stdout=logf,
                         stderr=subprocess.STDOUT, start_new_session=True)
    logf.close()
    STATE["dockerd"] = p
    deadline = time.time() + 60
    while time.time() < deadline:
        if p.poll() is not None:
            break
        if engine_answers():
            log("started dockerd, pid %d" % p.pid)
            return None
        time.sleep(0.5)
    with open(logf.name) as f:
        tail = [l for l in f.read().splitlines() if l.strip()][-1:]
    return "dockerd did not start: %s" % (tail[0][-200:] if tail else "?")


def adopt_dockerd():
    """The pid of a running dockerd that an earlier run of this test
    started (its pidfile, and /proc says it is dockerd), else None."""
    try:
        with open(DOCKERD_PID) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/comm" % pid) as f:
            return pid if f.read().strip() == "dockerd" else None
    except (OSError, ValueError):
        return None


def stop_dockerd():
    p, pid = STATE["dockerd"], STATE.get("adopted")
    if p is not None and p.poll() is None:
        terminate(p, 30)
        log("stopped dockerd, pid %d, exit %s" % (p.pid, p.returncode))
    elif pid is not None:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists("/proc/%d" % pid), 30)
        log("stopped dockerd, pid %d (left by a killed run)" % pid)
    STATE["dockerd"] = STATE["adopted"] = None


def apt_mirror():
    for path in glob.glob("/etc/apt/sources.list.d/debian.sources"):
        with open(path) as f:
            m = re.search(r"^URIs:\s*(\S+/debian)\s*$", f.read(), re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


DEBIAN_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def docker_import(root, tag, changes):
    cmd = [docker_bin(), "import"]
    for c in changes:
        cmd += ["--change", c]
    tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "-cf", "-",
                            "."], stdout=subprocess.PIPE)
    r = subprocess.run(cmd + ["-", tag], stdin=tar.stdout,
                       capture_output=True, text=True, timeout=300)
    tar.stdout.close()
    tar.wait()
    if r.returncode != 0 or tar.returncode != 0:
        raise RuntimeError("docker import %s: %s" % (tag, r.stderr))


def make_debian(tmp):
    root = os.path.join(tmp, "debian")
    run(["debootstrap", "--variant=minbase", "bookworm", root,
         apt_mirror()], timeout=900)
    os.remove(os.path.join(root, "etc/apt/sources.list"))
    with open(os.path.join(root, "etc/apt/sources.list.d/debian.sources"),
              "w") as f:
        f.write(DEBIAN_SOURCES)
    for d in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for p in glob.glob(os.path.join(root, d, "*")):
            if os.path.isfile(p):
                os.remove(p)
    docker_import(root, DEBIAN_IMG, [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
        "/bin", 'CMD ["bash"]'])
    shutil.rmtree(root, ignore_errors=True)


PASSWD = """root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
"""
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"


def make_distroless(tmp):
    """The distroless cc image's contents, from the same Debian packages,
    laid out by dpkg-deb -x (no maintainer scripts run, so the CA bundle
    and the account files are written here as distroless writes them)."""
    debs = os.path.join(tmp, "debs")
    root = os.path.join(tmp, "distroless")
    os.makedirs(debs)
    os.makedirs(root)
    run(["apt-get", "download", "-qq"] + DISTROLESS_PKGS, cwd=debs,
        timeout=600)
    for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        run(["dpkg-deb", "-x", deb, root])
    etc = os.path.join(root, "etc")
    with open(os.path.join(etc, "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(etc, "group"), "w") as f:
        f.write(GROUP)
    with open(os.path.join(etc, "nsswitch.conf"), "w") as f:
        f.write("passwd: files\ngroup: files\nhosts: files dns\n")
    certs = sorted(glob.glob(os.path.join(
        root, "usr/share/ca-certificates/mozilla/*.crt")))
    os.makedirs(os.path.join(etc, "ssl/certs"), exist_ok=True)
    with open(os.path.join(etc, "ssl/certs/ca-certificates.crt"), "w") as f:
        for c in certs:
            with open(c) as cf:
                f.write(cf.read())
    # scripts of the packages that would need a shell to run
    for p in ("usr/sbin/update-ca-certificates", "usr/bin/ldd",
              "usr/bin/tzselect"):
        if os.path.exists(os.path.join(root, p)):
            os.remove(os.path.join(root, p))
    for d, mode, owner in (("tmp", 0o1777, 0), ("root", 0o700, 0),
                           ("home/nonroot", 0o700, UID)):
        os.makedirs(os.path.join(root, d), exist_ok=True)
        os.chmod(os.path.join(root, d), mode)
        os.chown(os.path.join(root, d), owner, owner)
    docker_import(root, BASE_IMG, [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
        "/bin", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"])
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(debs, ignore_errors=True)


def have_image(tag):
    return docker("image", "inspect", tag, check=False,
                  timeout=30).returncode == 0


def ensure_base_images(tmp):
    for tag, make in ((DEBIAN_IMG, make_debian),
                      (BASE_IMG, make_distroless)):
        if have_image(tag):
            continue
        t0 = time.time()
        make(tmp)
        log("made base image %s in %.0f s" % (tag, time.time() - t0))


def build_image():
    t0 = time.time()
    # the legacy builder uses the local base images as they are (BuildKit
    # would ask a registry about them); the host network reaches the
    # archive whatever dockerd's NAT is
    r = docker("build", "--network=host", "-f",
               os.path.join(DEPLOY, "Dockerfile"),
               "--build-arg", "BUILD_IMAGE=" + DEBIAN_IMG,
               "--build-arg", "BASE=" + BASE_IMG, "-t", IMAGE, REPO,
               timeout=900, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    STATE["build_log"] = r.stdout
    size = int(docker("image", "inspect", "-f", "{{.Size}}",
                      IMAGE).stdout)
    log("built %s in %.0f s: image size %.1f MB" % (IMAGE, time.time() - t0,
                                                   size / 1e6))


def take_lock():
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    f = open(LOCK, "a")
    deadline = time.time() + 900
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            STATE["lock"] = f
            return None
        except BlockingIOError:
            if time.time() > deadline:
                f.close()
                return "another container test held %s for 15 min" % LOCK
            time.sleep(1)


def remove_created():
    """Everything of this run: compose projects, then whatever still carries
    the run's label or project name."""
    if not docker_bin() or not engine_answers():
        return
    for proj, files in STATE["projects"]:
        args = ["docker-compose", "-p", proj]
        for f in files:
            args += ["-f", f]
        run(args + ["down", "-v", "--remove-orphans", "-t", "5"],
            check=False, timeout=120, env=compose_env(files[0]))
    for flt in ("label=" + LABEL + "=" + RUN,
                "label=com.docker.compose.project"):
        ids = docker("ps", "-aq", "--filter", flt, check=False).stdout.split()
        if flt.endswith("project"):
            ids = [i for i in ids if docker(
                "inspect", "-f",
                '{{index .Config.Labels "com.docker.compose.project"}}', i,
                check=False).stdout.strip().startswith(RUN)]
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
    for net in docker("network", "ls", "-q", "--filter", "name=" + RUN,
                      check=False).stdout.split():
        docker("network", "rm", net, check=False)


def sweep_dead_runs():
    """Containers and networks of a run whose process is gone (killed
    before its cleanup ran): their names start with its RUN."""
    def dead(name):
        m = RUN_RE.match(name)
        return m and not os.path.exists("/proc/" + m.group(1))
    out = docker("ps", "-a", "--format", "{{.ID}} {{.Names}}",
                 check=False).stdout.split("\n")
    ids = [l.split()[0] for l in out if l.strip() and dead(l.split()[1])]
    if ids:
        docker("rm", "-f", "-v", *ids, check=False)
    out = docker("network", "ls", "--format", "{{.Name}}",
                 check=False).stdout.split()
    for net in [n for n in out if dead(n)]:
        docker("network", "rm", net, check=False)
    if ids:
        log("removed %d containers of killed runs" % len(ids))


def cleanup_all():
    """Idempotent: runs from the module cleanup and again at exit."""
    try:
        remove_created()
    finally:
        stop_dockerd()
        if STATE["tmp"]:
            shutil.rmtree(STATE["tmp"], ignore_errors=True)
            STATE["tmp"] = None
        if STATE["lock"]:
            STATE["lock"].close()
            STATE["lock"] = None


def prepare():
    """Returns why the engine cannot be had, or None once the image is
    built."""
    if os.geteuid() != 0:
        return "needs root (dockerd, apt-get, debootstrap): run make " \
               "test as root"
    if os.environ.get("TROUPE_SANITIZE"):
        return "sanitizer build: the image builds its own plain binaries"
    why = install_packages(ENGINE_PKGS + ["python3-yaml"])
    if why:
        return why
    why = take_lock()
    if why:
        return why
    STATE["tmp"] = tempfile.mkdtemp(prefix="troupe-ctr-")
    os.chmod(STATE["tmp"], 0o755)
    if engine_answers():
        STATE["adopted"] = adopt_dockerd()
    else:
        why = start_dockerd(STATE["tmp"])
        if why:
            return why
    sweep_dead_runs()
    ensure_base_images(STATE["tmp"])
    build_image()
    return None


def setUpModule():
    t0 = time.time()
    STATE["t0"] = t0
    unittest.addModuleCleanup(report_time)
    unittest.addModuleCleanup(cleanup_all)
    atexit.register(cleanup_all)
    why = prepare()
    if why:
        raise unittest.SkipTest("container test skipped: " + why)
    log("engine ready in %.0f s" % (time.time() - t0))


def report_time():
    log("container test took %.0f s in all" % (time.time() - STATE["t0"]))


# --- helpers for the tests ---------------------------------------------

def compose_env(path):
    return dict(os.environ, TROUPE_IMAGE=IMAGE,
                COMPOSE_INTERACTIVE_NO_CLI="1")


def write_key(path, uid):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32))
    os.chown(path, uid, uid)
    return path


def troupe(cid, *args, timeout=60):
    return docker("exec", cid, "/usr/bin/troupe", *args, check=False,
                  timeout=timeout)


def nodes_of(cid):
    r = troupe(cid, "nodes", "--json", timeout=30)
    if r.returncode != 0:
        return {}
    return {n["name"]: n for n in json.loads(r.stdout)}


def formed(cids, names):
    return cluster_formed(cids, names, nodes_of)


def wait_for(pred, timeout):
    """Polls at docker's pace: each look is a `docker exec`."""
    return poll_until(pred, timeout, step=0.5)


def container_logs(cid):
    r = docker("logs", cid, check=False)
    return (r.stdout + r.stderr)[-3000:]


def exported_names(cid):
    """The paths in a container's file system (docker export | tar -t)."""
    exp = subprocess.Popen([docker_bin(), "export", cid],
                           stdout=subprocess.PIPE)
    try:
        return subprocess.run(["tar", "-t"], stdin=exp.stdout,
                              capture_output=True, text=True,
                              timeout=120).stdout.split()
    finally:
        exp.stdout.close()
        exp.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClusterChecks:
    def assert_cluster(self, cids, names, ask_from, ask_to, timeout=30):
        t0 = time.time()
        ok = wait_for(lambda: formed(cids, names), timeout)
        self.assertTrue(ok, "no cluster in %d s: %s\n%s" % (
            timeout, [nodes_of(c) for c in cids],
            "\n".join(container_logs(c) for c in cids)))
        log("cluster of %s formed %.1f s after start" % (
            ",".join(names), time.time() - t0))
        r = troupe(ask_from, "ask", "echo@" + ask_to, '{"across":1}')
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, '{"across":1}'), r.stderr)


# --- the image ---------------------------------------------------------

class TestImage(unittest.TestCase):
    def setUp(self):
        self.name = RUN + "-img"
        docker("run", "-d", "--name", self.name, "--label",
               LABEL + "=" + RUN, IMAGE, "--node", "c1")
        self.addCleanup(docker, "rm", "-f", self.name, check=False)

    def state(self, fmt):
        return docker("inspect", "-f", fmt, self.name).stdout.strip()

    def test_healthy_answers_no_shell_65532_and_drains_on_stop(self):
        ok = wait_for(lambda: self.state("{{.State.Health.Status}}") ==
                      "healthy", 60)
        self.assertTrue(ok, self.state("{{json .State.Health}}") +
                        container_logs(self.name))
        r = troupe(self.name, "ask", "echo", '"hi"')
        self.assertEqual((r.returncode, r.stdout.strip()), (0, '"hi"'),
                         r.stderr)
        # trouped and every actor it spawned run as 65532 (host's view)
        pid = int(self.state("{{.State.Pid}}"))
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids = [pid] + [int(p) for p in f.read().split()]
        self.assertGreater(len(pids), 1, "no actors under trouped")
        for p in pids:
            with open("/proc/%d/status" % p) as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            self.assertEqual(set(uids), {str(UID)}, "pid %d" % p)
        # no shell to run, and none in the file system
        r = docker("exec", self.name, "/bin/sh", "-c", "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        t0 = time.time()
        docker("stop", "-t", "30", self.name, timeout=60)
        took = time.time() - t0
        self.assertEqual(self.state("{{.State.ExitCode}}"), "0",
                         container_logs(self.name))
        self.assertLess(took, 15, "stop took %.1f s of its 30" % took)
        logs = container_logs(self.name)
        self.assertIn("draining", logs)
        self.assertIn("trouped stopped", logs)
        log("docker stop: exit 0 after %.1f s (grace 30 s)" % took)

    def test_file_system_holds_no_shell(self):
        names = exported_names(self.name)
        self.assertIn("usr/bin/trouped", names)
        shells = [n for n in names if os.path.basename(n.rstrip("/")) in
                  ("sh", "bash", "dash", "busybox", "ash", "env")]
        self.assertEqual(shells, [])
        self.assertIn("etc/passwd", names)


class TestBuild(unittest.TestCase):
    def test_dockerfile_installs_what_the_makefile_needs(self):
        """The build stage installs every DEB_PKGS package, so make fetched
        nothing itself during the build."""
        with open(os.path.join(REPO, "Makefile")) as f:
            m = re.search(r"^DEB_PKGS := ((?:.*\\\n)*.*)$", f.read(), re.M)
        pkgs = m.group(1).replace("\\\n", " ").split()
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            apt = f.read().split("apt-get install", 1)[1].split("&&")[0]
        self.assertEqual([p for p in pkgs if p not in apt.split()], [])
        self.assertNotIn("installing:", STATE.get("build_log", ""))

    def test_context_leaves_out_keys_and_build_tree(self):
        """A copy of the tree with a key and a build/ in it, sent as a
        context under the repo's .dockerignore: what COPY . . would get."""
        ctx = tempfile.mkdtemp(prefix="ctx-", dir=STATE["tmp"])
        files = run(["git", "-C", REPO, "ls-files", "-co",
                     "--exclude-standard"]).stdout.split()
        for f in files + [".dockerignore"]:
            if os.path.isfile(os.path.join(REPO, f)):
                os.makedirs(os.path.dirname(os.path.join(ctx, f)),
                            exist_ok=True)
                shutil.copy2(os.path.join(REPO, f), os.path.join(ctx, f))
        for junk in ("deploy/cluster.key", "x.key", "build/bin/trouped",
                     ".git/HEAD", "tests/fuzz/corpus/x"):
            os.makedirs(os.path.dirname(os.path.join(ctx, junk)),
                        exist_ok=True)
            open(os.path.join(ctx, junk), "w").close()
        with open(os.path.join(STATE["tmp"], "Dockerfile.ctx"), "w") as f:
            f.write("FROM %s\nCOPY . /ctx\n" % BASE_IMG)
        tag = "troupe-test/context:" + RUN
        docker("build", "-q", "-f", f.name, "-t", tag, ctx,
               env=dict(os.environ, DOCKER_BUILDKIT="0"))
        self.addCleanup(docker, "rmi", "-f", tag, check=False)
        name = RUN + "-ctx"
        docker("create", "--name", name, "--label", LABEL + "=" + RUN, tag,
               "/none")
        self.addCleanup(docker, "rm", "-f", name, check=False)
        names = [n for n in exported_names(name) if n.startswith("ctx/")]
        for need in ("ctx/Makefile", "ctx/broker/trouped.c",
                     "ctx/deploy/troupe.conf.example"):
            self.assertIn(need, names)
        leaked = [n for n in names if n.endswith(".key") or
                  n.startswith(("ctx/build/", "ctx/.git/", "ctx/tests/"))]
        self.assertEqual(leaked, [])


# --- compose -----------------------------------------------------------

class TestCompose(unittest.TestCase, ClusterChecks):
    def up(self, fname, tag):
        """docker-compose up of deploy/FNAME as written, its relative
        paths (./cluster.key) taken in a temp project directory that holds
        the key as a user makes it: uid 65532, mode 0600."""
        proj = RUN + tag
        pdir = tempfile.mkdtemp(prefix="proj-", dir=STATE["tmp"])
        os.chmod(pdir, 0o755)
        key = write_key(os.path.join(pdir, "cluster.key"), UID)
        path = os.path.join(DEPLOY, fname)
        self.env = dict(compose_env(path), TROUPE_METRICS_PORT=str(
            free_port()))
        base = ["docker-compose", "-p", proj, "--project-directory", pdir,
                "-f", path]
        STATE["projects"].append((proj, [path]))
        self.addCleanup(run, base + ["down", "-v", "--remove-orphans", "-t",
                                     "5"], check=False, timeout=120,
                        env=self.env)
        run(base + ["up", "-d", "--no-build"], timeout=180, env=self.env)
        cids = [run(base + ["ps", "-q", n], env=self.env).stdout.strip()
                for n in ("n1", "n2", "n3")]
        self.assertTrue(all(cids), cids)
        st = os.stat(key)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (UID, 0o600))
        return cids

    def assert_runs_as_65532(self, cid):
        pid = docker("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()
        with open("/proc/%s/status" % pid) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        self.assertEqual(set(uids), {str(UID)})

    def test_seeds(self):
        cids = self.up("compose.yaml", "s")
        self.assert_cluster(cids, ["n1", "n2", "n3"], cids[0], "n3")
        r = troupe(cids[2], "ask", "echo@n1", '"back"')
        self.assertEqual(r.stdout.strip(), '"back"', r.stderr)
        self.assert_runs_as_65532(cids[0])
        # n1's metrics, published on the host's loopback only
        import urllib.request
        url = "http://127.0.0.1:%s/metrics" % self.env["TROUPE_METRICS_PORT"]
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        self.assertIn("troupe_", body)

    def test_multicast(self):
        cids = self.up("compose.multicast.yaml", "m")
        self.assert_cluster(cids, ["n1", "n2", "n3"], cids[1], "n3")
        self.assert_runs_as_65532(cids[1])

    def test_root_owned_key_stops_the_node_with_one_line(self):
        """What the chown in deploy/README.md prevents: compose v1 mounts
        the host file as it is, and a root-owned 0600 key is unreadable by
        uid 65532."""
        d = tempfile.mkdtemp(prefix="key-", dir=STATE["tmp"])
        os.chmod(d, 0o755)
        key = write_key(os.path.join(d, "cluster.key"), 0)
        name = RUN + "-rootkey"
        docker("run", "-d", "--name", name, "--label", LABEL + "=" + RUN,
               "-v", key + ":/run/secrets/cluster.key:ro", IMAGE,
               "--node", "k1", "--set", "cluster.discovery=seeds",
               "--set", "cluster.seeds=k2:7447",
               "--set", "cluster.key_file=/run/secrets/cluster.key")
        self.addCleanup(docker, "rm", "-f", name, check=False)
        r = docker("wait", name, timeout=60)
        self.assertEqual(r.stdout.strip(), "1", container_logs(name))
        self.assertIn("cannot use the cluster key", container_logs(name))


# --- Kubernetes --------------------------------------------------------

K8S_MANIFEST = os.path.join(DEPLOY, "k8s", "troupe.yaml")
NPM_CACHE = "/var/cache/troupe-test/k8s-validate"
NPM_PKGS = ["kubernetes-models@5.1.0", "js-yaml@4.1.0"]
VALIDATE_JS = r"""
// Each document of the manifest against the Kubernetes API schema that
// kubernetes-models compiles (types, required fields, enums, formats).
import fs from "node:fs";
import yaml from "js-yaml";
let bad = 0;
for (const d of yaml.loadAll(fs.readFileSync(process.argv[2], "utf8"))) {
  const mod = await import("kubernetes-models/" + d.apiVersion + "/" +
                           d.kind);
  try {
    new mod[d.kind](d).validate();
    console.log("valid", d.apiVersion, d.kind, d.metadata.name);
  } catch (e) {
    bad++;
    console.log("INVALID", d.apiVersion, d.kind, d.metadata.name,
                JSON.stringify(e.errors || e.message));
  }
}
process.exit(bad ? 1 : 0);
"""


def k8s_validator():
    """node + kubernetes-models from the npm registry, installed once into
    a cache directory; returns (argv, why-not)."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "needs node and npm"
    js = os.path.join(NPM_CACHE, "validate.mjs")
    if not os.path.isdir(os.path.join(NPM_CACHE, "node_modules",
                                      "kubernetes-models")):
        os.makedirs(NPM_CACHE, exist_ok=True)
        r = run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                 NPM_CACHE] + NPM_PKGS, check=False, timeout=300)
        if r.returncode != 0:
            return None, "npm install failed: " + r.stderr[-300:]
    with open(js, "w") as f:
        f.write(VALIDATE_JS)
    return ["node", js], None


class TestKubernetes(unittest.TestCase, ClusterChecks):
    def setUp(self):
        import yaml
        with open(K8S_MANIFEST) as f:
            docs = list(yaml.safe_load_all(f))
        self.kinds = {d["kind"]: d for d in docs}

    def test_manifest_passes_the_schema_validator(self):
        argv, why = k8s_validator()
        if why:
            self.skipTest(why)
        r = run(argv + [K8S_MANIFEST], check=False, timeout=120)
        log("kubernetes-models validator:\n" + r.stdout.strip())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("valid "), 3, r.stdout)
        # and it does say no: a wrong type is caught
        bad = os.path.join(STATE["tmp"], "bad.yaml")
        with open(K8S_MANIFEST) as f, open(bad, "w") as out:
            out.write(f.read().replace("replicas: 3", 'replicas: "3"'))
        r = run(argv + [bad], check=False, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("INVALID apps/v1 StatefulSet", r.stdout)

    def pod_run_args(self, sts, ordinal, net, cfgdir, keydir):
        """docker run arguments for pod ORDINAL as the StatefulSet would
        make it: its name, its DNS name on the headless Service, the pod
        and container security contexts, the ConfigMap, Secret and
        emptyDir mounts, env and args with $(POD_NAME) expanded."""
        spec = sts["spec"]["template"]["spec"]
        ctr = spec["containers"][0]
        pod = "%s-%d" % (sts["metadata"]["name"], ordinal)
        psc, csc = spec["securityContext"], ctr["securityContext"]
        args = ["run", "-d", "--name", RUN + "-" + pod, "--label",
                LABEL + "=" + RUN, "--network", net, "--hostname", pod,
                "--network-alias", pod + "." + sts["spec"]["serviceName"],
                "--user", "%d:%d" % (psc["runAsUser"], psc["runAsGroup"]),
                "--stop-timeout",
                str(spec["terminationGracePeriodSeconds"])]
        if csc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if csc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        for cap in csc.get("capabilities", {}).get("drop", []):
            args += ["--cap-drop", cap]
        vols = {v["name"]: v for v in spec["volumes"]}
        for m in ctr["volumeMounts"]:
            v = vols[m["name"]]
            if "configMap" in v:
                args += ["-v", "%s:%s:ro" % (cfgdir, m["mountPath"])]
            elif "secret" in v:
                args += ["-v", "%s:%s:ro" % (keydir, m["mountPath"])]
            elif "emptyDir" in v:
                args += ["--tmpfs", "%s:uid=%d,gid=%d,mode=0700" % (
                    m["mountPath"], psc["runAsUser"], psc["fsGroup"])]
        env = {"POD_NAME": pod}
        for e in ctr["env"]:
            if "value" in e:
                env[e["name"]] = e["value"]
        for k, v in env.items():
            args += ["-e", "%s=%s" % (k, v)]
        cargs = [a.replace("$(POD_NAME)", pod) for a in ctr["args"]]
        return args + [IMAGE] + cargs, pod

    def test_seeds_by_dns_between_three_pods(self):
        sts, cm = self.kinds["StatefulSet"], self.kinds["ConfigMap"]
        net = RUN + "-k8s"
        docker("network", "create", "--label", LABEL + "=" + RUN, net)
        self.addCleanup(docker, "network", "rm", net, check=False)
        cfgdir = tempfile.mkdtemp(prefix="cm-", dir=STATE["tmp"])
        keydir = tempfile.mkdtemp(prefix="secret-", dir=STATE["tmp"])
        for d in (cfgdir, keydir):
            os.chmod(d, 0o755)
        for name, text in cm["data"].items():
            with open(os.path.join(cfgdir, name), "w") as f:
                f.write(text)
        # kubelet makes the mount points of volumes nested in a ConfigMap
        # volume (the Secret at /etc/troupe/key) when it sets the volume up
        os.mkdir(os.path.join(cfgdir, "key"))
        write_key(os.path.join(keydir, "cluster.key"), UID)
        cids, pods = [], []
        for i in range(sts["spec"]["replicas"]):
            args, pod = self.pod_run_args(sts, i, net, cfgdir, keydir)
            cid = docker(*args).stdout.strip()
            self.addCleanup(docker, "rm", "-f", cid, check=False)
            cids.append(cid)
            pods.append(pod)
        self.assert_cluster(cids, pods, cids[0], pods[-1])
        # the seeds are DNS names, resolved by the network's DNS
        seeds = [l for l in cm["data"]["troupe.conf"].splitlines()
                 if l.startswith("seeds")][0]
        self.assertIn("troupe-2.troupe:7447", seeds)
        # the manifest's probe command answers
        probe = sts["spec"]["template"]["spec"]["containers"][0][
            "readinessProbe"]["exec"]["command"]
        r = docker("exec", cids[1], *probe, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
