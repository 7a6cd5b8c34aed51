#!/bin/sh
# milter_outbound - marketing mail from any sender, through a real Postfix
# with postdrip-milter and then OpenDKIM, to smtp-sink.
#
#  1. A CRM-like sender (marketing_senders) sends one HTML message to 5
#     contacts, one transaction each: 5 messages reach the sink, each with
#     a VERP return path on the bounce domain, List-Unsubscribe (https
#     and mailto) and List-Unsubscribe-Post, a Feedback-ID, a Message-ID
#     of its own, tracked links and an open pixel, and no X-Postdrip-*
#     field; each send is on its contact's timeline with its workflow.
#  2. OpenDKIM signs after postdrip-milter with List-Unsubscribe and
#     List-Unsubscribe-Post in h=, and every message at the sink
#     verifies (dkimpy, with the test key as DNS).
#  3. A click on a rewritten link at the tracker (postdrip-engine)
#     redirects to the original URL and records "clicked" with the link
#     name.
#  4. The same message from a sender that is not marketing reaches the
#     sink byte for byte (hash of the message Postfix received).
#  5. A message with a DKIM signature of another domain is recorded, not
#     rewritten, and the log says why.
#  6. A message signed already by a domain of dkim_signing_domains (ours:
#     OpenDKIM signs it again after the milter) is rewritten, and the new
#     signature verifies at the sink.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
ENGINE=$top_builddir/engine/postdrip-engine
pfx_need_built "$POSTDRIP" "$MILTER" "$ENGINE"
for c in opendkim opendkim-genkey curl; do
	command -v $c >/dev/null || pfx_skip "$c is not installed"
done
/usr/bin/python3 -c 'import dkim' 2>/dev/null || pfx_skip "python3-dkim is not installed"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
MLOG=$D/milter.log
TPORT=$(pfx_free_port) || pfx_fail "no free port"
B="http://127.0.0.1:$TPORT"
mkdir -p "$D/pd" "$D/wf" "$D/tpl"
cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
workflow_directory = $D/wf
template_directory = $D/tpl
milter_listen = unix:$SOCK
bounce_domain = bounce.test
marketing_senders = *@crm.test
dkim_signing_domains = crm.test
tracker_url = $B
tracker_listen = inet:127.0.0.1:$TPORT
inject_address = 127.0.0.1:1
EOF
PD="$POSTDRIP -c $CONF"
$PD keygen >/dev/null || pfx_fail "keygen"
echo "mail_owner = postfix" >>"$CONF"
$PD stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd"
chown postfix "$D/pd-keys"

"$MILTER" -f -c "$CONF" 2>>"$MLOG" &
MILTER_PID=$!
pfx_on_exit "pfx_kill $MILTER_PID"
pfx_on_exit '[ "$_pfx_status" != 0 ] && tail -n 30 "$MLOG" >&2'
pfx_wait_socket "$SOCK" 10 || pfx_fail "postdrip-milter does not listen"

# OpenDKIM: signs mail from crm.test and plain.test with one test key.
K=$D/dkim
mkdir -p "$K"
opendkim-genkey -b 1024 -D "$K" -d crm.test -s t1 || pfx_fail "opendkim-genkey"
chown -R opendkim "$K" 2>/dev/null || chown -R postfix "$K"
DSOCK=$K/dkim.sock
cat >"$K/opendkim.conf" <<EOF
Mode s
Domain crm.test,plain.test
Selector t1
KeyFile $K/t1.private
Socket local:$DSOCK
UMask 000
Canonicalization relaxed/relaxed
SignHeaders From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Content-Transfer-Encoding,List-Unsubscribe,List-Unsubscribe-Post,Feedback-ID
OversignHeaders From,List-Unsubscribe,List-Unsubscribe-Post
Background no
RequireSafeKeys false
Syslog no
PidFile $K/opendkim.pid
UserID $(stat -c %U "$K")
EOF
opendkim -x "$K/opendkim.conf" -f 2>"$D/dkim.log" &
DKIM_PID=$!
pfx_on_exit "pfx_kill $DKIM_PID"
pfx_wait_socket "$DSOCK" 10 || { cat "$D/dkim.log" >&2; pfx_fail "opendkim does not listen"; }

pfx_conf "smtpd_milters = unix:$SOCK, unix:$DSOCK" \
    "non_smtpd_milters = unix:$SOCK, unix:$DSOCK" \
    "milter_protocol = 6" \
    "milter_default_action = tempfail"
pfx_start

