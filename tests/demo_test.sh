#!/bin/sh
# demo_test - the README's demo (contrib/demo.sh) as a test: the shipped
# workflows and templates against a private Postfix with postdrip-milter,
# postdrip-policyd and postdrip-engine with its HTTP tracker, over
# simulated weeks. The demo checks each of its claims and exits 1 when one
# does not hold; a broken workflow, template or daemon fails this test.
# Here also: the HTML report is kept after the demo's work directory is
# removed, and nothing the demo started is left running.
#
# Skipped (77) without root, or without Postfix: the demo would run only
# its store part, which cli_test.sh covers.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"
pfx_require
command -v curl >/dev/null 2>&1 || pfx_skip "curl is not installed (Debian package curl)"

T=$(mktemp -d "${TMPDIR:-/tmp}/demo_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
out=$T/out
# A bound for a hang, not a speed check: the demo takes under two minutes on
# an idle machine, but several under the sanitizers on a machine whose
# cores other builds share. DEMO_TIMEOUT (seconds) changes the bound.
limit=${DEMO_TIMEOUT:-1200}
timeout -k 10 "$limit" env top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
    DEMO_REPORT="$T/report.html" DEMO_KEEP=0 sh "$top_srcdir/contrib/demo.sh" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc = 124 ] && { echo "FAIL: the demo did not end within $limit s (DEMO_TIMEOUT)" >&2; exit 1; }
[ $rc = 0 ] || { echo "FAIL: the demo exited $rc" >&2; exit 1; }
# The store part alone ends otherwise: this must have been the full demo.
last=$(tail -n 1 "$out")
case $last in
"demo: done: "*" checks passed") ;;
*)	echo "FAIL: the demo did not run in full: $last" >&2
	exit 1 ;;
esac

# It said where the report is, and the report outlived the work directory.
grep -qx "demo: the report is $T/report.html" "$out" ||
    { echo "FAIL: the demo did not name its report $T/report.html" >&2; exit 1; }
work=$(sed -n 's/^ *work directory \(\/[^ ]*\) (removed at exit.*/\1/p' "$out" | head -n 1)
[ -n "$work" ] || { echo "FAIL: the demo did not name its work directory" >&2; exit 1; }
[ -e "$work" ] && { echo "FAIL: the work directory $work is left" >&2; exit 1; }
[ -s "$T/report.html" ] || { echo "FAIL: no report at $T/report.html" >&2; exit 1; }
grep -q '<svg' "$T/report.html" || { echo "FAIL: the report has no inline SVG" >&2; exit 1; }

# Nothing it started runs on: every daemon, Postfix's master and
# smtp-sink were given paths under the work directory.
left=
for c in /proc/[0-9]*/cmdline; do
	tr '\0' ' ' <"$c" 2>/dev/null | grep -qF "$work/" || continue
	p=${c#/proc/}
	left="$left ${p%/cmdline}: $(tr '\0' ' ' <"$c" 2>/dev/null)"
done
[ -z "$left" ] || { echo "FAIL: still running after the demo:$left" >&2; exit 1; }
echo "ok: the demo passed"
exit 0
