#!/bin/sh
# milter_stop - postdrip-milter stops promptly and cleanly, and SIGHUP
# only reloads. No Postfix needed.
#
# libmilter checks its stop flag only between connections and waits up to
# 5 s for one: the milter wakes it on SIGTERM. The stop must take under a
# second, exit 0, and remove the socket; also right after the socket
# appears, and over inet:. SIGHUP never stops it (libmilter alone would).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
for f in "$POSTDRIP" "$MILTER"; do
	[ -x "$f" ] || { echo "skip: $f is not built"; exit 77; }
done

D=$(mktemp -d "${TMPDIR:-/tmp}/milter_stop.XXXXXX") || exit 1
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$D"' EXIT
fail() {
	echo "FAIL: $*" >&2
	[ -f "$D/log" ] && tail -n 20 "$D/log" >&2
	exit 1
}
CONF=$D/postdrip.conf
SOCK=$D/m.sock
cat >"$CONF" <<EOC
data_directory = $D/pd
token_key_file = $D/keys
milter_listen = unix:$SOCK
bounce_domain = bounce.test
EOC
mkdir "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || fail "keygen"

# start - the milter, until its socket (unix) or log line (inet) is there
start() {
	"$MILTER" -f -c "$CONF" 2>>"$D/log" &
	PID=$!
	n=0
	until grep -q "starting: listening on $1" "$D/log" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 400 ] || fail "the milter does not start"
		kill -0 "$PID" 2>/dev/null || fail "the milter exited at start"
		sleep 0.025
	done
}

# reloaded N WHAT - until the log has N reloads, the milter running all along
reloaded() {
	n=0
	until [ "$(grep -c 'reloaded ' "$D/log")" -ge "$1" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || fail "no reload after $2"
		kill -0 "$PID" 2>/dev/null || fail "$2 stopped the milter"
		sleep 0.025
	done
}

# stop - SIGTERM (or $1); gone within 1 s, exit status 0
stop() {
	kill "-${1:-TERM}" "$PID"
	n=0
	while kill -0 "$PID" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 40 ] || fail "still running 1 s after SIG${1:-TERM}"
		sleep 0.025
	done
	wait "$PID"
	rc=$?
	PID=
	[ $rc = 0 ] || fail "exit status $rc after SIG${1:-TERM}"
}

start "unix:$SOCK"
for i in 1 2 3 4 5; do
	kill -HUP "$PID"
	reloaded $i "SIGHUP $i"
done
kill -0 "$PID" 2>/dev/null || fail "SIGHUP stopped the milter"
stop
[ -e "$SOCK" ] && fail "socket left behind"
echo "ok 1: five SIGHUPs reload; SIGTERM stops within 1 s, exit 0, socket removed"

for i in 1 2 3 4 5; do
	: >"$D/log"
	start "unix:$SOCK"
	stop
done
echo "ok 2: SIGTERM at once after start, five times: exit 0 within 1 s"

# libmilter's own signal thread would stop the milter on SIGHUP, and the
# kernel may give it a signal sent to the process: it must never get one.
for i in 1 2 3 4 5 6 7 8 9 10; do
	: >"$D/log"
	start "unix:$SOCK"
	kill -HUP "$PID"
	reloaded 1 "SIGHUP at start ($i)"
	stop
done
echo "ok 2b: SIGHUP at once after start, ten times: a reload, never a stop"

: >"$D/log"
start "unix:$SOCK"
stop INT
echo "ok 3: SIGINT stops too"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
    || fail "no free port"
sed -i "s|^milter_listen = .*|milter_listen = inet:127.0.0.1:$PORT|" "$CONF"
: >"$D/log"
start "inet:127.0.0.1:$PORT"
stop
echo "ok 4: over inet: too"
