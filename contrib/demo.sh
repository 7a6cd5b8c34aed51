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
#	postdrip-policyd (check_policy_service at RCPT and END-OF-DATA),
#	postdrip-milter's LMTP receiver, to which Postfix delivers the bounce
#	domain (its own DSNs, replies to reply+TOKEN), and postdrip-engine,
#	whose HTTP tracker listens on 127.0.0.1 (tracker_listen) and is the
#	tracker_url of the mail. One generated DEMO.conf points
#	workflow_directory and template_directory at the shipped
#	conf/workflows and conf/templates.
#
#	Then it walks two simulated weeks of March 2026 with POSTDRIP_NOW
#	(nothing sleeps for the story's time; the daemons are restarted at
#	each new time so that they share the engine's clock, and the engine
#	runs with --once, or as the daemon that serves the tracker when the
#	story needs HTTP): contacts from CSV; the welcome series in each
#	contact's time zone; the milter's VERP return path, List-Unsubscribe,
#	tracked links and open pixel on the mail delivered; a hard bounce
#	made by Postfix reaching postdrip by LMTP; an open by a person's
#	browser and one by Apple's privacy proxy (a machine's); a click on
#	the pricing link, its URL read from the delivered mail, and the
#	follow-up it starts (held back a day by the frequency cap); a
#	scanner clicking every link of a mail (labelled, no workflow runs);
#	a purchase that ends a cart reminder; a one-click unsubscribe POST
#	(RFC 8058) and the policy daemon refusing marketing mail to that
#	address while a receipt passes; a reply forwarded to the contact's
#	owner that makes a hot lead; a birthday; a trial ending. Last it
#	writes "postdrip report --html" and checks its numbers.
#
#	It prints a few lines per stage: what reached the sink, what was
#	asked over HTTP and SMTP and what came back, and each claim as
#	"[ok]" or "[FAILED]"; every claim is checked. DEMO_VERBOSE=1 adds the
#	configuration, the commands and the daemons' decisions.
#
#	The report is written to DEMO_REPORT (default
#	postdrip-demo-report.html in the current directory) and kept.
#	Everything started is stopped at exit, by process id; the work
#	directory is removed unless DEMO_KEEP=1.
#
#	Without root (or without Postfix) it says so and runs only the
#	store part: the command line on a fresh store.
# DIAGNOSTICS
#	Exit 0 when every stage did what it says; otherwise "demo: FAILED:"
#	names the claim that did not hold, and the exit status is 1. The
#	last lines say where the report is and how long the demo took.
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
# workflows over simulated weeks, the tracker over real HTTP.

NOW=
MILTER_PID=
POLICYD_PID=
ENGINE_PID=
# A person's browser, Apple Mail Privacy Protection's image proxy, and a
# link scanner of a mail security gateway.
BROWSER_UA='Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0'
APPLE_MPP_UA='Mozilla/5.0'
SCANNER_UA='Mozilla/5.0 (compatible; Barracuda Sentinel (EE))'

# v - a detail, shown with DEMO_VERBOSE=1
v() {
	[ "${DEMO_VERBOSE:-0}" = 1 ] && echo "$*"
	return 0
}

# vlog - details from a log on stdin, shown with DEMO_VERBOSE=1
vlog() {
	if [ "${DEMO_VERBOSE:-0}" = 1 ]; then
		sed "s/^/    $1: /" | short | cut -c1-160
	else
		cat >/dev/null
	fi
}

# daemons_stop - stop the milter and the policy daemon (by pid)
daemons_stop() {
	web_stop
	# Both at once; then wait for each.
	[ -n "$POLICYD_PID" ] && kill -TERM "$POLICYD_PID" 2>/dev/null
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
		if [ $_n -gt 400 ] || ! pfx_alive "$MILTER_PID" || ! pfx_alive "$POLICYD_PID"; then
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

# web_start - postdrip-engine as a daemon at time $NOW: the HTTP tracker
# (it also runs the work due, like --once, every second)
web_start() {
	echo "--- POSTDRIP_NOW=$NOW (daemon)" >>"$DEMO/engine.log"
	POSTDRIP_NOW=$NOW "$ENGINE" -f -c "$CONF" 2>>"$DEMO/engine.log" &
	ENGINE_PID=$!
	_n=0
	until curl -s --max-time 2 "$TRACKER/healthz" 2>/dev/null | grep -q ok; do
		_n=$((_n + 1))
		if [ $_n -gt 400 ] || ! pfx_alive "$ENGINE_PID"; then
			tail -n 20 "$DEMO/engine.log" >&2
			echo "demo: FAILED: postdrip-engine's tracker did not start" >&2
			exit 1
		fi
		sleep 0.05
	done
	v "    (postdrip-engine pid $ENGINE_PID serves the tracker at $TRACKER)"
}

# web_stop - stop the engine daemon (by pid): it ends the round under way
web_stop() {
	[ -n "$ENGINE_PID" ] && pfx_kill "$ENGINE_PID" 10
	ENGINE_PID=
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
	show_sink
	NOW=$1
	daemons_stop
	daemons_start
	case $NOW in
	*:00Z)	_fmt='%a %d %b %H:%M' ;;
	*)	_fmt='%a %d %b %H:%M:%S' ;;
	esac
	echo "  [$(date -u -d "$NOW" "+$_fmt") UTC]"
}

