# NAME
#	pfx.sh 7
# SUMMARY
#	a private Postfix on 127.0.0.1 for one test
# SYNOPSIS
#	. "$top_srcdir/tests/lib/pfx.sh"
#
#	pfx_require			# exit 77 unless root with Postfix
#	pfx_init			# temp dir, ports, main.cf, master.cf
#	pfx_conf 'name = value' ...	# extra main.cf settings
#	pfx_master 'service type ... command'	# extra master.cf lines
#	pfx_backdate			# after editing main.cf/master.cf by hand
#	pfx_need_built FILE...		# skip unless these programs are built
#	pfx_start			# Postfix and smtp-sink, waits until both listen
#	qid=$(pfx_send FROM TO [swaks options])
#	qid=$(pfx_send_file FROM TO FILE)
#	transcript=$(pfx_swaks [swaks options])
#	pfx_sendmail FROM TO... <message	# local submission (non_smtpd_milters)
#	pfx_wait_delivered [COUNT [SECONDS]]
#	pfx_wait_log PATTERN [SECONDS]
#	pfx_wait_file FILE PATTERN [SECONDS]	# the same for another log
#	pfx_queue_id_of MESSAGE-ID
#	pfx_log_grep PATTERN
#	pfx_sink_files
#	pfx_reload
#	pfx_on_exit COMMAND		# more clean-up (a milter's pid, ...)
#	pfx_spawn NAME COMMAND...	# a daemon of the test, stopped at exit
#	pfx_wait_socket PATH [SECONDS [NAME]]	# until a unix socket exists
#	pfx_wait_listen PORT [SECONDS]	# until 127.0.0.1:PORT accepts
#	pfx_kill PID [SECONDS]		# TERM, bounded wait, then KILL
#	port=$(pfx_free_port)		# for the test's own daemons
#	pfx_stop			# also run by the exit trap
# DESCRIPTION
#	Each test gets its own Postfix instance: configuration, queue and
#	data directories under one temporary directory, smtpd on a free
#	loopback port, and smtp-sink as "the Internet": mail for the
#	domain sink.test is relayed to it and each message lands in its own
#	file under $PFX_SINK. Postfix's log goes to $PFX_LOG (maillog_file),
#	since there is no syslog to read.
#
#	Everything started here is stopped by the exit trap, also when the
#	test fails or is interrupted: master by its pid file (then its
#	session, by id, if it does not go), smtp-sink and pfx_on_exit
#	commands by what they registered. The temporary directory is removed
#	unless PFX_KEEP=1 is set (it is named on stderr when a test fails).
#	pfx_init owns the EXIT, INT, TERM and HUP traps: a test that needs
#	its own clean-up registers it with pfx_on_exit instead of "trap".
#
#	Variables for the test: PFX_DIR (the root), PFX_ETC (config_directory),
#	PFX_PORT (smtpd), PFX_SINK_PORT, PFX_SINK (sink files), PFX_LOG.
#	Mail to any other domain than sink.test is refused at RCPT, or
#	bounced when submitted locally, with "no outbound delivery in tests";
#	local.test is the local domain.
#
#	Timeouts are bounded: pfx_start waits at most PFX_START_TIMEOUT
#	seconds (10), the wait functions their argument (default 20).
# DIAGNOSTICS
#	Failures print "pfx: ..." on stderr and return non-zero; the
#	Postfix log is copied to stderr when a start fails.
# SEE ALSO
#	Postfix's own documentation (postconf(5), master(5)) for the settings used.
#--

PFX_START_TIMEOUT=${PFX_START_TIMEOUT:-10}
PFX_CLEANUP=
PFX_STARTED=0
PFX_SINK_PID=

# Postfix lives in /usr/sbin, which a test's PATH may lack.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;;
esac
# The system's python3 first: a per-user shim costs a quarter second a call.
if [ -x /usr/bin/python3 ]; then
	PFX_PYTHON=/usr/bin/python3
