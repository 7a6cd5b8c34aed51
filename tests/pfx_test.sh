#!/bin/sh
# pfx_test - the private-Postfix harness keeps its promises: whatever a test
# started (master and its children, smtp-sink, a daemon from pfx_spawn) is
# gone after the test fails, and after it is interrupted; the temporary
# directory and the port reservations go too; the exit status is the
# test's; ports handed out at once are distinct.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib/pfx.sh"
pfx_require

W=$(mktemp -d "${TMPDIR:-/tmp}/pfxtest.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

# A test that starts everything, writes down what it started, then fails
# (mode fail) or waits to be killed (mode wait).
cat >"$W/child.sh" <<'EOF2'
. "$top_srcdir/tests/lib/pfx.sh"
pfx_init
pfx_start
pfx_spawn sleeper sleep 300
{
	echo "dir=$PFX_DIR"
	echo "master=$(pfx_master_pid)"
	echo "sink=$PFX_SINK_PID"
	echo "sleeper=$(pfx_pid sleeper)"
	echo "ports=\"$(cat "$PFX_DIR/ports" | tr '\n' ' ')\""
	echo "session=\"$(pfx_session_pids "$(pfx_master_pid)" | tr '\n' ' ')\""
} >"$STATE.tmp"
mv "$STATE.tmp" "$STATE"
[ "$1" = fail ] && pfx_fail "failing on purpose"
# Interruptible: the shell runs its trap when wait returns on the signal.
wait "$(pfx_pid sleeper)"
EOF2

# check_gone - everything in state file $1 has gone, within 5 seconds
check_gone() {
	. "$1"
	[ -n "$master" ] && [ -n "$sink" ] && [ -n "$sleeper" ] ||
	    pfx_fail "the child did not record what it started: $(cat "$1")"
	n=0
	for p in $master $sink $sleeper $session; do
		while pfx_alive "$p"; do
			n=$((n + 1))
			[ $n -lt 100 ] || pfx_fail "process $p is still running after the test ended"
			sleep 0.05
		done
	done
	[ -d "$dir" ] && pfx_fail "$dir was not removed"
	for p in $ports; do
		[ -d "${TMPDIR:-/tmp}/postdrip-ports/$p" ] && pfx_fail "port $p is still reserved"
	done
	return 0
}

# 1. The test fails: status 1, nothing left.
STATE=$W/state1 top_srcdir=$top_srcdir sh "$W/child.sh" fail >"$W/out1" 2>&1
status=$?
[ $status = 1 ] || pfx_fail "a failing test exited $status, want 1: $(cat "$W/out1")"
grep -q "failing on purpose" "$W/out1" || pfx_fail "the failure reason was lost"
grep -q "last lines of" "$W/out1" || pfx_fail "no Postfix log shown for a failed test"
check_gone "$W/state1"

# 2. The test is interrupted (SIGTERM, as make or a CI timeout does).
STATE=$W/state2 top_srcdir=$top_srcdir sh "$W/child.sh" wait >"$W/out2" 2>&1 &
child=$!
n=0
until [ -f "$W/state2" ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || { kill "$child"; pfx_fail "the child did not start: $(cat "$W/out2")"; }
	sleep 0.05
done
kill -TERM "$child"
wait "$child"
status=$?
[ $status = 143 ] || pfx_fail "an interrupted test exited $status, want 143"
check_gone "$W/state2"

# 3. Ports handed out together are distinct, and free.
pfx_init
ports=
for i in 1 2 3 4 5 6 7 8 9 10; do
	ports="$ports $(pfx_free_port)" || pfx_fail "no port"
done
[ "$(echo $ports | tr ' ' '\n' | sort -u | wc -l)" = 10 ] ||
    pfx_fail "duplicate ports: $ports"
echo "ok: cleanup after failure and interruption; ports$ports"
