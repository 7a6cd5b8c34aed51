#!/bin/sh
# milter_bench - Postfix throughput with and without postdrip-milter.
#
# One private Postfix (tests/lib/pfx.sh) relays to smtp-sink. smtp-source
# sends BENCH_MESSAGES messages of 1 KB over 10 sessions, five ways:
#   (a) no milter, (b) a milter that does nothing (null_milter): it asks
#       Postfix for the end of message only,
#   (d) the floor: a milter that does nothing but takes every header and
#       the body, as any milter that edits the body must (null_milter -a),
#   (e) the floor plus the changes postdrip-milter makes to a send, made
#       blindly: VERP sender, three headers, the body replaced by itself
#       (null_milter -e): what Postfix spends applying them,
#   (c) postdrip-milter, recording every message as a marketing send
#       (the sender matches marketing_senders): one store write each.
# A run ends when the sink has every message (Postfix logged status=sent),
# so the figure is what Postfix delivers per second, not only what smtpd
# accepts (smtpd acceptance is printed too). Five short rounds, the ways
# interleaved so that a burst of load from elsewhere hits all alike, every
# other round in the reverse order; (b) and (c) run one right after the
# other, since the speed of a shared machine drifts within seconds.
# Prints the ratio (c)/(b) (target: at
# least 0.90) as the median of the rounds' own ratios (the ways of one
# round ran side by side, so a slow minute of the machine cancels out),
# then the best round of each way, and (c)/(e): what postdrip-milter's
# own work costs above a milter that makes the same changes blindly.
#
# BENCH_HTML=1: the messages are instead one 40 KB HTML newsletter with 30
# links (multipart/alternative), sent by a small SMTP client over the same
# sessions, so that (c) rewrites 30 links and adds a pixel in each; the
# sink then checks that the last one came rewritten. Each message has a
# Message-ID of its own, as a CRM's or a newsletter tool's has (without
# one, postdrip-milter adds it: one header change more than (e) makes). The same HTML each
# time, as when the policy daemon splits one message into a transaction
# per recipient: the milter parses it once (its plan cache).
# BENCH_HTML=personal: each message greets its recipient by a name of its
# own ("Hello Anna,"): the milter moves the kept parse (a near match).
# BENCH_HTML=distinct: each message differs in its markup (one more link,
# numbered): every message is parsed anew, the cost without the cache.
#
# Needs root (Postfix's master refuses to run otherwise): exits 77 if not.
# Bounded: each run waits at most BENCH_TIMEOUT seconds (60).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/pfx.sh"

N=${BENCH_MESSAGES:-400}
[ -n "$BENCH_HTML" ] && N=${BENCH_MESSAGES:-200}
SESSIONS=${BENCH_SESSIONS:-10}
TIMEOUT=${BENCH_TIMEOUT:-60}
ROUNDS=${BENCH_ROUNDS:-5}
# Another sender (BENCH_SENDER=a@other.test) measures the milter on mail
# that is not marketing: no store write at all.
SENDER=${BENCH_SENDER:-sender@news.test}
if [ -n "$BENCH_SENDER" ]; then
	WHAT="not marketing: nothing recorded"
elif [ -n "$BENCH_HTML" ]; then
	WHAT="each recorded, 30 links rewritten, pixel, VERP, List-Unsubscribe"
	case $BENCH_HTML in
	personal) WHAT="$WHAT; a name per message" ;;
	distinct) WHAT="$WHAT; markup differs per message, parsed each time" ;;
	esac
else
	WHAT="each recorded as a send"
fi
POSTDRIP=$top_builddir/cli/postdrip
MILTER=$top_builddir/milter/postdrip-milter
NULL_MILTER=$top_builddir/bench/null_milter
pfx_need_built "$POSTDRIP" "$MILTER" "$NULL_MILTER"
command -v smtp-source >/dev/null 2>&1 || pfx_skip "smtp-source is not installed"

