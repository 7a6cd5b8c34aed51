#!/bin/sh
# milter_streams - link and open tracking is set per stream: the engine's
# marketing and transactional mail through a real Postfix with
# postdrip-milter, to smtp-sink.
#
#  1. track_links = yes, track_opens = yes, transactional_track_links = yes,
#     transactional_track_opens = no: the marketing mail has tracked links
#     and the pixel; the receipt (transactional stream) has tracked links
#     and no pixel.
#  2. After transactional_track_links = no and a reload (SIGHUP): the next
#     receipt leaves the milter with its links as they were and no pixel,
#     while marketing mail is still tracked; the milter's log says why.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
ENGINE=$top_builddir/engine/postdrip-engine
pfx_need_built "$POSTDRIP" "$MILTER" "$ENGINE"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
MLOG=$D/milter.log
mkdir -p "$D/pd" "$D/wf" "$D/tpl"
cat >"$D/wf/streams.yaml" <<'EOF'
workflow: receipt
stream: transactional
trigger:
  event: purchased
reentry: always
steps:
  - send: receipt
---
workflow: offer
trigger:
  event: purchased
reentry: always
steps:
  - send: offer
EOF
for t in receipt offer; do
	cat >"$D/tpl/$t.tmpl" <<EOF
From: Shop <shop@shop.test>
Subject: $t {{event.order}}

Your $t: https://shop.test/$t/{{event.order}}
--- html ---
<html><body><p>Your $t.</p>
<a href="https://shop.test/$t/{{event.order}}">See it</a>
</body></html>
EOF
done

cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
workflow_directory = $D/wf
template_directory = $D/tpl
milter_listen = unix:$SOCK
bounce_domain = bounce.test
tracker_url = https://t.shop.test
inject_address = 127.0.0.1:$PFX_PORT
track_links = yes
track_opens = yes
transactional_track_links = yes
transactional_track_opens = no
EOF
PD="$POSTDRIP -c $CONF"
$PD keygen >/dev/null || pfx_fail "keygen"
$PD check >/dev/null || pfx_fail "postdrip check"
echo "mail_owner = postfix" >>"$CONF"
$PD stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd"
chown postfix "$D/pd-keys"

pfx_spawn milter "$MILTER" -f -c "$CONF"
pfx_on_exit '[ "$_pfx_status" != 0 ] && tail -n 30 "$MLOG" >&2'
pfx_wait_socket "$SOCK" 10 milter || pfx_fail "postdrip-milter does not listen"
pfx_conf "smtpd_milters = unix:$SOCK" "milter_protocol = 6" "milter_default_action = tempfail"
pfx_start

# html_of FILE - the HTML part, decoded
html_of() {
	/usr/bin/python3 -c '
import sys, email
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/html":
        sys.stdout.write(p.get_payload(decode=True).decode())
' "$1"
}

# sink_of SUBJECT - the sink file with that subject
sink_of() {
	grep -l "^Subject: $1\$" "$PFX_SINK"/* | head -n 1
}

# buy ORDER WANT - a purchase, the engine sends both mails, WANT delivered
buy() {
	$PD event buyer@sink.test purchased order="$1" >/dev/null || pfx_fail "event $1"
	$ENGINE -c "$CONF" --once 2>>"$D/engine.log" || { tail "$D/engine.log" >&2; pfx_fail "engine"; }
	pfx_wait_delivered "$2" || pfx_fail "want $2 messages at the sink"
}

$PD contact add buyer@sink.test >/dev/null || pfx_fail "contact add"
buy A1 2
r=$(sink_of "receipt A1") && o=$(sink_of "offer A1") || pfx_fail "receipt or offer missing"
html_of "$o" | grep -q 'href="https://t.shop.test/c/' || pfx_fail "marketing: links not tracked"
html_of "$o" | grep -q 'src="https://t.shop.test/o/' || pfx_fail "marketing: no pixel"
html_of "$r" | grep -q 'href="https://t.shop.test/c/' || pfx_fail "transactional: links not tracked"
html_of "$r" | grep -q '/o/' && pfx_fail "transactional: a pixel with transactional_track_opens = no"
grep 'stream=transactional' "$MLOG" | grep -q 'links=1 pixels=0' ||
    { grep stream= "$MLOG" >&2; pfx_fail "the log does not show the receipt's rewrite"; }
echo "ok 1 - marketing: links and pixel; transactional: links, no pixel"

sed -i 's/^transactional_track_links = yes/transactional_track_links = no/' "$CONF"
kill -HUP "$(pfx_pid milter)"
pfx_wait_file "$MLOG" 'reload' 5 || pfx_fail "the milter did not reload"
buy A2 4
r=$(sink_of "receipt A2") && o=$(sink_of "offer A2") || pfx_fail "receipt or offer missing"
html_of "$r" | grep -q 'href="https://shop.test/receipt/A2"' || pfx_fail "transactional: link changed"
html_of "$r" | grep -q 't.shop.test/[co]/' && pfx_fail "transactional: tracked with tracking off"
html_of "$o" | grep -q 'href="https://t.shop.test/c/' || pfx_fail "marketing: links not tracked after reload"
grep 'stream=transactional' "$MLOG" | grep -q 'rewrite=off(transactional_track_' ||
    { grep stream= "$MLOG" >&2; pfx_fail "the log does not say why the receipt was not rewritten"; }
echo "ok 2 - after a reload: transactional untouched, marketing still tracked"
exit 0
