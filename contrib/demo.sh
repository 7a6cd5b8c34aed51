#!/bin/sh
# NAME
#	demo.sh 1
# SUMMARY
#	postdrip end to end: the shipped workflows against a private Postfix
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh contrib/demo.sh
#	(run by "./postdrip-dev demo", after the build)
# DESCRIPTION
#	As root, starts a private Postfix on 127.0.0.1 (tests/lib/pfx.sh)
#	with smtp-sink as the outside world (the domain sink.test), and
#	beside it postdrip-milter (smtpd_milters and non_smtpd_milters),
#	postdrip-policyd (check_policy_service at RCPT and END-OF-DATA) and
#	postdrip-milter's LMTP receiver, to which Postfix delivers the bounce
#	domain (its own DSNs, mailed unsubscribes, replies to reply+TOKEN). One generated DEMO.conf points workflow_directory and
#	template_directory at the shipped conf/workflows and conf/templates.
#
#	Then it walks two simulated weeks of March 2026 with POSTDRIP_NOW
#	and "postdrip-engine --once" (nothing sleeps for the story's time;
#	the daemons are restarted at each new time so that they share the
#	engine's clock): contacts from CSV, subscriptions and the welcome
#	series, a click on the pricing link and its follow-up (held back a
#	day by the frequency cap), a purchase that ends a cart reminder, a
#	birthday, a trial ending, a hard bounce made by Postfix itself, an
#	unsubscribe by mail, the policy daemon refusing marketing mail to
#	the unsubscribed address while a receipt passes, a reply that makes
#	a hot lead. What went out is read from smtp-sink's files, decisions
#	from the logs; every claim is checked, and the demo ends with a
#	summary table.
#
#	Without root (or without Postfix) it says so and runs only the
#	store part: the command line on a fresh store.
#
#	Everything started is stopped at exit, by process id. The
#	directories are removed unless DEMO_KEEP=1.
# DIAGNOSTICS
#	Exit 0 when every stage did what it says; otherwise "demo: FAILED:"
#	names the claim that did not hold, and the exit status is 1.
#--

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
POSTDRIP=$top_builddir/cli/postdrip
ENGINE=$top_builddir/engine/postdrip-engine
MILTER=$top_builddir/milter/postdrip-milter
POLICYD=$top_builddir/policyd/postdrip-policyd
for p in "$POSTDRIP" "$ENGINE" "$MILTER" "$POLICYD"; do
	[ -x "$p" ] || { echo "demo: $p not built (run make)" >&2; exit 1; }
done
# Absolute paths: the daemons run from other directories.
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
unset POSTDRIP_NOW
# With a sanitizer build, the same leak suppressions as "make check".
: "${LSAN_OPTIONS:=suppressions=$top_srcdir/tests/lsan.supp:print_suppressions=0}"
export LSAN_OPTIONS

# stage - print a heading
STAGE=
STAGES=
stage() {
	echo
	echo "### $*"
	STAGE=$(echo "$*" | cut -c1-64)
	STAGES="$STAGES
$STAGE"
}

# header FILE NAME - a header of a message file, unfolded
header() {
	awk -v h="$2" '
	    /^$/ { exit }
	    /^[ \t]/ { if (on) { sub(/^[ \t]+/, " "); v = v $0 }; next }
	    { if (on) exit; if (tolower(substr($0, 1, length(h) + 1)) == tolower(h) ":") { on = 1; v = substr($0, length(h) + 2); sub(/^ +/, "", v) } }
	    END { if (on) print v }' "$1"
}

# short - shorten the tokens in a line (long base32 strings)
short() {
	sed -E 's/([+/])([a-z2-7]{6})[a-z2-7]{14,}/\1\2.../g'
}

# human_until - the engine's until=EPOCH as a date (ISO 8601 stays)
human_until() {
	while IFS= read -r _l; do
		case $_l in
		*until=[0-9][0-9][0-9][0-9]-*)
			echo "$_l" ;;
		*until=[0-9]*)
			_e=$(echo "$_l" | sed 's/.*until=\([0-9]*\).*/\1/')
			echo "$_l" | sed "s/until=$_e/until $(date -u -d "@$_e" '+%a %d %b %H:%M UTC')/" ;;
		*)	echo "$_l" ;;
		esac
	done
}

# say - a line of the story
say() {
	echo "    $*"
}

FAILS=0
CHECKS=0
FAILED_CLAIMS=
SUMMARY=
# claim - check a claim: "claim TEXT COMMAND..."; print ok or FAILED
claim() {
	_what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "  [ok] $_what"
		SUMMARY="$SUMMARY
ok	$STAGE"
	else
		echo "  [FAILED] $_what"
		echo "demo: FAILED: $_what" >&2
		SUMMARY="$SUMMARY
FAILED	$STAGE"
		FAILED_CLAIMS="$FAILED_CLAIMS
    FAILED: $_what"
		FAILS=$((FAILS + 1))
	fi
}

