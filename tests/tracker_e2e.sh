#!/bin/sh
# tracker_e2e - the HTTP tracker of postdrip-engine over real HTTP (curl):
# pixel, click, one-click unsubscribe and its page, the events API with
# idempotent retries, /healthz and /metrics, the bounds, and each labelling
# rule for machine opens and scanner clicks, with a workflow that a
# machine click must not trigger and a human one must.
. "${top_srcdir:-..}/tests/lib/testlib.sh"
command -v curl >/dev/null || skip "curl is not installed"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B="http://127.0.0.1:$port"
mkdir -p "$T/data" "$T/workflows" "$T/templates"
cat >"$T/postdrip.conf" <<EOF2
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
tracker_listen = inet:127.0.0.1:$port
tracker_url = $B
tracker_api_key_file = $T/apikeys
tracker_apple_ranges_file = $T/apple.csv
tracker_trusted_proxies = 127.0.0.1
tracker_body_limit = 2k
tracker_burst_window = 2s
inject_address = 127.0.0.1:1
EOF2
printf 'shop 0123456789abcdef0123\nold fedcba9876543210fedc retired\n' >"$T/apikeys"
# Apple's egress-ip-ranges.csv format; 203.0.113.0/24 stands for iCloud.
printf '203.0.113.0/24,US,US-NY,New York,\n2001:db8::/32,US,US-CA,,\n' >"$T/apple.csv"
printf 'workflow: clickers\ntrigger:\n  event: clicked\nreentry: always\nsteps:\n  - add_tag: clicker\n' \
    >"$T/workflows/clickers.yaml"
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
TT="$top_builddir/tests/track_tool"
$PD keygen >/dev/null || fail "keygen"
for a in a b c d e f g h n; do $PD contact add $a@example.com >/dev/null || fail "contact add"; done
id() { $PD contact show "$1" 2>/dev/null | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1; }

"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/engine.log"; fail "tracker not up"; }; sleep 0.1
done

now=$(date +%s)
# sent CONTACT-ADDR AGE - a marketing send AGE seconds ago; prints msgno
sent() { "$TT" sent "$T/data" "$(id "$1")" "m$1.$2@example.com" $(($(date +%s) - $2)); }
url() { k=$1; a=$2; m=$3; shift 3; "$TT" url "$T/keys" "$B" "$k" "$(id "$a")" "$m" "$@"; }
# until ADDR's timeline has a line matching, 10 s at most
wait_tl() {
	i=0
	while [ $i -lt 100 ]; do
		$PD timeline "$1" | grep -q "$2" && return 0
		sleep 0.1; i=$((i + 1))
	done
	$PD timeline "$1" >&2; fail "no '$2' in the timeline of $1"
}
H='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- open pixel
ma=$(sent a@example.com 3600)
O=$(url open a@example.com "$ma")
curl -s -D "$T/h" -o "$T/gif" -A "$H" "$O"
[ "$(wc -c <"$T/gif")" = 43 ] || fail "pixel is not 43 bytes"
head -c 6 "$T/gif" | grep -q GIF89a || fail "pixel is not a GIF"
grep -qi '^content-type: image/gif' "$T/h" || fail "pixel content type"
grep -qi '^cache-control: .*no-cache' "$T/h" || fail "pixel may be cached"
wait_tl a@example.com "opened.*machine=false via=pixel"
$PD timeline a@example.com | grep opened | grep -q "since_delivery=36" || fail "no since_delivery"
# HEAD is answered and not recorded.
[ "$(curl -s -o /dev/null -w '%{http_code}' -I -A "$H" "$O")" = 200 ] || fail "HEAD pixel"
# A bad pixel token still draws the pixel.
[ "$(code -A "$H" "$B/o/aaaaaaaaaaaaaaaaaaaaaaaa")" = 200 ] || fail "bad pixel token"

# --- click: exactly the signed URL, no open redirect
mb=$(sent b@example.com 3600)
target='https://shop.example.com/p?a=1&b=x%20y#top'
C=$(url click b@example.com "$mb" 1 pricing "$target")
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -A "$H" "$C")
[ "$r" = "302 $target" ] || fail "click answered $r"
wait_tl b@example.com "clicked.*link=pricing.*machine=false"
# The click is also b's open of that message (there was no other): the
# request's user agent and client, the message's fields, no link's.
wait_tl b@example.com "opened.*via=click"
line=$($PD timeline b@example.com | grep "opened.*via=click")
for k in "user_agent=$H" client=127.0.0.1 "msgno=$mb" since_delivery=36 machine=false; do
	case $line in *"$k"*) ;; *) fail "click's open has no $k: $line";; esac
