#!/bin/sh
# lmtp_e2e - postdrip-milter's LMTP receiver behind a real Postfix.
#
# Postfix delivers the bounce domain (bounce.test) to the receiver by LMTP
# (transport_maps bounce.test=lmtp:unix:..., lmtp_send_xforward_command =
# yes); the milter sits on the smtpd with default_action = accept, as the
# shipped snippet has it for ordinary mail.
#
#  1. Postfix's own DSN for an unknown local user reaches postdrip by LMTP
#     and suppresses the contact.
#  2. postdrip stopped: bounces stay in Postfix's queue (postqueue -j shows
#     them deferred) while mail to another domain is delivered at once;
#     after the start, postqueue -f delivers them and each is recorded
#     exactly once.
#  3. A store that cannot commit: 4xx, the messages stay queued; recorded
#     once when the store is back.
#  4. A reply to reply+TOKEN@ from the contact is recorded and arrives at
#     the owner's address at the sink, and is not recorded a second time
#     when it passes the milter again; forged ones (From, or SPF fail for
#     the From domain from the client XFORWARD names) arrive marked and
#     trigger nothing; an auto-reply is recorded and not forwarded; without
#     XFORWARD the client comes from the top Received header.
#  5. A mailed unsubscribe suppresses; a feedback-loop report to
#     lmtp_feedback_addresses suppresses (complaint); an unknown local part
#     on the bounce domain gets 550 5.1.1 from the receiver (Postfix
#     bounces it).
#  6. /metrics of the tracker counts those bounces and the complaint.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
FIXTURE=$top_builddir/tests/milter_fixture
CORPUS=$top_srcdir/tests/data/corpus/bounces
pfx_need_built "$POSTDRIP" "$MILTER" "$FIXTURE"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
LSOCK=$D/lmtp.sock
MLOG=$D/milter.log

cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$SOCK
lmtp_listen = unix:$LSOCK
inject_address = 127.0.0.1:$PFX_PORT
inject_timeout = 20s
bounce_domain = bounce.test
marketing_senders = *@news.test
reply_forward_address = replies@sink.test
EOF
mkdir -p "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"
echo "mail_owner = postfix" >>"$CONF"
"$POSTDRIP" -c "$CONF" stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd"
printf '%s\n' '# test policies' 'spf-strict.test v=spf1 ip4:192.0.2.10 -all' >"$D/spf.zone"
POSTDRIP_SPF_ZONE=$D/spf.zone
export POSTDRIP_SPF_ZONE

MILTER_PID=
start_milter() {
	rm -f "$SOCK"
	"$MILTER" -f -c "$CONF" 2>>"$MLOG" &
	MILTER_PID=$!
	_n=0
	until [ -S "$SOCK" ] && [ -S "$LSOCK" ] && grep -q 'lmtp: listening' "$MLOG"; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || { cat "$MLOG" >&2; pfx_fail "milter does not listen"; }
		kill -0 "$MILTER_PID" 2>/dev/null || { cat "$MLOG" >&2; pfx_fail "milter exited"; }
		sleep 0.05
	done
}
stop_milter() {
	[ -n "$MILTER_PID" ] || return 0
	pfx_kill "$MILTER_PID" 10
	wait "$MILTER_PID"
	_rc=$?
	MILTER_PID=
	[ $_rc = 0 ] || pfx_fail "milter exit status $_rc after SIGTERM"
	cat "$MLOG" >>"$D/milter.old.log" && : >"$MLOG"
}
pfx_on_exit '[ -n "$MILTER_PID" ] && kill -TERM "$MILTER_PID"'
pfx_on_exit '[ "$_pfx_status" != 0 ] && [ -f "$MLOG" ] && tail -n 40 "$MLOG" >&2'

pfx_conf "smtpd_milters = { unix:$SOCK, default_action=accept }" \
    "milter_protocol = 6" \
    "local_recipient_maps =" \
    "relay_domains = bounce.test" \
    "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
    "lmtp_send_xforward_command = yes" \
    "transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$PFX_SINK_PORT, bounce.test=lmtp:unix:$LSOCK }"
start_milter
pfx_start