# pd - run postdrip with the demo's configuration, echoing the command
pd() {
	echo "\$ postdrip $*"
	"$POSTDRIP" -c "$CONF" "$@" || { echo "demo: postdrip $* failed" >&2; exit 1; }
}

# pd_at - the same at a fixed time
pd_at() {
	_when=$1
	shift
	echo "\$ POSTDRIP_NOW=$_when postdrip $*"
	POSTDRIP_NOW=$_when "$POSTDRIP" -c "$CONF" "$@" ||
	    { echo "demo: postdrip $* failed" >&2; exit 1; }
}

# ---------------------------------------------------------------------
# The store part: the command line alone, on a fresh store.

store_config() {
	stage "A fresh store in $DEMO"
	mkdir -p "$DEMO/data"
	cat >"$CONF" <<EOF
# DEMO.conf - postdrip.conf for the demo
data_directory = $DEMO/data
token_key_file = \$config_directory/keys
workflow_directory = $top_srcdir/conf/workflows
template_directory = $top_srcdir/conf/templates
marketing_senders = *@news.example.com
bounce_domain = bounce.example.com
tracker_url = https://track.example.com
EOF
	cat "$CONF"
	pd keygen
	pd check
	pd stats
}

store_contacts() {
	stage "Contacts from CSV (a malformed row is reported and skipped)"
	cat >"$DEMO/contacts.csv" <<'EOF'
email,first_name,birthday,timezone,owner,tags
ann@example.com,Ann,1990-05-01,Europe/Berlin,rep@example.com,vip
bob@example.org,Bob,1985-12-24,America/New_York,rep@example.com,
not-an-address,Nobody,,,,
carol@example.net,Carol,,Asia/Tokyo,,trial
EOF
	cat "$DEMO/contacts.csv"
	# Exit 1 is expected here: one row is malformed.
	echo "\$ postdrip contact import contacts.csv"
	"$POSTDRIP" -c "$CONF" contact import "$DEMO/contacts.csv"
	pd contact show ann@example.com
}

store_events() {
	stage "Events at fixed times"
	pd_at 2026-03-01T09:00:00Z event ann@example.com subscribed source=website
	pd_at 2026-03-02T10:30:00Z event ann@example.com page_visit url=/pricing
	pd_at 2026-03-03T16:45:00Z event ann@example.com purchased sku=A1 amount=49.00
	pd_at 2026-03-02T08:00:00Z event bob@example.org cart_abandoned cart=C-17
	pd timeline ann@example.com
}

store_suppression() {
	stage "Suppression (the policy daemon refuses marketing mail to these)"
	pd suppress bob@example.org --reason complaint
	pd suppressed
}

store_demo() {
	DEMO=$(mktemp -d "${TMPDIR:-/tmp}/postdrip-demo.XXXXXX") || exit 1
	chmod 755 "$DEMO"
	trap store_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	CONF=$DEMO/DEMO.conf
	store_config
	store_contacts
	store_events
	store_suppression
	stage "Counts"
	pd stats
	echo
	echo "demo: done (store part only)"
}

store_cleanup() {
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $DEMO"
	else
		rm -rf "$DEMO"
	fi
}

# ---------------------------------------------------------------------
# The full demo: a private Postfix, the three daemons, the shipped
# workflows over simulated weeks.

NOW=
MILTER_PID=
POLICYD_PID=

# daemons_stop - stop the milter and the policy daemon (by pid)
daemons_stop() {
	if [ -n "$MILTER_PID" ]; then
		# libmilter looks at its stop flag when a connection comes or
		# every few seconds: a connection makes the stop immediate.
		kill -TERM "$MILTER_PID" 2>/dev/null &&
		    "$PFX_PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.close()' "$DEMO/milter.sock" 2>/dev/null
		pfx_kill "$MILTER_PID" 5
	fi
	[ -n "$POLICYD_PID" ] && pfx_kill "$POLICYD_PID" 5
	MILTER_PID= POLICYD_PID=
	return 0
}

# daemons_start - start the milter and the policy daemon at time $NOW
daemons_start() {
	rm -f "$DEMO/milter.sock" "$DEMO/lmtp.sock" "$DEMO/policyd.sock"
	echo "--- POSTDRIP_NOW=$NOW" >>"$DEMO/milter.log"
	echo "--- POSTDRIP_NOW=$NOW" >>"$DEMO/policyd.log"
	POSTDRIP_NOW=$NOW "$MILTER" -f -c "$CONF" 2>>"$DEMO/milter.log" &
	MILTER_PID=$!
	POSTDRIP_NOW=$NOW "$POLICYD" -f -c "$CONF" 2>>"$DEMO/policyd.log" &
	POLICYD_PID=$!
	_n=0
	until [ -S "$DEMO/milter.sock" ] && [ -S "$DEMO/lmtp.sock" ] && [ -S "$DEMO/policyd.sock" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 200 ] || ! pfx_alive "$MILTER_PID" || ! pfx_alive "$POLICYD_PID"; then
			tail -n 20 "$DEMO/milter.log" "$DEMO/policyd.log" >&2
			echo "demo: FAILED: the milter or the policy daemon did not start" >&2
			exit 1
		fi
		sleep 0.05
	done
	# What Postfix kept for the bounce domain while postdrip restarted.
	[ "$PFX_STARTED" = 1 ] && postqueue -c "$PFX_ETC" -f 2>/dev/null
	return 0
}

