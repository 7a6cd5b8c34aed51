#!/bin/sh
# policyd_one_rcpt - postdrip-policyd lets one marketing recipient pass per
# transaction (policyd_one_marketing_recipient, default yes): the second
# and later get 452 4.5.3, so the client sends them again in a new
# transaction. A refused first recipient does not use the slot; a new
# message (Postfix "instance") starts again; transactional mail and the
# setting off are not limited.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
policyd="$top_builddir/policyd/postdrip-policyd"
postdrip="$top_builddir/cli/postdrip"
[ -x "$policyd" ] || fail "$policyd not built"
mkdir "$T/data"
cat >"$T/postdrip.conf" <<CONF
data_directory = $T/data
policyd_listen = unix:$T/policyd.sock
marketing_senders = *@news.example.com
CONF
"$postdrip" -c "$T/postdrip.conf" suppress gone@example.org >/dev/null || fail "suppress"

run() {
	"$policyd" -f -c "$T/postdrip.conf" 2>"$T/log" &
	pid=$!
	n=0
	until [ -S "$T/policyd.sock" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || { kill $pid; fail "policyd not up: $(cat "$T/log")"; }
		sleep 0.05
	done
	python3 - "$T/policyd.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
on = sys.argv[2] == "on"
def ask(rcpt, inst, sender="news@news.example.com"):
    req = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
           "protocol_name": "ESMTP", "helo_name": "h", "queue_id": "",
           "sender": sender, "recipient": rcpt, "client_address": "192.0.2.1",
           "client_name": "c", "instance": inst, "sasl_username": ""}
    s.sendall(("".join("%s=%s\n" % kv for kv in req.items()) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        c = s.recv(4096)
        if not c:
            sys.exit("closed")
        buf += c
    return buf.decode().strip()[len("action="):]
def want(got, prefix, what):
    if not got.startswith(prefix):
        sys.exit("%s: got %r, want %r" % (what, got, prefix))
want(ask("gone@example.org", "m1"), "550", "suppressed first")
want(ask("a@example.org", "m1"), "DUNNO", "first that passes")
if on:
    want(ask("b@example.org", "m1"), "452 4.5.3", "second")
    want(ask("c@example.org", "m1"), "452 4.5.3", "third")
else:
    want(ask("b@example.org", "m1"), "DUNNO", "second, setting off")
want(ask("b@example.org", "m2"), "DUNNO", "new transaction")
want(ask("x@example.org", "m2", sender="billing@shop.example.com"), "DUNNO", "transactional")
PY
	rc=$?
	kill $pid; wait $pid 2>/dev/null
	[ $rc = 0 ] || fail "setting $1: $(tail -5 "$T/log")"
}
run on
grep -q '452 4.5.3 one marketing recipient per message.* to=<b@example.org>.* rule=policyd_one_marketing_recipient' "$T/log" ||
    fail "no log line for the 452: $(cat "$T/log")"
echo "policyd_one_marketing_recipient = no" >>"$T/postdrip.conf"
run off
pass
