#!/usr/bin/env python3
"""Builds the nng troupe links against: Debian 12's nng 1.5.2 source with
the fix for nng bug #1518 (fixed upstream in 1.6.0), as a static PIC
library under BUILD/nng.

Why: in 1.5.2 a connection that closes during nng's handshake hands
NNG_ECLOSED to the listener's accept loop, which takes it for "listener
closed" and never accepts again: one connect-and-close on a control
socket, a mailbox or the peer port (a port scan, a health check) and
nobody can connect until trouped restarts.  Debian 12 has no newer nng.

The source is Debian's own orig tarball (the same bytes the libnng1
package is built from), checked against its SHA-256.  The fix is three
edits, each applied by exact text so that a different source fails here
instead of building something unpatched:
  - ipc and tcp: a handshake that fails because the peer closed reports
    NNG_ECONNSHUT, not NNG_ECLOSED (as nng 1.6 does);
  - the listener: ECONNSHUT and EPROTO (a peer that is not nng) are
    remote conditions; accept again at once, without the 100 ms cool-down
    that would let a garbage flood stall the listener.
And one for speed (issue 16): a message body's storage is allocated
without zeroing it (nni_alloc, not nni_zalloc, in nni_chunk_grow).  nng's
own API already calls a new body "allocated, but uninitialized"
(nni_chunk_append with no data); every caller writes what it sends, and
a receive fills the whole body from the wire.  The calloc cost ~320
instructions per routed message in the broker (B8): each received frame
and each delivery frame of up to 64 KiB was zeroed first.
Usage: nng_vendor.py BUILD_DIR
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request

VERSION = "1.5.2"
URL = ("http://deb.debian.org/debian/pool/main/n/nng/nng_%s.orig.tar.gz"
       % VERSION)
SHA256 = "f8b25ab86738864b1f2e3128e8badab581510fa8085ff5ca9bb980d317334c46"

EDITS = [
    ("src/sp/transport/ipc/ipc.c",
     "error:\n\n\tnng_stream_close(p->conn);\n"
     "\t// If we are waiting to negotiate on a client side",
     "error:\n\tif (rv == NNG_ECLOSED) {\n\t\trv = NNG_ECONNSHUT;\n\t}\n"
     "\tnng_stream_close(p->conn);\n"
     "\t// If we are waiting to negotiate on a client side"),
    ("src/sp/transport/tcp/tcp.c",
     "error:\n\tnng_stream_close(p->conn);\n\n"
     "\tif ((uaio = ep->useraio) != NULL) {",
     "error:\n\tif (rv == NNG_ECLOSED) {\n\t\trv = NNG_ECONNSHUT;\n\t}\n"
     "\tnng_stream_close(p->conn);\n\n"
     "\tif ((uaio = ep->useraio) != NULL) {"),
    ("src/core/listener.c",
     "\tcase NNG_ECONNRESET:   // remote condition, no cool down\n",
     "\tcase NNG_ECONNRESET:   // remote condition, no cool down\n"
     "\tcase NNG_ECONNSHUT:    // peer closed during the handshake\n"
     "\tcase NNG_EPROTO:       // peer does not speak SP\n"),
    ("src/core/message.c",
     "\t\tif ((newbuf = nni_zalloc(newsz + headwanted)) == NULL) {\n",
     "\t\tif ((newbuf = nni_alloc(newsz + headwanted)) == NULL) {\n", 2),
]


def fetch(dest):
    if os.path.exists(dest) and sha256(dest) == SHA256:
        return
    tmp = dest + ".part"
    with urllib.request.urlopen(URL, timeout=120) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    got = sha256(tmp)
    if got != SHA256:
        os.unlink(tmp)
        sys.exit("nng_vendor: %s has sha256 %s, want %s" % (URL, got, SHA256))
    os.rename(tmp, dest)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def patch(src):
    for edit in EDITS:
        rel, old, new = edit[:3]
        times = edit[3] if len(edit) > 3 else 1
        path = os.path.join(src, rel)
        with open(path) as f:
            text = f.read()
        if text.count(old) != times:
            sys.exit("nng_vendor: %s: the text to change is not there %d "
                     "time(s)" % (rel, times))
        with open(path, "w") as f:
            f.write(text.replace(old, new))


def build(src, out, jobs):
    bld = src + "-build"
    shutil.rmtree(bld, ignore_errors=True)
    cmake = ["cmake", "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=Release",
             "-DCMAKE_INSTALL_PREFIX=" + out, "-DCMAKE_INSTALL_LIBDIR=lib",
             "-DBUILD_SHARED_LIBS=OFF", "-DCMAKE_POSITION_INDEPENDENT_CODE=ON",
             "-DNNG_TESTS=OFF", "-DNNG_TOOLS=OFF", "-DNNG_ENABLE_NNGCAT=OFF",
             "-DNNG_ENABLE_TLS=OFF", "-DNNG_TRANSPORT_ZEROTIER=OFF",
             "-DNNG_ENABLE_DOC=OFF"]
    for cmd in (cmake, ["cmake", "--build", bld, "-j", str(jobs)],
                ["cmake", "--install", bld]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:    # nng's own warnings are not ours to show
            sys.exit("nng_vendor: %s failed:\n%s%s" %
                     (" ".join(cmd[:2]), r.stdout[-4000:], r.stderr[-4000:]))
    shutil.rmtree(bld, ignore_errors=True)


def main():
    top = os.path.abspath(sys.argv[1])
    out = os.path.join(top, "nng")
    os.makedirs(top, exist_ok=True)
    tarball = os.path.join(top, "nng_%s.orig.tar.gz" % VERSION)
    fetch(tarball)
    src = os.path.join(top, "nng-src")
    shutil.rmtree(src, ignore_errors=True)
    with tarfile.open(tarball) as t:
        t.extractall(top)
    os.rename(os.path.join(top, "nng-%s" % VERSION), src)
    patch(src)
    build(src, out, os.cpu_count() or 2)
    shutil.rmtree(src, ignore_errors=True)
    print("nng %s with the #1518 fix, bodies not zeroed: %s/lib/libnng.a"
          % (VERSION, out))


if __name__ == "__main__":
    main()
