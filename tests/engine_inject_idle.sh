#!/bin/sh
# engine_inject_idle - postdrip-engine as a daemon, injecting into a
# private Postfix over connections it keeps between sends:
#  1. an idle connection is closed after inject_idle_timeout, so a send
#     after "postfix reload" meets an smtpd with the new settings (here a
#     recipient restriction that refuses bob at RCPT, which is then a hard
#     bounce: bob is suppressed and his enrolment exits);
#  2. with the idle limit off, a connection that smtpd ended on its own
#     timeout (smtpd_timeout, 421) costs no deferral: the next send goes
#     out at once on a fresh connection.
# Checked on the engine's log, Postfix's log, "postdrip stats", the
# timeline and "postdrip suppressed".

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"

pfx_require
pfx_init
pfx_start

PD_DIR=$PFX_DIR/pd
mkdir -p "$PD_DIR/data" "$PD_DIR/workflows" "$PD_DIR/templates"
conf() {
	cat >"$PD_DIR/postdrip.conf" <<EOF
data_directory = $PD_DIR/data
workflow_directory = $PD_DIR/workflows
template_directory = $PD_DIR/templates
token_key_file = $PD_DIR/keys
inject_address = 127.0.0.1:$PFX_PORT
inject_connections = 1
inject_idle_timeout = $1
bounce_domain = bounce.test
tracker_url = https://track.test
EOF
}
conf 1s
PD="$top_builddir/cli/postdrip -c $PD_DIR/postdrip.conf"
printf 'workflow: ping\ntrigger:\n  event: ping\nreentry: always\nsteps:\n  - send: hello\n  - add_tag: after_send\n' \
    >"$PD_DIR/workflows/ping.yaml"
printf 'From: Acme <news@acme.test>\nSubject: hello\n\nHello.\n' >"$PD_DIR/templates/hello.tmpl"
$PD keygen >/dev/null || pfx_fail "keygen"
$PD check || pfx_fail "postdrip check"
$PD contact add ann@sink.test >/dev/null || pfx_fail "contact add"
$PD contact add bob@sink.test >/dev/null || pfx_fail "contact add"

LOG=$PD_DIR/engine.log
"$top_builddir/engine/postdrip-engine" -c "$PD_DIR/postdrip.conf" -f 2>"$LOG" &
engine=$!
pfx_on_exit "kill $engine 2>/dev/null"

# wait_count PATTERN N - until the engine's log has N lines matching (20 s)
wait_count() {
	i=0
	while [ "$(grep -c "$1" "$LOG")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 400 ] || { cat "$LOG" >&2; pfx_fail "fewer than $2 '$1' lines in the engine's log"; }
		kill -0 $engine 2>/dev/null || { cat "$LOG" >&2; pfx_fail "the engine died"; }
		sleep 0.05
	done
}
# stat NAME - a line of "postdrip stats"
stat() {
	$PD stats | awk -F'\t' -v n="$1" '$1 == n { print $2 }'
}

pfx_wait_listen "$PFX_PORT" || pfx_fail "smtpd"
$PD event ann@sink.test ping || pfx_fail "event"
wait_count ' sent: contact=' 1

# 1. postfix reload: bob becomes unknown. The engine's connection is
# still open to an smtpd of the old settings; it must not be used again.
pfx_conf 'smtpd_recipient_restrictions = check_recipient_access inline:{{bob@sink.test = 550 5.1.1 User unknown}}, permit_mynetworks, reject_unauth_destination'
pfx_reload || pfx_fail "postfix reload"
# The engine ends the idle connection itself, with QUIT.
pfx_wait_log 'disconnect from .*quit=1' 20 || pfx_fail "the idle injection connection was not closed with QUIT"
$PD event bob@sink.test ping || pfx_fail "event"
wait_count ' refused: contact=' 1
wait_count 'bounced: contact=.* to=<bob@sink.test>' 1
grep -q 'bounced: contact=.* to=<bob@sink.test> .*status=5.1.1 class=hard reason=userunknown suppressed=hardbounce' "$LOG" ||
    { cat "$LOG" >&2; pfx_fail "the refusal was not recorded as a hard bounce"; }
grep -q 'exited: contact=.* to=<bob@sink.test> .*reason=bounced' "$LOG" ||
    { cat "$LOG" >&2; pfx_fail "bob's enrolment did not exit on the hard bounce"; }
$PD suppressed | grep -q '^bob@sink.test.*hardbounce' || pfx_fail "bob is not suppressed: $($PD suppressed)"
$PD timeline bob@sink.test >"$PD_DIR/bob.tl"
grep -q '	send_refused	' "$PD_DIR/bob.tl" || pfx_fail "no send_refused in bob's timeline"
grep -q '	bounced	.*class=hard' "$PD_DIR/bob.tl" || pfx_fail "no hard bounced event in bob's timeline"
grep -q '	workflow_exited	.*reason=bounced' "$PD_DIR/bob.tl" || pfx_fail "bob's enrolment did not exit"
grep -q 'tag_added' "$PD_DIR/bob.tl" && pfx_fail "bob's workflow went on after the hard bounce"
[ "$(stat refused)" = 1 ] || pfx_fail "stats: refused $(stat refused), want 1"

# 2. smtpd ends an idle session on its own timeout; the engine keeps its
# connections (idle limit off) and must not pay for it with a deferral.
pfx_conf 'smtpd_timeout = 2s'
pfx_reload || pfx_fail "postfix reload"
conf 0
kill -HUP $engine
wait_count 'reloaded: ' 1
$PD event ann@sink.test ping || pfx_fail "event"
wait_count ' sent: contact=' 2
pfx_wait_log 'timeout after' 20 || pfx_fail "smtpd did not time out"
$PD event ann@sink.test ping || pfx_fail "event"
wait_count ' sent: contact=' 3
grep -q 'deferred: contact=' "$LOG" && { cat "$LOG" >&2; pfx_fail "a send was deferred"; }
[ "$(stat injected)" = 3 ] || pfx_fail "stats: injected $(stat injected), want 3"
[ "$(stat deferred)" = 0 ] || pfx_fail "stats: deferred $(stat deferred), want 0"
pfx_wait_delivered 3 || pfx_fail "three messages to ann were not delivered"
echo "ok: idle connection closed before a send after postfix reload (refused, hard bounce); no deferral after smtpd_timeout"
exit 0