# settle - wait until Postfix's queue is empty (bounded: 40 s)
settle() {
	_deadline=$(($(date +%s) + 40))
	while [ -n "$(find "$PFX_DIR/queue/incoming" "$PFX_DIR/queue/active" \
	    "$PFX_DIR/queue/deferred" "$PFX_DIR/queue/maildrop" -type f 2>/dev/null | head -n 1)" ]; do
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo "demo: the queue did not empty in 40 s" >&2
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# at - move the story's clock to $1: let the queue drain, then restart the
# daemons with the new time
at() {
	settle
	NOW=$1
	daemons_stop
	daemons_start
	echo
	case $NOW in
	*:00Z)	_fmt='%a %d %b %Y %H:%M UTC' ;;
	*)	_fmt='%a %d %b %Y %H:%M:%S UTC' ;;
	esac
	echo "    [$(date -u -d "$NOW" "+$_fmt")]"
}

# pdn - postdrip at the story's time
pdn() {
	echo "\$ postdrip $*"
	POSTDRIP_NOW=$NOW "$POSTDRIP" -c "$CONF" "$@" ||
	    { echo "demo: postdrip $* failed" >&2; exit 1; }
}

SINK_SEEN=0
# engine - postdrip-engine --once at the story's time, then show what
# reached the sink since the last look
engine() {
	echo "\$ POSTDRIP_NOW=$NOW postdrip-engine --once"
	echo "--- POSTDRIP_NOW=$NOW" >>"$DEMO/engine.log"
	POSTDRIP_NOW=$NOW "$ENGINE" -c "$CONF" --once 2>>"$DEMO/engine.log" ||
	    { tail -n 20 "$DEMO/engine.log" >&2; echo "demo: FAILED: postdrip-engine --once" >&2; exit 1; }
	# What this run decided, from its log.
	sed -n '/^--- POSTDRIP_NOW='"$NOW"'$/,$p' "$DEMO/engine.log" |
	    grep -E ': (delayed|exited|branch|timeout|completed): ' |
	    sed -e 's/^.*postdrip-engine[^:]*: //' -e 's/^/    engine: /' | human_until | cut -c1-150
	settle
	show_sink
}

# template_of FILE - which shipped template made a sink file (by Subject)
template_of() {
	# Only the engine's mail: a reply quotes a subject, too.
	# (postdrip-milter removes X-Postdrip-Workflow and adds Feedback-ID)
	if ! sed -n '/^$/q; p' "$1" | grep -Eq '^(X-Postdrip-Workflow|Feedback-ID):'; then
		echo other
		return
	fi
	_s=$(sed -n '/^$/q; s/^Subject: //p' "$1" | head -n 1)
	case $_s in
	"Welcome to Acme"*)			echo welcome ;;
	*"your first workflow in 5 minutes")	echo welcome-2 ;;
	"Which Acme plan fits"*)		echo welcome-3 ;;
	*"more on what you were looking at")	echo followup-clicked ;;
	*"you left something in your cart")	echo cart-abandoned ;;
	"Happy birthday"*)			echo birthday ;;
	"Your Acme trial ends"*)		echo trial-ending ;;
	"Hot lead:"*)				echo hot-lead-alert ;;
	*)					echo other ;;
	esac
}

# show_sink - print the sink files that arrived since the last call
show_sink() {
	_all=$(pfx_sink_files)
	_n=0
	for _f in $_all; do
		_n=$((_n + 1))
		[ $_n -le $SINK_SEEN ] && continue
		printf '    sink: %-17s To: %-28s Subject: %s\n' "$(template_of "$_f")" \
		    "$(header "$_f" To)" "$(header "$_f" Subject)"
		_lu=$(header "$_f" List-Unsubscribe)
		[ -n "$_lu" ] && echo "          List-Unsubscribe: $_lu" | short
	done
	SINK_SEEN=$_n
}

# sink_count TEMPLATE [RCPT] - how many sink files that template made
sink_count() {
	_c=0
	for _f in $(pfx_sink_files); do
		[ "$(template_of "$_f")" = "$1" ] || continue
		if [ -n "${2:-}" ]; then
			grep -q "^X-Rcpt-Args: <$2>" "$_f" || continue
		fi
		_c=$((_c + 1))
	done
	echo $_c
}