# re TEXT - TEXT as an extended regular expression that matches only it
re() {
	printf '%s' "$1" | sed 's/[][\\.+*?()|^$]/\\&/g'
}
wait_timeline() {
	_deadline=$(($(date +%s) + 30))
	until "$POSTDRIP" -c "$CONF" timeline "$1" 2>/dev/null | grep -Eq -- "$2"; do
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			"$POSTDRIP" -c "$CONF" timeline "$1" >&2
			pfx_fail "timeline of $1 never matched /$2/"
		fi
		sleep 0.1
	done
}
timeline() {
	"$POSTDRIP" -c "$CONF" timeline "$1"
}
count() {
	timeline "$1" | awk -F '\t' -v t="$2" '$2 == t' | wc -l
}
suppressed() {
	"$POSTDRIP" -c "$CONF" suppressed | awk -v a="$1" '$1 == a { print $2 }'
}
fixture() {
	set -- $("$FIXTURE" "$CONF" "$@") || pfx_fail "fixture"
	CONTACT=$1 MSGNO=$2 BOUNCE=$3 REPLY=$4 UNSUB=$5
	[ -n "$UNSUB" ] || pfx_fail "fixture printed nothing"
}
# deferred ADDRESS - is a message to ADDRESS in the deferred queue?
deferred() {
	postqueue -c "$PFX_ETC" -j | grep '"queue_name": *"deferred"' | grep -q "\"$1\""
}
queued() {
	postqueue -c "$PFX_ETC" -j | grep -c "\"$1\""
}
dsn() {
	printf '%s\n' "From: MAILER-DAEMON@mx.example.org" "To: $1" \
	    "Subject: Undelivered Mail Returned to Sender" "MIME-Version: 1.0" \
	    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"' \
	    "" "--B" "Content-Type: text/plain" "" "Your message could not be delivered." \
	    "--B" "Content-Type: message/delivery-status" "" "Reporting-MTA: dns; mx.example.org" \
	    "" "Final-Recipient: rfc822; $2" "Action: failed" "Status: 5.1.1" \
	    "Diagnostic-Code: smtp; 550 5.1.1 <$2>: Recipient address rejected: User unknown" \
	    "" "--B" "Content-Type: text/rfc822-headers" "" "From: news@news.test" "To: $2" \
	    "Message-ID: <$3>" "Subject: welcome" "" "--B--"
}

# 1. Postfix's own DSN for a nonexistent local user, delivered by LMTP.
fixture nosuchuser@local.test lmtp1@news.test
pfx_send "$BOUNCE" nosuchuser@local.test --header "Message-Id: <lmtp1@news.test>" \
    --header "Subject: welcome" >/dev/null || pfx_fail "send 1"
wait_timeline nosuchuser@local.test 'bounced.*status=5\.1\.1'
[ "$(suppressed nosuchuser@local.test)" = hardbounce ] ||
    pfx_fail "nosuchuser@local.test is not suppressed (hardbounce)"
pfx_wait_log "to=<$(re "$BOUNCE")>, relay=[^,]*\\[$(re "$LSOCK")\\].*status=sent \\(250 2.0.0 <$(re "$BOUNCE")> Ok: bounced\\)" 20 ||
    pfx_fail "the DSN was not delivered by LMTP"
grep -Eq ': [0-9A-Za-z]{6,}: bounced: lmtp from .*contact=<nosuchuser@local.test>' "$MLOG" ||
    pfx_fail "no receiver log line with a queue id for the bounce"
echo "ok 1: Postfix DSN delivered by LMTP, recorded, contact suppressed"

# 2. postdrip down: bounces wait in the queue, other mail does not.
stop_milter
fixture b2a@example.com lmtp2a@news.test; B2A=$BOUNCE
fixture b2b@example.com lmtp2b@news.test; B2B=$BOUNCE
fixture b2c@example.com lmtp2c@news.test; B2C=$BOUNCE
dsn "$B2A" b2a@example.com lmtp2a@news.test >"$D/dsn2a"
dsn "$B2B" b2b@example.com lmtp2b@news.test >"$D/dsn2b"
dsn "$B2C" b2c@example.com lmtp2c@news.test >"$D/dsn2c"
before=$(pfx_sink_files | wc -l)
for x in a b c; do
	eval "to=\$B2$(echo $x | tr a-z A-Z)"
	pfx_send_file '<>' "$to" "$D/dsn2$x" >/dev/null || pfx_fail "send 2$x (a bounce while postdrip is down)"
done
pfx_send alice@local.test bob@sink.test --header "Subject: ordinary" >/dev/null ||
    pfx_fail "ordinary mail refused while postdrip is down"
