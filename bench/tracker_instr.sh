#!/bin/sh
# tracker_instr - instructions per pixel and per click request, counted by
# valgrind's callgrind in postdrip-engine (every thread: the request
# threads and the store's writer, commits included).
#
# Wall-clock figures on a shared machine vary from run to run; an
# instruction count does not, so a change to the request path is measured
# here and its speed in tracker_bench.sh. The engine runs under callgrind
# with the tracker (tracker_rate_limit = 0, timing windows off, as in
# tracker_bench.sh); a client with BENCH_CONNECTIONS (8) keep-alive
# connections sends BENCH_REQUESTS (4000) warm-up requests, then, with
# the counters zeroed, BENCH_REQUESTS pixel requests, and again clicks.
# Prints instructions per request for each, and the events recorded.
# With BENCH_KEEP=PREFIX the callgrind profiles are kept as PREFIX.pixel
# and PREFIX.click, for callgrind_annotate.
# Everything started here is stopped by its pid at exit.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
nreq=${BENCH_REQUESTS:-4000}
conns=${BENCH_CONNECTIONS:-8}
engine=$top_builddir/engine/postdrip-engine
pd=$top_builddir/cli/postdrip
tt=$top_builddir/tests/track_tool

command -v valgrind >/dev/null || { echo "tracker_instr: valgrind is not installed" >&2; exit 77; }
command -v callgrind_control >/dev/null || { echo "tracker_instr: callgrind_control is not installed" >&2; exit 77; }
[ -x "$tt" ] || make -C "$top_builddir/tests" track_tool >/dev/null || exit 1
[ -x "$engine" ] || { echo "tracker_instr: build postdrip-engine first" >&2; exit 1; }
# libtool's wrapper script: run the binary itself under valgrind.
[ -x "$top_builddir/engine/.libs/postdrip-engine" ] && engine=$top_builddir/engine/.libs/postdrip-engine
[ -x "$top_builddir/engine/.libs/lt-postdrip-engine" ] && engine=$top_builddir/engine/.libs/lt-postdrip-engine
libs=$top_builddir/engine/.libs

T=$(mktemp -d "${TMPDIR:-/tmp}/trackerinstr.XXXXXX") || exit 1
e_pid=
cleanup() {
	[ -n "$e_pid" ] && kill "$e_pid" 2>/dev/null && wait "$e_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
tp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

. "$top_srcdir/bench/tracker_fixture.sh"

LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    valgrind -q --tool=callgrind --callgrind-out-file="$T/cg.%p" \
    "$engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
e_pid=$!

# client URL N CONNS: N GET requests over CONNS keep-alive connections;
# prints the number answered 200 or 302.
client() {
	python3 - "$1" "$2" "$3" <<'EOF2'
import http.client, sys, threading, urllib.parse
url, n, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlsplit(url)
path = u.path + ("?" + u.query if u.query else "")
ok = [0] * conns
def run(i):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for _ in range(n // conns):
        c.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
        r = c.getresponse()
        r.read()
        if r.status in (200, 302):
            ok[i] += 1
    c.close()
th = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
for t in th: t.start()
for t in th: t.join()
print(sum(ok))
EOF2
}
# total: instructions counted since the last zeroing, from a dump
total() {
	rm -f "$T"/cg.*.[0-9]*
	callgrind_control -d "$e_pid" >/dev/null 2>&1 || exit 1
	i=0
	until ls "$T"/cg.*.[0-9]* >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1
	done
	sleep 0.5
	[ -n "$BENCH_KEEP" ] && cat "$T"/cg.*.[0-9]* >"$BENCH_KEEP.$1"
	cat "$T"/cg.*.[0-9]* | awk '/^summary:/ { s += $2 } END { print s }'
}

i=0
until curl -s -o /dev/null "http://127.0.0.1:$tp/healthz"; do
	i=$((i + 1)); [ $i -lt 300 ] || { cat "$T/engine.log"; exit 1; }; sleep 0.2
done
client "$O" "$nreq" "$conns" >/dev/null
client "$C" "$nreq" "$conns" >/dev/null
sleep 1.5			# the warm-up's events are committed
callgrind_control -z "$e_pid" >/dev/null 2>&1
n=$(client "$O" "$nreq" "$conns"); sleep 1.5
pix=$(total pixel)
callgrind_control -z "$e_pid" >/dev/null 2>&1
m=$(client "$C" "$nreq" "$conns"); sleep 1.5
clk=$(total click)
echo "instructions per request (callgrind, every thread, $conns connections):"
awk -v p="$pix" -v n="$n" -v c="$clk" -v m="$m" 'BEGIN {
	printf "  pixel %8.0f  (%d requests)\n  click %8.0f  (%d requests)\n", p / n, n, c / m, m }'
ev=$("$pd" -c "$T/postdrip.conf" stats | awk -F '\t' '$1 == "events" { print $2 }')
echo "events in the store: $ev"
