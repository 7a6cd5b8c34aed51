#!/bin/sh
# milter_listunsub - what postdrip-milter does to a sender's own
# List-Unsubscribe and to the transfer encoding of the parts it rewrites,
# through a real private Postfix to smtp-sink.
#
#  1. milter_list_unsubscribe = add: one List-Unsubscribe, ours (the
#     tracker URL, then the mailto) first and the sender's after, and one
#     List-Unsubscribe-Post; keep: the sender's fields alone, unchanged;
#     replace: ours alone.
#  2. HTML parts in quoted-printable and in base64 are rewritten and
#     leave in the same encoding, their Content-Transfer-Encoding saying
#     so, with the tracked links inside and the originals gone; a 7bit
#     single-part message with a line too long for 7bit leaves as
#     quoted-printable with its top-level header changed to say so.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
pfx_need_built "$POSTDRIP" "$MILTER"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
SOCK=$D/milter.sock
B=https://t.example.test
mkdir -p "$D/pd"
conf() {
	cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$SOCK
bounce_domain = bounce.test
marketing_senders = *@crm.test
tracker_url = $B
milter_list_unsubscribe = $1
mail_owner = postfix
EOF
}
conf add
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"
"$POSTDRIP" -c "$CONF" stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/pd" "$D/pd-keys"

MILTER_PID=
start_milter() {
	rm -f "$SOCK"
	"$MILTER" -f -c "$CONF" 2>>"$D/milter.log" &
	MILTER_PID=$!
	pfx_wait_socket "$SOCK" 10 || { cat "$D/milter.log" >&2; pfx_fail "postdrip-milter does not listen"; }
}
stop_milter() {
	pfx_kill "$MILTER_PID" 10
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=
}
pfx_on_exit '[ -n "$MILTER_PID" ] && pfx_kill "$MILTER_PID"'
pfx_on_exit '[ "$_pfx_status" != 0 ] && tail -n 20 "$D/milter.log" >&2'
start_milter
pfx_conf "smtpd_milters = unix:$SOCK" "milter_protocol = 6" "milter_default_action = tempfail"
pfx_start

# A sender with its own List-Unsubscribe and List-Unsubscribe-Post.
lu_msg() {
	printf '%s\r\n' "From: News <news@crm.test>" "To: $1" "Subject: lu $2" \
	    "Message-ID: <lu-$2@crm.test>" \
	    "List-Unsubscribe: <mailto:leave@crm.test>, <https://crm.test/leave?m=$2>" \
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click" \
	    "MIME-Version: 1.0" "Content-Type: text/html; charset=utf-8" "" \
	    "<html><body><a href=\"https://shop.crm.test/x\">x</a></body></html>"
}
# check FILE MODE - the List-Unsubscribe fields at the sink
check() {
	/usr/bin/python3 - "$1" "$2" "$B" <<'EOP'
import sys, email, email.policy, re
f, mode, base = sys.argv[1:4]
m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.compat32)
lu = [re.sub(r'\s+', ' ', v).strip() for v in m.get_all('List-Unsubscribe', [])]
lup = [v.strip() for v in m.get_all('List-Unsubscribe-Post', [])]
ours = re.compile(r'^<' + re.escape(base) + r'/u/[A-Za-z0-9_-]+>, <mailto:unsubscribe\+[A-Za-z0-9_-]+@bounce\.test>')
theirs = re.compile(r'<mailto:leave@crm\.test>, <https://crm\.test/leave\?m=\w+>$')
def fail(why):
    sys.exit('%s: %s: List-Unsubscribe %r, -Post %r' % (mode, why, lu, lup))
if len(lu) != 1 or lup != ['List-Unsubscribe=One-Click']:
    fail('not exactly one of each field')
if mode == 'add' and not (ours.search(lu[0]) and theirs.search(lu[0])):
    fail('not ours first and the sender\'s after')
if mode == 'keep' and (base in lu[0] or not theirs.match(lu[0])):
    fail('not the sender\'s alone')
if mode == 'replace' and (not ours.search(lu[0]) or 'leave' in lu[0]):
    fail('not ours alone')