# pdn - postdrip at the story's time
pdn() {
	v "\$ postdrip $*"
	POSTDRIP_NOW=$NOW "$POSTDRIP" -c "$CONF" "$@" ||
	    { echo "demo: postdrip $* failed" >&2; exit 1; }
}

# engine - postdrip-engine --once at the story's time, then show what
# reached the sink since the last look
engine() {
	v "\$ POSTDRIP_NOW=$NOW postdrip-engine --once"
	echo "--- POSTDRIP_NOW=$NOW" >>"$DEMO/engine.log"
	POSTDRIP_NOW=$NOW "$ENGINE" -c "$CONF" --once 2>>"$DEMO/engine.log" ||
	    { tail -n 20 "$DEMO/engine.log" >&2; echo "demo: FAILED: postdrip-engine --once" >&2; exit 1; }
	# What this run decided, from its log.
	sed -n '/^--- POSTDRIP_NOW='"$NOW"'$/,$p' "$DEMO/engine.log" |
	    grep -E ': (delayed|exited|branch|timeout|completed): ' |
	    sed -e 's/^.*postdrip-engine[^:]*: //' | human_until | vlog engine
	settle
	show_sink
}

# mail_info FILE... - per sink file, tab-separated: file, 1 when the
# engine or a marketing sender made it (postdrip-milter added Feedback-ID),
# the envelope recipient, Subject (X-Postdrip-Workflow stays on
# transactional mail)
mail_info() {
	"$PFX_PYTHON" - "$@" <<'EOF'
import email, email.policy, re, sys
for f in sys.argv[1:]:
    with open(f, "rb") as fp:
        m = email.message_from_binary_file(fp, policy=email.policy.default)
    rcpt = re.sub(r"^<([^>]*)>.*", r"\1", str(m.get("X-Rcpt-Args", "")))
    ours = 1 if m.get("Feedback-ID") or m.get("X-Postdrip-Workflow") else 0
    subj = " ".join(str(m.get("Subject", "")).split())
    print("%s\t%d\t%s\t%s" % (f, ours, rcpt, subj))
EOF
}

# mail_urls FILE - the links (a URL) and images (img URL) of a sink
# file's HTML part, decoded as a mail reader would
mail_urls() {
	"$PFX_PYTHON" - "$1" <<'EOF'
import email, email.policy, html.parser, sys
with open(sys.argv[1], "rb") as fp:
    m = email.message_from_binary_file(fp, policy=email.policy.default)
class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            print("a", a["href"])
        elif tag == "img" and a.get("src"):
            print("img", a["src"])
for part in m.walk():
    if part.get_content_type() == "text/html":
        P().feed(part.get_content())
EOF
}

