#!/bin/sh
# engine_crash - postdrip-engine killed with SIGKILL again and again in the
# middle of its work, then restarted: no step is lost and no step is
# composed twice. Every contact gets exactly one Message-ID per send step,
# and every sent record reaches the sink. A message that Postfix accepted
# just before a kill, before the engine recorded the outcome, is injected
# once more after the restart with the same Message-ID (the milter drops it
# by Message-ID); the test counts those and allows only them.
#
# With CRASH_WITH_MILTER=1 (engine_crash_milter.sh) postdrip-milter sits on
# the smtpd the engine injects into, as in production: then not one
# duplicate may reach the sink.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"

pfx_require
pfx_init

N=300
PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows" "$PD_DIR/templates"
cat >"$PD_DIR/postdrip.conf" <<EOF
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $PD_DIR/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
bounce_domain = bounce.test
tracker_url = https://track.test
engine_batch_size = 25
inject_connections = 2
milter_listen = unix:$PD_DIR/milter.sock
EOF
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
ENGINE="$top_builddir/engine/postdrip-engine -c $PD_DIR/postdrip.conf"
cat >"$PD_DIR/workflows/crash.yaml" <<'EOF'
workflow: crash
trigger:
  event: subscribed
steps:
  - send: one
  - wait: 1d
  - send: two
EOF
for t in one two; do
	printf 'From: Acme <news@acme.test>\nSubject: %s\n\nStep %s for {{contact.email}}.\n' \
	    "$t" "$t" >"$PD_DIR/templates/$t.tmpl"
done
$PD keygen >/dev/null || pfx_fail "keygen"
if [ "${CRASH_WITH_MILTER:-0}" = 1 ]; then
	pfx_spawn milter "$top_builddir/milter/postdrip-milter" -f -c "$PD_DIR/postdrip.conf"
	pfx_wait_socket "$PD_DIR/milter.sock" 10 milter || pfx_fail "milter does not listen"
	pfx_conf "smtpd_milters = unix:$PD_DIR/milter.sock" \
	    "milter_protocol = 6" "milter_default_action = tempfail"
fi
pfx_start

export POSTDRIP_NOW=2026-03-02T09:00:00Z
{
	echo email
	i=0
	while [ $i -lt $N ]; do echo "c$i@sink.test"; i=$((i + 1)); done
} >"$PD_DIR/c.csv"
$PD contact import "$PD_DIR/c.csv" --event subscribed >/dev/null || pfx_fail "import"

ENGINE_PID=
pfx_on_exit '[ -n "$ENGINE_PID" ] && kill -9 $ENGINE_PID 2>/dev/null'

# crash_run NOW - start the daemon at NOW, kill -9 it after a short, varied
# time, several times; then let --once finish what is left.
KILLS=0
crash_run() {
	for delay in 0.15 0.3 0.05 0.45 0.2 0.1 0.35; do
		POSTDRIP_NOW=$1 $ENGINE -f 2>>"$PD_DIR/engine.log" &
		ENGINE_PID=$!
		sleep $delay
		kill -9 $ENGINE_PID 2>/dev/null && KILLS=$((KILLS + 1))
		wait $ENGINE_PID 2>/dev/null
		ENGINE_PID=
	done
	POSTDRIP_NOW=$1 $ENGINE --once 2>>"$PD_DIR/engine.log" ||
	    pfx_fail "engine --once after the kills at $1"
}

crash_run 2026-03-02T09:00:05Z
crash_run 2026-03-03T09:00:10Z

# Every send recorded in the store, and only one per contact and step.
sends=$($PD stats | sed -n 's/^sent	//p')
[ "$sends" = $((2 * N)) ] || pfx_fail "store has $sends sends, want $((2 * N))"

# Everything recorded reaches the sink.
pfx_wait_delivered $((2 * N)) 60 || pfx_fail "not every send was delivered"
sleep 1

files=$(ls "$PFX_SINK" | wc -l)
for f in $(pfx_sink_files); do
	rcpt=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	step=$(sed -n 's/^X-Postdrip-Step: //p' "$f" | head -n 1)
	# Through postdrip-milter the X-Postdrip-* fields are removed; the
	# step is the second field of its Feedback-ID.
	[ -n "$step" ] || step=$(sed -n 's/^Feedback-ID: [^:]*:\([^:]*\):.*/\1/p' "$f" | head -n 1)
	mid=$(sed -n 's/^Message-I[dD]: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	echo "$rcpt $step $mid"
done | sort >"$PD_DIR/got"
# Distinct (contact, step, Message-ID): exactly one per contact and step.
sort -u "$PD_DIR/got" >"$PD_DIR/distinct"
[ "$(wc -l <"$PD_DIR/distinct")" = $((2 * N)) ] ||
    pfx_fail "$(wc -l <"$PD_DIR/distinct") distinct messages, want $((2 * N))"
[ "$(cut -d' ' -f1,2 "$PD_DIR/distinct" | sort -u | wc -l)" = $((2 * N)) ] ||
    pfx_fail "some contact got two different messages for one step"
i=0
while [ $i -lt $N ]; do
	for s in 1 3; do
		grep -q "^c$i@sink.test $s " "$PD_DIR/distinct" || pfx_fail "c$i@sink.test lacks step $s"
	done
	i=$((i + 1))
done
dups=$((files - 2 * N))
# A kill can catch at most one batch (engine_batch_size) accepted but not
# yet recorded.
[ $dups -le $((KILLS * 25)) ] || pfx_fail "$dups re-injected duplicates for $KILLS kills"
if [ "${CRASH_WITH_MILTER:-0}" = 1 ]; then
	[ $dups = 0 ] || pfx_fail "$dups duplicates reached the sink through postdrip-milter"
	echo "milter: $(grep -c -i "duplicate" "$PFX_DIR/milter.log") re-injected copies dropped by Message-ID"
fi
echo "ok: $KILLS kills, $((2 * N)) sends, none lost, none composed twice; $dups re-injected with the same Message-ID"
exit 0