# The message a CRM sends: one Message-ID, copied to each contact.
MSG=$D/crm.eml
printf '%s\r\n' \
    'From: Shop News <news@crm.test>' \
    'To: customers@crm.test' \
    'Subject: Spring offers' \
    'Date: Mon, 07 Dec 2026 09:00:00 +0000' \
    'Message-ID: <spring-2026@crm.test>' \
    'MIME-Version: 1.0' \
    'X-Postdrip-Workflow: spring' \
    'X-Postdrip-Step: 1' \
    'Content-Type: multipart/alternative; boundary="b1"' \
    '' \
    '--b1' \
    'Content-Type: text/plain; charset=utf-8' \
    '' \
    'Spring offers: https://shop.crm.test/offers' \
    '--b1' \
    'Content-Type: text/html; charset=utf-8' \
    '' \
    '<html><body><p>Hello {{name}},</p>' \
    '<a href="https://shop.crm.test/offers?a=1&amp;b=2" data-link="offers">Offers</a>' \
    '<a href="https://shop.crm.test/pricing">Pricing</a>' \
    '<a href="mailto:help@crm.test">Help</a>' \
    '</body></html>' \
    '--b1--' >"$MSG"

for n in 1 2 3 4 5; do
	pfx_send_file news@crm.test "c$n@sink.test" "$MSG" >/dev/null || pfx_fail "send to c$n"
done
pfx_wait_delivered 5 || pfx_fail "5 marketing messages expected at the sink"

mids=
for f in $(pfx_sink_files); do
	rcpt=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f")
	grep -q '^X-Mail-Args: <bounces+[A-Za-z0-9_-]*@bounce\.test>' "$f" ||
	    pfx_fail "$rcpt: envelope sender is not a VERP address: $(grep X-Mail-Args "$f")"
	grep -q "^List-Unsubscribe: <$B/u/" "$f" || pfx_fail "$rcpt: no List-Unsubscribe URL"
	grep -q 'mailto:unsubscribe+[A-Za-z0-9_-]*@bounce\.test>' "$f" ||
	    pfx_fail "$rcpt: no List-Unsubscribe mailto"
	grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$f" ||
	    pfx_fail "$rcpt: no List-Unsubscribe-Post"
	grep -q '^Feedback-ID: spring:1:marketing:postdrip' "$f" || pfx_fail "$rcpt: no Feedback-ID"
	grep -qi '^X-Postdrip-' "$f" && pfx_fail "$rcpt: an X-Postdrip- field left"
	grep -q "href=\"$B/c/" "$f" || pfx_fail "$rcpt: links not rewritten"
	grep -q 'href="https://shop.crm.test/' "$f" && pfx_fail "$rcpt: original link left"
	grep -q 'href="mailto:help@crm.test"' "$f" || pfx_fail "$rcpt: mailto link changed"
	grep -q "src=\"$B/o/" "$f" || pfx_fail "$rcpt: no open pixel"
	grep -q '{{name}}' "$f" || pfx_fail "$rcpt: template text changed"
	grep -q 'Spring offers: https://shop.crm.test/offers' "$f" || pfx_fail "$rcpt: text part changed"
	mids="$mids $(sed -n 's/^Message-ID: *//Ip' "$f" | head -1)"
	$PD timeline "$rcpt" | grep -q "	sent	.*spring" || {
		$PD timeline "$rcpt" >&2; pfx_fail "$rcpt: no recorded send"; }
done
[ "$(printf '%s\n' $mids | sort -u | wc -l)" = 5 ] || pfx_fail "Message-IDs not distinct:$mids"
[ "$(grep -c ' honeypots=1' "$MLOG")" = 5 ] || pfx_fail "not one honeypot link per message"
echo "ok 1 - 5 transactions, VERP, List-Unsubscribe, Feedback-ID, links, pixel, sends"

# 2. DKIM verifies at the sink, List-Unsubscribe(-Post) signed.
DNSREC=$(tr -d '\n' <"$K/t1.txt" | sed 's/^[^(]*(//; s/).*//; s/"[[:space:]]*"//g; s/"//g; s/[[:space:]]\+/ /g')
for f in $(pfx_sink_files); do
	grep -qi '^DKIM-Signature:' "$f" || pfx_fail "$f: not signed"
	tr -d '\n\t ' <"$f" | grep -qi 'h=[^;]*list-unsubscribe:[^;]*list-unsubscribe-post' ||
	tr -d '\n\t ' <"$f" | grep -qi 'h=[^;]*list-unsubscribe-post' ||
	    pfx_fail "$f: List-Unsubscribe-Post not signed"
	sed '1,/^$/{/^X-\(Mail\|Rcpt\)-Args:/d;}' "$f" >"$D/verify.eml"
	DNSREC="$DNSREC" /usr/bin/python3 - "$D/verify.eml" <<'EOP' || pfx_fail "$f: DKIM does not verify"
import os, sys, dkim
data = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
rec = os.environ['DNSREC'].strip().encode()
ok = dkim.verify(data, dnsfunc=lambda name, timeout=5: rec if name == b't1._domainkey.crm.test.' else None)
sys.exit(0 if ok else 1)
EOP
done
echo "ok 2 - OpenDKIM after postdrip-milter: every message verifies"

