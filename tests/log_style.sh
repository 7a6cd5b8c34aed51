#!/bin/sh
# log_style - the lines people read: a short flow through a private Postfix
# with postdrip-milter, postdrip-policyd and postdrip-engine, then every
# line of the three daemons' logs and of the commands an administrator
# runs (contact show, timeline, queue, suppressed, stats) is checked:
#
#  - no time as epoch seconds (a bare 10-digit number): times are ISO 8601;
#  - every contact=N names the contact's address beside it
#    (contact=N address=<...>);
#  - the engine's line about an injected message starts with Postfix's
#    queue id, as Postfix's own lines about it do, and that id is the one
#    in Postfix's log for the delivery; a refusal starts NOQUEUE.
#
# The flow: Ann subscribes before her send window opens (delayed, until=
# in ISO 8601 on the window's wall clock, Paris, with its offset), gets the intro, clicks, takes the branch and gets the next
# step; Bob is enrolled and unsubscribes (exited); a marketing message
# from another sender to Bob is refused by the policy daemon (suppressed=).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/pfx.sh"

POSTDRIP=$top_builddir/cli/postdrip
ENGINE=$top_builddir/engine/postdrip-engine
MILTER=$top_builddir/milter/postdrip-milter
POLICYD=$top_builddir/policyd/postdrip-policyd
pfx_need_built "$POSTDRIP" "$ENGINE" "$MILTER" "$POLICYD"

pfx_require
pfx_init
D=$PFX_DIR/pd
mkdir -p "$D/data" "$D/workflows" "$D/templates"
INJECT_PORT=$(pfx_free_port) || pfx_fail "no free port"
POLICY_PORT=$(pfx_free_port) || pfx_fail "no free port"
cat >"$D/postdrip.conf" <<EOF
data_directory = $D/data
workflow_directory = $D/workflows
template_directory = $D/templates
token_key_file = $D/keys
milter_listen = unix:$D/milter.sock
policyd_listen = inet:127.0.0.1:$POLICY_PORT
inject_address = 127.0.0.1:$INJECT_PORT
marketing_senders = *@news.test
bounce_domain = bounce.test
tracker_url = https://track.test
mail_owner = postfix
EOF
cat >"$D/workflows/w.yaml" <<'EOF'
workflow: w
trigger:
  event: subscribed
send:
  days: mon-fri
  hours: "09:00-18:00"
  timezone: Europe/Paris
exit:
  - event: unsubscribed
steps:
  - send: intro
  - wait: 1d
  - if:
      clicked: pricing
    then:
      - send: pricing
EOF
for t in intro pricing; do
	printf 'From: Acme <news@acme.test>\nSubject: %s\n\nHello, the %s message.\n' \
	    "$t" "$t" >"$D/templates/$t.tmpl"
done
PD="$POSTDRIP -c $D/postdrip.conf"
$PD keygen >/dev/null || pfx_fail "keygen"
$PD stats >/dev/null || pfx_fail "cannot make the store"
chown -R postfix "$D/data" "$D/keys"

"$MILTER" -f -c "$D/postdrip.conf" 2>>"$D/milter.log" &
MILTER_PID=$!
pfx_on_exit "pfx_kill $MILTER_PID"
"$POLICYD" -f -c "$D/postdrip.conf" 2>>"$D/policyd.log" &
POLICYD_PID=$!
pfx_on_exit "pfx_kill $POLICYD_PID"
pfx_on_exit '[ "$_pfx_status" != 0 ] && tail -n 20 "$D"/*.log >&2'
pfx_wait_socket "$D/milter.sock" 10 || pfx_fail "postdrip-milter does not listen"
pfx_wait_listen "$POLICY_PORT" 10 || pfx_fail "postdrip-policyd does not listen"

policy="check_policy_service { inet:127.0.0.1:$POLICY_PORT, timeout=10s }"
pfx_conf "smtpd_milters = { unix:$D/milter.sock, default_action=accept }" \
    "milter_protocol = 6" \
    "milter_end_of_data_macros = i" \
    "smtpd_recipient_restrictions = $policy" \
    "smtpd_end_of_data_restrictions = $policy"
pfx_master "127.0.0.1:$INJECT_PORT inet n - n - - smtpd -o syslog_name=postfix/postdrip"
pfx_start
pfx_wait_listen "$INJECT_PORT" 10 || pfx_fail "the engine's smtpd does not listen"

