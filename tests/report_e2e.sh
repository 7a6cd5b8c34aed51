#!/bin/sh
# report_e2e - "postdrip report" on a store made by real runs: a two-step
# workflow run by postdrip-engine --once at set times, injecting into a
# private Postfix that refuses one recipient (550 5.1.1) and defers another
# (452 4.2.2) and relays the rest to smtp-sink; opens, clicks (human,
# Apple MPP proxy, scanner) and a one-click unsubscribe through the
# tracker over HTTP; a purchase (the goal), a complaint and a reply recorded
# with "postdrip event". The --json numbers are checked against what was
# done and against the timelines; --since and WORKFLOW narrow it; the
# tracker serves the same report behind the API key; the --html page is
# self-contained and, where Chromium and Selenium are installed, rendered
# in headless Chromium (screenshot in tests/screenshots/report.png) and
# read back against --json.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"
command -v curl >/dev/null || pfx_skip "curl is not installed"
PY=/usr/bin/python3

pfx_require
pfx_init
pfx_conf 'smtpd_recipient_restrictions = check_recipient_access inline:{ {gone@sink.test = 550 5.1.1 <gone@sink.test>: Recipient address rejected: User unknown}, {full@sink.test = 452 4.2.2 <full@sink.test>: Mailbox full} }, permit_mynetworks, reject_unauth_destination'
pfx_start

tport=$(pfx_free_port)
B="http://127.0.0.1:$tport"
PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows" "$PD_DIR/templates"
cat >"$PD_DIR/postdrip.conf" <<EOF
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $PD_DIR/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
bounce_domain = bounce.test
tracker_listen = inet:127.0.0.1:$tport
tracker_url = $B
tracker_api_key_file = $PD_DIR/apikeys
EOF
printf 'ops 0123456789abcdef0123\nold fedcba9876543210fedc retired\n' >"$PD_DIR/apikeys"
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
ENGINE="$top_builddir/engine/postdrip-engine -c $PD_DIR/postdrip.conf"
TT="$top_builddir/tests/track_tool"

cat >"$PD_DIR/workflows/rep.yaml" <<'EOF'
workflow: rep
trigger:
  event: subscribed
reentry: once
goal:
  event: purchased
steps:
  - send: intro
    label: intro
  - wait: 3d
  - send: followup
    label: followup
EOF
for t in intro followup; do
	printf 'From: Acme <news@acme.test>\nSubject: %s\n\nHello, this is %s.\n' $t $t \
	    >"$PD_DIR/templates/$t.tmpl"
done
$PD keygen >/dev/null || pfx_fail "keygen"
$PD check >/dev/null || pfx_fail "postdrip check"

run_engine() {
	POSTDRIP_NOW=$1 $ENGINE --once 2>>"$PD_DIR/engine.log" || pfx_fail "engine --once at $1"
}
id() { $PD contact show "$1" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1; }
msgno() { $PD timeline "$1" | grep '	sent	' | head -n 1 | sed -n 's/.*msgno=\([0-9]*\).*/\1/p'; }
json() { $PD report "$@" --json >"$PD_DIR/r.json" || pfx_fail "report $* --json"; }
# q EXPR - a value of $PD_DIR/r.json (Python expression over r)
q() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$PD_DIR/r.json"; }
want() { got=$(q "$1"); [ "$got" = "$2" ] || pfx_fail "report: $1 is $got, want $2"; }

# Monday 2 March 2026, 09:00: six contacts subscribe.
export POSTDRIP_NOW=2026-03-02T09:00:00Z
for a in ann bob cat dan gone full; do
	$PD contact add $a@sink.test >/dev/null || pfx_fail "contact add $a"
	$PD event $a@sink.test subscribed || pfx_fail "event subscribed $a"
done
run_engine 2026-03-02T09:00:05Z
pfx_wait_delivered 4 20 || pfx_fail "intro not delivered to 4"
grep -q 'refused: .*to=<gone@sink.test>' "$PD_DIR/engine.log" || pfx_fail "gone@ was not refused"
grep -q 'deferred: .*to=<full@sink.test>' "$PD_DIR/engine.log" || pfx_fail "full@ was not deferred"