done
case $line in *link=* | *url=*) fail "click's open names the link: $line";; esac
line=$($PD timeline b@example.com | grep "clicked")
for k in "user_agent=$H" client=127.0.0.1 link=pricing "url=$target" link_number=1 "msgno=$mb"; do
	case $line in *"$k"*) ;; *) fail "click has no $k: $line";; esac
done
[ "$(code -A "$H" "${C%%&u=*}&u=https%3A%2F%2Fevil.example%2F")" = 404 ] || fail "altered URL redirected"
[ "$(code -A "$H" "$(echo "$C" | sed 's/l=pricing/l=other/')")" = 404 ] || fail "altered link name accepted"
[ "$(code -A "$H" "$B/c/aaaaaaaaaaaaaaaaaaaaaaaa?l=x&u=https%3A%2F%2Fx")" = 404 ] || fail "forged click token"
# An open token is not a click token.
[ "$(code -A "$H" "$B/c/${O##*/o/}?l=x&u=https%3A%2F%2Fx")" = 404 ] || fail "open token as click"
# A link without a name of its own: its URL carries no l=, the tracker
# names it by host and path, and u= keeps "/", ":", "?" and "=" as they are.
mc=$(sent n@example.com 3600)
t2='https://shop.example.com/p/9?utm_source=news&utm_campaign=spring'
C2=$(url click n@example.com "$mc" 2 shop.example.com/p/9 "$t2")
case $C2 in *l=*) fail "a link named by its URL carries l=: $C2";; esac
case $C2 in *"?u=https://shop.example.com/p/9?utm_source=news%26utm_campaign=spring") ;;
*) fail "u= is not encoded as a query value: $C2";; esac
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -A "$H" "$C2")
[ "$r" = "302 $t2" ] || fail "unnamed click answered $r"
# The same link as older versions wrote it, "=" escaped: the same click.
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -A "$H" "$(echo "$C2" | sed 's/=news/%3Dnews/; s/=spring/%3Dspring/')")
[ "$r" = "302 $t2" ] || fail "a click URL with \"=\" escaped answered $r"
wait_tl n@example.com "clicked.*link=shop.example.com/p/9\\( \\|$\\)"
[ "$(code -A "$H" "${C2%%u=*}u=https://shop.example.com/p/8")" = 404 ] || fail "altered unnamed URL redirected"
[ "$(code -A "$H" "${C2%%u=*}l=other&u=${C2#*\?u=}")" = 404 ] || fail "a name added to an unnamed link accepted"
n=$($PD timeline b@example.com | grep -c clicked)
[ "$(curl -s -o /dev/null -w '%{http_code}' -I -A "$H" "$C")" = 302 ] || fail "HEAD click"
sleep 1.2
[ "$($PD timeline b@example.com | grep -c clicked)" = "$n" ] || fail "HEAD click recorded"
# The workflow on "clicked" ran for b's human click.
wait_tl b@example.com "tag_added.*tag=clicker"

# --- labelling rules: each one, on its own contact and message
# label ADDR KIND UA [curl args...] -> reason recorded (or "human")
mc=$(sent c@example.com 3600)
rule() {
	want=$1; kind=$2; ua=$3; shift 3
	linkn=$((linkn + 1))
	if [ "$kind" = open ]; then
		u=$(url open c@example.com "$mc")
	else
		u=$(url click c@example.com "$mc" $linkn "l$linkn" "https://example.com/$linkn")
	fi
	before=$($PD timeline c@example.com | grep -cE '	(opened|clicked)	')
	curl -s -o /dev/null -A "$ua" "$@" "$u"
	i=0
	while [ "$($PD timeline c@example.com | grep -cE '	(opened|clicked)	')" = "$before" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "rule $want: nothing recorded"; sleep 0.1
	done
	line=$($PD timeline c@example.com | grep -E '	(opened|clicked)	' | tail -1)
	case $want in
	human) echo "$line" | grep -q "machine=false" || fail "rule human: $line";;
	google) echo "$line" | grep -q "machine=false" && echo "$line" | grep -q "proxy=google" \
		|| fail "GoogleImageProxy: $line";;
	*) echo "$line" | grep -q "machine=true.*machine_reason=$want" || fail "rule $want: $line";;
	esac
	[ "$kind" = click ] && sleep 2.2	# no link-burst between the cases
}
linkn=0
rule apple-mpp open "Mozilla/5.0"
rule empty-user-agent open ""
rule prefetch open "$H" -H "Sec-Purpose: prefetch;prerender"
rule prefetch click "$H" -H "Purpose: prefetch"
rule scanner-user-agent click "Mozilla/5.0 (compatible; Barracuda Sentinel)"
rule scanner-user-agent click "python-requests/2.31"
# Words are found in any case, past the first 512 bytes of a long header.
rule scanner-user-agent open "Mozilla/5.0 (X11; Linux x86_64) $(printf '%0600d' 0) HeadlessChrome/120.0"
rule prefetch open "$H" -H "Sec-Purpose: PreFetch"
rule microsoft-eop click "$H" -H "X-Forwarded-For: 40.92.17.5"
rule microsoft-eop open "$H" -H "X-Forwarded-For: 198.51.100.7, 104.47.3.4"
rule apple-range open "$H" -H "X-Forwarded-For: 203.0.113.9"
rule human click "$H" -H "X-Forwarded-For: 203.0.113.9"
rule google open "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
rule human open "$H"

# Timing: a send 5 s ago; the open and click are a machine's; the
# workflow on "clicked" must not run for d.
md=$(sent d@example.com 5)
u1=$(url open d@example.com "$md")
u2=$(url click d@example.com "$md" 1 one https://example.com/1)
curl -s -o /dev/null -A "$H" "$u1"
curl -s -o /dev/null -A "$H" "$u2"
wait_tl d@example.com "opened.*machine_reason=open-timing"
wait_tl d@example.com "clicked.*machine_reason=click-timing"

# Two links of one message from one client within tracker_burst_window: the second is a
# scanner's; a honeypot click labels the message's clicks after it.
me=$(sent e@example.com 3600)
u1=$(url click e@example.com "$me" 1 one https://example.com/1)
u2=$(url click e@example.com "$me" 2 two https://example.com/2)
curl -s -o /dev/null -A "$H" "$u1"
curl -s -o /dev/null -A "$H" "$u2"
wait_tl e@example.com "clicked.*link=two.*machine_reason=link-burst"
mf=$(sent f@example.com 3600)
u1=$(url click f@example.com "$mf" 9 postdrip-honeypot https://example.com/h)
u2=$(url click f@example.com "$mf" 1 one https://example.com/1)
curl -s -o /dev/null -A "$H" "$u1"
curl -s -o /dev/null -A "$H" -H "X-Forwarded-For: 198.51.100.3" "$u2"
wait_tl f@example.com "clicked.*postdrip-honeypot.*machine_reason=honeypot"
wait_tl f@example.com "clicked.*link=one.*machine_reason=honeypot"
# d, e and f clicked only as machines (e's first click was human).
sleep 2.2
$PD timeline d@example.com | grep -q "tag_added" && fail "a machine click triggered a workflow"
$PD timeline f@example.com | grep -q "tag_added" && fail "a honeypot click triggered a workflow"
# A later human open still counts.
curl -s -o /dev/null -A "$H" "$(url open f@example.com "$mf")"
wait_tl f@example.com "opened.*machine=false via=pixel"
# The honeypot comes last in a message: a scanner opens and clicks the
# other links first. Those, recorded as a person's just before, become a
# machine's when the honeypot is clicked within tracker_honeypot_window.
mh=$(sent h@example.com 3600)
curl -s -o /dev/null -A "$H" -H "X-Forwarded-For: 198.51.100.11" "$(url open h@example.com "$mh")"
curl -s -o /dev/null -A "$H" -H "X-Forwarded-For: 198.51.100.12" \
    "$(url click h@example.com "$mh" 1 first https://example.com/first)"
wait_tl h@example.com "clicked.*link=first.*machine=false"
$PD timeline h@example.com | grep -q "opened.*machine=false via=pixel" || fail "h: no human open first"
curl -s -o /dev/null -A "$H" -H "X-Forwarded-For: 198.51.100.13" \
    "$(url click h@example.com "$mh" 2 postdrip-honeypot "$B/")"
wait_tl h@example.com "clicked.*link=postdrip-honeypot.*machine_reason=honeypot"
wait_tl h@example.com "clicked.*link=first.*machine=true.*machine_reason=honeypot"
$PD timeline h@example.com | grep "opened" | grep -q "machine=true.*machine_reason=honeypot" ||
    { $PD timeline h@example.com >&2; fail "h: the open before the honeypot click was not relabelled"; }
$PD timeline h@example.com | grep -E "opened|clicked" | grep -q "machine=false" &&
    { $PD timeline h@example.com >&2; fail "h: a human open or click is left"; }
grep -q "honeypot click: contact=[0-9]* msgno=$mh: 2 earlier opens and clicks relabelled" "$T/engine.log" ||
    fail "no log line for the relabelling"

# --- unsubscribe: a GET never does; one-click POST does, after commit
mg=$(sent g@example.com 3600)
U=$(url unsub g@example.com "$mg")
curl -s -A "$H" "$U" >"$T/page.html"
grep -q 'id="unsubscribe"' "$T/page.html" || fail "no unsubscribe button"
grep -q 'name="csrf"' "$T/page.html" || fail "no CSRF token on the form"
$PD suppressed | grep -q g@example.com && fail "a GET unsubscribed"
r=$(curl -s -w ' %{http_code} %{redirect_url}' -d "List-Unsubscribe=One-Click" "$U")
[ "$r" = "unsubscribed
 200 " ] || fail "one-click answered: $r"
$PD suppressed | grep -q "^g@example.com	unsubscribed" || fail "one-click did not suppress"
# A retry is harmless.
[ "$(code -d "List-Unsubscribe=One-Click" "$U")" = 200 ] || fail "one-click retry"
# multipart/form-data, as RFC 8058 allows.
U2=$(url unsub a@example.com "$ma")
[ "$(code -F "List-Unsubscribe=One-Click" "$U2")" = 200 ] || fail "multipart one-click"
$PD suppressed | grep -q "^a@example.com	" || fail "multipart one-click did not suppress"
# The page's forms need their CSRF token.
[ "$(code -d "action=resubscribe" "$U")" = 403 ] || fail "form without CSRF accepted"
[ "$(code -d "List-Unsubscribe=Yes" "$U")" = 400 ] || fail "bad one-click value"
[ "$(code -d "List-Unsubscribe=One-Click" "$B/u/aaaaaaaaaaaaaaaaaaaaaaaa")" = 404 ] || fail "forged unsub token"
curl -s -A "$H" "$U" >"$T/page.html"
csrf=$(sed -n 's/.*name="csrf" value="\([a-z2-7]*\)".*/\1/p' "$T/page.html" | head -1)
[ -n "$csrf" ] || fail "no csrf on the unsubscribed page"
curl -s -d "action=resubscribe&csrf=$csrf" "$U" | grep -q "subscribed again" || fail "resubscribe"
$PD suppressed | grep -q "^g@example.com" && fail "resubscribe left the suppression"
# A hard bounce is not the contact's to lift.
$PD suppress b@example.com --reason hardbounce >/dev/null
Ub=$(url unsub b@example.com "$mb")
csrf=$(curl -s "$Ub" | sed -n 's/.*name="csrf" value="\([a-z2-7]*\)".*/\1/p' | head -1)
curl -s -d "action=resubscribe&csrf=$csrf" "$Ub" >/dev/null
$PD suppressed | grep -q "^b@example.com	hardbounce" || fail "a page lifted a hard bounce"

# --- events API
A="Authorization: Bearer 0123456789abcdef0123"
J="Content-Type: application/json"
api() { curl -s -w ' %{http_code}' "$@"; }
r=$(api -H "$J" -d '{}' "$B/api/events"); case $r in *401) ;; *) fail "no key: $r";; esac
r=$(api -H "Authorization: Bearer fedcba9876543210fedc" -H "$J" -d '{}' "$B/api/events")
case $r in *retired*401) ;; *) fail "retired key: $r";; esac
r=$(api -H "Authorization: Bearer 0123456789abcdef0124" -H "$J" -d '{}' "$B/api/events")
case $r in *401) ;; *) fail "wrong key: $r";; esac
r=$(api -H "$A" -d '{}' "$B/api/events"); case $r in *415) ;; *) fail "no JSON type: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"email": ' "$B/api/events"); case $r in *400) ;; *) fail "bad JSON: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"type":"purchase"}' "$B/api/events")
case $r in *'"field":"email"'*400) ;; *) fail "missing email: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"email":"x@example.com","type":"bought"}' "$B/api/events")
case $r in *'"field":"type"'*400) ;; *) fail "bad type: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"email":"x@example.com","type":"nps","data":{"score":11}}' "$B/api/events")
case $r in *'"field":"data.score"'*400) ;; *) fail "bad nps: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"email":"not an address","type":"upgraded"}' "$B/api/events")
case $r in *'"field":"email"'*400) ;; *) fail "bad address: $r";; esac
for t in 1 2 3; do
	r=$(api -H "$A" -H "$J" -H "Idempotency-Key: order-77" \
	    -d '{"email":"x@example.com","type":"purchase","data":{"order":"77"}}' "$B/api/events")
	case $r in *200) ;; *) fail "purchase try $t: $r";; esac