# is N COMMAND... - does the command print N?
is() {
	_want=$1
	shift
	[ "$("$@")" = "$_want" ]
}

# sink_file TEMPLATE RCPT - the last sink file of that template to RCPT
sink_file() {
	for _f in $(pfx_sink_files); do
		[ "$(template_of "$_f")" = "$1" ] || continue
		grep -q "^X-Rcpt-Args: <$2>" "$_f" && echo "$_f"
	done | tail -n 1
}

# unsub_headers_ok - the engine's marketing mail carries both unsubscribe ways
unsub_headers_ok() {
	for _f in $(pfx_sink_files); do
		case $(template_of "$_f") in
		other|hot-lead-alert) continue ;;
		esac
		header "$_f" List-Unsubscribe | grep -Eq \
		    '^<https://track\.example\.com/u/[a-z2-7]+>, *<mailto:unsubscribe\+[a-z2-7]+@bounce\.example\.com>$' ||
		    { echo "    $_f: List-Unsubscribe: $(header "$_f" List-Unsubscribe)"; return 1; }
		[ "$(header "$_f" List-Unsubscribe-Post)" = "List-Unsubscribe=One-Click" ] ||
		    { echo "    $_f: no List-Unsubscribe-Post"; return 1; }
	done
	return 0
}

# sanitizer_clean - no report in the daemons' and the engine's logs
sanitizer_clean() {
	if grep -Eq "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DEMO"/*.log; then
		grep -E -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DEMO"/*.log |
		    head -n 40 | sed 's/^/    /'
		return 1
	fi
	return 0
}

# has_event ADDRESS REGEX - does the contact's timeline have a matching line?
has_event() {
	"$POSTDRIP" -c "$CONF" timeline "$1" 2>/dev/null | grep -Eq -- "$2"
}

# wait_event ADDRESS REGEX - until it does (bounded: 30 s)
wait_event() {
	_deadline=$(($(date +%s) + 30))
	until has_event "$1" "$2"; do
		[ "$(date +%s)" -ge "$_deadline" ] && return 1
		sleep 0.1
	done
	return 0
}

suppressed_as() {
	"$POSTDRIP" -c "$CONF" suppressed | awk -v a="$1" '$1 == a { print $2 }'
}

full_setup() {
	stage "A private Postfix on 127.0.0.1, smtp-sink as the Internet, the postdrip daemons"
	pfx_init
	[ "${DEMO_KEEP:-0}" = 1 ] && PFX_KEEP=1
	DEMO=$PFX_DIR/demo
	CONF=$DEMO/DEMO.conf
	mkdir -p "$DEMO/data"
	INJECT_PORT=$(pfx_free_port) || pfx_fail "no free port"
	cat >"$CONF" <<EOF
# DEMO.conf - postdrip.conf for the demo: the shipped workflows and
# templates, sockets in the demo directory, the private Postfix's ports.
data_directory = $DEMO/data
token_key_file = \$config_directory/keys
workflow_directory = $top_srcdir/conf/workflows
template_directory = $top_srcdir/conf/templates
marketing_senders = *@news.example.com
frequency_caps = 1/1d
milter_listen = unix:$DEMO/milter.sock
lmtp_listen = unix:$DEMO/lmtp.sock
reply_routing_streams = marketing
policyd_listen = unix:$DEMO/policyd.sock
inject_address = 127.0.0.1:$INJECT_PORT
bounce_domain = bounce.example.com
tracker_url = https://track.example.com
reply_forward_owner = no
mail_owner = postfix
EOF
	cat "$CONF"
	pd keygen >/dev/null
	pd check
	# The daemons run as mail_owner: the store must be the postfix user's.
	"$POSTDRIP" -c "$CONF" stats >/dev/null || pfx_fail "cannot make the store"
	chown -R postfix "$DEMO/data"
	pfx_on_exit daemons_stop

	_policy="check_policy_service { unix:$DEMO/policyd.sock, timeout=10s, { default_action = 451 4.3.5 postdrip policy service unavailable } }"
	pfx_conf "smtpd_milters = { unix:$DEMO/milter.sock, default_action=accept }" \
	    "non_smtpd_milters = { unix:$DEMO/milter.sock, default_action=accept }" \
	    "milter_protocol = 6" \
	    "milter_default_action = tempfail" \
	    "milter_end_of_data_macros = i" \
	    "internal_mail_filter_classes = bounce" \
	    "local_recipient_maps =" \
	    "relay_domains = bounce.example.com" \
	    "smtpd_recipient_restrictions = $_policy" \
	    "smtpd_end_of_data_restrictions = $_policy" \
	    "lmtp_send_xforward_command = yes" \
	    "transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$PFX_SINK_PORT, bounce.example.com=lmtp:unix:$DEMO/lmtp.sock }"
	# The engine's smtpd: the one place where the milter must act, so
	# there it tempfails when postdrip is down (milter_default_action).
	pfx_master "127.0.0.1:$INJECT_PORT inet n - n - - smtpd -o syslog_name=postfix/postdrip -o smtpd_milters=unix:$DEMO/milter.sock"
	echo "main.cf additions:"
	postconf -c "$PFX_ETC" -n smtpd_milters non_smtpd_milters \
	    smtpd_recipient_restrictions smtpd_end_of_data_restrictions \
	    relay_domains transport_maps | sed 's/^/    /'
	echo "master.cf additions:"
	tail -n 1 "$PFX_ETC/master.cf" | sed 's/^/    /'
	NOW=2026-03-02T08:55:00Z
	daemons_start
	pfx_start
	pfx_wait_listen "$INJECT_PORT" || pfx_fail "the engine's smtpd does not listen"
	say "Postfix: 127.0.0.1:$PFX_PORT (clients), :$INJECT_PORT (postdrip-engine); bounce.example.com by LMTP to $DEMO/lmtp.sock"
	say "smtp-sink: 127.0.0.1:$PFX_SINK_PORT, every message to sink.test lands in a file"
	say "postdrip-milter pid $MILTER_PID, postdrip-policyd pid $POLICYD_PID"
	pd workflows
}

full_contacts() {
	stage "Monday 2 March: contacts from CSV"
	# Dates in the CSV: Bob's birthday falls on Friday of this week;
	# Carol's trial ends on Friday of the next.
	cat >"$DEMO/contacts.csv" <<'EOF'
email,first_name,last_name,birthday,timezone,owner,plan,trial_end,tags
ann@sink.test,Ann,Archer,1990-07-14,Europe/Berlin,rita@sink.test,,,vip
bob@sink.test,Bob,Baker,1985-03-06,America/New_York,rita@sink.test,,,
carol@sink.test,Carol,Cole,,Asia/Tokyo,,trial,2026-03-13,trial
dave@sink.test,Dave,Dunn,,Europe/London,,,,
erin@sink.test,Erin,Ellis,,Europe/Paris,,,,
ghost@local.test,Gus,Ghost,,,,,,
rita@sink.test,Rita,Reyes,,,,,,staff
not-an-address,Nobody,,,,,,,
EOF
	cat "$DEMO/contacts.csv"
	echo "\$ postdrip contact import contacts.csv"
	POSTDRIP_NOW=$NOW "$POSTDRIP" -c "$CONF" contact import "$DEMO/contacts.csv"
	claim "CSV import: 7 contacts, the malformed row skipped" \
	    is 7 sh -c "\"$POSTDRIP\" -c \"$CONF\" stats | awk '\$1 == \"contacts\" { print \$2 }'"
}

full_week1() {
	stage "Monday 2 March, 09:00 UTC: subscriptions, a trial, two carts"
	at 2026-03-02T09:00:00Z
	pdn event ann@sink.test subscribed source=website
	pdn event bob@sink.test subscribed source=webinar
	pdn event ghost@local.test subscribed source=fair
	pdn event carol@sink.test trial_started
	pdn event dave@sink.test cart_abandoned cart=C-17
	pdn event erin@sink.test cart_abandoned cart=C-18
	at 2026-03-02T09:00:05Z
	engine
	claim "welcome to Ann (10:00 in Berlin); Bob waits (04:00 in New York)" \
	    test "$(sink_count welcome ann@sink.test)$(sink_count welcome bob@sink.test)" = 10
	claim "welcome to Gus (ghost@local.test) handed to Postfix" \
	    pfx_wait_log 'to=<ghost@local.test>' 20
	claim "Carol's trial starts with the welcome template" is 1 sink_count welcome carol@sink.test
	claim "the engine held Bob's welcome for his send window" \
	    grep -q "delayed: .*to=<bob@sink.test> workflow=welcome .*reason=send window" "$DEMO/engine.log"

	stage "Postfix bounces ghost@local.test; the DSN reaches postdrip by LMTP"
	claim "Postfix logged the bounce of ghost@local.test (5.1.1)" \
	    pfx_wait_log 'to=<ghost@local.test>.*status=bounced' 20
	pfx_log_grep 'to=<ghost@local.test>.*status=bounced' | sed -E 's/^[A-Z][a-z]+ +[0-9]+ [0-9:]+ [^ ]+ [^ ]+\[[0-9]+\]: /    postfix: /' | cut -c1-150
	claim "the LMTP receiver recorded a hard bounce for Gus" wait_event ghost@local.test 'bounced.*class=hard'
	grep -E 'bounced: ' "$DEMO/milter.log" | sed 's/^.*postdrip-milter[^:]*: /    milter: /' | cut -c1-150
	claim "Gus is suppressed (hardbounce)" test "$(suppressed_as ghost@local.test)" = hardbounce
	claim "Postfix delivered the DSN by LMTP, answered after the commit" \
	    pfx_wait_log 'to=<bounces\+[^>]*@bounce\.example\.com>, relay=[^,]*lmtp\.sock\].*status=sent \(250 2\.0\.0 .*Ok: bounced\)' 20
	pfx_log_grep 'to=<bounces\+[^>]*@bounce\.example\.com>, relay=[^,]*lmtp\.sock\].*status=sent' | sed -E 's/^[A-Z][a-z]+ +[0-9]+ [0-9:]+ [^ ]+ [^ ]+\[[0-9]+\]: /    postfix: /' | short | cut -c1-150

	stage "Monday, 10:30: Ann clicks the pricing link; 11:00: Dave buys"
	at 2026-03-02T10:30:00Z
	pdn event ann@sink.test clicked link=pricing
	engine
	at 2026-03-02T11:00:00Z
	pdn event dave@sink.test purchased order=A-1001 amount=49.00
	engine
	at 2026-03-02T11:40:00Z
	engine
	claim "Ann's follow-up is held by the frequency cap (1/1d), not sent" \
	    grep -q "delayed: .*to=<ann@sink.test> workflow=followup-clicked .*reason=frequency cap" "$DEMO/engine.log"
	claim "no follow-up yet" is 0 sink_count followup-clicked

	stage "Monday, 13:30: the cart reminders are due (4 hours after)"
	at 2026-03-02T13:30:00Z
	engine
	claim "Erin gets the cart reminder" is 1 sink_count cart-abandoned erin@sink.test
	claim "Dave bought: the goal ended his cart workflow, no reminder" is 0 sink_count cart-abandoned dave@sink.test
	claim "Dave's timeline shows the goal" has_event dave@sink.test 'workflow_(completed|exited).*workflow=cart'

	stage "Monday, 14:05: 09:05 in New York"
	at 2026-03-02T14:05:00Z
	engine
	claim "Bob's welcome goes out in his morning" is 1 sink_count welcome bob@sink.test

	stage "Monday, 15:00: a newsletter (news@news.example.com) to Bob"
	out=$(pfx_swaks --from news@news.example.com --to bob@sink.test --header "Subject: March news" --body "news")
	echo "$out" | grep -E '^ *<\*\* ' | sed 's/^ */    smtp: /'
	claim "the policy daemon defers it: Bob had his one message today (450 4.7.1)" \
	    sh -c "echo \"\$1\" | grep -q '<\*\* *450 4.7.1 <bob@sink.test>: Recipient address rejected: frequency cap reached'" sh "$out"
}

