#!/bin/sh
# tracker_bench - postdrip-engine's HTTP tracker against nginx, same load.
#
# Starts postdrip-engine with the tracker (tracker_rate_limit = 0) and
# nginx (Debian's nginx-light) serving the same 43-byte GIF from a file
# and a fixed 302, each on a loopback port, and runs wrk with 64
# keep-alive connections (BENCH_SECONDS, 10 by default) against each:
# pixel, then click. Prints the ratio tracker/nginx first, then requests/s
# and p99 latency. Then it checks that the opens are durable within a
# second: the events in the store one second after the pixel run, against
# the requests wrk completed.
#
# Client and servers share the machine's CPUs. A binary built with
# --enable-sanitizers is several times slower: build without it to
# measure. Everything started here is stopped by its pid at exit.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
engine=$top_builddir/engine/postdrip-engine
pd=$top_builddir/cli/postdrip
tt=$top_builddir/tests/track_tool
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

command -v wrk >/dev/null || { echo "tracker_bench: wrk is not installed" >&2; exit 77; }
command -v nginx >/dev/null || { echo "tracker_bench: nginx is not installed" >&2; exit 77; }
[ -x "$tt" ] || make -C "$top_builddir/tests" track_tool >/dev/null || exit 1
grep -q fsanitize "$top_builddir/config.log" 2>/dev/null \
    && echo "tracker_bench: warning: built with sanitizers; figures are not representative"

T=$(mktemp -d "${TMPDIR:-/tmp}/trackerbench.XXXXXX") || exit 1
chmod 755 "$T"
e_pid= n_pid=
cleanup() {
	[ -n "$e_pid" ] && kill "$e_pid" 2>/dev/null && wait "$e_pid" 2>/dev/null
	[ -n "$n_pid" ] && kill "$n_pid" 2>/dev/null && wait "$n_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tp=$(freeport); np=$(freeport)

mkdir -p "$T/www/o" "$T/nginx"
. "$top_srcdir/bench/tracker_fixture.sh"
"$engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
e_pid=$!

# nginx: the same GIF from a file with the same cache headers, and a 302.
printf 'GIF89a\001\000\001\000\200\000\000\000\000\000\377\377\377!\371\004\001\000\000\000\000,\000\000\000\000\001\000\001\000\000\002\002D\001\000;' \
    >"$T/www/o/pixel.gif"
cat >"$T/nginx/nginx.conf" <<EOF2
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$np;
		location /o/ {
			root $T/www;
			default_type image/gif;
			add_header Cache-Control "no-cache, no-store, must-revalidate, private, max-age=0";
			try_files /o/pixel.gif =404;
		}
		location /c/ { return 302 https://www.example.com/pricing; }
	}
}
EOF2
nginx -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
n_pid=$!

i=0
until curl -s -o /dev/null "http://127.0.0.1:$tp/healthz" && curl -s -o /dev/null "http://127.0.0.1:$np/o/x"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/engine.log" "$T/nginx/error.log"; exit 1; }; sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{size_download}' "$O")" = "$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$np/o/x")" ] \
    || { echo "tracker_bench: the two pixels differ" >&2; exit 1; }

# run NAME URL -> "rps p99_ms requests" in $T/NAME
run() {
	wrk -t2 -c"$conns" -d"${secs}s" --latency -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" "$2" >"$T/$1.out" 2>&1
	awk '/Requests\/sec/ { rps = $2 }
	     / 99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; p99 = v }
	     /requests in/ { n = $1 }
	     END { printf "%s %s %s\n", rps, p99, n }' "$T/$1.out" >"$T/$1"
}
ev0=$("$pd" -c "$T/postdrip.conf" stats | awk -F '\t' '$1 == "events" { print $2 }')
run tpix "$O"
sleep 1
ev1=$("$pd" -c "$T/postdrip.conf" stats | awk -F '\t' '$1 == "events" { print $2 }')
run npix "http://127.0.0.1:$np/o/x"
run tclk "$C"
run nclk "http://127.0.0.1:$np/c/x"

read trps tp99 tn <"$T/tpix"; read nrps np99 nn <"$T/npix"
read crps cp99 cn <"$T/tclk"; read mrps mp99 mn <"$T/nclk"
awk -v a="$trps" -v b="$nrps" -v c="$crps" -v d="$mrps" 'BEGIN {
	printf "ratio pixel %.2f click %.2f (tracker / nginx; target 0.50)\n", a / b, c / d }'
printf '%-16s %12s %10s\n' "" "requests/s" "p99 ms"
printf '%-16s %12s %10s\n' "tracker pixel" "$trps" "$tp99" "nginx pixel" "$nrps" "$np99" \
    "tracker click" "$crps" "$cp99" "nginx 302" "$mrps" "$mp99"
echo "connections $conns, $secs s each, keep-alive; target 20000 requests/s"
echo "opens durable 1 s after the pixel run: $((ev1 - ev0)) events for $tn requests"
