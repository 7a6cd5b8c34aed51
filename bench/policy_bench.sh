#!/bin/sh
# policy_bench - postdrip-policyd against postfwd, same load, same rule.
#
# Compiles the neutral load generator ../shared/bench/policy-load.c, starts
# postdrip-policyd (frequency_caps = 3/1d, counted at RCPT as postfwd's
# rate() counts) and postfwd2 (id=RATE01; action=rate(recipient/3/86400/450
# 4.7.1 too many)) on loopback ports, and prints requests/s and latency
# percentiles at 1, 8 and 64 connections for each, in one run. Each
# measurement is bounded (BENCH_SECONDS, 5 by default; -T caps the wall
# clock). Everything started here is stopped by its pid at exit.
#
# The load cycles through 1,000,000 distinct recipients, so that neither
# server reaches the cap within a run of a few seconds: every request is
# a pass that is counted (a write for postdrip-policyd), not a cheaper
# refusal. The actions column shows what each server answered.
#
# The third server is null_policy (null_policy.c here), which answers
# DUNNO without reading the request: the do-nothing baseline. The ratios
# to the targets come first (postdrip-policyd / postfwd at 64
# connections, target 10; postdrip-policyd / null_policy at 64, target
# 0.80; p99 at 8 connections, target under 1000 us), then the table.
#
# Client and server share the machine's CPUs unless the caller pins them.
# A binary built with --enable-sanitizers is several times slower: the
# script says so. POSTDRIP_POLICYD overrides the daemon to measure.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
secs=${BENCH_SECONDS:-5}
policyd=${POSTDRIP_POLICYD:-$top_builddir/policyd/postdrip-policyd}
load_src="$top_srcdir/../shared/bench/policy-load.c"