full_week1b() {
	stage "Tuesday 3 March: the follow-up, a day late; Erin's last call"
	at 2026-03-03T09:30:00Z
	engine
	claim "the frequency cap rescheduled Ann's follow-up to Tuesday" is 1 sink_count followup-clicked ann@sink.test
	f=$(sink_file followup-clicked ann@sink.test)
	claim "the follow-up speaks of pricing (the link clicked)" grep -q 'You looked at our plans' "$f"
	FOLLOWUP_MID=$(sed -n '/^$/q; s/^Message-I[dD]: *//p' "$f" | head -n 1)
	FOLLOWUP_REPLY_TO=$(sed -n '/^$/q; /^Reply-To:/{ s/.*<\(reply+[^>]*\)>.*/\1/p; s/^Reply-To: *\(reply+[^ ]*\)$/\1/p; }' "$f" | head -n 1)
	at 2026-03-03T13:35:00Z
	engine
	claim "Erin did not click: her last call a day later" is 2 sink_count cart-abandoned erin@sink.test

	stage "Tuesday, 15:00: the newsletter to Bob again"
	at 2026-03-03T15:00:00Z
	out=$(pfx_swaks --from news@news.example.com --to bob@sink.test --header "Subject: March news" --body "news")
	echo "$out" | grep -E '^ *<\*\* |queued as' | sed 's/^ */    smtp: /'
	claim "a day later the policy daemon lets it through" \
	    sh -c "echo \"\$1\" | grep -q 'queued as'" sh "$out"

	stage "Tuesday, 16:00: Erin unsubscribes by mail (List-Unsubscribe)"
	f=$(sink_file cart-abandoned erin@sink.test)
	unsub=$(sed -n '/^$/q; s/.*<mailto:\(unsubscribe+[^>]*\)>.*/\1/p' "$f" | head -n 1)
	say "List-Unsubscribe mailto: $unsub"
	at 2026-03-03T16:00:00Z
	out=$(pfx_swaks --from erin@sink.test --to "$unsub" --header "Subject: unsubscribe" --body "unsubscribe")
	claim "the bounce domain takes the unsubscribe" sh -c "echo \"\$1\" | grep -q 'queued as'" sh "$out"
	claim "the milter recorded it" wait_event erin@sink.test '	unsubscribed	'
	grep -E ': unsubscribed: ' "$DEMO/milter.log" | sed 's/^.*postdrip-milter[^:]*: /    milter: /' | short | cut -c1-150
	claim "Erin is suppressed (unsubscribed)" test "$(suppressed_as erin@sink.test)" = unsubscribed

	stage "Tuesday, 16:30: marketing to Erin refused, her receipt passes"
	out=$(pfx_swaks --from news@news.example.com --to erin@sink.test --header "Subject: March news" --body "news")
	echo "$out" | grep -E '^ *<\*\* ' | sed 's/^ */    smtp: /'
	claim "news@news.example.com -> erin: 550 5.7.1 recipient unsubscribed" \
	    sh -c "echo \"\$1\" | grep -q '<\*\* *550 5.7.1 <erin@sink.test>: Recipient address rejected: recipient unsubscribed'" sh "$out"
	n=$(ls "$PFX_SINK" | wc -l)
	qid=$(pfx_send receipts@shop.example.com erin@sink.test --header "Subject: Your receipt A-1002" --body "Thank you for your order.")
	claim "receipts@shop.example.com -> erin (transactional): accepted" test -n "$qid"
	claim "and delivered" pfx_wait_delivered $((n + 1)) 20
	settle
	show_sink
}

