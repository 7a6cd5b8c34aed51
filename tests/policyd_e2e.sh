#!/bin/sh
# policyd_e2e - postdrip-policyd behind a real Postfix (check_policy_service
# in smtpd_recipient_restrictions and smtpd_end_of_data_restrictions):
# a suppressed recipient of marketing mail is refused at RCPT (5.7.1, in
# swaks's transcript and in Postfix's log), transactional mail to them
# passes, a recipient over a frequency cap is deferred (4.7.1), a message
# abandoned before DATA is not counted, "postdrip unsuppress" takes effect
# at the next message, and the daemon runs as mail_owner.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

policyd="$top_builddir/policyd/postdrip-policyd"
postdrip="$top_builddir/cli/postdrip"
[ -x "$policyd" ] || pfx_fail "$policyd not built"

pfx_init
PD_PORT=$(pfx_free_port) || pfx_fail "no free port"
PD=$PFX_DIR/postdrip
mkdir -p "$PD/data"
chown postfix "$PD/data"
cat > "$PD/postdrip.conf" <<EOF
data_directory = $PD/data
policyd_listen = inet:127.0.0.1:$PD_PORT
marketing_senders = *@news.test
frequency_caps = 1/1d
mail_owner = postfix
policyd_inflight_timeout = 1s
EOF

"$policyd" -f -c "$PD/postdrip.conf" 2> "$PD/log" &
PD_PID=$!
# pd_stop - TERM, then KILL if the daemon does not go within 5 s
pd_stop() {
	kill -TERM "$PD_PID" 2>/dev/null || return 0
	_n=0
	while kill -0 "$PD_PID" 2>/dev/null && [ $_n -lt 50 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill -KILL "$PD_PID" 2>/dev/null
	wait "$PD_PID" 2>/dev/null
}
pfx_on_exit pd_stop
pfx_wait_listen "$PD_PORT" 10 || pfx_fail "postdrip-policyd does not listen: $(cat "$PD/log")"
# "ready" comes after the privileges are dropped and the store is open.
n=0
until grep -q "ready on" "$PD/log"; do
	n=$((n + 1))
	[ $n -gt 200 ] && pfx_fail "postdrip-policyd not ready: $(cat "$PD/log")"
	sleep 0.05
done

# Privileges: dropped to mail_owner after binding.
uid=$(awk '/^Uid:/ { print $3 }' "/proc/$PD_PID/status")
[ "$uid" = "$(id -u postfix)" ] || pfx_fail "daemon runs as uid $uid, not postfix"

policy="check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s }"
pfx_conf "smtpd_recipient_restrictions = $policy" \
    "smtpd_end_of_data_restrictions = $policy"
pfx_start

pd() { "$postdrip" -c "$PD/postdrip.conf" "$@" || pfx_fail "postdrip $*"; }
pd_wait_log() {
	_deadline=$(($(date +%s) + ${2:-10}))
	until grep -Eq -- "$1" "$PD/log"; do
		[ "$(date +%s)" -ge "$_deadline" ] && pfx_fail "policyd log has no /$1/: $(cat "$PD/log")"
		sleep 0.05
	done
}

# 1. A suppressed recipient of marketing mail: refused at RCPT.
pd suppress bob@sink.test --reason unsubscribed
out=$(pfx_swaks --from news@news.test --to bob@sink.test)
echo "$out" | grep -q '<\*\* *550 5.7.1 <bob@sink.test>: Recipient address rejected: recipient unsubscribed (postdrip)' ||
    pfx_fail "suppressed recipient not refused: $out"
pfx_wait_log 'NOQUEUE: reject: RCPT from .*550 5.7.1 <bob@sink.test>: Recipient address rejected: recipient unsubscribed \(postdrip\); from=<news@news.test> to=<bob@sink.test>' 10 ||
    pfx_fail "no reject line in Postfix's log"
pd_wait_log 'reject: RCPT from .*: 550 5.7.1 recipient unsubscribed \(postdrip\); from=<news@news.test> to=<bob@sink.test> .*stream=marketing'

# 2. Transactional mail to the same recipient passes.
qid=$(pfx_send receipts@shop.test bob@sink.test --body "your receipt") ||
    pfx_fail "transactional mail refused"
pfx_wait_delivered 1 20 || pfx_fail "transactional mail not delivered"

# 3. Frequency cap 1/1d: the first message passes and is counted at
#    END-OF-MESSAGE under its queue id; the second is deferred at RCPT.
qid=$(pfx_send news@news.test carol@sink.test --body "issue 1") ||
    pfx_fail "first marketing message refused"
pd_wait_log "$qid: count: END-OF-MESSAGE .*1 recipient counted"
pfx_wait_delivered 2 20 || pfx_fail "first marketing message not delivered"
out=$(pfx_swaks --from news@news.test --to carol@sink.test --body "issue 2")
echo "$out" | grep -q '<\*\* *450 4.7.1 <carol@sink.test>: Recipient address rejected: frequency cap reached (1 message per 1d) (postdrip)' ||
    pfx_fail "recipient over the cap not deferred: $out"
pfx_wait_log 'NOQUEUE: reject: RCPT from .*450 4.7.1 <carol@sink.test>: Recipient address rejected: frequency cap reached' 10 ||
    pfx_fail "no deferral in Postfix's log"

# 4. A message abandoned after RCPT (RSET, then QUIT) is not counted.
"$PFX_PYTHON" - "$PFX_PORT" <<'EOF' || pfx_fail "abandoned transaction"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
code, _ = s.mail("news@news.test")
assert code == 250, code
code, msg = s.rcpt("dave@sink.test")
assert code == 250, (code, msg)
s.rset()
s.quit()
EOF
# Postfix does not tell the daemon that the message was abandoned: if the
# next session goes to another smtpd process, dave counts as in flight
# until policyd_inflight_timeout (1s here). Past it, he is free either way.
sleep 2
qid=$(pfx_send news@news.test dave@sink.test --body "after an abandoned one") ||
    pfx_fail "the message after an abandoned transaction was refused (counted wrongly)"

# 5. Unsuppress: the next marketing message passes at once.
pd unsuppress bob@sink.test
qid=$(pfx_send news@news.test bob@sink.test --body "welcome back") ||
    pfx_fail "mail to an unsuppressed recipient refused"
pd_wait_log "$qid: count: END-OF-MESSAGE"

grep -q "ERROR: AddressSanitizer\|runtime error" "$PD/log" && pfx_fail "sanitizer report: $(cat "$PD/log")"
echo "ok: policyd end to end"
exit 0
