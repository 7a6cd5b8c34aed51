#!/bin/sh
# milter_bench - Postfix throughput with and without postdrip-milter.
#
# One private Postfix (tests/lib/pfx.sh) relays to smtp-sink. smtp-source
# sends BENCH_MESSAGES messages of 1 KB over 10 sessions, three ways:
#   (a) no milter, (b) a milter that does nothing (null_milter),
#   (c) postdrip-milter, recording every message as a marketing send
#       (the sender matches marketing_senders): one durable store write each.
# A run ends when the sink has every message (Postfix logged status=sent),
# so the figure is what Postfix delivers per second, not only what smtpd
# accepts (smtpd acceptance is printed too). Five short rounds, the three
# ways interleaved so that a burst of load from elsewhere hits all alike; the better round of each way is kept. Prints
# messages/s for each and the ratio (c)/(b) (target: at least 0.90).
#
# BENCH_HTML=1: the messages are instead one 40 KB HTML newsletter with 30
# links (multipart/alternative), sent by a small SMTP client over the same
# sessions, so that (c) rewrites 30 links and adds a pixel in each; the
# sink then checks that the last one came rewritten. The same HTML each
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
for f in "$POSTDRIP" "$MILTER" "$NULL_MILTER"; do
	[ -x "$f" ] || pfx_skip "$f is not built"
done
command -v smtp-source >/dev/null 2>&1 || pfx_skip "smtp-source is not installed"

pfx_init
D=$PFX_DIR
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
n=0
until [ -S "$D/pd.sock" ] && [ -S "$D/null.sock" ]; do
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

# run LABEL - send N messages, wait until all are delivered; prints
# "delivered/s accepted/s" (accepted: smtp-source's own time, which is
# where a milter's cost shows first)
run() {
	_before=$(pfx_count_sent)
	_want=$((${_before:-0} + N))
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
	while [ "$(pfx_count_sent)" -lt "$_want" ]; do
		[ "$(date +%s)" -lt "$_deadline" ] ||
		    pfx_fail "$1: only $(($(pfx_count_sent) - _before)) of $N delivered in ${TIMEOUT}s"
		sleep 0.02
	done
	_t1=$(now)
	echo "$N $_t0 $_t1 $_ta" | awk '{ printf "%.0f %.0f\n", $1 / ($3 - $2), $1 / ($4 - $2) }'
}

# html_source LABEL - N copies of the HTML message over SESSIONS sessions
html_source() {
	"$PFX_PYTHON" - "$PFX_PORT" "$N" "$SESSIONS" "$SENDER" "$D/news.eml" "$BENCH_HTML" <<'PY' ||
import smtplib, sys, threading
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
    if mode == "personal":
        return data.replace(b"NAME", names[k % len(names)] + str(k).encode())
    if mode == "distinct":
        return data.replace(b"NAME", b'<a href="https://shop.example.com/you/%d">you</a>' % k)
    return data
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

best_a=0 best_b=0 best_c=0 acc_a=0 acc_b=0 acc_c=0 cpu_b=0 cpu_c=0
r=1
while [ $r -le "$ROUNDS" ]; do
	use ""
	set -- $(run "no milter"); a=$1; aa=$2
	use "unix:$D/null.sock"
	u0=$(cpu "$NULL_PID")
	set -- $(run "null milter"); b=$1; ab=$2
	cpu_b=$(echo "$cpu_b $u0 $(cpu "$NULL_PID")" | awk '{ print $1 + $3 - $2 }')
	use "unix:$D/pd.sock"
	u0=$(cpu "$PD_PID")
	set -- $(run "postdrip-milter"); c=$1; ac=$2
	cpu_c=$(echo "$cpu_c $u0 $(cpu "$PD_PID")" | awk '{ print $1 + $3 - $2 }')
	echo "round $r: delivered/s (accepted/s): no milter $a ($aa), null milter $b ($ab), postdrip-milter $c ($ac)"
	[ "$a" -gt "$best_a" ] && best_a=$a
	[ "$b" -gt "$best_b" ] && best_b=$b
	[ "$c" -gt "$best_c" ] && best_c=$c
	[ "$aa" -gt "$acc_a" ] && acc_a=$aa
	[ "$ab" -gt "$acc_b" ] && acc_b=$ab
	[ "$ac" -gt "$acc_c" ] && acc_c=$ac
	r=$((r + 1))
done

# Every message of the postdrip-milter rounds was recorded as a send.
sent=$("$POSTDRIP" -c "$CONF" stats | awk '$1 == "sent" { print $2 }')
[ -n "$BENCH_SENDER" ] || [ "${sent:-0}" = $((N * ROUNDS)) ] ||
    pfx_fail "the store has ${sent:-0} sends, want $((N * ROUNDS))"

echo "$best_c $best_b $best_a $acc_c $acc_b" | awk '{ printf "ratio (c)/(b) = %.2f delivered, %.2f accepted (target >= 0.90); (c)/(a) = %.2f\n", $1 / $2, $4 / $5, $1 / $3 }'
if [ -n "$BENCH_HTML" ]; then
	last=$(pfx_sink_files | tail -n 1)
	grep -q 'bounces+' "$last" && [ "$(grep -c 'href="https://track.example.com/c/' "$last")" -ge 30 ] ||
	    pfx_fail "the last message at the sink is not rewritten ($last)"
	grep -q 'rewrite=rewritten links=3[01] pixels=1' "$D/milter.log" ||
	    pfx_fail "the milter did not log 30 links rewritten"
fi
echo "milter_bench: $N messages of $SIZE, $SESSIONS sessions, delivered to smtp-sink (best of $ROUNDS)"
echo "  (a) Postfix, no milter:          $best_a messages/s delivered, $acc_a/s accepted"
echo "  (b) Postfix + null milter:       $best_b messages/s delivered, $acc_b/s accepted"
echo "  (c) Postfix + postdrip-milter:   $best_c messages/s delivered, $acc_c/s accepted ($WHAT)"
echo "$cpu_b $cpu_c $N $ROUNDS" | awk '{ n = $3 * $4; printf "  milter CPU per message: null milter %.3f ms, postdrip-milter %.3f ms\n", 1000 * $1 / n, 1000 * $2 / n }'
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared: figures are noisy under load)"
exit 0