[ -x "$policyd" ] || { echo "policy_bench: $policyd not built" >&2; exit 1; }
# The neutral load generator is not part of this repository: it sits in
# ../shared beside a checkout where one is there. Without it, say so and
# skip rather than fail "make bench".
[ -r "$load_src" ] || { echo "policy_bench: the load generator ../shared/bench/policy-load.c is not beside this checkout; skipped"; exit 77; }
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/policybench.XXXXXX") || exit 1
chmod 755 "$T"
pd_pid=
np_pid=
fw_port=
cleanup() {
	[ -n "$pd_pid" ] && kill "$pd_pid" 2>/dev/null && wait "$pd_pid" 2>/dev/null
	[ -n "$np_pid" ] && kill "$np_pid" 2>/dev/null && wait "$np_pid" 2>/dev/null
	fw_pid=$(cat "$T/postfwd/master.pid" 2>/dev/null)
	if [ -n "$fw_pid" ]; then
		kill "$fw_pid" 2>/dev/null
		i=0
		while kill -0 "$fw_pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		# Its children go a little later: wait until none holds the port.
		i=0
		while [ -n "$fw_port" ] && [ $i -lt 50 ] &&
		    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
		    "$fw_port" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

${CC:-cc} -O2 -pthread -o "$T/policy-load" "$load_src" || exit 1
${CC:-cc} -O2 -pthread -o "$T/null-policy" "$top_srcdir/bench/null_policy.c" || exit 1

# free_port - a loopback port nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT - until something accepts there (10 s at most)
wait_port() {
	python3 - "$1" <<'PY'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# run NAME PORT - the three loads against one server
run() {
	for c in 1 8 64; do
		out=$("$T/policy-load" -p "$2" -c "$c" -d "$secs" -T $((secs * 4 + 10)) -w 1000 -a 1000000 -q -j)
		python3 - "$1" "$c" "$out" "$T/figures" <<'PY' >>"$T/rows"
import json, sys
name, conns, out = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    r = json.loads(out)
except ValueError:
    print("%-17s %5s  no result: %s" % (name, conns, out[:200]))
    sys.exit(0)
lat = r["latency_us"]
fmt = lambda v: "-" if v is None else "%.0f" % v
acts = " ".join("%s=%d" % kv for kv in sorted(r["actions"].items()))
print("%-17s %5s %11.0f %9s %9s %9s %7d  %s" % (name, conns, r["requests_per_s"],
      fmt(lat["p50"]), fmt(lat["p99"]), fmt(lat["max"]), r["errors"], acts))
with open(sys.argv[4], "a") as f:
    f.write("%s %s %.0f %s\n" % (name, conns, r["requests_per_s"], fmt(lat["p99"])))
PY
	done
}

# A libtool wrapper script runs the real binary from .libs/.
real=$policyd
[ -x "$(dirname "$policyd")/.libs/$(basename "$policyd")" ] &&
    real="$(dirname "$policyd")/.libs/$(basename "$policyd")"
note=
if ldd "$real" 2>/dev/null | grep -q libasan ||
    { [ "$real" != "$policyd" ] &&
    ldd "$top_builddir/engine/.libs/libpostdrip.so" 2>/dev/null | grep -q libasan; }; then
	note=" (built with sanitizers: expect several times less)"
fi

printf '%-17s %5s %11s %9s %9s %9s %7s  %s\n' server conns requests/s p50_us p99_us max_us errors actions \
    >"$T/rows"
: >"$T/figures"

# postdrip-policyd
mkdir "$T/pd"
pd_port=$(free_port)
cat > "$T/pd/postdrip.conf" <<CONF
data_directory = $T/pd
policyd_listen = inet:127.0.0.1:$pd_port
marketing_senders = *@sender.example
frequency_caps = 3/1d
frequency_cap_action = defer
policyd_count_stage = rcpt
CONF
"$policyd" -c "$T/pd/postdrip.conf" -f 2>/dev/null &
pd_pid=$!
if wait_port "$pd_port"; then
	run postdrip-policyd "$pd_port"
else
	echo "policy_bench: postdrip-policyd did not start" >&2
fi
kill "$pd_pid" 2>/dev/null
wait "$pd_pid" 2>/dev/null
pd_pid=

# postfwd (Debian's postfwd2), if installed
if command -v postfwd2 >/dev/null 2>&1; then
	mkdir "$T/postfwd"
	chmod 777 "$T/postfwd"
	fw_port=$(free_port)
	echo 'id=RATE01; action=rate(recipient/3/86400/450 4.7.1 too many)' > "$T/postfwd/rules.cf"
	user=
	[ "$(id -u)" = 0 ] && user="-u nobody -g nogroup"
	# shellcheck disable=SC2086
	postfwd2 -f "$T/postfwd/rules.cf" --server_socket "tcp:127.0.0.1:$fw_port" \
	    --cache_socket "unix::$T/postfwd/cache.sock" --pidfile "$T/postfwd/master.pid" \
	    $user >/dev/null 2>&1
	if wait_port "$fw_port"; then
		run postfwd2 "$fw_port"
	else
		echo "policy_bench: postfwd2 did not start" >&2
	fi
else
	echo "postfwd2          not installed (Debian package postfwd): no comparison" >>"$T/rows"
fi
# null_policy: the do-nothing baseline
np_port=$(free_port)
"$T/null-policy" "$np_port" 2>/dev/null &
np_pid=$!
if wait_port "$np_port"; then
	run null_policy "$np_port"
else
	echo "policy_bench: null_policy did not start" >&2
fi
kill "$np_pid" 2>/dev/null
wait "$np_pid" 2>/dev/null
np_pid=

awk '{ rps[$1 " " $2] = $3; p99[$1 " " $2] = $4 }
END {
	pd = rps["postdrip-policyd 64"]; fw = rps["postfwd2 64"]; np = rps["null_policy 64"]
	if (pd != "" && fw != "" && fw > 0)
		printf "ratio postdrip-policyd/postfwd2 at 64 connections: %.1f (target >= 10)\n", pd / fw
	if (pd != "" && np != "" && np > 0)
		printf "ratio postdrip-policyd/null_policy at 64 connections: %.2f (target >= 0.80)\n", pd / np
	if (p99["postdrip-policyd 8"] != "")
		printf "postdrip-policyd p99 at 8 connections: %s us (target < 1000)\n", p99["postdrip-policyd 8"]
}' "$T/figures"
echo "policy_bench: $secs s per run, 1000 warm-up requests, client and server on the same $(nproc) CPUs"
cat "$T/rows"
[ -n "$note" ] && echo "note: postdrip-policyd$note"
exit 0
