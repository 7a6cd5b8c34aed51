#!/bin/sh
# tracker_browser - the unsubscribe, preference and opt-in pages in a real
# browser (headless Chromium driven by Selenium): the GET page changes
# nothing, its button POSTs, and the store shows the result. Screenshots of
# each page before and after go to tests/screenshots/. Skips (77) when
# Chromium, chromium-driver, python3-selenium or smtp-sink is missing.
. "${top_srcdir:-..}/tests/lib/testlib.sh"
PY=/usr/bin/python3
command -v chromium >/dev/null || skip "chromium is not installed"
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-sink >/dev/null || skip "smtp-sink is not installed"
$PY -c 'import selenium' 2>/dev/null || skip "python3-selenium is not installed"
SHOTS=$top_builddir/tests/screenshots
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(freeport); sport=$(freeport)
B="http://127.0.0.1:$port"
mkdir -p "$T/data" "$T/workflows" "$T/templates" "$T/sink"
chown postfix "$T/sink" 2>/dev/null
cat >"$T/postdrip.conf" <<EOF2
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
tracker_listen = inet:127.0.0.1:$port
tracker_url = $B
inject_address = 127.0.0.1:$sport
EOF2
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
TT="$top_builddir/tests/track_tool"
$PD keygen >/dev/null || fail "keygen"
$PD contact add ann@example.com lists=news,offers >/dev/null || fail "contact add"

msg=$("$TT" sent "$T/data" 1 ann.1@example.com $(($(date +%s) - 3600)))
U=$("$TT" url "$T/keys" "$B" unsub 1 "$msg")
smtp-sink -u postfix -d "$T/sink/%H%M%S." "127.0.0.1:$sport" 10 2>"$T/sink.log" &
spid=$!
"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill $pid $spid 2>/dev/null; wait $pid $spid 2>/dev/null; rm -rf "$T"' EXIT
i=0
until curl -s "$B/healthz" 2>/dev/null | grep -q ok; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "tracker not up"; sleep 0.1
done

# browse NAME URL BUTTON [args] - one page, one button; prints the result
browse() {
	_name=$1 _url=$2 _button=$3
	shift 3
	$PY "$top_srcdir/tests/tracker_browser.py" "$_url" "$SHOTS" "$_name" "$_button" "$@" >"$T/out" 2>"$T/err"
	st=$?
	[ $st = 77 ] && skip "no browser: $(cat "$T/err")"
	[ $st = 0 ] || fail "browser on $_name: $(tail -5 "$T/err")"
	cat "$T/out"
}

# Preferences: untick "offers" and save.
$PD contact show ann@example.com | grep -q offers || skip "contact set cannot give lists here"
browse preferences "$U" save -list:offers | grep -q "Your lists are saved" || fail "preferences page"
$PD timeline ann@example.com | grep -q "preferences_changed" || fail "preferences not recorded"
$PD contact show ann@example.com | tr -d '\n ' | grep -q '"unsubscribed_lists":\["offers"\]' ||
    fail "offers not dropped: $($PD contact show ann@example.com)"
$PD suppressed | grep -q ann@example.com && fail "preferences suppressed the address"

# Unsubscribe from all: the GET alone did nothing; the button does.
browse unsubscribe "$U" unsubscribe | grep -q "You are unsubscribed" || fail "unsubscribe page"
$PD suppressed | grep -q "^ann@example.com	unsubscribed" || fail "button did not suppress"

# Subscribe again from the same page.
browse resubscribe "$U" resubscribe | grep -q "subscribed again" || fail "resubscribe page"
$PD suppressed | grep -q "^ann@example.com" && fail "resubscribe left the suppression"

# Double opt-in: the form, the confirmation mail, its page's button.
browse subscribe "$B/subscribe" subscribe email=zoe@example.com | grep -q "Check your mail" ||
    fail "subscribe page"
$PD contact show zoe@example.com | grep -q '"optin": *"pending"' || fail "zoe not pending"
i=0
until grep -l "zoe@example.com" "$T/sink/"* >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "no confirmation mail"; sleep 0.1
done
curl_url=$(grep -ho "$B/confirm/[a-z2-7]*" "$T/sink/"* | head -1)
[ -n "$curl_url" ] || fail "no confirm link in the mail"
grep -q "^X-Mail-Args: <txbounces+" "$T/sink/"* || fail "confirmation not on the transactional return path"
$PD contact show zoe@example.com | grep -q '"optin": *"pending"' || fail "the mail confirmed by itself"
browse confirm "$curl_url" confirm | grep -q "subscription is confirmed" || fail "confirm page"
$PD contact show zoe@example.com | grep -q '"optin": *"confirmed"' || fail "zoe not confirmed"
$PD timeline zoe@example.com | grep -q "subscribed	.*via=double-opt-in" || fail "no subscribed event"
ls "$SHOTS"/*.png >/dev/null || fail "no screenshots"
kill -TERM $pid
wait $pid || fail "engine exit status $?"
pass
