# testlib.sh - sourced by the shell tests: a temp dir removed at exit, and
# fail/pass/skip with automake's exit codes (0 pass, 1 fail, 77 skip).

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
T=$(mktemp -d "${TMPDIR:-/tmp}/pdtest.XXXXXX")
chmod 755 "$T"
_testlib_cleanup() { rm -rf "$T"; }
trap _testlib_cleanup EXIT
unset POSTDRIP_NOW

fail() { echo "FAIL: $(basename "$0"): $*" >&2; exit 1; }
skip() { echo "SKIP: $(basename "$0"): $*" >&2; exit 77; }
pass() { echo "PASS: $(basename "$0")"; exit 0; }

# expect_status N command... - run it, fail unless it exits with N
expect_status() {
	_want=$1; shift
	"$@" >/dev/null 2>&1
	_got=$?
	[ "$_got" = "$_want" ] || fail "exit $_got, want $_want: $*"
}
