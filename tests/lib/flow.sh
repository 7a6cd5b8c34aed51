# flow.sh - what the flow_*_e2e.sh tests share
#
#	. "$top_srcdir/tests/lib/flow.sh"
#	flow_setup WORKFLOW-FILE...	# pfx_start, a config, keygen, check
#	flow_engine NOW			# postdrip-engine --once at NOW
#	flow_daemon_start NOW		# the engine with its tracker, at NOW
#	flow_daemon_stop
#	flow_click ADDR LINK URL [MSGNO]	# a person clicks through the tracker
#	flow_api PATH JSON		# POST to the events or contacts API
#	flow_got ADDR SUBJECT		# how many sink files to ADDR have it
#	flow_sent_at ADDR TEMPLATE-STEP	# times of the sends of that step
#
# The tests run the shipped workflows (copied from conf/workflows, with
# the shipped templates) through a private Postfix (pfx.sh) that relays
# to smtp-sink, with a set clock (POSTDRIP_NOW), and drive them with real
# HTTP requests to the tracker (clicks, page-visit beacons, the API).
. "$top_srcdir/tests/lib/pfx.sh"
command -v curl >/dev/null || pfx_skip "curl is not installed"

FLOW_UA='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
FLOW_KEY=0123456789abcdef0123

flow_setup() {
	pfx_require
	pfx_init
	pfx_start
	PD_DIR=$PFX_DIR/pd
	mkdir -p "$PD_DIR/data" "$PD_DIR/workflows"
	for _f; do
		cp "$top_srcdir/conf/workflows/$_f" "$PD_DIR/workflows/" || pfx_fail "copy $_f"
	done
	tport=$(pfx_free_port)
	B=http://127.0.0.1:$tport
	cat >"$PD_DIR/postdrip.conf" <<EOF2
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $top_srcdir/conf/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
bounce_domain = bounce.test
tracker_url = $B
tracker_listen = inet:127.0.0.1:$tport
tracker_api_key_file = $PD_DIR/apikeys
tracker_visit_cookie = yes
EOF2
	printf 'shop %s\n' "$FLOW_KEY" >"$PD_DIR/apikeys"
	PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
	ENGINE="$top_builddir/engine/postdrip-engine -c $PD_DIR/postdrip.conf"
	TT=$top_builddir/tests/track_tool
	$PD keygen >/dev/null || pfx_fail "keygen"
	$PD check || pfx_fail "postdrip check"
}

flow_engine() {
	POSTDRIP_NOW=$1 $ENGINE --once 2>>"$PD_DIR/engine.log" ||
	    { tail -n 20 "$PD_DIR/engine.log" >&2; pfx_fail "engine --once at $1"; }
}

flow_daemon_start() {
	POSTDRIP_NOW=$1 pfx_spawn engine $ENGINE -f
	pfx_wait_listen "$tport" 10 || pfx_fail "tracker not listening"
}

flow_daemon_stop() {
	pfx_kill "$(pfx_pid engine)" 10
}

flow_cid() {
	$PD contact show "$1" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1
}

# flow_click ADDR LINK URL [MSGNO] - the first message sent to ADDR (or
# MSGNO), its link LINK clicked in a browser; the cookie jar is
# $PD_DIR/jar.ADDR (the page-visit cookie); FLOW_CLICK_UA, when set, is
# the User-Agent instead of a browser's
flow_click() {
	_cid=$(flow_cid "$1")
	_msgno=${4:-$($PD timeline "$1" | sed -n 's/.*	sent	.*msgno=\([0-9]*\).*/\1/p' | head -n 1)}
	[ -n "$_cid" ] && [ -n "$_msgno" ] || pfx_fail "no contact id or msgno for $1"
	_url=$($TT url "$PD_DIR/keys" "$B" click "$_cid" "$_msgno" 1 "$2" "$3") || pfx_fail "track_tool url"
	_r=$(curl -s -o /dev/null -c "$PD_DIR/jar.$1" -w '%{http_code} %{redirect_url}' -A "${FLOW_CLICK_UA:-$FLOW_UA}" "$_url")
	[ "$_r" = "302 $3" ] || pfx_fail "click of $1 on $2 answered '$_r'"
	flow_wait_timeline "$1" "	clicked	.*link=$2"
}

# flow_wait_timeline ADDR REGEX - until the timeline has it (10 s at most)
flow_wait_timeline() {
	_i=0
	until $PD timeline "$1" | grep -q "$2"; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { $PD timeline "$1" >&2; pfx_fail "$1: no '$2' in the timeline"; }
		sleep 0.1
	done
}

flow_api() {
	_r=$(curl -s -o "$PD_DIR/api.out" -w '%{http_code}' -H "Authorization: Bearer $FLOW_KEY" \
	    -H 'Content-Type: application/json' -d "$2" "$B$1")
	[ "$_r" = 200 ] || pfx_fail "POST $1 $2: $_r $(cat "$PD_DIR/api.out")"
}

flow_got() {
	_n=0
	for _f in $(pfx_sink_files); do
		sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$_f" | head -n 1 | grep -qx "$1" || continue
		grep -q "^Subject: $2\$" "$_f" && _n=$((_n + 1))
	done
	echo $_n
}

# flow_sent_at ADDR STEP - when the sends of that step id went, one a line
flow_sent_at() {
	$PD timeline "$1" | grep "	sent	" | grep " step=$2 " | cut -f1
}

flow_nsink() { ls "$PFX_SINK" | wc -l; }

# flow_expect N - wait for N deliveries in all, then check there are no more
flow_expect() {
	pfx_wait_delivered "$1" 30 || { flow_list >&2; pfx_fail "want $1 messages delivered, have $(flow_nsink)"; }
	sleep 0.5
	[ "$(flow_nsink)" = "$1" ] || { flow_list >&2; pfx_fail "want $1 messages, got $(flow_nsink)"; }
}

# flow_list - recipient and subject of each sink file, oldest first
flow_list() {
	for _f in $(pfx_sink_files); do
		printf '%s	%s\n' "$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$_f" | head -n 1)" \
		    "$(grep -m 1 '^Subject:' "$_f")"
	done
}
