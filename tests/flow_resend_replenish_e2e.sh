#!/bin/sh
# flow_resend_replenish_e2e - two shipped workflows through a private
# Postfix relaying to smtp-sink, with a set clock, sharing one store:
#
# campaign-resend (conf/workflows/campaign-resend.yaml): contacts tagged
# "autumn" get the offer inside the send window (mon-fri 09:00-17:00);
# four days later the clickers get the next offer, the openers who did not
# click another message, the others a new angle. Opens and clicks are real
# HTTP requests to the tracker: an Apple Mail Privacy Protection open and a
# link scanner's clicks are labelled machine and count for nothing, a
# click on the "fewer messages" (unsubscribe) link is no click, a one-click
# unsubscribe and a purchase (the goal) end the enrolment.
#
# replenish (conf/workflows/replenish.yaml): a purchase with
# supply_days=30 brings reminders at day 15 and 21, inside 09:00-19:00; a
# second purchase restarts the count; other purchases enrol nobody.
#
# One contact is in both: with frequency_caps = 1/1d, its campaign message
# due the same morning as its replenishment reminder waits for the cap and
# then for the campaign's window (the weekend), and goes out on Monday.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"
command -v curl >/dev/null || pfx_skip "curl is not installed"
PY=/usr/bin/python3

pfx_require
pfx_init
pfx_start

PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows"
for w in campaign-resend replenish; do
	cp "$top_srcdir/conf/workflows/$w.yaml" "$PD_DIR/workflows/" || pfx_fail "copy $w"
done
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
frequency_caps = 1/1d
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
# settle N - wait for N messages at the sink, and no more
settle() {
	pfx_wait_delivered "$1" 30 || pfx_fail "want $1 messages at the sink, got $(nsink)"
	sleep 0.5
	[ "$(nsink)" = "$1" ] || pfx_fail "want $1 messages at the sink, got $(nsink)"
}
# got ADDRESS - the subjects ADDRESS received, one a line, in order of sending
got() {
	for f in $(pfx_sink_files); do
		sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1 | grep -qx "$1" || continue
		printf '%s\t%s\n' "$(sed -n 's/^Date: //p' "$f" | head -n 1)" \
		    "$(sed -n 's/^Subject: //p' "$f" | head -n 1)"
	done | cut -f2
}
# sent ADDRESS - "time step" of each send recorded for ADDRESS
sent() {
	$PD timeline "$1" | awk -F '\t' '$2 == "sent" {
		step = $3; sub(/.*step=/, "", step); sub(/ .*/, "", step); print $1, step }'
}
id() { $PD contact show "$1" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1; }
msgno() { $PD timeline "$1" | grep '	sent	' | grep "step=$2 " | head -n 1 |
	sed -n 's/.*msgno=\([0-9]*\).*/\1/p'; }
url() { k=$1; a=$2; shift 2; "$TT" url "$PD_DIR/keys" "$B" "$k" "$(id "$a")" "$(msgno "$a" offer)" "$@"; }
wait_tl() {
	i=0
	until $PD timeline "$1" | grep -q "$2"; do
		i=$((i + 1)); [ $i -lt 100 ] || { $PD timeline "$1" >&2; pfx_fail "no '$2' in the timeline of $1"; }
		sleep 0.1
	done
}
want_steps() {
	s=$(sent "$1" | tr '\n' ';')
	[ "$s" = "$2" ] || pfx_fail "$1: sends '$s', want '$2'"
}

S_OFFER='Autumn at Acme: two months of Growth for the price of one'
S_NEXT='Your next step: a year of Growth at the autumn price'
S_OPENERS='Is moving your lists over the hard part?'
S_ANGLE='how much time does your team spend on follow-ups?'
S_R15='Halfway through your Coffee beans, 1 kg'
S_R21='About a week of Coffee beans, 1 kg left'

# Thursday 19 February 2026, 09:00: purchases. r1, r2 and bob (who is also
# in the campaign) buy a 30-day supply; r3 buys something without one.
export POSTDRIP_NOW=2026-02-19T09:00:00Z
for a in r1 r2 r3 r5 ann bob cat dan eve fay gus hal ivy; do
	$PD contact add "$a@sink.test" first_name="$(echo $a | sed 's/./\U&/')" \
	    $( [ $a = ivy ] && echo --tag no-announcements) >/dev/null || pfx_fail "contact add $a"