# 3. A click at the tracker.
"$ENGINE" -c "$CONF" -f 2>"$D/engine.log" &
ENGINE_PID=$!
pfx_on_exit "pfx_kill $ENGINE_PID"
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/engine.log" >&2; pfx_fail "tracker not up"; }
	sleep 0.1
done
f=$(pfx_sink_files | head -1)
rcpt=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f")
# The link, quoted-printable decoded if the part was re-encoded.
url=$(/usr/bin/python3 -c '
import sys, email, re
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/html":
        h = p.get_payload(decode=True).decode()
        print(re.findall(r"href=\"([^\"]*/c/[^\"]*)\"", h)[0].replace("&amp;", "&"))
' "$f")
[ -n "$url" ] || pfx_fail "no tracked link in $f"
H='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -A "$H" "$url")
[ "$r" = "302 https://shop.crm.test/offers?a=1&b=2" ] || pfx_fail "click answered \"$r\""
i=0
until $PD timeline "$rcpt" | grep "	clicked	" | grep -q offers; do
	i=$((i + 1)); [ $i -lt 100 ] || { $PD timeline "$rcpt" >&2; pfx_fail "click not recorded"; }
	sleep 0.1
done
echo "ok 3 - the click redirects to the original URL and is recorded with its name"

# 4. Not marketing: byte for byte.
pfx_send_file other@plain.test p1@sink.test "$MSG" >/dev/null || pfx_fail "plain send"
pfx_wait_delivered 6 || pfx_fail "plain message not delivered"
f=$(grep -l '^X-Rcpt-Args: <p1@sink.test>' "$PFX_SINK"/* | head -1)
# What Postfix received (the file, lines ending CRLF) against what left:
# from the From field to the end (above it: the sink's, Postfix's and
# OpenDKIM's fields), less the blank lines swaks and smtp-sink add at the end.
trim() { sed 's/\r$//' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'; }
want=$(trim <"$MSG" | sha256sum)
got=$(sed -n '/^From: Shop News/,$p' "$f" | trim | sha256sum)
[ "$want" = "$got" ] || pfx_fail "non-marketing mail changed ($f)"
echo "ok 4 - non-marketing mail passes byte for byte"

# 5. Signed by another domain already: recorded, not rewritten.
{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=other.test; s=x; h=from; bh=AAAA; b=AAAA\r\n'
  sed 's/spring-2026@crm.test/signed-1@crm.test/' "$MSG"; } >"$D/signed.eml"
pfx_send_file news@crm.test s1@sink.test "$D/signed.eml" >/dev/null || pfx_fail "signed send"
pfx_wait_delivered 7 || pfx_fail "signed message not delivered"
grep 'message-id=<signed-1@crm.test>' "$MLOG" | grep -q 'rewrite=dkim-signed-by-other-domain(d=other.test)' ||
    { grep signed-1 "$MLOG" >&2; pfx_fail "no dkim-other in the log"; }
f=$(grep -l 'signed-1@crm.test' "$PFX_SINK"/* | head -1)
grep -q 'href="https://shop.crm.test/pricing"' "$f" || pfx_fail "a signed message was rewritten"
$PD timeline s1@sink.test | grep -q "	sent	" || pfx_fail "signed message not recorded"
echo "ok 5 - another domain's DKIM signature: recorded, not rewritten"

# 6. Signed by our own domain upstream: rewritten, signed again, verifies.
{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=crm.test; s=t1; h=from; bh=AAAA; b=AAAA\r\n'
  sed 's/spring-2026@crm.test/signed-2@crm.test/' "$MSG"; } >"$D/signed2.eml"
pfx_send_file news@crm.test s2@sink.test "$D/signed2.eml" >/dev/null || pfx_fail "own-signed send"
pfx_wait_delivered 8 || pfx_fail "own-signed message not delivered"
grep 'message-id=<signed-2@crm.test>' "$MLOG" | grep -q 'rewrite=rewritten links=2' ||
    { grep signed-2 "$MLOG" >&2; pfx_fail "a message signed by our own domain was not rewritten"; }
f=$(grep -l 'signed-2@crm.test' "$PFX_SINK"/* | head -1)
grep -q "href=\"$B/c/" "$f" || pfx_fail "own-signed: links not rewritten"
sed '1,/^$/{/^X-\(Mail\|Rcpt\)-Args:/d;}' "$f" >"$D/verify.eml"
DNSREC="$DNSREC" /usr/bin/python3 - "$D/verify.eml" <<'EOP' || pfx_fail "own-signed: the new signature does not verify"
import os, sys, dkim
data = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
rec = os.environ['DNSREC'].strip().encode()
ok = dkim.verify(data, dnsfunc=lambda name, timeout=5: rec if name == b't1._domainkey.crm.test.' else None)
sys.exit(0 if ok else 1)
EOP
echo "ok 6 - signed already by our own domain (dkim_signing_domains): rewritten, signed again, verifies"
exit 0
