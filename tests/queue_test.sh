#!/bin/sh
# queue_test - "postdrip queue" on a set clock with postdrip-engine --once
# injecting into a private Postfix: the listing (due time in the contact's
# zone and in UTC, address, workflow, step, why it waits), its filters and
# --json; --flush (a wait ends now, a send window still applies); --hold
# (the engine skips the enrolment) and --release; --delete. And "postdrip
# enrol" naming the rule that refuses.

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

# drip: weekdays 08:00-18:00 in Berlin (UTC+1 in March).
cat >"$PD_DIR/workflows/drip.yaml" <<'EOF'
workflow: drip
trigger: manual
reentry: once
send:
  days: mon-fri
  hours: "08:00-18:00"
  timezone: Europe/Berlin
steps:
  - send: intro
  - wait: 3d
  - send: second
EOF
# other: a wait, then a send at any time; only for tagged contacts.
cat >"$PD_DIR/workflows/other.yaml" <<'EOF'
workflow: other
trigger: manual
reentry: once
audience:
  tag: member
steps:
  - wait: 1d
  - send: other
EOF
for t in intro second other; do
	printf 'From: Acme <news@acme.test>\nSubject: [%s]\n\nThe %s message.\n' "$t" "$t" \
	    >"$PD_DIR/templates/$t.tmpl"
done
$PD keygen >/dev/null || pfx_fail "keygen"
$PD check || pfx_fail "postdrip check"

sent() { ls "$PFX_SINK" | wc -l | tr -d ' '; }
run_engine() {
	POSTDRIP_NOW=$1 $ENGINE 2>>"$PD_DIR/engine.log" || pfx_fail "engine --once at $1"
}

# Saturday 7 March 2026, 10:00 UTC.
export POSTDRIP_NOW=2026-03-07T10:00:00Z
for a in ann bob; do
	$PD contact add $a@sink.test --tag member >/dev/null || pfx_fail "contact add $a"
done
$PD contact add cat@sink.test >/dev/null || pfx_fail "contact add cat"
$PD contact add dan@sink.test --tag member >/dev/null || pfx_fail "contact add dan"
$PD queue > "$PD_DIR/q0" || pfx_fail "queue on an empty schedule"
grep -q '^Queue is empty$' "$PD_DIR/q0" || pfx_fail "empty queue: $(cat "$PD_DIR/q0")"

$PD enrol ann@sink.test drip >/dev/null || pfx_fail "enrol ann drip"
$PD enrol bob@sink.test drip >/dev/null || pfx_fail "enrol bob drip"
$PD enrol ann@sink.test other >/dev/null || pfx_fail "enrol ann other"

# Enrol says which rule refused, one at a time.
$PD enrol ann@sink.test drip 2> "$PD_DIR/e1" && pfx_fail "enrolled twice"
grep -q 'not enrolled in drip: already enrolled (enrolment [0-9]*, step ' "$PD_DIR/e1" ||
    pfx_fail "already enrolled: $(cat "$PD_DIR/e1")"
$PD enrol cat@sink.test other 2> "$PD_DIR/e2" && pfx_fail "enrolled outside the audience"
grep -q 'not enrolled in other: audience filter does not match$' "$PD_DIR/e2" ||
    pfx_fail "audience: $(cat "$PD_DIR/e2")"
$PD suppress dan@sink.test --reason complaint >/dev/null || pfx_fail "suppress"
$PD enrol dan@sink.test drip 2> "$PD_DIR/e3" && pfx_fail "enrolled a suppressed address"
grep -q 'not enrolled in drip: suppressed (complaint since 2026-03-07T10:00:00Z)$' "$PD_DIR/e3" ||
    pfx_fail "suppressed: $(cat "$PD_DIR/e3")"

# The engine's first tick: drip waits for Monday 08:00 Berlin, other for
# its day.
run_engine 2026-03-07T10:00:00Z
[ "$(sent)" = 0 ] || pfx_fail "sent on a Saturday"
$PD queue > "$PD_DIR/q1" || pfx_fail "queue"
cat "$PD_DIR/q1" >&2
row() { # FILE ADDRESS WORKFLOW: the row, joined with its address line
	awk -v a="<$2>" -v w="$3" '{ if (index($0, a) && prev ~ (" " w " ")) print prev; prev = $0 }' "$1"
}
row "$PD_DIR/q1" ann@sink.test drip | grep -q ' 2026-03-09T08:00:00+01:00 *2026-03-09T07:00:00Z *drip *1 *send_window$' ||
    pfx_fail "ann drip row: $(row "$PD_DIR/q1" ann@sink.test drip)"
row "$PD_DIR/q1" ann@sink.test other | grep -q ' 2026-03-08T10:00:00Z *2026-03-08T10:00:00Z *other *[^ ]* *wait$' ||
    pfx_fail "ann other row: $(row "$PD_DIR/q1" ann@sink.test other)"
row "$PD_DIR/q1" bob@sink.test drip | grep -q 'send_window$' || pfx_fail "bob drip row"
grep -q '^-- 3 jobs, 0 held$' "$PD_DIR/q1" || pfx_fail "queue summary: $(tail -1 "$PD_DIR/q1")"

