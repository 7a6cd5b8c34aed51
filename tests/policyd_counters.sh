#!/bin/sh
# policyd_counters - postdrip-policyd's frequency counters: a message in
# flight (passed at RCPT, not yet at END-OF-MESSAGE) counts against the
# cap of a second message to the same recipient on another connection
# (on another event loop too: sixteen at once, one passes), and an
# abandoned one stops counting; it warns when
# END-OF-MESSAGE requests never come (nothing would be counted), and not
# when they do; and it removes frequency counters that weigh
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
# Several recipients per message here: the counters, not that rule.
policyd_one_marketing_recipient = no
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

# ask RECIPIENT... - one RCPT request each; prints the actions. A
# recipient "eom" asks END-OF-MESSAGE for the message before it.
ask() {
	python3 - "$T/policyd.sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
last = ""
for r in sys.argv[2:]:
    if r == "eom":
        s.sendall(("request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                   "sender=news@news.example.com\nrecipient=\nrecipient_count=1\n"
                   "instance=i.%s\n\n" % last).encode())
    else:
        last = r
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

# Counted at END-OF-MESSAGE (the default), but none ever comes: after ten
# messages passed and abandoned, one warning.
sed -i '/^policyd_count_stage/d' "$T/postdrip.conf"
start 2026-03-05T10:00:00Z "$T/log4"
ask e1@example.org e2@example.org e3@example.org e4@example.org e5@example.org \
    e6@example.org e7@example.org e8@example.org e9@example.org e10@example.org \
    e11@example.org e12@example.org > "$T/out4" || fail "ask: $(cat "$T/out4")"
n=0
until grep -q "not one END-OF-MESSAGE" "$T/log4"; do
	n=$((n + 1))
	[ $n -gt 50 ] && fail "no warning without END-OF-MESSAGE: $(cat "$T/log4")"
	sleep 0.1
done
[ "$(grep -c "not one END-OF-MESSAGE" "$T/log4")" = 1 ] || fail "warned more than once"
stop
# The same, with one message counted first: no warning.
start 2026-03-06T10:00:00Z "$T/log5"
ask f0@example.org eom f1@example.org f2@example.org f3@example.org f4@example.org \
    f5@example.org f6@example.org f7@example.org f8@example.org f9@example.org \
    f10@example.org f11@example.org f12@example.org > "$T/out5" || fail "ask: $(cat "$T/out5")"
n=0
until grep -q "count: END-OF-MESSAGE" "$T/log5"; do
	n=$((n + 1))
	[ $n -gt 50 ] && fail "f0 not counted: $(cat "$T/log5")"
	sleep 0.1
done
stop
grep -q "not one END-OF-MESSAGE" "$T/log5" && fail "warned although a message was counted"

# Two smtpd processes, two connections, one recipient (1/1d).
start 2026-03-07T10:00:00Z "$T/log6"
python3 - "$T/policyd.sock" <<'PY' || fail "messages in flight: $(tail -5 "$T/log6")"
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s
def ask(s, state, rcpt, instance):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=%s\n"
               "sender=news@news.example.com\nrecipient=%s\nrecipient_count=1\n"
               "instance=%s\n\n" % (state, rcpt, instance)).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("closed")
        buf += chunk
    return buf.decode().split("\n")[0]
def want(got, prefix, what):
    if not got.startswith("action=" + prefix):
        sys.exit("%s: %s" % (what, got))
a, b = conn(), conn()
want(ask(a, "RCPT", "gus@example.org", "a.1"), "DUNNO", "first message")
want(ask(a, "RCPT", "gus@example.org", "a.1"), "DUNNO", "same message, same recipient again")
want(ask(b, "RCPT", "gus@example.org", "b.1"), "450 4.7.1", "second message while the first is in flight")
# Abandoned (the next request on a names another message): gus is free.
want(ask(a, "RCPT", "hal@example.org", "a.2"), "DUNNO", "another message")
want(ask(b, "RCPT", "gus@example.org", "b.2"), "DUNNO", "after the first was abandoned")
want(ask(b, "END-OF-MESSAGE", "", "b.2"), "DUNNO", "end of message")
# Counted now: the writer commits within moments.
end = time.time() + 5
while True:
    got = ask(a, "RCPT", "gus@example.org", "a.3")
    if got.startswith("action=450") or time.time() > end:
        break
    time.sleep(0.05)
want(got, "450 4.7.1", "after the count")
PY
stop

# Four event loops (policyd_threads) and sixteen connections at once, each
# with a message to one recipient (1/1d), none ended: the loops share one
# table of messages in flight, so one passes and fifteen wait, as with one
# loop.
echo "policyd_threads = 4" >> "$T/postdrip.conf"
start 2026-03-07T12:00:00Z "$T/log6b"
grep -q "ready on .*, 4 threads" "$T/log6b" || fail "not 4 threads: $(cat "$T/log6b")"
python3 - "$T/policyd.sock" <<'PY' || fail "loops at once: $(tail -5 "$T/log6b")"
import socket, sys, threading
n = 16
ready = threading.Barrier(n)
got = [None] * n
def one(i):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    ready.wait()
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "sender=news@news.example.com\nrecipient=zed@example.org\n"
               "recipient_count=0\ninstance=z.%d\n\n" % i).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    got[i] = buf.decode().split("\n")[0]
    ready.wait()
    s.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
passed = [g for g in got if g == "action=DUNNO"]
waited = [g for g in got if g and g.startswith("action=450 4.7.1")]
if len(passed) != 1 or len(waited) != n - 1:
    sys.exit("want 1 DUNNO and %d deferrals: %s" % (n - 1, got))
PY
stop
sed -i '/^policyd_threads/d' "$T/postdrip.conf"

# A message silent longer than policyd_inflight_timeout no longer holds
# its recipient, and is still counted when its END-OF-MESSAGE comes.
echo "policyd_inflight_timeout = 1s" >> "$T/postdrip.conf"
start 2026-03-08T10:00:00Z "$T/log7"
python3 - "$T/policyd.sock" <<'PY' || fail "in flight too long: $(tail -5 "$T/log7")"
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s
def ask(s, state, rcpt, instance):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=%s\n"
               "sender=news@news.example.com\nrecipient=%s\nrecipient_count=1\n"
               "instance=%s\nqueue_id=Q%s\n\n" % (state, rcpt, instance, instance)).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("closed")
        buf += chunk
    return buf.decode().split("\n")[0]
def want(got, prefix, what):
    if not got.startswith("action=" + prefix):
        sys.exit("%s: %s" % (what, got))
a, b = conn(), conn()
want(ask(a, "RCPT", "ivy@example.org", "a1"), "DUNNO", "first message")
want(ask(b, "RCPT", "ivy@example.org", "b1"), "450 4.7.1", "while in flight")
time.sleep(2.5)
want(ask(b, "RCPT", "ivy@example.org", "b2"), "DUNNO", "after policyd_inflight_timeout")
want(ask(a, "END-OF-MESSAGE", "", "a1"), "DUNNO", "end of the slow message")
PY
n=0
until grep -q "Qa1: count: END-OF-MESSAGE .*1 recipient counted" "$T/log7"; do
	n=$((n + 1))
	[ $n -gt 50 ] && fail "the slow message was not counted: $(cat "$T/log7")"
	sleep 0.1
done
stop
if grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/log*; then
	cat "$T"/log* >&2
	fail "sanitizer report"
fi
pass
