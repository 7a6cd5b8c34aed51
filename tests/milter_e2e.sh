#!/bin/sh
# milter_e2e - postdrip-milter behind a real Postfix.
#
# Postfix listens on two smtpd ports, both with the milter: the main one,
# and an "inbound MX" for the bounce domain (bounce.test), to which Postfix
# routes its own bounces, so that a DSN comes back through smtpd as it
# would from the Internet. What the second smtpd accepts is discarded after
# the milter (content_filter discard:): nothing loops.
#
#  1. A message to a nonexistent local user (local_recipient_maps empty)
#     makes Postfix's own DSN; it reaches the milter and suppresses the
#     contact (hardbounce), and the DSN is consumed.
#  2. A corpus bounce injected to a VERP address is recorded.
#     2b. To a VERP address with an altered token, or without one: tied
#     only by the Message-ID of a send to the recipient the report names,
#     never by the recipient alone; anything else is recorded as
#     unverified, logged, changes no contact, and is discarded.
#  3. A vacation auto-reply is recorded as autoreplied, never as a reply.
#  4. A reply with a spoofed From is recorded as reply_forged and not
#     counted; the genuine one is counted and forwarded to the owner; both
#     are delivered.
#     4d. The contact's own From from a client its SPF refuses (XCLIENT,
#     POSTDRIP_SPF_ZONE): reply_forged with spf=fail.
#     4f. The same with MAIL FROM on a domain that passes: still forged
#     (the From domain's SPF counts).
#  5. A mailed unsubscribe suppresses; a re-injected duplicate of a
#     workflow message is dropped, the same Message-ID to another
#     recipient is not.
#  6. The milter over an inet: socket.
#  7. A broken store: mail to the bounce domain gets a 4xx, and stays
#     with the client.
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
PORT2=$(pfx_free_port) || pfx_fail "no free port"
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
MLOG=$D/milter.log

cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$SOCK
bounce_domain = bounce.test
marketing_senders = *@news.test
reply_forward_owner = yes
soft_bounce_limit = 3
EOF
mkdir -p "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"
# The milter runs as mail_owner: the store must be the postfix user's.
echo "mail_owner = postfix" >>"$CONF"
"$POSTDRIP" -c "$CONF" stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd"

