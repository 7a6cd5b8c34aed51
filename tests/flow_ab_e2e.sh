#!/bin/sh
# flow_ab_e2e - the shipped A/B workflow (conf/workflows/launch-ab.yaml)
# through a private Postfix relaying to smtp-sink, with a set clock:
# contacts tagged "launch" are split between the arms "time" and "money"
# (each contact's subject line is its arm's, and its sends record the arm);
# a human click through the tracker (real HTTP) spares its contact the
# reminder three days later; a purchase (the goal) ends an enrolment; a
# re-run at the same time sends nothing twice; once the marketer promotes
# "money", contacts tagged on a Saturday all get that arm, on Monday
# (the send window is mon-fri 09:00-17:00).

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"
command -v curl >/dev/null || pfx_skip "curl is not installed"

pfx_require
pfx_init
pfx_start

PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows"
cp "$top_srcdir/conf/workflows/launch-ab.yaml" "$PD_DIR/workflows/" || pfx_fail "copy workflow"
tport=$(pfx_free_port)
B=http://127.0.0.1:$tport
cat >"$PD_DIR/postdrip.conf" <<EOF
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $top_srcdir/conf/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
bounce_domain = bounce.test
tracker_url = $B
tracker_listen = inet:127.0.0.1:$tport
EOF
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
ENGINE="$top_builddir/engine/postdrip-engine -c $PD_DIR/postdrip.conf"
TT=$top_builddir/tests/track_tool

$PD keygen >/dev/null || pfx_fail "keygen"
$PD check || pfx_fail "postdrip check"

run_engine() {
	POSTDRIP_NOW=$1 $ENGINE --once 2>>"$PD_DIR/engine.log" || pfx_fail "engine --once at $1"
}
nsink() { ls "$PFX_SINK" | wc -l; }
# who_got SUBJECT - the recipients of the sink files with this subject, sorted
who_got() {
	for f in $(pfx_sink_files); do
		grep -q "^Subject: $1\$" "$f" &&
		    sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1
	done | sort
}

# Monday 2 March 2026, 09:30 UTC: twenty contacts are tagged "launch";
# c20 asked for no announcements (the audience leaves it out).
export POSTDRIP_NOW=2026-03-02T09:30:00Z
i=1
while [ $i -le 20 ]; do
	a=$(printf 'c%02d@sink.test' $i)
	tag=; [ $i = 20 ] && tag="--tag no-announcements"
	$PD contact add "$a" first_name=C$i $tag >/dev/null || pfx_fail "contact add $a"
	i=$((i + 1))
done
i=1
while [ $i -le 20 ]; do
	$PD event "$(printf 'c%02d@sink.test' $i)" tag_added tag=launch || pfx_fail "event"
	i=$((i + 1))
done
run_engine 2026-03-02T09:30:05Z
pfx_wait_delivered 19 30 || pfx_fail "first sends not delivered ($(nsink))"
# The same now again: nothing twice.
run_engine 2026-03-02T09:30:06Z
sleep 0.5
[ "$(nsink)" = 19 ] || pfx_fail "want 19 messages after the re-run, got $(nsink)"
$PD timeline c20@sink.test | grep -q "	sent	" && pfx_fail "c20 (no-announcements) got mail"

time_arm=$(who_got 'Get your Fridays back')
money_arm=$(who_got 'One subscription fewer')
nt=$(echo "$time_arm" | grep -c .)
nm=$(echo "$money_arm" | grep -c .)
[ $((nt + nm)) = 19 ] || pfx_fail "arms: $nt + $nm, want 19"
# Both arms are used (all 19 on one side at 50/50: 1 chance in 262144).
[ "$nt" -gt 0 ] && [ "$nm" -gt 0 ] || pfx_fail "one arm is empty: time $nt, money $nm"
# Each send records the arm of its subject, after the split's own event.
for a in $time_arm; do
	$PD timeline "$a" | grep -q "	workflow_split	workflow=launch-ab step=angle arm=time promoted=false" ||
	    pfx_fail "$a: no split to time in the timeline"
	$PD timeline "$a" | grep "	sent	" | grep -q "step=angle.time.1 .*arm=time" ||
	    { $PD timeline "$a" >&2; pfx_fail "$a: send without arm=time"; }
done
for a in $money_arm; do
	$PD timeline "$a" | grep "	sent	" | grep -q "step=angle.money.1 .*arm=money" ||
	    { $PD timeline "$a" >&2; pfx_fail "$a: send without arm=money"; }
done