else
	PFX_PYTHON=python3
fi
PFX_DAEMON_DIR=$(postconf -h -d daemon_directory 2>/dev/null || echo /usr/lib/postfix/sbin)

# pfx_skip - skip the test (automake's exit 77) with a reason
pfx_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# pfx_fail - give up on the test with a reason
pfx_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# pfx_need_built FILE... - skip unless each program of the build is there
pfx_need_built() {
	for _f; do
		[ -x "$_f" ] || pfx_skip "$_f is not built"
	done
}

# pfx_require - skip unless this machine can run a private Postfix
pfx_require() {
	[ "$(id -u)" = 0 ] ||
	    pfx_skip "Postfix integration tests need root (master(8) refuses to run otherwise)"
	command -v postfix >/dev/null 2>&1 && command -v postconf >/dev/null 2>&1 ||
	    pfx_skip "postfix is not installed (Debian package postfix)"
	command -v smtp-sink >/dev/null 2>&1 ||
	    pfx_skip "smtp-sink is not installed (Debian package postfix)"
	[ -x "$PFX_DAEMON_DIR/master" ] ||
	    pfx_skip "no Postfix master in $PFX_DAEMON_DIR"
	command -v swaks >/dev/null 2>&1 ||
	    pfx_skip "swaks is not installed (Debian package swaks)"
	command -v "$PFX_PYTHON" >/dev/null 2>&1 ||
	    pfx_skip "python3 is not installed (used to find free ports)"
	getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
	    pfx_skip "no postfix user or postdrop group (install the Debian package postfix)"
}

# pfx_free_port - print a loopback TCP port that is free now and reserved
#
# Ports come from 20000-32767, below Linux's ephemeral range, so that
# outgoing connections do not take them meanwhile. A port is reserved by a
# directory made atomically under $TMPDIR/postdrip-ports, so tests that run
# in parallel never pick the same one; reservations made after pfx_init are
# dropped at exit, and ones older than an hour (a killed test) are ignored.
pfx_free_port() {
	_pfx_port=$("$PFX_PYTHON" - "${TMPDIR:-/tmp}/postdrip-ports" <<'EOF'
import os, random, socket, sys, time
lockdir = sys.argv[1]
os.makedirs(lockdir, exist_ok=True)
for attempt in range(500):
    port = random.randint(20000, 32767)
    lock = os.path.join(lockdir, str(port))
    try:
        os.mkdir(lock)
    except FileExistsError:
        try:
            if time.time() - os.stat(lock).st_mtime < 3600:
                continue
            os.utime(lock)
        except OSError:
            continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        os.rmdir(lock)
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
EOF
	) || { echo "pfx: no free port found" >&2; return 1; }
	# A file, not a variable: callers run this in a subshell.
	[ -n "$PFX_DIR" ] && echo "$_pfx_port" >>"$PFX_DIR/ports"
	echo "$_pfx_port"
}

# pfx_release_ports - drop this test's port reservations
pfx_release_ports() {
	[ -n "$PFX_DIR" ] && [ -f "$PFX_DIR/ports" ] || return 0
	for _p in $(cat "$PFX_DIR/ports"); do
		rmdir "${TMPDIR:-/tmp}/postdrip-ports/$_p" 2>/dev/null
	done
	: >"$PFX_DIR/ports"
}

# pfx_on_exit - run a command when the test ends (last registered, first run)
pfx_on_exit() {
	PFX_CLEANUP="$*
$PFX_CLEANUP"
}

# pfx_kill - stop process $1: SIGTERM, at most $2 seconds (5), then SIGKILL
pfx_kill() {
	_kp=$1
	_kn=$(( ${2:-5} * 20 ))
	kill -TERM "$_kp" 2>/dev/null || return 0
	while pfx_alive "$_kp" && [ "$_kn" -gt 0 ]; do
		sleep 0.05
		_kn=$((_kn - 1))
	done
	pfx_alive "$_kp" && kill -KILL "$_kp" 2>/dev/null
	wait "$_kp" 2>/dev/null
	return 0
}

