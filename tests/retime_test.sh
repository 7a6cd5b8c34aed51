#!/bin/sh
# retime_test - after SIGHUP, a changed wait or send window applies to the
# jobs already queued: postdrip-engine runs as a daemon on a set clock
# (POSTDRIP_NOW, Saturday 7 March 2026 12:00 UTC); a 10-day wait shortened
# to 2 days ends 2 days after it began, and a send put off to Monday 08:00
# by its window is put off to Monday 10:00 once the window opens at 10:00.
# No mail is sent, so no Postfix is needed.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

mkdir -p "$T/data" "$T/workflows" "$T/templates"
cat >"$T/postdrip.conf" <<EOF
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
inject_address = 127.0.0.1:9
EOF
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
printf 'From: a@acme.test\nSubject: hi\n\nHello.\n' >"$T/templates/t.tmpl"
waiter() {
	printf 'workflow: waiter\ntrigger: manual\nsteps:\n  - wait: %s\n  - add_tag: waited\n' "$1" \
	    >"$T/workflows/waiter.yaml"
}
sender() {
	printf 'workflow: sender\ntrigger: manual\nsend:\n  days: mon-fri\n  hours: "%s"\n  timezone: UTC\nsteps:\n  - send: t\n' \
	    "$1" >"$T/workflows/sender.yaml"
}
waiter 10d
sender 08:00-18:00
$PD keygen >/dev/null || fail "keygen"
$PD check >&2 || fail "check"
export POSTDRIP_NOW=2026-03-07T12:00:00Z
$PD contact add w@example.com >/dev/null || fail "contact add"
$PD enrol w@example.com waiter >/dev/null || fail "enrol waiter"
$PD enrol w@example.com sender >/dev/null || fail "enrol sender"

"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT

# wait_queue WORKFLOW PATTERN - until its queue row matches, 10 s at most
wait_queue() {
	i=0
	while [ $i -lt 200 ]; do
		$PD queue workflow=$1 --json | grep -q "$2" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	cat "$T/engine.log" >&2
	$PD queue >&2
	fail "$1: no '$2' in the queue after 10 s"
}
# wait_log PATTERN - until the engine logged it, 10 s at most
wait_log() {
	i=0
	until grep -q "$1" "$T/engine.log"; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "no '$1' logged"; sleep 0.05
	done
}

wait_queue waiter '"due_utc":"2026-03-17T12:00:00Z","zone":"UTC","address":"w@example.com","workflow":"waiter","step":"[^"]*","waits_for":"wait"'
wait_queue sender '"due_utc":"2026-03-09T08:00:00Z".*"waits_for":"send_window"'

waiter 2d
sender 10:00-18:00
kill -HUP $pid
wait_log "reload: 2 queued jobs re-timed"
wait_queue waiter '"due_utc":"2026-03-09T12:00:00Z".*"waits_for":"wait"'
wait_queue sender '"due_utc":"2026-03-09T10:00:00Z".*"waits_for":"send_window"'

# Nothing to move on a reload that changes nothing.
kill -HUP $pid
wait_log "reload: 0 queued jobs re-timed"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "the engine did not stop"; sleep 0.05
done
pass