# Two minutes later, the tracker (the engine as a daemon, same clock).
export POSTDRIP_NOW=2026-03-02T09:02:00Z
pfx_spawn engine $ENGINE -f
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "tracker not up"; sleep 0.1
done
H='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
url() { k=$1; a=$2; shift 2; "$TT" url "$PD_DIR/keys" "$B" "$k" "$(id $a@sink.test)" "$(msgno $a@sink.test)" "$@"; }
wait_tl() {
	i=0
	until $PD timeline "$1" | grep -q "$2"; do
		i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "no '$2' in the timeline of $1"; sleep 0.1
	done
}
curl -s -o /dev/null -A "$H" "$(url open ann)"		# a person
curl -s -o /dev/null -A "$H" "$(url click ann 1 pricing https://acme.test/pricing)"
curl -s -o /dev/null -A "Mozilla/5.0" "$(url open bob)"	# Apple's proxy
curl -s -o /dev/null -A "python-requests/2.31" "$(url click cat 2 faq https://acme.test/faq)"
curl -s -o /dev/null -A "$H" "$(url open dan)"
curl -s -o /dev/null -d "List-Unsubscribe=One-Click" "$(url unsub bob)"
wait_tl ann@sink.test 'clicked.*link=pricing.*machine=false'
wait_tl bob@sink.test 'opened.*machine=true'
wait_tl cat@sink.test 'clicked.*link=faq.*machine=true'
wait_tl dan@sink.test 'opened.*machine=false'
wait_tl bob@sink.test 'unsubscribed'
wait_tl bob@sink.test 'workflow_exited.*reason=unsubscribed'
# The report is behind the API key.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$B/report")" = 401 ] || pfx_fail "report without a key"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer fedcba9876543210fedc' \
    "$B/report")" = 401 ] || pfx_fail "report with a retired key"
pfx_kill "$(pfx_pid engine)"

# A day later: Ann buys (the goal), Dan complains, Cat replies.
export POSTDRIP_NOW=2026-03-03T10:00:00Z
$PD event ann@sink.test purchased amount=30 || pfx_fail "event purchased"
$PD event dan@sink.test complained msgno="$(msgno dan@sink.test)" || pfx_fail "event complained"
$PD event cat@sink.test replied msgno="$(msgno cat@sink.test)" || pfx_fail "event replied"
# Thursday: the follow-up falls due; only Cat is still in (Full's intro is
# still being retried).
run_engine 2026-03-05T09:01:00Z
pfx_wait_delivered 5 20 || pfx_fail "follow-up not delivered"
sleep 0.5
[ "$(ls "$PFX_SINK" | wc -l)" = 5 ] || pfx_fail "want 5 messages at the sink, got $(ls "$PFX_SINK" | wc -l)"
export POSTDRIP_NOW=2026-03-05T09:01:01Z

# The numbers.
json
$PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$PD_DIR/r.json" || pfx_fail "--json is not JSON"
want 'len(r["workflows"])' 1
want 'r["workflows"][0]["workflow"]' rep
want 'r["workflows"][0]["enrolled"]' 6
want 'r["workflows"][0]["completed"]' 1
want 'r["workflows"][0]["goals"]' 1
want 'r["workflows"][0]["goal_rate"]["base"]' 6
want 'sorted(r["workflows"][0]["exits"].items())' "[('bounced', 1), ('complained', 1), ('purchased', 1), ('unsubscribed', 1)]"
want '[s["step"] for s in r["workflows"][0]["steps"]]' "['intro', 'followup']"
I='r["workflows"][0]["steps"][0]'
F='r["workflows"][0]["steps"][1]'
want "$I[\"sent\"]" 6
want "$I[\"bounced_hard\"]" 1
want "$I[\"bounced_soft\"]" 0
want "$I[\"bounce_reasons\"][\"hard\"]" "{'userunknown': 1}"
want "$I[\"delivered\"]" 5
want "$I[\"deferred\"]" 2
want "$I[\"opens_human\"]" 2
want "$I[\"opens_machine\"]" 1
want "$I[\"opened\"]" 2
want "$I[\"clicks_human\"]" 1
want "$I[\"clicks_scanner\"]" 1
want "$I[\"clicked\"]" 1
want "sorted($I[\"links\"].items())" "[('faq', {'scanner': 1}), ('pricing', {'human': 1})]"
want "$I[\"replies\"]" 1
want "$I[\"complaints\"]" 1
want "$I[\"unsubscribes\"]" 1
want "($I[\"rates\"][\"open\"][\"count\"], $I[\"rates\"][\"open\"][\"base\"], $I[\"rates\"][\"open\"][\"rate\"])" "(2, 5, 0.4)"
want "($I[\"rates\"][\"bounce\"][\"count\"], $I[\"rates\"][\"bounce\"][\"base\"])" "(1, 6)"
want "$F[\"sent\"]" 1
want "$F[\"opens_human\"]" 0
want 'r["workflows"][0]["totals"]["sent"]' 7
want '[(d["date"], d["sent"], d["human_opens"], d["human_clicks"]) for d in r["daily"]]' \
    "[('2026-03-02', 6, 2, 1), ('2026-03-03', 0, 0, 0), ('2026-03-04', 0, 0, 0), ('2026-03-05', 1, 0, 0)]"