full_week1c() {
	stage "Wednesday 4 March: Ann replies to the follow-up"
	at 2026-03-04T08:00:00Z
	claim "the follow-up's Reply-To is a reply+TOKEN address (reply_routing_streams)" \
	    test -n "$FOLLOWUP_REPLY_TO"
	out=$(pfx_swaks --from ann@sink.test --to "$FOLLOWUP_REPLY_TO" \
	    --header "Subject: Re: Ann, more on what you were looking at" \
	    --header "In-Reply-To: $FOLLOWUP_MID" --header "References: $FOLLOWUP_MID" \
	    --body "Sounds good, can we talk on Thursday?")
	claim "the reply is accepted for the bounce domain" sh -c "echo \"\$1\" | grep -q 'queued as'" sh "$out"
	claim "the LMTP receiver recorded Ann's reply" wait_event ann@sink.test '	replied	'
	claim "and forwarded it to Rita, her owner" pfx_wait_log 'to=<rita@sink.test>.*status=sent' 20
	grep -E ': replied: lmtp ' "$DEMO/milter.log" | sed 's/^.*postdrip-milter[^:]*: /    milter: /' | short | cut -c1-160
	settle
	show_sink
	at 2026-03-04T08:00:05Z
	engine
	claim "a reply ends the follow-up (exit rule)" has_event ann@sink.test 'workflow_exited.*workflow=followup-clicked'
	claim "Ann is a hot lead: Rita, her owner, gets the alert" is 1 sink_count hot-lead-alert rita@sink.test
	at 2026-03-04T09:30:00Z
	engine
	claim "welcome-2 to Ann two days after the first" is 1 sink_count welcome-2 ann@sink.test
	claim "the welcome series ended for Gus: suppressed" has_event ghost@local.test 'workflow_exited.*workflow=welcome'
	at 2026-03-04T15:30:00Z
	engine
	claim "welcome-2 to Bob (after the cap: Tuesday's newsletter was at 15:00)" \
	    is 1 sink_count welcome-2 bob@sink.test

	stage "Friday 6 March: Bob's birthday (09:00 in New York)"
	at 2026-03-06T08:00:00Z
	engine
	claim "not before his morning" is 0 sink_count birthday
	at 2026-03-06T14:10:00Z
	engine
	claim "Bob gets the birthday greeting" is 1 sink_count birthday bob@sink.test
	claim "nobody else has a birthday this week" is 1 sink_count birthday

	stage "Saturday 7 March: welcome-3 is due and waits for Monday"
	at 2026-03-07T10:00:00Z
	engine
	claim "nothing on Saturday" is 0 sink_count welcome-3
	at 2026-03-09T08:10:00Z
	engine
	at 2026-03-09T14:10:00Z
	engine
	claim "welcome-3 on Monday to Ann and Bob" \
	    test "$(sink_count welcome-3 ann@sink.test)$(sink_count welcome-3 bob@sink.test)" = 11
}