pfx_init
D=$PFX_DIR
# The sink stands for the remote machines: what it writes must not load
# this machine's disk, which Postfix's queue and postdrip's store share.
# Its files go to memory (tmpfs) and are removed after each run, unless
# BENCH_SINK_DISK is set (the sink then writes beside the queue).
if [ -z "$BENCH_SINK_DISK" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	PFX_SINK=$(mktemp -d /dev/shm/milter_bench.XXXXXX) || pfx_fail "mktemp failed"
	chown postfix "$PFX_SINK"
	pfx_on_exit "rm -rf $PFX_SINK"
	SINK_WHERE="its files in memory"
else
	SINK_WHERE="its files on the queue's disk"
fi
SIZE="1 KB"
if [ -n "$BENCH_HTML" ]; then
	SIZE="40 KB HTML, 30 links"
	"$PFX_PYTHON" - "$D/news.eml" <<'PY' || pfx_fail "cannot make the message"
import sys
links = "".join('<tr><td style="padding:8px"><a href="https://shop.example.com/p/%d?utm_source=news&amp;utm_campaign=spring" style="color:#06c">Product %d</a></td></tr>\n' % (i, i) for i in range(30))
para = '<tr><td style="font-family:Arial;font-size:14px;line-height:20px">' + "Spring offers for our customers, with free delivery this week. " * 6 + '</td></tr>\n'
html = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>News</title></head><body><p>Hello NAME,</p><table width="600">\n'
body = links
while len(html) + len(body) < 38000:
    body += para
html += body + '</table></body></html>\n'
text = "Spring offers: https://shop.example.com/\n"
msg = ("From: News <sender@news.test>\r\nTo: rcpt@sink.test\r\nSubject: Spring\r\n"
       "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
       "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
       "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "--b--\r\n")
open(sys.argv[1], "w", newline="").write(msg.replace("\r\n", "\n").replace("\n", "\r\n"))
PY
fi
CONF=$D/postdrip.conf
cat >"$CONF" <<EOF
data_directory = $D/pd
token_key_file = $D/pd-keys
milter_listen = unix:$D/pd.sock
bounce_domain = bounce.test
marketing_senders = *@news.test
EOF
mkdir -p "$D/pd"
"$POSTDRIP" -c "$CONF" keygen >/dev/null || pfx_fail "keygen"

"$MILTER" -f -c "$CONF" 2>"$D/milter.log" &
PD_PID=$!
pfx_on_exit "kill -TERM $PD_PID"
"$NULL_MILTER" "unix:$D/null.sock" 2>"$D/null.log" &
NULL_PID=$!
pfx_on_exit "kill -TERM $NULL_PID"
"$NULL_MILTER" -a "unix:$D/floor.sock" 2>"$D/floor.log" &
FLOOR_PID=$!
pfx_on_exit "kill -TERM $FLOOR_PID"
"$NULL_MILTER" -e "unix:$D/edit.sock" 2>"$D/edit.log" &
EDIT_PID=$!
pfx_on_exit "kill -TERM $EDIT_PID"
n=0
until [ -S "$D/pd.sock" ] && [ -S "$D/null.sock" ] && [ -S "$D/floor.sock" ] && [ -S "$D/edit.sock" ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || pfx_fail "milters do not listen"
	sleep 0.05
done

pfx_conf "milter_protocol = 6" "milter_default_action = tempfail" \
    "smtpd_milters =" "default_process_limit = 100"
pfx_start

now() { date +%s.%N; }

# cpu PID - user+system CPU seconds of a process so far
TICK=$(getconf CLK_TCK)
cpu() {
	awk -v t="$TICK" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / t }' "/proc/$1/stat"
}

# sent_since OFFSET - deliveries Postfix logged after byte OFFSET of its
# log. Only the new part is read: counting the whole log 50 times a
# second costs CPU that grows with every round and is taken from
# whichever way is measured last.
sent_since() {
	tail -c "+$(($1 + 1))" "$PFX_LOG" 2>/dev/null |
	    grep -c ' relay=127\.0\.0\.1\[127\.0\.0\.1\]:'"$PFX_SINK_PORT"'.* status=sent '
}

# run LABEL - send N messages, wait until all are delivered; prints
# "delivered/s accepted/s" (accepted: smtp-source's own time, which is
# where a milter's cost shows first)
run() {
	_off=$(stat -c %s "$PFX_LOG")
	_t0=$(now)
	if [ -n "$BENCH_HTML" ]; then
		html_source "$1"
	else
		smtp-source -s "$SESSIONS" -m "$N" -l 1024 -f "$SENDER" \
		    -t rcpt@sink.test "127.0.0.1:$PFX_PORT" >/dev/null 2>&1 ||
		    pfx_fail "smtp-source failed ($1)"
	fi
	_ta=$(now)
	_deadline=$(($(date +%s) + TIMEOUT))
	while [ "$(sent_since "$_off")" -lt "$N" ]; do
		[ "$(date +%s)" -lt "$_deadline" ] ||
		    pfx_fail "$1: only $(sent_since "$_off") of $N delivered in ${TIMEOUT}s"
		sleep 0.02
	done
	_t1=$(now)
	echo "$N $_t0 $_t1 $_ta" | awk '{ printf "%.0f %.0f\n", $1 / ($3 - $2), $1 / ($4 - $2) }'
}

# html_source LABEL - N copies of the HTML message over SESSIONS sessions
html_source() {
	"$PFX_PYTHON" - "$PFX_PORT" "$N" "$SESSIONS" "$SENDER" "$D/news.eml" "$BENCH_HTML" <<'PY' ||
import smtplib, sys, threading, uuid
port, n, sessions, sender, path, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
data = open(path, "rb").read()
names = [b"Anna", b"Bob", b"Jean-Luc", b"Zo\xc3\xab", b"Maximiliana", b"Li", b"Oskar", b"Ingrid"]
errors = []
count_lock = threading.Lock()
sent = [0]
def body():
    with count_lock:
        k = sent[0]
        sent[0] += 1
    mid = b"Message-ID: <%s@news.test>\r\n" % uuid.uuid4().hex.encode()
    if mode == "personal":
        return mid + data.replace(b"NAME", names[k % len(names)] + str(k).encode())
    if mode == "distinct":
        return mid + data.replace(b"NAME", b'<a href="https://shop.example.com/you/%d">you</a>' % k)
    return mid + data
def worker(count):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        for _ in range(count):
            s.sendmail(sender, ["rcpt@sink.test"], body())
        s.quit()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=worker, args=(n // sessions + (1 if i < n % sessions else 0),)) for i in range(sessions)]
for t in ts: t.start()
for t in ts: t.join()
sys.exit(errors[0] if errors else 0)
PY
	    pfx_fail "html source failed ($1)"
}

# use MILTER - switch smtpd_milters and wait for new smtpd processes
use() {
	pfx_conf "smtpd_milters = $1"
	pfx_reload
	sleep 1
}

# Warm up: processes started, files created.
N_SAVE=$N
N=200
use ""
run warmup >/dev/null
N=$N_SAVE

# machine_cpu - the whole machine's busy, idle and stolen CPU ticks so
# far (/proc/stat: busy is user, nice, system, irq and softirq; idle
# includes iowait; stolen is time the hypervisor gave to others)
machine_cpu() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat
}

# keep_max VAR VALUE - VAR becomes VALUE if that is more
keep_max() {
	eval "[ \"$2\" -gt \"\$$1\" ] && $1=$2"
	:
}

# add_cpu VAR BEFORE PID - add the CPU seconds PID used since BEFORE
add_cpu() {
	eval "$1=\$(echo \"\$$1 $2 $(cpu "$3")\" | awk '{ print \$1 + \$3 - \$2 }')"
}

# way X - one measured run of way X (a, b, d, e or c): the best delivered
# and accepted rates so far, this run's rates, the milter's CPU time
way() {
	case $1 in
	a) _sock= _pid= _label="no milter" ;;
	b) _sock=null _pid=$NULL_PID _label="null milter" ;;
	d) _sock=floor _pid=$FLOOR_PID _label="floor milter" ;;
	e) _sock=edit _pid=$EDIT_PID _label="edit milter" ;;
	c) _sock=pd _pid=$PD_PID _label="postdrip-milter" ;;
	esac
	use "${_sock:+unix:$D/$_sock.sock}"
	[ -z "$_pid" ] || _u0=$(cpu "$_pid")
	_s0=$(machine_cpu)
	_w=$1
	set -- $(run "$_label")
	[ -z "$_pid" ] || add_cpu "cpu_$_w" "$_u0" "$_pid"
	echo "$_w $_s0 $(machine_cpu)" >>"$D/machine.cpu"
	keep_max "best_$_w" "$1"
	keep_max "acc_$_w" "$2"
	eval "del_$_w=$1 line_$_w=\"$1 ($2)\""
	# The check below reads the last message that went through it.
	if [ "$_w" = c ]; then
		cp "$(pfx_sink_files | tail -n 1)" "$D/last_c.eml"
		last_c=$D/last_c.eml
	fi
	case $SINK_WHERE in *memory*) find "$PFX_SINK" -type f -delete ;; esac
}

