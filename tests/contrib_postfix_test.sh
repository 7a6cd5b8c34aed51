#!/bin/sh
# contrib_postfix_test - a real Postfix accepts contrib/postfix/*.snippet:
# both added to a private instance, it starts without a warning about them,
# the dedicated injection smtpd listens, and with postdrip's daemons absent
# Postfix answers as the snippets promise: 451 4.7.1 from the milter's
# tempfail on the injection smtpd only; the public smtpd and local
# submission go on without the milter (default_action=accept); mail to the
# bounce domain waits deferred for the LMTP receiver; 451 4.3.5 from the
# policy check's default_action. Nothing is lost, nothing is let through.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib/pfx.sh"

pfx_init
inject=$(pfx_free_port) || pfx_fail "no port"
policy=$(pfx_free_port) || pfx_fail "no port"
# Nothing listens on $policy: the daemon is "down".
# The snippet's transport_maps would replace the harness's route to the
# sink: both are set together below.
grep -q '^transport_maps = inline:{ bounce.example.com=lmtp:unix:/postdrip/lmtp.sock }$' \
    "$top_srcdir/contrib/postfix/main.cf.snippet" ||
    pfx_fail "transport_maps of main.cf.snippet changed: update this test"
sed -e "s/127\.0\.0\.1:10040/127.0.0.1:$policy/g" -e '/^transport_maps = /d' \
    "$top_srcdir/contrib/postfix/main.cf.snippet" >>"$PFX_ETC/main.cf"
# The instance is not chrooted; the milter socket is a path of its own.
sed -e "s/^127\.0\.0\.1:10025 \( *inet *n *- *\)y/127.0.0.1:$inject \1n/" \
    -e "s|unix:/postdrip/milter.sock|unix:$PFX_DIR/milter.sock|" \
    "$top_srcdir/contrib/postfix/master.cf.snippet" >>"$PFX_ETC/master.cf"
pfx_backdate
grep -q "^127.0.0.1:$inject " "$PFX_ETC/master.cf" ||
    pfx_fail "the injection smtpd line of master.cf.snippet changed shape"
pfx_conf "transport_maps = inline:{ bounce.example.com=lmtp:unix:$PFX_DIR/lmtp.sock, sink.test=smtp:[127.0.0.1]:$PFX_SINK_PORT }" \
    "smtpd_milters = { unix:$PFX_DIR/milter.sock, default_action=accept }" \
    "non_smtpd_milters = { unix:$PFX_DIR/milter.sock, default_action=accept }"
postconf -c "$PFX_ETC" -n >/dev/null 2>"$PFX_DIR/postconf.err"
postconf -c "$PFX_ETC" -M >/dev/null 2>>"$PFX_DIR/postconf.err"
grep -v 'overriding earlier entry' "$PFX_DIR/postconf.err" | grep . &&
    pfx_fail "postconf warns about the snippets"

# Milters on, no milter running: the injection smtpd tempfails at once;
# the public one goes on without the milter (default_action=accept) and
# is stopped only by the absent policy daemon at RCPT.
pfx_start
pfx_wait_listen "$inject" 5 || pfx_fail "injection smtpd does not listen on $inject"
out=$(swaks --server 127.0.0.1 --port "$inject" --from a@news.example.com \
    --to b@sink.test --quit-after RCPT --timeout 20 2>&1)
echo "$out" | grep -q '<\*\* *451 4\.7\.1' ||
    pfx_fail "injection smtpd without the milter: want 451 4.7.1, got: $out"
out=$(swaks --server 127.0.0.1 --port "$PFX_PORT" --from a@news.example.com \
    --to b@sink.test --quit-after RCPT --timeout 20 2>&1)
echo "$out" | grep -q '<\*\* *451 4\.3\.5 .*postdrip policy service unavailable' ||
    pfx_fail "public smtpd without the milter: want the policy's 451 4.3.5, got: $out"
# Local submission never waits on postdrip: delivered at once.
printf 'Subject: local\n\nhello\n' | pfx_sendmail root@local.test b@sink.test ||
    pfx_fail "local submission refused without the milter"
pfx_wait_delivered 1 20 || pfx_fail "local mail waited on postdrip (non_smtpd_milters)"
# The bounce domain waits in the queue while the LMTP receiver is down.
pfx_conf "smtpd_recipient_restrictions =" "smtpd_end_of_data_restrictions ="
pfx_reload
sleep 1
qid=$(pfx_send '<>' bounces+x@bounce.example.com --body "a bounce") ||
    pfx_fail "the bounce domain refused mail with postdrip down"
pfx_wait_log "$qid: to=<bounces\+x@bounce\.example\.com>, relay=.*status=deferred" 20 ||
    pfx_fail "mail to the bounce domain was not deferred with the receiver down"
postqueue -c "$PFX_ETC" -j | grep -q '"queue_name": *"deferred"' ||
    pfx_fail "postqueue -j shows no deferred message"
pfx_conf "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:$policy, timeout=10s, { default_action = 451 4.3.5 postdrip policy service unavailable } }"
pfx_reload
sleep 1

# Milters off: the policy check's default_action answers at RCPT.
pfx_conf "smtpd_milters =" "non_smtpd_milters ="
sed -i "/-o smtpd_milters=/d" "$PFX_ETC/master.cf"
pfx_backdate
pfx_reload
sleep 1
for port in "$PFX_PORT" "$inject"; do
	out=$(swaks --server 127.0.0.1 --port "$port" --from a@news.example.com \
	    --to b@sink.test --quit-after RCPT --timeout 20 2>&1)
	echo "$out" | grep -q '<\*\* *451 4\.3\.5 .*postdrip policy service unavailable' ||
	    pfx_fail "port $port without the policy daemon: want 451 4.3.5, got: $out"
done
pfx_log_grep 'fatal|panic|bad command startup' && pfx_fail "Postfix errors in the log"
echo "ok: snippets accepted; milter down: 451 4.7.1 on the injection smtpd only, local mail delivered, bounce domain deferred; policy down 451 4.3.5"
