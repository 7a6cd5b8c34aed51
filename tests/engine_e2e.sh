#!/bin/sh
# engine_e2e - a three-step workflow with a branch on a click, run over
# simulated weeks by postdrip-engine --once at successive POSTDRIP_NOW
# values, injecting into a private Postfix that relays to smtp-sink.
# Checked on the sink's files (who got which step; List-Unsubscribe with
# https and mailto; a VERP return path whose token verifies and names the
# contact and the message) and on "postdrip timeline".

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"

pfx_require
pfx_init
pfx_start

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
EOF
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
ENGINE="$top_builddir/engine/postdrip-engine -c $PD_DIR/postdrip.conf --once"
TOKEN_TOOL=$top_builddir/tests/token_tool

cat >"$PD_DIR/workflows/e2e.yaml" <<'EOF'
workflow: e2e
description: intro, then pricing to those who clicked it, else a reminder, then a last word
trigger:
  event: subscribed
reentry: once
send:
  days: mon-fri
  hours: "08:00-18:00"
  timezone: UTC
steps:
  - send: intro
  - wait: 7d
  - if:
      clicked: pricing
    then:
      - send: pricing
    else:
      - send: reminder
  - wait: 5d
  - send: last
EOF
for t in intro pricing reminder last; do
	cat >"$PD_DIR/templates/$t.tmpl" <<EOF
From: Acme <news@acme.test>
Subject: [$t] for {{contact.first_name|you}}

Hello {{contact.first_name|there}}, this is the $t message.
EOF
done

$PD keygen >/dev/null || pfx_fail "keygen"
$PD check || pfx_fail "postdrip check"

# Monday 2 March 2026. Ann and Bob subscribe; Cat is imported without an
# event and must get nothing.
export POSTDRIP_NOW=2026-03-02T08:30:00Z
$PD contact add ann@sink.test first_name=Ann >/dev/null || pfx_fail "contact add"
$PD contact add bob@sink.test first_name=Bob >/dev/null || pfx_fail "contact add"
printf 'email,first_name\ncat@sink.test,Cat\n' >"$PD_DIR/cat.csv"
$PD contact import "$PD_DIR/cat.csv" >/dev/null || pfx_fail "import"

run_engine() {
	POSTDRIP_NOW=$1 $ENGINE 2>>"$PD_DIR/engine.log" || pfx_fail "engine --once at $1"
}

# Step 1 at once (inside the window), for both.
run_engine 2026-03-02T08:30:05Z
pfx_wait_delivered 2 20 || pfx_fail "intro not delivered"

# Ann clicks pricing on Wednesday; the engine runs, nothing is due.
POSTDRIP_NOW=2026-03-04T12:00:00Z $PD event ann@sink.test clicked link=pricing ||
    pfx_fail "event"
run_engine 2026-03-04T12:00:01Z
sleep 0.5
[ "$(ls "$PFX_SINK" | wc -l)" = 2 ] || pfx_fail "a message went out before its time"

# A week later: Monday 9 March, 08:30: Ann gets pricing, Bob the reminder.
run_engine 2026-03-09T08:30:10Z
pfx_wait_delivered 4 20 || pfx_fail "second step not delivered"

# Nothing again at the same time. The last step falls due on Saturday 14
# March, outside the send window: it waits for Monday 08:00.
run_engine 2026-03-09T08:30:11Z
run_engine 2026-03-14T10:00:00Z
sleep 0.5
[ "$(ls "$PFX_SINK" | wc -l)" = 4 ] || pfx_fail "sent on a Saturday or twice"
grep -q "delayed: .*reason=send window" "$PD_DIR/engine.log" ||
    pfx_fail "no send-window delay logged"
run_engine 2026-03-16T08:31:00Z
pfx_wait_delivered 6 20 || pfx_fail "last step not delivered"
sleep 0.5
[ "$(ls "$PFX_SINK" | wc -l)" = 6 ] || pfx_fail "want 6 messages, got $(ls "$PFX_SINK" | wc -l)"

# Who got what, in which order.
got=$(for f in $(pfx_sink_files); do
	rcpt=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	subj=$(sed -n 's/^Subject: \[\([a-z]*\)\].*/\1/p' "$f" | head -n 1)
	echo "$rcpt $subj"
done | sort | tr '\n' ' ')
want="ann@sink.test intro ann@sink.test last ann@sink.test pricing bob@sink.test intro bob@sink.test last bob@sink.test reminder "
[ "$got" = "$want" ] || pfx_fail "deliveries: got '$got', want '$want'"

