#!/bin/sh
# Golden tests of the config parser, bgpd-regress style.
#
#   X.conf + X.ok   `trouped --check-config --print -c X.conf` exits 0 and
#                   prints exactly X.ok; that output, fed back, prints the
#                   same again (print is a fixed point).
#   X.conf + X.err  trouped exits non-zero and the first line on stderr
#                   contains X.err (a prefix like "trouped: " is allowed).
#
# Usage: TROUPE_BIN=build/bin tests/conf/run.sh [-u]
#   -u rewrites the .ok files from the current output (review the diff).
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${TROUPE_BIN:-$here/../../build/bin}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
trouped=$bin/trouped
update=0
[ "${1:-}" = "-u" ] && update=1

if [ ! -x "$trouped" ]; then
	echo "run.sh: no $trouped (set TROUPE_BIN)" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

check_ok() {	# name
	if ! "$trouped" --check-config --print -c "$1.conf" >"$tmp/out" \
	    2>"$tmp/err"; then
		ko "$1" "exit $?: $(head -n 1 "$tmp/err")"
		return
	fi
	if [ $update = 1 ]; then
		cp "$tmp/out" "$1.ok"
	fi
	if ! diff -u "$1.ok" "$tmp/out"; then
		ko "$1" "output differs from $1.ok"
		return
	fi
	cp "$tmp/out" "$tmp/again.conf"
	if ! "$trouped" --check-config --print -c "$tmp/again.conf" \
	    >"$tmp/out2" 2>"$tmp/err" || ! cmp -s "$tmp/out" "$tmp/out2"; then
		ko "$1" "printed config does not print the same again"
		return
	fi
	ok
}

check_err() {	# name
	if "$trouped" --check-config --print -c "$1.conf" >"$tmp/out" \
	    2>"$tmp/err"; then
		ko "$1" "accepted a bad config"
		return
	fi
	want=$(head -n 1 "$1.err")
	got=$(head -n 1 "$tmp/err")
	case $got in
	*"$want"*) ok ;;
	*) ko "$1" "expected '$want', got '$got'" ;;
	esac
}

cd "$here" || exit 2
for conf in *.conf; do
	name=${conf%.conf}
	if [ -f "$name.err" ]; then
		check_err "$name"
	elif [ -f "$name.ok" ] || [ $update = 1 ]; then
		check_ok "$name"
	else
		ko "$name" "no $name.ok or $name.err"
	fi
done

echo "conf golden tests: $pass passed, $fail failed"
[ $fail = 0 ]
