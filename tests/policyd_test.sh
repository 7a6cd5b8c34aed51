#!/bin/sh
# policyd_test - the real postdrip-policyd over its socket: decisions and
# their log lines, counting at END-OF-MESSAGE, malformed input (no
# terminator, a megabyte line, binary bytes, 10,000 attributes, an idle
# client, 150 clients at once) with bounded memory, reload on SIGHUP with
# connections kept, and the -s mode. The checks are in policyd_client.py.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
policyd="$top_builddir/policyd/postdrip-policyd"
postdrip="$top_builddir/cli/postdrip"
[ -x "$policyd" ] || fail "$policyd not built"

mkdir "$T/data"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
policyd_listen = unix:$T/policyd.sock
marketing_senders = *@news.example.com
frequency_caps = 1/1d, 3/7d
policyd_idle_timeout = 2s
policyd_max_connections = 100
# reload
CONF

# -n checks what postdrip check cannot: the syntax of caps and actions.
printf 'frequency_caps = 2/soon\nfrequency_cap_action = later\n' > "$T/bad.conf"
"$policyd" -n -c "$T/bad.conf" 2> "$T/bad.out" && fail "-n accepted a bad configuration"
grep -q 'frequency_caps: "2/soon"' "$T/bad.out" || fail "-n: $(cat "$T/bad.out")"
grep -q 'frequency_cap_action = later' "$T/bad.out" || fail "-n: $(cat "$T/bad.out")"
"$policyd" -n -c "$T/postdrip.conf" || fail "-n refused a good configuration"

"$policyd" -f -c "$T/postdrip.conf" 2> "$T/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -S "$T/policyd.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "no socket after 10s: $(cat "$T/log")"
	kill -0 $pid 2>/dev/null || fail "daemon exited: $(cat "$T/log")"
	sleep 0.1
done

timeout 120 python3 "$top_srcdir/tests/policyd_client.py" "$T/policyd.sock" "$pid" \
	"$T/postdrip.conf" "$T/log" "$postdrip" "$policyd" || {
	tail -30 "$T/log" >&2
	fail "policyd_client.py"
}

kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "daemon did not stop on SIGTERM"
	sleep 0.1
done
wait $pid
status=$?
[ $status = 0 ] || { tail -30 "$T/log" >&2; fail "daemon exit status $status"; }
grep -q "signal 15: stopping" "$T/log" || fail "no stop message"
if grep -q "ERROR: AddressSanitizer\|runtime error" "$T/log"; then
	cat "$T/log" >&2
	fail "sanitizer report"
fi
pass