want '[(b["reason"], b["hard"], b["soft"]) for b in r["bounce_reasons"]]' "[('userunknown', 1, 0)]"
want '[(d["domain"], d["sent"], d["delivered"], d["complaints"], d["status"]) for d in r["sender_domains"]]' \
    "[('bounce.test', 7, 6, 1, 'over')]"
want 'r["sender_domains"][0]["gmail_limit"]' 0.003

# Against the timelines: every sent line is counted once.
n=0
for a in ann bob cat dan gone full; do
	n=$((n + $($PD timeline $a@sink.test | grep -c '	sent	')))
done
want 'r["workflows"][0]["totals"]["sent"]' "$n"

# --since and WORKFLOW narrow it.
json --since 2026-03-04
want 'r["since"]' 2026-03-04T00:00:00Z
want 'r["workflows"][0]["steps"][0]["sent"]' 0
want 'r["workflows"][0]["steps"][1]["sent"]' 1
want 'r["workflows"][0]["enrolled"]' 0
json nosuch
want '[(w["workflow"], w["totals"]["sent"]) for w in r["workflows"]]' "[('nosuch', 0)]"
want 'r["sender_domains"]' "[]"
$PD report --since yesterdayish >/dev/null 2>&1 && pfx_fail "a bad --since was taken"
$PD report | grep -q '^workflow rep: enrolled 6' || pfx_fail "text report"

# The page: one file, nothing fetched from outside.
$PD report --html "$PD_DIR/report.html" || pfx_fail "report --html"
grep -qi '<svg' "$PD_DIR/report.html" || pfx_fail "no SVG in the page"
grep -Eqi '<(script|link|img|iframe)|src=|href=|url\(|@import' "$PD_DIR/report.html" &&
    pfx_fail "the page refers to outside assets"
json

# The tracker serves the same report, with the key.
pfx_spawn engine2 $ENGINE -f
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "tracker not up again"; sleep 0.1
done
K='Authorization: Bearer 0123456789abcdef0123'
curl -s -H "$K" "$B/report.json" >"$PD_DIR/t.json" || pfx_fail "GET /report.json"
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a != b)' \
    "$PD_DIR/r.json" "$PD_DIR/t.json" || pfx_fail "the tracker's report differs from the CLI's"
curl -s -D "$PD_DIR/h" -H "$K" "$B/report" >"$PD_DIR/t.html" || pfx_fail "GET /report"
grep -qi '^content-type: text/html' "$PD_DIR/h" || pfx_fail "/report is not HTML"
cmp -s "$PD_DIR/t.html" "$PD_DIR/report.html" || pfx_fail "the tracker's page differs from --html"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$B/report.json?since=nonsense")" = 400 ] ||
    pfx_fail "a bad since was taken by the tracker"
curl -s -H "$K" "$B/report.json?workflow=rep&since=2026-03-04" | grep -q '"sent": *1\|"sent":1' ||
    pfx_fail "the tracker's since/workflow"
pfx_kill "$(pfx_pid engine2)"

# In a real browser, when there is one.
if command -v chromium >/dev/null && $PY -c 'import selenium' 2>/dev/null; then
	$PY "$top_srcdir/tests/report_browser.py" "$PD_DIR/report.html" "$PD_DIR/r.json" \
	    "$top_builddir/tests/screenshots/report.png" >"$PD_DIR/b.out" 2>&1
	st=$?
	[ $st = 0 ] || [ $st = 77 ] || { cat "$PD_DIR/b.out" >&2; pfx_fail "the page in Chromium"; }
	[ $st = 0 ] && [ -s "$top_builddir/tests/screenshots/report.png" ] ||
	    echo "report_e2e: the page was not rendered: $(tail -1 "$PD_DIR/b.out")" >&2
else
	echo "report_e2e: no chromium or python3-selenium: the page was not rendered" >&2
fi
exit 0
