#!/bin/sh
# flow_states_replies_e2e - two shipped workflow files through a private
# Postfix, postdrip-milter's LMTP receiver and the tracker, with a set
# clock, sharing one store:
#
# outreach.yaml: contacts tagged "outreach" get three messages from their
# owner. Postfix itself makes the bounces and delivers them by LMTP to the
# receiver: a hard one (error:5.1.1) ends the enrolment and suppresses; a
# soft one (a mailbox full until the queue lifetime, 4.2.2) sends the
# first message again two days later. A reply by SMTP to reply+TOKEN@
# ends the sequence and reaches the owner. An auto-reply saying "I have
# left, write to ..." ends it too, and the owner gets a notify mail
# offering the new address, which gets nothing and is put nowhere; a plain
# out-of-office changes nothing.
#
# engagement.yaml: tags engaged / disengaged / inactive follow human opens
# and clicks (real HTTP to the tracker; an Apple Mail Privacy Protection
# open and a scanner count for nothing); becoming inactive sends "what's
# new"; an inactive contact's click in it brings the coaching message,
# held by frequency_caps = 1/1d and the mon-fri window until Monday.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"
command -v curl >/dev/null || pfx_skip "curl is not installed"
MILTER=$top_builddir/milter/postdrip-milter
[ -x "$MILTER" ] || pfx_skip "$MILTER is not built"

pfx_require
pfx_init
D=$PFX_DIR/pd
LSOCK=$D/lmtp.sock
MLOG=$D/milter.log
mkdir -p "$D/data" "$D/workflows"
for w in outreach engagement; do
	cp "$top_srcdir/conf/workflows/$w.yaml" "$D/workflows/" || pfx_fail "copy $w"
done
tport=$(pfx_free_port)
B=http://127.0.0.1:$tport
CONF=$D/postdrip.conf
cat >"$CONF" <<EOF
data_directory = $D/data
workflow_directory = $D/workflows
template_directory = $top_srcdir/conf/templates
token_key_file = $D/keys
inject_address = 127.0.0.1:$PFX_PORT
bounce_domain = bounce.test
lmtp_listen = unix:$LSOCK
reply_routing_streams = marketing
reply_forward_owner = yes
tracker_url = $B
tracker_listen = inet:127.0.0.1:$tport
frequency_caps = 1/1d
EOF
PD="$top_builddir/cli/postdrip -c $CONF"
ENGINE="$top_builddir/engine/postdrip-engine -c $CONF"
TT=$top_builddir/tests/track_tool
$PD keygen >/dev/null || pfx_fail "keygen"
$PD check || pfx_fail "postdrip check"
echo "mail_owner = postfix" >>"$CONF"
$PD stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D"
# No DNS: SPF answers come from this zone (none for sink.test).
printf '%s\n' '# test policies' >"$D/spf.zone"
POSTDRIP_SPF_ZONE=$D/spf.zone
export POSTDRIP_SPF_ZONE

MILTER_PID=
# start_milter TIME - the receiver, its clock at TIME
start_milter() {
	rm -f "$LSOCK"
	POSTDRIP_NOW=$1 "$MILTER" -f -c "$CONF" 2>>"$MLOG" &
	MILTER_PID=$!
	_n=0
	until [ -S "$LSOCK" ] && grep -q 'lmtp: listening' "$MLOG"; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || { cat "$MLOG" >&2; pfx_fail "the LMTP receiver does not listen"; }
		kill -0 "$MILTER_PID" 2>/dev/null || { cat "$MLOG" >&2; pfx_fail "milter exited"; }
		sleep 0.05
	done
}
stop_milter() {
	[ -n "$MILTER_PID" ] || return 0
	pfx_kill "$MILTER_PID" 10
	wait "$MILTER_PID"
	MILTER_PID=
	cat "$MLOG" >>"$D/milter.old.log" && : >"$MLOG"
}
pfx_on_exit '[ -n "$MILTER_PID" ] && kill -TERM "$MILTER_PID"'