done
[ "$($PD timeline x@example.com | grep -c 'purchased.*order=77')" = 1 ] || fail "a retried event counted twice"
r=$(api -H "$A" -H "$J" -d '{"email":"x@example.com","type":"custom","name":"demo_booked"}' "$B/api/events")
case $r in *200) ;; *) fail "custom: $r";; esac
$PD timeline x@example.com | grep -q demo_booked || fail "custom event not recorded"
r=$(api -H "$A" -H "$J" -d '{"email":"y@example.com","fields":{"first_name":"Yu"}}' "$B/api/contacts")
case $r in *'"created":true'*200) ;; *) fail "contact create: $r";; esac
$PD contact show y@example.com | grep -q '"first_name": *"Yu"' || fail "contact fields"
# An update records what changed, as the CLI does: one field_changed a
# changed field (what a workflow or a date trigger on it follows), none
# for a field sent again with the same value.
r=$(api -H "$A" -H "$J" -d '{"email":"y@example.com","fields":{"first_name":"Yu","plan":"trial"}}' "$B/api/contacts")
case $r in *'"created":false'*200) ;; *) fail "contact update: $r";; esac
r=$(api -H "$A" -H "$J" -d '{"email":"y@example.com","fields":{"plan":"pro"}}' "$B/api/contacts")
case $r in *200) ;; *) fail "contact update: $r";; esac
$PD timeline y@example.com >"$T/y.timeline"
grep -q '	field_changed	field=plan value=trial .*via=api' "$T/y.timeline" || fail "no field_changed for a new field: $(cat "$T/y.timeline")"
grep -q '	field_changed	field=plan value=pro old=trial' "$T/y.timeline" || fail "no field_changed with the old value: $(cat "$T/y.timeline")"
[ "$(grep -c 'field_changed' "$T/y.timeline")" = 2 ] || fail "field_changed for an unchanged field: $(cat "$T/y.timeline")"
$PD contact show y@example.com | grep -q '"plan": *"pro"' || fail "contact update not stored"

