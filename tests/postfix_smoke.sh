#!/bin/sh
# postfix_smoke - the private Postfix harness works end to end: a message
# sent to the private smtpd reaches smtp-sink, and its queue id (from the
# SMTP reply) is in Postfix's log with the Message-ID and the delivery.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib/pfx.sh"

pfx_init
pfx_start

mid="smoke.$$.$(date +%s)@client.test"
qid=$(pfx_send alice@client.test bob@sink.test \
    --header "Message-Id: <$mid>" --header "Subject: pfx smoke" \
    --body "smoke body $$") || pfx_fail "send failed"

pfx_wait_delivered 1 20 || pfx_fail "message not delivered"

f=$(pfx_sink_files | head -n 1)
grep -q "^Subject: pfx smoke" "$f" || pfx_fail "sink file $f lacks the Subject"
grep -q "smoke body $$" "$f" || pfx_fail "sink file $f lacks the body"
grep -q "bob@sink.test" "$f" || pfx_fail "sink file $f lacks the recipient"

[ "$(pfx_queue_id_of "<$mid>")" = "$qid" ] ||
    pfx_fail "queue id of <$mid> in the log is '$(pfx_queue_id_of "<$mid>")', want '$qid'"
pfx_log_grep "$qid: to=<bob@sink.test>.* status=sent" >/dev/null ||
    pfx_fail "no status=sent line for $qid"

# Mail to anywhere else must not leave the machine.
out=$(pfx_swaks --from alice@client.test --to carol@example.com)
echo "$out" | grep -q '<\*\* *550 5.1.1 .*no outbound delivery in tests' ||
    pfx_fail "mail to example.com was not refused: $out"
# Local submission goes through pickup and reaches the sink too.
printf 'Subject: pfx local\n\nlocal body %s\n' "$$" |
    pfx_sendmail carol@local.test dave@sink.test || pfx_fail "sendmail failed"
pfx_wait_delivered 2 20 || pfx_fail "locally submitted message not delivered"
grep -l "local body $$" "$PFX_SINK"/* >/dev/null || pfx_fail "local message not in the sink"
echo "ok: $qid delivered to the sink, and a local submission"