# Postfix: the bounce domain goes to the receiver by LMTP. "The other
# side" for gone.test and full.test is a second smtpd of this Postfix that
# answers RCPT as their MX would: 550 5.1.1 for hank@gone.test (no such
# user), 452 4.2.2 for sam@full.test (mailbox full). With
# maximal_queue_lifetime = 0 Postfix returns deferred mail after one try,
# so both come back as DSNs that Postfix makes.
MX_PORT=$(pfx_free_port)
pfx_master "127.0.0.1:$MX_PORT inet n - n - - smtpd -o { smtpd_recipient_restrictions = check_recipient_access inline:{ {hank@gone.test = 550 5.1.1 <hank@gone.test>: Recipient address rejected: User unknown}, {sam@full.test = 452 4.2.2 <sam@full.test>: Mailbox full} }, permit_mynetworks, reject }"
FULL_DEFER="{ full.test = smtp:[127.0.0.1]:$MX_PORT }"
FULL_OK="{ full.test = smtp:[127.0.0.1]:$PFX_SINK_PORT }"
# (inline: entries are all braced, or none is.)
transports() {
	pfx_conf "transport_maps = inline:{ { sink.test = smtp:[127.0.0.1]:$PFX_SINK_PORT }, { bounce.test = lmtp:unix:$LSOCK }, { gone.test = smtp:[127.0.0.1]:$MX_PORT }, $1 }"
}
pfx_conf "relay_domains = bounce.test" "maximal_queue_lifetime = 0" "bounce_queue_lifetime = 0" \
    "lmtp_send_xforward_command = yes"
transports "$FULL_DEFER"

run_engine() {
	POSTDRIP_NOW=$1 $ENGINE --once 2>>"$D/engine.log" || pfx_fail "engine --once at $1"
}
# files_to ADDRESS - the sink files for ADDRESS, in order
files_to() {
	for f in $(pfx_sink_files); do
		sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | head -n 1 | grep -qx "$1" && echo "$f"
	done
}
got() { for f in $(files_to "$1"); do sed -n 's/^Subject: //p' "$f" | head -n 1; done; }
nto() { files_to "$1" | wc -l; }
# sent ADDRESS - "time step" of each send recorded for ADDRESS
sent() {
	$PD timeline "$1" | awk -F '\t' '$2 == "sent" {
		step = $3; sub(/.*step=/, "", step); sub(/ .*/, "", step); print $1, step }'
}
want_steps() {
	s=$(sent "$1" | tr '\n' ';')
	[ "$s" = "$2" ] || { $PD timeline "$1" >&2; pfx_fail "$1: sends '$s', want '$2'"; }
}
nsink() { ls "$PFX_SINK" | wc -l; }
settle() {
	pfx_wait_delivered "$1" 30 || pfx_fail "want $1 messages at the sink, got $(nsink)"
	sleep 0.5
	[ "$(nsink)" = "$1" ] || pfx_fail "want $1 messages at the sink, got $(nsink)"
}
wait_tl() {
	_deadline=$(($(date +%s) + 30))
	until $PD timeline "$1" | grep -q "$2"; do
		[ "$(date +%s)" -lt "$_deadline" ] || { $PD timeline "$1" >&2; pfx_fail "no '$2' in the timeline of $1"; }
		sleep 0.1
	done
}
tags() { $PD contact show "$1" | tr -d ' \n' | sed -n 's/.*"tags":\[\([^]]*\)\].*/\1/p' | tr -d '"'; }
want_tags() {
	t=$(tags "$1")
	[ "$t" = "$2" ] || pfx_fail "$1 at $3: tags '$t', want '$2'"
}
id() { $PD contact show "$1" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1; }

S1='Initech and Acme'
S2='Following up: Initech and Acme'
S3='Should I close your file?'
SWN="What's new at Acme since you last looked"
SCO='Want a hand getting going again?'