pfx_wait_delivered $((before + 1)) 20 || pfx_fail "ordinary mail waited on postdrip"
for to in "$B2A" "$B2B" "$B2C"; do
	n=0
	until deferred "$to"; do
		n=$((n + 1)); [ $n -lt 200 ] || { postqueue -c "$PFX_ETC" -j >&2; pfx_fail "bounce to $to is not deferred"; }
		sleep 0.1
	done
done
[ "$(count b2a@example.com bounced)" = 0 ] || pfx_fail "recorded while postdrip was down?"
start_milter
postqueue -c "$PFX_ETC" -f || pfx_fail "postqueue -f"
for c in b2a b2b b2c; do
	wait_timeline $c@example.com 'bounced'
done
n=0
while [ "$(queued bounce.test)" != 0 ]; do
	n=$((n + 1)); [ $n -lt 300 ] || pfx_fail "bounces still queued after postqueue -f"
	sleep 0.1
done
for c in b2a b2b b2c; do
	[ "$(count $c@example.com bounced)" = 1 ] ||
	    pfx_fail "$c recorded $(count $c@example.com bounced) times, want once"
	[ "$(suppressed $c@example.com)" = hardbounce ] || pfx_fail "$c not suppressed"
done
echo "ok 2: postdrip down: bounces deferred, other mail delivered; after postqueue -f each recorded once"

# 3. A store that cannot commit: 451, the bounce stays queued.
fixture b3@example.com lmtp3@news.test
stop_milter
mv "$D/pd" "$D/pd.good"
mkdir "$D/pd"
head -c 65536 /dev/urandom >"$D/pd/data.mdb"
chown -R postfix "$D/pd"
start_milter
dsn "$BOUNCE" b3@example.com lmtp3@news.test >"$D/dsn3"
pfx_send_file '<>' "$BOUNCE" "$D/dsn3" >/dev/null || pfx_fail "send 3"
pfx_wait_log "to=<$(re "$BOUNCE")>, relay=[^,]*\\[$(re "$LSOCK")\\].*status=deferred.*451 4\\.3\\.0" 30 ||
    pfx_fail "a store that cannot commit did not give 451"
grep -q 'tempfail: lmtp from .*the store cannot record it now' "$MLOG" ||
    pfx_fail "no tempfail line in the receiver's log"
deferred "$BOUNCE" || pfx_fail "the bounce is not kept in the deferred queue"
stop_milter
rm -rf "$D/pd"
mv "$D/pd.good" "$D/pd"
start_milter
postqueue -c "$PFX_ETC" -f
wait_timeline b3@example.com 'bounced'
[ "$(count b3@example.com bounced)" = 1 ] || pfx_fail "b3 not recorded exactly once"
echo "ok 3: store cannot commit: 451, queued; recorded once when it can"

# 4. Replies to reply+TOKEN@: genuine, forged, auto-reply.
fixture frank@example.com lmtp4@news.test rep@sink.test
before=$(pfx_sink_files | wc -l)
pfx_send frank@example.com "$REPLY" --header "From: Frank <frank@example.com>" \
    --header "Subject: Re: welcome" --header "In-Reply-To: <lmtp4@news.test>" \
    --body "Yes, call me" >/dev/null || pfx_fail "send 4a"
wait_timeline frank@example.com '	replied	'
pfx_wait_log 'to=<rep@sink.test>.*status=sent' 30 || pfx_fail "the reply did not reach the owner"
f=$(grep -l 'Yes, call me' $(pfx_sink_files) | head -n 1)
[ -n "$f" ] || pfx_fail "the reply is not at the sink"
grep -q '^X-Postdrip-Forwarded: <reply+.*> for <rep@sink.test> .*verdict=reply' "$f" ||
    pfx_fail "no trace header on the forwarded reply: $(cat "$f")"
grep -q '^X-Postdrip-Warning' "$f" && pfx_fail "a genuine reply was marked"
grep -q '^In-Reply-To: <lmtp4@news.test>' "$f" || pfx_fail "the reply was changed"
# The forward passed the milter on the smtpd again: no second record.
pfx_wait_delivered $((before + 1)) 20
[ "$(count frank@example.com replied)" = 1 ] ||
    pfx_fail "the reply was recorded $(count frank@example.com replied) times"

# A forged From: forwarded marked, counted as nothing.
pfx_send mallory@evil.test "$REPLY" --header "From: Frank <frank-not@evil.test>" \
    --header "Subject: Re: welcome" --header "In-Reply-To: <lmtp4@news.test>" \
    --body "I am not Frank" >/dev/null || pfx_fail "send 4b"