ann_id=$($PD contact show ann@sink.test | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -n 1)
[ -n "$ann_id" ] || pfx_fail "no id for ann"

for f in $(pfx_sink_files); do
	grep -q '^List-Unsubscribe: <https://track.test/u/[a-z2-7]*>,' "$f" ||
	    pfx_fail "$f: no https List-Unsubscribe"
	grep -A1 '^List-Unsubscribe:' "$f" | grep -q '<mailto:unsubscribe+[a-z2-7]*@bounce.test>' ||
	    pfx_fail "$f: no mailto List-Unsubscribe"
	grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$f" ||
	    pfx_fail "$f: no List-Unsubscribe-Post"
	grep -q '^X-Postdrip-Workflow: e2e' "$f" || pfx_fail "$f: no workflow header"
	sender=$(sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	case $sender in
	bounces+*@bounce.test) ;;
	*) pfx_fail "$f: envelope sender '$sender' is not a VERP address" ;;
	esac
	tok=${sender#bounces+}
	tok=${tok%@bounce.test}
	set -- $($TOKEN_TOOL "$PD_DIR/keys" "$tok") || pfx_fail "$f: VERP token does not verify"
	[ "$1" = 1 ] || pfx_fail "$f: token kind $1, want VERP (1)"
	# A forged token is refused.
	$TOKEN_TOOL "$PD_DIR/keys" "a$tok" >/dev/null && pfx_fail "a forged token verified"
	if grep -q '^X-Rcpt-Args: <ann@sink.test>' "$f"; then
		[ "$2" = "$ann_id" ] || pfx_fail "$f: token names contact $2, want $ann_id"
		mid=$(sed -n 's/^Message-I[dD]: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
		# The message number in the token is the one recorded for the send.
		$PD timeline ann@sink.test | grep "	sent	.*message_id=$mid .*msgno=$3\$" >/dev/null ||
		    pfx_fail "$f: Message-ID $mid with msgno $3 not in Ann's timeline"
	fi
done

# The timeline: three sends naming workflow, step and Message-ID; the
# branch taken; completion.
$PD timeline ann@sink.test >"$PD_DIR/ann.timeline"
[ "$(grep -c "	sent	workflow=e2e step=" "$PD_DIR/ann.timeline")" = 3 ] ||
    { cat "$PD_DIR/ann.timeline" >&2; pfx_fail "Ann's timeline lacks three sent lines"; }
grep -q "	workflow_branch	workflow=e2e step=3 result=then" "$PD_DIR/ann.timeline" ||
    pfx_fail "Ann's branch is not 'then'"
grep -q "	workflow_completed	workflow=e2e" "$PD_DIR/ann.timeline" ||
    pfx_fail "Ann's enrolment did not complete"
$PD timeline bob@sink.test | grep -q "	workflow_branch	workflow=e2e step=3 result=else" ||
    pfx_fail "Bob's branch is not 'else'"
$PD timeline cat@sink.test | grep -q "	sent	" && pfx_fail "Cat got mail"
# Sends are on the days the window allows.
grep "	sent	" "$PD_DIR/ann.timeline" | cut -f1 | tr '\n' ' ' |
    grep -q "^2026-03-02T08:30:05Z 2026-03-09T08:30:10Z 2026-03-16T08:31:00Z $" ||
    pfx_fail "send times: $(grep "	sent	" "$PD_DIR/ann.timeline" | cut -f1 | tr '\n' ' ')"
# One tick at a time per store: while another process holds engine.lock
# (a daemon's tick), a --once run waits, and says so, instead of working
# the same jobs at the same time; then it runs.
[ -e "$PD_DIR/data/engine.lock" ] || pfx_fail "no engine.lock in the data directory"
if command -v flock >/dev/null 2>&1; then
	flock "$PD_DIR/data/engine.lock" sleep 4 &
	holder=$!
	sleep 0.5
	POSTDRIP_NOW=2026-03-16T08:32:00Z timeout 1 $ENGINE 2>"$PD_DIR/locked.log"
	rc=$?
	wait $holder
	[ $rc = 124 ] || pfx_fail "--once did not wait for the tick lock (exit $rc): $(cat "$PD_DIR/locked.log")"
	grep -q "another postdrip-engine is working on this store (engine.lock)" "$PD_DIR/locked.log" ||
	    pfx_fail "no log line while waiting: $(cat "$PD_DIR/locked.log")"
	run_engine 2026-03-16T08:32:00Z
fi
echo "ok: 6 messages, Ann: intro, pricing, last; Bob: intro, reminder, last; --once waits for the tick lock"
exit 0
