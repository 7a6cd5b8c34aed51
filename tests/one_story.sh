#!/bin/sh
# one_story - README, the man pages' examples and contrib/ tell one story:
# the main.cf parameters, master.cf service lines (chroot column, -o
# options) and postdrip.conf settings that join postdrip to Postfix have
# one value wherever they are shown, and the two sides fit together
# (sockets under the queue directory for a chrooted Postfix, the policy
# service, the injection smtpd, the bounce domain, nginx and the tracker).
# The comparison is in one_story.py; this script gives it the names of
# postdrip's settings and, when Postfix is installed, of Postfix's.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
"$top_builddir/cli/postdrip" config -d | cut -d' ' -f1 > "$T/postdrip.names" ||
	fail "postdrip config -d"
if command -v postconf >/dev/null && postconf -d > "$T/postconf" 2>/dev/null; then
	cut -d' ' -f1 "$T/postconf" > "$T/postfix.names"
	python3 "$top_srcdir/tests/one_story.py" "$top_srcdir" "$T/postdrip.names" "$T/postfix.names"
else
	python3 "$top_srcdir/tests/one_story.py" "$top_srcdir" "$T/postdrip.names"
fi || fail "the documents disagree (above)"
pass