# median FILE - the middle one of the numbers in FILE (one a line)
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

best_a=0 best_b=0 best_c=0 best_d=0 best_e=0
acc_a=0 acc_b=0 acc_c=0 acc_d=0 acc_e=0
cpu_b=0 cpu_c=0 cpu_d=0 cpu_e=0
: >"$D/ratio.cb"; : >"$D/ratio.cd"; : >"$D/ratio.ce"; : >"$D/ratio.db"; : >"$D/ratio.eb"
r=1
while [ $r -le "$ROUNDS" ]; do
	# Every other round in the other order, so that a drift in the
	# machine's load over a round favours no way; (b) next to (c).
	if [ $((r % 2)) = 1 ]; then order="a d e b c"; else order="c b e d a"; fi
	for w in $order; do
		way "$w"
	done
	echo "round $r ($order): delivered/s (accepted/s): no milter $line_a, null $line_b, floor $line_d, edit $line_e, postdrip-milter $line_c"
	# Each round's ratios: the ways of one round ran side by side.
	awk -v c="$del_c" -v b="$del_b" 'BEGIN { printf "%.2f\n", c / b }' >>"$D/ratio.cb"
	awk -v c="$del_c" -v d="$del_d" 'BEGIN { printf "%.2f\n", c / d }' >>"$D/ratio.cd"
	awk -v c="$del_c" -v e="$del_e" 'BEGIN { printf "%.2f\n", c / e }' >>"$D/ratio.ce"
	awk -v d="$del_d" -v b="$del_b" 'BEGIN { printf "%.2f\n", d / b }' >>"$D/ratio.db"
	awk -v e="$del_e" -v b="$del_b" 'BEGIN { printf "%.2f\n", e / b }' >>"$D/ratio.eb"
	r=$((r + 1))
