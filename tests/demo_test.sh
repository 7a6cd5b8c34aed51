#!/bin/sh
# demo_test - the README's demo (contrib/demo.sh) as a test: the shipped
# workflows and templates against a private Postfix with postdrip-milter,
# postdrip-policyd and postdrip-engine, over simulated weeks. The demo
# checks each of its claims and exits 1 when one does not hold; a broken
# workflow, template or daemon fails this test.
#
# Skipped (77) without root, or without Postfix: the demo would run only
# its store part, which cli_test.sh covers.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"
pfx_require

out=${TMPDIR:-/tmp}/demo_test.$$
# A bound for a hang, not a speed check: the demo takes a few tens of
# seconds on an idle machine, but several minutes under the sanitizers on
# a machine whose cores other builds share. DEMO_TIMEOUT (seconds) changes
# the bound.
limit=${DEMO_TIMEOUT:-1200}
timeout -k 10 "$limit" env top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
    sh "$top_srcdir/contrib/demo.sh" >"$out" 2>&1
rc=$?
cat "$out"
last=$(tail -n 1 "$out")
rm -f "$out"
[ $rc = 124 ] && { echo "FAIL: the demo did not end within $limit s (DEMO_TIMEOUT)" >&2; exit 1; }
[ $rc = 0 ] || { echo "FAIL: the demo exited $rc" >&2; exit 1; }
# The store part alone ends otherwise: this must have been the full demo.
case $last in
"demo: done: "*" checks passed") ;;
*)	echo "FAIL: the demo did not run in full: $last" >&2
	exit 1 ;;
esac
echo "ok: the demo passed"
exit 0