# Filters and --json.
[ "$($PD queue workflow=other --json | grep -o '"enrolment"' | wc -l)" = 1 ] || pfx_fail "filter workflow"
[ "$($PD queue contact=ann@sink.test --json | grep -o '"enrolment"' | wc -l)" = 2 ] || pfx_fail "filter contact"
[ "$($PD queue bob@sink.test drip --json | grep -o '"enrolment"' | wc -l)" = 1 ] || pfx_fail "two filters"
[ "$($PD queue nobody@sink.test --json)" = "[]" ] || pfx_fail "unknown contact"
$PD queue --json contact=ann@sink.test workflow=drip > "$PD_DIR/j1"
for kv in '"due": "2026-03-09T08:00:00+01:00"' '"due_utc": "2026-03-09T07:00:00Z"' \
    '"zone": "Europe/Berlin"' '"address": "ann@sink.test"' '"workflow": "drip"' \
    '"step": "1"' '"waits_for": "send_window"' '"held": false'; do
	tr ',' '\n' < "$PD_DIR/j1" | sed 's/[][{}]//g; s/^ *//; s/":/": /' | grep -qF "$kv" ||
	    pfx_fail "json lacks $kv: $(cat "$PD_DIR/j1")"
done
expect_usage() { "$@" >/dev/null 2>&1; [ $? = 2 ] || pfx_fail "not a usage error: $*"; }
expect_usage $PD queue --hold
expect_usage $PD queue --delete
expect_usage $PD queue --bogus

# Hold bob's drip.
$PD queue --hold bob@sink.test drip | grep -q 'held 1 enrolment$' || pfx_fail "hold"
$PD queue > "$PD_DIR/q2"
row "$PD_DIR/q2" bob@sink.test drip | grep -q ' hold$' || pfx_fail "bob not shown held: $(cat "$PD_DIR/q2")"
grep -q '^-- 3 jobs, 1 held$' "$PD_DIR/q2" || pfx_fail "summary with a hold"

# Flush other: the wait ends now and its send goes out (no window there).
$PD queue --flush workflow=other | grep -q 'flushed 1 enrolment$' || pfx_fail "flush other"
run_engine 2026-03-07T10:00:01Z
pfx_wait_delivered 1 20 || pfx_fail "flushed wait: nothing sent"
# Flush drip: the window still applies on Saturday.
$PD queue --flush drip | grep -q 'flushed 1 enrolment$' || pfx_fail "flush drip (bob is held)"
run_engine 2026-03-07T10:00:02Z
[ "$(sent)" = 1 ] || pfx_fail "a flush sent outside the send window"
row "$($PD queue > "$PD_DIR/q3"; echo "$PD_DIR/q3")" ann@sink.test drip | grep -q '2026-03-09T07:00:00Z .*send_window$' ||
    pfx_fail "after a flush, the window: $(cat "$PD_DIR/q3")"

# Monday 07:30 UTC: ann's intro goes out; bob is held and gets nothing.
run_engine 2026-03-09T07:30:00Z
pfx_wait_delivered 2 20 || pfx_fail "ann's intro"
$PD queue bob@sink.test --json | grep -q '"waits_for": *"hold"' || pfx_fail "bob no longer held"
# Released, bob's job is due at once (its time has passed).
$PD queue --release enrolment=$($PD queue bob@sink.test --json | sed 's/.*"enrolment": *\([0-9]*\).*/\1/') |
    grep -q 'released 1 enrolment$' || pfx_fail "release"
run_engine 2026-03-09T07:30:01Z
pfx_wait_delivered 3 20 || pfx_fail "bob's intro after release"

# Delete ann's drip: it ends, and its re-entry rule then refuses.
$PD queue --delete ann@sink.test drip | grep -q 'deleted 1 enrolment$' || pfx_fail "delete"
[ "$($PD queue ann@sink.test drip --json)" = "[]" ] || pfx_fail "deleted enrolment still queued"
$PD enrol ann@sink.test drip 2> "$PD_DIR/e4" && pfx_fail "re-entered"
grep -q 'not enrolled in drip: re-entry rule: once (enrolment [0-9]* ended: deleted)$' "$PD_DIR/e4" ||
    pfx_fail "re-entry: $(cat "$PD_DIR/e4")"
run_engine 2026-03-12T08:00:00Z
pfx_wait_delivered 4 20 || pfx_fail "bob's second"
got=$(for f in $(pfx_sink_files); do
	rcpt=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	subj=$(sed -n 's/^Subject: \[\([a-z]*\)\].*/\1/p' "$f" | head -n 1)
	echo "$rcpt $subj"
done | sort | tr '\n' ' ')
want="ann@sink.test intro ann@sink.test other bob@sink.test intro bob@sink.test second "
[ "$got" = "$want" ] || pfx_fail "deliveries: got '$got', want '$want'"

# stats per workflow: enrolments by state, sends by outcome.
$PD stats > "$PD_DIR/stats" || pfx_fail "stats"
cat "$PD_DIR/stats" >&2
grep -Eq '^drip +2 +0 +1 +1 +3 +3 +0 +0 +0$' "$PD_DIR/stats" || pfx_fail "stats drip"
grep -Eq '^ +exited: deleted=1$' "$PD_DIR/stats" || pfx_fail "stats: exited by reason"
grep -Eq '^other +1 +0 +1 +0 +1 +1 +0 +0 +0$' "$PD_DIR/stats" || pfx_fail "stats other"
$PD stats --json | grep -q '"drip": {"active": 0, "bounced": 0, "completed": 1, "deferred": 0, "delivered": 3, "enrolled": 2, "exited": 1, "exited_by_reason": {"deleted": 1}, "refused": 0, "sent": 3}' ||
    pfx_fail "stats --json: $($PD stats --json)"
echo "PASS: queue_test.sh"
exit 0
