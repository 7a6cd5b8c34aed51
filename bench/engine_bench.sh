#!/bin/sh
# engine_bench.sh - the engine's figures: the scheduler's tick cost over
# 1,000,000 enrolments of which 1% are due (engine_bench tick), then, when
# a private Postfix can run here (root), messages per second injected into
# it by the engine's injector and by a whole "postdrip-engine --once" run,
# against smtp-source into the same Postfix in the same run (target: 80%).
# Every phase is bounded by its message count.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
B=$top_builddir/bench/engine_bench
N=${ENGINE_BENCH_ENROLMENTS:-1000000}
M=${ENGINE_BENCH_MESSAGES:-2000}
SESSIONS=${ENGINE_BENCH_SESSIONS:-8}

$B tick -n "$N" -d 1 || exit 1

if [ "$(id -u)" != 0 ] || [ ! -r "$top_srcdir/tests/lib/pfx.sh" ]; then
	echo "inject                 skipped: needs root and tests/lib/pfx.sh (a private Postfix)"
	exit 0
fi
. "$top_srcdir/tests/lib/pfx.sh"
pfx_require
pfx_init
# Deliveries to the sink must not hold back the smtpd being measured.
pfx_conf "default_destination_concurrency_limit = 20"
pfx_start

t() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

# 1. smtp-source: the reference.
a=$(t)
smtp-source -s "$SESSIONS" -l 1024 -m "$M" -f bench@acme.test -t r@sink.test \
    "127.0.0.1:$PFX_PORT" || pfx_fail "smtp-source failed"
b=$(t)
ref=$(rate "$M" "$a" "$b")
echo "smtp_source            $M messages in $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b-a}') s: $ref msgs/s ($SESSIONS sessions)"
pfx_wait_delivered "$M" 120 || pfx_fail "smtp-source's mail not delivered"

# 2. The engine's injector alone, same size, same number of connections.
out=$($B inject -a "127.0.0.1:$PFX_PORT" -n "$M" -c "$SESSIONS") || pfx_fail "inject failed: $out"
echo "$out"
inj=$(echo "$out" | sed -n 's/.*: \([0-9]*\) msgs\/s.*/\1/p')
pfx_wait_delivered $((2 * M)) 120 || pfx_fail "injected mail not delivered"

# 3. The whole engine: M contacts enrolled and sent one message each by
# postdrip-engine --once (compose, record, inject, record the outcome).
PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows" "$PD_DIR/templates"
cat >"$PD_DIR/postdrip.conf" <<EOF
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $PD_DIR/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
inject_connections = $SESSIONS
bounce_domain = bounce.test
tracker_url = https://track.test
EOF
printf 'workflow: bench\ntrigger:\n  event: subscribed\nsteps:\n  - send: b\n' \
    >"$PD_DIR/workflows/bench.yaml"
{
	printf 'From: Acme <news@acme.test>\nSubject: Hello {{contact.first_name|there}}\n\n'
	i=0
	while [ $i -lt 14 ]; do
		echo "Lorem ipsum dolor sit amet, consectetur adipiscing elit, {{contact.email}}."
		i=$((i + 1))
	done
} >"$PD_DIR/templates/b.tmpl"
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
$PD keygen >/dev/null
{
	echo email,first_name
	i=0
	while [ $i -lt "$M" ]; do echo "e$i@sink.test,E$i"; i=$((i + 1)); done
} >"$PD_DIR/c.csv"
export POSTDRIP_NOW=2026-03-02T09:00:00Z
$PD contact import "$PD_DIR/c.csv" --event subscribed >/dev/null || pfx_fail "import"
a=$(t)
POSTDRIP_NOW=2026-03-02T09:00:01Z $top_builddir/engine/postdrip-engine \
    -c "$PD_DIR/postdrip.conf" --once 2>"$PD_DIR/engine.log" || pfx_fail "engine failed"
b=$(t)
eng=$(rate "$M" "$a" "$b")
sent=$(grep -c ' sent: ' "$PD_DIR/engine.log")
echo "engine_once            $sent sends (enrol, compose, record, inject, record) in $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b-a}') s: $eng msgs/s"
pfx_wait_delivered $((3 * M)) 120 || pfx_fail "the engine's mail not delivered"
echo "ratio                  injector $(awk -v x="$inj" -v y="$ref" 'BEGIN{printf "%.0f", 100*x/y}')% of smtp-source, whole engine $(awk -v x="$eng" -v y="$ref" 'BEGIN{printf "%.0f", 100*x/y}')% (target 80%)"
exit 0