EOP
}
n=0
for mode in add keep replace; do
	if [ $mode != add ]; then
		stop_milter
		conf $mode
		start_milter
	fi
	n=$((n + 1))
	lu_msg "lu-$mode@sink.test" $mode >"$D/lu-$mode.eml"
	pfx_send_file news@crm.test "lu-$mode@sink.test" "$D/lu-$mode.eml" >/dev/null ||
	    pfx_fail "send ($mode)"
	pfx_wait_delivered $n || pfx_fail "message $n ($mode) not delivered"
	f=$(grep -l "^X-Rcpt-Args: <lu-$mode@sink.test>" "$PFX_SINK"/* | head -1)
	check "$f" $mode || pfx_fail "milter_list_unsubscribe = $mode"
done
echo "ok 1: milter_list_unsubscribe add, keep and replace"

# 2. Transfer encodings.
/usr/bin/python3 - "$D" <<'EOP' || pfx_fail "cannot write the messages"
import sys, base64, quopri
d = sys.argv[1]
html = ('<html><body><p>Caf\u00e9 cr\u00e8me ' + 'x' * 90 + '</p>'
        '<a href="https://shop.crm.test/qp?a=1&amp;b=2">Offers</a> '
        '<a href="https://shop.crm.test/pricing">Pricing</a></body></html>').encode('utf-8')
qp = quopri.encodestring(html).replace(b'\n', b'\r\n')
b64 = base64.encodebytes(html).replace(b'\n', b'\r\n')
head = ('From: News <news@crm.test>\r\nTo: cte@sink.test\r\nSubject: cte\r\n'
        'Message-ID: <cte-1@crm.test>\r\nMIME-Version: 1.0\r\n'
        'Content-Type: multipart/alternative; boundary="bb"\r\n\r\n').encode()
body = (b'--bb\r\nContent-Type: text/html; charset=utf-8\r\n'
        b'Content-Transfer-Encoding: quoted-printable\r\n\r\n' + qp +
        b'\r\n--bb\r\nContent-Type: text/html; charset=utf-8\r\n'
        b'Content-Transfer-Encoding: base64\r\n\r\n' + b64 + b'\r\n--bb--\r\n')
open(d + '/cte.eml', 'wb').write(head + body)
long = ('<html><body><a href="https://shop.crm.test/long">long</a> ' + 'y' * 1200 +
        '</body></html>').encode()
open(d + '/long.eml', 'wb').write(
    ('From: News <news@crm.test>\r\nTo: long@sink.test\r\nSubject: long\r\n'
     'Message-ID: <long-1@crm.test>\r\nMIME-Version: 1.0\r\n'
     'Content-Type: text/html; charset=us-ascii\r\n'
     'Content-Transfer-Encoding: 7bit\r\n\r\n').encode() + long + b'\r\n')
EOP
pfx_send_file news@crm.test cte@sink.test "$D/cte.eml" >/dev/null || pfx_fail "send cte"
pfx_send_file news@crm.test long@sink.test "$D/long.eml" >/dev/null || pfx_fail "send long"
pfx_wait_delivered 5 || pfx_fail "encoded messages not delivered"
f=$(grep -l '^X-Rcpt-Args: <cte@sink.test>' "$PFX_SINK"/* | head -1)
g=$(grep -l '^X-Rcpt-Args: <long@sink.test>' "$PFX_SINK"/* | head -1)
/usr/bin/python3 - "$f" "$g" "$B" <<'EOP' || pfx_fail "transfer encodings"
import sys, email, email.policy, re, base64, quopri
f, g, base = sys.argv[1:4]
def parts(path):
    m = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.compat32)
    return [p for p in m.walk() if p.get_content_type() == 'text/html']
def check(p, cte):
    got = (p.get('Content-Transfer-Encoding') or '').strip().lower()
    if got != cte:
        sys.exit('part says %r, expected %r' % (got, cte))
    raw = p.get_payload(decode=False).encode('ascii')
    for line in raw.split(b'\n'):
        if len(line.rstrip(b'\r')) > 998:
            sys.exit('a line over 998 bytes in a %s part' % cte)
        if cte == 'quoted-printable' and any(c > 126 for c in line):
            sys.exit('8-bit bytes in a quoted-printable part')
    text = (base64.b64decode(raw) if cte == 'base64' else quopri.decodestring(raw)).decode('utf-8')
    if text != p.get_payload(decode=True).decode('utf-8'):
        sys.exit('the %s part does not decode as its header says' % cte)
    return text
qp, b64 = parts(f)
for text, cte in ((check(qp, 'quoted-printable'), 'qp'), (check(b64, 'base64'), 'base64')):
    if len(re.findall(r'href="' + re.escape(base) + r'/c/', text)) < 2:
        sys.exit('%s part: links not tracked: %s' % (cte, text))
    if 'href="https://shop.crm.test' in text:
        sys.exit('%s part: an original link left: %s' % (cte, text))
    if 'Caf\u00e9 cr\u00e8me' not in text:
        sys.exit('%s part: the text changed' % cte)
long = parts(g)[0]
text = check(long, 'quoted-printable')
if not re.search(r'href="' + re.escape(base) + r'/c/', text) or 'y' * 1200 not in text:
    sys.exit('the long 7bit message: %s' % text[:200])
EOP
echo "ok 2: quoted-printable and base64 parts keep their encoding; a long 7bit line becomes quoted-printable"
echo "PASS: milter_listunsub.sh"
exit 0