# pfx_spawn - run a daemon of the test in the background, stopped at exit
#
# pfx_spawn NAME COMMAND [ARGS...]: stdout and stderr go to
# $PFX_DIR/NAME.log; the pid is in PFX_PID_NAME (and printed by
# pfx_pid NAME). Use pfx_wait_socket or pfx_wait_listen for readiness.
pfx_spawn() {
	[ -n "$PFX_DIR" ] || pfx_fail "pfx_spawn before pfx_init"
	_sn=$1
	shift
	"$@" >>"$PFX_DIR/$_sn.log" 2>&1 &
	eval "PFX_PID_$_sn=\$!"
	pfx_on_exit "pfx_kill $!"
}

# pfx_pid - the pid of a daemon started by pfx_spawn
pfx_pid() {
	eval "echo \${PFX_PID_$1:-}"
}

# pfx_wait_socket - wait until a unix socket exists, at most SECONDS (10);
# fail early, with its log, when daemon NAME (third argument) has exited
pfx_wait_socket() {
	_deadline=$(($(date +%s) + ${2:-10}))
	_wp=
	[ -n "${3:-}" ] && _wp=$(pfx_pid "$3")
	until [ -S "$1" ]; do
		if [ -n "$_wp" ] && ! pfx_alive "$_wp"; then
			cat "$PFX_DIR/$3.log" >&2 2>/dev/null
			echo "pfx: $3 exited before making $1" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo "pfx: no socket $1 after ${2:-10}s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# pfx_cleanup - the exit trap: stop everything, remove the temp dir
pfx_cleanup() {
	_pfx_status=$?
	trap - EXIT INT TERM HUP
	set +e
	_pfx_ifs=$IFS
	IFS='
'
	for _c in $PFX_CLEANUP; do
		IFS=$_pfx_ifs
		eval "$_c" >/dev/null 2>&1
	done
	IFS=$_pfx_ifs
	PFX_CLEANUP=
	pfx_stop
	pfx_release_ports
	# testlib.sh's own exit trap, which pfx_init replaced.
	command -v _testlib_cleanup >/dev/null 2>&1 && _testlib_cleanup
	if [ -n "$PFX_DIR" ] && [ -d "$PFX_DIR" ]; then
		if [ "$_pfx_status" != 0 ] && [ "$_pfx_status" != 77 ]; then
			echo "pfx: test failed ($_pfx_status); last lines of $PFX_LOG:" >&2
			tail -n 30 "$PFX_LOG" >&2 2>/dev/null
		fi
		if [ "${PFX_KEEP:-0}" = 1 ]; then
			echo "pfx: kept $PFX_DIR" >&2
		else
			rm -rf "$PFX_DIR"
		fi
	fi
	exit "$_pfx_status"
}

# pfx_init - make the instance's directories and configuration
pfx_init() {
	pfx_require
	trap pfx_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	_pfx_tmp=${TMPDIR:-/tmp}
	PFX_DIR=$(mktemp -d "$_pfx_tmp/pfx.XXXXXX") || pfx_fail "mktemp failed"
	# The postfix user must reach everything below (mktemp makes 0700).
	chmod 755 "$PFX_DIR"
	PFX_ETC=$PFX_DIR/etc
	PFX_SINK=$PFX_DIR/sink
	PFX_LOG=$PFX_DIR/maillog
	mkdir -p "$PFX_ETC" "$PFX_DIR/queue" "$PFX_DIR/data" "$PFX_SINK" \
	    "$PFX_DIR/mail"
	chown postfix "$PFX_DIR/data" "$PFX_SINK"
	chmod 1777 "$PFX_DIR/mail"
	: >"$PFX_LOG"
	PFX_PORT=$(pfx_free_port) || pfx_fail "no free port"
	PFX_SINK_PORT=$(pfx_free_port) || pfx_fail "no free port"
	PFX_NAME=pfx-$(basename "$PFX_DIR" | sed 's/^pfx\.//')
	# The real path: maillog_file_prefixes compares text, not inodes.
	_pfx_root=$(cd "$_pfx_tmp" && pwd -P)
	cat >"$PFX_ETC/main.cf" <<EOF
# Generated by tests/lib/pfx.sh for one test.
compatibility_level = 3.6
config_directory = $PFX_ETC
queue_directory = $PFX_DIR/queue
data_directory = $PFX_DIR/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $PFX_NAME
maillog_file = $PFX_LOG
maillog_file_prefixes = $_pfx_root, $PFX_DIR, /var, /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.local.test
mydomain = local.test
myorigin = local.test
mydestination = local.test
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$PFX_SINK_PORT }
default_transport = error:no outbound delivery in tests
relay_transport = error:no outbound delivery in tests
alias_maps =
alias_database =
mail_spool_directory = $PFX_DIR/mail
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
readme_directory = no
inet_protocols = ipv4
# A test must not wait for Postfix's production pacing.
in_flow_delay = 0
delay_warning_time = 0
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
smtp_connect_timeout = 5s
EOF
	# Every service unchrooted (the chroot would lack the temp dir);
	# no pipe(8) transports; postlog kept, maillog_file needs it.
	cat >"$PFX_ETC/master.cf" <<EOF
# Generated by tests/lib/pfx.sh for one test.
127.0.0.1:$PFX_PORT inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
local      unix  - n n -     - local
virtual    unix  - n n -     - virtual
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
}