wait_timeline frank@example.com 'reply_forged.*why=from'
pfx_wait_delivered $((before + 2)) 20 || pfx_fail "the forged reply was not forwarded"
f=$(grep -l 'I am not Frank' $(pfx_sink_files) | head -n 1)
[ -n "$f" ] || pfx_fail "the forged reply is not at the sink"
grep -q '^X-Postdrip-Warning: ' "$f" || pfx_fail "the forged reply is not marked"
grep -q 'verdict=forged (From is not the contact)' "$f" || pfx_fail "no verdict: $(cat "$f")"
[ "$(count frank@example.com replied)" = 1 ] || pfx_fail "a forged reply was counted"

# The contact's own From, from a client its SPF refuses (XFORWARD carries
# the XCLIENT address): forged; from the permitted one: a reply.
fixture gina@spf-strict.test lmtp4c@news.test rep@sink.test
pfx_send gina@spf-strict.test "$REPLY" --xclient-addr 192.0.2.99 \
    --xclient-name mx.evil.test --header "From: Gina <gina@spf-strict.test>" \
    --header "Subject: Re: welcome" --body "Forged Gina" >/dev/null || pfx_fail "send 4c"
wait_timeline gina@spf-strict.test 'reply_forged.*spf=fail'
grep -q 'reply_forged: lmtp from mx.evil.test\[192.0.2.99\]' "$MLOG" ||
    pfx_fail "the log does not name the original client (XFORWARD)"
pfx_send gina@spf-strict.test "$REPLY" --xclient-addr 192.0.2.10 \
    --xclient-name mx.spf-strict.test --header "From: Gina <gina@spf-strict.test>" \
    --header "Subject: Re: welcome" --body "Genuine Gina" >/dev/null || pfx_fail "send 4d"
wait_timeline gina@spf-strict.test '	replied	.*spf=pass'
[ "$(count gina@spf-strict.test replied)" = 1 ] || pfx_fail "gina: replies counted wrong"

# Without XFORWARD the receiver reads the client from the top Received
# header, which this Postfix wrote.
pfx_conf "lmtp_send_xforward_command = no"
pfx_reload
sleep 1
fixture kim@spf-strict.test lmtp4g@news.test rep@sink.test
pfx_send kim@spf-strict.test "$REPLY" --xclient-addr 192.0.2.98 \
    --xclient-name mx.evil2.test --header "From: <kim@spf-strict.test>" \
    --header "Subject: Re: welcome" --body "Forged Kim" >/dev/null || pfx_fail "send 4g"
wait_timeline kim@spf-strict.test 'reply_forged.*spf=fail'
grep -q 'reply_forged: lmtp from mx.evil2.test\[192.0.2.98\]' "$MLOG" ||
    pfx_fail "without XFORWARD the client was not read from the Received header"
pfx_conf "lmtp_send_xforward_command = yes"
pfx_reload

# A contact without owner: to reply_forward_address.
fixture hal@example.com lmtp4e@news.test
pfx_send hal@example.com "$REPLY" --header "From: <hal@example.com>" \
    --header "Subject: Re: welcome" --body "No owner here" >/dev/null || pfx_fail "send 4e"
pfx_wait_log 'to=<replies@sink.test>.*status=sent' 30 ||
    pfx_fail "a reply without owner did not reach reply_forward_address"

# An auto-reply: recorded, not forwarded.
fixture ivy@example.com lmtp4f@news.test rep@sink.test
pfx_send ivy@example.com "$REPLY" --header "From: Ivy <ivy@example.com>" \
    --header "Subject: Out of office" --header "Auto-Submitted: auto-replied" \
    --body "Away" >/dev/null || pfx_fail "send 4f"
wait_timeline ivy@example.com 'autoreplied'
pfx_wait_log "to=<$(re "$REPLY")>, relay=[^,]*\\[$(re "$LSOCK")\\].*status=sent" 20 || pfx_fail "auto-reply not delivered by LMTP"
grep -l '^Away' $(pfx_sink_files) >/dev/null 2>&1 && pfx_fail "an auto-reply was forwarded"
[ "$(count ivy@example.com replied)" = 0 ] || pfx_fail "an auto-reply counted as a reply"
echo "ok 4: replies recorded and forwarded to the owner; forged ones marked and not counted"

