#!/bin/sh
# classify_cli - "postdrip classify": the output contract (one tab-separated
# line per recipient: file kind recipient status class reason; one line with
# an empty recipient when there is none), -d, and the exit status.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip"
TAB=$(printf '\t')

cat > "$T/dsn.eml" <<'MSG'
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<a@example.org>: host mx.example.org said: 550 5.1.1 <a@example.org>: User
    unknown (in reply to RCPT TO command)
<b@example.org>: host mx.example.org said: 452 4.2.2 Mailbox full

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; A@Example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>: User unknown

Final-Recipient: rfc822; b@example.org
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
--b--
MSG
cat > "$T/plain.eml" <<'MSG'
From: someone@example.com
Subject: Hello

Just a note.
MSG

out=$($PD classify "$T/dsn.eml" "$T/plain.eml") || fail "exit status $? on readable files"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] || fail "want 3 lines, got: $out"
printf '%s\n' "$out" | grep -qx "$T/dsn.eml${TAB}bounce${TAB}a@example.org${TAB}5.1.1${TAB}hard${TAB}userunknown" ||
	fail "hard bounce row: $out"
printf '%s\n' "$out" | grep -qx "$T/dsn.eml${TAB}bounce${TAB}b@example.org${TAB}4.2.2${TAB}soft${TAB}mailboxfull" ||
	fail "soft bounce row: $out"
printf '%s\n' "$out" | grep -qx "$T/plain.eml${TAB}other${TAB}${TAB}${TAB}none${TAB}" ||
	fail "row without recipient: $out"

# -d adds the remote reply as a seventh column.
$PD classify -d "$T/dsn.eml" | head -1 | awk -F "$TAB" 'NF != 7 || $7 !~ /User unknown/ { exit 1 }' ||
	fail "-d column"

# A file that cannot be read: the others are still classified, exit 1.
out=$($PD classify "$T/missing.eml" "$T/plain.eml" 2>/dev/null)
rc=$?
[ $rc -eq 1 ] || fail "exit $rc with a missing file, want 1"
printf '%s\n' "$out" | grep -q "^$T/plain.eml${TAB}other" || fail "file after a missing one"

expect_status 2 $PD classify
expect_status 2 $PD classify -x "$T/plain.eml"
pass
