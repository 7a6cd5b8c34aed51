#!/bin/sh
# classify_reasons - every program reads bounce_reasons_file (bounce-reasons(5)):
# a broken file stops postdrip-engine and postdrip-milter at start with its
# file:line error, and "postdrip check" reports it; an engine that is running
# refuses a reload to a broken file and goes on; a file of one's own decides
# the reasons that "postdrip classify" gives.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

mkdir -p "$T/data" "$T/workflows" "$T/templates"
cat >"$T/postdrip.conf" <<EOF2
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
milter_listen = inet:127.0.0.1:1
bounce_reasons_file = $T/reasons
EOF2
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
$PD keygen >/dev/null || fail "keygen"

# A vocabulary of one's own: a made-up phrase decides a vague 5.0.0.
printf '# test\nmailboxfull  generic  the zebra has eaten the mail\n' >"$T/reasons"
cat >"$T/bounce.eml" <<'EOF2'
From: MAILER-DAEMON@mx.example.org
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; rcpt@example.net
Action: failed
Status: 5.0.0
Diagnostic-Code: smtp; 550 the zebra has eaten the mail

--b--
EOF2
$PD classify "$T/bounce.eml" >"$T/out" || fail "classify"
cut -f6 "$T/out" | grep -qx mailboxfull || { cat "$T/out"; fail "own vocabulary not used"; }
$PD check >"$T/check" || { cat "$T/check"; fail "check refuses a good file"; }

# The same file with an unknown reason on line 2.
printf '# test\nzebrafull  generic  the zebra has eaten the mail\n' >"$T/reasons"
$PD check >"$T/check" && fail "check passes a broken file"
grep -q "$T/reasons:2:" "$T/check" || { cat "$T/check"; fail "check names no line"; }
$PD classify "$T/bounce.eml" >/dev/null 2>"$T/err" && fail "classify with a broken file"
grep -q "$T/reasons:2:" "$T/err" || { cat "$T/err"; fail "classify names no line"; }
"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" --once 2>"$T/err" &&
    fail "engine started with a broken file"
grep -q "$T/reasons:2:" "$T/err" || { cat "$T/err"; fail "engine names no line"; }
"$top_builddir/milter/postdrip-milter" -c "$T/postdrip.conf" -f 2>"$T/err" &
mpid=$!
i=0
while kill -0 $mpid 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { kill $mpid; fail "milter started with a broken file"; }
	sleep 0.05
done
wait $mpid && fail "milter exited 0 with a broken file"
grep -q "$T/reasons:2:" "$T/err" || { cat "$T/err"; fail "milter names no line"; }

# A running engine refuses a reload to a broken file and goes on.
printf 'mailboxfull  generic  the zebra has eaten the mail\n' >"$T/reasons"
"$top_builddir/engine/postdrip-engine" -c "$T/postdrip.conf" -f 2>"$T/engine.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
i=0
until grep -q "started" "$T/engine.log"; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/engine.log"; fail "engine did not start"; }
	sleep 0.05
done
printf 'nosuch  generic  the zebra has eaten the mail\n' >"$T/reasons"
kill -HUP $pid
i=0
until grep -q "reload refused: $T/reasons:1:" "$T/engine.log"; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/engine.log"; fail "broken reload not refused"; }
	sleep 0.05
done
kill -0 $pid || fail "engine stopped on a broken reload"
kill -TERM $pid
wait $pid
echo "classify_reasons: ok"
