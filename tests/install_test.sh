#!/bin/sh
# install_test - the first install as README.md describes it, with the
# daemons started the way the systemd units in contrib/systemd start them:
# as an unprivileged user from the start (here "nobody"), with mail_owner
# set in postdrip.conf (the shipped example sets it), the data directory
# and the key file owned by that user. Each daemon must start and serve;
# a key file left to root must be reported, naming the file and what to
# do. Then README's steps for a machine without systemd, as far as this
# one allows: a CSV only root can read imported on stdin as the daemons'
# user (runuser), and the three daemons started by start-stop-daemon with
# a pid file each and their log in a file, reloaded and stopped through
# the pid files. Needs root (to become another user); skipped otherwise.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run the daemons as another user"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is needed"
id nobody >/dev/null 2>&1 || skip "no user nobody"
grp=$(id -gn nobody)
asuser() {
	setpriv --reuid=nobody --regid="$grp" --clear-groups -- "$@"
}
# For a daemon started with "&": setpriv itself, not a subshell running
# the function, so that $! is the daemon's pid (setpriv execs it) and
# stop_all ends the daemon rather than an idle shell.
ASUSER="setpriv --reuid=nobody --regid=$grp --clear-groups --"

pids=
# stop_all - TERM every daemon started here, KILL after 5 s
stop_all() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
}
trap 'stop_all; rm -rf "$T"' EXIT

# wait_socket PATH PID LOG - until PATH is a socket, 10 s at most
wait_socket() {
	n=0
	while [ ! -S "$1" ]; do
		kill -0 "$2" 2>/dev/null || fail "daemon exited: $(cat "$3")"
		[ $n -gt 100 ] && fail "no socket $1 after 10 s: $(cat "$3")"
		sleep 0.1
		n=$((n + 1))
	done
}

# The layout of the README: /etc/postdrip (root's), /var/lib/postdrip and
# /run/postdrip (the user's, as StateDirectory and RuntimeDirectory).
mkdir -p "$T/etc/workflows" "$T/etc/templates" "$T/data" "$T/run"
chown nobody:"$grp" "$T/data" "$T/run"
chmod 0750 "$T/data"
cat > "$T/etc/postdrip.conf" <<CONF
data_directory = $T/data
milter_listen = unix:$T/run/milter.sock
policyd_listen = unix:$T/run/policyd.sock
mail_owner = postdrip
CONF
PD="$top_builddir/cli/postdrip -c $T/etc/postdrip.conf"

# keygen as root, then the key file given to the daemons' user.
$PD keygen > /dev/null || fail "keygen"
[ "$(stat -c %a "$T/etc/keys")" = 600 ] || fail "keys mode $(stat -c %a "$T/etc/keys")"

# A key file left to root: the engine stops at once, naming the file and
# what to do; the milter runs on but warns (it cannot verify tokens).
asuser "$top_builddir/engine/postdrip-engine" -c "$T/etc/postdrip.conf" --once > "$T/e0.log" 2>&1 &&
	fail "the engine ran without its key file: $(cat "$T/e0.log")"
grep -q "$T/etc/keys: Permission denied.*chown" "$T/e0.log" ||
	fail "the engine's error does not say what to do: $(cat "$T/e0.log")"
$ASUSER "$top_builddir/milter/postdrip-milter" -f -c "$T/etc/postdrip.conf" > "$T/m0.log" 2>&1 &
p=$!
n=0
while ! grep -q "$T/etc/keys" "$T/m0.log" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
grep -q "warning: $T/etc/keys: Permission denied" "$T/m0.log" ||
	fail "the milter does not warn about its key file: $(cat "$T/m0.log")"
pids=$p
stop_all
pids=

chown nobody "$T/etc/keys"
asuser $PD check > "$T/check.out" 2>&1 || fail "check as the daemons' user: $(cat "$T/check.out")"
asuser $PD contact add ann@example.com first_name=Ann > /dev/null || fail "contact add as the user"

# README: a CSV the daemons' user cannot read, imported on standard input
# (root's shell opens it) as that user.
mkdir -m 0700 "$T/root"
printf 'email,first_name\nbob@example.com,Bob\ncarol@example.com,Carol\n' > "$T/root/list.csv"
chmod 0600 "$T/root/list.csv"
if command -v runuser >/dev/null 2>&1; then
	runuser -u nobody -- $PD contact import - < "$T/root/list.csv" > "$T/import.out" 2>&1
