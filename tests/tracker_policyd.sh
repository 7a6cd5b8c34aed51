#!/bin/sh
# tracker_policyd - a one-click unsubscribe (RFC 8058 POST to the tracker
# of postdrip-engine) is what postdrip-policyd reads: the next marketing
# message to that address is refused at RCPT by a real private Postfix,
# while transactional mail to it still passes.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

policyd="$top_builddir/policyd/postdrip-policyd"
engine="$top_builddir/engine/postdrip-engine"
postdrip="$top_builddir/cli/postdrip"
tt="$top_builddir/tests/track_tool"
command -v curl >/dev/null || pfx_skip "curl is not installed"
[ -x "$policyd" ] && [ -x "$engine" ] && [ -x "$tt" ] || pfx_fail "programs not built"

pfx_init
PD_PORT=$(pfx_free_port) || pfx_fail "no free port"
TR_PORT=$(pfx_free_port) || pfx_fail "no free port"
PD=$PFX_DIR/postdrip
mkdir -p "$PD/data" "$PD/workflows" "$PD/templates"
cat > "$PD/postdrip.conf" <<EOF
data_directory = $PD/data
workflow_directory = $PD/workflows
template_directory = $PD/templates
token_key_file = $PD/keys
policyd_listen = inet:127.0.0.1:$PD_PORT
tracker_listen = inet:127.0.0.1:$TR_PORT
tracker_url = http://127.0.0.1:$TR_PORT
marketing_senders = *@news.test
inject_address = 127.0.0.1:$PFX_PORT
mail_owner = postfix
EOF
pd() { "$postdrip" -c "$PD/postdrip.conf" "$@" || pfx_fail "postdrip $*"; }
pd keygen >/dev/null
pd contact add bob@sink.test >/dev/null
msg=$("$tt" sent "$PD/data" 1 news.1@news.test $(($(date +%s) - 3600))) || pfx_fail "sent"
U=$("$tt" url "$PD/keys" "http://127.0.0.1:$TR_PORT" unsub 1 "$msg")
chown -R postfix "$PD/data"

pfx_spawn policyd "$policyd" -f -c "$PD/postdrip.conf"
pfx_spawn engine "$engine" -f -c "$PD/postdrip.conf"
pfx_wait_listen "$PD_PORT" 10 || pfx_fail "postdrip-policyd does not listen"
pfx_wait_listen "$TR_PORT" 10 || pfx_fail "the tracker does not listen"
policy="check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s }"
pfx_conf "smtpd_recipient_restrictions = $policy"
pfx_start

# Before: marketing mail to bob passes.
pfx_send news@news.test bob@sink.test --body "issue 1" >/dev/null ||
    pfx_fail "marketing mail refused before the unsubscribe"

# The one-click POST, as Gmail sends it; then at once the next message.
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'List-Unsubscribe=One-Click' "$U")
[ "$r" = "unsubscribed
 200" ] || pfx_fail "one-click answered: $r"
out=$(pfx_swaks --from news@news.test --to bob@sink.test)
echo "$out" | grep -q '<\*\* *550 5.7.1 <bob@sink.test>: Recipient address rejected: recipient unsubscribed' ||
    pfx_fail "marketing mail after the one-click POST not refused: $out"
pfx_wait_log 'NOQUEUE: reject: RCPT from .*550 5.7.1 <bob@sink.test>.*from=<news@news.test>' 10 ||
    pfx_fail "no reject line in Postfix's log"

# Transactional mail to bob still passes.
pfx_send receipts@shop.test bob@sink.test --body "your receipt" >/dev/null ||
    pfx_fail "transactional mail refused"
"$postdrip" -c "$PD/postdrip.conf" suppressed | grep -q "^bob@sink.test	unsubscribed" ||
    pfx_fail "not on the suppression list"
echo "PASS: tracker_policyd.sh"
exit 0
