#!/usr/bin/env python3
"""check_arch — fails when the code leaves the map in docs/ARCHITECTURE.md.

Reads the module table (section "## Modules") and checks every C file
under transport/ broker/ (and broker/*/) cli/ actors/ bench/:

  (a) every file belongs to exactly one module of the table, and every
      module of the table exists;
  (b) a module's real call set is within its "may call" cell: the modules
      defining the symbols its objects leave undefined (nm) and the
      modules owning the headers its files #include "...";
  (c) the real graph among project modules has no cycle;
  (d) no file over MAX_LINES lines;
  (e) every module has its own header, except programs (a main()).

The table's convention (docs/ARCHITECTURE.md says it too):

  | dir | module | prefix | owns | may call |

  dir       the directory, e.g. `broker/` or `broker/cluster/`.
  module    NAME, meaning NAME.c and NAME.h in dir (those that exist), or
            NAME: `f1.c` `f2.h` ...  listing the module's files in dir.
  may call  project modules, comma-separated, each by its table name;
            external libraries in italics (*nng*, *libc*), which the
            checker ignores; a (parenthesised remark) is ignored too;
            "—" when the module calls nothing.

Python 3 standard library and binutils' nm only.  Exit 1 with one line
per violation, 0 with a one-line summary; --report always exits 0;
--print writes the table rows as the code has them (files, real may-call
set, external libraries from nm) for regenerating the table.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

ROOTS = ("transport", "broker", "cli", "actors", "bench")
INCLUDE_DIRS = ("transport", "actors", "broker", "cli", "bench")
MAX_LINES = 800
# Undefined symbols nobody in the project defines, by library (--print).
EXTERNAL = (("nng_", "nng"), ("nni_", "nng"), ("msgpack_", "msgpack-c"),
            ("crypto_", "libsodium"), ("sodium_", "libsodium"),
            ("randombytes_", "libsodium"), ("json_", "jansson"),
            ("ini_", "inih"), ("criterion_", "criterion"),
            ("pthread_", "libc"))
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAIN_RE = re.compile(r'^(?:int\s*\n|int\s+)main\s*\(', re.M)


class Module:
    def __init__(self, name, dir_, files, prefix, owns, calls, line):
        self.name, self.dir, self.files = name, dir_, files
        self.prefix, self.owns, self.calls = prefix, owns, calls
        self.line = line            # in ARCHITECTURE.md, for messages


def split_row(line):
    """Cells of a markdown table row; a \\| inside a cell is no border."""
    cells = re.split(r'(?<!\\)\|', line.strip())
    return [c.strip() for c in cells[1:-1]]


def strip_ticks(s):
    return s.replace("`", "").strip()


def parse_module_cell(cell, dir_, root):
    """(name, [files relative to root]) from NAME or NAME: `f` `g`."""
    name, _, rest = cell.partition(":")
    name = strip_ticks(name)
    if rest.strip():
        files = [t for t in re.split(r"[`,\s]+", rest) if t]
    else:
        files = [f for f in (name + ".c", name + ".h")
                 if os.path.exists(os.path.join(root, dir_, f))]
    return name, [os.path.normpath(os.path.join(dir_, f)) for f in files]


def parse_calls(cell):
    """(project module names, external libraries) of a may-call cell."""
    cell = re.sub(r"\([^)]*\)", "", cell)
    mods, ext = [], []
    for item in cell.split(","):
        item = item.strip()
        if item in ("", "—", "-"):
            continue
        if len(item) > 2 and item[0] == "*" and item[-1] == "*":
            ext.append(item.strip("*"))
        else:
            mods.append(strip_ticks(item))
    return mods, ext


def read_table(doc, root):
    """The modules of the "## Modules" table (its first table: others in
    the section, such as the ops table, are prose), and the problems met."""
    mods, bad, in_sec, seen_head, done = [], [], False, False, False
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        if line.startswith("## "):
            in_sec = line.strip() == "## Modules"
            continue
        if in_sec and seen_head and not line.startswith("|"):
            done = True
        if not in_sec or done or not line.startswith("|"):
            continue
        cells = split_row(line)
        if not seen_head:
            seen_head = True    # the header row
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        if len(cells) != 5:
            bad.append("%s:%d: table row has %d cells, not 5" %
                       (doc, n, len(cells)))
            continue
        dir_ = strip_ticks(cells[0]).rstrip("/")
        name, files = parse_module_cell(cells[1], dir_, root)
        calls, _ = parse_calls(cells[4])
        mods.append(Module(name, dir_, files, cells[2], cells[3], calls, n))
    if not mods:
        bad.append("%s: no module table under \"## Modules\"" % doc)
    return mods, bad


def source_files(root):
    out = []
    for top in ROOTS:
        for d, _, names in os.walk(os.path.join(root, top)):
            for nm in names:
                if nm.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, nm), root))
    return sorted(out)


def resolve_include(root, src, inc, files):
    """The project file an #include "inc" of src names, or None: the
    including file's directory, then the Makefile's -I directories, then
    the one project file of that name (a room like broker/cluster/ that
    the -I list does not name yet)."""
    for d in (os.path.dirname(src),) + INCLUDE_DIRS:
        p = os.path.normpath(os.path.join(d, inc))
        if os.path.exists(os.path.join(root, p)):
            return p
    same = [f for f in files if f.endswith("/" + inc)]
    return same[0] if len(same) == 1 else None


def nm_symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defs, undef = set(), set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBRCGSVW":
            defs.add(p[2])
        elif len(p) == 2 and p[0] == "U":
            undef.add(p[1])
    return defs, undef


def library_of(sym):
    for pre, lib in EXTERNAL:
        if sym.startswith(pre):
            return lib
    return "libc"


class Tree:
    """What the code has: files, owners, real call edges, externals."""

    def __init__(self, root, objdir, mods):
        self.root, self.mods = root, {m.name: m for m in mods}
        self.files = source_files(root)
        self.owner = collections.defaultdict(list)
        for m in mods:
            for f in m.files:
                self.owner[f].append(m.name)
        self.edges = collections.defaultdict(dict)  # m -> {callee: why}
        self.ext = collections.defaultdict(set)
        self.programs, self.no_obj = set(), []
        self._nm_edges(objdir)
        self._include_edges()

    def module_of(self, f):
        o = self.owner.get(f)
        if o:
            return o[0]
        stem = os.path.splitext(f)[0]    # unmapped: its stem, for --print
        return "?" + os.path.basename(stem)

    def _nm_edges(self, objdir):
        defs, undefs = {}, {}
        for f in self.files:
            if not f.endswith(".c"):
                continue
            obj = os.path.join(objdir, f[:-2] + ".o")
            if not os.path.exists(obj):
                self.no_obj.append(f)
                continue
            d, u = nm_symbols(obj)
            m = self.module_of(f)
            if "main" in d:
                self.programs.add(m)
            for s in d:
                defs.setdefault(s, set()).add(m)
            undefs.setdefault(m, set()).update(u)
        for m, syms in undefs.items():
            for s in sorted(syms):
                owners = defs.get(s, set()) - {m}
                if not owners and s not in defs:
                    self.ext[m].add(library_of(s))
                for o in sorted(owners):
                    self.edges[m].setdefault(o, "calls %s" % s)

    def _include_edges(self):
        for f in self.files:
            m = self.module_of(f)
            with open(os.path.join(self.root, f), encoding="utf-8",
                      errors="replace") as fp:
                text = fp.read()
            if f.endswith(".c") and MAIN_RE.search(text):
                self.programs.add(m)
            for inc in INCLUDE_RE.findall(text):
                p = resolve_include(self.root, f, inc, self.files)
                if p is None:
                    continue
                o = self.module_of(p)
                if o != m:
                    self.edges[m].setdefault(
                        o, "%s includes %s" % (f, inc))

    def lines(self, f):
        with open(os.path.join(self.root, f), "rb") as fp:
            return fp.read().count(b"\n")


def find_cycles(nodes, edges):
    """One shortest cycle per strongly connected component (Tarjan)."""
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in nodes:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [(comp, shortest_cycle(comp, edges)) for comp in sccs]


def shortest_cycle(comp, edges):
    """A shortest cycle through comp's first node, by breadth first."""
    inside, start = set(comp), comp[0]
    prev, todo = {start: None}, [start]
    for v in todo:
        for w in sorted(edges.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in inside and w not in prev:
                prev[w] = v
                todo.append(w)
    return comp


def check(tree, mods, doc):
    bad = []
    names = {m.name for m in mods}
    dup = [n for n, c in collections.Counter(m.name for m in mods).items()
           if c > 1]
    for n in dup:
        bad.append("%s: module %s is in the table twice" % (doc, n))
    for m in mods:                                          # (a)
        here = [f for f in m.files
                if os.path.exists(os.path.join(tree.root, f))]
        for f in m.files:
            if f not in here:
                bad.append("%s:%d: module %s: no file %s" %
                           (doc, m.line, m.name, f))
        if not m.files:
            bad.append("%s:%d: module %s does not exist (no %s/%s.c or .h)"
                       % (doc, m.line, m.name, m.dir, m.name))
        for c in m.calls:
            if c not in names:
                bad.append("%s:%d: module %s may call %r, which is no "
                           "module of the table (an external library is "
                           "written *%s*)" % (doc, m.line, m.name, c, c))
    for f in tree.files:
        o = tree.owner.get(f, [])
        if not o:
            bad.append("%s: in no module of the table" % f)
        elif len(o) > 1:
            bad.append("%s: in %d modules: %s" % (f, len(o), ", ".join(o)))
    for f in tree.no_obj:
        bad.append("%s: no object in the build; run `make check-arch`" % f)
    for m in mods:                                          # (b)
        allowed = set(m.calls)
        for callee, why in sorted(tree.edges.get(m.name, {}).items()):
            if callee not in allowed and not callee.startswith("?"):
                bad.append("%s: calls %s, not in its may call (%s)" %
                           (m.name, callee, why))
    real = {m: set(e) for m, e in tree.edges.items()}
    for comp, cyc in find_cycles(names, real):              # (c)
        bad.append("cycle: %s (component: %s)" %
                   (" -> ".join(cyc), " ".join(comp)))
    for f in tree.files:                                    # (d)
        n = tree.lines(f)
        if n > MAX_LINES:
            bad.append("%s: %d lines, over %d" % (f, n, MAX_LINES))
    for m in mods:                                          # (e)
        if m.name in tree.programs:
            continue
        if not any(f.endswith(".h") for f in m.files):
            bad.append("%s: module without a header of its own "
                       "(not a program: no main)" % m.name)
    return bad


def print_rows(tree, mods):
    """The table as the code has it: a row per module (and per stem of
    files in no module, marked "?"), real may-call set, externals."""
    by = collections.OrderedDict()
    for m in mods:
        by[m.name] = (m.dir, [f for f in m.files
                              if os.path.exists(os.path.join(tree.root, f))],
                      m.prefix, m.owns)
    for f in tree.files:
        if f not in tree.owner:
            n = tree.module_of(f)
            row = by.setdefault(n, (os.path.dirname(f), [], "?", "?"))
            row[1].append(f)
    print("| dir | module | prefix | owns | may call |")
    print("|---|---|---|---|---|")
    for n, (d, files, prefix, owns) in by.items():
        base = [os.path.relpath(f, d) for f in files]
        cell = n if sorted(base) == sorted(
            x for x in (n + ".c", n + ".h") if x in base) else \
            "%s: %s" % (n, " ".join("`%s`" % b for b in base))
        calls = sorted(c for c in tree.edges.get(n, {}))
        ext = sorted(tree.ext.get(n, ()))
        may = ", ".join(calls + ["*%s*" % e for e in ext]) or "—"
        print("| %s/ | %s | %s | %s | %s |" % (d, cell, prefix, owns, may))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", help="the checkout (.)")
    ap.add_argument("--obj", help="object dir (ROOT/build/obj)")
    ap.add_argument("--doc", help="ROOT/docs/ARCHITECTURE.md")
    ap.add_argument("--report", action="store_true",
                    help="print the violations but exit 0")
    ap.add_argument("--print", dest="print_rows", action="store_true",
                    help="print the table rows as the code has them")
    a = ap.parse_args()
    root = a.root
    doc = a.doc or os.path.join(root, "docs", "ARCHITECTURE.md")
    objdir = a.obj or os.path.join(root, "build", "obj")
    mods, bad = read_table(doc, root)
    tree = Tree(root, objdir, mods)
    if a.print_rows:
        print_rows(tree, mods)
        return 0
    bad += check(tree, mods, os.path.relpath(doc, root))
    for b in bad:
        print("check-arch: " + b)
    if bad:
        print("check-arch: %d violations in %d files, %d modules%s" %
              (len(bad), len(tree.files), len(mods),
               " (report mode)" if a.report else ""))
        return 0 if a.report else 1
    print("check-arch: ok: %d files in %d modules, %d call edges, no cycle, "
          "none over %d lines" % (len(tree.files), len(mods),
                                  sum(len(e) for e in tree.edges.values()),
                                  MAX_LINES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