done
for a in r1 r2 bob; do
	$PD event $a@sink.test purchased product="Coffee beans, 1 kg" sku=CB1 supply_days=30 ||
	    pfx_fail "purchase $a"
done
$PD event r3@sink.test purchased product="Grinder" sku=GR1 || pfx_fail "purchase r3"
run_engine 2026-02-19T09:00:05Z
$PD timeline r3@sink.test | grep -q 'workflow_enrolled' && pfx_fail "r3 (no supply) was enrolled"
# Friday 20 February, 22:00: r5 buys late in the evening.
POSTDRIP_NOW=2026-02-20T22:00:00Z $PD event r5@sink.test purchased product="Coffee beans, 1 kg" \
    sku=CB1 supply_days=30 || pfx_fail "purchase r5"
run_engine 2026-02-20T22:00:05Z
# Sunday 1 March, 10:00: r2 buys again, early: the count starts again.
POSTDRIP_NOW=2026-03-01T10:00:00Z $PD event r2@sink.test purchased product="Coffee beans, 1 kg" \
    sku=CB1 supply_days=30 || pfx_fail "second purchase r2"
run_engine 2026-03-01T10:00:05Z
$PD timeline r2@sink.test | grep -q '	workflow_exited	workflow=replenish reason=restarted' ||
    { $PD timeline r2@sink.test >&2; pfx_fail "r2's first enrolment did not end as restarted"; }
[ "$($PD timeline r2@sink.test | grep -c '	workflow_enrolled	workflow=replenish')" = 2 ] ||
    pfx_fail "r2 is not enrolled a second time"
[ "$(nsink)" = 0 ] || pfx_fail "mail before any was due: $(nsink)"

# Monday 2 March, 08:00: the campaign's contacts are tagged before the
# window opens; nothing goes out until 09:00.
export POSTDRIP_NOW=2026-03-02T08:00:00Z
for a in ann bob cat dan eve fay gus hal ivy; do
	$PD event $a@sink.test tag_added tag=autumn || pfx_fail "tag $a"
done
run_engine 2026-03-02T08:00:05Z
sleep 0.5
[ "$(nsink)" = 0 ] || pfx_fail "sent before the window opened"
run_engine 2026-03-02T09:00:30Z
settle 8
for a in ann bob cat dan eve fay gus hal; do
	want_steps $a@sink.test "2026-03-02T09:00:30Z offer;"
	[ "$(got $a@sink.test)" = "$S_OFFER" ] || pfx_fail "$a: got '$(got $a@sink.test)'"
done
[ -z "$(got ivy@sink.test)" ] || pfx_fail "ivy (no-announcements) got mail"

