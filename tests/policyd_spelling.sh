#!/bin/sh
# policyd_spelling - a suppressed address is refused in every spelling that
# a real Postfix delivers to it: v@sink.test suppressed, marketing mail to
# v@sink.test., v@SINK.TEST., "v"@sink.test, v%sink.test@local.test
# (allow_percent_hack) and sink.test!v@local.test (swap_bangpath) is
# refused at RCPT, while transactional mail to a spelling is delivered
# (the check is the suppression, not the syntax). "postdrip suppress" of
# another spelling suppresses the same address. With swap_bangpath = no in
# postdrip.conf, as in main.cf, the bang path is a different address.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

policyd="$top_builddir/policyd/postdrip-policyd"
postdrip="$top_builddir/cli/postdrip"
[ -x "$policyd" ] || pfx_fail "$policyd not built"

pfx_init
PD_PORT=$(pfx_free_port) || pfx_fail "no free port"
PD=$PFX_DIR/postdrip
mkdir -p "$PD/data"
chown postfix "$PD/data"
cat > "$PD/postdrip.conf" <<EOF
data_directory = $PD/data
policyd_listen = inet:127.0.0.1:$PD_PORT
marketing_senders = *@news.test
mail_owner = postfix
EOF

pd_start() {
	"$policyd" -f -c "$PD/postdrip.conf" 2>> "$PD/log" &
	PD_PID=$!
	pfx_wait_listen "$PD_PORT" 10 || pfx_fail "postdrip-policyd does not listen: $(cat "$PD/log")"
	_n=0
	until [ "$(grep -c "ready on" "$PD/log")" -ge "$1" ]; do
		_n=$((_n + 1))
		[ $_n -gt 200 ] && pfx_fail "postdrip-policyd not ready: $(cat "$PD/log")"
		sleep 0.05
	done
}
pd_stop() { [ -n "$PD_PID" ] && pfx_kill "$PD_PID" 5; PD_PID=; }
pfx_on_exit pd_stop
pd_start 1

policy="check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s }"
pfx_conf "smtpd_recipient_restrictions = $policy" \
    "allow_percent_hack = yes" "swap_bangpath = yes"
pfx_start

pd() { "$postdrip" -c "$PD/postdrip.conf" "$@" || pfx_fail "postdrip $*"; }

# refused RCPT - marketing mail to RCPT gets 550 5.7.1 unsubscribed
refused() {
	_out=$(pfx_swaks --from news@news.test --to "$1")
	echo "$_out" | grep -q '<\*\* *550 5.7.1 .*recipient unsubscribed (postdrip)' ||
	    pfx_fail "marketing to $1 not refused (v@sink.test is suppressed): $_out"
}

# The CLI folds the spelling it is given: this is v@sink.test.
pd suppress 'V@Sink.Test.' --reason unsubscribed
pd suppressed > "$PD/list"
grep -q '^v@sink.test' "$PD/list" || pfx_fail "suppress stored another key: $(cat "$PD/list")"

refused 'v@sink.test'
refused 'v@sink.test.'
refused 'v@SINK.TEST.'
refused '"v"@sink.test'
refused 'v%sink.test@local.test'
refused 'sink.test!v@local.test'

# Transactional mail to the same spellings is delivered: Postfix delivers
# them all to v@sink.test, which is what makes the refusals above matter.
n=0
for to in 'v@sink.test.' 'v@SINK.TEST.' 'v%sink.test@local.test' 'sink.test!v@local.test'; do
	pfx_send receipts@shop.test "$to" --body "receipt" >/dev/null ||
	    pfx_fail "transactional mail to $to refused"
	n=$((n + 1))
done
pfx_wait_delivered $n 20 || pfx_fail "transactional mail to the spellings not delivered to sink.test"

# unsuppress with a spelling lifts it for all.
pd unsuppress 'v@SINK.test.'
pfx_send news@news.test 'v@sink.test.' --body "welcome back" >/dev/null ||
    pfx_fail "marketing to v@sink.test. refused after unsuppress"

# With swap_bangpath = no, site!user is a local part of its own.
pd suppress v@sink.test --reason unsubscribed
echo "swap_bangpath = no" >> "$PD/postdrip.conf"
pd_stop
pd_start 2
refused 'v%sink.test@local.test'
out=$(pfx_swaks --from news@news.test --to 'sink.test!v@local.test')
echo "$out" | grep -q '550 5.7.1' && pfx_fail "swap_bangpath = no still follows the bang path: $out"

grep -q "ERROR: AddressSanitizer\|runtime error" "$PD/log" && pfx_fail "sanitizer report: $(cat "$PD/log")"
echo "ok: policyd spellings"
exit 0