# Tuesday: the first contact of each arm acts. tc clicks its link through
# the tracker (a browser, real HTTP); mc buys (the goal).
tc=$(echo "$time_arm" | head -n 1)
mc=$(echo "$money_arm" | head -n 1)
POSTDRIP_NOW=2026-03-03T11:00:00Z $PD event "$mc" purchased order=1001 || pfx_fail "purchase"
cid=$($PD contact show "$tc" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
msgno=$($PD timeline "$tc" | sed -n 's/.*	sent	.*msgno=\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$cid" ] && [ -n "$msgno" ] || pfx_fail "no contact id or msgno for $tc"
url=$($TT url "$PD_DIR/keys" "$B" click "$cid" "$msgno" 1 flow 'https://example.com/flow?angle=time') ||
    pfx_fail "track_tool url"
POSTDRIP_NOW=2026-03-03T11:00:00Z pfx_spawn engine $ENGINE -f
pfx_wait_listen "$tport" 10 || pfx_fail "tracker not listening"
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
    -A 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' "$url")
[ "$r" = "302 https://example.com/flow?angle=time" ] || pfx_fail "click answered '$r'"
i=0
until $PD timeline "$tc" | grep -q "	clicked	"; do
	i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "the click is not in $tc's timeline"; sleep 0.1
done
$PD timeline "$tc" | grep "	clicked	" | grep -q "machine=true\|scanner" &&
    pfx_fail "the browser's click was labelled a machine's"
pfx_kill "$(pfx_pid engine)" 10

# Thursday 5 March, 09:30: three days on, the reminder goes to the
# contacts who neither clicked nor bought.
run_engine 2026-03-05T09:30:10Z
pfx_wait_delivered 36 30 || pfx_fail "reminders not delivered ($(nsink))"
sleep 0.5
[ "$(nsink)" = 36 ] || pfx_fail "want 36 messages, got $(nsink)"
rem=$(who_got 'Acme Flow, in one minute')
echo "$rem" | grep -qx "$tc" && pfx_fail "$tc clicked and still got the reminder"
echo "$rem" | grep -qx "$mc" && pfx_fail "$mc bought and still got the reminder"
[ "$(echo "$rem" | grep -c .)" = 17 ] || pfx_fail "reminders: $(echo "$rem" | tr '\n' ' ')"
# The reminder records the arm too.
a=$(echo "$time_arm" | sed -n 2p)
if [ -n "$a" ]; then
	$PD timeline "$a" | grep "	sent	" | grep -q "step=angle.time.3.then.1 .*arm=time" ||
	    pfx_fail "$a: reminder without arm=time"
fi
$PD timeline "$mc" | grep -q "	workflow_exited	workflow=launch-ab reason=purchased" ||
    { $PD timeline "$mc" >&2; pfx_fail "$mc: the goal is not in the timeline"; }

# The marketer ends the test: money won.
$PD workflow promote launch-ab angle nosuch 2>/dev/null && pfx_fail "promoted an unknown arm"
$PD workflow promote launch-ab angle money >/dev/null || pfx_fail "promote"
# Saturday 7 March: five new contacts are tagged; nothing goes out at the weekend.
export POSTDRIP_NOW=2026-03-07T10:00:00Z
for n in 21 22 23 24 25; do
	$PD contact add "c$n@sink.test" >/dev/null || pfx_fail "contact add c$n"
	$PD event "c$n@sink.test" tag_added tag=launch || pfx_fail "event c$n"
done
run_engine 2026-03-07T10:00:05Z
sleep 0.5
[ "$(nsink)" = 36 ] || pfx_fail "sent on a Saturday: $(nsink)"
# Monday 9 March, 09:00: the five get the promoted arm, all of them.
run_engine 2026-03-09T09:00:30Z
pfx_wait_delivered 41 30 || pfx_fail "promoted sends not delivered ($(nsink))"
sleep 0.5
[ "$(nsink)" = 41 ] || pfx_fail "want 41 messages, got $(nsink)"
for n in 21 22 23 24 25; do
	[ "$(who_got 'One subscription fewer' | grep -cx "c$n@sink.test")" = 1 ] ||
	    pfx_fail "c$n did not get the promoted arm"
	$PD timeline "c$n@sink.test" | grep -q "	workflow_split	workflow=launch-ab step=angle arm=money promoted=true" ||
	    pfx_fail "c$n: split not recorded as promoted"
	$PD timeline "c$n@sink.test" | grep "	sent	" | cut -f1 | grep -qx "2026-03-09T09:00:30Z" ||
	    pfx_fail "c$n: not sent at Monday's opening"
done
echo "ok: 19 split $nt time / $nm money; click and goal spared the reminder; promoted money to 5 on Monday"
exit 0