# Tuesday 3 March, 11:00: what each one does, through the tracker.
export POSTDRIP_NOW=2026-03-03T11:00:00Z
pfx_spawn engine $ENGINE -f
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "tracker not up"; sleep 0.1
done
H='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
APPLE='Mozilla/5.0'			# how Apple's privacy proxy fetches images
SCAN='python-requests/2.31'		# a link scanner
hit() { r=$(curl -s -o /dev/null -w '%{http_code}' "$@"); [ "$r" = 200 ] || [ "$r" = 302 ] || pfx_fail "tracker answered $r to $*"; }
# ann: opens and clicks the offer (a person).
hit -A "$H" "$(url open ann@sink.test)"
hit -A "$H" "$(url click ann@sink.test 1 offer https://example.com/offers/autumn)"
# bob: opens, clicks nothing.
hit -A "$H" "$(url open bob@sink.test)"
# cat: nothing at all. dan: only Apple's proxy fetched the pixel.
hit -A "$APPLE" "$(url open dan@sink.test)"
# eve: a scanner fetched the pixel and followed every link.
hit -A "$SCAN" "$(url open eve@sink.test)"
hit -A "$SCAN" "$(url click eve@sink.test 1 offer https://example.com/offers/autumn)"
hit -A "$SCAN" "$(url click eve@sink.test 2 pricing https://example.com/pricing)"
hit -A "$SCAN" "$(url click eve@sink.test 3 example.com/account/unsubscribe https://example.com/account/unsubscribe)"
# fay: a person clicks only "fewer messages like this one" (the
# list's own unsubscribe page): she read the mail, but that is no interest.
hit -A "$H" "$(url click fay@sink.test 3 example.com/account/unsubscribe https://example.com/account/unsubscribe)"
# gus: opens, looks at the unsubscribe page (a GET changes nothing), then
# confirms with the one-click POST.
hit -A "$H" "$(url open gus@sink.test)"
hit -A "$H" "$(url unsub gus@sink.test)"
wait_tl ann@sink.test 'clicked.*link=offer.*machine=false'
wait_tl dan@sink.test 'opened.*machine=true'
wait_tl eve@sink.test 'clicked.*link=example.com/account/unsubscribe.*machine=true'
wait_tl fay@sink.test 'clicked.*link=example.com/account/unsubscribe.*machine=false'
$PD timeline gus@sink.test | grep -q '	unsubscribed	' && pfx_fail "a GET unsubscribed gus"
hit -A "$H" -d "List-Unsubscribe=One-Click" "$(url unsub gus@sink.test)"
wait_tl gus@sink.test 'workflow_exited.*workflow=campaign-resend.*reason=unsubscribed'
# The machine's requests enrolled nobody and woke nothing.
$PD timeline eve@sink.test | grep -q '	opened	.*machine=false' && pfx_fail "eve's scanner open was taken for a person"
pfx_kill "$(pfx_pid engine)" 10
# hal buys (the goal).
POSTDRIP_NOW=2026-03-04T15:00:00Z $PD event hal@sink.test purchased product=Growth || pfx_fail "purchase hal"
run_engine 2026-03-04T15:00:05Z
$PD timeline hal@sink.test | grep -q '	workflow_exited	workflow=campaign-resend reason=purchased' ||
    pfx_fail "hal's purchase did not end the campaign"
$PD timeline hal@sink.test | grep -q 'workflow_enrolled	workflow=replenish' &&
    pfx_fail "a purchase without supply_days enrolled hal in replenish"

# Friday 6 March, 09:00:10: the 30-day supplies bought on 19 February are
# half gone: r1 and bob get day 15; r2 (restarted) does not.
run_engine 2026-03-06T09:00:10Z
settle 10
want_steps r1@sink.test "2026-03-06T09:00:10Z day15;"
want_steps bob@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:10Z day15;"
[ "$(got r1@sink.test)" = "$S_R15" ] || pfx_fail "r1: got '$(got r1@sink.test)'"
[ -z "$(got r2@sink.test)" ] || pfx_fail "r2 (restarted) got '$(got r2@sink.test)'"
# 09:00:30: four days after the offer, the second message by engagement.
run_engine 2026-03-06T09:00:30Z
settle 15
want_steps ann@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:30Z second.then.2;"
[ "$(got ann@sink.test | tail -n 1)" = "$S_NEXT" ] || pfx_fail "ann (clicked): $(got ann@sink.test)"
$PD contact show ann@sink.test | grep -q 'autumn-clicker' || pfx_fail "ann is not tagged autumn-clicker"
for a in cat dan eve; do
	want_steps $a@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:30Z second.else.1.else.1;"
	got $a@sink.test | tail -n 1 | grep -q "$S_ANGLE\$" || pfx_fail "$a (no human open): $(got $a@sink.test)"
done
want_steps fay@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:30Z second.else.1.then.1;"
[ "$(got fay@sink.test | tail -n 1)" = "$S_OPENERS" ] || pfx_fail "fay (unsubscribe link): $(got fay@sink.test)"
$PD contact show fay@sink.test | grep -q 'autumn-clicker' && pfx_fail "fay's unsubscribe-link click made her a clicker"
for a in gus hal; do
	want_steps $a@sink.test "2026-03-02T09:00:30Z offer;"
