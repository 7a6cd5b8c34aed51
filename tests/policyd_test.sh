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
# Generous timeouts while the checks are not about them: on a loaded
# machine a client may take seconds between connecting and sending.
policyd_idle_timeout = 60s
policyd_request_timeout = 60s
policyd_max_connections = 100
# Many recipients per message here; policyd_one_rcpt.sh tests that rule.
policyd_one_marketing_recipient = no
# reload
CONF

# -n checks what postdrip check cannot: the syntax of caps and actions.
printf 'frequency_caps = 2/soon\nfrequency_cap_action = later\n' > "$T/bad.conf"
"$policyd" -n -c "$T/bad.conf" 2> "$T/bad.out" && fail "-n accepted a bad configuration"
grep -q 'frequency_caps: "2/soon"' "$T/bad.out" || fail "-n: $(cat "$T/bad.out")"
grep -q 'frequency_cap_action = later' "$T/bad.out" || fail "-n: $(cat "$T/bad.out")"
"$policyd" -n -c "$T/postdrip.conf" || fail "-n refused a good configuration"
# postdrip check knows the caps syntax too (the engine uses the caps).
"$postdrip" -c "$T/bad.conf" check > "$T/check.out" 2>&1 && fail "postdrip check accepted bad caps"
grep -q "bad.conf: frequency_caps: \"2/soon\": expected N/DURATION" "$T/check.out" ||
    fail "postdrip check: $(cat "$T/check.out")"

"$policyd" -f -c "$T/postdrip.conf" 2> "$T/log" &
pid=$!
# stop_daemon - TERM, then KILL if it does not go within 5 s
stop_daemon() {
	kill -TERM "$1" 2>/dev/null || return 0
	_n=0
	while kill -0 "$1" 2>/dev/null && [ $_n -lt 50 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
trap 'stop_daemon $pid; rm -rf "$T"' EXIT
i=0
while [ ! -S "$T/policyd.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "no socket after 10s: $(cat "$T/log")"
	kill -0 $pid 2>/dev/null || fail "daemon exited: $(cat "$T/log")"
	sleep 0.1
done

# Started as root with mail_owner empty: it says so.
if [ "$(id -u)" = 0 ]; then
	grep -q "warning: running as root: mail_owner is empty" "$T/log" ||
	    fail "no warning about keeping root: $(cat "$T/log")"
fi

timeout 120 python3 "$top_srcdir/tests/policyd_client.py" "$T/policyd.sock" "$pid" \
	"$T/postdrip.conf" "$T/log" "$postdrip" "$policyd" || {
	tail -30 "$T/log" >&2
	fail "policyd_client.py"
}

# The timeouts themselves, made short by a reload: an idle client is
# closed, not before policyd_idle_timeout; a client trickling a byte every
# half second is never idle, but its request must end within
# policyd_request_timeout: the slot is freed. The idle timeout stays well
# above the trickle's pace, so a slow machine cannot mistake one for the
# other.
sed -i -e 's/^policyd_idle_timeout = .*/policyd_idle_timeout = 6s/' \
    -e 's/^policyd_request_timeout = .*/policyd_request_timeout = 3s/' "$T/postdrip.conf"
reloads=$(grep -c "configuration reloaded" "$T/log")
kill -HUP $pid
i=0
while [ "$(grep -c "configuration reloaded" "$T/log")" -le "$reloads" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "no reload after 10s: $(tail -3 "$T/log")"
	sleep 0.1
done
timeout 60 python3 - "$T/policyd.sock" <<'PY' || fail "idle client: $(tail -5 "$T/log")"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
t0 = time.time()
s.connect(sys.argv[1])
s.settimeout(30)
try:
    data = s.recv(100)
except ConnectionResetError:
    data = b""
except socket.timeout:
    sys.exit("an idle client was not closed within 30 s")
took = time.time() - t0
if data:
    sys.exit("an idle client got %r" % data)
if took < 5.5:
    sys.exit("idle client closed after %.1fs, policyd_idle_timeout is 6s" % took)
PY
grep -q "idle for [0-9]*s (policyd_idle_timeout); closing" "$T/log" ||
    fail "no log line for the idle client: $(tail -3 "$T/log")"
timeout 60 python3 - "$T/policyd.sock" <<'PY' || fail "trickling client: $(tail -5 "$T/log")"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
req = b"request=smtpd_access_policy\nsender=a@shop.example\nrecipient=" + b"b" * 40
for i, b in enumerate(req):
    try:
        s.sendall(bytes([b]))
        time.sleep(0.5)
    except (BrokenPipeError, ConnectionResetError):
        sys.exit(0)
sys.exit("a request trickled for %.0f s and was never cut off" % (len(req) / 2))
PY
grep -q "request not complete after [0-9]*s (.*policyd_request_timeout); closing" "$T/log" ||
    fail "no log line for the slow request: $(tail -3 "$T/log")"

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

# Out of file descriptors: new clients are closed, the daemon does not
# spin on its listener, and it still answers and stops.
sed -e "s|^policyd_listen = .*|policyd_listen = unix:$T/fd.sock|" \
    -e "s|^policyd_max_connections = .*|policyd_max_connections = 1000|" \
    -e "s|^policyd_idle_timeout = .*|policyd_idle_timeout = 60s|" \
    -e "s|^policyd_request_timeout = .*|policyd_request_timeout = 60s|" \
    "$T/postdrip.conf" > "$T/fd.conf"
(ulimit -n 32 && exec "$policyd" -f -c "$T/fd.conf") 2> "$T/fd.log" &
pid=$!
i=0
until [ -S "$T/fd.sock" ] && grep -q "ready on" "$T/fd.log"; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "no socket after 10s: $(cat "$T/fd.log")"
	sleep 0.1
done
timeout 60 python3 - "$T/fd.sock" "$pid" <<'PY' || fail "out of descriptors: $(tail -5 "$T/fd.log")"
import socket, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
def cpu():
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
conns = []
for i in range(60):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    conns.append(s)
time.sleep(0.5)
before = cpu()
time.sleep(1)
used = cpu() - before
if used > 50:
    sys.exit("busy while out of descriptors: %d ticks in 1s" % used)
conns[0].sendall(b"request=smtpd_access_policy\nsender=a@shop.example\nrecipient=b@example.org\n\n")
if conns[0].recv(100) != b"action=DUNNO\n\n":
    sys.exit("no answer while out of descriptors")
PY
grep -q "accept: Too many open files" "$T/fd.log" || fail "no warning about descriptors"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "daemon out of descriptors did not stop on SIGTERM"
	sleep 0.1
done
wait $pid || fail "daemon out of descriptors: exit status $?"
if grep -q "ERROR: AddressSanitizer\|runtime error" "$T/log"; then
	cat "$T/log" >&2
	fail "sanitizer report"
fi
pass
