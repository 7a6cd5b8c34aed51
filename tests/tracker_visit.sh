#!/bin/sh
# tracker_visit - the page-visit beacon: with tracker_visit_cookie, a click
# sets a first-party cookie, and the beacon (GET /v?p=URL) with that cookie
# records page_visit for the contact, which starts a workflow; without the
# cookie, or with an altered one, it draws the pixel and records nothing.
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
tracker_visit_cookie = yes
inject_address = 127.0.0.1:1
EOF2
printf 'workflow: pricing\ntrigger:\n  event: page_visit\nsteps:\n  - add_tag: saw-pricing\n' \
    >"$T/workflows/pricing.yaml"
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
TT="$top_builddir/tests/track_tool"
$PD keygen >/dev/null || fail "keygen"
$PD contact add v@example.com >/dev/null || fail "contact add"
msg=$("$TT" sent "$T/data" 1 v.1@example.com $(($(date +%s) - 3600)))
C=$("$TT" url "$T/keys" "$B" click 1 "$msg" 1 pricing "$B/pricing")
"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "tracker not up"; sleep 0.1
done
H='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

# Without a cookie: the pixel, nothing recorded.
[ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -A "$H" "$B/v?p=%2Fpricing")" = "200 43" ] ||
    fail "beacon without cookie"
# An altered cookie: nothing.
curl -s -o /dev/null -A "$H" -b "pd_v=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "$B/v?p=%2Fpricing"
# The click sets the cookie.
curl -s -o /dev/null -D "$T/h" -c "$T/jar" -A "$H" "$C"
grep -qi '^set-cookie: pd_v=[a-z2-7]*; Max-Age=.*HttpOnly; SameSite=Lax' "$T/h" || fail "no cookie: $(cat "$T/h")"
sleep 1.2
$PD timeline v@example.com | grep -q page_visit && fail "a beacon without a valid cookie was recorded"
curl -s -o /dev/null -b "$T/jar" -A "$H" "$B/v?p=https%3A%2F%2Fwww.example.com%2Fpricing"
i=0
until $PD timeline v@example.com | grep -q "page_visit.*url=https://www.example.com/pricing.*via=beacon"; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "no page_visit: $($PD timeline v@example.com)"; sleep 0.1
done
i=0
until $PD timeline v@example.com | grep -q "tag_added.*saw-pricing"; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "page_visit started no workflow"; sleep 0.1
done
kill -TERM $pid
wait $pid || fail "engine exit status $?"
pass