MILTER_PID=
start_milter() {
	rm -f "$SOCK"
	"$MILTER" -f -c "$CONF" 2>>"$MLOG" &
	MILTER_PID=$!
	_n=0
	until [ -S "$SOCK" ]; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || { cat "$MLOG" >&2; pfx_fail "milter does not listen"; }
		kill -0 "$MILTER_PID" 2>/dev/null || { cat "$MLOG" >&2; pfx_fail "milter exited"; }
		sleep 0.05
	done
}
stop_milter() {
	[ -n "$MILTER_PID" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null
	_n=0
	while kill -0 "$MILTER_PID" 2>/dev/null && [ $_n -lt 100 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
	kill -0 "$MILTER_PID" 2>/dev/null && pfx_fail "milter does not stop on SIGTERM"
	wait "$MILTER_PID"
	_rc=$?
	MILTER_PID=
	[ $_rc = 0 ] || pfx_fail "milter exit status $_rc after SIGTERM"
}
pfx_on_exit '[ -n "$MILTER_PID" ] && kill -TERM "$MILTER_PID"'
pfx_on_exit '[ "$_pfx_status" != 0 ] && [ -f "$MLOG" ] && tail -n 40 "$MLOG" >&2'
# SPF without a name server: spf-strict.test lets only 192.0.2.10 send.
printf '%s\n' '# test policies' 'spf-strict.test v=spf1 ip4:192.0.2.10 -all' \
    'spf-open.test v=spf1 ip4:192.0.2.99 -all' >"$D/spf.zone"
POSTDRIP_SPF_ZONE=$D/spf.zone
export POSTDRIP_SPF_ZONE
start_milter
grep -q 'SPF records are read from' "$MLOG" || pfx_fail "POSTDRIP_SPF_ZONE not taken"
[ "$(stat -c %a "$SOCK")" = 666 ] || pfx_fail "socket mode $(stat -c %a "$SOCK"), want 666"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$MILTER_PID/status")
[ "$uid" = "$(id -u postfix)" ] || pfx_fail "milter runs as uid $uid, not as mail_owner postfix"

pfx_conf "smtpd_milters = unix:$SOCK" \
    "milter_protocol = 6" \
    "milter_default_action = tempfail" \
    "local_recipient_maps =" \
    "relay_domains = bounce.test" \
    "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
    "transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$PFX_SINK_PORT, bounce.test=smtp:[127.0.0.1]:$PORT2 }"
pfx_master "127.0.0.1:$PORT2 inet n - n - - smtpd -o myhostname=mx.bounce.test -o content_filter=discard:consumed"
pfx_start

# wait_timeline ADDRESS PATTERN - until the contact's timeline matches
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
suppressed() {
	"$POSTDRIP" -c "$CONF" suppressed | awk -v a="$1" '$1 == a { print $2 }'
}
# fixture ADDRESS MESSAGE-ID [OWNER] - sets CONTACT MSGNO BOUNCE REPLY UNSUB
fixture() {
	set -- $("$FIXTURE" "$CONF" "$@") || pfx_fail "fixture"
	CONTACT=$1 MSGNO=$2 BOUNCE=$3 REPLY=$4 UNSUB=$5
	[ -n "$UNSUB" ] || pfx_fail "fixture printed nothing"
}

# 1. Postfix's own DSN for a nonexistent local user.
fixture nosuchuser@local.test e2e1@news.test
pfx_send "$BOUNCE" nosuchuser@local.test \
    --header "Message-Id: <e2e1@news.test>" --header "X-Postdrip-Workflow: welcome" \
    --header "X-Postdrip-Step: 1" --header "Subject: welcome" >/dev/null ||
    pfx_fail "send 1"
wait_timeline nosuchuser@local.test 'bounced.*status=5\.1\.1'
timeline nosuchuser@local.test | grep 'bounced' | grep -q 'class=hard' ||
    pfx_fail "the DSN was not a hard bounce: $(timeline nosuchuser@local.test)"
timeline nosuchuser@local.test | grep 'bounced' | grep -q 'tie=token' ||
    pfx_fail "the DSN was not tied by its VERP token"
[ "$(suppressed nosuchuser@local.test)" = hardbounce ] ||
    pfx_fail "nosuchuser@local.test is not suppressed (hardbounce)"
pfx_wait_log 'milter-discard: END-OF-MESSAGE from .*mx.bounce.test|milter-discard' 20 ||
    pfx_fail "the DSN was not consumed (no milter-discard)"
grep -Eq ': [0-9A-Za-z]{6,}: bounced: .*contact=<nosuchuser@local.test>' "$MLOG" ||
    pfx_fail "no milter log line with a queue id for the bounce"
echo "ok 1: Postfix DSN recorded, contact suppressed, DSN consumed"

# 2. A corpus bounce (a Gmail DSN) to a VERP address.
fixture carol@example.com e2e2@news.test
sample=$CORPUS/gmail/lhost-gmail-01.eml
[ -r "$sample" ] || pfx_skip "corpus sample $sample missing"
out=$(pfx_swaks --from '<>' --to "$BOUNCE" --data - <"$sample")
echo "$out" | grep -q '<- *250 ' || pfx_fail "corpus bounce refused: $out"
wait_timeline carol@example.com 'bounced.*status=5\.1\.1.*'
timeline carol@example.com | grep bounced | grep -q 'reason=userunknown' ||
    pfx_fail "corpus bounce reason: $(timeline carol@example.com)"
[ "$(suppressed carol@example.com)" = hardbounce ] || pfx_fail "carol not suppressed"
echo "ok 2: corpus bounce recorded"

# 2b. A bounce to a VERP address whose token was altered: the token does
# not verify, and nothing falls back to the recipient it names. The
# original Message-ID inside the report ties it only when the report
# names the recipient that message went to.
fixture liam@example.com e2e2b@news.test
LIAM_BOUNCE=$BOUNCE
fixture mona@example.com e2e2m@news.test
c=$(echo "$LIAM_BOUNCE" | sed 's/^[^+]*+\(.\).*/\1/' | tr A-Z a-z)
if [ "$c" = a ]; then r=b; else r=a; fi
bad=$(echo "$LIAM_BOUNCE" | sed "s/+./+$r/")
[ "$bad" != "$LIAM_BOUNCE" ] || pfx_fail "could not alter the token of $LIAM_BOUNCE"
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
# Tampered token, mona named, Message-ID unknown: unverified, mona kept.
dsn "$bad" mona@example.com unknown.e2e2b@elsewhere.example >"$D/dsn2b0"
out=$(pfx_swaks --from '<>' --to "$bad" --data - <"$D/dsn2b0")
echo "$out" | grep -q '<- *250 ' || pfx_fail "bounce with a bad token refused: $out"
wait_timeline mona@example.com 'bounce_unverified.*why=bad_token'
# liam's Message-ID, but mona named as the failed recipient: unverified.
dsn "$bad" mona@example.com e2e2b@news.test >"$D/dsn2b1"
out=$(pfx_swaks --from '<>' --to "$bad" --data - <"$D/dsn2b1")
echo "$out" | grep -q '<- *250 ' || pfx_fail "bounce with a bad token refused: $out"
wait_timeline mona@example.com 'bounce_unverified.*why=bad_token.*e2e2b@news.test|bounce_unverified.*e2e2b@news.test.*why=bad_token'
# liam's Message-ID naming liam: tied by the Message-ID.
dsn "$bad" liam@example.com e2e2b@news.test >"$D/dsn2b"
out=$(pfx_swaks --from '<>' --to "$bad" --data - <"$D/dsn2b")
echo "$out" | grep -q '<- *250 ' || pfx_fail "bounce with a bad token refused: $out"
wait_timeline liam@example.com 'bounced.*tie=message-id'
[ "$(suppressed liam@example.com)" = hardbounce ] || pfx_fail "liam not suppressed"
[ -z "$(suppressed mona@example.com)" ] || pfx_fail "a report with a bad token suppressed mona"
timeline mona@example.com | grep -Pq '\tbounced\t' && pfx_fail "an unverified report counted as a bounce"
grep -Eq 'bounce_unverified: .*contact=<mona@example.com> tie=none why=bad_token' "$MLOG" ||
    pfx_fail "no log line for the unverified report"
# 2c. A plain DSN from <> to the bounce domain, no token, naming a known
# contact with an unknown Message-ID: unverified, nobody suppressed.
dsn "bounces@bounce.test" mona@example.com unknown.e2e2c@elsewhere.example >"$D/dsn2c0"
out=$(pfx_swaks --from '<>' --to "bounces@bounce.test" --data - <"$D/dsn2c0")
echo "$out" | grep -q '<- *250 ' || pfx_fail "bounce without a token refused: $out"
wait_timeline mona@example.com 'bounce_unverified.*why=no_recorded_send'
[ -z "$(suppressed mona@example.com)" ] || pfx_fail "a DSN without a token suppressed mona"
# 2c'. An ARF report from a feedback loop about a message never sent,
# naming mona as Original-Rcpt-To: unverified, mona not suppressed.
printf '%s\n' "From: fbl@isp.example" "To: fbl@bounce.test" "Subject: complaint" \
    "MIME-Version: 1.0" \
    'Content-Type: multipart/report; report-type=feedback-report; boundary="A"' \
    "" "--A" "Content-Type: text/plain" "" "This is an abuse report." \
    "--A" "Content-Type: message/feedback-report" "" "Feedback-Type: abuse" \
    "User-Agent: isp-fbl/1.0" "Version: 1" "Original-Rcpt-To: <mona@example.com>" \
    "" "--A" "Content-Type: text/rfc822-headers" "" "From: news@news.test" \
    "To: mona@example.com" "Message-ID: <never.sent.arf@elsewhere.example>" \
    "Subject: hello" "" "--A--" >"$D/arf2c"
out=$(pfx_swaks --from fbl@isp.example --to fbl@bounce.test --data - <"$D/arf2c")
echo "$out" | grep -q '<- *250 ' || pfx_fail "ARF report refused: $out"
wait_timeline mona@example.com 'complaint_unverified.*why=no_recorded_send|complaint_unverified'
[ -z "$(suppressed mona@example.com)" ] || pfx_fail "a forged ARF report suppressed mona"
timeline mona@example.com | grep -Pq '\tcomplained\t' && pfx_fail "a forged ARF report counted as a complaint"
# 2d. Neither token, Message-ID nor recipient known: logged, and still
# consumed (it was addressed to the bounce domain).
dsn "$bad" nobody@nowhere.example unknown.e2e2d@elsewhere.example >"$D/dsn2d"
out=$(pfx_swaks --from '<>' --to "$bad" --data - <"$D/dsn2d")
echo "$out" | grep -q '<- *250 ' || pfx_fail "untied bounce refused: $out"
pfx_wait_file "$MLOG" 'bounce_unverified: .*contact=<> tie=none' 20 || pfx_fail "no 'unverified' log line for an untied bounce"
[ -z "$(suppressed nobody@nowhere.example)" ] || pfx_fail "an untied bounce suppressed someone"
echo "ok 2b: reports not tied to a recorded send to that recipient are unverified and change nothing"

# 3. A vacation auto-reply to the return path.
fixture erin@example.com e2e3@news.test
pfx_send erin@example.com "$BOUNCE" \
    --header "From: Erin <erin@example.com>" --header "Subject: Out of office: welcome" \
    --header "Auto-Submitted: auto-replied" --header "In-Reply-To: <e2e3@news.test>" \
    --body "I am away until Monday." >/dev/null || pfx_fail "send 3"
wait_timeline erin@example.com 'autoreplied'
timeline erin@example.com | grep -Pq '\treplied\t' && pfx_fail "auto-reply counted as a reply"
[ -z "$(suppressed erin@example.com)" ] || pfx_fail "an auto-reply suppressed erin"
echo "ok 3: vacation reply recorded as autoreplied, not as a reply"

# 4. Replies to a sent message, to an ordinary address: spoofed, then real.
fixture frank@example.com e2e4@news.test rep@sink.test
before=$(pfx_sink_files | wc -l)
pfx_send mallory@evil.test sales@sink.test \
    --header "From: Frank <frank-not@evil.test>" --header "Subject: Re: welcome" \
    --header "In-Reply-To: <e2e4@news.test>" --body "I am not Frank" >/dev/null ||
    pfx_fail "send 4a"
wait_timeline frank@example.com 'reply_forged.*why=from'
pfx_send frank@example.com sales@sink.test \
    --header "From: Frank <frank@example.com>" --header "Subject: Re: welcome" \
    --header "In-Reply-To: <e2e4@news.test>" --body "Yes, call me" >/dev/null ||
    pfx_fail "send 4b"
wait_timeline frank@example.com '	replied	.*spf='
[ "$(timeline frank@example.com | grep -c '	replied	')" = 1 ] ||
    pfx_fail "replies counted: $(timeline frank@example.com)"
# Both delivered; the genuine one also to the owner.
pfx_wait_delivered $((before + 2)) 30 || pfx_fail "replies not delivered"
pfx_wait_log 'to=<rep@sink.test>.*status=sent' 20 || pfx_fail "reply not forwarded to the owner"
[ "$(pfx_log_grep 'to=<rep@sink.test>.*status=sent' | wc -l)" = 1 ] ||
    pfx_fail "the owner got a forged reply too"
# A reply to the return path is consumed there, but the owner still gets it.
fixture kate@example.com e2e4b@news.test rep@sink.test
pfx_send kate@example.com "$BOUNCE" \
    --header "From: Kate <kate@example.com>" --header "Subject: Re: welcome" \
    --header "In-Reply-To: <e2e4b@news.test>" --body "Interested" >/dev/null ||
    pfx_fail "send 4c"
wait_timeline kate@example.com '	replied	'
n=0
until [ "$(pfx_log_grep 'to=<rep@sink.test>.*status=sent' | wc -l)" = 2 ]; do
	n=$((n + 1)); [ $n -lt 200 ] || pfx_fail "a reply to the return path did not reach the owner"
	sleep 0.1
done
echo "ok 4: spoofed reply not counted; genuine replies counted and forwarded"

# 4d. The contact's own From, but from a client its domain's SPF refuses
# (XCLIENT: loopback always passes SPF), straight to the bounce domain's
# smtpd as from the Internet: forged (why=spf), not a reply; the same from
# the permitted address is a reply with spf=pass.
fixture gina@spf-strict.test e2e4d@news.test rep@sink.test
pfx_send gina@spf-strict.test "$REPLY" --port "$PORT2" --xclient-addr 192.0.2.99 \
    --xclient-name mx.evil.test --header "From: Gina <gina@spf-strict.test>" \
    --header "Subject: Re: welcome" --header "In-Reply-To: <e2e4d@news.test>" \
    --body "Forged" >/dev/null || pfx_fail "send 4d"
wait_timeline gina@spf-strict.test 'reply_forged.*why=spf'
timeline gina@spf-strict.test | grep 'reply_forged' | grep -q 'spf=fail' ||
    pfx_fail "SPF fail not stored with the event: $(timeline gina@spf-strict.test)"
timeline gina@spf-strict.test | grep -Pq '\treplied\t' &&
    pfx_fail "a reply that fails SPF was counted"
pfx_send gina@spf-strict.test "$REPLY" --port "$PORT2" --xclient-addr 192.0.2.10 \
    --xclient-name mx.spf-strict.test --header "From: Gina <gina@spf-strict.test>" \
    --header "Subject: Re: welcome" --header "In-Reply-To: <e2e4d@news.test>" \
    --body "Genuine" >/dev/null || pfx_fail "send 4e"
wait_timeline gina@spf-strict.test '	replied	.*spf=pass'
echo "ok 4d: a reply whose SPF fails is forged (spf=fail stored); from the permitted host it counts"

# 4f. SPF is that of the From domain: hana@spf-strict.test's From, from a
# client spf-strict.test does not allow, with MAIL FROM on a domain that
# lets that client send: forged, not a reply.
fixture hana@spf-strict.test e2e4f@news.test rep@sink.test
pfx_send bulk@spf-open.test "$REPLY" --port "$PORT2" --xclient-addr 192.0.2.99 \
    --xclient-name mx.spf-open.test --header "From: Hana <hana@spf-strict.test>" \
    --header "Subject: Re: welcome" --header "In-Reply-To: <e2e4f@news.test>" \
    --body "Not from Hana's domain" >/dev/null || pfx_fail "send 4f"
wait_timeline hana@spf-strict.test 'reply_forged.*why=spf'
timeline hana@spf-strict.test | grep 'reply_forged' | grep -q 'spf=fail' ||
    pfx_fail "not the From domain's SPF: $(timeline hana@spf-strict.test)"
timeline hana@spf-strict.test | grep -Pq '\treplied\t' &&
    pfx_fail "a reply passing SPF only for MAIL FROM was counted"
echo "ok 4f: SPF is checked for the From domain, not MAIL FROM's"

# 5. Unsubscribe by mail; a re-injected workflow message.
fixture grace@example.com e2e5@news.test
pfx_send grace@example.com "$UNSUB" --header "Subject: unsubscribe" --body "unsubscribe" \
    >/dev/null || pfx_fail "send 5a"
wait_timeline grace@example.com 'unsubscribed'
[ "$(suppressed grace@example.com)" = unsubscribed ] || pfx_fail "grace not suppressed"
# The engine's send to henry, injected twice (a crash before the 250):
# the copy is dropped. The same Message-ID to someone else is delivered.
fixture henry@sink.test e2e5dup@news.test
for i in 1 2; do
	pfx_send "$BOUNCE" henry@sink.test --header "Message-Id: <e2e5dup@news.test>" \
	    --header "X-Postdrip-Workflow: welcome" --header "X-Postdrip-Step: 2" \
	    --body "step 2" >/dev/null || pfx_fail "send 5b/$i"
done
pfx_wait_log 'milter-discard' 20 || pfx_fail "no discard"
grep -q 'discard: .*duplicate message-id=<e2e5dup@news.test>' "$MLOG" ||
    pfx_fail "the re-injected copy was not dropped"
[ "$(grep -c 'sent: .*message-id=<e2e5dup@news.test>' "$MLOG")" = 1 ] ||
    pfx_fail "the first copy was not recorded once"
pfx_send "$BOUNCE" ivy@sink.test --header "Message-Id: <e2e5dup@news.test>" \
    --body "same id, another recipient" >/dev/null || pfx_fail "send 5b/3"
grep -q 'sent: .*message-id=<e2e5dup@news.test>.* reused.*to=<ivy@sink.test>' "$MLOG" ||
    pfx_fail "the same Message-ID to another recipient was not delivered as reused"
[ "$(grep -c 'discard: .*duplicate message-id=<e2e5dup@news.test>' "$MLOG")" = 1 ] ||
    pfx_fail "the same Message-ID to another recipient was dropped"
# Headers anyone can write do not make a send.
pfx_send someone@evil.test henry@sink.test --header "Message-Id: <e2e5forged@evil.test>" \
    --header "X-Postdrip-Workflow: welcome" --body "not ours" >/dev/null || pfx_fail "send 5c"
# (the milter decided before smtpd answered 250)
grep -q 'e2e5forged' "$MLOG" && pfx_fail "a forged X-Postdrip-Workflow header was taken for a send"
echo "ok 5: mailed unsubscribe suppresses; re-injected duplicate dropped; forged headers ignored"

# SIGHUP: a broken file is refused and the milter goes on; a good one is read.
cp "$CONF" "$CONF.good"
echo "no_such_setting = 1" >>"$CONF"
kill -HUP "$MILTER_PID"
pfx_wait_file "$MLOG" 'reload refused' 5 || pfx_fail "no 'reload refused' after a broken file"
kill -0 "$MILTER_PID" 2>/dev/null || pfx_fail "SIGHUP with a broken file stopped the milter"
cp "$CONF.good" "$CONF"
kill -HUP "$MILTER_PID"
pfx_wait_file "$MLOG" 'reloaded ' 5 || pfx_fail "no 'reloaded' after SIGHUP"
pfx_send "$BOUNCE" henry@sink.test --header "Message-Id: <e2e5hup@news.test>" \
    --body "after reload" >/dev/null || pfx_fail "send after reload"
grep -q 'sent: .*message-id=<e2e5hup@news.test>' "$MLOG" || pfx_fail "nothing recorded after reload"
echo "ok 5b: SIGHUP reloads; a broken file is refused"

# 6. Over inet: (TCP_NODELAY on the listening socket), a send is recorded.
stop_milter
IPORT=$(pfx_free_port) || pfx_fail "no free port"
sed -i "s|^milter_listen = .*|milter_listen = inet:127.0.0.1:$IPORT|" "$CONF"
"$MILTER" -f -c "$CONF" 2>>"$MLOG" &
MILTER_PID=$!
pfx_wait_listen "$IPORT" 10 || pfx_fail "milter does not listen on inet:127.0.0.1:$IPORT"
pfx_conf "smtpd_milters = inet:127.0.0.1:$IPORT"
pfx_reload
sleep 1
pfx_send "$BOUNCE" ivan@sink.test --header "Message-Id: <e2e6inet@news.test>" \
    --body "over inet" >/dev/null || pfx_fail "send 6"
grep -q 'sent: .*message-id=<e2e6inet@news.test>' "$MLOG" || pfx_fail "no send recorded over inet:"
stop_milter
sed -i "s|^milter_listen = .*|milter_listen = unix:$SOCK|" "$CONF"
pfx_conf "smtpd_milters = unix:$SOCK"
pfx_reload
echo "ok 6: inet: socket works"

# 7. A broken store: tempfail, the client keeps the mail.
mv "$D/pd" "$D/pd.good"
mkdir "$D/pd"
head -c 65536 /dev/urandom >"$D/pd/data.mdb"
start_milter
fixture_addr=$BOUNCE
out=$(pfx_swaks --from '<>' --to "$fixture_addr" --data - <"$sample")
echo "$out" | grep -Eq '<\*\* *4[0-9][0-9] ' || pfx_fail "broken store did not give 4xx: $out"
grep -q 'tempfail: .*the store cannot record it now' "$MLOG" ||
    pfx_fail "no tempfail line in the milter log"
stop_milter
echo "ok 7: broken store: 4xx"
echo "PASS: milter_e2e"
exit 0