engine() {
	POSTDRIP_NOW=$1 "$ENGINE" -c "$D/postdrip.conf" --once 2>>"$D/engine.log" ||
	    pfx_fail "engine --once at $1"
}

# Monday 2 March 2026, 07:00 UTC: 08:00 in Paris, before the window.
export POSTDRIP_NOW=2026-03-02T07:00:00Z
$PD contact add ann@sink.test first_name=Ann >/dev/null || pfx_fail "contact add"
$PD contact add bob@sink.test first_name=Bob >/dev/null || pfx_fail "contact add"
engine 2026-03-02T07:00:05Z
grep -q 'delayed: .* reason=send window until=2026-03-02T09:00:00+01:00$' "$D/engine.log" ||
    pfx_fail "no delay logged in the contact's zone: $(cat "$D/engine.log")"
engine 2026-03-02T08:00:05Z
pfx_wait_delivered 2 20 || pfx_fail "the intros were not delivered"
POSTDRIP_NOW=2026-03-02T10:00:00Z $PD event ann@sink.test clicked link=pricing ||
    pfx_fail "event"
POSTDRIP_NOW=2026-03-02T10:00:00Z $PD event bob@sink.test unsubscribed ||
    pfx_fail "event"
POSTDRIP_NOW=2026-03-02T10:00:00Z $PD suppress bob@sink.test --reason unsubscribed >/dev/null ||
    pfx_fail "suppress"
engine 2026-03-02T10:00:01Z
engine 2026-03-03T08:00:05Z
pfx_wait_delivered 3 20 || pfx_fail "the pricing step was not delivered"
pfx_swaks --from offers@news.test --to bob@sink.test >/dev/null 2>&1
n=0
until grep -q 'NOQUEUE: reject: .*suppressed=' "$D/policyd.log"; do
	n=$((n + 1))
	[ $n -gt 100 ] && pfx_fail "postdrip-policyd did not refuse Bob"
	sleep 0.1
done

# What the administrator reads.
for c in "contact show ann@sink.test" "contact show bob@sink.test" \
    "timeline ann@sink.test" "timeline bob@sink.test" queue suppressed stats; do
	echo "\$ postdrip $c"
	$PD $c 2>&1 || pfx_fail "postdrip $c"
done >"$D/commands.out"

# 1. No epoch seconds anywhere.
for f in "$D/engine.log" "$D/milter.log" "$D/policyd.log" "$D/commands.out"; do
	if grep -En '(^|[^0-9A-Za-z.])[0-9]{10}([^0-9A-Za-z.]|$)' "$f" >"$D/bad"; then
		cat "$D/bad" >&2
		pfx_fail "$(basename "$f"): a time in epoch seconds"
	fi
done

# 2. Every contact=N names the address; and there are such lines to check.
cat "$D/engine.log" "$D/milter.log" "$D/policyd.log" >"$D/all.log"
if grep -En 'contact=[0-9]+' "$D/all.log" |
    grep -Ev 'contact=0 address=<>|contact=[1-9][0-9]* address=<[^>@]+@[^>]+>' >"$D/bad"; then
	cat "$D/bad" >&2
	pfx_fail "a contact id without the contact's address"
fi
for what in enrolled delayed sent exited branch; do
	grep -Eq "$what: .*contact=[0-9]+ address=<[a-z]+@sink.test>" "$D/engine.log" ||
	    pfx_fail "no '$what' line naming a contact to check"
done
grep -Eq 'sent: .*contact=[0-9]+ address=<ann@sink.test>' "$D/milter.log" ||
    pfx_fail "no milter 'sent' line naming the contact"
grep -q '"created": "2026-03-02T07:00:00Z"' "$D/commands.out" ||
    pfx_fail "contact show: created is not ISO 8601"

# 3. Queue ids where Postfix's lines have them.
n=0
for qid in $(sed -n 's/.*postdrip-engine: \([0-9A-Za-z]*\): sent: .*queued as \([0-9A-Za-z]*\)$/\1 \2/p' \
    "$D/engine.log" | awk '$1 == $2 { print $1 }'); do
	pfx_wait_log "$qid: to=<[a-z]*@sink.test>.*status=sent" 10 ||
	    pfx_fail "queue id $qid of the engine's log is not in Postfix's"
	n=$((n + 1))
done
[ "$n" = 3 ] || { cat "$D/engine.log" >&2; pfx_fail "$n sent lines start with their queue id, want 3"; }
echo "ok: $(wc -l <"$D/all.log") log lines and $(wc -l <"$D/commands.out") lines of output checked"
exit 0
