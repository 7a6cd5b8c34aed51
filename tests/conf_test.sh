#!/bin/sh
# conf_test - the shipped configuration examples agree with the code and
# with each other: conf/postdrip.conf loads (no unknown setting, no bad
# value), the README shows the same Postfix lines as the contrib/postfix
# snippets, and the snippets use the sockets that postdrip.conf names.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD=$top_builddir/cli/postdrip
CONF=$top_srcdir/conf/postdrip.conf
MAIN=$top_srcdir/contrib/postfix/main.cf.snippet
MASTER=$top_srcdir/contrib/postfix/master.cf.snippet

"$PD" -c "$CONF" config >"$T/config" 2>"$T/err" ||
    fail "conf/postdrip.conf does not load: $(cat "$T/err")"

# (config prints only what differs from the defaults; config NAME prints it
# whatever it is.)
setting() {
	"$PD" -c "$CONF" config "$1" | sed -n "s/^$1 = //p"
}

# The policy service: policyd_listen is inet:HOST:PORT; main.cf names it.
policy=$(setting policyd_listen | sed 's/^inet://')
[ -n "$policy" ] || fail "no policyd_listen"
n=$(grep -c "check_policy_service { inet:$policy," "$MAIN")
[ "$n" -ge 2 ] || fail "main.cf.snippet names the policy service $n times at inet:$policy, want RCPT and END-OF-DATA"

# The injection smtpd: inject_address is HOST:PORT of master.cf's service.
inject=$(setting inject_address)
grep -q "^$inject  *inet " "$MASTER" ||
    fail "master.cf.snippet has no smtpd on inject_address $inject"

# The milter socket: smtpd and cleanup run chrooted in the queue directory
# (Debian's default, "y" in master.cf), so Postfix names milter_listen's
# path relative to it, in main.cf and on the injection smtpd alike.
milter=$(setting milter_listen)
chrooted=$(echo "$milter" | sed 's|^unix:/var/spool/postfix/|unix:/|')
[ "$chrooted" != "$milter" ] ||
    fail "milter_listen $milter is not under /var/spool/postfix, where a chrooted smtpd finds it"
# Where postdrip only observes, Postfix goes on without it (accept).
for p in smtpd_milters non_smtpd_milters; do
	grep -q "^$p = { $chrooted, default_action=accept }\$" "$MAIN" ||
	    fail "main.cf.snippet $p is not { milter_listen seen from the chroot ($chrooted), default_action=accept }"
done
grep -q "^  -o smtpd_milters=$chrooted\$" "$MASTER" ||
    fail "master.cf.snippet smtpd_milters is not milter_listen seen from the chroot ($chrooted)"
grep -q "^$inject  *inet  *n  *-  *y " "$MASTER" ||
    fail "the injection smtpd is not chrooted, but its milter path assumes it"

# The LMTP receiver: lmtp(8) is chrooted too; transport_maps names
# lmtp_listen relative to the queue directory, with XFORWARD on.
lmtp=$(setting lmtp_listen)
lchrooted=$(echo "$lmtp" | sed 's|^unix:/var/spool/postfix/|unix:/|')
[ "$lchrooted" != "$lmtp" ] ||
    fail "lmtp_listen $lmtp is not under /var/spool/postfix, where a chrooted lmtp(8) finds it"
bdom=$(setting bounce_domain)
grep -q "^transport_maps = inline:{ $bdom=lmtp:$lchrooted }\$" "$MAIN" ||
    fail "main.cf.snippet does not route bounce_domain $bdom to lmtp:$lchrooted"
grep -q "^relay_domains = .*\<$bdom\>" "$MAIN" || fail "main.cf.snippet does not accept $bdom"
grep -q "^lmtp_send_xforward_command = yes\$" "$MAIN" ||
    fail "main.cf.snippet lacks lmtp_send_xforward_command = yes"

# Every setting line of the README's main.cf block is in the snippet.
awk '/^main\.cf:$/ { on = 1; next } /^master\.cf/ { on = 0 } on && /^    [a-z_]+ = / { sub(/^    /, ""); print }' \
    "$top_srcdir/README.md" >"$T/readme-main"
[ -s "$T/readme-main" ] || fail "no main.cf block found in README.md"
while IFS= read -r line; do
	grep -qxF -- "$line" "$MAIN" || fail "README main.cf line not in the snippet: $line"
done <"$T/readme-main"
awk '/^master\.cf/ { on = 1; next } /^Ordinary mail/ { on = 0 } on && /^    [^ ]/ { sub(/^    /, ""); print }' \
    "$top_srcdir/README.md" >"$T/readme-master"
[ -s "$T/readme-master" ] || fail "no master.cf block found in README.md"
while IFS= read -r line; do
	grep -qxF -- "$line" "$MASTER" || fail "README master.cf line not in the snippet: $line"
done <"$T/readme-master"
# The systemd units start programs where "make install" puts them: each
# ExecStart names $(sbindir) of the default prefix and a program that a
# Makefile.am installs in sbin.
for unit in "$top_srcdir"/contrib/systemd/*.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	case $exe in
	/usr/local/sbin/*) ;;
	*) fail "$(basename "$unit"): ExecStart $exe is not in /usr/local/sbin" ;;
	esac
	grep -q "^sbin_PROGRAMS = .*\<$(basename "$exe")\>" "$top_srcdir"/*/Makefile.am ||
		fail "$(basename "$unit"): no Makefile.am installs $(basename "$exe") in sbin"
done
# A line over 64 KiB, the last one without a newline: postdrip check must
# refuse it at its line, not drop it (marketing_senders would be empty and
# every message transactional).
{
	echo "data_directory = $T/data"
	printf 'marketing_senders = *@news.example.com'
	head -c 70000 /dev/zero | tr '\0' 'a'
} >"$T/long.conf"
if "$PD" -c "$T/long.conf" check >"$T/out" 2>&1; then
	fail "postdrip check accepts a 70000-byte last line: $(head -c 300 "$T/out")"
fi
grep -q "^$T/long.conf:2: line too long" "$T/out" ||
	fail "no file:line for the long line: $(head -c 300 "$T/out")"
# Marketing settings without a tracker URL: no one-click List-Unsubscribe.
printf 'data_directory = %s\nmarketing_senders = *@news.example.com\ntracker_url =\nmilter_list_unsubscribe = sometimes\n' \
    "$T/data" >"$T/notracker.conf"
"$PD" -c "$T/notracker.conf" check >"$T/out" 2>&1 && fail "postdrip check accepts marketing without tracker_url"
grep -q "^$T/notracker.conf:2: marketing_senders is set but tracker_url is empty" "$T/out" ||
	fail "no file:line for the missing tracker_url: $(cat "$T/out")"
grep -q "^$T/notracker.conf:4: milter_list_unsubscribe = sometimes" "$T/out" ||
	fail "no file:line for milter_list_unsubscribe: $(cat "$T/out")"
pass