else
	asuser $PD contact import - < "$T/root/list.csv" > "$T/import.out" 2>&1
fi || fail "contact import - as the user: $(cat "$T/import.out")"
grep -q "2 added" "$T/import.out" || fail "import: $(cat "$T/import.out")"
asuser $PD contact show carol@example.com | grep -q '"first_name": "Carol"' ||
	fail "the imported contact is not in the store"

if command -v start-stop-daemon >/dev/null 2>&1; then
	# README, "Without systemd": as the user from the start, a pid file
	# each, stderr (-f) appended to a log file.
	mkdir -p "$T/log"
	chown nobody:"$grp" "$T/log"
	for d in milter policyd engine; do
		start-stop-daemon --start --background --make-pidfile \
		    --pidfile "$T/run/$d.pid" --chuid nobody \
		    --output "$T/log/$d.log" \
		    --exec "$(cd "$top_builddir" && pwd)/$d/postdrip-$d" \
		    -- -f -c "$T/etc/postdrip.conf" || fail "start-stop-daemon --start postdrip-$d"
		n=0
		while [ ! -s "$T/run/$d.pid" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		pids="$pids $(cat "$T/run/$d.pid")"
	done
	wait_socket "$T/run/policyd.sock" "$(cat "$T/run/policyd.pid")" "$T/log/policyd.log"
	wait_socket "$T/run/milter.sock" "$(cat "$T/run/milter.pid")" "$T/log/milter.log"
	for d in milter policyd engine; do
		p=$(cat "$T/run/$d.pid")
		[ "$(stat -c %U "/proc/$p")" = nobody ] || fail "postdrip-$d does not run as the user"
	done
	n=0
	until grep -q "postdrip-engine: started" "$T/log/engine.log"; do
		n=$((n + 1))
		[ $n -gt 100 ] && fail "the engine's log file has no start line: $(cat "$T/log/engine.log")"
		sleep 0.1
	done
	# Reload through the pid file, as the README says.
	start-stop-daemon --stop --signal HUP --pidfile "$T/run/milter.pid" ||
		fail "start-stop-daemon --signal HUP"
	n=0
	until grep -q "postdrip-milter: reloaded" "$T/log/milter.log"; do
		n=$((n + 1))
		[ $n -gt 100 ] && fail "the milter did not log its reload: $(cat "$T/log/milter.log")"
		sleep 0.1
	done
else
	$ASUSER "$top_builddir/policyd/postdrip-policyd" -f -c "$T/etc/postdrip.conf" 2> "$T/policyd.log" &
	p=$!
	pids="$pids $p"
	wait_socket "$T/run/policyd.sock" $p "$T/policyd.log"
	$ASUSER "$top_builddir/milter/postdrip-milter" -f -c "$T/etc/postdrip.conf" 2> "$T/milter.log" &
	p=$!
	pids="$pids $p"
	wait_socket "$T/run/milter.sock" $p "$T/milter.log"
fi

# The policy daemon answers (it reads the store the user wrote).
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/run/policyd.sock" > "$T/answer" <<'PY' || fail "policy request: $(cat "$T/policyd.log" "$T/log/policyd.log" 2>/dev/null)"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@news.example.com\n"
          b"recipient=ann@example.com\nclient_address=127.0.0.1\n\n")
buf = b""
while not buf.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.decode().strip())
PY
	grep -q '^action=' "$T/answer" || fail "policy answer: $(cat "$T/answer")"
fi

# The engine runs a round as the user (nothing is due: no mail is sent).
asuser "$top_builddir/engine/postdrip-engine" -c "$T/etc/postdrip.conf" --once > "$T/engine.log" 2>&1 ||
	fail "postdrip-engine --once as the user: $(cat "$T/engine.log")"

# Stopped through the pid files, as the README says.
if command -v start-stop-daemon >/dev/null 2>&1; then
	for d in engine policyd milter; do
		start-stop-daemon --stop --remove-pidfile --retry 10 --pidfile "$T/run/$d.pid" ||
			fail "start-stop-daemon --stop postdrip-$d"
		[ ! -e "$T/run/$d.pid" ] || fail "the pid file of postdrip-$d is left"
	done
	pids=
fi

# Every store file belongs to the daemons' user.
other=$(find "$T/data" ! -user nobody)
[ -z "$other" ] || fail "store files not owned by the daemons' user: $other"
pass