# 5. A mailed unsubscribe; an unknown address on the bounce domain.
fixture grace@example.com lmtp5@news.test
pfx_send grace@example.com "$UNSUB" --header "Subject: unsubscribe" --body "unsubscribe" \
    >/dev/null || pfx_fail "send 5a"
wait_timeline grace@example.com 'unsubscribed'
[ "$(suppressed grace@example.com)" = unsubscribed ] || pfx_fail "grace not suppressed"
# A feedback-loop report to lmtp_feedback_addresses (fbl@ by default).
fixture lou@example.com lmtp5c@news.test
arf() {
	printf '%s\n' "From: fbl@isp.example" "To: $1" "Subject: complaint about message" \
	    "MIME-Version: 1.0" \
	    'Content-Type: multipart/report; report-type=feedback-report; boundary="A"' \
	    "" "--A" "Content-Type: text/plain" "" "This is an email abuse report." \
	    "--A" "Content-Type: message/feedback-report" "" "Feedback-Type: abuse" \
	    "User-Agent: isp-fbl/1.0" "Version: 1" "Original-Rcpt-To: $2" \
	    "" "--A" "Content-Type: message/rfc822" "" "From: news@news.test" "To: $2" \
	    "Message-ID: <$3>" "Subject: welcome" "" "hello" "--A--"
}
arf fbl@bounce.test lou@example.com lmtp5c@news.test >"$D/arf5"
pfx_send_file fbl@isp.example fbl@bounce.test "$D/arf5" >/dev/null || pfx_fail "send 5c"
wait_timeline lou@example.com 'complained'
[ "$(suppressed lou@example.com)" = complaint ] || pfx_fail "lou not suppressed (complaint)"
pfx_send alice@sink.test nobody@bounce.test --body "hello?" >/dev/null || pfx_fail "send 5b"
pfx_wait_log 'to=<nobody@bounce.test>, relay=.*status=bounced .*550 5\.1\.1' 20 ||
    pfx_fail "an unknown local part on the bounce domain was not refused with 550 5.1.1"
echo "ok 5: mailed unsubscribe and feedback-loop report suppress; unknown bounce-domain address: 550 5.1.1"

# 6. The tracker's /metrics counts the bounces and complaints the receiver
# recorded (it sees no mail itself: the counts come from the store), as
# many as the timelines hold.
stop_milter
command -v curl >/dev/null || pfx_skip "curl is not installed"
TPORT=$(pfx_free_port) || pfx_fail "no free port"
printf 'tracker_listen = inet:127.0.0.1:%s\ntracker_url = http://127.0.0.1:%s\nworkflow_directory = %s\n' \
    "$TPORT" "$TPORT" "$D/no-workflows" >>"$CONF"
pfx_spawn engine "$top_builddir/engine/postdrip-engine" -f -c "$CONF"
pfx_wait_listen "$TPORT" 20 || pfx_fail "tracker does not listen"
curl -s "http://127.0.0.1:$TPORT/metrics" >"$D/metrics" || pfx_fail "no /metrics"
# want CLASS - bounced events of that class in every contact's timeline
want() {
	"$POSTDRIP" -c "$CONF" contact export | sed 1d | cut -d, -f1 | while read -r a; do
		timeline "$a"
	done | awk -F '\t' -v c="$1" '$2 == "bounced" && $3 ~ ("(^| )class=" c "( |$)")' | wc -l
}
metric() {
	sed -n "s/^$1 //p" "$D/metrics"
}
hard=$(want hard)
[ "$hard" -ge 1 ] || pfx_fail "no hard bounce recorded before the metrics check"
got=$(metric 'postdrip_bounces_total{class="hard"}')
[ "$got" = "$hard" ] || { cat "$D/metrics" >&2; pfx_fail "/metrics says $got hard bounces, the timelines $hard"; }
got=$(metric 'postdrip_bounces_total{class="soft"}')
[ "$got" = "$(want soft)" ] || pfx_fail "/metrics soft bounces: $got"
[ "$(metric postdrip_complaints_total)" = 1 ] || pfx_fail "/metrics complaints: $(metric postdrip_complaints_total)"
[ "$(metric postdrip_jobs_due)" = 0 ] || pfx_fail "/metrics jobs due: $(metric postdrip_jobs_due)"
echo "ok 6: /metrics counts $hard hard bounces and the complaint, as the timelines do"

echo "PASS: lmtp_e2e"
exit 0
