#!/bin/sh
# engine_daemon - postdrip-engine as a daemon: an event recorded by the CLI
# starts its workflow within a tick or two (the engine follows the event
# sequence every second); SIGHUP loads a new workflow; SIGTERM stops it
# cleanly. No mail is sent, so no Postfix is needed.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

mkdir -p "$T/data" "$T/workflows" "$T/templates"
cat >"$T/postdrip.conf" <<EOF2
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
EOF2
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
$PD keygen >/dev/null || fail "keygen"
printf 'workflow: tagger\ntrigger:\n  event: ping\nreentry: always\nsteps:\n  - add_tag: pinged\n' \
    >"$T/workflows/tagger.yaml"
$PD contact add d@example.com >/dev/null || fail "contact add"

"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT

# wait_timeline PATTERN - until d's timeline has a line matching, 10 s at most
wait_timeline() {
	i=0
	while [ $i -lt 200 ]; do
		$PD timeline d@example.com | grep -q "$1" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	cat "$T/engine.log" >&2
	fail "no '$1' in the timeline after 10 s"
}

sleep 0.3
a=$(date +%s.%N)
$PD event d@example.com ping || fail "event"
wait_timeline "tag_added	tag=pinged"
b=$(date +%s.%N)
echo "trigger to step: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }') s"

# A new workflow, loaded by SIGHUP.
printf 'workflow: scorer\ntrigger:\n  event: pong\nsteps:\n  - add_score: 3\n' \
    >"$T/workflows/scorer.yaml"
kill -HUP $pid
i=0
until grep -q "reloaded: 2 workflows" "$T/engine.log"; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "no reload logged"; sleep 0.05
done
$PD event d@example.com pong || fail "event"
wait_timeline "score_changed	score=3"

# A broken workflow file is refused; the engine goes on with the old set.
printf 'workflow: broken\ntrigger:\n  event: [\n' >"$T/workflows/broken.yaml"
kill -HUP $pid
i=0
until grep -q "reload refused" "$T/engine.log"; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "broken reload not refused"; sleep 0.05
done
kill -0 $pid 2>/dev/null || fail "the engine died on a broken reload"

# A manual workflow, started by "postdrip enrol".
printf 'workflow: byhand\ntrigger:\n  manual: yes\nreentry: once\nsteps:\n  - add_tag: byhand\n' \
    >"$T/workflows/byhand.yaml"
rm -f "$T/workflows/broken.yaml"
kill -HUP $pid
i=0
until grep -q "reloaded: 3 workflows" "$T/engine.log"; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "no reload of the manual workflow"; sleep 0.05
done
$PD enrol d@example.com byhand | grep -q "^enrolled d@example.com in byhand" || fail "enrol"
wait_timeline "tag_added	tag=byhand"
expect_status 1 $PD enrol d@example.com byhand
expect_status 1 $PD enrol d@example.com nosuch
expect_status 1 $PD enrol nobody@example.com byhand
expect_status 2 $PD enrol d@example.com

kill -TERM $pid
wait $pid
status=$?
[ $status = 0 ] || fail "exit status $status after SIGTERM"
grep -q "stopping" "$T/engine.log" || fail "no clean stop logged"
pass