done
# bob opened, but had his 1/1d this morning: the cap holds his message,
# and then the window (mon-fri) does, until Monday.
want_steps bob@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:10Z day15;"
$PD queue 2>/dev/null | grep -q 'campaign-resend' || pfx_fail "bob's capped message is not in the queue"
run_engine 2026-03-07T10:00:00Z
sleep 0.5
[ "$(nsink)" = 15 ] || pfx_fail "sent on Saturday: $(nsink)"
# Saturday 7 March, 22:00: r5's day 15 falls outside 09:00-19:00.
run_engine 2026-03-07T22:00:10Z
sleep 0.5
[ "$(nsink)" = 15 ] || pfx_fail "r5 got mail at 22:00"
run_engine 2026-03-08T09:00:00Z
settle 16
want_steps r5@sink.test "2026-03-08T09:00:00Z day15;"
run_engine 2026-03-09T09:00:00Z
settle 17
want_steps bob@sink.test "2026-03-02T09:00:30Z offer;2026-03-06T09:00:10Z day15;2026-03-09T09:00:00Z second.else.1.then.1;"
[ "$(got bob@sink.test | tail -n 1)" = "$S_OPENERS" ] || pfx_fail "bob (opened): $(got bob@sink.test)"

# Thursday 12 March: day 21 for r1 and bob; Monday 16 March: r2's day 15
# counted from its second purchase; Sunday 22 March: its day 21.
run_engine 2026-03-12T09:00:10Z
settle 19
want_steps r1@sink.test "2026-03-06T09:00:10Z day15;2026-03-12T09:00:10Z day21;"
[ "$(got r1@sink.test | tail -n 1)" = "$S_R21" ] || pfx_fail "r1: $(got r1@sink.test)"
got bob@sink.test | tail -n 1 | grep -qx "$S_R21" || pfx_fail "bob: no day 21"
run_engine 2026-03-14T09:00:00Z
settle 20
want_steps r5@sink.test "2026-03-08T09:00:00Z day15;2026-03-14T09:00:00Z day21;"
run_engine 2026-03-15T10:00:10Z
sleep 0.5
[ "$(nsink)" = 20 ] || pfx_fail "r2's day 15 went out before 15 days from its second purchase"
run_engine 2026-03-16T10:00:10Z
settle 21
run_engine 2026-03-22T10:00:10Z
settle 22
want_steps r2@sink.test "2026-03-16T10:00:10Z day15;2026-03-22T10:00:10Z day21;"
[ "$(got r2@sink.test | tr '\n' ';')" = "$S_R15;$S_R21;" ] || pfx_fail "r2: $(got r2@sink.test)"
[ -z "$(got r3@sink.test)" ] || pfx_fail "r3 got mail"
# A re-run at the same time sends nothing twice.
run_engine 2026-03-22T10:00:10Z
sleep 0.5
[ "$(nsink)" = 22 ] || pfx_fail "a re-run sent again: $(nsink)"

# What the store says: the report's counts agree with the timelines.
export POSTDRIP_NOW=2026-03-22T10:00:20Z
$PD report --json >"$PD_DIR/r.json" || pfx_fail "report --json"
q() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); w={x['workflow']: x for x in r['workflows']}; print($1)" "$PD_DIR/r.json"; }
want() { v=$(q "$1"); [ "$v" = "$2" ] || pfx_fail "report: $1 is $v, want $2"; }
want 'w["campaign-resend"]["enrolled"]' 8
want 'w["campaign-resend"]["goals"]' 1
want 'sorted(w["campaign-resend"]["exits"].items())' "[('purchased', 1), ('unsubscribed', 1)]"
want 'w["campaign-resend"]["totals"]["sent"]' 14
# The click on the unsubscribe link is a way out, not a click.
want '[(s["step"], s["sent"], s["opens_human"], s["opens_machine"], s["clicks_human"], s["clicks_scanner"], s["clicks_unsubscribe"]) for s in w["campaign-resend"]["steps"] if s["step"] == "offer"]' \
    "[('offer', 8, 4, 2, 1, 3, 1)]"
want 'w["replenish"]["enrolled"]' 5
want 'w["replenish"]["totals"]["sent"]' 8
want 'w["replenish"]["exits"].get("restarted")' 1
n=0
for a in r1 r2 r5 ann bob cat dan eve fay gus hal; do
	n=$((n + $(sent $a@sink.test | wc -l)))
done
[ "$n" = 22 ] || pfx_fail "timelines hold $n sends, the sink 22"
echo "ok: campaign-resend: 1 next offer, 2 openers (one held by the cap to Monday), 3 new angles (machine open, scanner clicks); unsubscribe-link click no click; replenish: day 15/21, restart, window"
exit 0