start_milter 2026-03-02T09:05:00Z
pfx_start

# ---- Outreach. Monday 2 March 2026, 09:00: the owner rep@ tags five contacts.
export POSTDRIP_NOW=2026-03-02T09:00:00Z
# They are not on the announcement list, which the engagement flow's
# "what's new" respects.
$PD contact add rep@sink.test first_name=Rhea --tag no-announcements >/dev/null || pfx_fail "contact add rep"
for a in olga@sink.test rita@sink.test paul@sink.test vic@sink.test hank@gone.test sam@full.test; do
	$PD contact add "$a" first_name=X company=Initech owner=rep@sink.test \
	    --tag no-announcements >/dev/null ||
	    pfx_fail "contact add $a"
	$PD event "$a" tag_added tag=outreach || pfx_fail "tag $a"
done
run_engine 2026-03-02T09:00:30Z
# Four reach the sink; gone.test and full.test come back by LMTP.
settle 4
wait_tl hank@gone.test '	bounced	.*class=hard'
wait_tl sam@full.test '	bounced	.*class=soft'
grep -q 'to=<hank@gone.test>.*status=bounced' "$PFX_LOG" || pfx_fail "Postfix did not bounce hank@gone.test"
grep -q 'to=<sam@full.test>.*dsn=4.2.2, status=deferred' "$PFX_LOG" &&
    grep -q 'status=expired, returned to sender' "$PFX_LOG" || pfx_fail "Postfix did not return sam@full.test"
# Both came back by LMTP, made by Postfix: no refusal at injection.
$PD timeline hank@gone.test | grep -q 'send_refused\|stage=injection' && pfx_fail "hank was refused at injection, not bounced"
$PD timeline sam@full.test | grep -q 'send_deferred' && pfx_fail "sam was deferred at injection, not bounced"
$PD suppressed | grep -q '^hank@gone.test	hardbounce' || pfx_fail "hank@gone.test is not suppressed"
$PD suppressed | grep -q '^sam@full.test' && pfx_fail "one soft bounce suppressed sam@full.test"
run_engine 2026-03-02T09:05:30Z
$PD timeline hank@gone.test | grep -q '	workflow_exited	workflow=outreach reason=bounced' ||
    { $PD timeline hank@gone.test >&2; pfx_fail "the hard bounce did not end hank's enrolment"; }
$PD timeline sam@full.test | grep -q 'workflow_exited' && pfx_fail "the soft bounce ended sam's enrolment"
stop_milter

# Tuesday 3 March, 14:00: rita answers; paul's auto-reply says he left;
# vic is out of the office.
start_milter 2026-03-03T14:00:00Z
# header FILE NAME - a header's value, unfolded
header() {
	sed -n '1,/^$/p' "$1" | awk '/^[ \t]/ { sub(/^[ \t]+/, " "); printf "%s", $0; next }
	    { printf "\n%s", $0 } END { print "" }' | sed -n "s/^$2: *//p" | head -n 1
}
reply_to() { header "$(files_to "$1" | head -n 1)" Reply-To | grep -o 'reply+[^<>@ ]*@bounce\.test' | head -n 1; }
msgid_of() { header "$(files_to "$1" | head -n 1)" Message-I[Dd] | sed -n 's/.*<\([^>]*\)>.*/\1/p'; }
for a in rita paul vic; do
	eval "R_$a=\$(reply_to $a@sink.test)"
	eval "[ -n \"\$R_$a\" ]" || pfx_fail "no reply+TOKEN Reply-To in $a's message"
done
pfx_send rita@sink.test "$R_rita" --header "From: Rita <rita@sink.test>" \
    --header "Subject: Re: $S1" --header "In-Reply-To: <$(msgid_of rita@sink.test)>" \
    --body "Yes, Thursday at 10 works for me." >/dev/null || pfx_fail "rita's reply"
