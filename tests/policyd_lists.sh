#!/bin/sh
# policyd_lists - one stream decision and per-list preferences, through a
# real private Postfix with postdrip-policyd, postdrip-milter and the
# tracker of postdrip-engine.
#
#  1. A contact on the lists news and offers leaves news on the
#     preference page (GET /u/TOKEN, then the form's POST with its CSRF
#     token): mail of the news list (marketing_lists maps its envelope
#     sender) is refused at RCPT with 550 5.7.1, mail of the offers list
#     passes, and another contact still gets news.
#  2. Mail that is marketing only by marketing_clients (the client
#     address, given by XCLIENT) is marketing for the milter too, as it
#     is for the policy daemon: it leaves with a VERP return path and
#     List-Unsubscribe, and the send is recorded; the same message from
#     a client outside marketing_clients passes untouched.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

policyd="$top_builddir/policyd/postdrip-policyd"
engine="$top_builddir/engine/postdrip-engine"
milter="$top_builddir/milter/postdrip-milter"
postdrip="$top_builddir/cli/postdrip"
tt="$top_builddir/tests/track_tool"
command -v curl >/dev/null || pfx_skip "curl is not installed"
pfx_need_built "$policyd" "$engine" "$milter" "$postdrip" "$tt"

pfx_init
PD_PORT=$(pfx_free_port) || pfx_fail "no free port"
TR_PORT=$(pfx_free_port) || pfx_fail "no free port"
B="http://127.0.0.1:$TR_PORT"
PD=$PFX_DIR/postdrip
SOCK=$PFX_DIR/milter.sock
mkdir -p "$PD/data" "$PD/workflows" "$PD/templates"
cat > "$PD/postdrip.conf" <<EOF
data_directory = $PD/data
workflow_directory = $PD/workflows
template_directory = $PD/templates
token_key_file = $PD/keys
policyd_listen = inet:127.0.0.1:$PD_PORT
milter_listen = unix:$SOCK
tracker_listen = inet:127.0.0.1:$TR_PORT
tracker_url = $B
bounce_domain = bounce.test
marketing_lists = *@news.test news; @offers.test offers
marketing_clients = 192.0.2.0/24
inject_address = 127.0.0.1:$PFX_PORT
EOF
pd() { "$postdrip" -c "$PD/postdrip.conf" "$@" || pfx_fail "postdrip $*"; }
pd keygen >/dev/null
pd contact add carol@sink.test lists=news,offers >/dev/null
pd contact add dave@sink.test lists=news,offers >/dev/null
id() { pd contact show "$1" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1; }
cid=$(id carol@sink.test)
msg=$("$tt" sent "$PD/data" "$cid" letter.1@news.test $(($(date +%s) - 3600))) || pfx_fail "sent"
U=$("$tt" url "$PD/keys" "$B" unsub "$cid" "$msg")
echo "mail_owner = postfix" >>"$PD/postdrip.conf"
chown -R postfix "$PD/data"
chown postfix "$PD/keys"

pfx_spawn policyd "$policyd" -f -c "$PD/postdrip.conf"
pfx_spawn engine "$engine" -f -c "$PD/postdrip.conf"
pfx_spawn milter "$milter" -f -c "$PD/postdrip.conf"
pfx_wait_listen "$PD_PORT" 10 || pfx_fail "postdrip-policyd does not listen"
pfx_wait_listen "$TR_PORT" 10 || pfx_fail "the tracker does not listen"
pfx_wait_socket "$SOCK" 10 milter || pfx_fail "postdrip-milter does not listen"
pfx_conf "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s }" \
    "smtpd_milters = unix:$SOCK" "milter_protocol = 6" "milter_default_action = tempfail" \
    "smtpd_authorized_xclient_hosts = 127.0.0.0/8" "mynetworks = 127.0.0.0/8, 192.0.2.0/24"
pfx_start

# 1. carol leaves news on the preference page, as a browser would.
UA='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
curl -s -A "$UA" "$U" >"$PFX_DIR/page.html" || pfx_fail "GET /u/"
grep -q 'name="list:news"' "$PFX_DIR/page.html" || pfx_fail "no list check boxes on the page"
csrf=$(sed -n 's/.*value="preferences"><input type="hidden" name="csrf" value="\([^"]*\)".*/\1/p' \
    "$PFX_DIR/page.html" | head -1)
[ -n "$csrf" ] || pfx_fail "no CSRF token in the preferences form"
r=$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" --data-urlencode "action=preferences" \
    --data-urlencode "csrf=$csrf" --data-urlencode "list:offers=on" "$U")
[ "$r" = 200 ] || pfx_fail "preferences POST answered $r"
pd contact show carol@sink.test | tr -d ' \n' | grep -q '"unsubscribed_lists":\["news"\]' ||
    pfx_fail "carol did not leave news: $(pd contact show carol@sink.test)"

out=$(pfx_swaks --from letter@news.test --to carol@sink.test)
echo "$out" | grep -q '<\*\* *550 5.7.1 <carol@sink.test>: Recipient address rejected: recipient left the list news' ||
    pfx_fail "news mail to carol not refused: $out"
pfx_wait_log 'NOQUEUE: reject: RCPT from .*<carol@sink.test>.*left the list news.*from=<letter@news.test>' 10 ||
    pfx_fail "no reject line in Postfix's log"
pfx_send deals@offers.test carol@sink.test --header "Subject: offers for carol" >/dev/null ||
    pfx_fail "offers mail to carol refused"
pfx_send letter@news.test dave@sink.test --header "Subject: news for dave" >/dev/null ||
    pfx_fail "news mail to dave refused"
pfx_wait_delivered 2 || pfx_fail "2 messages expected at the sink"
echo "ok 1: the list left on the preference page is refused, the other list and other contacts pass"

# 2. Marketing by client address alone: the milter agrees with policyd.
pfx_send crm@shop.test dave@sink.test --xclient "ADDR=192.0.2.7" \
    --header "Subject: by client" --body "sent from a marketing client" >/dev/null ||
    pfx_fail "send from the marketing client"
pfx_send crm@shop.test dave@sink.test --header "Subject: not by client" \
    --body "sent from elsewhere" >/dev/null || pfx_fail "send from another client"
pfx_wait_delivered 4 || pfx_fail "4 messages expected at the sink"
by=$(grep -l '^Subject: by client' $(pfx_sink_files))
[ -n "$by" ] || pfx_fail "the marketing-client message is not at the sink"
grep -q '^X-Mail-Args: <bounces+[A-Za-z0-9_-]*@bounce\.test>' "$by" ||
    pfx_fail "marketing by marketing_clients got no VERP return path: $(grep X-Mail-Args "$by")"
grep -q "^List-Unsubscribe: <$B/u/" "$by" || pfx_fail "marketing by marketing_clients got no List-Unsubscribe"
not=$(grep -l '^Subject: not by client' $(pfx_sink_files))
[ -n "$not" ] || pfx_fail "the other message is not at the sink"
grep -q '^X-Mail-Args: <crm@shop.test>' "$not" || pfx_fail "other client: the return path changed"
grep -q '^List-Unsubscribe:' "$not" && pfx_fail "other client: List-Unsubscribe added"
# Two sends to dave are recorded: the news letter and this one.
n=$(pd timeline dave@sink.test | awk -F '\t' '$2 == "sent"' | wc -l)
[ "$n" = 2 ] || pfx_fail "dave has $n recorded sends, not 2"
echo "ok 2: mail that is marketing by marketing_clients is marketing for the milter too"
echo "PASS: policyd_lists.sh"
exit 0