# pfx_backdate - date main.cf and master.cf a few seconds back
#
# Every Postfix program that reads a main.cf or master.cf changed within
# the last second waits for it to settle, 300 ms at a time; a test edits
# them and starts or reloads at once. Call this after editing them by
# hand (pfx_conf and pfx_master do).
pfx_backdate() {
	touch -d "@$(($(date +%s) - 5))" "$PFX_ETC/main.cf" "$PFX_ETC/master.cf"
}

# pfx_conf - add or change main.cf settings ('name = value' each)
pfx_conf() {
	[ -n "$PFX_ETC" ] || pfx_fail "pfx_conf before pfx_init"
	postconf -c "$PFX_ETC" -e "$@" || pfx_fail "postconf -e $*"
	pfx_backdate
}

# pfx_master - append master.cf lines (a second smtpd, a content filter)
pfx_master() {
	[ -n "$PFX_ETC" ] || pfx_fail "pfx_master before pfx_init"
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$PFX_ETC/master.cf"
	done
	pfx_backdate
}

# pfx_wait_listen - wait until 127.0.0.1:PORT accepts, at most SECONDS
pfx_wait_listen() {
	"$PFX_PYTHON" - "$1" "${2:-$PFX_START_TIMEOUT}" <<'EOF'
import socket, sys, time
port, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
while True:
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        sys.exit(0)
    except OSError:
        if time.time() > deadline:
            sys.exit(1)
        time.sleep(0.02)
    finally:
        s.close()
EOF
}

# pfx_alive - is process $1 running (a zombie is not)?
pfx_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) in
	Z|X|"") return 1 ;;
	esac
	return 0
}