pfx_send paul@sink.test "$R_paul" --header "From: Paul <paul@sink.test>" \
    --header "Subject: Automatic reply: $S1" --header "Auto-Submitted: auto-replied" \
    --body "Thank you for your message. I have left Initech. For anything about our account please write to nora.diaz@newco.test, who has taken over." \
    >/dev/null || pfx_fail "paul's auto-reply"
pfx_send vic@sink.test "$R_vic" --header "From: Vic <vic@sink.test>" \
    --header "Subject: Out of office" --header "Auto-Submitted: auto-replied" \
    --body "I am out of the office until Monday; for urgent matters write to team@sink.test." \
    >/dev/null || pfx_fail "vic's auto-reply"
wait_tl rita@sink.test '	replied	'
wait_tl paul@sink.test '	address_offered	.*address=nora.diaz@newco.test'
wait_tl vic@sink.test '	autoreplied	'
$PD timeline paul@sink.test | grep -q '	autoreplied	.*new_address=nora.diaz@newco.test' ||
    pfx_fail "paul's auto-reply does not carry the new address"
$PD timeline vic@sink.test | grep -q 'address_offered\|new_address' && pfx_fail "an out-of-office offered an address"
# The reply reaches the owner, as it was written.
pfx_wait_delivered 5 30 || pfx_fail "rita's reply was not forwarded"
f=$(grep -l 'Thursday at 10' $(files_to rep@sink.test) 2>/dev/null | head -n 1)
[ -n "$f" ] || pfx_fail "rita's reply did not reach rep@sink.test"
stop_milter
run_engine 2026-03-03T14:00:30Z
$PD timeline rita@sink.test | grep -q '	workflow_exited	workflow=outreach reason=replied' ||
    pfx_fail "the reply did not end rita's enrolment"
$PD timeline paul@sink.test | grep -q '	workflow_exited	workflow=outreach reason=address_offered' ||
    pfx_fail "the new address did not end paul's enrolment"
settle 6
n=$(grep -l "^Subject: New address offered for paul@sink.test: nora.diaz@newco.test" $(files_to rep@sink.test) | wc -l)
[ "$n" = 1 ] || pfx_fail "the owner got $n offers of paul's new address, want 1"
[ "$(nto nora.diaz@newco.test)" = 0 ] || pfx_fail "the new address got mail"
$PD contact show nora.diaz@newco.test >/dev/null 2>&1 && pfx_fail "the new address became a contact"
$PD contact show paul@sink.test | grep -q '"email": *"paul@sink.test"' || pfx_fail "paul's address was changed"

# Wednesday 4 March, 09:05: full.test has room again; sam's first message
# is sent again.
transports "$FULL_OK"
pfx_reload
sleep 1
# 09:00:30: the others' two days of waiting for a bounce are over.
run_engine 2026-03-04T09:00:30Z
run_engine 2026-03-04T09:05:30Z
settle 7
want_steps sam@full.test "2026-03-02T09:00:30Z first;2026-03-04T09:05:30Z retry;"
[ "$(got sam@full.test)" = "$S1" ] || pfx_fail "sam: $(got sam@full.test)"
# Saturday 7 March: nothing at the weekend. Monday 9 March, 09:00:30: the
# second message, to those still in; sam's comes 5 days after its retry.
run_engine 2026-03-07T09:00:30Z
sleep 0.5
[ "$(nsink)" = 7 ] || pfx_fail "sent at the weekend"
run_engine 2026-03-09T09:00:30Z
settle 9
run_engine 2026-03-09T09:05:30Z
settle 10
run_engine 2026-03-16T09:00:30Z
settle 12
run_engine 2026-03-16T09:05:30Z
settle 13
for a in olga vic; do
	want_steps $a@sink.test "2026-03-02T09:00:30Z first;2026-03-09T09:00:30Z second;2026-03-16T09:00:30Z third;"
	[ "$(got $a@sink.test | tr '\n' ';')" = "$S1;$S2;$S3;" ] || pfx_fail "$a: $(got $a@sink.test)"