# --- bounds, health, metrics
dd if=/dev/zero bs=1024 count=4 2>/dev/null | tr '\0' 'a' >"$T/big"
[ "$(code -H "$A" -H "$J" --data-binary @"$T/big" "$B/api/events")" = 413 ] || fail "big body"
[ "$(code -A "$H" "$B/$(head -c 20000 "$T/big" 2>/dev/null; dd if=/dev/zero bs=1024 count=20 2>/dev/null | tr '\0' 'a')")" != 200 ] \
    || fail "a huge request line was answered 200"
[ "$(code -X DELETE "$O")" = 405 ] || fail "DELETE on the pixel"
[ "$(code "$B/nothing")" = 404 ] || fail "unknown path"
curl -s "$B/metrics" >"$T/metrics"
grep -q '^postdrip_tracker_requests_total{endpoint="click",code="302"}' "$T/metrics" || fail "metrics: clicks"
grep -q '^postdrip_tracker_events_total{type="clicked",source="machine"} [1-9]' "$T/metrics" || fail "metrics: machine clicks"
grep -q '^postdrip_suppressed_addresses [1-9]' "$T/metrics" || fail "metrics: suppressions"
grep -q '^postdrip_store_used_bytes [1-9]' "$T/metrics" || fail "metrics: store"

kill -TERM $pid
wait $pid || fail "engine exit status $?"
pass