# pfx_session_pids - the processes of session $1 (from /proc: no ps needed)
pfx_session_pids() {
	_sid=$1
	for _st in /proc/[0-9]*/stat; do
		# "pid (comm) state ppid pgrp session ...": comm may hold spaces.
		{ read -r _line <"$_st"; } 2>/dev/null || continue
		_pid=${_st#/proc/}
		_pid=${_pid%/stat}
		# shellcheck disable=SC2086
		set -- ${_line##*) }
		[ "${4:-}" = "$_sid" ] && echo "$_pid"
	done
	return 0
}

# pfx_master_pid - the running master's pid, or nothing
pfx_master_pid() {
	_pf=$PFX_DIR/queue/pid/master.pid
	[ -s "$_pf" ] || return 1
	_mp=$(tr -dc '0-9' <"$_pf")
	[ -n "$_mp" ] && pfx_alive "$_mp" && echo "$_mp"
}

# pfx_queue_dirs - the queue directories, as "postfix check" would make them
pfx_queue_dirs() {
	_q=$PFX_DIR/queue
	for _d in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace; do
		mkdir -p "$_q/$_d"
		chown postfix:root "$_q/$_d"
		chmod 700 "$_q/$_d"
	done
	mkdir -p "$_q/maildrop" "$_q/public" "$_q/pid"
	chown postfix:postdrop "$_q/maildrop" "$_q/public"
	chmod 730 "$_q/maildrop"
	chmod 710 "$_q/public"
	chmod 755 "$_q/pid"
}

# pfx_start - start smtp-sink and Postfix; return when both listen
pfx_start() {
	[ -n "$PFX_ETC" ] || pfx_init
	smtp-sink -u postfix -h sink.test -d "$PFX_SINK/%Y%m%d%H%M%S." \
	    "127.0.0.1:$PFX_SINK_PORT" 256 >"$PFX_DIR/sink.log" 2>&1 &
	PFX_SINK_PID=$!
	pfx_queue_dirs
	pfx_backdate
	# master -w returns once the daemon has initialized (sockets bound),
	# and skips the checks "postfix start" runs, which take a second.
	if ! "$PFX_DAEMON_DIR/master" -w -c "$PFX_ETC" >"$PFX_DIR/start.log" 2>&1; then
		cat "$PFX_DIR/start.log" "$PFX_LOG" >&2
		pfx_fail "Postfix master did not start"
	fi
	PFX_STARTED=1
	if ! pfx_wait_listen "$PFX_PORT"; then
		cat "$PFX_DIR/start.log" "$PFX_LOG" >&2
		pfx_fail "Postfix does not listen on 127.0.0.1:$PFX_PORT after ${PFX_START_TIMEOUT}s"
	fi
	if ! pfx_wait_listen "$PFX_SINK_PORT"; then
		cat "$PFX_DIR/sink.log" >&2
		pfx_fail "smtp-sink does not listen on 127.0.0.1:$PFX_SINK_PORT"
	fi
}

# pfx_reload - re-read main.cf and master.cf after pfx_conf
pfx_reload() {
	pfx_backdate
	postfix -c "$PFX_ETC" reload >/dev/null 2>&1 ||
	    pfx_fail "postfix reload failed"
}

# pfx_stop - stop master and smtp-sink (and wait, bounded, until gone)
pfx_stop() {
	if [ "$PFX_STARTED" = 1 ]; then
		PFX_STARTED=0
		_mp=$(pfx_master_pid)
		if [ -n "$_mp" ]; then
			# What "postfix stop" does, without the scripts around it.
			kill -TERM "$_mp" 2>/dev/null
			_n=0
			while pfx_alive "$_mp" && [ $_n -lt 100 ]; do
				sleep 0.05
				_n=$((_n + 1))
			done
			# Master runs its own session: whatever is left of it is ours.
			for _p in $(pfx_session_pids "$_mp"); do
				kill -KILL "$_p" 2>/dev/null
			done
		fi
	fi
	if [ -n "$PFX_SINK_PID" ]; then
		kill -TERM "$PFX_SINK_PID" 2>/dev/null
		wait "$PFX_SINK_PID" 2>/dev/null
		PFX_SINK_PID=
	fi
}

# pfx_swaks_qid - the queue id in swaks output on stdin ("queued as X")
pfx_swaks_qid() {
	sed -n 's/.*<- *250 .*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -n 1
}

# pfx_swaks - run swaks against the private smtpd; prints its transcript
pfx_swaks() {
	swaks --server 127.0.0.1 --port "$PFX_PORT" --helo client.test \
	    --timeout 20 "$@" 2>&1
}

# pfx_send - send one message to the private smtpd; prints its queue id
#
# Extra arguments go to swaks (--header, --body, --port, ...); a failed
# transaction prints swaks's transcript on stderr and returns 1.
pfx_send() {
	_from=$1 _to=$2
	shift 2
	_out=$(pfx_swaks --from "$_from" --to "$_to" "$@")
	_rc=$?
	_qid=$(printf '%s\n' "$_out" | pfx_swaks_qid)
	if [ $_rc != 0 ] || [ -z "$_qid" ]; then
		printf '%s\n' "$_out" >&2
		echo "pfx: sending from $_from to $_to failed (swaks exit $_rc)" >&2
		return 1
	fi
	echo "$_qid"
}

# pfx_send_file - send a whole message (headers and body) from a file
pfx_send_file() {
	_f=$3
	[ -r "$_f" ] || pfx_fail "cannot read $_f"
	_from=$1 _to=$2
	shift 3
	pfx_send "$_from" "$_to" --data - "$@" <"$_f"
}

# pfx_sendmail - submit a message on stdin with sendmail(1), as a local
# program would: it goes through pickup(8) and non_smtpd_milters.
pfx_sendmail() {
	_from=$1
	shift
	sendmail -C "$PFX_ETC" -f "$_from" -- "$@" ||
	    { echo "pfx: sendmail -f $_from $* failed" >&2; return 1; }
}

# pfx_count_sent - deliveries to the sink so far, per Postfix's log
pfx_count_sent() {
	grep -c ' relay=127\.0\.0\.1\[127\.0\.0\.1\]:'"$PFX_SINK_PORT"'.* status=sent ' \
	    "$PFX_LOG" 2>/dev/null
}

# pfx_sink_files - the sink's message files, oldest first
pfx_sink_files() {
	ls -tr "$PFX_SINK" 2>/dev/null | sed "s|^|$PFX_SINK/|"
}

# pfx_wait_delivered - wait until COUNT (1) messages reached the sink
#
# Both must agree: Postfix logged status=sent (so the sink answered 250
# after writing the whole file) and that many files are there. Waits at
# most SECONDS (20).
pfx_wait_delivered() {
	_want=${1:-1}
	_deadline=$(($(date +%s) + ${2:-20}))
	while :; do
		_got=$(pfx_count_sent)
		_files=$(ls "$PFX_SINK" 2>/dev/null | wc -l)
		if [ "${_got:-0}" -ge "$_want" ] && [ "$_files" -ge "$_want" ]; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo "pfx: $_want deliveries expected, log shows ${_got:-0}, sink has $_files" >&2
			return 1
		fi
		sleep 0.05
	done
}

# pfx_wait_log - wait until an extended regex matches a line of the log
pfx_wait_log() {
	pfx_wait_file "$PFX_LOG" "$@"
}

# pfx_wait_file FILE PATTERN [SECONDS] - until a line of FILE matches the
# extended regex (a daemon's own log), at most SECONDS (20); 1 if none
pfx_wait_file() {
	_deadline=$(($(date +%s) + ${3:-20}))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo "pfx: no line of $1 matches /$2/ after ${3:-20}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# pfx_log_grep - the log lines that match an extended regex
pfx_log_grep() {
	grep -E -- "$1" "$PFX_LOG"
}

# pfx_queue_id_of - the queue id cleanup(8) logged for a Message-ID
pfx_queue_id_of() {
	_mid=$(printf '%s' "$1" | sed 's/^<//; s/>$//')
	awk -v m="message-id=<$_mid>" '
	    index($0, m) {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9A-Za-z]+:$/ && $(i + 1) ~ /^message-id=/) {
				sub(/:$/, "", $i); print $i; exit
			}
	    }' "$PFX_LOG"
}
