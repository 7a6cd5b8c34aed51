#!/bin/sh
# check_settings - "postdrip check" warns about values left at the
# example's placeholders (bounce_domain, tracker_url, marketing_senders)
# without failing, and refuses settings that cannot work together:
# marketing mail without tracker_url, and, read from Postfix's own files
# with postconf (postfix_config_directory), a milter or LMTP socket outside
# the queue directory while smtpd runs chrooted.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v postconf >/dev/null 2>&1 || skip "postconf (Postfix) is needed"
PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
base() {
	cat > "$T/postdrip.conf" <<EOF
data_directory = $T/data
token_key_file = $T/keys
workflow_directory = $T/wf
template_directory = $T/tm
EOF
}
mkdir -p "$T/wf" "$T/tm" "$T/pf"
base
$PD keygen >/dev/null || fail "keygen"

# The defaults are the example's: warnings, exit 0.
$PD check > "$T/out" || fail "check failed on warnings: $(cat "$T/out")"
grep -q "warning: bounce_domain = bounce.example.com is the example's placeholder" "$T/out" || fail "bounce_domain: $(cat "$T/out")"
grep -q "warning: tracker_url = https://track.example.com is the example's placeholder" "$T/out" || fail "tracker_url"
printf 'marketing_senders = *@news.example.com\n' >> "$T/postdrip.conf"
$PD check > "$T/out" || fail "check"
grep -q "postdrip.conf:5: warning: marketing_senders = \*@news.example.com is the example's placeholder" "$T/out" ||
    fail "marketing_senders: $(cat "$T/out")"
# Own values: no warning.
base
printf 'bounce_domain = bounce.acme.test\ntracker_url = https://t.acme.test\nmarketing_senders = *@news.acme.test\n' >> "$T/postdrip.conf"
$PD check > "$T/out" || fail "check: $(cat "$T/out")"
grep -q warning "$T/out" && fail "a warning for own values: $(cat "$T/out")"

# Marketing without a tracker URL.
printf 'tracker_url =\n' >> "$T/postdrip.conf"
$PD check > "$T/out" && fail "marketing without tracker_url passed"
grep -q "postdrip.conf:8: marketing_senders is set but tracker_url is empty" "$T/out" || fail "tracker_url empty: $(cat "$T/out")"

# A chrooted smtpd and a milter socket outside the queue directory.
base
printf 'bounce_domain = bounce.acme.test\ntracker_url = https://t.acme.test\n' >> "$T/postdrip.conf"
printf 'queue_directory = %s/spool\n' "$T" > "$T/pf/main.cf"
printf 'smtp      inet  n       -       y       -       -       smtpd\n' > "$T/pf/master.cf"
printf 'postfix_config_directory = %s/pf\nmilter_listen = unix:/run/postdrip/milter.sock\nlmtp_listen = unix:%s/spool/postdrip/lmtp.sock\n' "$T" "$T" >> "$T/postdrip.conf"
$PD check > "$T/out" && fail "a socket outside the chroot passed"
grep -q "postdrip.conf:8: milter_listen = unix:/run/postdrip/milter.sock is outside Postfix's queue_directory $T/spool, but smtpd runs chrooted" "$T/out" ||
    fail "chroot: $(cat "$T/out")"
grep -q "lmtp_listen" "$T/out" && fail "a socket under the queue directory refused"
# Not chrooted: the same socket is fine.
printf 'smtp      inet  n       -       n       -       -       smtpd\n' > "$T/pf/master.cf"
$PD check > "$T/out" || fail "unchrooted smtpd: $(cat "$T/out")"
pass