full_trial() {
	stage "Tuesday 10 March: Carol's trial ends on Friday"
	at 2026-03-10T00:30:00Z
	engine
	claim "Carol: 'Your Acme trial ends on 2026-03-13'" is 1 sink_count trial-ending carol@sink.test
	f=$(sink_file trial-ending carol@sink.test)
	claim "the subject names the date from the CSV" \
	    test "$(header "$f" Subject)" = "Your Acme trial ends on 2026-03-13"
	stage "Friday 13 March, 09:00 in Tokyo: the trial's last day"
	at 2026-03-13T00:30:00Z
	engine
	claim "Carol: a second trial-ending on the last day" is 2 sink_count trial-ending carol@sink.test
}

full_report() {
	settle
	stage "The policy daemon's and the milter's decisions, from the logs"
	pfx_log_grep 'reject: RCPT from' | sed -E 's/^[A-Z][a-z]+ +[0-9]+ [0-9:]+ [^ ]+ [^ ]+\[[0-9]+\]: /    postfix: /' | cut -c1-160
	grep -E ': (reject|defer): ' "$DEMO/policyd.log" | sed 's/^.*postdrip-policyd[^:]*: /    policyd: /' | cut -c1-160
	grep -E ': count: ' "$DEMO/policyd.log" | sed 's/^.*postdrip-policyd[^:]*: /    policyd: /' | cut -c1-160 | tail -n 3
	say "(policyd: $(grep -c ': count: ' "$DEMO/policyd.log") messages counted for the frequency caps at END-OF-MESSAGE)"
	grep -E ': (bounced|unsubscribed|replied|reply_forged|duplicate|ignored)[: ]' "$DEMO/milter.log" |
	    sed 's/^.*postdrip-milter[^:]*: /    milter: /' | cut -c1-160
	say "(milter: $(grep -c ': sent: ' "$DEMO/milter.log") sends seen, $(grep -c ': sent: .* known ' "$DEMO/milter.log") of them already recorded by the engine)"

	stage "Timelines"
	pd timeline ann@sink.test
	pd timeline ghost@local.test

	stage "Suppressed"
	pd suppressed
	stage "Counts"
	pd stats

	daemons_stop
	stage "Over the whole run"
	claim "no sanitizer report (memory errors, leaks, undefined behaviour)" \
	    sanitizer_clean
	claim "no message went out twice (Message-IDs unique in the sink)" \
	    sh -c 'for f in $(ls "$1"); do sed -n "/^\$/q; s/^Message-I[dD]: //p" "$1/$f"; done | sort | uniq -d | grep -q . && exit 1; exit 0' sh "$PFX_SINK"

	claim "every marketing message has List-Unsubscribe (https and mailto) and List-Unsubscribe-Post" \
	    unsub_headers_ok
	claim "the hot-lead alert (transactional) has none" \
	    test -z "$(header "$(sink_file hot-lead-alert rita@sink.test)" List-Unsubscribe)"

	stage "Summary"
	printf '    %-18s %s\n' template "messages in the sink (to whom)"
	for t in welcome welcome-2 welcome-3 followup-clicked cart-abandoned birthday trial-ending hot-lead-alert; do
		who=$(for f in $(pfx_sink_files); do
			[ "$(template_of "$f")" = "$t" ] &&
			    sed -n 's/^X-Rcpt-Args: <\([^@]*\)@.*/\1/p' "$f" | head -n 1
		done | tr '\n' ' ')
		printf '    %-18s %s  %s\n' "$t" "$(sink_count "$t")" "$who"
	done
	printf '    %-18s %s\n' "other" "$(sink_count other) (a newsletter, a reply, a receipt)"
	echo
	printf '    %-64s %s\n' stage checks
	echo "$STAGES" | while IFS= read -r _st; do
		[ -n "$_st" ] || continue
		_ok=$(echo "$SUMMARY" | awk -F '\t' -v s="$_st" '$1 == "ok" && $2 == s' | wc -l)
		_bad=$(echo "$SUMMARY" | awk -F '\t' -v s="$_st" '$1 == "FAILED" && $2 == s' | wc -l)
		[ $((_ok + _bad)) = 0 ] && continue
		if [ "$_bad" = 0 ]; then
			printf '    %-64s %s ok\n' "$_st" "$_ok"
		else
			printf '    %-64s %s ok, %s FAILED\n' "$_st" "$_ok" "$_bad"
		fi
	done
	[ -n "$FAILED_CLAIMS" ] && echo "$FAILED_CLAIMS"
	echo
	if [ $FAILS = 0 ]; then
		echo "demo: done: $CHECKS checks passed"
	else
		echo "demo: $FAILS of $CHECKS checks FAILED"
		exit 1
	fi
}

if [ "$(id -u)" != 0 ] || [ "${DEMO_STORE_ONLY:-0}" = 1 ]; then
	echo "demo: NOT ROOT: Postfix's master(8) runs only as root, so this runs the"
	echo "demo: store part alone. Run as root for the full demo (private Postfix,"
	echo "demo: postdrip-milter, postdrip-policyd, postdrip-engine, shipped workflows)."
	store_demo
	exit 0
fi
. "$top_srcdir/tests/lib/pfx.sh"
# pfx_require skips (exit 77) when Postfix is missing; the demo then
# falls back to the store part.
if ! (pfx_require) 2>/dev/null; then
	echo "demo: no usable Postfix here (see tests/lib/pfx.sh); store part only"
	store_demo
	exit 0
fi
full_setup
full_contacts
full_week1
full_week1b
full_week1c
full_trial
full_report
exit 0
