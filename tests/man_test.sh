#!/bin/sh
# man_test - postdrip.conf(5) lists every setting with its real default
# (regenerate with man/conf-params.sh after adding one).
. "${top_srcdir:-..}/tests/lib/testlib.sh"

page="$top_srcdir/man/postdrip.conf.5"
"$top_srcdir/man/conf-params.sh" "$top_builddir/cli/postdrip" > "$T/want" || fail "conf-params.sh"
awk '/^\.\\" BEGIN PARAMETERS/ { on = 1; next } /^\.\\" END PARAMETERS/ { on = 0 } on' "$page" > "$T/have"
diff -u "$T/have" "$T/want" >&2 || fail "postdrip.conf.5 is not in step with the settings table: run man/conf-params.sh"
# The EXAMPLE of postdrip.conf(5) is a configuration that loads.
sed -n '/^\.SH EXAMPLE/,/^\.fi/p' "$page" | sed '1,2d;$d' > "$T/example.conf"
grep -q '^data_directory = ' "$T/example.conf" || fail "no EXAMPLE block in postdrip.conf.5"
"$top_builddir/cli/postdrip" -c "$T/example.conf" config > "$T/out" 2>&1 ||
	fail "the EXAMPLE of postdrip.conf.5 does not load: $(cat "$T/out")"
for p in postdrip.1 postdrip.conf.5; do
	grep -q '^\.TH ' "$top_srcdir/man/$p" || fail "$p has no .TH"
done
pass
