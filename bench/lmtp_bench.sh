#!/bin/sh
# lmtp_bench - bounces per second that Postfix delivers to postdrip-milter's
# LMTP receiver (each classified and recorded durably before its 250),
# against the same Postfix delivering the same bounces to discard:, in the
# same run.
#
# One private Postfix (tests/lib/pfx.sh). BENCH_MESSAGES DSNs (a real
# multipart/report to a VERP return path with a valid token, spread over
# BENCH_CONTACTS contacts) are queued
# for each destination on hold (an access map's HOLD), with smtp-source
# over 10 sessions. Then, per round, one destination's messages are
# released ("postsuper -H") and the clock runs until Postfix has logged
# status=sent for every message of that destination. The two destinations
# alternate first place from round to round, so that a burst of load from
# elsewhere hits both alike; the better round of each is kept. Prints the
# ratio first (target: at least 0.80), then bounces/s of each.
#
# Then the receiver alone, without Postfix's queue manager and lmtp(8):
# smtp-source speaks LMTP to the socket with 1 and with 10 sessions, N
# messages each; every one is answered only after its commit, so the
# rate is of durable records. Those figures tell what limits the ratio:
# when the receiver alone is far faster than Postfix's delivery, the
# rest is Postfix's own cost per delivery.
#
# Needs root (Postfix's master refuses to run otherwise) and the test
# helper tests/milter_fixture (make -C tests milter_fixture): exits 77 if
# not. Bounded: each wait stops after BENCH_TIMEOUT seconds (120).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

N=${BENCH_MESSAGES:-500}
ROUNDS=${BENCH_ROUNDS:-3}
TIMEOUT=${BENCH_TIMEOUT:-120}
CONTACTS=${BENCH_CONTACTS:-20}
POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
FIXTURE=$top_builddir/tests/milter_fixture
pfx_need_built "$POSTDRIP" "$MILTER" "$FIXTURE"
command -v smtp-source >/dev/null 2>&1 || pfx_skip "smtp-source is not installed"

pfx_init
D=$PFX_DIR
CONF=$D/postdrip.conf
LSOCK=$D/lmtp.sock
cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$D/milter.sock
lmtp_listen = unix:$LSOCK
bounce_domain = bounce.test
EOF
mkdir -p "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"
echo "mail_owner = postfix" >>"$CONF"
# Bounces are spread over BENCH_CONTACTS contacts, as real ones are: one
# contact with thousands of events would measure its timeline instead.
: >"$D/tokens"
i=1
while [ $i -le "$CONTACTS" ]; do
	set -- $("$FIXTURE" "$CONF" "bench$i@example.com" "bench$i@news.test") || pfx_fail "fixture"
	echo "${3%@bounce.test}" >>"$D/tokens"
	i=$((i + 1))
