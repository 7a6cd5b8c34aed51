#!/bin/sh
# policyd_purge - postdrip-policyd removes frequency counters that weigh
# nothing any more: three recipients counted on the first of March are
# gone when the daemon starts three days and an hour later (POSTDRIP_NOW;
# the longest cap is 3d), and one counted two hours before stays and
# still defers.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
policyd="$top_builddir/policyd/postdrip-policyd"
[ -x "$policyd" ] || fail "$policyd not built"

mkdir "$T/data"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
policyd_listen = unix:$T/policyd.sock
marketing_senders = *@news.example.com
frequency_caps = 1/1d, 3/3d
policyd_count_stage = rcpt
CONF

pid=
# stop - TERM the daemon, wait 5 s at most
stop() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	_n=0
	while kill -0 "$pid" 2>/dev/null && [ $_n -lt 50 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}
trap 'stop; rm -rf "$T"' EXIT

# start NOW LOG - the daemon at a fixed time, until it is ready
start() {
	rm -f "$T/policyd.sock"
	POSTDRIP_NOW=$1 "$policyd" -f -c "$T/postdrip.conf" 2> "$2" &
	pid=$!
	_n=0
	until grep -q "ready on" "$2" 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -gt 100 ] && fail "not ready after 10s: $(cat "$2")"
		kill -0 $pid 2>/dev/null || fail "daemon exited: $(cat "$2")"
		sleep 0.1
	done
}

# ask RECIPIENT... - one RCPT request each; prints the actions
ask() {
	python3 - "$T/policyd.sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
for r in sys.argv[2:]:
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "sender=news@news.example.com\nrecipient=%s\n"
               "instance=i.%s\n\n" % (r, r)).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("closed")
        buf += chunk
    print(buf.decode().split("\n")[0])
PY
}

start 2026-03-01T09:00:00Z "$T/log1"
out=$(ask a@example.org b@example.org c@example.org) || fail "ask: $out"
[ "$(echo "$out" | grep -c '^action=DUNNO$')" = 3 ] || fail "first day: $out"
stop
start 2026-03-04T08:00:00Z "$T/log2"
ask d@example.org > /dev/null || fail "ask d"
stop

# a, b and c are now outside 3d; d is not.
start 2026-03-04T10:00:00Z "$T/log3"
n=0
until grep -q "stale frequency counter" "$T/log3"; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "no purge in 10s: $(cat "$T/log3")"
	sleep 0.1
done
grep -q "removed 3 stale frequency counter records of 4" "$T/log3" ||
    fail "purge: $(cat "$T/log3")"
out=$(ask d@example.org a@example.org) || fail "ask: $out"
echo "$out" | sed -n 1p | grep -q '^action=450 4.7.1 frequency cap reached' ||
    fail "d no longer deferred after the purge: $out"
echo "$out" | sed -n 2p | grep -q '^action=DUNNO$' || fail "a: $out"
stop
if grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/log*; then
	cat "$T"/log* >&2
	fail "sanitizer report"
fi
pass