done
want_steps sam@full.test "2026-03-02T09:00:30Z first;2026-03-04T09:05:30Z retry;2026-03-09T09:05:30Z second;2026-03-16T09:05:30Z third;"
for a in rita@sink.test paul@sink.test; do
	want_steps $a "2026-03-02T09:00:30Z first;"
	[ "$(nto $a)" = 1 ] || pfx_fail "$a got $(nto $a) messages after leaving the sequence"
done
want_steps hank@gone.test "2026-03-02T09:00:30Z first;"
echo "ok: outreach: reply ended and reached the owner; hard bounce suppressed; soft bounce retried; new address offered to the owner only"

# ---- Engagement. Monday 2 March, 09:00: four contacts subscribe and are
# sent a newsletter (recorded as the milter records outbound mail).
ENG="e1 e2 e3 e4"
for a in $ENG; do
	POSTDRIP_NOW=2026-03-02T09:00:00Z $PD contact add $a@sink.test >/dev/null || pfx_fail "contact add $a"
	POSTDRIP_NOW=2026-03-02T09:00:00Z $PD event $a@sink.test subscribed || pfx_fail "subscribed $a"
	eval "M_$a=\$($TT sent $D/data $(id $a@sink.test) news-$a@acme.test 1772442000)" ||
	    pfx_fail "track_tool sent $a"
