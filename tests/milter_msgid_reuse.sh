#!/bin/sh
# milter_msgid_reuse - one marketing message in several SMTP transactions,
# behind a real Postfix with postdrip-milter and postdrip-policyd.
#
# smtpd_recipient_limit = 3: Postfix answers 452 4.5.3 past the third
# recipient, and an RFC 5321 client sends the same message (the same
# Message-ID) again to the recipients it refused. Each transaction is
# accepted with 250, so each must be delivered: the milter drops a copy
# only when it is proven a re-injection of the engine's own send. Seven
# recipients, one Message-ID, three transactions: all seven reach
# smtp-sink, and postdrip-policyd counts seven, as many as were delivered.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
POLICYD=$top_builddir/policyd/postdrip-policyd
pfx_need_built "$POSTDRIP" "$MILTER" "$POLICYD"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
PD_PORT=$(pfx_free_port) || pfx_fail "no free port"

cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$SOCK
policyd_listen = inet:127.0.0.1:$PD_PORT
# smtpd_recipient_limit makes the transactions here, not the policy daemon.
policyd_one_marketing_recipient = no
bounce_domain = bounce.test
marketing_senders = *@news.test
frequency_caps = 10/1d
EOF
mkdir -p "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"
echo "mail_owner = postfix" >>"$CONF"
"$POSTDRIP" -c "$CONF" stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd"

pfx_spawn milter "$MILTER" -f -c "$CONF"
pfx_wait_socket "$SOCK" 10 milter || pfx_fail "the milter does not listen: $(cat "$D/milter.log")"
pfx_spawn policyd "$POLICYD" -f -c "$CONF"
pfx_wait_listen "$PD_PORT" 10 || pfx_fail "the policy daemon does not listen: $(cat "$D/policyd.log")"
n=0
until grep -q "ready on" "$D/policyd.log"; do
	n=$((n + 1))
	[ $n -lt 200 ] || pfx_fail "postdrip-policyd not ready: $(cat "$D/policyd.log")"
	sleep 0.05
done

policy="check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s }"
pfx_conf "smtpd_milters = unix:$SOCK" \
    "milter_protocol = 6" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_limit = 3" \
    "smtpd_recipient_restrictions = $policy" \
    "smtpd_end_of_data_restrictions = $policy"
pfx_start

# A client that does what RFC 5321 asks: send again to the refused ones,
# as long as some are accepted each time (at most 5 transactions).
"$PFX_PYTHON" - "$PFX_PORT" >"$D/client.out" 2>&1 <<'PY' || pfx_fail "client: $(cat "$D/client.out")"
import smtplib, sys
port = int(sys.argv[1])
rcpts = ["r%d@sink.test" % i for i in range(1, 8)]
msg = ("From: News <news@news.test>\r\nTo: undisclosed-recipients:;\r\n"
       "Subject: March news\r\nMessage-ID: <reuse.march@news.test>\r\n\r\n"
       "Our March newsletter.\r\n")
left = rcpts
for n in range(5):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        refused = s.sendmail("news@news.test", left, msg)
    finally:
        s.quit()
    print("transaction %d: %d sent, %d refused %s" % (n + 1, len(left) - len(refused),
          len(refused), sorted(set(c for c, _ in refused.values()))))
    left = sorted(refused)
    if not left:
        break
if left:
    sys.exit("still refused after 5 transactions: %s" % left)
PY
grep -q 'transaction 3: 1 sent, 0 refused' "$D/client.out" ||
    pfx_fail "not three transactions (smtpd_recipient_limit): $(cat "$D/client.out")"

# sink_rcpts - the distinct recipients smtp-sink has received
sink_rcpts() {
	cat "$PFX_SINK"/* 2>/dev/null | sed -n 's/^X-Rcpt-Args: *<\([^>]*\)>.*/\1/p' | sort -u
}
# eom_counted - the recipients postdrip-policyd counted at END-OF-MESSAGE
eom_counted() {
	sed -n 's/.*count: END-OF-MESSAGE.*: \([0-9][0-9]*\) recipients* counted.*/\1/p' \
	    "$D/policyd.log" | awk '{ n += $1 } END { print n + 0 }'
}
deadline=$(($(date +%s) + 30))
until [ "$(sink_rcpts | wc -l)" -ge 7 ] && [ "$(eom_counted)" -ge 7 ]; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		grep -E 'discard|sent:' "$D/milter.log" >&2
		pfx_fail "$(sink_rcpts | wc -l) of 7 recipients reached the sink, $(eom_counted) counted"
	fi
	sleep 0.1
done
[ "$(sink_rcpts | tr '\n' ' ')" = "r1@sink.test r2@sink.test r3@sink.test r4@sink.test r5@sink.test r6@sink.test r7@sink.test " ] ||
    pfx_fail "recipients at the sink: $(sink_rcpts | tr '\n' ' ')"
pfx_log_grep 'milter-discard' && pfx_fail "Postfix discarded a transaction on the milter's word"
grep -q 'discard: ' "$D/milter.log" && pfx_fail "the milter dropped a copy: $(grep 'discard: ' "$D/milter.log")"
[ "$(grep -c 'sent: .*message-id=<reuse.march@news.test>' "$D/milter.log")" = 2 ] ||
    pfx_fail "not two sends logged with the Message-ID: $(grep 'sent: ' "$D/milter.log")"
[ "$(grep -c 'sent: .*message-id=<reuse.march@news.test>.* reused' "$D/milter.log")" = 1 ] ||
    pfx_fail "the second transaction was not logged as reused"
# The third has one recipient: a send to one contact, with its own
# Message-ID, so that what comes back is tied to that contact.
grep -q 'sent: .* recorded .*replaces=<reuse.march@news.test>.*to=<r7@sink.test>' "$D/milter.log" ||
    pfx_fail "the one-recipient copy did not get a Message-ID of its own"
delivered=$(pfx_log_grep 'to=<r[1-7]@sink.test>.*status=sent' | wc -l)
[ "$delivered" = 7 ] || pfx_fail "Postfix delivered $delivered, want 7"
[ "$(eom_counted)" = "$delivered" ] ||
    pfx_fail "postdrip-policyd counted $(eom_counted), Postfix delivered $delivered"
echo "ok: 7 recipients in 3 transactions with one Message-ID: 7 delivered, 7 counted"
echo "PASS: milter_msgid_reuse"
exit 0