done

# Every message of the postdrip-milter rounds was recorded as a send.
sent=$("$POSTDRIP" -c "$CONF" stats | awk '$1 == "sent" { print $2 }')
[ -n "$BENCH_SENDER" ] || [ "${sent:-0}" = $((N * ROUNDS)) ] ||
    pfx_fail "the store has ${sent:-0} sends, want $((N * ROUNDS))"

echo "ratio (c)/(b) = $(median "$D/ratio.cb") delivered, median of $ROUNDS rounds (target >= 0.90); per round: $(tr '\n' ' ' <"$D/ratio.cb")"
echo "  best of each: (c)/(b) = $(awk -v c="$best_c" -v b="$best_b" 'BEGIN { printf "%.2f", c / b }') delivered, $(awk -v c="$acc_c" -v b="$acc_b" 'BEGIN { printf "%.2f", c / b }') accepted; (c)/(a) = $(awk -v c="$best_c" -v a="$best_a" 'BEGIN { printf "%.2f", c / a }')"
echo "  medians: (d)/(b) = $(median "$D/ratio.db") the floor; (e)/(b) = $(median "$D/ratio.eb") the floor with the same changes; (c)/(d) = $(median "$D/ratio.cd"); (c)/(e) = $(median "$D/ratio.ce") what postdrip-milter's own work costs"
if [ -n "$BENCH_HTML" ]; then
	grep -q 'bounces+' "$last_c" && [ "$(grep -c 'href="https://track.example.com/c/' "$last_c")" -ge 30 ] ||
	    pfx_fail "the last message of the postdrip-milter run is not rewritten ($last_c)"
	grep -q 'rewrite=rewritten links=3[01] pixels=1' "$D/milter.log" ||
	    pfx_fail "the milter did not log 30 links rewritten"
fi
echo "milter_bench: $N messages of $SIZE, $SESSIONS sessions, delivered to smtp-sink ($SINK_WHERE), best of $ROUNDS"
echo "  (a) Postfix, no milter:          $best_a messages/s delivered, $acc_a/s accepted"
echo "  (b) Postfix + null milter:       $best_b messages/s delivered, $acc_b/s accepted (end of message only)"
echo "  (d) Postfix + floor milter:      $best_d messages/s delivered, $acc_d/s accepted (takes every header and the body, does nothing)"
echo "  (e) Postfix + edit milter:       $best_e messages/s delivered, $acc_e/s accepted (the floor, plus VERP, three headers and the body replaced)"
echo "  (c) Postfix + postdrip-milter:   $best_c messages/s delivered, $acc_c/s accepted ($WHAT)"
echo "$cpu_b $cpu_c $N $ROUNDS $cpu_d $cpu_e" | awk '{ n = $3 * $4; printf "  milter CPU per message: null %.3f ms, floor %.3f ms, edit %.3f ms, postdrip-milter %.3f ms\n", 1000 * $1 / n, 1000 * $5 / n, 1000 * $6 / n, 1000 * $2 / n }'
# The machine's CPU per delivered message, by way: while the machine is
# saturated (idle near 0), throughput goes as its inverse, and it is far
# steadier than a rate. Pooled over the rounds. Idle time per message
# shows where sessions waited on something other than the CPU.
awk -v n="$N" -v t="$TICK" '
{ w = $1; busy[w] += $5 - $2; idle[w] += $6 - $3; stolen[w] += $7 - $4; k[w]++ }
END {
	split("a b d e c", order, " ")
	for (i = 1; i <= 5; i++) {
		w = order[i]
		ms[w] = 1000 * busy[w] / t / (n * k[w])
		line = line sprintf(" (%s) %.2f", w, ms[w])
		iline = iline sprintf(" (%s) %.2f", w, 1000 * idle[w] / t / (n * k[w]))
		st += stolen[w]
	}
	printf "  machine CPU per delivered message, ms busy:%s\n", line
	printf "    ms idle:%s; stolen by the hypervisor: %d ticks\n", iline, st
	printf "    CPU ratio (b)/(c) = %.2f; (b)/(d) = %.2f the floor; (b)/(e) = %.2f the edits\n", ms["b"] / ms["c"], ms["b"] / ms["d"], ms["b"] / ms["e"]
}' "$D/machine.cpu"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared: figures are noisy under load)"
exit 0