done
BOUNCE=$(head -n 1 "$D/tokens")@bounce.test
chown -R postfix "$D/pd"
"$MILTER" -f -c "$CONF" 2>"$D/milter.log" &
PD_PID=$!
pfx_on_exit "kill -TERM $PD_PID"
n=0
until [ -S "$LSOCK" ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || pfx_fail "the LMTP receiver does not listen"
	sleep 0.05
done

# The DSN: Postfix's own wording for a remote 550 5.1.1.
cat >"$D/dsn" <<EOF
From: MAILER-DAEMON@mx.example.org
To: $BOUNCE
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; bench@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <bench@example.com>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: news@news.test
To: bench@example.com
Message-ID: <bench1@news.test>
Subject: welcome

--B--
EOF

pfx_conf "relay_domains = bounce.test, discard.test" \
    "transport_maps = inline:{ bounce.test=lmtp:unix:$LSOCK, discard.test=discard: }" \
    "lmtp_send_xforward_command = yes" \
    "smtpd_recipient_restrictions = check_recipient_access inline:{ bounce.test=HOLD, discard.test=HOLD }" \
    "default_process_limit = 100" \
    "qmgr_message_active_limit = 100000" \
    "qmgr_message_recipient_limit = 100000"
pfx_start

now() { date +%s.%N; }

# sent TRANSPORT - deliveries Postfix logged for it
sent() {
	grep -c "/$1\[[0-9]*\]: .* status=sent " "$PFX_LOG" || true
}

# load - queue N bounces for each destination, on hold
load() {
	_per=$(((N + CONTACTS - 1) / CONTACTS))
	while read -r _tok; do
		smtp-source -s 2 -m "$_per" -f '' -t "$_tok@bounce.test" -F "$D/dsn" \
		    "127.0.0.1:$PFX_PORT" || pfx_fail "smtp-source to bounce.test"
		smtp-source -s 2 -m "$_per" -f '' -t "$_tok@discard.test" -F "$D/dsn" \
		    "127.0.0.1:$PFX_PORT" || pfx_fail "smtp-source to discard.test"
	done <"$D/tokens"
	_deadline=$(($(date +%s) + TIMEOUT))
	until [ "$(held_ids bounce.test | wc -l)" -ge "$N" ] &&
	    [ "$(held_ids discard.test | wc -l)" -ge "$N" ]; do
		[ "$(date +%s)" -lt "$_deadline" ] || pfx_fail "the bounces did not all reach the hold queue"
		sleep 0.2
	done
}

# held_ids DOMAIN - queue ids on hold for DOMAIN
held_ids() {
	postqueue -c "$PFX_ETC" -j | "$PFX_PYTHON" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("queue_name") == "hold" and any(
            r["address"].endswith("@" + sys.argv[1]) for r in m.get("recipients", [])):
        print(m["queue_id"])' "$1"
}

# release TRANSPORT DOMAIN - release DOMAIN's held bounces; prints the
# rate until TRANSPORT logged all of them sent, or "fail"
release() {
	_base=$(sent "$1")
	held_ids "$2" >"$D/ids"
	_t0=$(now)
	postsuper -c "$PFX_ETC" -H - <"$D/ids" 2>/dev/null
	_deadline=$(($(date +%s) + TIMEOUT))
	while [ "$(sent "$1")" -lt $((_base + N)) ]; do
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo fail
			return
		fi
		sleep 0.02
	done
	_t1=$(now)
	echo "$_t0 $_t1" | awk -v n="$N" '{ printf "%.0f\n", n / ($2 - $1) }'
}

best_lmtp=0 best_discard=0
r=1
while [ $r -le "$ROUNDS" ]; do
	load
	if [ $((r % 2)) = 1 ]; then
		l=$(release lmtp bounce.test)
		d=$(release discard discard.test)
	else
		d=$(release discard discard.test)
		l=$(release lmtp bounce.test)
	fi
	[ "$l" != fail ] || pfx_fail "LMTP: not all $N delivered within ${TIMEOUT}s"
	[ "$d" != fail ] || pfx_fail "discard: not all $N delivered within ${TIMEOUT}s"
	echo "round $r: lmtp $l/s, discard $d/s" >&2
	[ "$l" -gt "$best_lmtp" ] && best_lmtp=$l
	[ "$d" -gt "$best_discard" ] && best_discard=$d
	r=$((r + 1))
done
recorded=0
i=1
while [ $i -le "$CONTACTS" ]; do
	recorded=$((recorded + $("$POSTDRIP" -c "$CONF" timeline "bench$i@example.com" | grep -c '	bounced	')))
	i=$((i + 1))
done
[ "$recorded" -ge $((N * ROUNDS)) ] ||
    pfx_fail "only $recorded bounces recorded, want $((N * ROUNDS))"
# alone SESSIONS - bounces/s into the socket directly, or "fail"
alone() {
	_t0=$(now)
	timeout "$TIMEOUT" smtp-source -L -s "$1" -m "$N" -f '' -t "$BOUNCE" -F "$D/dsn" \
	    "unix:$LSOCK" || { echo fail; return; }
	_t1=$(now)
	echo "$_t0 $_t1" | awk -v n="$N" '{ printf "%.0f\n", n / ($2 - $1) }'
}
a1=$(alone 1)
a10=$(alone 10)
[ "$a1" != fail ] && [ "$a10" != fail ] || pfx_fail "smtp-source -L to the receiver failed"
echo "$best_lmtp $best_discard" | awk '{ printf "lmtp/discard ratio: %.2f (target >= 0.80)\n", $1 / $2 }'
echo "LMTP to postdrip (recorded durably): $best_lmtp bounces/s"
echo "discard:                              $best_discard bounces/s"
echo "receiver alone (smtp-source -L):     $a1 bounces/s on 1 connection, $a10 on 10"
echo "($N bounces a round over $CONTACTS contacts, $ROUNDS rounds, best round kept; $recorded bounced events recorded)"