done
run_engine 2026-03-02T09:00:40Z
H='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
APPLE='Mozilla/5.0'
SCAN='python-requests/2.31'
turl() { k=$1; a=$2; m=$3; shift 3; "$TT" url "$D/keys" "$B" "$k" "$(id $a@sink.test)" "$m" "$@"; }
tracker_up() {
	POSTDRIP_NOW=$1 pfx_spawn engine $ENGINE -f
	i=0
	until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
		i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "tracker not up"; sleep 0.1
	done
}
tracker_down() { pfx_kill "$(pfx_pid engine)" 10; }
hit() { r=$(curl -s -o /dev/null -w '%{http_code}' "$@"); [ "$r" = 200 ] || [ "$r" = 302 ] || pfx_fail "tracker answered $r"; }
# Tuesday 3 March: e1 reads it; Apple's proxy fetches e2's pixel; a
# scanner opens e4's and follows its link.
tracker_up 2026-03-03T10:00:00Z
hit -A "$H" "$(turl open e1 $M_e1)"
hit -A "$APPLE" "$(turl open e2 $M_e2)"
hit -A "$SCAN" "$(turl open e4 $M_e4)"
hit -A "$SCAN" "$(turl click e4 $M_e4 1 news https://example.com/news)"
wait_tl e4@sink.test 'clicked.*machine=true'
wait_tl e2@sink.test 'opened.*machine=true'
tracker_down
run_engine 2026-03-03T10:00:30Z
want_tags e1@sink.test engaged "3 March"
for a in e2 e3 e4; do want_tags $a@sink.test "" "3 March"; done
# Friday 20 March: e1 reads it again.
tracker_up 2026-03-20T10:00:00Z
hit -A "$H" "$(turl open e1 $M_e1)"
i=0
until [ "$($PD timeline e1@sink.test | grep -c '	opened	.*machine=false')" = 2 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || pfx_fail "e1's second open is not recorded"; sleep 0.1
done
tracker_down
run_engine 2026-03-20T10:00:30Z
# Wednesday 1 April, 09:00:30: 30 days without a human open or click.
run_engine 2026-04-01T09:00:30Z
want_tags e1@sink.test engaged "1 April"
for a in e2 e3 e4; do want_tags $a@sink.test disengaged "1 April"; done
# Sunday 19 April, 10:00:30: e1's 30 days since the 20 March open.
run_engine 2026-04-19T10:00:30Z
want_tags e1@sink.test disengaged "19 April"
# Friday 1 May, 09:00:30: 60 days: inactive, and "what's new".
n0=$(nsink)
run_engine 2026-05-01T09:00:30Z
settle $((n0 + 3))
for a in e2 e3 e4; do
	want_tags $a@sink.test inactive "1 May"
	want_steps $a@sink.test "2026-05-01T09:00:30Z whats-new;"
	[ "$(got $a@sink.test)" = "$SWN" ] || pfx_fail "$a: $(got $a@sink.test)"
done
want_tags e1@sink.test disengaged "1 May"
[ "$(nto e1@sink.test)" = 0 ] || pfx_fail "e1 got mail on 1 May"
# 10:00: e2 (a person) clicks in it; a scanner follows e4's link.
msg() { $PD timeline $1@sink.test | grep '	sent	' | grep 'step=whats-new' | sed -n 's/.*msgno=\([0-9]*\).*/\1/p' | head -n 1; }
tracker_up 2026-05-01T10:00:00Z
hit -A "$H" "$(turl click e2 "$(msg e2)" 1 whats-new https://example.com/whats-new)"
hit -A "$SCAN" "$(turl click e4 "$(msg e4)" 1 whats-new https://example.com/whats-new)"
wait_tl e2@sink.test 'clicked.*link=whats-new.*machine=false'
wait_tl e4@sink.test 'clicked.*link=whats-new.*machine=true'
tracker_down
run_engine 2026-05-01T10:00:30Z
want_tags e2@sink.test engaged "1 May, after the click"
want_tags e4@sink.test inactive "1 May, after the scanner"
# e2 had "what's new" at 09:00:30: the 1/1d cap holds the coaching
# message to Saturday, and the window (mon-fri) to Monday 09:00.
sleep 0.5
[ "$(nsink)" = $((n0 + 3)) ] || pfx_fail "the coaching message broke the cap"
run_engine 2026-05-02T09:00:40Z
sleep 0.5
[ "$(nsink)" = $((n0 + 3)) ] || pfx_fail "the coaching message went out on a Saturday"
run_engine 2026-05-04T09:00:00Z
settle $((n0 + 4))
want_steps e2@sink.test "2026-05-01T09:00:30Z whats-new;2026-05-04T09:00:00Z back.event.1;"
[ "$(got e2@sink.test | tail -n 1)" = "$SCO" ] || pfx_fail "e2: $(got e2@sink.test)"
# Tuesday 19 May, 10:00:30: e1's 60 days.
run_engine 2026-05-19T10:00:30Z
settle $((n0 + 5))
want_tags e1@sink.test inactive "19 May"
want_steps e1@sink.test "2026-05-19T10:00:30Z whats-new;"
# Past the 30 days of waiting, nobody else got coaching.
run_engine 2026-06-01T10:00:00Z
sleep 0.5
[ "$(nsink)" = $((n0 + 5)) ] || pfx_fail "mail after the waits ended: $(nsink)"
for a in e3 e4; do
	want_steps $a@sink.test "2026-05-01T09:00:30Z whats-new;"
	$PD timeline $a@sink.test | grep -q 'workflow_completed	workflow=inactive' ||
	    pfx_fail "$a's inactive enrolment did not end"
done

# The report agrees.
POSTDRIP_NOW=2026-06-01T10:00:10Z $PD report --json >"$D/r.json" || pfx_fail "report --json"
q() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); w={x['workflow']: x for x in r['workflows']}; print($1)" "$D/r.json"; }
want() { v=$(q "$1"); [ "$v" = "$2" ] || pfx_fail "report: $1 is $v, want $2"; }
want 'w["outreach"]["enrolled"]' 6
want 'sorted(w["outreach"]["exits"].items())' "[('address_offered', 1), ('bounced', 1), ('replied', 1)]"
want 'w["outreach"]["totals"]["sent"]' 13
want 'w["inactive"]["enrolled"]' 4
want 'w["inactive"]["totals"]["sent"]' 5
echo "ok: engagement: engaged/disengaged/inactive as tags; what's new at 60 days; coaching after a human click, held by the cap and the window"
exit 0