# template_of SUBJECT - which shipped template made a message (by Subject)
template_of() {
	case $1 in
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

# show_sink - index and print the sink files that arrived since the last
# call ($DEMO/sink.idx: template, recipient, file, Subject)
SINK_SEEN=0
show_sink() {
	_new=$(pfx_sink_files | tail -n +$((SINK_SEEN + 1)))
	[ -n "$_new" ] || return 0
	# shellcheck disable=SC2086
	mail_info $_new >"$DEMO/sink.new"
	while IFS='	' read -r _f _ours _rcpt _subj; do
		SINK_SEEN=$((SINK_SEEN + 1))
		# Only the engine's mail: a reply quotes a subject, too.
		if [ "$_ours" = 1 ]; then
			_t=$(template_of "$_subj")
		else
			_t=other
		fi
		printf '%s\t%s\t%s\t%s\n' "$_t" "$_rcpt" "$_f" "$_subj" >>"$DEMO/sink.idx"
		printf '    delivered: %-17s to %-17s "%s"\n' "$_t" "$_rcpt" "$_subj"
	done <"$DEMO/sink.new"
}

# sink_count TEMPLATE [RCPT] - how many sink files that template made
sink_count() {
	awk -F '\t' -v t="$1" -v r="${2:-}" '$1 == t && (r == "" || $2 == r) { n++ } END { print n + 0 }' \
	    "$DEMO/sink.idx"
}

# sink_count_subject RCPT SUBJECT - how many sink files to RCPT have that Subject
sink_count_subject() {
	awk -F '\t' -v r="$1" -v s="$2" '$2 == r && $4 == s { n++ } END { print n + 0 }' "$DEMO/sink.idx"
}

# sink_file TEMPLATE RCPT - the last sink file of that template to RCPT
sink_file() {
	awk -F '\t' -v t="$1" -v r="$2" '$1 == t && $2 == r { f = $3 } END { print f }' "$DEMO/sink.idx"
}

# is N COMMAND... - does the command print N?
is() {
	_want=$1
	shift
	[ "$("$@")" = "$_want" ]
}

# unsub_headers_ok - the engine's marketing mail carries both unsubscribe ways
unsub_headers_ok() {
	for _f in $(awk -F '\t' '$1 != "other" && $1 != "hot-lead-alert" { print $3 }' "$DEMO/sink.idx"); do
		header "$_f" List-Unsubscribe | grep -Eq \
		    "^<$TRACKER_RE/u/[a-z2-7]+>, *<mailto:unsubscribe\\+[a-z2-7]+@bounce\\.example\\.com>\$" ||
		    { echo "    $_f: List-Unsubscribe: $(header "$_f" List-Unsubscribe)"; return 1; }
		[ "$(header "$_f" List-Unsubscribe-Post)" = "List-Unsubscribe=One-Click" ] ||
		    { echo "    $_f: no List-Unsubscribe-Post"; return 1; }
	done
	return 0
}

# tracked_ok FILE - postdrip-milter's work on a marketing message: a VERP
# return path, every http link through the tracker, an open pixel, no
# X-Postdrip- field left
tracked_ok() {
	grep -Eq '^X-Mail-Args: <bounces\+[a-z2-7]+@bounce\.example\.com>' "$1" ||
	    { echo "    no VERP return path: $(grep '^X-Mail-Args' "$1")"; return 1; }
	sed -n '/^$/q; p' "$1" | grep -qi '^X-Postdrip-' &&
	    { echo "    an X-Postdrip- field is left"; return 1; }
	mail_urls "$1" >"$DEMO/urls"
	grep -q "^img $TRACKER/o/" "$DEMO/urls" || { echo "    no open pixel"; return 1; }
	_nc=$(grep -c "^a $TRACKER/c/" "$DEMO/urls")
	[ "$_nc" -ge 4 ] || { echo "    $_nc tracked links"; return 1; }
	# Only the unsubscribe link is left as it was (it is the tracker's).
	if grep '^a http' "$DEMO/urls" | grep -v "^a $TRACKER/[cu]/" | grep -q .; then
		echo "    links not rewritten:"
		grep '^a http' "$DEMO/urls" | grep -v "^a $TRACKER/[cu]/" | sed 's/^/      /'
		return 1
	fi
	return 0
}

# link_of FILE NAME - the tracked URL of the link named NAME in a sink file
link_of() {
	mail_urls "$1" | sed -n "s|^a \\($TRACKER/c/[^ ]*[?&]l=$2&.*\\)|\\1|p" | head -n 1
}

# http ARGS... - curl: the answer code and where it redirects
http() {
	curl -s -o /dev/null --max-time 10 -w '%{http_code} %{redirect_url}' "$@"  </dev/null
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

# count_events ADDRESS REGEX - how many lines of the timeline match
count_events() {
	"$POSTDRIP" -c "$CONF" timeline "$1" 2>/dev/null | grep -Ec -- "$2"
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

# smtp_reply TRANSCRIPT - the server's last refusal in a swaks transcript
smtp_reply() {
	echo "$1" | sed -n 's/^ *<\*\* *//p' | tail -n 1
}

full_setup() {
	stage "Setting up: a private Postfix on 127.0.0.1, smtp-sink as the Internet, the postdrip daemons"
	pfx_init
	[ "${DEMO_KEEP:-0}" = 1 ] && PFX_KEEP=1
	command -v curl >/dev/null 2>&1 || pfx_fail "curl is not installed (Debian package curl)"
	DEMO=$PFX_DIR/demo
	CONF=$DEMO/DEMO.conf
	mkdir -p "$DEMO/data"
	: >"$DEMO/sink.idx"
	INJECT_PORT=$(pfx_free_port) || pfx_fail "no free port"
	TRACKER_PORT=$(pfx_free_port) || pfx_fail "no free port"
	TRACKER=http://127.0.0.1:$TRACKER_PORT
	TRACKER_RE="http://127\\.0\\.0\\.1:$TRACKER_PORT"
	cat >"$CONF" <<EOF
# DEMO.conf - postdrip.conf for the demo: the shipped workflows and
# templates, sockets in the demo directory, the private Postfix's ports,
# the tracker on loopback (no TLS: nginx would be in front of it).
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
tracker_listen = inet:127.0.0.1:$TRACKER_PORT
tracker_url = $TRACKER
reply_forward_owner = no
mail_owner = postfix
EOF
	v "$(cat "$CONF")"
	"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "postdrip keygen"
	claim "postdrip check: the configuration, the shipped workflows and templates" \
	    sh -c '"$1" -c "$2" check >"$3/check.out" 2>&1' sh "$POSTDRIP" "$CONF" "$DEMO"
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
	postconf -c "$PFX_ETC" -n smtpd_milters non_smtpd_milters \
	    smtpd_recipient_restrictions smtpd_end_of_data_restrictions \
	    relay_domains transport_maps | vlog main.cf
	NOW=2026-03-02T08:55:00Z
	daemons_start
	pfx_start
	pfx_wait_listen "$INJECT_PORT" || pfx_fail "the engine's smtpd does not listen"
	say "Postfix on 127.0.0.1:$PFX_PORT, and :$INJECT_PORT for postdrip-engine; smtp-sink on :$PFX_SINK_PORT"
	say "postdrip-milter (milter, and LMTP for bounce.example.com), postdrip-policyd; the tracker: $TRACKER"
	say "work directory $PFX_DIR (removed at exit; DEMO_KEEP=1 keeps it)"
	say "the shipped workflows: $("$POSTDRIP" -c "$CONF" workflows | awk '{ printf "%s%s", s, $1; s = ", " }')"
}

full_contacts() {
	stage "Mon 2 Mar: contacts from a CSV file"
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
	v "$(cat "$DEMO/contacts.csv")"
	POSTDRIP_NOW=$NOW "$POSTDRIP" -c "$CONF" contact import "$DEMO/contacts.csv" 2>&1 |
	    sed -e 's|^.*/||' -e 's/^/    /'
	claim "7 contacts (Ann and Bob's owner is Rita, a sales rep); the malformed row skipped" \
	    is 7 sh -c "\"$POSTDRIP\" -c \"$CONF\" stats | awk '\$1 == \"contacts\" { print \$2 }'"
}

full_welcome() {
	stage "Mon 2 Mar, 09:00 UTC: three subscribe, a trial starts, two carts are left"
	at 2026-03-02T09:00:00Z
	pdn event ann@sink.test subscribed source=website
	pdn event bob@sink.test subscribed source=webinar
	pdn event ghost@local.test subscribed source=fair
	pdn event carol@sink.test trial_started
	pdn event dave@sink.test cart_abandoned cart=C-17
	pdn event erin@sink.test cart_abandoned cart=C-18
	engine
	claim "welcome to Ann (10:00 in Berlin) and Carol; Bob's waits (04:00 in New York)" \
	    test "$(sink_count welcome ann@sink.test)$(sink_count welcome carol@sink.test)$(sink_count welcome bob@sink.test)" = 110
	claim "the engine held Bob's welcome for his send window" \
	    grep -q "delayed: .*to=<bob@sink.test> workflow=welcome .*reason=send window" "$DEMO/engine.log"
	ANN_WELCOME=$(sink_file welcome ann@sink.test)
	say "Ann's welcome as it left: $(header "$ANN_WELCOME" List-Unsubscribe | short)"
	claim "postdrip-milter: VERP return path, links through the tracker, open pixel, no X-Postdrip- field" \
	    tracked_ok "$ANN_WELCOME"
	claim "List-Unsubscribe (the tracker and a mailto) with List-Unsubscribe-Post: One-Click" \
	    unsub_headers_ok

	stage "Postfix bounces ghost@local.test (unknown user); the DSN reaches postdrip by LMTP"
	claim "Postfix made the bounce (5.1.1) of the welcome to Gus" \
	    pfx_wait_log 'to=<ghost@local.test>.*dsn=5\.1\.1, status=bounced' 20
	claim "Postfix delivered the DSN to the LMTP receiver, which answered after its commit" \
	    pfx_wait_log 'to=<bounces\+[^>]*@bounce\.example\.com>, relay=[^,]*lmtp\.sock\].*status=sent \(250 2\.0\.0 .*Ok: bounced\)' 20
	claim "Gus: a hard bounce (userunknown), tied to the send by the VERP token" \
	    wait_event ghost@local.test 'bounced.*tie=token.*class=hard reason=userunknown'
	claim "Gus is suppressed (hardbounce)" test "$(suppressed_as ghost@local.test)" = hardbounce
}

full_tracker() {
	stage "Mon 10:30: Ann opens her welcome and clicks the pricing link; Apple Mail fetches Carol's"
	at 2026-03-02T10:30:00Z
	web_start
	CAROL_WELCOME=$(sink_file welcome carol@sink.test)
	ann_pixel=$(mail_urls "$ANN_WELCOME" | sed -n "s|^img \\($TRACKER/o/.*\\)|\\1|p" | head -n 1)
	carol_pixel=$(mail_urls "$CAROL_WELCOME" | sed -n "s|^img \\($TRACKER/o/.*\\)|\\1|p" | head -n 1)
	pricing=$(link_of "$ANN_WELCOME" pricing)
	say "from Ann's welcome in the sink: $(echo "$pricing" | short | cut -c1-100)..."
	r=$(http -A "$BROWSER_UA" "$ann_pixel")
	say "Ann's browser loads the pixel: HTTP $r"
	r=$(http -A "$APPLE_MPP_UA" "$carol_pixel")
	say "Apple's privacy proxy loads Carol's pixel (User-Agent \"$APPLE_MPP_UA\"): HTTP $r"
	r=$(http -A "$BROWSER_UA" "$pricing")
	say "Ann clicks \"compare the plans\": HTTP $r"
	claim "the click redirects to the link's own URL" test "$r" = "302 https://example.com/pricing"
	claim "Ann's open is a person's (machine=false)" wait_event ann@sink.test '	opened	.*machine=false'
	claim "Carol's open is labelled a machine's (apple-mpp), not counted as hers" \
	    wait_event carol@sink.test '	opened	.*machine=true.*machine_reason=apple-mpp'
	claim "the click is recorded with the link's name (pricing), a person's" \
	    wait_event ann@sink.test '	clicked	.*link=pricing.*machine=false'
	claim "it enrols Ann in followup-clicked (+10 score, tag interested-pricing)" \
	    wait_event ann@sink.test 'tag_added	tag=interested-pricing'
	web_stop
	pdn event dave@sink.test purchased order=A-1001 amount=49.00
	say "Dave buys (postdrip event dave@sink.test purchased)"

	at 2026-03-02T11:40:00Z
	engine
	claim "11:40: Ann's follow-up (due 11:30) is held by the frequency cap (1/1d)" \
	    grep -q "delayed: .*to=<ann@sink.test> workflow=followup-clicked .*reason=frequency cap" "$DEMO/engine.log"
	claim "Dave bought: the goal ended his cart workflow" has_event dave@sink.test 'workflow_(completed|exited).*workflow=cart'

	stage "Mon 13:30: the cart reminders are due (4 hours after)"
	at 2026-03-02T13:30:00Z
	engine
	claim "Erin gets the cart reminder" is 1 sink_count cart-abandoned erin@sink.test
	claim "Dave, who bought, gets none" is 0 sink_count cart-abandoned dave@sink.test
}

full_scanner() {
	stage "Mon 15:00: Bob's welcome (10:00 in New York); his mail gateway's scanner clicks every link"
	at 2026-03-02T15:00:00Z
	engine
	claim "Bob's welcome goes out in his morning" is 1 sink_count welcome bob@sink.test
	web_start
	f=$(sink_file welcome bob@sink.test)
	mail_urls "$f" | sed -n "s|^a \\($TRACKER/[cu]/.*\\)|\\1|p" >"$DEMO/urls"
	n=0
	while IFS= read -r u; do
		http -A "$SCANNER_UA" "$u" >/dev/null
		n=$((n + 1))
	done <"$DEMO/urls"
	say "the scanner followed $n links (the unsubscribe link too, by GET) as the message arrived"
	nc=$(mail_urls "$f" | grep -c "^a $TRACKER/c/")
	BOB_SCANNED=$nc
	claim "$nc clicks recorded, each labelled a machine's" \
	    sh -c 'i=0; while [ $i -lt 100 ]; do [ "$("$1" -c "$2" timeline bob@sink.test | grep "	clicked	" | grep -c "machine=true")" = "$3" ] && exit 0; sleep 0.1; i=$((i + 1)); done; exit 1' \
	    sh "$POSTDRIP" "$CONF" "$nc"
	claim "none counted as Bob's" is 0 count_events bob@sink.test '	clicked	.*machine=false'
	say "the labels: $("$POSTDRIP" -c "$CONF" timeline bob@sink.test | sed -n 's/.*	clicked	.*machine_reason=\([a-z-]*\).*/\1/p' | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
	claim "its GET of the unsubscribe link unsubscribed no one (a GET shows a page)" \
	    test -z "$(suppressed_as bob@sink.test)"
	web_stop
	engine
	claim "no branch taken: the pricing click enrolled Bob in no follow-up" \
	    is 0 count_events bob@sink.test 'workflow=followup-clicked'

	stage "Mon 15:00: a newsletter from news@news.example.com to Bob"
	out=$(pfx_swaks --from news@news.example.com --to bob@sink.test --header "Subject: March news" --body "news")
	say "Postfix: $(smtp_reply "$out")"
	claim "the policy daemon defers it: Bob had his one message today (450 4.7.1)" \
	    sh -c "echo \"\$1\" | grep -q '<\*\* *450 4.7.1 <bob@sink.test>: Recipient address rejected: frequency cap reached'" sh "$out"
}

full_tuesday() {
	stage "Tue 3 Mar: Ann's follow-up, a day late; Erin's last call; Bob's newsletter"
	at 2026-03-03T09:30:00Z
	engine
	claim "the frequency cap moved Ann's follow-up to Tuesday" is 1 sink_count followup-clicked ann@sink.test
	f=$(sink_file followup-clicked ann@sink.test)
	claim "the follow-up speaks of pricing (the link she clicked)" grep -q 'You looked at our plans' "$f"
	FOLLOWUP_MID=$(sed -n '/^$/q; s/^Message-I[dD]: *//p' "$f" | head -n 1)
	FOLLOWUP_REPLY_TO=$(sed -n '/^$/q; /^Reply-To:/{ s/.*<\(reply+[^>]*\)>.*/\1/p; s/^Reply-To: *\(reply+[^ ]*\)$/\1/p; }' "$f" | head -n 1)
	at 2026-03-03T13:35:00Z
	engine
	claim "Erin did not click: her last call a day later" is 2 sink_count cart-abandoned erin@sink.test

	at 2026-03-03T16:00:00Z
	out=$(pfx_swaks --from news@news.example.com --to bob@sink.test --header "Subject: March news" --body "news")
	say "the newsletter to Bob again: $(echo "$out" | grep -o 'queued as [0-9A-Z]*' | tail -n 1)"
	claim "a day later the policy daemon lets it through" \
	    sh -c "echo \"\$1\" | grep -q 'queued as'" sh "$out"
	settle
	show_sink

	stage "Tue 16:00: Erin's mail provider unsubscribes her with one click (RFC 8058)"
	f=$(sink_file cart-abandoned erin@sink.test)
	unsub=$(header "$f" List-Unsubscribe | sed -n 's/^<\([^>]*\)>.*/\1/p')
	web_start
	r=$(http -d "List-Unsubscribe=One-Click" "$unsub")
	say "POST $(echo "$unsub" | short) List-Unsubscribe=One-Click: HTTP $r"
	claim "the tracker answers 200 once the unsubscribe is committed" test "$r" = "200 "
	claim "Erin is suppressed (unsubscribed) at once" test "$(suppressed_as erin@sink.test)" = unsubscribed
	web_stop
	out=$(pfx_swaks --from news@news.example.com --to erin@sink.test --header "Subject: March news" --body "news")
	say "news@news.example.com to Erin: $(smtp_reply "$out")"
	claim "the policy daemon refuses marketing mail to her (550 5.7.1 recipient unsubscribed)" \
	    sh -c "echo \"\$1\" | grep -q '<\*\* *550 5.7.1 <erin@sink.test>: Recipient address rejected: recipient unsubscribed'" sh "$out"
	qid=$(pfx_send receipts@shop.example.com erin@sink.test --header "Subject: Your receipt A-1002" --body "Thank you for your order.")
	claim "her receipt from receipts@shop.example.com (transactional) passes" test -n "$qid"
	settle
	show_sink
	claim "and is delivered" is 1 sink_count_subject erin@sink.test "Your receipt A-1002"
}

full_reply() {
	stage "Wed 4 Mar: Ann replies to the follow-up; Rita, her owner, gets the reply and an alert"
	at 2026-03-04T08:00:00Z
	claim "the follow-up's Reply-To is a reply+TOKEN address on the bounce domain" \
	    test -n "$FOLLOWUP_REPLY_TO"
	out=$(pfx_swaks --from ann@sink.test --to "$FOLLOWUP_REPLY_TO" \
	    --header "Subject: Re: Ann, more on what you were looking at" \
	    --header "In-Reply-To: $FOLLOWUP_MID" --header "References: $FOLLOWUP_MID" \
	    --body "Sounds good, can we talk on Thursday?")
	claim "Postfix takes the reply for the bounce domain" sh -c "echo \"\$1\" | grep -q 'queued as'" sh "$out"
	claim "the LMTP receiver recorded Ann's reply (From is Ann, SPF passes)" \
	    wait_event ann@sink.test '	replied	.*spf=pass'
	claim "and forwarded it to Rita" pfx_wait_log 'to=<rita@sink.test>.*status=sent' 20
	engine
	claim "the reply ends Ann's follow-up (exit rule)" has_event ann@sink.test 'workflow_exited.*workflow=followup-clicked.*reason=replied'
	claim "Ann is a hot lead: Rita gets the alert" is 1 sink_count hot-lead-alert rita@sink.test
	claim "the forwarded reply reached Rita" \
	    sh -c 'grep -l "^X-Postdrip-Forwarded" $(awk -F "\t" "\$1 == \"other\" && \$2 == \"rita@sink.test\" { print \$3 }" "$1") | grep -q .' sh "$DEMO/sink.idx"
	at 2026-03-04T09:30:00Z
	engine
	claim "welcome-2 to Ann two days after the first" is 1 sink_count welcome-2 ann@sink.test
	claim "the welcome series ended for Gus: suppressed" has_event ghost@local.test 'workflow_exited.*workflow=welcome'
	at 2026-03-04T16:30:00Z
	engine
	claim "welcome-2 to Bob (after the cap: Tuesday's newsletter was at 16:00)" \
	    is 1 sink_count welcome-2 bob@sink.test
}

full_later() {
	stage "Fri 6 Mar: Bob's birthday (09:00 in New York)"
	at 2026-03-06T08:00:00Z
	engine
	claim "not before his morning" is 0 sink_count birthday
	at 2026-03-06T14:10:00Z
	engine
	claim "Bob gets the birthday greeting, nobody else" \
	    test "$(sink_count birthday bob@sink.test)$(sink_count birthday)" = 11

	stage "Sat 7 Mar: welcome-3 is due and waits for Monday"
	at 2026-03-07T10:00:00Z
	engine
	claim "nothing on Saturday" is 0 sink_count welcome-3
	at 2026-03-09T14:10:00Z
	engine
	claim "welcome-3 on Monday to Ann and Bob" \
	    test "$(sink_count welcome-3 ann@sink.test)$(sink_count welcome-3 bob@sink.test)" = 11

	stage "Tue 10 Mar and Fri 13 Mar: Carol's trial ends on Friday"
	at 2026-03-10T00:30:00Z
	engine
	f=$(sink_file trial-ending carol@sink.test)
	claim "Tuesday, 09:30 in Tokyo: 'Your Acme trial ends on 2026-03-13' (the date from the CSV)" \
	    test -n "$f" -a "$(header "$f" Subject)" = "Your Acme trial ends on 2026-03-13"
	at 2026-03-13T00:30:00Z
	engine
	claim "Friday, the trial's last day: a second reminder" is 2 sink_count trial-ending carol@sink.test
}

# rj EXPR - a value of the report's JSON (a Python expression over r,
# with wf(NAME) the workflow NAME and step(NAME, N) its step N)
rj() {
	"$PFX_PYTHON" - "$DEMO/report.json" "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def wf(n):
    return [w for w in r["workflows"] if w["workflow"] == n][0]
def step(n, i):
    return wf(n)["steps"][i - 1]
print(eval(sys.argv[2]))
EOF
}

# rj_is EXPR VALUE - is the report's EXPR VALUE? (says what it is if not)
rj_is() {
	_got=$(rj "$1")
	[ "$_got" = "$2" ] && return 0
	echo "    $1 is $_got, not $2"
	return 1
}

full_report() {
	settle
	show_sink
	daemons_stop
	stage "The report: postdrip report --html"
	REPORT=${DEMO_REPORT:-$(pwd)/postdrip-demo-report.html}
	case $REPORT in /*) ;; *) REPORT=$(pwd)/$REPORT ;; esac
	POSTDRIP_NOW=2026-03-13T12:00:00Z "$POSTDRIP" -c "$CONF" report --json >"$DEMO/report.json" ||
	    pfx_fail "postdrip report --json"
	rm -f "$REPORT"
	claim "postdrip report --html wrote the page" \
	    sh -c 'POSTDRIP_NOW=2026-03-13T12:00:00Z "$1" -c "$2" report --html "$3" && [ -s "$3" ]' sh "$POSTDRIP" "$CONF" "$REPORT"
	claim "self-contained: inline SVG, no outside assets" \
	    sh -c 'grep -q "<svg" "$1" && ! grep -Eiq "(src|href)=\"(https?:)?//" "$1"' sh "$REPORT"
	W='step("welcome", 1)'
	T='step("trial", 1)'
	claim "welcome, first mail: 3 sent, 1 hard bounce (userunknown), 2 delivered" \
	    rj_is "($W['sent'], $W['bounced_hard'], $W['bounce_reasons']['hard'], $W['delivered'])" \
	    "(3, 1, {'userunknown': 1}, 2)"
	claim "opens apart: Ann's a person's (welcome), Carol's a machine's (trial)" \
	    rj_is "($W['opens_human'], $W['opens_machine'], $T['opens_human'], $T['opens_machine'])" "(1, 0, 0, 1)"
	claim "clicks: pricing by Ann; Bob's scanner's clicks apart, as a scanner's" \
	    rj_is "($W['clicks_human'], $W['links']['pricing'].get('human'), $W['links']['pricing'].get('scanner'), $W['clicks_scanner'])" \
	    "(1, 1, 1, $BOB_SCANNED)"
	claim "cart: 2 enrolled, Dave's purchase the goal; Erin's unsubscribe counted" \
	    rj_is "(wf('cart')['enrolled'], wf('cart')['goals'], wf('cart')['totals']['unsubscribes'])" "(2, 1, 1)"
	claim "followup-clicked: Ann's reply, the exit it caused" \
	    rj_is "(wf('followup-clicked')['totals']['replies'], wf('followup-clicked')['exits'].get('replied'))" "(1, 1)"
	# Kept after exit: the work directory goes, the report stays.
	say "the HTML report: $REPORT"
	say "(one self-contained page: open it in a browser; the work directory is removed at exit)"

	stage "Over the whole run"
	claim "no sanitizer report (memory errors, leaks, undefined behaviour)" \
	    sanitizer_clean
	claim "no message went out twice (Message-IDs unique in the sink)" \
	    sh -c 'for f in $(ls "$1"); do sed -n "/^\$/q; s/^Message-I[dD]: //p" "$1/$f"; done | sort | uniq -d | grep -q . && exit 1; exit 0' sh "$PFX_SINK"
	claim "every marketing message has List-Unsubscribe (tracker and mailto) and List-Unsubscribe-Post" \
	    unsub_headers_ok
	claim "the hot-lead alert (transactional) has none" \
	    test -z "$(header "$(sink_file hot-lead-alert rita@sink.test)" List-Unsubscribe)"

	stage "Summary"
	for t in welcome welcome-2 welcome-3 followup-clicked cart-abandoned birthday trial-ending hot-lead-alert other; do
		who=$(awk -F '\t' -v t="$t" '$1 == t { sub(/@.*/, "", $2); printf "%s%s", s, $2; s = " " }' "$DEMO/sink.idx")
		printf '    %-17s %2s  %s\n' "$t" "$(sink_count "$t")" "$who"
	done | sed 's/^\(    other  *[0-9]*  .*\)$/\1  (newsletters, a receipt, a forwarded reply)/'
	say "$(wc -l <"$DEMO/sink.idx") messages delivered to smtp-sink; suppressed: $("$POSTDRIP" -c "$CONF" suppressed | awk '{ printf "%s%s (%s)", s, $1, $2; s = ", " }')"
	say "policy daemon: $(grep -c ': reject: ' "$DEMO/policyd.log") refused, $(grep -c ': defer: ' "$DEMO/policyd.log") deferred;" \
	    "milter: $(grep -c ': sent: ' "$DEMO/milter.log") sends recorded, $(grep -c ': bounced: ' "$DEMO/milter.log") bounce, $(grep -c ': replied: ' "$DEMO/milter.log") reply"
	say "tracker: $(rj "sum(w['totals']['opens_human'] for w in r['workflows'])") open and $(rj "sum(w['totals']['clicks_human'] for w in r['workflows'])") click by people," \
	    "$(rj "sum(w['totals']['opens_machine'] for w in r['workflows'])") machine open, $(rj "sum(w['totals']['clicks_scanner'] for w in r['workflows'])") scanner clicks," \
	    "$(rj "sum(w['totals']['unsubscribes'] for w in r['workflows'])") one-click unsubscribe"
	[ -n "$FAILED_CLAIMS" ] && echo "$FAILED_CLAIMS"
	echo
	echo "demo: the report is $REPORT"
	echo "demo: took $(($(date +%s) - DEMO_START)) s"
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
DEMO_START=$(date +%s)
full_setup
full_contacts
full_welcome
full_tracker
full_scanner
full_tuesday
full_reply
full_later
full_report
exit 0
