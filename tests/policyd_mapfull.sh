#!/bin/sh
# policyd_mapfull - frequency caps do not fail open when the store cannot
# commit: with the map full at store_map_max, a marketing message counted
# at END-OF-MESSAGE cannot be recorded, and from then on every marketing
# recipient gets policyd_store_fail_action (451), never DUNNO, however many
# messages follow (and once a count commits again, they pass); the failure is logged once, not once per message (nor
# twice: the store's "map is full" once too).
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
frequency_caps = 1/1d
store_map_size = 1m
store_map_max = 1m
CONF

# Fill the map: events of shrinking size until even a small one fails.
for size in 20000 2000 200 20; do
	value=$(head -c $size /dev/zero | tr '\0' x)
	i=0
	while [ $i -lt 200 ] && "$postdrip" -c "$T/postdrip.conf" event filler@example.com note "v=$value" \
	    >/dev/null 2>"$T/fill.err"; do
		i=$((i + 1))
	done
done
grep -q "map is full" "$T/fill.err" || fail "the map did not fill: $(cat "$T/fill.err")"

"$policyd" -f -c "$T/postdrip.conf" 2> "$T/log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -S "$T/policyd.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "no socket after 10s: $(cat "$T/log")"
	kill -0 $pid 2>/dev/null || fail "daemon exited: $(cat "$T/log")"
	sleep 0.1
done

timeout 60 python3 - "$T/policyd.sock" > "$T/out" 2>&1 <<'EOF' || fail "$(cat "$T/out"; tail -20 "$T/log")"
import socket, sys, time

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rb")

def ask(state, instance, rcpt="carol@example.org"):
    req = ("request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\n"
           "client_address=192.0.2.1\nclient_name=c.example\nhelo_name=c.example\n"
           "sender=n@news.example.com\nrecipient=%s\ninstance=%s\nqueue_id=Q%s\n\n"
           % (state, rcpt, instance, instance))
    s.sendall(req.encode())
    line = f.readline().decode().strip()
    assert f.readline() == b"\n"
    return line

# Each message to a new recipient adds a counter, until one cannot be
# committed; that message has passed (its count fails after DUNNO), and
# from then on nothing may get DUNNO.
n = 0
while True:
    a = ask("RCPT", "m%d" % n, "r%d@example.org" % n)
    if a != "action=DUNNO":
        break
    ask("END-OF-MESSAGE", "m%d" % n, "r%d@example.org" % n)
    n += 1
    if n > 20000:
        sys.exit("DUNNO for 20000 recipients with a full map: caps fail open")
assert a.startswith("action=451 4.3.0"), a
# From now on: the failure action, for every message and recipient.
for i in range(20):
    for r in ("carol@example.org", "dave%d@example.org" % i):
        a = ask("RCPT", "x%d" % i, r)
        assert a.startswith("action=451 4.3.0"), (i, r, a)
    ask("END-OF-MESSAGE", "x%d" % i)
print("ok")
EOF
warns=$(grep -c "cannot record .* for frequency caps" "$T/log")
[ "$warns" = 1 ] || fail "$warns warnings about counts, want 1: $(cat "$T/log")"
full=$(grep -c "map is full" "$T/log")
[ "$full" -le 1 ] || fail "$full 'map is full' warnings, want at most 1: $(cat "$T/log")"
grep -q "451 4.3.0 .*frequency counters cannot be recorded" "$T/log" ||
	fail "no decision line naming the reason: $(tail -5 "$T/log")"
grep -q "ERROR: AddressSanitizer\|runtime error" "$T/log" && fail "sanitizer report: $(cat "$T/log")"
pass
